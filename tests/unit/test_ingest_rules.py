"""Ingest's pure parts: event-time alignment of source partitions and the batch codec."""

from __future__ import annotations

from monitor.eventtime.clock import NEVER
from monitor.worker.ingest import pack, partitions_ahead, unpack

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


class TestBatchCodec:
    def test_round_trip_keeps_order_and_values(self) -> None:
        events = [["o-1", "st-1", "Kazan", "created", T, T + H], ["o-1", "st-1", "Kazan", "accepted", T + 1, T + H]]
        assert unpack(pack(events)) == events


class TestBatchSize:
    def test_batches_of_long_reviews_are_split_to_fit_the_broker(self) -> None:
        """500 reviews of 2,000 four-byte characters each (4 MB together) leave ingest in messages of at most
        512 KiB, in their order, none lost."""
        from monitor.worker.ingest import BATCH_BYTES_MAX, packed_within

        events = [[f"r{i}", "o", "s", "Moscow", 1, "😡" * 2000, T, i] for i in range(500)]
        parts = packed_within(events, BATCH_BYTES_MAX)
        assert all(len(p) <= BATCH_BYTES_MAX for p in parts) and len(parts) > 1
        assert [e for p in parts for e in unpack(p)] == events
