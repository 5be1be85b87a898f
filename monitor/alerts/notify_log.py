"""What each receiver was last told about each alert (``NotifyLog``, a local RocksDB that survives restarts), and
the pure decision whether to tell it again."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from monitor.alerts.model import AlertEvent

__all__ = ["NotifyLog", "NotifyEntry", "Reason", "fingerprint", "needs_update", "record", "acknowledge"]


class Reason(enum.Enum):
    """Why a notification is (or is not) sent."""

    NEW = "NEW"  # never notified
    CHANGED = "CHANGED"  # summary, details or status differ from what was sent
    RESOLVED = "RESOLVED"  # firing was sent, now it is resolved
    REPEAT_DUE = "REPEAT_DUE"  # still firing, unchanged, and the repeat interval has passed
    UNCHANGED = "UNCHANGED"  # already sent as it is, repeat not due
    ACKNOWLEDGED = "ACKNOWLEDGED"  # acknowledged: no repeats
    RESOLVED_NOT_SENT = "RESOLVED_NOT_SENT"  # resolved, but send_resolved is off or firing was never sent

    @property
    def sends(self) -> bool:
        return self in (Reason.NEW, Reason.CHANGED, Reason.RESOLVED, Reason.REPEAT_DUE)


def fingerprint(alert: AlertEvent) -> str:
    """Hash of what a person reads (summary, details, status): the same alert re-sent hashes the same."""
    body = orjson.dumps({"summary": alert.summary, "details": alert.details, "status": alert.status},
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class NotifyEntry:
    """The last notification of one alert to one receiver."""

    receiver: str
    alert_id: str
    last_status: str
    last_fingerprint: str
    sent_at_ms: int
    acked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"receiver": self.receiver, "alert_id": self.alert_id, "last_status": self.last_status,
                "last_fingerprint": self.last_fingerprint, "sent_at_ms": self.sent_at_ms, "acked": self.acked}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NotifyEntry:
        return cls(receiver=d["receiver"], alert_id=d["alert_id"], last_status=d["last_status"],
                   last_fingerprint=d["last_fingerprint"], sent_at_ms=int(d["sent_at_ms"]),
                   acked=bool(d.get("acked", False)))


def needs_update(entry: NotifyEntry | None, alert: AlertEvent, *, now_ms: int, repeat_interval_ms: int,
                 send_resolved: bool) -> Reason:
    """Whether the receiver must hear about ``alert`` at ``now_ms``, given what it was last sent.

    A change is sent even after an acknowledgement; only repeats are suppressed by it.
    """
    if alert.status == "resolved":
        if entry is None or not send_resolved:
            return Reason.RESOLVED_NOT_SENT
        return Reason.UNCHANGED if entry.last_status == "resolved" else Reason.RESOLVED
    if entry is None:
        return Reason.NEW
    if entry.last_fingerprint != fingerprint(alert):
        return Reason.CHANGED
    if entry.acked:
        return Reason.ACKNOWLEDGED
    if now_ms - entry.sent_at_ms >= repeat_interval_ms:
        return Reason.REPEAT_DUE
    return Reason.UNCHANGED


def record(entry: NotifyEntry | None, receiver: str, alert: AlertEvent, now_ms: int) -> NotifyEntry:
    """The entry after ``alert`` was sent to ``receiver`` at ``now_ms``; an ack holds while the status does."""
    acked = entry is not None and entry.acked and entry.last_status == alert.status
    return NotifyEntry(receiver=receiver, alert_id=alert.alert_id, last_status=alert.status,
                       last_fingerprint=fingerprint(alert), sent_at_ms=now_ms, acked=acked)


def acknowledge(entry: NotifyEntry) -> NotifyEntry:
    """The entry marked acknowledged: the firing alert is not repeated any more."""
    return replace(entry, acked=True)


class NotifyLog:
    """What each receiver was last sent, per alert: a local RocksDB (rocksdict) that survives restarts."""

    def __init__(self, path: Path) -> None:
        from rocksdict import Rdict

        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = Rdict(str(path))

    @staticmethod
    def _key(receiver: str, alert_id: str) -> bytes:
        return f"{receiver}\x1f{alert_id}".encode()

    def get(self, receiver: str, alert_id: str) -> NotifyEntry | None:
        raw = self._db.get(self._key(receiver, alert_id))
        return None if raw is None else NotifyEntry.from_dict(orjson.loads(raw))

    def put(self, entry: NotifyEntry) -> None:
        self._db[self._key(entry.receiver, entry.alert_id)] = orjson.dumps(entry.to_dict())

    def close(self) -> None:
        self._db.close()
