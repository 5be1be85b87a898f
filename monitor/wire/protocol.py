"""The worker's internal protocol: what ingest sends the store partitions, and what they send the cities.

This module is the only place that builds or reads these messages; everything else holds the dataclasses.

- Ingest to each store partition (``<app>-order-status-by-store``, ``<app>-reviews-by-store``), told apart by the
  ``qm`` header: a **batch** (``b:<source partition>:<source partitions>``, the value a JSON list of packed
  events) or a **heartbeat** (``h:<source>:<sources>:<caught up 0/1>:<wall ms>:<newest event ms>``, no value).
  An order event packs as ``[order_id, store_id, city, status, occurred_ms, promised_ms, source offset]``, a
  review as ``[review_id, order_id, store_id, city, rating, text, created_ms, source offset]``: lists, not
  objects, because ingest sends tens of thousands a second.
- A store partition to the city partitions (``<app>-deliveries-by-city``, ``<app>-reviews-by-city``): keyed by city,
  **city deliveries** (``{"h": hour ms, "d": delivered, "l": late}``) or **city reviews** (``[[review_id,
  created_ms, negative 0/1], ...]``); unkeyed, a **progress marker** to every city partition (``{"s": store
  partition, "n": store partitions, "t": clock ms}``): that store partition has sent everything up to ``t``.

A message that does not read as its kind raises ``DecodeError`` (the whole message is dead-lettered); a packed
event that does not raises ``ProtocolError`` (that event alone is, by the agent's guard).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.wire.codec import DecodeError

__all__ = ["HEADER", "ProtocolError", "OrderEvent", "ReviewEvent", "BatchHead", "Heartbeat", "read_header",
           "pack", "packed_within", "unpack", "CityDeliveries", "CityReview", "ProgressMarker"]

HEADER = "qm"


class ProtocolError(ValueError):
    """A packed event that does not read as its kind (a bug, or a hostile writer to an internal topic)."""


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _fields(kind: str, fields: Any, checks: Sequence[Any]) -> list[Any]:
    if not isinstance(fields, list) or len(fields) != len(checks):
        raise ProtocolError(f"a packed {kind} is a list of {len(checks)} fields, got {str(fields)[:200]}")
    for i, (value, ok) in enumerate(zip(fields, checks, strict=True)):
        if not ok(value):
            raise ProtocolError(f"a packed {kind}: field {i} is {str(value)[:100]!r}")
    return fields


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One valid order-status event, as a store partition applies it."""

    order_id: str
    store_id: str
    city: str
    status: str
    occurred_ms: int
    promised_ms: int
    offset: int  # in its source partition of order-status (-1 when not known)

    _CHECKS = (_str, _str, _str, _str, _int, _int, _int)

    def packed(self) -> list[Any]:
        return [self.order_id, self.store_id, self.city, self.status, self.occurred_ms, self.promised_ms,
                self.offset]

    @classmethod
    def unpacked(cls, fields: Any) -> OrderEvent:
        return cls(*_fields("order event", fields, cls._CHECKS))


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One valid review, as a store partition holds and counts it."""

    review_id: str
    order_id: str
    store_id: str
    city: str
    rating: int
    text: str
    created_ms: int
    offset: int  # in its source partition of reviews

    _CHECKS = (_str, _str, _str, _str, _int, _str, _int, _int)

    def packed(self) -> list[Any]:
        return [self.review_id, self.order_id, self.store_id, self.city, self.rating, self.text, self.created_ms,
                self.offset]

    @classmethod
    def unpacked(cls, fields: Any) -> ReviewEvent:
        return cls(*_fields("review", fields, cls._CHECKS))


@dataclass(frozen=True, slots=True)
class BatchHead:
    """A batch of events from one source partition (of ``sources``)."""

    source: int
    sources: int

    def headers(self) -> list[tuple[str, bytes]]:
        return [(HEADER, f"b:{self.source}:{self.sources}".encode())]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A source partition's progress: whether ingest has read all of it, the wall time, its newest event time."""

    source: int
    sources: int
    caught_up: bool
    wall_ms: int
    max_event_ms: int

    def headers(self) -> list[tuple[str, bytes]]:
        beat = f"h:{self.source}:{self.sources}:{int(self.caught_up)}:{self.wall_ms}:{self.max_event_ms}"
        return [(HEADER, beat.encode())]


