"""The one place where table state becomes the JSON the API and the dashboard show (pure, no I/O).

If the layout of ``StoreState`` or ``NegativityState`` changes, this module is what has to follow.
"""

from __future__ import annotations

from typing import Any

from monitor.domain.negativity import NegativityState
from monitor.domain.orders import evaluate_store, status_at
from monitor.domain.outputs import iso_from_ms
from monitor.domain.reviews import NegativityRule, share, sum_window
from monitor.domain.store_state import StoreState
from monitor.domain.stores import OrderRules, counts_at
from monitor.domain.units import DAY_MS

__all__ = ["store_view", "negativity_view", "negativity_series", "store_summary"]


def _iso(ms: int | None) -> str | None:
    return iso_from_ms(ms) if ms is not None else None


def store_summary(state: StoreState, now_ms: int, rules: OrderRules) -> dict[str, Any]:
    """The short form of a store for lists: visibility, since when and why, and its current counts."""
    late, at_risk = counts_at(state, now_ms, rules)
    reason = None
    if state.hidden:  # the hide reason follows from the evidence it was decided on (under today's rule)
        decision = evaluate_store(len(state.evidence_late), len(state.evidence_at_risk), rules.hide, hidden=False)
        reason = decision.value if decision.hides else "HIDDEN_UNDER_EARLIER_RULE"
    return {
        "store_id": state.store_id, "city": state.city, "hidden": state.hidden,
        "hidden_since": _iso(state.hidden_at_ms) if state.hidden else None, "hide_reason": reason,
        "incident": state.incident, "late": len(late), "at_risk": len(at_risk),
        "at_risk_now": not state.hidden and bool(late or at_risk),  # visible, with orders going wrong
        "as_of": iso_from_ms(now_ms),
    }


def store_view(state: StoreState, now_ms: int, rules: OrderRules, *, reviews: NegativityState | None = None,
               review_rule: NegativityRule | None = None,
               decisions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything the monitor knows about one (store, city) as of the event time ``now_ms``."""
    late, at_risk = counts_at(state, now_ms, rules)
    open_orders = sorted(oid for oid, f in state.orders.items() if f.created_ms <= now_ms and not f.finished_by(now_ms))
    view = store_summary(state, now_ms, rules)
    view.update({
        "partition": state.partition,
        "visibility": {
            "hidden": state.hidden, "since": view["hidden_since"], "reason": view["hide_reason"],
            "incident": state.incident,
            "evidence": {"late": list(state.evidence_late), "at_risk": list(state.evidence_at_risk)},
        },
        "orders": {
            "open": [{"order_id": oid, "status": status_at(state.orders[oid], now_ms),
                      "promised_at": iso_from_ms(state.orders[oid].promised_ms)} for oid in open_orders],
            "late": late, "at_risk": at_risk,
        },
        "daily": [{"day": iso_from_ms(day)[:10], "orders": row[0], "delivered": row[1], "late": row[2],
                   "cancelled": row[3]} for day, row in sorted(state.days.items())],
        "negativity": negativity_view(reviews, review_rule) if reviews is not None and review_rule else None,
        "recent_decisions": decisions or [],
    })
    return view


def negativity_view(state: NegativityState, rule: NegativityRule) -> dict[str, Any]:
    """Share and counts of negative reviews over the window, as of the state's own clock."""
    stats = sum_window({k: (v[0], v[1]) for k, v in state.buckets.items()}, state.clock_ms, rule.window_ms)
    return {
        "share": round(share(stats.negative, stats.total), 6), "reviews": stats.total, "negative": stats.negative,
        "threshold": rule.threshold, "window_days": rule.window_ms // DAY_MS, "firing": state.firing,
        "firing_since": _iso(state.firing_since_ms), "incident": state.incident,
        "as_of": _iso(state.clock_ms) if state.clock_ms else None,
    }


def negativity_series(state: NegativityState) -> list[dict[str, Any]]:
    """Per event-time day: reviews, negative ones and their share (the city chart)."""
    return [{"day": iso_from_ms(day)[:10], "reviews": row[0], "negative": row[1],
             "share": round(share(row[1], row[0]), 6)} for day, row in sorted(state.buckets.items())]
