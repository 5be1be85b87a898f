"""Consumer lag of a group over some topics, read with the admin API (for load tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["group_lag", "wait_for_zero_lag"]


def group_lag(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Messages of ``topics`` not yet committed by ``group`` (a partition never committed counts whole)."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="monitor-lag")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        committed = admin.list_group_offsets(group).get(group, {})
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        end = consumer.end_offsets(tps)
        lag = 0
        for tp in tps:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag += max(0, end[tp] - done)
        return lag
    finally:
        admin.close()
        consumer.close()


def wait_for_zero_lag(bootstrap: str, group: str, topics: Sequence[str], *, timeout_s: float,
                      poll_s: float = 2.0) -> float:
    """Poll until the group has consumed everything on ``topics``; return the seconds waited.

    Coordinator errors while the group forms are retried; TimeoutError after ``timeout_s``.
    """
    import time

    from kafka.errors import KafkaError

    start = time.monotonic()
    while True:
        try:
            if group_lag(bootstrap, group, topics) == 0:
                return time.monotonic() - start
        except KafkaError:
            pass  # the group or its coordinator is not there yet
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"group {group} still has lag on {list(topics)} after {timeout_s:.0f}s")
        time.sleep(poll_s)
