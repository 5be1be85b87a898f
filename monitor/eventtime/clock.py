"""Event-time clock of one store partition: a watermark over the source partitions, plus a live wall-clock tick.

Order events reach a store partition from every ``order-status`` partition, interleaved in whatever order the
ingests ran, and each store partition sees only its own stores' events. Heartbeats from every source carry
the largest event time it has forwarded anywhere, so all store partitions share the stream's time. The clock
only advances to a time that every source still behind has reached, so a deadline fires after every earlier
event of the stream has been applied, at any replay speed. A source that has been caught up (its heartbeats say
it has nothing unread) for ``idle_ms`` of wall time no longer holds the clock back; one that is caught up only
for a moment, as a source fed live by a replay is between two batches, still does. In live operation, when every source
has caught up and the stream's time is close to the wall clock, heartbeats advance the clock with the wall
clock (less a small delay), so deadlines fire without new events. Heartbeats sent before the partition was
assigned to this worker (``assigned_wall_ms``) are ignored: after a restart they are read again, and they describe
forwarding that is being redone, so they would let the clock run ahead of the events sent again.

Bounded: the clock never passes the wall clock plus ``max_ahead_ms`` (``max_future_skew``), whatever arrives or is
restored. Ingest already refuses events that far ahead; the bound is the defence in depth behind it, so that one
producer's clock can never make every open order late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["PartitionClock", "NEVER", "wall_clock_ms", "ceiling_ms"]

NEVER = -(2**62)  # "no time yet"


def wall_clock_ms() -> int:
    """The wall clock in ms since the epoch (the default ``wall_now`` of the clocks)."""
    return time.time_ns() // 1_000_000


def ceiling_ms(max_ahead_ms: int, wall_now: Callable[[], int] = wall_clock_ms) -> int:
    """The furthest any event-time clock may be: the wall clock plus the allowed skew."""
    return wall_now() + max_ahead_ms


@dataclass(slots=True)
class PartitionClock:
    """The watermark of one partition: ``now_ms`` never goes back."""

    live_delay_ms: int = 2_000
    live_horizon_ms: int = 600_000
    idle_ms: int = 3_000  # a caught-up source stops holding the clock back after this long (wall time)
    now_ms: int = NEVER
    sources: int = 0  # number of source partitions (learnt from messages)
    seen_max_ms: int = NEVER  # largest event time seen
    src_max_ms: dict[int, int] = field(default_factory=dict)
    src_caught_up: dict[int, bool] = field(default_factory=dict)
    src_idle_since: dict[int, int] = field(default_factory=dict)  # wall ms a source was first seen caught up
    wall_ms: int = NEVER  # latest wall time heard in a heartbeat
    assigned_wall_ms: int = NEVER  # wall time the partition was assigned: older heartbeats are stale
    max_ahead_ms: int = 300_000  # the clock never passes wall_now() + this
    wall_now: Callable[[], int] = wall_clock_ms

    def on_event(self, source: int, sources: int, event_ms: int) -> int:
        """An event from ``source`` (one of ``sources`` partitions); returns the new clock."""
        self.sources = max(self.sources, sources)
        if event_ms > self.src_max_ms.get(source, NEVER):
            self.src_max_ms[source] = event_ms
        self.src_caught_up[source] = False
        self.src_idle_since.pop(source, None)
        if event_ms > self.seen_max_ms:
            self.seen_max_ms = event_ms
        return self._advance()

    def on_heartbeat(self, source: int, sources: int, *, caught_up: bool, wall_ms: int,
                     max_event_ms: int = NEVER) -> int:
        """A source's heartbeat: the largest event time it forwarded (to any partition), whether it has read
        all it has, and the wall time; returns the new clock (unchanged by a stale heartbeat)."""
        if wall_ms < self.assigned_wall_ms:
            return self.now_ms
        self.sources = max(self.sources, sources)
        self.src_caught_up[source] = caught_up
        self.wall_ms = max(self.wall_ms, wall_ms)
        if caught_up:
            self.src_idle_since.setdefault(source, wall_ms)
        else:
            self.src_idle_since.pop(source, None)
        if max_event_ms > self.src_max_ms.get(source, NEVER):
            self.src_max_ms[source] = max_event_ms
        if max_event_ms > self.seen_max_ms:
            self.seen_max_ms = max_event_ms
        self._advance()
        if self.sources and all(self.src_caught_up.get(s, False) for s in range(self.sources)):
            live_ms = wall_ms - self.live_delay_ms
            # Only a stream that is close to the wall clock is live; a replay of history is not.
            if self.now_ms != NEVER and self.now_ms >= wall_ms - self.live_horizon_ms and live_ms > self.now_ms:
                self.now_ms = min(live_ms, ceiling_ms(self.max_ahead_ms, self.wall_now))
        return self.now_ms

    def restore(self, now_ms: int) -> bool:
        """Start from a clock recovered from state (after a restart or rebalance). A clock found ahead of the
        wall clock plus the skew (written by an older version) is brought back to it: returns True then."""
        ceiling = ceiling_ms(self.max_ahead_ms, self.wall_now)
        self.now_ms = max(self.now_ms, min(now_ms, ceiling))
        return now_ms > ceiling

    def _advance(self) -> int:
        candidate = self.seen_max_ms
        for s in range(self.sources):
            idle_since = self.src_idle_since.get(s)
            if idle_since is None or self.wall_ms - idle_since < self.idle_ms:  # still holds the clock back
                candidate = min(candidate, self.src_max_ms.get(s, NEVER))
        if candidate > self.now_ms:
            self.now_ms = min(candidate, max(self.now_ms, ceiling_ms(self.max_ahead_ms, self.wall_now)))
        return self.now_ms
