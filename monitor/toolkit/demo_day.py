"""The demo's input: one generated marketplace day with injected incidents, cut at midnight, plus one broken message."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from monitor.toolkit.generate import TrafficConfig, generate
from monitor.toolkit.replay import record_time_ms

__all__ = ["BROKEN_VALUE", "DemoDay", "build_day", "demo_config", "shift_to_ms_for", "shift_truth"]

# Any fixed day will do: the replay moves it so that the day ends at the moment the demo runs.
DEMO_START = datetime(2026, 2, 13, tzinfo=timezone(timedelta(hours=3)))
# A message cut off in the middle: the worker must dead-letter it and keep going.
BROKEN_VALUE = b'{"order_id": "demo-broken", "status": '


@dataclass(frozen=True)
class DemoDay:
    """The records to replay (event-time order, all before ``config.end``) and the truth of the incidents."""

    config: TrafficConfig
    records: list[dict[str, Any]]
    truth: list[dict[str, Any]]
    orders: int
    stores: int

    @property
    def first_ms(self) -> int:
        return record_time_ms(self.records[0])

    @property
    def end_ms(self) -> int:
        return int(self.config.end.timestamp() * 1000)


def demo_config(*, seed: int = 1, orders_per_day: int = 1500, stores: int = 300) -> TrafficConfig:
    """A realistic day of the modelled marketplace (1,500 orders, 300 stores) with one incident of each kind."""
    return TrafficConfig(start=DEMO_START, seed=seed, days=1, orders_per_day=orders_per_day, stores=stores)


def build_day(config: TrafficConfig) -> DemoDay:
    """Generate the day, keep what happened before its end (the day "so far"), and put one broken message in
    the middle of the order stream."""
    traffic = generate(config)
    end_ms = int(config.end.timestamp() * 1000)
    records = [r for r in traffic.records if record_time_ms(r) < end_ms]
    middle = len(records) // 2
    broken = {"topic": "order-status", "key": "demo-broken", "timestamp": records[middle]["timestamp"],
              "value_b64": base64.b64encode(BROKEN_VALUE).decode("ascii")}
    records.insert(middle, broken)
    orders = len({r["key"] for r in records if r["topic"] == "order-status"}) - 1
    return DemoDay(config=config, records=records, truth=traffic.truth, orders=orders,
                   stores=len({s.store_id for s in traffic.stores}))


def shift_to_ms_for(day: DemoDay, now_ms: int) -> int:
    """The replay's ``shift_to_ms`` (where the first record lands) that makes the day end at ``now_ms``."""
    return now_ms - (day.end_ms - day.first_ms)


def shift_truth(truth: Sequence[Mapping[str, Any]], delta: timedelta) -> list[dict[str, Any]]:
    """The truth with every incident window moved by ``delta`` (as the replay moves the records)."""
    return [{**inc, "start": (datetime.fromisoformat(inc["start"]) + delta).isoformat(),
             "end": (datetime.fromisoformat(inc["end"]) + delta).isoformat()} for inc in truth]
