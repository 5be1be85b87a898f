"""Agent over reviews by store (batches from ``monitor/ingest.py``): count each review once in its day, report
negative ones, judge the store, and send what each city counts on to ``<app>-reviews-by-city``, one message per
city and batch, then a progress marker to every city partition (``monitor/watermark.py``): the partition's
review clock, moved to the time ingest has released every review up to (the batch header).

A store is also judged when its review clock passes the store's next change point (``next_change_ms``: its
oldest day leaves the window, or its alert has fired for ``min_firing``), so an alert resolves, and old days are
dropped, without waiting for the store's next review; a store left with nothing is deleted."""

from __future__ import annotations

from typing import Any

import orjson

from monitor.agents.bounds import bound_clock
from monitor.app import app, settings
from monitor.clock import NEVER, ceiling_ms
from monitor.counters import PROCESSED
from monitor.deadletters import Origin, send_to_dead_letters
from monitor.ingest import header_of, unpack
from monitor.logs import get_logger
from monitor.publish import publish
from monitor.rules.intake import RefusalCode, format_span_ms
from monitor.rules.negativity import (
    NegativityState,
    add_review,
    evaluate_negativity,
    negative_review_alert,
    next_change_ms,
)
from monitor.rules.outputs import iso_from_ms
from monitor.rules.reviews import NegativityRule, RepeatRule, is_negative
from monitor.tables.reviews import store_reviews
from monitor.tables.store_state import store_key
from monitor.timers import DueHeap
from monitor.topics import reviews_by_city, reviews_by_store
from monitor.watermark import progress_marker

__all__ = ["store_reviews_agent"]

log = get_logger("monitor.agents.store_reviews")
RULE = NegativityRule.from_settings(settings)
REPEAT = RepeatRule.from_settings(settings)
_clock_ms: dict[int, int] = {}  # per partition: the largest review time seen (the stream's time)
_marked_ms: dict[int, int] = {}  # per partition: the progress last sent to the city partitions
_due: dict[int, DueHeap] = {}  # per partition: each store's next change point
_rebuild_needed = True
_MAX_AHEAD_MS = int(settings.max_future_skew.total_seconds() * 1000)


@app.on_partitions_assigned.connect
async def _on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
    global _rebuild_needed
    _rebuild_needed = True


def _due_heap(partition: int) -> DueHeap:
    """The partition's heap of change points (made once: this runs for every review)."""
    heap = _due.get(partition)
    if heap is None:
        heap = _due[partition] = DueHeap()
    return heap


def _rebuild() -> None:
    """After a (re)assignment: every local store's next change point, from the table."""
    global _rebuild_needed
    _due.clear()
    for key, raw in store_reviews.table.items():
        if raw is not None:
            state = NegativityState.from_bytes(raw)
            _due_heap(state.partition).schedule(key, next_change_ms(state, RULE))
    _rebuild_needed = False


@app.agent(reviews_by_store)
async def store_reviews_agent(stream):  # type: ignore[no-untyped-def]
    """Each message is a batch from ingest: reviews applied in order, each store written once per batch."""
    async for event in stream.events():
        if _rebuild_needed:
            _rebuild()
        message = event.message
        changed: dict[bytes, NegativityState] = {}
        by_city: dict[str, list[list[Any]]] = {}
        for review in unpack(event.value):
            counted = await _on_review(message, review, changed)
            if counted is not None:
                by_city.setdefault(counted[0], []).append(counted[1:])
        clock_ms = min(max(_clock_ms.get(message.partition, NEVER), _released_ms(message)),
                       ceiling_ms(_MAX_AHEAD_MS))
        gone = await _judge_due(message, clock_ms, changed)
        for key, state in changed.items():
            state.partition = message.partition
            store_reviews.put(key, state)
        for key in gone:
            store_reviews.delete(key)
        for city, reviews in by_city.items():
            await reviews_by_city.send(key=city.encode(), value=orjson.dumps(reviews))
        if clock_ms > _marked_ms.get(message.partition, NEVER):  # the partition's progress moved: tell every city
            _clock_ms[message.partition] = _marked_ms[message.partition] = clock_ms
            marker = progress_marker(message.partition, settings.partitions, clock_ms)
            for partition in range(settings.partitions):
                await reviews_by_city.send(key=None, value=marker, partition=partition)
        PROCESSED[(message.topic, message.partition)] = message.offset


