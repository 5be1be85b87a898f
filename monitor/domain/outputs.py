"""What a rule asks the agents to publish: an alert or a store-visibility event, with the decision behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Alert", "StoreVisibility", "Emit", "dt_from_ms", "iso_from_ms"]


@dataclass(slots=True)
class Alert:
    """An alert as the ``alerts`` topic carries it (its contract: ``monitor.wire.contracts.ALERT``; a test keeps
    the two in step). The dispatcher reads it back as ``monitor.alerts.model.AlertEvent``."""

    alert_id: str
    kind: str
    severity: str
    status: str
    store_id: str | None
    city: str
    summary: str
    details: dict[str, Any]
    at: datetime


@dataclass(slots=True)
class StoreVisibility:
    """A hide or restore as the ``store-visibility`` topic carries it (contract ``STORE_VISIBILITY``)."""

    event_id: str
    store_id: str
    city: str
    action: str
    reason: str
    source: str
    at: datetime
    incident: int | None = None
    late: int | None = None
    at_risk: int | None = None
    late_order_ids: list[str] | None = None
    at_risk_order_ids: list[str] | None = None
    by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Emit:
    """One output: ``topic`` is ``alerts`` or ``store-visibility``; ``decision`` names why (for the log)."""

    topic: str
    key: str
    value: Alert | StoreVisibility
    decision: str


def dt_from_ms(ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_from_ms(ms: int) -> str:
    """ISO 8601 with offset from epoch milliseconds."""
    return dt_from_ms(ms).isoformat()
