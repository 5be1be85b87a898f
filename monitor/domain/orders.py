"""Late and at-risk orders, and when to hide a store: pure functions of order facts and an event time in ms."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.domain.units import DAY_MS, HOUR_MS

__all__ = [
    "STATUS_RANK",
    "OrderFacts",
    "OrderRules",
    "OrderTimers",
    "apply_status",
    "late_since_ms",
    "status_at",
    "is_late",
    "courier_late",
    "handed_over_in_time",
    "is_store_late",
    "at_risk_reason",
    "change_points",
    "forget_at_ms",
    "HideRule",
    "HideDecision",
    "evaluate_store",
]

STATUS_RANK = {"created": 0, "accepted": 1, "assembled": 2, "in_delivery": 3, "delivered": 4, "cancelled": 5}
_ACCEPTED_OR_LATER = frozenset({"accepted", "assembled", "in_delivery", "delivered"})
_DISPATCHED_OR_LATER = frozenset({"in_delivery", "delivered"})

# Flags: what has already been decided for an order, so that each decision happens once.
F_ACCEPT_CHECKED = 1  # the accept deadline was evaluated
F_DISPATCH_CHECKED = 2  # the dispatch deadline was evaluated
F_PROMISE_CHECKED = 4  # the promised deadline was evaluated
F_AT_RISK_ALERTED = 8
F_LATE_ALERTED = 16
F_COUNTED_CREATED = 32  # daily totals
F_COUNTED_DELIVERED = 64
F_COUNTED_CANCELLED = 128
F_LATE_RETRACTED = 256  # its order_late was contradicted by a later-arriving event and resolved
F_AT_RISK_RETRACTED = 512  # its order_at_risk likewise


def _min(a: int | None, b: int) -> int:
    return b if a is None or b < a else a


@dataclass(slots=True)
class OrderFacts:
    """What is known about one order: the earliest time each stage was reached, and its promise.

    Facts merge by taking the earliest time per stage, so duplicates and reordered events give the same facts.
    """

    promised_ms: int
    promise_from_ms: int  # event time of the event that carried promised_ms (the newest promise wins)
    created_ms: int
    accepted_ms: int | None = None  # accepted, or any later stage, first seen at
    dispatched_ms: int | None = None  # in_delivery or delivered
    delivered_ms: int | None = None
    cancelled_ms: int | None = None
    rank: int = 0  # highest status rank seen (forward only)
    flags: int = 0

    def to_list(self) -> list[int | None]:
        return [self.promised_ms, self.promise_from_ms, self.created_ms, self.accepted_ms, self.dispatched_ms,
                self.delivered_ms, self.cancelled_ms, self.rank, self.flags]

    @classmethod
    def from_list(cls, v: list[int | None]) -> OrderFacts:
        return cls(*v)  # type: ignore[arg-type]

    @property
    def status(self) -> str:
        return next(s for s, r in STATUS_RANK.items() if r == self.rank)

    def finished_by(self, t_ms: int) -> bool:
        return (self.delivered_ms is not None and self.delivered_ms <= t_ms) or (
            self.cancelled_ms is not None and self.cancelled_ms <= t_ms
        )


def apply_status(facts: OrderFacts | None, status: str, at_ms: int, promised_ms: int) -> OrderFacts:
    """Merge one status event into the facts (returns them, created if needed); never moves status back."""
    if facts is None:
        facts = OrderFacts(promised_ms=promised_ms, promise_from_ms=at_ms, created_ms=at_ms)
    else:
        facts.created_ms = min(facts.created_ms, at_ms)
        if at_ms > facts.promise_from_ms:  # a later event may carry a re-negotiated deadline
            facts.promised_ms, facts.promise_from_ms = promised_ms, at_ms
    if status in _ACCEPTED_OR_LATER:
        facts.accepted_ms = _min(facts.accepted_ms, at_ms)
    if status in _DISPATCHED_OR_LATER:
        facts.dispatched_ms = _min(facts.dispatched_ms, at_ms)
    if status == "delivered":
        facts.delivered_ms = _min(facts.delivered_ms, at_ms)
    elif status == "cancelled":
        facts.cancelled_ms = _min(facts.cancelled_ms, at_ms)
    facts.rank = max(facts.rank, STATUS_RANK[status])
    return facts


def status_at(f: OrderFacts, t_ms: int) -> str:
    """The order's status as of ``t_ms`` from its facts (not the newest status seen)."""
    if f.cancelled_ms is not None and f.cancelled_ms <= t_ms:
        return "cancelled"
    if f.delivered_ms is not None and f.delivered_ms <= t_ms:
        return "delivered"
    if f.dispatched_ms is not None and f.dispatched_ms <= t_ms:
        return "in_delivery"
    if f.accepted_ms is not None and f.accepted_ms <= t_ms:
        return "accepted"
    return "created"


