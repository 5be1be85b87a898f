"""Boundedness of a long replay: checkpoints at fractions of the events and the verdict on growth."""

from __future__ import annotations

from monitor.replay.growth import boundedness, checkpoints


def sample(applied: int, state: float, rss: float) -> dict:
    return {"applied": applied, "state_mb": state, "rss_mb": rss}


class TestCheckpoints:
    def test_first_sample_at_or_past_each_fraction(self) -> None:
        """25% picks the first sample with at least a quarter of the events applied; missing ones are left out."""
        samples = [sample(10, 1, 1), sample(30, 2, 2), sample(60, 3, 3), sample(90, 4, 4)]
        points = checkpoints(samples, 100)
        assert [(p["fraction"], p["applied"]) for p in points] == [(0.25, 30), (0.5, 60), (0.75, 90)]


class TestBoundedness:
    def points(self, half: tuple[float, float], end: tuple[float, float]) -> list[dict]:
        return [{"fraction": 0.5, "state_mb": half[0], "rss_mb": half[1]},
                {"fraction": 1.0, "state_mb": end[0], "rss_mb": end[1]}]

    def test_flat_after_the_windows_is_bounded(self) -> None:
        """A year whose state and RSS stay within 25% from half-way to the end is bounded."""
        v = boundedness(self.points((100, 400), (110, 420)), days=365, longest_window_days=35)
        assert v["verdict"] == "BOUNDED"

    def test_state_doubling_grows(self) -> None:
        """State that doubles in the second half grows, and the verdict names it."""
        v = boundedness(self.points((100, 400), (200, 420)), days=365, longest_window_days=35)
        assert v["verdict"] == "GROWS" and "state_mb" in v["reason"]

    def test_short_run_is_too_short_to_judge(self) -> None:
        """Ten days cannot show a 35-day window expiring: growth there is expected, not a verdict."""
        v = boundedness(self.points((100, 400), (200, 420)), days=10, longest_window_days=35)
        assert v["verdict"] == "TOO_SHORT" and v["state_growth_50_to_100"] == 2.0
