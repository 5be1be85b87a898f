"""Ingest's pure parts: event-time alignment of source partitions, the review merge, and the batch codec."""

from __future__ import annotations

from collections import deque

from monitor.clock import NEVER
from monitor.ingest import pack, partitions_ahead, release_in_order, unpack

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


def held(**times: list[int]) -> dict[str, deque]:
    """Per partition, queued ``(offset, [name, time])`` events with the given times."""
    return {tp: deque((n, [f"{tp}-{n}", ms]) for n, ms in enumerate(ms_list)) for tp, ms_list in times.items()}


def names(events: list[list]) -> list[str]:
    return [e[0] for e in events]


class TestReviewMerge:
    def test_merges_by_time_across_partitions_while_every_partition_is_done(self) -> None:
        queues = held(p0=[T, T + 3 * H], p1=[T + H, T + 2 * H])
        out = release_in_order(queues, lambda e: e[1], exhausted=lambda tp: True)
        assert names(out) == ["p0-0", "p1-0", "p1-1", "p0-1"]
        assert not any(queues.values())

    def test_stops_where_a_partition_with_records_left_runs_dry(self) -> None:
        """p1 still has records to read: once its last held review is sent, its next one may be older than
        p0's, so p0's later reviews stay held (weeks of one partition must not run ahead of another)."""
        queues = held(p0=[T, T + 3 * H, T + 30 * 24 * H], p1=[T + H])
        out = release_in_order(queues, lambda e: e[1], exhausted=lambda tp: tp != "p1")
        assert names(out) == ["p0-0", "p1-0"]
        assert [e[1] for _, e in queues["p0"]] == [T + 3 * H, T + 30 * 24 * H]

    def test_a_partition_not_read_yet_holds_everything_back(self) -> None:
        queues = held(p0=[T, T + H], p1=[])
        assert release_in_order(queues, lambda e: e[1], exhausted=lambda tp: tp == "p0") == []
        assert len(queues["p0"]) == 2
        assert names(release_in_order(queues, lambda e: e[1], exhausted=lambda tp: True)) == ["p0-0", "p0-1"]

    def test_a_partition_keeps_its_own_order_whatever_its_times(self) -> None:
        queues = held(p0=[T + 2 * H, T], p1=[T + H])
        assert names(release_in_order(queues, lambda e: e[1], exhausted=lambda tp: True)) == ["p1-0", "p0-0", "p0-1"]


class TestBatchCodec:
    def test_round_trip_keeps_order_and_values(self) -> None:
        events = [["o-1", "st-1", "Kazan", "created", T, T + H], ["o-1", "st-1", "Kazan", "accepted", T + 1, T + H]]
        assert unpack(pack(events)) == events