def late_since_ms(f: OrderFacts) -> int | None:
    """When the order became late (its deadline), or None if it was delivered or cancelled in time."""
    if f.delivered_ms is not None and f.delivered_ms <= f.promised_ms:
        return None
    if f.cancelled_ms is not None and f.cancelled_ms <= f.promised_ms:
        return None
    return f.promised_ms


def is_late(f: OrderFacts, t_ms: int, window_ms: int) -> bool:
    """Late at ``t_ms``: the deadline passed before delivery, within the rolling window, not cancelled since."""
    since = late_since_ms(f)
    if since is None or t_ms < since or t_ms >= f.promised_ms + window_ms:
        return False
    return not (f.cancelled_ms is not None and f.cancelled_ms <= t_ms)


def handed_over_in_time(f: OrderFacts, dispatch_lead_ms: int) -> bool:
    """The store handed the order to the courier (in delivery) at or before its dispatch deadline, the moment
    ``at_risk_reason`` would call it NOT_DISPATCHED."""
    return f.dispatched_ms is not None and f.dispatched_ms <= f.promised_ms - dispatch_lead_ms


def is_store_late(f: OrderFacts, t_ms: int, window_ms: int, dispatch_lead_ms: int) -> bool:
    """Late at ``t_ms`` by the store's fault: late, and not handed to the courier by the dispatch deadline.

    An order the store handed over in time and the courier delivered late is the courier's lateness: the
    customer still gets an ``order_late``, but it should not count towards hiding the store (a city with slow
    couriers would otherwise hide its punctual stores); it belongs to a city-level lateness count.
    """
    return is_late(f, t_ms, window_ms) and not handed_over_in_time(f, dispatch_lead_ms)


def courier_late(f: OrderFacts, dispatch_lead_ms: int) -> bool:
    """Delivered after its deadline although the store handed it to the courier in time: the courier's delay."""
    return f.delivered_ms is not None and f.delivered_ms > f.promised_ms and handed_over_in_time(f, dispatch_lead_ms)


def delivery_hour(f: OrderFacts, dispatch_lead_ms: int) -> tuple[int, bool]:
    """Where a delivered order counts for its city's courier lateness: the hour of its delivery, and whether the
    courier was late."""
    assert f.delivered_ms is not None, "only a delivered order counts"
    return f.delivered_ms - f.delivered_ms % HOUR_MS, courier_late(f, dispatch_lead_ms)


def at_risk_reason(f: OrderFacts, t_ms: int, accept_timeout_ms: int, dispatch_lead_ms: int) -> str | None:
    """Why the order is at risk at ``t_ms`` (NOT_ACCEPTED or NOT_DISPATCHED), or None.

    At risk means open, not yet late, and either not accepted ``accept_timeout`` after creation or not in
    delivery ``dispatch_lead`` before the deadline.
    """
    if t_ms < f.created_ms or t_ms >= f.promised_ms or f.finished_by(t_ms):
        return None
    if (f.accepted_ms is None or f.accepted_ms > t_ms) and t_ms >= f.created_ms + accept_timeout_ms:
        return "NOT_ACCEPTED"
    if (f.dispatched_ms is None or f.dispatched_ms > t_ms) and t_ms >= f.promised_ms - dispatch_lead_ms:
        return "NOT_DISPATCHED"
    return None


