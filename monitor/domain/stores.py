"""What happens to a store as order facts arrive and its partition's clock passes deadlines: pure, no I/O.

Every function takes the state and an event time in ms and returns the outputs to publish; the agent stores
the state and sends the outputs. Outputs carry deterministic ids, so replays and recoveries repeat them exactly.
"""

from __future__ import annotations

import enum
import heapq

from monitor.domain.orders import (
    F_ACCEPT_CHECKED,
    F_AT_RISK_ALERTED,
    F_AT_RISK_RETRACTED,
    F_COUNTED_CANCELLED,
    F_COUNTED_CREATED,
    F_COUNTED_DELIVERED,
    F_DISPATCH_CHECKED,
    F_LATE_ALERTED,
    F_LATE_RETRACTED,
    F_PROMISE_CHECKED,
    OrderFacts,
    OrderRules,
    apply_status,
    at_risk_reason,
    change_points,
    evaluate_store,
    forget_at_ms,
    handed_over_in_time,
    is_late,
    is_store_late,
    late_since_ms,
)
from monitor.domain.outputs import Emit
from monitor.domain.store_alerts import hide_outputs, order_alert, restore_outputs, retraction
from monitor.domain.store_state import StoreState
from monitor.domain.units import DAY_MS

__all__ = ["OrderRules", "Emit", "Applied", "apply_order_event", "advance", "restore", "next_due_ms", "counts_at",
           "reconsider", "MOVED"]

DAYS_KEPT_MS = 35 * DAY_MS
MOVED = "moved"  # not a status of the contract: ingest's word for "a later event of this order names another store"


class Applied(enum.Enum):
    """What an order event did to its store."""

    TOO_OLD = "TOO_OLD"  # the order is too old to matter (already forgotten): dead-lettered by the agent
    APPLIED = "APPLIED"
    DELIVERED = "DELIVERED"  # applied, and the order's delivery is counted now (once per order)
    MOVED = "MOVED"  # the order moved to another store: this store forgets it and never counts it again
    STORE_FULL = "STORE_FULL"  # a new order of a store holding max_orders: refused, dead-lettered by the agent


def apply_order_event(state: StoreState, order_id: str, status: str, at_ms: int, promised_ms: int,
                      rules: OrderRules) -> Applied:
    """Merge an order event into the store (``status`` ``MOVED``: the order left it for another store)."""
    if order_id in state.done:  # finished and settled: a duplicate or a straggler changes nothing
        return Applied.APPLIED
    if status == MOVED:
        facts = state.orders.pop(order_id, None)
        state.excluded.pop(order_id, None)
        state.done[order_id] = (forget_at_ms(facts, rules.late_window_ms, rules.retention_ms) if facts
                                else at_ms + max(rules.late_window_ms, rules.retention_ms))
        heapq.heappush(_timeline(state, rules), (state.done[order_id], 0, order_id))
        return Applied.MOVED
    facts = state.orders.get(order_id)
    if facts is None:
        probe = apply_status(None, status, at_ms, promised_ms)
        if forget_at_ms(probe, rules.late_window_ms, rules.retention_ms) <= state.clock_ms:
            return Applied.TOO_OLD
        if len(state.orders) + len(state.done) >= rules.max_orders:
            return Applied.STORE_FULL
        before = None
    else:
        before = (facts.created_ms, facts.promised_ms)
    finished_before = facts is not None and (facts.delivered_ms is not None or facts.cancelled_ms is not None)
    facts = apply_status(facts, status, at_ms, promised_ms)
    state.orders[order_id] = facts
    if before != (facts.created_ms, facts.promised_ms):  # its deadlines are new or moved
        _track(_timeline(state, rules), order_id, facts, rules, state.city)
    elif not finished_before and (facts.delivered_ms is not None or facts.cancelled_ms is not None):
        heapq.heappush(_timeline(state, rules), (_finished_ms(facts), 0, order_id))  # time to settle it
    if not facts.flags & F_COUNTED_CREATED:
        facts.flags |= F_COUNTED_CREATED
        _count(state, facts.created_ms, 0)
    applied = Applied.APPLIED
    if facts.delivered_ms is not None and not facts.flags & F_COUNTED_DELIVERED:
        facts.flags |= F_COUNTED_DELIVERED
        _count(state, facts.delivered_ms, 1)
        applied = Applied.DELIVERED
    if facts.cancelled_ms is not None and not facts.flags & F_COUNTED_CANCELLED:
        facts.flags |= F_COUNTED_CANCELLED
        _count(state, facts.cancelled_ms, 3)
    return applied


def _finished_ms(f: OrderFacts) -> int:
    return min(t for t in (f.delivered_ms, f.cancelled_ms) if t is not None)


