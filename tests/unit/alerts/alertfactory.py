"""Factories for alert-delivery unit tests: valid alerts with fields replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.alerts.model import AlertEvent

__all__ = ["T0_MS", "alert_dict", "make_alert", "review"]

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def alert_dict(**over: Any) -> dict[str, Any]:
    """A valid store_hidden alert dict; keyword arguments replace fields."""
    at_ms = over.pop("at_ms", T0_MS)
    d: dict[str, Any] = {
        "alert_id": "store_hidden:moscow:s1:1", "kind": "store_hidden", "severity": "critical",
        "status": "firing", "store_id": "s1", "city": "moscow", "summary": "Store s1 (moscow) hidden",
        "details": {"reason": "HIDE_LATE", "incident": 1, "late": 3, "at_risk": 1,
                    "late_order_ids": ["o1", "o2", "o3"], "at_risk_order_ids": ["o4"]},
        "at": datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(),
    }
    d.update(over)
    return d


def make_alert(**over: Any) -> AlertEvent:
    """An AlertEvent from the store_hidden template with fields replaced."""
    return AlertEvent.from_dict(alert_dict(**over))


def review(store: str = "s1", n: int = 1, at_ms: int = T0_MS, city: str = "moscow") -> AlertEvent:
    """The negative_review alert of review ``r{n}`` of a store."""
    return AlertEvent.from_dict(alert_dict(
        alert_id=f"negative_review:{city}:{store}:r{n}", kind="negative_review", severity="info",
        store_id=store, city=city, summary=f"1★ review of {store}", at_ms=at_ms,
        details={"review_id": f"r{n}", "order_id": f"o{n}", "rating": 1, "text": f"cold soup {n}",
                 "created_at": "2026-01-01T00:00:00+00:00"}))
