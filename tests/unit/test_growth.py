"""Boundedness of a long replay: checkpoints at fractions of the events and the verdict on growth."""

from __future__ import annotations

from monitor.toolkit.growth import boundedness, checkpoints, quarter_peaks


def sample(applied: int, state: float, rss: float) -> dict:
    return {"applied": applied, "state_mb": state, "rss_mb": rss}


class TestCheckpoints:
    def test_first_sample_at_or_past_each_fraction(self) -> None:
        """25% picks the first sample with at least a quarter of the events applied; missing ones are left out."""
        samples = [sample(10, 1, 1), sample(30, 2, 2), sample(60, 3, 3), sample(90, 4, 4)]
        points = checkpoints(samples, 100)
        assert [(p["fraction"], p["applied"]) for p in points] == [(0.25, 30), (0.5, 60), (0.75, 90)]


class TestBoundedness:
    def samples(self, state: list[float], rss: list[float]) -> list[dict]:
        """Samples spread evenly over the replay of 100 events (applied 1..100)."""
        n = len(state)
        return [{"applied": round(100 * (i + 1) / n), "state_mb": st, "rss_mb": r}
                for i, (st, r) in enumerate(zip(state, rss, strict=True))]

    def test_flat_saw_tooth_after_the_windows_is_bounded(self) -> None:
        """A state folder that compacts down and grows back to the same peak is bounded, whatever phase the
        last sample catches (here a low one after a compaction)."""
        state = [50, 100, 300, 120, 310, 130, 300, 150]
        v = boundedness(self.samples(state, [400] * 8), 100, days=365, longest_window_days=35)
        assert v["verdict"] == "BOUNDED" and v["state_growth_q2_to_q4"] == 1.0

    def test_state_doubling_grows(self) -> None:
        """State whose peaks double in the second half grows, and the verdict names it."""
        v = boundedness(self.samples([50, 100, 100, 100, 150, 150, 200, 200], [400] * 8), 100, days=365,
                        longest_window_days=35)
        assert v["verdict"] == "GROWS" and "state_mb" in v["reason"]

    def test_short_run_is_too_short_to_judge(self) -> None:
        """Ten days cannot show a 35-day window expiring: growth there is expected, not a verdict."""
        v = boundedness(self.samples([50, 100, 150, 200], [400] * 4), 100, days=10, longest_window_days=35)
        assert v["verdict"] == "TOO_SHORT" and v["state_growth_q2_to_q4"] == 2.0

    def test_quarters_are_by_events_applied(self) -> None:
        """A sample belongs to the quarter its applied count falls in; the peak of each is kept."""
        peaks = quarter_peaks([{"applied": 25, "state_mb": 1, "rss_mb": 9}, {"applied": 26, "state_mb": 5,
                               "rss_mb": 2}, {"applied": 100, "state_mb": 3, "rss_mb": 3}], 100)
        assert peaks == {0: {"state_mb": 1, "rss_mb": 9}, 1: {"state_mb": 5, "rss_mb": 2},
                         3: {"state_mb": 3, "rss_mb": 3}}
