"""The load test's background traffic never runs ahead of the wall clock (the monitor would refuse it)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from monitor.replay.loadtest import _background

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _event_time(rec: dict) -> datetime:
    return datetime.fromisoformat(rec["value"].get("occurred_at") or rec["value"]["created_at"])


class TestBackground:
    def test_traffic_starts_a_day_back_and_never_passes_the_wall_clock(self) -> None:
        """With the wall clock standing still two hours after the traffic's start, four hours of traffic are
        sent: all at or before it (the rest compressed onto it), in time order, each promise moved with its event."""
        wall = NOW - timedelta(hours=22)
        records = list(itertools.islice(_background(NOW, 1, wall=lambda: wall), 20_000))
        times = [_event_time(r) for r in records]
        assert NOW - timedelta(days=1, minutes=1) <= times[0] <= NOW - timedelta(hours=23)
        assert max(times) == wall  # reached, never passed
        assert times == sorted(times)
        orders = [r["value"] for r in records if r["topic"] == "order-status"]
        assert all(o["promised_at"] >= o["occurred_at"] for o in orders if o["status"] == "created")
