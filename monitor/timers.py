"""Per-partition runtime of the store agent: the clock, a heap of store deadlines (``DueHeap``, also used by the
store reviews agent), a cache of states and what is waiting to be flushed (changed states, and the events behind
them, not acknowledged until they are written)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from monitor.clock import PartitionClock
from monitor.tables.store_state import StoreState

__all__ = ["DueHeap", "PartitionRuntime"]


@dataclass(slots=True)
class DueHeap:
    """When each key next needs attention (event time), earliest first."""

    _heap: list[tuple[int, bytes]] = field(default_factory=list)
    _due: dict[bytes, int] = field(default_factory=dict)

    def schedule(self, key: bytes, due_ms: int | None) -> None:
        """Remember when ``key`` next needs attention (None: nothing pending)."""
        if due_ms is None:
            self._due.pop(key, None)
            return
        if self._due.get(key) != due_ms:
            self._due[key] = due_ms
            heapq.heappush(self._heap, (due_ms, key))

    def pop_due(self, now_ms: int) -> list[bytes]:
        """Keys whose deadline is at or before ``now_ms``, earliest first; stale heap entries are skipped."""
        keys = []
        while self._heap and self._heap[0][0] <= now_ms:
            due, key = heapq.heappop(self._heap)
            if self._due.get(key) == due:
                del self._due[key]
                keys.append(key)
        return keys

    @property
    def pending(self) -> int:
        return len(self._due)


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
