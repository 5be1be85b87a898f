"""One variant of the monitor's rules run in-process: the worker's decisions, without Kafka, Faust or RocksDB.

The worker's outputs are a function of the events, not of how they were batched, interleaved or paced
(``tests/integration/test_determinism.py``): each input topic has an event-time clock that moves only to a time
every source partition has reached, a store's deadlines are judged when the clock passes them, and its reviews
are counted in ``created_at`` order behind the review clock; the cities are judged behind a watermark of every
store partition. This engine keeps one clock per input topic over the sources it is told of and calls the same
``monitor.domain`` functions at the same points:

- an order event: ``apply_order_event`` then ``reconsider``; its delivery counts for the city's courier lateness;
  then every store whose next deadline the order clock passed is judged (``advance``), as the store agent does
  after each batch;
- a review: ``hold_store_review`` (a negative one is reported at once), then the stores whose pending reviews or
  change points the review clock passed are judged (``judge_store_until``) and what they counted goes to the
  city, judged up to the same clock (``judge_city_until``);
- the cities' courier lateness is judged up to the order clock each time it enters a new hour (its window only
  changes at hour ends: ``monitor.domain.lateness.evaluation_times``), and at the end.

At the end of the input every clock is the largest event time of its topic, as a worker's is once its sources are
idle and the stream is history (a live stream's clocks would follow the wall clock further).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable

from monitor.backtest.clock import SourceClock
from monitor.domain.intake import RefusalCode
from monitor.domain.lateness import CityLatenessRule, CityLatenessState, add_deliveries, judge_until
from monitor.domain.negativity import (
    NegativityState,
    city_due,
    hold_city_review,
    hold_store_review,
    judge_city_until,
    judge_store_until,
    negative_review_alert,
    next_store_due_ms,
)
from monitor.domain.orders import OrderRules, delivery_hour
from monitor.domain.outputs import Emit
from monitor.domain.reviews import NegativityRule, RepeatRule, is_negative
from monitor.domain.store_state import StoreState, store_key
from monitor.domain.stores import Applied, advance, apply_order_event, next_due_ms, reconsider, restore
from monitor.domain.units import HOUR_MS
from monitor.eventtime.clock import NEVER
from monitor.eventtime.deadlines import DueHeap
from monitor.settings import Settings
from monitor.wire.protocol import OrderEvent, ReviewEvent

__all__ = ["OrderSide", "ReviewSide"]


class OrderSide:
    """The order rules of one variant: stores (hide, restore, order alerts) and the cities' courier lateness."""

    def __init__(self, settings: Settings, sink: Callable[[Emit], None], sources: int = 1) -> None:
        self.sink = sink
        self.orders = OrderRules.from_settings(settings)
        self.lateness = CityLatenessRule.from_settings(settings)
        self.clock = SourceClock(sources)
        self.stores: dict[bytes, StoreState] = {}
        self.store_due = DueHeap()
        self.city_lateness: dict[str, CityLatenessState] = {}
        self.lateness_hour = NEVER  # the hour of the order clock the cities' lateness was last judged in
        self.refused: Counter[str] = Counter()  # what the worker would dead-letter here, by reason code
        self.ignored: Counter[str] = Counter()  # restores of stores that are not hidden
        self.restores: list[tuple[int, int, str, str, str, str]] = []  # (at, seq, store, city, by, note)
        self._seq = 0

    @staticmethod
    def rules_of(settings: Settings) -> tuple:
        """What the outputs of this side depend on: variants equal in it share one side."""
        return (repr(OrderRules.from_settings(settings)), CityLatenessRule.from_settings(settings))

    def order(self, event: OrderEvent, source: int = 0) -> None:
        now = self.clock.on_event(source, event.occurred_ms)
        key = store_key(event.store_id, event.city)
        state = self.stores.get(key) or StoreState(event.store_id, event.city)
        state.clock_ms = max(state.clock_ms, now)
        applied = apply_order_event(state, event.order_id, event.status, event.occurred_ms, event.promised_ms,
                                    self.orders)
        if applied is Applied.TOO_OLD or applied is Applied.STORE_FULL:
            self.refused[f"order-status: {RefusalCode(applied.value).value}"] += 1
            self._advance(now)  # the store agent judges what is due after every message, refused or not
            return
        self.stores[key] = state
        if applied is Applied.DELIVERED:
            hour_ms, late = delivery_hour(state.orders[event.order_id], self.orders.lead_ms(state.city))
            city = self.city_lateness.get(state.city) or self.city_lateness.setdefault(
                state.city, CityLatenessState(state.city))
            if not add_deliveries(city, hour_ms, 1, int(late), self.lateness):
                self.refused["deliveries-by-city: TOO_OLD"] += 1
        self._emit(reconsider(state, event.order_id, event.occurred_ms, self.orders))
        self.store_due.schedule(key, next_due_ms(state, self.orders))
        self._advance(now)

    def restore(self, store_id: str, city: str, *, by: str, note: str, at_ms: int) -> None:
        """An operator's restore (``store-commands``), applied when the order clock reaches its time: a live worker
        takes a command as it comes, when its stores' clocks are at about that time (a dump lists the few
        commands wherever they were polled, often before the orders they follow)."""
        self._seq += 1
        heapq.heappush(self.restores, (at_ms, self._seq, store_id, city, by, note))

    def _restore(self, at_ms: int, store_id: str, city: str, by: str, note: str) -> None:
        key = store_key(store_id, city)
        state = self.stores.get(key)
        if state is None:  # the worker dead-letters it: the sender has the id or the city wrong
            self.refused["store-commands: restore of an unknown store"] += 1
        elif not state.hidden:
            self.ignored["store-commands: restore of a store that is not hidden"] += 1
        else:
            self._emit(restore(state, by=by, note=note, at_ms=at_ms, rules=self.orders))
            self.store_due.schedule(key, next_due_ms(state, self.orders))

    def end_source(self, source: int) -> None:
        self._advance(self.clock.end(source))

    def finish(self) -> None:
        now = self.clock.finish()
        self._advance(now)
        if now != NEVER:
            self._judge_lateness(now)
        while self.restores:  # commands after the last order: taken as they would come
            at_ms, _, store_id, city, by, note = heapq.heappop(self.restores)
            self._restore(at_ms, store_id, city, by, note)

    def _advance(self, now: int) -> None:
        if now == NEVER:
            return
        while self.restores and self.restores[0][0] <= now:
            at_ms, _, store_id, city, by, note = heapq.heappop(self.restores)
            self._judge_due(at_ms)
            self._restore(at_ms, store_id, city, by, note)
        self._judge_due(now)
        hour = now - now % HOUR_MS
        if hour != self.lateness_hour:
            self.lateness_hour = hour
            self._judge_lateness(now)

    def _judge_due(self, now: int) -> None:
        for key in self.store_due.pop_due(now):
            state = self.stores.get(key)
            if state is None:
                continue
            self._emit(advance(state, now, self.orders))
            if state.is_empty():
                del self.stores[key]
            else:
                self.store_due.schedule(key, next_due_ms(state, self.orders))

    def _judge_lateness(self, now: int) -> None:
        for city in sorted(self.city_lateness):
            self._emit(judge_until(self.city_lateness[city], now, self.lateness))

    def _emit(self, emits: list[Emit]) -> None:
        for e in emits:
            self.sink(e)


