"""The partition clock: a watermark over source partitions plus a live tick."""

from __future__ import annotations

from monitor.eventtime.clock import NEVER, PartitionClock
from monitor.worker.runtime import PartitionRuntime

S = 1000
T = 1_771_059_600_000  # 2026-02-14T09:00:00Z in ms


class TestPartitionClock:
    def test_a_source_that_is_behind_holds_the_clock(self) -> None:
        """With two sources, the clock waits for the slower one until it has been caught up for idle_ms."""
        c = PartitionClock(idle_ms=3 * S)
        assert c.on_event(0, 2, T + 60 * S) == NEVER  # source 1 not heard of yet
        assert c.on_event(1, 2, T + 10 * S) == T + 10 * S  # the slower source bounds the clock
        assert c.on_heartbeat(1, 2, caught_up=True, wall_ms=0, max_event_ms=T + 10 * S) == T + 10 * S
        assert c.on_heartbeat(1, 2, caught_up=True, wall_ms=3 * S, max_event_ms=T + 10 * S) == T + 60 * S

    def test_a_source_caught_up_for_a_moment_still_holds_the_clock(self) -> None:
        """A source fed live is caught up between batches: its next event, older than the other source's
        newest, must still come before the clock passes it."""
        c = PartitionClock(idle_ms=3 * S)
        c.on_event(0, 2, T + 60 * S)
        c.on_event(1, 2, T + 10 * S)
        c.on_heartbeat(1, 2, caught_up=True, wall_ms=0, max_event_ms=T + 10 * S)
        assert c.on_event(1, 2, T + 20 * S) == T + 20 * S  # not T + 60 s: nothing of source 1 was skipped
        c.on_heartbeat(1, 2, caught_up=True, wall_ms=1 * S, max_event_ms=T + 20 * S)
        assert c.on_heartbeat(0, 2, caught_up=False, wall_ms=2 * S) == T + 20 * S  # idle only 1 s so far

    def test_heartbeats_share_the_stream_time_across_partitions(self) -> None:
        """A partition with few events still advances to the largest time any source forwarded."""
        c = PartitionClock()
        c.on_event(0, 2, T)
        c.on_heartbeat(0, 2, caught_up=True, wall_ms=0, max_event_ms=T + 3600 * S)
        c.on_heartbeat(1, 2, caught_up=True, wall_ms=0, max_event_ms=T + 7200 * S)
        assert c.on_heartbeat(1, 2, caught_up=True, wall_ms=c.idle_ms, max_event_ms=T + 7200 * S) == T + 7200 * S

    def test_clock_never_goes_back(self) -> None:
        """An older event after a newer one leaves the clock where it was."""
        c = PartitionClock()
        c.on_event(0, 1, T + 100 * S)
        c.on_heartbeat(0, 1, caught_up=True, wall_ms=0)
        assert c.on_event(0, 1, T) == T + 100 * S
        assert c.now_ms == T + 100 * S

    def test_live_stream_follows_the_wall_clock(self) -> None:
        """When all sources are caught up and the stream is recent, heartbeats advance it to wall - delay."""
        c = PartitionClock(live_delay_ms=2 * S, live_horizon_ms=3600 * S)
        c.on_event(0, 1, T)
        assert c.on_heartbeat(0, 1, caught_up=True, wall_ms=T + 30 * S) == T + 28 * S

    def test_heartbeats_sent_before_the_assignment_are_ignored(self) -> None:
        """Read again after a restart, an old heartbeat must not move the clock or mark its source caught up."""
        c = PartitionClock(idle_ms=0, assigned_wall_ms=T)
        c.on_event(0, 2, T - 60 * S)
        c.on_event(1, 2, T - 90 * S)
        assert c.on_heartbeat(1, 2, caught_up=True, wall_ms=T - 1, max_event_ms=T - 30 * S) == T - 90 * S
        assert c.src_caught_up[1] is False
        assert c.on_heartbeat(1, 2, caught_up=True, wall_ms=T, max_event_ms=T - 30 * S) == T - 60 * S

    def test_replay_of_history_ignores_the_wall_clock(self) -> None:
        """A stream far behind the wall clock (a replay) advances by events only."""
        c = PartitionClock(live_delay_ms=2 * S, live_horizon_ms=3600 * S)
        c.on_event(0, 1, T)
        assert c.on_heartbeat(0, 1, caught_up=True, wall_ms=T + 86_400 * S) == T


class TestPartitionRuntime:
    def test_due_keys_come_out_once_in_time_order(self) -> None:
        """Rescheduling replaces the old deadline; a key is popped once, earliest first."""
        rt = PartitionRuntime()
        rt.schedule(b"a", T + 50)
        rt.schedule(b"b", T + 10)
        rt.schedule(b"a", T + 5)  # moved earlier: the old entry becomes stale
        rt.schedule(b"c", None)
        assert rt.pop_due(T + 40) == [b"a", b"b"]
        assert rt.pop_due(T + 100) == []
        assert rt.pending == 0


class TestClockBound:
    """No clock passes the wall clock plus max_future_skew, whatever arrives or is restored."""

    WALL = T + 3600 * S

    def test_an_event_from_the_future_moves_the_clock_only_to_the_bound(self) -> None:
        """One event in 2099 cannot make every open order of the partition late."""
        c = PartitionClock(max_ahead_ms=300 * S, wall_now=lambda: self.WALL)
        assert c.on_event(0, 1, 4_070_908_800_000) == self.WALL + 300 * S

    def test_the_live_tick_stops_at_the_bound(self) -> None:
        """A heartbeat whose wall time runs ahead of this machine's clock cannot carry the clock past it."""
        c = PartitionClock(live_delay_ms=0, live_horizon_ms=7200 * S, max_ahead_ms=60 * S, wall_now=lambda: self.WALL)
        c.on_event(0, 1, self.WALL - 10 * S)
        assert c.on_heartbeat(0, 1, caught_up=True, wall_ms=self.WALL + 3600 * S) == self.WALL + 60 * S

    def test_a_clock_restored_ahead_is_brought_back_and_says_so(self) -> None:
        """State written by an older version with a 2099 clock is brought back to the bound."""
        c = PartitionClock(max_ahead_ms=300 * S, wall_now=lambda: self.WALL)
        assert c.restore(4_070_908_800_000) is True
        assert c.now_ms == self.WALL + 300 * S
        assert c.restore(T) is False and c.now_ms == self.WALL + 300 * S  # never goes back

    def test_the_city_watermark_stops_at_the_bound(self) -> None:
        """A progress marker from the future moves a city's watermark only as far as the bound."""
        from monitor.eventtime.watermark import CityWatermark

        w = CityWatermark(max_ahead_ms=300 * S, wall_now=lambda: self.WALL)
        assert w.advance(0, 0, 1, 4_070_908_800_000) == self.WALL + 300 * S
        assert w.advance(0, 0, 1, 4_070_908_900_000) is None  # no further
