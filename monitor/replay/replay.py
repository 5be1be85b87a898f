"""replay: JSONL -> topics, keys and order kept, at a speed factor by event time or as fast as possible."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from monitor.replay.jsonl import message_key, message_value, read_records
from monitor.replay.progress import Progress

__all__ = ["replay_file", "record_time_ms", "shift_value"]

TIME_FIELDS = ("occurred_at", "promised_at", "created_at", "at")


def record_time_ms(rec: Mapping[str, Any]) -> int:
    """A record's timestamp in ms: epoch ms or ISO 8601 with offset."""
    ts = rec["timestamp"]
    if isinstance(ts, int | float):
        return int(ts)
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


def shift_value(value: Any, delta: timedelta) -> Any:
    """The value with its known timestamp fields moved by ``delta`` (offsets kept)."""
    if not isinstance(value, dict) or not delta:
        return value
    out = dict(value)
    for name in TIME_FIELDS:
        if isinstance(out.get(name), str):
            try:
                out[name] = (datetime.fromisoformat(out[name]) + delta).isoformat()
            except ValueError:
                pass  # invalid on purpose (bad-input tests): replay it unchanged
    return out


def replay_file(bootstrap: str, path: str | Path, *, speed: float | None = None, shift_to_ms: int | None = None,
                topic_map: Mapping[str, str] | None = None, progress: bool = True,
                sleep: Callable[[float], None] = time.sleep) -> int:
    """Produce every record of ``path`` in file order (one producer, idempotent, so order per key holds).

    ``speed``: None = as fast as possible, 60 = one hour of event time per minute. ``shift_to_ms``: move all
    timestamps so that the first record happens at that time ("as of now"). Returns the records sent.
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             linger_ms=5, batch_size=256 * 1024)
    topic_map = topic_map or {}
    first_ms: int | None = None
    began = time.monotonic()
    delta = timedelta(0)
    bar = Progress(f"replay {Path(path).name}") if progress else None
    sent = 0
    try:
        for rec in read_records(path):
            ts_ms = record_time_ms(rec)
            if first_ms is None:
                first_ms = ts_ms
                if shift_to_ms is not None:
                    delta = timedelta(milliseconds=shift_to_ms - first_ms)
            if speed:
                due_s = (ts_ms - first_ms) / 1000 / speed
                wait = due_s - (time.monotonic() - began)
                if wait > 0:
                    producer.flush()
                    sleep(wait)
            value = message_value(rec)
            if delta and value is not None and "value" in rec:
                value = orjson.dumps(shift_value(rec["value"], delta))
            topic = topic_map.get(rec["topic"], rec["topic"])
            producer.send(topic, key=message_key(rec), value=value,
                          timestamp_ms=ts_ms + int(delta.total_seconds() * 1000))
            sent += 1
            if bar:
                bar.add()
        producer.flush()
    finally:
        producer.close()
    if bar:
        bar.done()
    return sent
