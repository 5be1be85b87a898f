"""Silences: operator-made mutes over a time window, matched like routes; pure decisions on ``now_ms``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from monitor.alerts.matchers import check_matchers, matches
from monitor.alerts.model import AlertEvent
from monitor.logs import get_logger

__all__ = ["Silence", "SilenceBook", "active_silence", "after_resolve"]

log = get_logger("monitor.alerts.silences")


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes matching alerts from ``starts_at_ms`` (inclusive) to ``ends_at_ms`` (exclusive)."""

    silence_id: str
    matchers: Mapping[str, list[str] | str]
    created_by: str
    comment: str
    starts_at_ms: int
    ends_at_ms: int
    end_on_resolve: bool = False
    expired: bool = False

    def __post_init__(self) -> None:
        if self.ends_at_ms <= self.starts_at_ms:
            raise ValueError(f"silence {self.silence_id}: ends_at_ms must be after starts_at_ms")
        if not self.created_by.strip() or not self.comment.strip():
            raise ValueError(f"silence {self.silence_id}: created_by and comment must not be empty")

    def is_active(self, now_ms: int) -> bool:
        return not self.expired and self.starts_at_ms <= now_ms < self.ends_at_ms

    def to_dict(self) -> dict[str, Any]:
        return {"silence_id": self.silence_id, "matchers": dict(self.matchers),
                "created_by": self.created_by, "comment": self.comment, "starts_at_ms": self.starts_at_ms,
                "ends_at_ms": self.ends_at_ms, "end_on_resolve": self.end_on_resolve, "expired": self.expired}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Silence:
        """Parse a stored silence; ValueError names the bad field."""
        sid = d.get("silence_id")
        if not isinstance(sid, str) or not sid:
            raise ValueError("silence_id: expected a non-empty string")
        for key in ("starts_at_ms", "ends_at_ms"):
            if not isinstance(d.get(key), int) or isinstance(d.get(key), bool):
                raise ValueError(f"silence {sid}: {key}: expected epoch milliseconds (integer)")
        return cls(silence_id=sid, matchers=check_matchers(d.get("matchers", {}), f"silence {sid}: matchers"),
                   created_by=str(d.get("created_by", "")), comment=str(d.get("comment", "")),
                   starts_at_ms=d["starts_at_ms"], ends_at_ms=d["ends_at_ms"],
                   end_on_resolve=bool(d.get("end_on_resolve", False)), expired=bool(d.get("expired", False)))


def active_silence(alert: AlertEvent, silences: Iterable[Silence], now_ms: int) -> Silence | None:
    """The active silence that mutes the alert at ``now_ms`` (the one ending last), or None."""
    labels = alert.labels
    hits = [s for s in silences if s.is_active(now_ms) and matches(s.matchers, labels)]
    return max(hits, key=lambda s: (s.ends_at_ms, s.silence_id)) if hits else None


def after_resolve(silence: Silence, alert: AlertEvent) -> Silence:
    """The silence, expired if it ends on resolve and this resolved alert matches it (ignoring ``status``)."""
    if silence.expired or not silence.end_on_resolve or alert.status != "resolved":
        return silence
    labels = {k: v for k, v in alert.labels.items() if k != "status"}
    wanted = {k: v for k, v in silence.matchers.items() if k != "status"}
    return replace(silence, expired=True) if matches(wanted, labels) else silence


class SilenceBook:
    """Silences by id, at most ``limit`` of them (beyond that, the one that ended longest ago is forgotten)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._by_id: dict[str, Silence] = {}
        self.ignored = 0  # records that are not silences we can read (counted, logged once each)
        self.forgotten = 0

    def put(self, silence: Silence) -> None:
        self._by_id[silence.silence_id] = silence
        if len(self._by_id) > self.limit:
            oldest = min(self._by_id.values(), key=lambda s: (s.ends_at_ms, s.silence_id))
            del self._by_id[oldest.silence_id]
            self.forgotten += 1

    def read(self, key: bytes | None, value: bytes | None) -> Silence | None:
        """Apply one record of the silences topic and return the silence it holds (acknowledgements and
        tombstones are not silences: None)."""
        try:
            d = orjson.loads(value) if value else None
            if d is not None and not isinstance(d, dict):
                raise ValueError("expected a JSON object")
            if d is not None and d.get("type") != "ack":
                silence = Silence.from_dict(d)
                self.put(silence)
                return silence
        except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
            self.ignored += 1
            log.warning("silence_record_ignored", key=(key or b"")[:100].decode("utf-8", "replace"),
                        reason=str(exc)[:300])
        return None

    def get(self, silence_id: str) -> Silence | None:
        return self._by_id.get(silence_id)

    def values(self) -> Iterable[Silence]:
        return self._by_id.values()

    def all(self) -> list[Silence]:
        return sorted(self._by_id.values(), key=lambda s: (s.starts_at_ms, s.silence_id))
