"""replay: JSONL -> topics, keys and order kept, at a speed factor by event time or as fast as possible."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from monitor.toolkit.jsonl import message_key, message_value, read_records
from monitor.toolkit.progress import Progress

__all__ = ["replay_file", "record_time_ms", "shift_value", "start_for_now_ms"]

TIME_FIELDS = ("occurred_at", "promised_at", "created_at", "at")


def record_time_ms(rec: Mapping[str, Any]) -> int:
    """A record's timestamp in ms: epoch ms or ISO 8601 with offset."""
    ts = rec["timestamp"]
    if isinstance(ts, int | float):
        return int(ts)
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


def start_for_now_ms(path: str | Path, now_ms: int, speed: float | None) -> int:
    """Where ``--shift-to-now`` moves the file's first record so that no record is ever ahead of the wall clock
    when it is sent (the monitor refuses those): as fast as possible the file ends now; at ``speed`` s the file's
    span shrinks by s, so it starts ``span * (1 - 1/s)`` before now (``--speed 1`` starts now, in step)."""
    first_ms = last_ms = None
    for rec in read_records(path):  # streamed: a year of traffic is millions of records
        t = record_time_ms(rec)
        first_ms = t if first_ms is None else first_ms
        last_ms = t if last_ms is None else max(last_ms, t)
    if first_ms is None or last_ms is None:
        return now_ms
    span_ms = last_ms - first_ms
    factor = 1.0 if not speed else max(0.0, 1.0 - 1.0 / speed)
    return now_ms - int(span_ms * factor)


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
