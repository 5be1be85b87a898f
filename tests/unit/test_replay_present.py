"""Replayed and load-test traffic moved to the present never runs ahead of the wall clock (the monitor refuses
such events)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from monitor.toolkit.loadtest import _background
from monitor.toolkit.replay import start_for_now_ms

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


class TestShiftToNow:
    @pytest.mark.parametrize(("speed", "start_before_now_h"), [
        (None, 10.0),  # as fast as possible: the file ends now
        (1.0, 0.0),  # real time: starts now and stays in step with the wall clock
        (60.0, 10.0 * 59 / 60),  # 60x: ten hours pass in ten minutes, so they start 9 h 50 min back
    ])
    def test_the_file_is_moved_so_that_no_record_is_sent_ahead_of_its_time(self, tmp_path: Path,
                                                                            speed: float | None,
                                                                            start_before_now_h: float) -> None:
        """--shift-to-now puts the first record where the last one is reached exactly at the wall clock."""
        path = tmp_path / "in.jsonl"
        path.write_bytes(b"".join(orjson.dumps({"timestamp": t}) + b"\n" for t in (
            "2026-02-14T09:00:00+00:00", "2026-02-14T14:00:00+00:00", "2026-02-14T19:00:00+00:00")))
        now_ms = int(NOW.timestamp() * 1000)
        assert start_for_now_ms(path, now_ms, speed) == now_ms - int(start_before_now_h * 3_600_000)
