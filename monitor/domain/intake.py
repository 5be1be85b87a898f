"""What ingest refuses before any clock or window sees it: event times ahead of the wall clock, promises too far
out, a repeated ``event_id`` with other contents; and what it does with an order that names another store.

Pure: the wall clock is passed in (``wall_ms``). Each check returns a ``Refusal`` with the words a person needs,
or None.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["Refusal", "RefusalCode", "future_refusal", "promise_refusal", "format_span_ms", "OrderRegistry",
           "Seen", "SeenOutcome"]


class RefusalCode(enum.StrEnum):
    """Why an input event is dead-lettered although it fits its contract."""

    FUTURE_EVENT_TIME = "FUTURE_EVENT_TIME"  # event time ahead of the wall clock by more than max_future_skew
    PROMISE_TOO_FAR = "PROMISE_TOO_FAR"  # promised_at more than max_promise_horizon after occurred_at
    DUPLICATE_EVENT_ID = "DUPLICATE_EVENT_ID"  # an event_id seen before, with other contents
    STALE_REASSIGNMENT = "STALE_REASSIGNMENT"  # names a store the order already moved away from, older than the move
    TOO_OLD = "TOO_OLD"  # older than what its window still counts (judged by the store and city agents)
    STORE_FULL = "STORE_FULL"  # a new order or review of a store that holds max_orders / max_reviews_per_store


@dataclass(frozen=True, slots=True)
class Refusal:
    code: RefusalCode
    detail: str

    def reason(self, topic: str) -> str:
        """The dead letter's ``error``: ``<topic>: <CODE>: <detail>`` (the code is the metric's label)."""
        return f"{topic}: {self.code.value}: {self.detail}"


def format_span_ms(ms: int) -> str:
    """A duration for people: ``3 h 0 min 12 s``, ``27,054 d``."""
    s = abs(ms) // 1000
    if s >= 3 * 86_400:
        return f"{s // 86_400:,} d"
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if h or m else "", f"{sec} s") if p)


def future_refusal(field_name: str, event_ms: int, wall_ms: int, max_future_skew_ms: int) -> Refusal | None:
    """Refuse an event time more than ``max_future_skew_ms`` ahead of the wall clock: one such event would move
    every clock it reaches into the future (every open order late, every window emptied)."""
    skew_ms = event_ms - wall_ms
    if skew_ms <= max_future_skew_ms:
        return None
    return Refusal(RefusalCode.FUTURE_EVENT_TIME,
                   f"{field_name} is {format_span_ms(skew_ms)} ahead of the wall clock (skew {skew_ms} ms, "
                   f"more than max_future_skew {format_span_ms(max_future_skew_ms)})")


def promise_refusal(occurred_ms: int, promised_ms: int, max_horizon_ms: int) -> Refusal | None:
    """Refuse a promise further from the event than ``max_horizon_ms``: an order promised decades out would stay
    at risk, and in state, for decades."""
    if promised_ms - occurred_ms <= max_horizon_ms:
        return None
    return Refusal(RefusalCode.PROMISE_TOO_FAR,
                   f"promised_at is {format_span_ms(promised_ms - occurred_ms)} after occurred_at (more than "
                   f"max_promise_horizon {format_span_ms(max_horizon_ms)})")


class SeenOutcome(enum.Enum):
    """What one order event is, given the order's earlier events read from the same source partition."""

    NEW = "NEW"  # an event id not seen for this order: apply it
    REPEAT = "REPEAT"  # the same event id with the same contents: harmless (facts merge), applied again
    MOVED = "MOVED"  # names another store or city than the order's current one, not older than its last move
    REFUSED = "REFUSED"  # dead-letter it (see ``Seen.refusal``)


@dataclass(frozen=True, slots=True)
class Seen:
    outcome: SeenOutcome
    previous: tuple[str, str] | None = None  # MOVED: the (store, city) the order leaves
    refusal: Refusal | None = None


@dataclass(slots=True)
class _Order:
    store: tuple[str, str]
    since_ms: int  # event time the order came to this store (its first event, or the move)
    last_ms: int  # newest event time of the order
    events: dict[int, int] = field(default_factory=dict)  # hash of the event id -> digest of its contents


class OrderRegistry:
    """The recent orders of one source partition: which store each belongs to now, and the ids of its events.

    Input is keyed by ``order_id``, so one source partition carries all of an order's events. Bounded: an order
    is forgotten ``keep_ms`` of event time after its newest event, and beyond ``max_orders`` the least recently
    seen goes first; an order keeps at most ``max_events`` event ids (real orders have about six).
    """

    def __init__(self, keep_ms: int, max_orders: int = 20_000, max_events: int = 32) -> None:
        self.keep_ms, self.max_orders, self.max_events = keep_ms, max_orders, max_events
        self._orders: OrderedDict[str, _Order] = OrderedDict()

    def __len__(self) -> int:
        return len(self._orders)

    def see(self, order_id: str, event_id: str, store: tuple[str, str], digest: int, at_ms: int) -> Seen:
        """Record one event of ``order_id`` (``digest``: a hash of what it says) and say what it is."""
        order = self._orders.get(order_id)
        if order is None:
            self._orders[order_id] = _Order(store, at_ms, at_ms, {hash(event_id): digest})
            if len(self._orders) > self.max_orders:
                self._orders.popitem(last=False)
            return Seen(SeenOutcome.NEW)
        self._orders.move_to_end(order_id)
        eid = hash(event_id)  # ints, not the ids: memory per order stays small (about six events each)
        known = order.events.get(eid)
        if known is not None:
            if known == digest:
                return Seen(SeenOutcome.REPEAT)
            return Seen(SeenOutcome.REFUSED, refusal=Refusal(
                RefusalCode.DUPLICATE_EVENT_ID,
                f"event_id {event_id!r} of order {order_id!r} was read before with other contents "
                "(an event id names one status change)"))
        if store != order.store and at_ms < order.since_ms:
            return Seen(SeenOutcome.REFUSED, refusal=Refusal(
                RefusalCode.STALE_REASSIGNMENT,
                f"order {order_id!r} moved to store {order.store[0]!r} ({order.store[1]}) at {order.since_ms} ms; "
                f"this older event names {store[0]!r} ({store[1]})"))
        if len(order.events) < self.max_events:
            order.events[eid] = digest
        order.last_ms = max(order.last_ms, at_ms)
        if store != order.store:
            previous, order.store, order.since_ms = order.store, store, at_ms
            return Seen(SeenOutcome.MOVED, previous=previous)
        return Seen(SeenOutcome.NEW)

    def expire(self, now_ms: int) -> None:
        """Forget orders whose newest event is more than ``keep_ms`` before ``now_ms`` (least recent first)."""
        cutoff = now_ms - self.keep_ms
        while self._orders:
            oid, order = next(iter(self._orders.items()))
            if order.last_ms >= cutoff:
                return
            del self._orders[oid]
