"""The deadline heap: when each key (a store) next needs judging, by event time."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

__all__ = ["DueHeap"]


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