def _track(timeline: list[tuple[int, int, str]], oid: str, f: OrderFacts, rules: OrderRules, city: str) -> None:
    """Add the order's pending deadlines, and its settle and forget times (flag 0), to the store's timeline."""
    for t, flag in change_points(f, rules.accept_timeout_ms, rules.lead_ms(city)).pending(f.flags):
        heapq.heappush(timeline, (t, flag, oid))
    if f.delivered_ms is not None or f.cancelled_ms is not None:
        heapq.heappush(timeline, (_finished_ms(f), 0, oid))
    heapq.heappush(timeline, (forget_at_ms(f, rules.late_window_ms, rules.retention_ms), 0, oid))


def _timeline(state: StoreState, rules: OrderRules) -> list[tuple[int, int, str]]:
    """The store's deadline heap, (re)built from its orders when missing or mostly stale entries."""
    tl = state.timeline
    if tl is None or len(tl) > 8 * (len(state.orders) + len(state.done)) + 64:
        tl = state.timeline = []
        for oid, f in state.orders.items():
            _track(tl, oid, f, rules, state.city)
        for oid, forget_ms in state.done.items():
            heapq.heappush(tl, (forget_ms, 0, oid))
    return tl


def _count(state: StoreState, at_ms: int, column: int) -> None:
    day = at_ms - at_ms % DAY_MS
    row = state.days.setdefault(day, [0, 0, 0, 0])
    row[column] += 1


def counts_at(state: StoreState, t_ms: int, rules: OrderRules) -> tuple[list[str], list[str]]:
    """(late order ids, at-risk order ids) of the store as of ``t_ms``, without orders of closed incidents."""
    late, at_risk = [], []
    lead = rules.lead_ms(state.city)
    for oid, f in state.orders.items():
        if oid in state.excluded:
            continue
        if is_store_late(f, t_ms, rules.late_window_ms, lead):  # a courier's lateness does not count here
            late.append(oid)
        elif at_risk_reason(f, t_ms, rules.accept_timeout_ms, lead):
            at_risk.append(oid)
    return sorted(late), sorted(at_risk)


def next_due_ms(state: StoreState, rules: OrderRules) -> int | None:
    """The earliest event time at which ``advance`` may have something to do for this store (may be early)."""
    tl = _timeline(state, rules)
    due = [tl[0][0]] if tl else []
    if state.hidden and rules.auto_restore_after_ms and state.last_bad_ms is not None:
        due.append(state.last_bad_ms + rules.auto_restore_after_ms)
    return min(due) if due else None


def advance(state: StoreState, now_ms: int, rules: OrderRules) -> list[Emit]:
    """Process every deadline up to ``now_ms`` in event-time order; return the alerts and visibility changes."""
    lead = rules.lead_ms(state.city)
    tl = _timeline(state, rules)
    points: dict[int, set[tuple[str, int]]] = {}
    forget: list[str] = []
    while tl and tl[0][0] <= now_ms:
        t, flag, oid = heapq.heappop(tl)
        f = state.orders.get(oid)
        if flag == 0:
            forget.append(oid)
        elif f is None:
            continue
        elif (t, flag) in change_points(f, rules.accept_timeout_ms, lead).pending(f.flags):  # else: stale
            points.setdefault(t, set()).add((oid, flag))
    out: list[Emit] = []
    for t in sorted(points):
        worse = False
        for oid, flag in sorted(points[t]):
            f = state.orders[oid]
            f.flags |= flag
            if oid in state.excluded:
                continue
            if flag == F_PROMISE_CHECKED:
                if late_since_ms(f) == t:
                    courier = handed_over_in_time(f, lead)  # handed over in time: the courier is late
                    worse = worse or not courier
                    _count(state, t, 2)
                    if not f.flags & F_LATE_ALERTED:
                        f.flags |= F_LATE_ALERTED
                        out.append(order_alert(state, oid, "order_late", "HANDED_OVER_IN_TIME" if courier
                                                else None, t))
            else:
                reason = at_risk_reason(f, t, rules.accept_timeout_ms, lead)
                if reason:
                    worse = True
                    if not f.flags & F_AT_RISK_ALERTED:
                        f.flags |= F_AT_RISK_ALERTED
                        out.append(order_alert(state, oid, "order_at_risk", reason, t))
        if worse:
            if state.hidden:
                state.last_bad_ms = t
            else:
                out.extend(_maybe_hide(state, t, rules))
    if state.hidden and rules.auto_restore_after_ms and state.last_bad_ms is not None:
        quiet_end = state.last_bad_ms + rules.auto_restore_after_ms
        if quiet_end <= now_ms:
            out.extend(_restore(state, quiet_end, rules, by=None, note="quiet period passed",
                                reason="AUTO_RESTORE_QUIET", source="auto"))
    _forget(state, forget, now_ms, rules)
    state.clock_ms = max(state.clock_ms, now_ms)
    return out


def _maybe_hide(state: StoreState, t: int, rules: OrderRules) -> list[Emit]:
    late, at_risk = counts_at(state, t, rules)
    decision = evaluate_store(len(late), len(at_risk), rules.hide, hidden=state.hidden)
    if not decision.hides:
        return []
    state.hidden, state.incident, state.hidden_at_ms, state.last_bad_ms = True, state.incident + 1, t, t
    state.evidence_late, state.evidence_at_risk = late, at_risk
    return hide_outputs(state, decision.value, late, at_risk, t)


