"""A write-through cache of decoded table values, dropped whenever partitions are reassigned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["CachedTable"]

T = TypeVar("T")


class CachedTable(Generic[T]):
    """Decoded values of a bytes->bytes faust table; the table (RocksDB + changelog) stays the truth."""

    def __init__(self, table: Any, decode: Callable[[bytes], T], encode: Callable[[T], bytes]) -> None:
        self.table, self._decode, self._encode = table, decode, encode
        self._cache: dict[bytes, T] = {}

    def get(self, key: bytes) -> T | None:
        value = self._cache.get(key)
        if value is None:
            raw = self.table.get(key)
            if raw is not None:
                value = self._cache[key] = self._decode(raw)
        return value

    def put(self, key: bytes, value: T) -> None:
        """Store ``value`` (must run inside the stream, so the changelog partition is the event's)."""
        self._cache[key] = value
        self.table[key] = self._encode(value)

    def delete(self, key: bytes) -> None:
        """Remove ``key`` (a tombstone in the changelog; must run inside the stream, like ``put``)."""
        self._cache.pop(key, None)
        if key in self.table:
            del self.table[key]

    def clear(self) -> None:
        self._cache.clear()
