"""Per-receiver token buckets in exact integer arithmetic; time is passed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RateLimiter"]

_MIN_MS = 60_000


@dataclass(slots=True)
class _Bucket:
    units: int  # one message costs 60_000 units; a bucket refills ``per_min`` units per ms
    at_ms: int


class RateLimiter:
    """Each receiver may send ``per_min`` messages per minute, in bursts of up to ``per_min``."""

    def __init__(self, limits_per_min: Mapping[str, int], default_per_min: int = 30) -> None:
        if default_per_min < 1 or any(v < 1 for v in limits_per_min.values()):
            raise ValueError("rate limits must be at least 1 message per minute")
        self._limits = dict(limits_per_min)
        self._default = default_per_min
        self._buckets: dict[str, _Bucket] = {}

    def _refill(self, receiver: str, now_ms: int) -> tuple[_Bucket, int]:
        per_min = self._limits.get(receiver, self._default)
        full = per_min * _MIN_MS
        b = self._buckets.get(receiver)
        if b is None:
            b = self._buckets[receiver] = _Bucket(units=full, at_ms=now_ms)
        elif now_ms > b.at_ms:
            b.units = min(full, b.units + (now_ms - b.at_ms) * per_min)
            b.at_ms = now_ms
        return b, per_min

    def allow(self, receiver: str, now_ms: int) -> bool:
        """Take a token for one message at ``now_ms``; False (nothing taken) when the bucket is empty."""
        b, _ = self._refill(receiver, now_ms)
        if b.units < _MIN_MS:
            return False
        b.units -= _MIN_MS
        return True

    def next_allowed_ms(self, receiver: str, now_ms: int) -> int:
        """The earliest time at or after ``now_ms`` when ``allow`` will succeed."""
        b, per_min = self._refill(receiver, now_ms)
        missing = _MIN_MS - b.units
        return now_ms if missing <= 0 else now_ms + -(-missing // per_min)
