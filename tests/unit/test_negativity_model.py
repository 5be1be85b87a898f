"""The negativity model: counting reviews in their own day, firing once, resolving, repeat offenders."""

from __future__ import annotations

from monitor.rules.negativity import NegativityState, add_review, evaluate_negativity
from monitor.rules.reviews import DAY_MS, NegativityRule, RepeatRule

T = 1_771_027_200_000  # 2026-02-14T00:00:00Z
RULE = NegativityRule()


def feed(state: NegativityState, n: int, negative: int, at: int, prefix: str, repeat=None) -> list:
    out = []
    for i in range(n):
        add_review(state, f"{prefix}{i}", i < negative, at, at, RULE)
        out += evaluate_negativity(state, at, RULE, repeat)
    return out


class TestCounting:
    def test_late_review_lands_in_its_own_day(self) -> None:
        """A review written three days ago counts in that day's bucket, not today's."""
        s = NegativityState("Moscow", "s-1")
        assert add_review(s, "r1", True, T - 3 * DAY_MS + 5, T, RULE) == "ADDED"
        assert s.buckets == {T - 3 * DAY_MS: [1, 1]}

    def test_duplicate_and_too_old_reviews_are_ignored(self) -> None:
        """The same review id counts once; a review older than the window is ignored and counted."""
        s = NegativityState("Moscow", "s-1")
        assert add_review(s, "r1", True, T, T, RULE) == "ADDED"
        assert add_review(s, "r1", True, T, T, RULE) == "DUPLICATE"
        assert add_review(s, "r2", True, T - 31 * DAY_MS, T, RULE) == "TOO_OLD"
        assert (s.buckets[T], s.too_old) == ([1, 1], 1)


class TestAlerts:
    def test_fires_once_and_resolves_when_diluted(self) -> None:
        """3 negatives in 100 fire one alert; diluting to 1.5% resolves it with the same id."""
        s = NegativityState("Moscow", "s-1")
        out = feed(s, 100, 3, T, "a")
        fired = [e.value for e in out if e.value.kind == "store_negativity"]
        assert [(a.status, a.alert_id) for a in fired] == [("firing", "store_negativity:Moscow:s-1:1")]
        out = feed(s, 100, 0, T + 1000, "b")
        assert [(e.value.status, e.value.alert_id) for e in out] == [("resolved", "store_negativity:Moscow:s-1:1")]

    def test_old_days_leave_the_window_by_event_time(self) -> None:
        """Negative days stop counting 30 days later in event time, and the alert resolves then."""
        s = NegativityState("Moscow", "s-1")
        feed(s, 20, 4, T, "a")
        assert s.firing
        assert evaluate_negativity(s, T + 29 * DAY_MS, RULE) == []  # still inside the window
        out = evaluate_negativity(s, T + 31 * DAY_MS, RULE)
        assert [e.value.status for e in out] == ["resolved"]
        assert s.buckets == {}

    def test_third_incident_makes_a_repeat_offender(self) -> None:
        """Fire, resolve, fire, resolve, fire: the third firing also raises store_repeat_offender."""
        s = NegativityState("Moscow", "s-1")
        repeat = RepeatRule()
        kinds = []
        for round_, (pos, neg) in enumerate([(18, 2), (120, 0), (0, 3), (200, 0), (0, 6)]):
            out = feed(s, pos + neg, neg, T + round_ * 1000, f"r{round_}-", repeat)
            kinds += [(e.value.kind, e.value.status) for e in out]
        assert kinds == [("store_negativity", "firing"), ("store_negativity", "resolved"),
                         ("store_negativity", "firing"), ("store_negativity", "resolved"),
                         ("store_negativity", "firing"), ("store_repeat_offender", "firing")]

    def test_state_round_trips_through_bytes(self) -> None:
        """The stored form restores an equal state."""
        s = NegativityState("Moscow", "s-1")
        feed(s, 30, 3, T, "a")
        assert NegativityState.from_bytes(s.to_bytes()) == s
