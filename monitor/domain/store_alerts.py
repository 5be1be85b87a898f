"""What the store rules publish, worded: order alerts, their retractions, a store's hide and restore (its
``store-visibility`` event and its ``store_hidden`` alert), and why an order event was refused. The decisions are in ``monitor/domain/stores.py``.

Ids are deterministic (kind, city, store, order or incident), so replays and recoveries repeat them exactly.
"""

from __future__ import annotations

from monitor.domain.intake import Refusal, RefusalCode, format_span_ms
from monitor.domain.orders import OrderRules, status_at
from monitor.domain.outputs import Alert, Emit, StoreVisibility, dt_from_ms, iso_from_ms
from monitor.domain.store_state import StoreState

__all__ = ["order_alert", "retraction", "hide_outputs", "restore_outputs", "refusal"]


def order_alert(state: StoreState, oid: str, kind: str, reason: str | None, t: int) -> Emit:
    """``order_late`` or ``order_at_risk`` firing for ``oid`` at ``t``."""
    f = state.orders[oid]
    what = "is late" if kind == "order_late" else "is at risk of being late"
    why = {"NOT_ACCEPTED": " (not accepted yet)", "NOT_DISPATCHED": " (not in delivery yet)",
           "HANDED_OVER_IN_TIME": " (handed to the courier in time)"}.get(reason or "", "")
    alert = Alert(
        alert_id=f"{kind}:{state.city}:{state.store_id}:{oid}", kind=kind, severity="warning", status="firing",
        store_id=state.store_id, city=state.city,
        summary=f"Order {oid} of {state.store_id} ({state.city}) {what}{why}; promised {iso_from_ms(f.promised_ms)}",
        details={"order_id": oid, "promised_at": iso_from_ms(f.promised_ms), "reason": reason or "DEADLINE_PASSED",
                 "status_at_decision": status_at(f, t)},
        at=dt_from_ms(t),
    )
    return Emit("alerts", alert.alert_id, alert, reason or "DEADLINE_PASSED")


def retraction(state: StoreState, oid: str, kind: str, at_ms: int) -> Emit:
    """The order alert ``kind`` of ``oid`` resolved: events read later show it was not late or at risk after all."""
    f = state.orders[oid]
    what = "late" if kind == "order_late" else "at risk"
    alert = Alert(
        alert_id=f"{kind}:{state.city}:{state.store_id}:{oid}", kind=kind, severity="warning", status="resolved",
        store_id=state.store_id, city=state.city,
        summary=f"Order {oid} of {state.store_id} ({state.city}) was not {what} after all: events read later show "
                f"it {status_at(f, at_ms).replace('_', ' ')} at {iso_from_ms(at_ms)}; promised "
                f"{iso_from_ms(f.promised_ms)}",
        details={"order_id": oid, "promised_at": iso_from_ms(f.promised_ms), "reason": "RETRACTED",
                 "status_at_decision": status_at(f, at_ms)},
        at=dt_from_ms(at_ms),
    )
    return Emit("alerts", alert.alert_id, alert, "RETRACTED")


def hide_outputs(state: StoreState, reason: str, late: list[str], at_risk: list[str], t: int) -> list[Emit]:
    """A store just hidden (incident ``state.incident``) for ``reason`` on the evidence ``late`` and ``at_risk``."""
    n, store, city = state.incident, state.store_id, state.city
    visibility = StoreVisibility(
        event_id=f"hide:{city}:{store}:{n}", store_id=store, city=city, action="hide", reason=reason,
        source="auto", at=dt_from_ms(t), incident=n, late=len(late), at_risk=len(at_risk),
        late_order_ids=late, at_risk_order_ids=at_risk, by=None, note=None,
    )
    alert = Alert(
        alert_id=f"store_hidden:{city}:{store}:{n}", kind="store_hidden", severity="critical", status="firing",
        store_id=store, city=city,
        summary=f"Store {store} ({city}) hidden: {len(late)} late and {len(at_risk)} at-risk orders",
        details={"reason": reason, "incident": n, "late": len(late), "at_risk": len(at_risk),
                 "late_order_ids": late, "at_risk_order_ids": at_risk},
        at=dt_from_ms(t),
    )
    return [Emit("store-visibility", store, visibility, reason),
            Emit("alerts", alert.alert_id, alert, reason)]


def restore_outputs(state: StoreState, late: list[str], at_risk: list[str], at_ms: int, *, by: str | None, note: str,
                    reason: str, source: str) -> list[Emit]:
    """A store restored at ``at_ms`` (by an operator ``by``, or automatically), ending incident ``state.incident``."""
    n, store, city = state.incident, state.store_id, state.city
    visibility = StoreVisibility(
        event_id=f"restore:{city}:{store}:{n}", store_id=store, city=city, action="restore", reason=reason,
        source=source, at=dt_from_ms(at_ms), incident=n, late=len(late), at_risk=len(at_risk),
        late_order_ids=late, at_risk_order_ids=at_risk, by=by, note=note,
    )
    alert = Alert(
        alert_id=f"store_hidden:{city}:{store}:{n}", kind="store_hidden", severity="critical", status="resolved",
        store_id=store, city=city,
        summary=f"Store {store} ({city}) restored" + (f" by {by}: {note}" if by else f": {note}"),
        details={"reason": reason, "incident": n, "by": by, "note": note}, at=dt_from_ms(at_ms),
    )
    return [Emit("store-visibility", store, visibility, reason), Emit("alerts", alert.alert_id, alert, reason)]


def refusal(code: RefusalCode, order_id: str, store_id: str, city: str, promised_ms: int,
            rules: OrderRules) -> Refusal:
    """Why an order event the store did not take (``TOO_OLD`` or ``STORE_FULL``) is dead-lettered."""
    if code is RefusalCode.STORE_FULL:
        return Refusal(RefusalCode.STORE_FULL, f"order {order_id!r} is new and store {store_id!r} ({city}) already "
                                               f"holds {rules.max_orders} orders (setting max_orders_per_store)")
    keep = format_span_ms(max(rules.late_window_ms, rules.retention_ms))
    return Refusal(RefusalCode.TOO_OLD, f"order {order_id!r} of store {store_id!r} ({city}) promised "
                                        f"{iso_from_ms(promised_ms)} is older than the store still counts (it keeps "
                                        f"an order {keep} after its deadline: late_window, order_retention)")
