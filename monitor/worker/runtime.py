"""Per-partition runtime of the store agent: the clock, a heap of store deadlines, a cache of states and what is
waiting to be flushed (changed states, and the events behind them, not acknowledged until they are written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.domain.store_state import StoreState
from monitor.eventtime.clock import PartitionClock
from monitor.eventtime.deadlines import DueHeap

__all__ = ["PartitionRuntime"]


@dataclass(slots=True)
class PartitionRuntime(DueHeap):
    """What a worker keeps in memory for one store partition; rebuilt from the table after a rebalance."""

    clock: PartitionClock = field(default_factory=PartitionClock)
    partition: int = -1
    cache: dict[bytes, StoreState] = field(default_factory=dict)
    dirty: set[bytes] = field(default_factory=set)  # keys changed since the last flush
    held: list[Any] = field(default_factory=list)  # messages processed since the last flush, not acknowledged yet
    held_events: int = 0  # input events in them (a batch message holds many)
    flushed_at: float = 0.0  # time.monotonic() of the last flush
    deliveries: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # (city, hour) -> [delivered, late]
