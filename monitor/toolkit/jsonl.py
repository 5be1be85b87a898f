"""The JSONL record format shared by generate, dump and replay: one Kafka message per line."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

__all__ = ["to_line", "read_records", "message_value", "message_key"]

# {"topic": str, "key": str | null, "value": <JSON> | null, "value_b64": str (when not JSON),
#  "timestamp": ISO 8601 or epoch ms, "partition": int, "offset": int}  (partition/offset: dumps only)


def to_line(topic: str, key: bytes | None, value: bytes | None, timestamp_ms: int,
            partition: int | None = None, offset: int | None = None) -> bytes:
    """One dumped message as a JSON line; a value that is not JSON is kept in base64."""
    rec: dict[str, Any] = {"topic": topic, "key": key.decode("utf-8", "replace") if key is not None else None,
                           "timestamp": timestamp_ms}
    try:
        rec["value"] = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        rec["value_b64"] = base64.b64encode(value or b"").decode("ascii")
    if partition is not None:
        rec["partition"], rec["offset"] = partition, offset
    return orjson.dumps(rec) + b"\n"


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Stream the records of a JSONL file (bounded memory: one line at a time)."""
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not a JSON line ({exc})") from None


def message_value(rec: dict[str, Any]) -> bytes | None:
    """The raw value bytes of a record."""
    if "value_b64" in rec:
        return base64.b64decode(rec["value_b64"])
    value = rec.get("value")
    return None if value is None else orjson.dumps(value)


def message_key(rec: dict[str, Any]) -> bytes | None:
    key = rec.get("key")
    return None if key is None else str(key).encode()


def write_lines(path: str | Path, lines: Iterable[bytes]) -> int:
    """Write lines to ``path``; return how many."""
    n = 0
    with open(path, "wb") as fh:
        for line in lines:
            fh.write(line)
            n += 1
    return n