def reconsider(state: StoreState, order_id: str, at_ms: int, rules: OrderRules) -> list[Emit]:
    """After an event of ``order_id`` (at ``at_ms``) was applied: resolve the order's alerts that its facts now
    contradict (delivered or cancelled by its deadline, or accepted and dispatched in time after all: reason
    ``RETRACTED``), and restore a store whose hide no longer holds (``EVIDENCE_RETRACTED``, see
    ``recheck_hide``). Events read late, such as a partner's backfill after an outage, end here."""
    f = state.orders.get(order_id)
    out: list[Emit] = []
    if f is not None and f.flags & F_AT_RISK_ALERTED and not f.flags & F_AT_RISK_RETRACTED:
        lead = rules.lead_ms(state.city)
        judged = [t for t, flag in change_points(f, rules.accept_timeout_ms, lead).points
                  if flag in (F_ACCEPT_CHECKED, F_DISPATCH_CHECKED) and f.flags & flag]
        if not any(at_risk_reason(f, t, rules.accept_timeout_ms, lead) for t in judged):
            f.flags |= F_AT_RISK_RETRACTED
            out.append(retraction(state, order_id, "order_at_risk", at_ms))
    if f is not None and f.flags & F_LATE_ALERTED and not f.flags & F_LATE_RETRACTED and late_since_ms(f) is None:
        f.flags |= F_LATE_RETRACTED
        row = state.days.get(f.promised_ms - f.promised_ms % DAY_MS)
        if row and row[2] > 0:
            row[2] -= 1
        out.append(retraction(state, order_id, "order_late", at_ms))
    if state.hidden and (out or f is None):
        out.extend(recheck_hide(state, at_ms, rules))
    return out


def recheck_hide(state: StoreState, at_ms: int, rules: OrderRules) -> list[Emit]:
    """Restore a hidden store (``EVIDENCE_RETRACTED``) when, with the facts known now, the hide rule held neither
    when it was hidden nor at its clock: later events showed its orders were on time, or moved them to another
    store. The orders keep counting (unlike a manual restore), so a store that really fails is hidden again."""
    if not state.hidden or state.hidden_at_ms is None:
        return []
    for t in (state.hidden_at_ms, max(state.hidden_at_ms, state.clock_ms)):
        late, at_risk = counts_at(state, t, rules)
        if evaluate_store(len(late), len(at_risk), rules.hide, hidden=False).hides:
            return []
    return _restore(state, max(at_ms, state.hidden_at_ms), rules, by=None, reason="EVIDENCE_RETRACTED",
                    source="auto", note="later events showed the evidence did not hold", exclude=False)


def restore(state: StoreState, *, by: str, note: str, at_ms: int, rules: OrderRules) -> list[Emit]:
    """An operator restores a hidden store; orders counted so far never count again. No-op if not hidden."""
    if not state.hidden:
        return []
    return _restore(state, at_ms, rules, by=by, note=note, reason="MANUAL_RESTORE", source="manual")


def _restore(state: StoreState, at_ms: int, rules: OrderRules, *, by: str | None, note: str, reason: str,
             source: str, exclude: bool = True) -> list[Emit]:
    late, at_risk = counts_at(state, at_ms, rules)
    for oid in {*late, *at_risk, *state.evidence_late, *state.evidence_at_risk} if exclude else ():
        f = state.orders.get(oid)
        if f is not None:
            state.excluded[oid] = forget_at_ms(f, rules.late_window_ms, rules.retention_ms)
    state.hidden, state.last_bad_ms = False, None
    return restore_outputs(state, late, at_risk, at_ms, by=by, note=note, reason=reason, source=source)


def _forget(state: StoreState, candidates: list[str], now_ms: int, rules: OrderRules) -> None:
    """Forget orders past their retention; settle finished ones that can no longer count (keep only the id)."""
    for oid in candidates:
        f = state.orders.get(oid)
        if f is None:
            if state.done.get(oid, now_ms + 1) <= now_ms:
                del state.done[oid]
            continue
        forget_ms = forget_at_ms(f, rules.late_window_ms, rules.retention_ms)
        if forget_ms <= now_ms:
            del state.orders[oid]
        elif f.finished_by(now_ms):
            if is_late(f, now_ms, rules.late_window_ms):  # still counts: settle when the late window ends
                heapq.heappush(_timeline(state, rules), (f.promised_ms + rules.late_window_ms, 0, oid))
            else:
                del state.orders[oid]
                state.done[oid] = forget_ms
                heapq.heappush(_timeline(state, rules), (forget_ms, 0, oid))
    for oid in [o for o, until in state.excluded.items() if until <= now_ms]:
        del state.excluded[oid]
    for day in [d for d in state.days if d + DAYS_KEPT_MS <= now_ms]:
        del state.days[day]
