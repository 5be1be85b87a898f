"""An alert from the ``alerts`` topic as the delivery pipeline sees it: validated, with labels for matching."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.wire.contracts import ALERT

__all__ = ["AlertEvent", "LABEL_NAMES"]

# The labels routes, silences and groups can match on.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LABEL_NAMES = ("kind", "severity", "status", "city", "store_id")


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert message; ``at`` is the original ISO string and ``at_ms`` its epoch milliseconds."""

    alert_id: str
    kind: str
    severity: str
    status: str
    store_id: str | None
    city: str
    summary: str
    details: dict[str, Any]
    at: str
    at_ms: int

    @classmethod
    def from_dict(cls, d: Any) -> AlertEvent:
        """Parse a decoded alert; raises ``monitor.wire.contracts.ContractError`` (a ValueError) naming the field."""
        v = ALERT.validate(d)
        return cls(
            alert_id=v["alert_id"], kind=v["kind"], severity=v["severity"], status=v["status"],
            store_id=v["store_id"], city=v["city"], summary=v["summary"], details=dict(v["details"]),
            at=d["at"], at_ms=(v["at"] - _EPOCH) // timedelta(milliseconds=1),
        )

    def to_dict(self) -> dict[str, Any]:
        """The alert as it came from the topic (the contract's fields)."""
        return {"alert_id": self.alert_id, "kind": self.kind, "severity": self.severity, "status": self.status,
                "store_id": self.store_id, "city": self.city, "summary": self.summary,
                "details": self.details, "at": self.at}

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    @property
    def labels(self) -> dict[str, str | None]:
        """The labels used by routes, silences and grouping."""
        return {"kind": self.kind, "severity": self.severity, "status": self.status, "city": self.city,
                "store_id": self.store_id}
