"""Consumer progress of a group over some topics, read with the admin API (for the demo, load tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["end_offsets", "committed_offsets", "remaining", "group_lag", "wait_for_zero_lag"]

Offsets = dict[tuple[str, int], int]  # (topic, partition) -> offset


def end_offsets(bootstrap: str, topics: Sequence[str]) -> Offsets:
    """The current end offset of every partition of ``topics`` (a missing topic has none)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        return {(tp.topic, tp.partition): offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str) -> Offsets:
    """The offsets ``group`` has committed (the next message it will read), by topic and partition.

    For a monitor app id this includes its ingest group (``<app id>-ingest``, which reads ``order-status``), so
    the app id alone answers for every topic a worker reads.
    """
    from kafka import KafkaAdminClient

    from monitor.worker.topicnames import ingest_group

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="monitor-lag")
    try:
        offsets: Offsets = {}
        for name in (group, ingest_group(group)):
            committed = admin.list_group_offsets(name).get(name, {})
            offsets |= {(tp.topic, tp.partition): m.offset for tp, m in committed.items() if m.offset >= 0}
        return offsets
    finally:
        admin.close()


def remaining(targets: Mapping[tuple[str, int], int], committed: Mapping[tuple[str, int], int]) -> int:
    """Messages below ``targets`` not committed yet (a partition never committed counts from 0)."""
    return sum(max(0, end - committed.get(tp, 0)) for tp, end in targets.items())


def group_lag(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Messages of ``topics`` not yet committed by ``group`` (a partition never committed counts whole)."""
    return remaining(end_offsets(bootstrap, topics), committed_offsets(bootstrap, group))


def wait_for_zero_lag(bootstrap: str, group: str, topics: Sequence[str], *, timeout_s: float,
                      poll_s: float = 2.0, hops: int = 3) -> float:
    """Poll until the group has consumed everything on ``topics``; return the seconds waited.

    The internal topics never stand still (heartbeats, and the worker commits in batches), so this does not wait
    for a lag of exactly zero: it waits until the group has committed everything that was on ``topics`` when the
    round began, ``hops`` rounds in a row. After round one every input is read (and what it caused forwarded),
    after round two the repartitioned events are applied, after round three what those sent on by city too.
    Coordinator errors while the group forms are retried; TimeoutError after ``timeout_s``.
    """
    import time

    from kafka.errors import KafkaError

    start = time.monotonic()
    for _ in range(hops):
        targets = None
        while True:
            try:
                targets = targets or end_offsets(bootstrap, topics)
                if remaining(targets, committed_offsets(bootstrap, group)) == 0:
                    break
            except KafkaError:
                pass  # the group or its coordinator is not there yet
            if time.monotonic() - start > timeout_s:
                raise TimeoutError(f"group {group} still has lag on {list(topics)} after {timeout_s:.0f}s")
            time.sleep(poll_s)
    return time.monotonic() - start