class ReviewSide:
    """The review rules of one variant: negative reviews, store and city negativity, repeat offenders."""

    def __init__(self, settings: Settings, sink: Callable[[Emit], None], sources: int = 1) -> None:
        self.sink = sink
        self.store_rule = NegativityRule.from_settings(settings)
        self.city_rule = NegativityRule.from_settings(settings, city=True)
        self.repeat = RepeatRule.from_settings(settings)
        self.negative_max_rating = settings.negative_max_rating
        self.clock = SourceClock(sources)
        self.store_reviews: dict[bytes, NegativityState] = {}
        self.review_due = DueHeap()
        self.city_reviews: dict[str, NegativityState] = {}
        self.city_mark = NEVER  # the review clock the cities were last judged up to
        self.refused: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()  # what the worker takes without counting (a repeated review)

    @staticmethod
    def rules_of(settings: Settings) -> tuple:
        """What the outputs of this side depend on: variants equal in it share one side."""
        return (NegativityRule.from_settings(settings), NegativityRule.from_settings(settings, city=True),
                RepeatRule.from_settings(settings), settings.negative_max_rating)

    def review(self, event: ReviewEvent, source: int = 0) -> None:
        now = self.clock.on_event(source, event.created_ms)
        key = store_key(event.store_id, event.city)
        state = self.store_reviews.get(key) or NegativityState(event.city, event.store_id)
        negative = is_negative(event.rating, self.negative_max_rating)
        outcome = hold_store_review(state, event.review_id, negative, event.created_ms, now, self.store_rule)
        if outcome == "PENDING":
            if negative:
                self._emit([negative_review_alert(review_id=event.review_id, order_id=event.order_id,
                                                  store_id=event.store_id, city=event.city, rating=event.rating,
                                                  text=event.text, created_ms=event.created_ms)])
            self.store_reviews[key] = state
            self.review_due.schedule(key, next_store_due_ms(state, self.store_rule))
        elif outcome in ("TOO_OLD", "STORE_FULL"):
            self.store_reviews[key] = state
            self.refused[f"reviews: {outcome}"] += 1
        else:
            self.ignored[f"reviews: {outcome}"] += 1
        self._judge_reviews(now)

    def _judge_reviews(self, now: int) -> None:
        if now == NEVER:
            return
        for key in self.review_due.pop_due(now):
            state = self.store_reviews.get(key)
            if state is None:
                continue
            emits, counted = judge_store_until(state, now, self.store_rule, self.repeat)
            self._emit(emits)
            if counted:
                self._to_city(state.city, counted)
            if state.is_empty():
                del self.store_reviews[key]
            else:
                self.review_due.schedule(key, next_store_due_ms(state, self.store_rule))
        if now > self.city_mark:  # the review clock moved: a progress marker, and every city due is judged
            for city in sorted(self.city_reviews):
                state = self.city_reviews[city]
                if city_due(state, now, self.city_rule):
                    self._emit(judge_city_until(state, now, self.city_rule))
        self.city_mark = max(self.city_mark, now)

    def _to_city(self, city: str, counted: list[list]) -> None:
        state = self.city_reviews.get(city) or self.city_reviews.setdefault(city, NegativityState(city))
        for review_id, created_ms, negative in counted:
            outcome = hold_city_review(state, review_id, bool(negative), created_ms, self.city_mark, self.city_rule)
            if outcome == "TOO_OLD":
                self.refused["reviews-by-city: TOO_OLD"] += 1
        if city_due(state, self.city_mark, self.city_rule):  # reviews the cities were judged past already
            self._emit(judge_city_until(state, self.city_mark, self.city_rule))

    def end_source(self, source: int) -> None:
        self._judge_reviews(self.clock.end(source))

    def finish(self) -> None:
        self._judge_reviews(self.clock.finish())

    def _emit(self, emits: list[Emit]) -> None:
        for e in emits:
            self.sink(e)
