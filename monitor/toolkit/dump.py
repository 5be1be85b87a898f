"""dump: copy topics to JSONL (key, value, timestamp, partition, offset), optionally within a time range."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from monitor.toolkit.jsonl import to_line
from monitor.toolkit.progress import Progress

__all__ = ["dump_topics"]


def dump_topics(bootstrap: str, topics: Sequence[str], out: str | Path, *, from_ms: int | None = None,
                to_ms: int | None = None, progress: bool = True) -> int:
    """Read ``topics`` from the beginning up to their end offsets at the start; write the messages whose
    timestamp is in [from_ms, to_ms) to ``out``; return how many were written."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000)
    try:
        known = consumer.topics()
        missing = [t for t in topics if t not in known]
        if missing:
            raise ValueError(f"no such topic(s): {', '.join(missing)}")
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        end = consumer.end_offsets(tps)
        start = consumer.beginning_offsets(tps)
        if from_ms is not None:  # skip straight to the first message at or after from_ms
            found = consumer.offsets_for_times({tp: from_ms for tp in tps})
            for tp in tps:
                start[tp] = found[tp].offset if found.get(tp) else end[tp]
        for tp in tps:
            consumer.seek(tp, start[tp])
        remaining = {tp for tp in tps if start[tp] < end[tp]}
        bar = Progress(f"dump {','.join(topics)}", total=sum(end[tp] - start[tp] for tp in tps)) if progress else None
        written = 0
        with open(out, "wb") as fh:
            while remaining:
                batch = consumer.poll(timeout_ms=1000)
                if not batch and not remaining:
                    break
                for tp, messages in batch.items():
                    for m in messages:
                        if m.offset >= end[tp]:
                            remaining.discard(tp)
                            break
                        if bar:
                            bar.add()
                        if (from_ms is None or m.timestamp >= from_ms) and (to_ms is None or m.timestamp < to_ms):
                            fh.write(to_line(m.topic, m.key, m.value, m.timestamp, m.partition, m.offset))
                            written += 1
                        if m.offset + 1 >= end[tp]:
                            remaining.discard(tp)
                    if to_ms is not None and messages and messages[-1].timestamp >= to_ms:
                        remaining.discard(tp)
        if bar:
            bar.done()
        return written
    finally:
        consumer.close()
