"""The demo's generated day and the lines it prints."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from monitor.toolkit.demo_day import BROKEN_VALUE, build_day, demo_config, shift_to_ms_for, shift_truth
from monitor.toolkit.demo_report import ago, hide_lines, score_lines
from monitor.toolkit.replay import record_time_ms
from monitor.toolkit.score import score

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def day():  # type: ignore[no-untyped-def]
    return build_day(demo_config(seed=1))


class TestDemoDay:
    def test_the_day_ends_at_midnight_in_event_time_order(self, day) -> None:  # type: ignore[no-untyped-def]
        """Every record happened before the end of the day, in event-time order (what a replay needs)."""
        times = [record_time_ms(r) for r in day.records]
        assert times == sorted(times)
        assert max(times) < day.end_ms
        assert 1200 < day.orders < 1800

    def test_exactly_one_broken_message(self, day) -> None:  # type: ignore[no-untyped-def]
        """One order-status message is cut off JSON, in the middle of the stream, for the dead-letter path."""
        broken = [i for i, r in enumerate(day.records) if "value_b64" in r]
        assert len(broken) == 1
        assert base64.b64decode(day.records[broken[0]]["value_b64"]) == BROKEN_VALUE
        assert 0 < broken[0] < len(day.records) - 1

    def test_shift_ends_the_day_now(self, day) -> None:  # type: ignore[no-untyped-def]
        """The replay's first record lands so that the day ends at ``now``; the truth moves by the same amount."""
        now_ms = int(NOW.timestamp() * 1000)
        assert shift_to_ms_for(day, now_ms) + (day.end_ms - day.first_ms) == now_ms
        moved = shift_truth(day.truth, timedelta(milliseconds=now_ms - day.end_ms))
        kinds = {inc["kind"] for inc in moved}
        assert {"store_stops_accepting", "store_negative_reviews", "city_slow_couriers"} <= kinds
        assert all(datetime.fromisoformat(inc["start"]) < NOW for inc in moved)
        assert max(datetime.fromisoformat(inc["end"]) for inc in moved) == NOW


class TestReport:
    def test_ago_reads_at_a_glance(self) -> None:
        """Minutes, hours and minutes, now."""
        assert ago("2026-03-01T11:55:00+00:00", NOW) == "5 min ago"
        assert ago("2026-03-01T14:55:00+03:00", NOW) == "5 min ago"
        assert ago("2026-03-01T08:50:00+00:00", NOW) == "3 h 10 min ago"
        assert ago("2026-03-01T12:00:00+00:00", NOW) == "now"

    def test_hide_names_reason_counts_and_order_ids(self) -> None:
        """A hide shows its reason, its counts and (some of) the order ids behind it."""
        lines = hide_lines([{"action": "hide", "store_id": "s1", "city": "Kazan", "at": "2026-03-01T10:00:00+00:00",
                             "reason": "HIDE_LATE_AND_AT_RISK", "late": 5, "at_risk": 3,
                             "late_order_ids": ["o1", "o2", "o3", "o4", "o5"], "at_risk_order_ids": ["o6"]}], NOW)
        assert lines[0] == "HIDE s1 (Kazan) 2 h 00 min ago: HIDE_LATE_AND_AT_RISK, 5 late + 3 at risk"
        assert "o1, o2, o3, +2 more" in lines[1]
        assert "o6" in lines[2]

    def test_score_summary_counts_false_alarms_and_explains_slow_courier_hides(self) -> None:
        """Totals in words; a hide in the slow-courier city is named as the couriers' lateness."""
        truth = [{"kind": "city_slow_couriers", "expect": "alert", "alert_kind": "city_lateness", "store_id": None,
                  "city": "Kazan", "start": "2026-03-01T00:00:00+00:00", "end": "2026-03-01T07:00:00+00:00"}]
        vis = [{"action": "hide", "store_id": "s9", "city": "Kazan", "at": "2026-03-01T05:00:00+00:00",
                "event_id": "hide:Kazan:s9:1"}]
        lines = score_lines(score(truth, vis, []))
        assert lines[0].startswith("MISSED")
        assert lines[1].startswith("detected 0 of 1, missed 1, false alarms 1")
        assert "slow couriers" in lines[2]
