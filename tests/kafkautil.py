"""Small kafka-python helpers for tests and tools: produce JSON, read a topic until a condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer


def produce(bootstrap: str, topic: str, items: Iterable[tuple[bytes | str | None, Any]]) -> None:
    """Send (key, value) pairs; dict values are JSON-encoded, bytes are sent as they are."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in items:
            k = key.encode() if isinstance(key, str) else key
            v = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
            producer.send(topic, key=k, value=v)
        producer.flush(30)
    finally:
        producer.close()


def consume_until(bootstrap: str, topic: str, done: Callable[[list[dict]], bool],
                  timeout_s: float = 60.0) -> list[dict]:
    """Read ``topic`` from the beginning until ``done(messages)`` is true; each message as a dict."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=500)
    messages: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for m in consumer:
                messages.append({"key": m.key, "value": m.value, "partition": m.partition, "offset": m.offset,
                                 "timestamp": m.timestamp, "headers": dict(m.headers or ()),
                                 "json": _try_json(m.value)})
            if done(messages):
                return messages
        raise AssertionError(f"condition not met on {topic} within {timeout_s}s; got {len(messages)} messages: "
                             f"{[m['json'] for m in messages][:20]}")
    finally:
        consumer.close()


def _try_json(raw: bytes | None) -> Any:
    try:
        return orjson.loads(raw) if raw is not None else None
    except orjson.JSONDecodeError:
        return None
