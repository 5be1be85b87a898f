"""Agent over reviews by store (batches and heartbeats from ``monitor/worker/ingest.py``): report each negative review at
once, hold every review until the partition's review clock passes it, then count and judge each store's reviews in
``created_at`` order (``rules.negativity.judge_store_until``), and send what each city counts on to
``<app>-reviews-by-city``, one message per city, then a progress marker (the review clock) to every city partition
(``monitor/eventtime/watermark.py``).

The review clock is a ``PartitionClock`` over the ``reviews`` source partitions, as the order clock is over
``order-status``: it moves only to a time every source has reached, so the store's alerts are a function of its
reviews, not of how many ingests sent them or in what interleaving. A store is also judged when the clock passes
its next change point (its oldest day leaves the window, or its alert has fired for ``min_firing``), so an alert
resolves, and old days are dropped, without waiting for the store's next review; a store left with nothing is
deleted."""

from __future__ import annotations

import time
from typing import Any

import orjson

from monitor.domain.intake import RefusalCode, format_span_ms
from monitor.domain.negativity import (
    NegativityState,
    hold_store_review,
    judge_store_until,
    negative_review_alert,
    next_store_due_ms,
)
from monitor.domain.outputs import iso_from_ms
from monitor.domain.reviews import NegativityRule, RepeatRule, is_negative
from monitor.domain.store_state import store_key
from monitor.eventtime.clock import NEVER, PartitionClock
from monitor.eventtime.deadlines import DueHeap
from monitor.logs import get_logger
from monitor.wire.protocol import BatchHead, CityReview, ProgressMarker, ReviewEvent, read_header, unpack
from monitor.worker.agents.bounds import bound_clock, partition_clock
from monitor.worker.agents.guard import contain, own_faults, packed_origin
from monitor.worker.app import app, settings
from monitor.worker.counters import PROCESSED
from monitor.worker.deadletters import Origin, send_to_dead_letters
from monitor.worker.faust_adapter import on_partitions_assigned
from monitor.worker.publish import publish
from monitor.worker.tables.reviews import store_reviews
from monitor.worker.topics import reviews_by_city, reviews_by_store

__all__ = ["store_reviews_agent", "review_clock_ms"]

log = get_logger("monitor.worker.agents.store_reviews")
RULE = NegativityRule.from_settings(settings)
REPEAT = RepeatRule.from_settings(settings)
_MAX_AHEAD_MS = int(settings.max_future_skew.total_seconds() * 1000)
_clocks: dict[int, PartitionClock] = {}  # per partition: the review clock
_marked_ms: dict[int, int] = {}  # per partition: the progress last sent to the city partitions
_due: dict[int, DueHeap] = {}  # per partition: when each store next needs judging
_rebuild_needed = True
_assigned_wall_ms = 0  # wall time of the last (re)assignment: the clocks ignore older heartbeats (stale)


@on_partitions_assigned(app)
async def _on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
    global _rebuild_needed
    _rebuild_needed = True


def _due_heap(partition: int) -> DueHeap:
    """The partition's heap of due times (made once: this runs for every review)."""
    heap = _due.get(partition)
    if heap is None:
        heap = _due[partition] = DueHeap()
    return heap


def _clock(partition: int) -> PartitionClock:
    clock = _clocks.get(partition)
    if clock is None:
        clock = _clocks[partition] = partition_clock(settings, _assigned_wall_ms)
    return clock


def _rebuild() -> None:
    """After a (re)assignment: every local store's next due time, and the clocks restored, from the table."""
    global _rebuild_needed, _assigned_wall_ms
    _due.clear()
    _clocks.clear()
    _marked_ms.clear()
    _assigned_wall_ms = int(time.time() * 1000)
    for key, raw in store_reviews.table.items():
        if raw is not None:
            state = NegativityState.from_bytes(raw)
            bound_clock(state, _MAX_AHEAD_MS, log, "store_reviews")
            _clock(state.partition).restore(state.clock_ms)
            _due_heap(state.partition).schedule(key, next_store_due_ms(state, RULE))
    _rebuild_needed = False


