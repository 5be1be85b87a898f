"""City courier lateness: the decision table and the hour buckets."""

from __future__ import annotations

import pytest

from monitor.domain.lateness import (
    HOUR_MS,
    CityLatenessRule,
    CityLatenessState,
    LatenessDecision,
    add_deliveries,
    decide_city_lateness,
    evaluate_city_lateness,
    evaluation_times,
    judge_until,
)
from monitor.domain.orders import OrderFacts, courier_late
from monitor.domain.outputs import dt_from_ms

RULE = CityLatenessRule()  # 3 h, fire at 20% with 10 late, resolve below 10%
T0 = 1_771_056_000_000  # 2026-02-14T08:00Z, an hour start
MIN = 60_000


class TestDecision:
    @pytest.mark.parametrize(
        ("delivered", "late", "firing", "decision"),
        [
            (50, 10, False, LatenessDecision.FIRE),  # 20% and 10 late: fire
            (50, 9, False, LatenessDecision.KEEP),  # 18%: not yet
            (20, 9, False, LatenessDecision.KEEP),  # 45% but only 9 late: too few to judge a city
            (400, 60, False, LatenessDecision.KEEP),  # 15%: a big city's usual noise
            (50, 10, True, LatenessDecision.KEEP),  # already firing
            (100, 12, True, LatenessDecision.KEEP),  # 12%: between the levels, keep firing (hysteresis)
            (100, 9, True, LatenessDecision.RESOLVE),  # 9%: resolved
            (0, 0, True, LatenessDecision.RESOLVE),  # nothing delivered in the window any more
        ],
    )
    def test_decide(self, delivered, late, firing, decision) -> None:
        """Fire at min_share with min_late; resolve below resolve_share; hold in between."""
        assert decide_city_lateness(delivered, late, RULE, firing=firing) is decision


class TestCourierLate:
    @pytest.mark.parametrize(
        ("dispatched_min", "delivered_min", "late"),
        [
            (-90, 30, True),  # handed over 90 min before the deadline, delivered 30 min late: the courier
            (-60, 30, True),  # exactly at the dispatch deadline (lead 60 min) still counts as in time
            (-59, 30, False),  # a minute after the dispatch deadline: the store's lateness
            (-90, -5, False),  # delivered in time
        ],
    )
    def test_courier_late(self, dispatched_min, delivered_min, late) -> None:
        """Late by the courier: handed over by the dispatch deadline, delivered after the promise."""
        promised = T0 + 3 * HOUR_MS
        f = OrderFacts(promised_ms=promised, promise_from_ms=T0, created_ms=T0, accepted_ms=T0 + MIN,
                       dispatched_ms=promised + dispatched_min * MIN, delivered_ms=promised + delivered_min * MIN)
        assert courier_late(f, 60 * MIN) is late


class TestCityState:
    def test_fires_once_then_resolves_as_the_late_hours_leave_the_window(self) -> None:
        """12 of 40 late in one hour fires incident 1; hours of punctual deliveries push it out and resolve it."""
        s = CityLatenessState("Kazan")
        assert add_deliveries(s, T0, 40, 12, RULE)
        assert evaluate_city_lateness(s, RULE, T0 + 30 * MIN) == []  # the hour counts once it is over
        fired = evaluate_city_lateness(s, RULE, T0 + HOUR_MS - 1)
        assert [(e.value.alert_id, e.value.status) for e in fired] == [("city_lateness:Kazan:1", "firing")]
        assert fired[0].value.details["share"] == 0.3
        add_deliveries(s, T0 + HOUR_MS, 40, 0, RULE)
        assert evaluate_city_lateness(s, RULE, T0 + 2 * HOUR_MS - 1) == []  # 12 of 80: between the levels
        add_deliveries(s, T0 + 4 * HOUR_MS, 40, 1, RULE)
        resolved = evaluate_city_lateness(s, RULE, T0 + 5 * HOUR_MS - 1)
        assert [(e.value.alert_id, e.value.status) for e in resolved] == [("city_lateness:Kazan:1", "resolved")]
        assert sorted(s.hours) == [T0 + HOUR_MS, T0 + 4 * HOUR_MS]  # the 08:00 hour left the window

    def test_an_hour_already_out_of_the_window_is_ignored(self) -> None:
        """Deliveries of an hour older than the window count nowhere."""
        s = CityLatenessState("Kazan", clock_ms=T0 + 10 * HOUR_MS)
        assert not add_deliveries(s, T0, 40, 40, RULE)
        assert s.hours == {}

    def test_judged_as_of_each_hour_whatever_order_the_counts_came_in(self) -> None:
        """Counts of later hours arriving first do not count before their time, nor hide an earlier incident:
        the same alerts at the same times for both arrival orders."""
        hours = [(T0 + h * HOUR_MS, 40, late) for h, late in enumerate([0, 15, 14, 0, 0, 0, 0, 0])]
        results = []
        for order in (hours, list(reversed(hours))):
            s = CityLatenessState("Kazan")
            for hour_ms, delivered, late in order:
                assert add_deliveries(s, hour_ms, delivered, late, RULE)
            emits = judge_until(s, T0 + 8 * HOUR_MS, RULE)
            results.append([(e.value.status, e.value.at) for e in emits])
        assert results[0] == results[1]
        # 29 of 120 by the end of 10:00 (15 of 80 at the end of 09:00 is below 20%); 0 of 120 by 13:59
        assert results[0] == [("firing", dt_from_ms(T0 + 3 * HOUR_MS - 1)),
                              ("resolved", dt_from_ms(T0 + 6 * HOUR_MS - 1))]

    def test_evaluation_steps_are_where_the_window_changes_then_the_watermark(self) -> None:
        """Steps at the end of each counted hour and when it leaves the window; none when nothing moved."""
        s = CityLatenessState("Kazan", {T0: [1, 0]}, clock_ms=T0 - MIN)
        assert evaluation_times(s, T0 + 5 * HOUR_MS, RULE) == [
            T0 + HOUR_MS - 1, T0 + HOUR_MS + RULE.window_ms, T0 + 5 * HOUR_MS]
        assert evaluation_times(s, T0 - MIN, RULE) == []

    def test_round_trips_through_bytes(self) -> None:
        """The compact JSON form restores an equal state."""
        s = CityLatenessState("Kazan", {T0: [3, 1]}, T0 + MIN, True, 2, 1)
        assert CityLatenessState.from_bytes(s.to_bytes()) == s
