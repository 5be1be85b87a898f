"""Ingest's pure parts: event-time alignment of source partitions, the review merge, and the batch codec."""

from __future__ import annotations

from collections import deque

from monitor.clock import NEVER
from monitor.ingest import pack, partitions_ahead, release_frontier, release_in_order, unpack

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


def at(e: list) -> int:
    return e[1]


def newest(queues: dict[str, deque], **read: int) -> dict[str, int]:
    """Newest time read per partition: the last held, or as given (a partition whose held ones were sent)."""
    return {tp: q[-1][1][1] for tp, q in queues.items() if q} | read


class TestReviewMerge:
    def test_merges_by_time_across_partitions_while_every_partition_is_done(self) -> None:
        queues = held(p0=[T, T + 3 * H], p1=[T + H, T + 2 * H])
        out = release_in_order(queues, at, lambda tp: True, newest(queues), slack_ms=0)
        assert names(out) == ["p0-0", "p1-0", "p1-1", "p0-1"]
        assert not any(queues.values())

    def test_stops_past_the_newest_time_of_a_partition_with_records_left(self) -> None:
        """p1 still has records to read: once its last held review (read at T + H) is sent, its next one may
        come any time after, so p0's reviews more than the slack (1 h) later stay held: weeks of one partition
        must not run ahead of another."""
        queues = held(p0=[T, T + 2 * H, T + 3 * H, T + 30 * 24 * H], p1=[T + H])
        read = newest(queues)
        out = release_in_order(queues, at, lambda tp: tp != "p1", read, slack_ms=H)
        assert names(out) == ["p0-0", "p1-0", "p0-1"]
        assert [e[1] for _, e in queues["p0"]] == [T + 3 * H, T + 30 * 24 * H]
        assert release_frontier(queues, at, lambda tp: tp != "p1", read) == T + H  # p1's newest time
        assert names(release_in_order(queues, at, lambda tp: tp != "p1", {**read, "p1": T + 40 * 24 * H}, H)) == [
            "p0-2", "p0-3"]  # p1 read further: p0 may follow
        assert release_frontier(queues, at, lambda tp: tp != "p1", {"p1": T + 40 * 24 * H}) == T + 40 * 24 * H

    def test_a_partition_not_read_yet_holds_everything_back(self) -> None:
        queues = held(p0=[T, T + H], p1=[])
        assert release_in_order(queues, at, lambda tp: tp == "p0", newest(queues), slack_ms=H) == []
        assert len(queues["p0"]) == 2
        assert names(release_in_order(queues, at, lambda tp: True, newest(queues), slack_ms=H)) == ["p0-0", "p0-1"]
        assert release_frontier(queues, at, lambda tp: True, {}) is None  # nothing left anywhere

    def test_live_partitions_read_up_to_now_hold_nothing_back(self) -> None:
        """Live, every partition's newest time is about now: a fresh review goes at once."""
        queues = held(p0=[T + 900], p1=[])
        out = release_in_order(queues, at, lambda tp: False, {"p0": T + 900, "p1": T + 500}, slack_ms=H)
        assert names(out) == ["p0-0"]

    def test_a_partition_keeps_its_own_order_whatever_its_times(self) -> None:
        queues = held(p0=[T + 2 * H, T], p1=[T + H])
        out = release_in_order(queues, at, lambda tp: True, newest(queues), slack_ms=0)
        assert names(out) == ["p1-0", "p0-0", "p0-1"]


class TestBatchCodec:
    def test_round_trip_keeps_order_and_values(self) -> None:
        events = [["o-1", "st-1", "Kazan", "created", T, T + H], ["o-1", "st-1", "Kazan", "accepted", T + 1, T + H]]
        assert unpack(pack(events)) == events