async def _judge_due(message: Any, clock_ms: int, changed: dict[bytes, NegativityState]) -> list[bytes]:
    """Judge each store of the partition whose change points the clock has passed, at each of them in turn;
    move the changed ones into ``changed`` and return the keys of those left with nothing (to delete)."""
    due = _due_heap(message.partition)
    gone = []
    for key in due.pop_due(clock_ms):
        state = changed.get(key) or store_reviews.get(key)
        if state is None:
            continue
        bound_clock(state, _MAX_AHEAD_MS, log, "store_reviews")
        emits = []
        while (at_ms := next_change_ms(state, RULE)) is not None and at_ms <= clock_ms:
            emits += evaluate_negativity(state, at_ms, RULE, REPEAT)
        await publish(emits, message, log)
        if state.is_empty():
            changed.pop(key, None)
            gone.append(key)
        else:
            changed[key] = state
            due.schedule(key, next_change_ms(state, RULE))
    return gone


def _released_ms(message: Any) -> int:
    """From the batch header ``b:<released ms>``: ingest has sent every review up to that time."""
    parts = (header_of(message) or "").split(":")
    return int(parts[1]) if len(parts) == 2 and parts[0] == "b" else NEVER


async def _on_review(message: Any, review: list[Any], changed: dict[bytes, NegativityState]) -> list[Any] | None:
    """Apply one review (``[review_id, order_id, store_id, city, rating, text, created_ms]``); return what its
    city counts (``[city, review_id, created_ms, negative]``), or None when it is ignored."""
    review_id, order_id, store_id, city, rating, text, created_ms, *origin = review
    source, offset = origin or (message.partition, message.offset)  # a batch of an older version: no origin
    key = store_key(store_id, city)
    state = changed.get(key) or store_reviews.get(key) or NegativityState(city, store_id)
    bound_clock(state, _MAX_AHEAD_MS, log, "store_reviews")
    ceiling = ceiling_ms(_MAX_AHEAD_MS)
    now_ms = min(max(_clock_ms.get(message.partition, 0), state.clock_ms, created_ms), ceiling)
    _clock_ms[message.partition] = now_ms
    negative = is_negative(rating, settings.negative_max_rating)
    outcome = add_review(state, review_id, negative, created_ms, now_ms, RULE)
    if outcome != "ADDED":
        log.info("review_ignored", reason=outcome, review_id=review_id, store_id=store_id, city=city,
                 partition=message.partition, offset=message.offset)
        if outcome == "TOO_OLD":
            changed[key] = state
            reason = (f"{settings.topic_reviews}: {RefusalCode.TOO_OLD.value}: review {review_id!r} of store "
                      f"{store_id!r} ({city}) written {iso_from_ms(created_ms)} is older than the negativity window "
                      f"({format_span_ms(RULE.window_ms)}, negativity_window) at the review clock "
                      f"{iso_from_ms(now_ms)}")
            value = orjson.dumps({"review_id": review_id, "order_id": order_id, "store_id": store_id, "city": city,
                                  "rating": rating, "text": text, "created_at": iso_from_ms(created_ms)})
            await send_to_dead_letters(Origin(settings.topic_reviews, source, offset, review_id.encode(), value),
                                       reason)
        return None
    emits = []
    if negative:
        emits.append(negative_review_alert(review_id=review_id, order_id=order_id, store_id=store_id, city=city,
                                           rating=rating, text=text, created_ms=created_ms))
    emits += evaluate_negativity(state, now_ms, RULE, REPEAT)
    await publish(emits, message, log)
    changed[key] = state
    _due_heap(message.partition).schedule(key, next_change_ms(state, RULE))
    return [city, review_id, created_ms, int(negative)]