@dataclass(frozen=True, slots=True)
class OrderTimers:
    """The event times at which an order's classification may get worse, with the flag that marks each done."""

    points: tuple[tuple[int, int], ...]  # (time ms, flag), sorted

    def pending(self, flags: int) -> list[tuple[int, int]]:
        return [(t, flag) for t, flag in self.points if not flags & flag]


def change_points(f: OrderFacts, accept_timeout_ms: int, dispatch_lead_ms: int) -> OrderTimers:
    """Accept deadline, dispatch deadline and promised deadline of an order."""
    points = sorted([
        (f.created_ms + accept_timeout_ms, F_ACCEPT_CHECKED),
        (max(f.created_ms, f.promised_ms - dispatch_lead_ms), F_DISPATCH_CHECKED),
        (f.promised_ms, F_PROMISE_CHECKED),
    ])
    return OrderTimers(tuple(points))


def forget_at_ms(f: OrderFacts, late_window_ms: int, retention_ms: int) -> int:
    """When the order can leave state: it no longer counts and its retention has passed."""
    return f.promised_ms + max(late_window_ms, retention_ms)


@dataclass(frozen=True, slots=True)
class HideRule:
    """Hide a store with at least ``min_late`` late orders and at least ``min_total`` late + at-risk orders."""

    min_late: int = 5
    min_total: int = 8


class HideDecision(enum.StrEnum):
    """Why a store is (or is not) hidden."""

    HIDE_LATE_AND_AT_RISK = "HIDE_LATE_AND_AT_RISK"  # e.g. 5 late + 3 at risk
    HIDE_LATE = "HIDE_LATE"  # late orders alone reach the total, e.g. 8 late
    ALREADY_HIDDEN = "ALREADY_HIDDEN"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"

    @property
    def hides(self) -> bool:
        return self in (HideDecision.HIDE_LATE_AND_AT_RISK, HideDecision.HIDE_LATE)


def evaluate_store(late: int, at_risk: int, rule: HideRule, *, hidden: bool) -> HideDecision:
    """The hide decision for a store's current late and at-risk counts."""
    if hidden:
        return HideDecision.ALREADY_HIDDEN
    if late >= rule.min_late and late + at_risk >= rule.min_total:
        return HideDecision.HIDE_LATE if late >= rule.min_total else HideDecision.HIDE_LATE_AND_AT_RISK
    return HideDecision.BELOW_THRESHOLD


@dataclass(frozen=True, slots=True)
class OrderRules:
    """The order settings in milliseconds, as the rules use them."""

    accept_timeout_ms: int = 15 * 60_000
    dispatch_lead_ms: int = 60 * 60_000
    dispatch_lead_by_city_ms: Mapping[str, int] = field(default_factory=dict)
    late_window_ms: int = DAY_MS
    retention_ms: int = 3 * DAY_MS
    hide: HideRule = HideRule()
    auto_restore_after_ms: int = 0  # 0 = never
    max_orders: int = 3_000  # per store: its state must fit one Kafka message

    @classmethod
    def from_settings(cls, s: Any) -> OrderRules:
        def ms(td: Any) -> int:
            return int(td.total_seconds() * 1000)

        return cls(
            accept_timeout_ms=ms(s.accept_timeout), dispatch_lead_ms=ms(s.dispatch_lead),
            dispatch_lead_by_city_ms={c: ms(td) for c, td in s.dispatch_lead_by_city.items()},
            late_window_ms=ms(s.late_window), retention_ms=ms(s.order_retention),
            hide=HideRule(s.hide_min_late, s.hide_min_late_plus_at_risk),
            auto_restore_after_ms=ms(s.auto_restore_after), max_orders=s.max_orders_per_store,
        )

    def lead_ms(self, city: str) -> int:
        return self.dispatch_lead_by_city_ms.get(city, self.dispatch_lead_ms)
