"""What a rule asks the agents to publish: an alert or a store-visibility event, with the decision behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.wire.records import Alert, StoreVisibility

__all__ = ["Emit", "dt_from_ms", "iso_from_ms"]


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
