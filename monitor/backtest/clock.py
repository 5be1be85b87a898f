"""The event-time clock of one input topic in a backtest."""

from __future__ import annotations

from monitor.eventtime.clock import NEVER

__all__ = ["SourceClock"]


class SourceClock:
    """The event-time clock of one input topic over its source partitions: the least of the largest event time
    read from each source that may still send events (``monitor/eventtime/clock.py`` without heartbeats: the input
    is history). A source whose last line has been read stops holding the clock back, as an idle, caught-up
    source stops holding the worker's."""

    def __init__(self, sources: int) -> None:
        self.live: set[int] = set(range(max(1, sources)))
        self.read_ms: dict[int, int] = {}
        self.now_ms = NEVER
        self.seen_max_ms = NEVER

    def on_event(self, source: int, event_ms: int) -> int:
        if event_ms > self.read_ms.get(source, NEVER):
            self.read_ms[source] = event_ms
            self.seen_max_ms = max(self.seen_max_ms, event_ms)
            self._move()
        return self.now_ms

    def end(self, source: int) -> int:
        """``source`` has nothing more to send."""
        self.live.discard(source)
        self._move()
        return self.now_ms

    def finish(self) -> int:
        """Every source has ended: the clock reaches the largest event time read."""
        self.live.clear()
        self._move()
        return self.now_ms

    def _move(self) -> None:
        read = self.read_ms
        if len(self.live) == 1:
            (only,) = self.live
            candidate = read.get(only, NEVER)
        elif self.live:
            candidate = min(read.get(s, NEVER) for s in self.live)
        else:
            candidate = self.seen_max_ms
        if candidate > self.now_ms:
            self.now_ms = candidate
