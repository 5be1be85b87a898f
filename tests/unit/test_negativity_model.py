"""The negativity model: counting reviews in their own day, firing once, resolving, repeat offenders; a city's
watermark."""

from __future__ import annotations

from monitor.domain.negativity import (
    NegativityState,
    add_review,
    city_due,
    evaluate_negativity,
    hold_city_review,
    hold_store_review,
    judge_city_until,
    judge_store_until,
    next_change_ms,
    next_store_due_ms,
)
from monitor.domain.reviews import DAY_MS, NegativityRule, RepeatRule
from monitor.eventtime.clock import NEVER
from monitor.eventtime.watermark import CityWatermark

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


class TestCityWatermark:
    """A city counts and judges its reviews once every store partition has passed them (``judge_city_until``)."""

    def test_reviews_wait_for_the_watermark_and_are_judged_in_created_order(self) -> None:
        """Reviews held out of order (as two store partitions may send them) are judged by created_at: the
        alert fires at the 3rd negative review of 102, whichever partition's message came first."""
        city = NegativityState("Moscow")
        late_partition = [(f"n{i}", True, T + 100 + i) for i in range(3)]
        early_partition = [(f"p{i}", False, T + i) for i in range(99)]
        for rid, negative, at in late_partition + early_partition:  # the later reviews arrive first
            assert hold_city_review(city, rid, negative, at, watermark_ms=T - 1, rule=RULE) == "PENDING"
        assert judge_city_until(city, T + 50, RULE) == [] and len(city.pending) == 48 + 3
        assert sum(v[0] for v in city.buckets.values()) == 51  # p0..p50, nothing after the watermark
        out = judge_city_until(city, T + 200, RULE)
        assert [(e.value.kind, e.value.status) for e in out] == [("city_negativity", "firing")]
        assert out[0].value.details["reviews"] == 102 and out[0].value.at.timestamp() * 1000 == T + 102
        assert city.pending == [] and city.clock_ms == T + 200

    def test_a_review_behind_the_watermark_is_judged_at_the_next_call_at_the_same_mark(self) -> None:
        """Live, a burst can be read late: the watermark has passed a review's time when it arrives. The agent
        judges it at once (same mark), at the city's clock, and it is not left pending."""
        city = NegativityState("Moscow")
        for i in range(100):
            hold_city_review(city, f"p{i}", i < 3, T + i, T - 1, RULE)
        assert [e.value.status for e in judge_city_until(city, T + 100, RULE)] == ["firing"]
        for i in range(100):  # read late: all before the watermark
            assert hold_city_review(city, f"late{i}", False, T + i, T + 100, RULE) == "PENDING"
        out = judge_city_until(city, T + 100, RULE)
        assert [e.value.status for e in out] == ["resolved"] and city.pending == []
        assert out[0].value.at.timestamp() * 1000 == T + 100  # judged at the city's clock

    def test_older_than_the_window_at_the_watermark_or_already_held_is_ignored(self) -> None:
        city = NegativityState("Moscow")
        assert hold_city_review(city, "r1", True, T, T + 31 * DAY_MS, RULE) == "TOO_OLD"
        assert hold_city_review(city, "r2", True, T + 31 * DAY_MS, T + 31 * DAY_MS, RULE) == "PENDING"
        assert hold_city_review(city, "r2", True, T + 31 * DAY_MS, T + 31 * DAY_MS, RULE) == "DUPLICATE"
        assert (city.too_old, len(city.pending)) == (1, 1)

    def test_days_leave_the_window_at_the_watermark_without_a_review(self) -> None:
        city = NegativityState("Moscow")
        hold_city_review(city, "r1", True, T, T, RULE)
        judge_city_until(city, T, RULE)
        assert city.buckets == {T: [1, 1]}
        judge_city_until(city, T + 31 * DAY_MS, RULE)
        assert city.buckets == {} and city.clock_ms == T + 31 * DAY_MS

    def test_a_city_is_due_only_when_the_watermark_passed_a_review_or_a_day_leaves_the_window(self) -> None:
        city = NegativityState("Moscow")
        hold_city_review(city, "r1", True, T + 10, T, RULE)
        assert not city_due(city, T + 9, RULE) and city_due(city, T + 10, RULE)
        judge_city_until(city, T + 10, RULE)
        assert not city_due(city, T + DAY_MS, RULE)  # nothing pending, the day still in the window
        assert city_due(city, T + 31 * DAY_MS, RULE)

    def test_state_round_trip_keeps_pending_reviews(self) -> None:
        city = NegativityState("Moscow")
        hold_city_review(city, "r1", True, T, T - 1, RULE)
        assert NegativityState.from_bytes(city.to_bytes()).pending == [["r1", T, 1]]