def read_header(message: Any) -> BatchHead | Heartbeat:
    """What an ingest message is, from its ``qm`` header; ``DecodeError`` when it has none or a bad one."""
    raw = next((value for name, value in (message.headers or ()) if name == HEADER), None)
    if raw is None:
        raise DecodeError(f"{message.topic}: message without the '{HEADER}' header")
    header = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    kind, *fields = header.split(":")
    try:
        if kind == "b" and len(fields) == 2:
            return BatchHead(int(fields[0]), int(fields[1]))
        if kind == "h" and len(fields) == 5 and fields[2] in ("0", "1"):
            return Heartbeat(int(fields[0]), int(fields[1]), fields[2] == "1", int(fields[3]), int(fields[4]))
    except ValueError:
        pass
    raise DecodeError(f"{message.topic}: unknown message kind {header[:40]!r}")


def pack(events: Sequence[OrderEvent | ReviewEvent]) -> bytes:
    return orjson.dumps([e.packed() for e in events])


def packed_within(events: Sequence[OrderEvent | ReviewEvent], max_bytes: int) -> list[bytes]:
    """``events`` packed into as few messages as keep each within ``max_bytes`` (halving a batch that is too
    large; one event is always bounded: ids of 200 characters, review text cut to ``REVIEW_TEXT_MAX``)."""
    raw = pack(events)
    if len(raw) <= max_bytes or len(events) <= 1:
        return [raw]
    half = len(events) // 2
    return packed_within(events[:half], max_bytes) + packed_within(events[half:], max_bytes)


def unpack(message: Any, value: bytes) -> list[Any]:
    """The packed events of a batch (each read with ``OrderEvent.unpacked`` or ``ReviewEvent.unpacked``)."""
    try:
        events = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"{message.topic}: a batch that is not JSON: {exc}") from None
    if not isinstance(events, list):
        raise DecodeError(f"{message.topic}: a batch that is not a list")
    return events


@dataclass(frozen=True, slots=True)
class CityDeliveries:
    """Deliveries of one city in one hour, counted by a store partition: how many, how many late by courier."""

    hour_ms: int
    delivered: int
    late: int

    def encode(self) -> bytes:
        return orjson.dumps({"h": self.hour_ms, "d": self.delivered, "l": self.late})

    @classmethod
    def decode(cls, topic: str, value: bytes) -> CityDeliveries:
        d = _json(topic, value)
        if not (isinstance(d, dict) and all(_int(d.get(k)) for k in ("h", "d", "l"))):
            raise DecodeError(f"{topic}: city deliveries are {{h, d, l}} integers, got {str(d)[:200]}")
        return cls(d["h"], d["d"], d["l"])


@dataclass(frozen=True, slots=True)
class CityReview:
    """A review a store counted, for its city: its id, when it was written, whether it is negative."""

    review_id: str
    created_ms: int
    negative: bool

    @staticmethod
    def encode_all(counted: Sequence[Sequence[Any]]) -> bytes:
        """The reviews a store counted, as the domain returns them (``[review_id, created_ms, negative]``)."""
        return orjson.dumps([[r[0], r[1], int(r[2])] for r in counted])

    @classmethod
    def decode_all(cls, topic: str, value: bytes) -> list[CityReview]:
        rows = _json(topic, value)
        if not isinstance(rows, list) or not all(
                isinstance(r, list) and len(r) == 3 and _str(r[0]) and _int(r[1]) for r in rows):
            raise DecodeError(f"{topic}: city reviews are [[review_id, created_ms, negative], ...]")
        return [cls(r[0], r[1], bool(r[2])) for r in rows]


@dataclass(frozen=True, slots=True)
class ProgressMarker:
    """Store partition ``store_partition`` (of ``store_partitions``) has sent its cities everything up to ``at_ms``."""

    store_partition: int
    store_partitions: int
    at_ms: int

    def encode(self) -> bytes:
        return orjson.dumps({"s": self.store_partition, "n": self.store_partitions, "t": self.at_ms})

    @classmethod
    def decode(cls, topic: str, value: bytes) -> ProgressMarker:
        d = _json(topic, value)
        if not (isinstance(d, dict) and all(_int(d.get(k)) for k in ("s", "n", "t"))):
            raise DecodeError(f"{topic}: a progress marker is {{s, n, t}} integers, got {str(d)[:200]}")
        return cls(d["s"], d["n"], d["t"])


def _json(topic: str, value: bytes) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"{topic}: not JSON: {exc}") from None
