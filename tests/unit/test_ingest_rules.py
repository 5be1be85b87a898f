"""Ingest's pure parts: event-time alignment of source partitions and the batch codec."""

from __future__ import annotations

from monitor.eventtime.clock import NEVER
from monitor.worker.sources import partitions_ahead

H = 3_600_000
T = 1_771_059_600_000


class TestAlignment:
    def test_partitions_ahead_of_the_slowest_one_behind_are_paused(self) -> None:
        """p1 is 3 h ahead of p0, which still has records to read: p1 waits; p2, 30 min ahead, does not."""
        read = {"p0": T, "p1": T + 3 * H, "p2": T + H // 2}
        assert partitions_ahead(read, behind=["p0", "p1", "p2"], skew_ms=H) == {"p1"}

    def test_a_partition_with_nothing_left_holds_no_one_back(self) -> None:
        """A slow partition that is read to its end (live, or simply quiet) is not waited for."""
        read = {"p0": T, "p1": T + 3 * H}
        assert partitions_ahead(read, behind=["p1"], skew_ms=H) == set()

    def test_unknown_times_and_zero_skew_pause_nothing(self) -> None:
        """Before anything is read, or with the alignment off (0), every partition is read freely."""
        assert partitions_ahead({"p0": NEVER, "p1": T + 3 * H}, behind=["p0", "p1"], skew_ms=H) == set()
        assert partitions_ahead({"p0": T, "p1": T + 3 * H}, behind=["p0", "p1"], skew_ms=0) == set()