class TestWatermark:
    def test_least_progress_of_all_store_partitions_and_only_forward(self) -> None:
        w = CityWatermark()
        w.rebuild([(0, b"Kazan"), (0, b"Moscow"), (1, b"Sochi")])
        assert w.cities(0) == [b"Kazan", b"Moscow"] and w.mark(0) == NEVER
        assert w.advance(0, 0, 2, T + 60 * DAY_MS) is None  # store partition 1 not heard
        assert w.advance(0, 1, 2, T) == T
        assert w.advance(0, 1, 2, T - 5) is None  # never back
        assert w.advance(0, 1, 2, T + 70 * DAY_MS) == T + 60 * DAY_MS
        assert w.mark(1) == NEVER  # each city partition has its own
        w.rebuild([])
        assert w.mark(0) == NEVER and w.cities(0) == []

    def test_due_yields_the_partitions_cities_with_a_state_once_the_watermark_moves(self) -> None:
        w = CityWatermark()
        w.rebuild([(0, b"Kazan"), (0, b"Moscow"), (0, b"Sochi")])
        table = {b"Kazan": "kazan-state", b"Moscow": "moscow-state"}  # Sochi has no state (yet)
        assert list(w.due(0, 0, 2, T, table)) == []  # store partition 1 not heard
        assert list(w.due(0, 1, 2, T, table)) == [(b"Kazan", "kazan-state", T),
                                                                    (b"Moscow", "moscow-state", T)]
        assert list(w.due(0, 1, 2, T + 1, table)) == []  # store partition 0 still at T


class TestStoreChangePoints:
    """``next_change_ms``: when a store must be judged again without a new review."""

    def test_the_oldest_day_leaving_the_window_is_the_next_change(self) -> None:
        s = NegativityState("Moscow", "s-1")
        feed(s, 10, 0, T + 5, "a")
        feed(s, 10, 0, T + 3 * DAY_MS, "b")
        at = next_change_ms(s, RULE)
        assert at == T + DAY_MS + RULE.window_ms - 1
        evaluate_negativity(s, at - 1, RULE)
        assert T in s.buckets  # a millisecond before, the day still counts
        evaluate_negativity(s, at, RULE)
        assert T not in s.buckets and next_change_ms(s, RULE) == T + 4 * DAY_MS + RULE.window_ms - 1

    def test_a_firing_alert_resolves_when_its_negative_days_leave_the_window(self) -> None:
        """The store fired on day 0 and got only good reviews since, too few to dilute it: judged at each change
        point with no new review, it resolves when day 0 leaves the window, and is then left with nothing."""
        s = NegativityState("Moscow", "s-1")
        assert [e.value.status for e in feed(s, 20, 3, T, "bad")] == ["firing"]
        feed(s, 5, 0, T + 2 * DAY_MS, "good")
        out = []
        while (at := next_change_ms(s, RULE)) is not None and at <= T + 40 * DAY_MS:
            out += evaluate_negativity(s, at, RULE)
        # at T + 6 h (min_firing) day 0 alone is still 15% negative: it stays firing
        assert [(e.value.status, e.value.at.timestamp() * 1000) for e in out] == [
            ("resolved", T + DAY_MS + RULE.window_ms - 1)]
        assert s.buckets == {} and s.seen == {} and not s.firing
        assert not s.is_empty()  # the firing is remembered for repeat offenders
        s.fired_at = []
        assert s.is_empty()


class TestStoreJudgedInCreatedOrder:
    """A store's reviews wait for the review clock, then count in created_at order whatever order they came in."""

    def test_the_same_reviews_in_any_arrival_order_give_the_same_alerts(self) -> None:
        """20 reviews, the 2 negative ones written last: whether they arrive first or last, the store fires once,
        at the moment of the second negative review, with the same share (the old per-arrival judging fired
        early, on part of the reviews, when the negatives came first)."""
        reviews = [(f"r{i:02d}", T + i * 60_000, i >= 18) for i in range(20)]

        def run(order: list) -> list:
            s = NegativityState("Moscow", "s-1")
            for rid, at, negative in order:
                assert hold_store_review(s, rid, negative, at, NEVER, RULE) == "PENDING"
            emits, counted = judge_store_until(s, T + DAY_MS, RULE)
            assert [c[0] for c in counted] == [r[0] for r in reviews]  # counted in created order
            return [(e.value.alert_id, e.value.status, e.value.at, e.value.details["share"]) for e in emits]

        first = run(reviews)
        assert first == run(list(reversed(reviews))) == run(reviews[18:] + reviews[:18])
        assert [(a[0], a[1], a[3]) for a in first] == [("store_negativity:Moscow:s-1:1", "firing", 0.1)]

    def test_reviews_past_the_clock_wait_and_duplicates_or_too_old_ones_are_not_held(self) -> None:
        """Only reviews at or before the clock are judged; a review waiting or counted already is a duplicate;
        one older than the window at the clock is too old."""
        s = NegativityState("Moscow", "s-1")
        assert hold_store_review(s, "a", False, T, NEVER, RULE) == "PENDING"
        assert hold_store_review(s, "b", False, T + 10, NEVER, RULE) == "PENDING"
        assert hold_store_review(s, "a", False, T, NEVER, RULE) == "DUPLICATE"
        _, counted = judge_store_until(s, T + 5, RULE)
        assert [c[0] for c in counted] == ["a"] and [r[0] for r in s.pending] == ["b"]
        assert next_store_due_ms(s, RULE) == T + 10
        assert hold_store_review(s, "a", False, T, T + 5, RULE) == "DUPLICATE"  # counted
        assert hold_store_review(s, "old", True, T - 31 * DAY_MS, T + 5, RULE) == "TOO_OLD"
