"""The watermark of a city partition over the store partitions that feed it.

Store partitions send a city partition what they counted (keyed by city) and then a progress marker (no key,
to every city partition): ``{"s": store partition, "n": store partitions, "t": ms}``, meaning "everything I will
send you from now on is at ``t`` or later". The watermark of a city partition is the least progress of all
store partitions: a city judged up to it has seen everything earlier from every store partition, whatever order
their messages came in. Used by ``agents/city_lateness.py`` and ``agents/city_reviews.py``.

The watermark never passes the wall clock plus ``max_ahead_ms`` (``max_future_skew``), whatever a marker says.

Progress lives in memory: after a (re)assignment it is heard again from the next markers (until then the
watermark is ``NEVER`` and nothing is judged), and the cities a partition holds are read back from its table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from monitor.eventtime.clock import NEVER, ceiling_ms, wall_clock_ms

__all__ = ["CityWatermark"]


class CityWatermark:
    """Per city partition: each store partition's progress, the watermark judged up to, and the cities held."""

    def __init__(self, max_ahead_ms: int = 300_000, wall_now: Callable[[], int] = wall_clock_ms) -> None:
        self.max_ahead_ms, self.wall_now = max_ahead_ms, wall_now
        self.rebuild_needed = True
        self._progress: dict[int, dict[int, int]] = {}  # city partition -> store partition -> progress ms
        self._cities: dict[int, set[bytes]] = {}  # city partition -> the cities (table keys) it holds
        self._marks: dict[int, int] = {}  # city partition -> the watermark its cities were judged up to

    def rebuild(self, cities: Iterable[tuple[int, bytes]]) -> None:
        """After a (re)assignment: forget progress, and hold the ``(partition, city key)`` read from the table."""
        self._progress.clear()
        self._cities.clear()
        self._marks.clear()
        for partition, key in cities:
            self.hold(partition, key)
        self.rebuild_needed = False

    def hold(self, partition: int, key: bytes) -> None:
        self._cities.setdefault(partition, set()).add(key)

    def cities(self, partition: int) -> list[bytes]:
        return sorted(self._cities.get(partition, ()))

    def mark(self, partition: int) -> int:
        """The watermark the partition's cities were last judged up to (``NEVER`` before the first)."""
        return self._marks.get(partition, NEVER)

    def due(self, partition: int, store_partition: int, store_partitions: int, at_ms: int,
            table: Any) -> Iterator[tuple[bytes, Any, int]]:
        """Take a progress marker (store partition ``store_partition`` of ``store_partitions`` has sent everything
        up to ``at_ms``); when the watermark moved, ``(key, state, watermark)`` for each city of the partition with
        a state in ``table``, to judge up to the watermark and write back."""
        mark = self.advance(partition, store_partition, store_partitions, at_ms)
        if mark is None:
            return
        for key in self.cities(partition):
            state = table.get(key)
            if state is not None:
                yield key, state, mark

    def advance(self, partition: int, store_partition: int, store_partitions: int, at_ms: int) -> int | None:
        """Take a progress marker; the new watermark when it moved forward, else None."""
        progress = self._progress.setdefault(partition, {})
        progress[store_partition] = max(progress.get(store_partition, NEVER), at_ms)
        mark = min(min((progress.get(s, NEVER) for s in range(store_partitions)), default=NEVER),
                   ceiling_ms(self.max_ahead_ms, self.wall_now))
        if mark <= self.mark(partition):
            return None
        self._marks[partition] = mark
        return mark
