"""Input lines of a backtest, read within bounds: a line longer than the bound is read past without being held;
a dump's partition and offset must be what Kafka could have written; ``value_b64`` must be base64."""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from monitor.backtest.summary import Pass
from monitor.toolkit.jsonl import message_key, message_value

__all__ = ["InputRecord", "PARTITIONS_MAX", "bounded", "where_ok", "input_lines", "input_record"]

PARTITIONS_MAX = 10_000  # of one topic in a dump: more is not a Kafka topic (and each would be a clock source)


@dataclass(slots=True)
class InputRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def bounded(fh: Any, line_max: int, start: int = 0) -> Iterable[tuple[int, bytes | None]]:
    """(line number from ``start`` + 1, line) of a file, a line longer than ``line_max`` bytes as None (read past,
    never held)."""
    index = start
    while line := fh.readline(line_max + 1):
        index += 1
        if len(line) > line_max and not line.endswith(b"\n"):
            while (more := fh.readline(1 << 20)) and not more.endswith(b"\n"):
                pass
            yield index, None
        else:
            yield index, line


def where_ok(rec: dict[str, Any]) -> bool:
    """A dump's partition and offset, when present, are what Kafka could have written."""
    for key, top in (("partition", PARTITIONS_MAX), ("offset", 2**63)):
        value = rec.get(key)
        if value is not None and (type(value) is not int or not 0 <= value < top):
            return False
    return True


def input_lines(path: Path, result: Pass, line_max: int, start: int
           ) -> Iterable[tuple[int, int, dict[str, Any] | None]]:
    """(line number over all files, in this file, the record) for every line; None for one that is blank or refused."""
    with open(path, "rb") as fh:
        for lineno, (index, line) in enumerate(bounded(fh, line_max, start), 1):
            where = f"{path.name}:{lineno}"
            rec: Any = None
            if line is None:
                result.lines += 1
                result.refuse(where, f"input: a line longer than {line_max} bytes (4 x max_value_bytes)")
            elif line.strip():
                result.lines += 1
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    result.refuse(where, f"input: not a JSON line ({exc})")
                if rec is not None and not isinstance(rec, dict):
                    result.refuse(where, "input: a line that is not a JSON object")
                    rec = None
                elif rec is not None and not where_ok(rec):
                    result.refuse(where, f"input: partition must be an integer 0..{PARTITIONS_MAX - 1} and offset "
                                         "a non-negative integer")
                    rec = None
            yield index, lineno, rec


def input_record(rec: dict[str, Any], lineno: int) -> InputRecord | None:
    """The line as ingest would have read it from Kafka; None when its ``value_b64`` is not base64."""
    partition = rec.get("partition")
    offset = rec.get("offset")
    try:
        value = message_value(rec)
    except (binascii.Error, TypeError, ValueError):
        return None
    return InputRecord(str(rec.get("topic")), partition if isinstance(partition, int) else 0,
                   offset if isinstance(offset, int) else lineno, message_key(rec), value)