@app.agent(reviews_by_store)
async def store_reviews_agent(stream):  # type: ignore[no-untyped-def]
    """Each message is a batch from ingest (reviews held) or a heartbeat (the clock moves); then the stores whose
    time has come are judged, and each changed store written once."""
    async for event in stream.events():
        if _rebuild_needed:
            _rebuild()
        message = event.message
        clock = _clock(message.partition)
        changed: dict[bytes, NegativityState] = {}
        async with own_faults(message, "the store reviews agent"):
            head = read_header(message)
            if isinstance(head, BatchHead):
                for fields in unpack(message, event.value):
                    try:
                        review = ReviewEvent.unpacked(fields)
                        clock.on_event(head.source, head.sources, review.created_ms)
                        await _on_review(message, review, head.source, clock.now_ms, changed)
                    except Exception as exc:  # noqa: BLE001 - contain() re-raises broker and disk trouble
                        await contain(exc, lambda: packed_origin(settings.topic_reviews, head.source, fields, 7),  # noqa: B023
                                      "the review rules")
            else:
                clock.on_heartbeat(head.source, head.sources, caught_up=head.caught_up, wall_ms=head.wall_ms,
                                   max_event_ms=head.max_event_ms)
        by_city, gone = await _judge_due(message, clock.now_ms, changed)
        for key, state in changed.items():
            state.partition = message.partition
            store_reviews.put(key, state)
        for key in gone:
            store_reviews.delete(key)
        for city, reviews in by_city.items():
            await reviews_by_city.send(key=city.encode(), value=CityReview.encode_all(reviews))
        if clock.now_ms > _marked_ms.get(message.partition, NEVER):  # the review clock moved: tell every city
            _marked_ms[message.partition] = clock.now_ms
            marker = ProgressMarker(message.partition, settings.partitions, clock.now_ms).encode()
            for partition in range(settings.partitions):
                await reviews_by_city.send(key=None, value=marker, partition=partition)
        PROCESSED[(message.topic, message.partition)] = message.offset


async def _judge_due(message: Any, clock_ms: int, changed: dict[bytes, NegativityState]
                     ) -> tuple[dict[str, list[list[Any]]], list[bytes]]:
    """Judge each store of the partition whose pending reviews or change points the clock has passed; move the
    changed ones into ``changed``; return what each city counts and the keys of stores left with nothing."""
    due = _due_heap(message.partition)
    by_city: dict[str, list[list[Any]]] = {}
    gone = []
    for key in due.pop_due(clock_ms):
        async with own_faults(lambda: Origin(message.topic, message.partition, message.offset, key, None),  # noqa: B023
                              "judging the store's reviews"):
            state = changed.get(key) or store_reviews.get(key)
            if state is None:
                continue
            bound_clock(state, _MAX_AHEAD_MS, log, "store_reviews")
            emits, counted = judge_store_until(state, clock_ms, RULE, REPEAT)
            await publish(emits, message, log)
            if counted:
                by_city.setdefault(state.city, []).extend(counted)
            if state.is_empty():
                changed.pop(key, None)
                gone.append(key)
            else:
                changed[key] = state
                due.schedule(key, next_store_due_ms(state, RULE))
    return by_city, gone



async def _on_review(message: Any, review: ReviewEvent, source: int, clock_ms: int,
                     changed: dict[bytes, NegativityState]) -> None:
    """Take one review: report it at once when negative, and hold it until the review clock passes it."""
    review_id, order_id, store_id, city = review.review_id, review.order_id, review.store_id, review.city
    rating, text, created_ms, offset = review.rating, review.text, review.created_ms, review.offset
    key = store_key(store_id, city)
    state = changed.get(key) or store_reviews.get(key) or NegativityState(city, store_id)
    bound_clock(state, _MAX_AHEAD_MS, log, "store_reviews")
    negative = is_negative(rating, settings.negative_max_rating)
    outcome = hold_store_review(state, review_id, negative, created_ms, clock_ms, RULE)
    if outcome == "PENDING":
        if negative:  # reported as it comes: the report depends on the review alone
            await publish([negative_review_alert(review_id=review_id, order_id=order_id, store_id=store_id,
                                                 city=city, rating=rating, text=text, created_ms=created_ms)],
                          message, log)
        changed[key] = state
        _due_heap(message.partition).schedule(key, next_store_due_ms(state, RULE))
        return
    log.info("review_ignored", reason=outcome, review_id=review_id, store_id=store_id, city=city,
             partition=message.partition, offset=message.offset)
    if outcome in ("TOO_OLD", "STORE_FULL"):
        changed[key] = state
        if outcome == "STORE_FULL":
            reason = (f"{settings.topic_reviews}: {RefusalCode.STORE_FULL.value}: review {review_id!r} is new and "
                      f"store {store_id!r} ({city}) already holds {RULE.max_reviews} reviews (setting "
                      "max_reviews_per_store)")
        else:
            reason = (f"{settings.topic_reviews}: {RefusalCode.TOO_OLD.value}: review {review_id!r} of store "
                      f"{store_id!r} ({city}) written {iso_from_ms(created_ms)} is older than the negativity window "
                      f"({format_span_ms(RULE.window_ms)}, negativity_window) at the review clock "
                      f"{iso_from_ms(clock_ms)}")
        value = orjson.dumps({"review_id": review_id, "order_id": order_id, "store_id": store_id, "city": city,
                              "rating": rating, "text": text, "created_at": iso_from_ms(created_ms)})
        await send_to_dead_letters(Origin(settings.topic_reviews, source, offset, review_id.encode(), value), reason)


def review_clock_ms(partition: int) -> int | None:
    """The review clock of a store partition on this worker, if it runs here (read-only, for the web layer)."""
    clock = None if _rebuild_needed else _clocks.get(partition)
    return clock.now_ms if clock is not None and clock.now_ms > 0 else None
