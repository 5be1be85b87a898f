"""orjson-based decoding and encoding of topic values, validated against the topic contracts."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

import orjson

from monitor.wire.contracts import ORDER_STATUS, REVIEW, STORE_COMMAND, Contract, ContractError
from monitor.wire.records import DeadLetter, OrderStatus, Review, StoreCommand

__all__ = [
    "DecodeError",
    "decode_order_status",
    "order_status_fields",
    "review_fields",
    "decode_review",
    "decode_store_command",
    "decode_contract",
    "check_key",
    "encode",
    "dead_letter",
]


class DecodeError(ValueError):
    """A raw message cannot be used; ``reason`` says why in words a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_contract(contract: Contract, raw: bytes | None, *, max_bytes: int | None = None) -> dict[str, Any]:
    """Decode JSON bytes and validate them against ``contract``; raise DecodeError with the reason.

    ``max_bytes``: a larger value is refused before it is parsed (None: no limit).
    """
    if raw is None:
        raise DecodeError(f"{contract.topic}: empty message (no value)")
    if not raw:
        raise DecodeError(f"{contract.topic}: empty value (0 bytes)")
    if max_bytes is not None and len(raw) > max_bytes:
        raise DecodeError(f"{contract.topic}: value of {len(raw)} bytes is larger than the limit of {max_bytes} "
                          "bytes (setting max_value_bytes)")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"{contract.topic}: not valid JSON ({exc})") from None
    try:
        return contract.validate(obj)
    except ContractError as exc:
        raise DecodeError(f"{contract.topic}: {exc}") from None


def order_status_fields(raw: bytes | None, *, max_bytes: int | None = None) -> dict[str, Any]:
    """An ``order-status`` value as validated fields; a created order promised before it was created is invalid."""
    d = decode_contract(ORDER_STATUS, raw, max_bytes=max_bytes)
    if d["status"] == "created" and d["promised_at"] < d["occurred_at"]:
        raise DecodeError(
            f"order-status: promised_at {d['promised_at'].isoformat()} is before the order was created "
            f"({d['occurred_at'].isoformat()})"
        )
    return d


def decode_order_status(raw: bytes | None, *, max_bytes: int | None = None) -> OrderStatus:
    """An ``order-status`` value as a record (see ``order_status_fields``)."""
    return OrderStatus(**order_status_fields(raw, max_bytes=max_bytes))


def review_fields(raw: bytes | None, *, max_bytes: int | None = None) -> dict[str, Any]:
    """A ``reviews`` value as validated fields."""
    return decode_contract(REVIEW, raw, max_bytes=max_bytes)


def decode_review(raw: bytes | None, *, max_bytes: int | None = None) -> Review:
    """A ``reviews`` value as a record (see ``review_fields``)."""
    return Review(**review_fields(raw, max_bytes=max_bytes))


def decode_store_command(raw: bytes | None, *, max_bytes: int | None = None) -> StoreCommand:
    """A ``store-commands`` value as a record."""
    return StoreCommand(**decode_contract(STORE_COMMAND, raw, max_bytes=max_bytes))


def check_key(topic: str, key: bytes | None, field: str) -> None:
    """Raise DecodeError when a message has no key: the key (``field``) keeps one entity's events in order."""
    if not key:
        raise DecodeError(f"{topic}: message without a key (the key must be the {field})")


def _default(obj: Any) -> Any:
    if hasattr(obj, "asdict"):
        return obj.asdict()
    raise TypeError(f"cannot encode {type(obj).__name__}")


def encode(value: Any) -> bytes:
    """A record or dict as compact JSON; aware datetimes become ISO 8601 with their offset."""
    if hasattr(value, "asdict"):
        value = value.asdict()
    return orjson.dumps(value, default=_default)


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


DEAD_LETTER_EXCERPT_BYTES = 65_536  # default of the setting dead_letter_excerpt_bytes
_KEY_EXCERPT_BYTES = 1024
_ERROR_CHARS = 4096


def dead_letter(
    *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, error: str, at: datetime,
    excerpt_bytes: int = DEAD_LETTER_EXCERPT_BYTES,
) -> DeadLetter:
    """The dead-letter record of a message that could not be processed, bounded whatever the message: the first
    ``excerpt_bytes`` of its value (``truncated`` says when that is not all of it), its size and SHA-256, and its
    topic, partition and offset to find the original. A dead letter larger than the broker accepts would stop
    the worker on every restart."""
    truncated = ((value is not None and len(value) > excerpt_bytes)
                 or (key is not None and len(key) > _KEY_EXCERPT_BYTES))
    return DeadLetter(
        topic=topic, partition=partition, offset=offset,
        key=_b64(None if key is None else key[:_KEY_EXCERPT_BYTES]),
        value=_b64(None if value is None else value[:excerpt_bytes]),
        error=error if len(error) <= _ERROR_CHARS else error[:_ERROR_CHARS] + "…", at=at,
        value_size=None if value is None else len(value),
        value_sha256=None if value is None else hashlib.sha256(value).hexdigest(), truncated=truncated,
    )
