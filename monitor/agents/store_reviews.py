"""Agent over reviews by store (batches from ``monitor/ingest.py``): count each review once in its day, report
negative ones, judge the store, and send what each city counts on to ``<app>-reviews-by-city``, one message per
city and batch, then a progress marker to every city partition (``monitor/watermark.py``): the partition's
review clock, moved to the time ingest has released every review up to (the batch header)."""

from __future__ import annotations

from typing import Any

import orjson

from monitor.app import app, settings
from monitor.clock import NEVER
from monitor.counters import PROCESSED
from monitor.ingest import header_of, unpack
from monitor.logs import get_logger
from monitor.publish import publish
from monitor.rules.negativity import NegativityState, add_review, evaluate_negativity, negative_review_alert
from monitor.rules.reviews import NegativityRule, RepeatRule, is_negative
from monitor.tables.reviews import store_reviews
from monitor.tables.store_state import store_key
from monitor.topics import reviews_by_city, reviews_by_store
from monitor.watermark import progress_marker

__all__ = ["store_reviews_agent"]

log = get_logger("monitor.agents.store_reviews")
RULE = NegativityRule.from_settings(settings)
REPEAT = RepeatRule.from_settings(settings)
_clock_ms: dict[int, int] = {}  # per partition: the largest review time seen (the stream's time)
_marked_ms: dict[int, int] = {}  # per partition: the progress last sent to the city partitions


@app.agent(reviews_by_store)
async def store_reviews_agent(stream):  # type: ignore[no-untyped-def]
    """Each message is a batch from ingest: reviews applied in order, each store written once per batch."""
    async for event in stream.events():
        message = event.message
        changed: dict[bytes, NegativityState] = {}
        by_city: dict[str, list[list[Any]]] = {}
        for review in unpack(event.value):
            counted = await _on_review(message, review, changed)
            if counted is not None:
                by_city.setdefault(counted[0], []).append(counted[1:])
        for key, state in changed.items():
            state.partition = message.partition
            store_reviews.put(key, state)
        for city, reviews in by_city.items():
            await reviews_by_city.send(key=city.encode(), value=orjson.dumps(reviews))
        clock_ms = max(_clock_ms.get(message.partition, NEVER), _released_ms(message))
        if clock_ms > _marked_ms.get(message.partition, NEVER):  # the partition's progress moved: tell every city
            _clock_ms[message.partition] = _marked_ms[message.partition] = clock_ms
            marker = progress_marker(message.partition, settings.partitions, clock_ms)
            for partition in range(settings.partitions):
                await reviews_by_city.send(key=None, value=marker, partition=partition)
        PROCESSED[(message.topic, message.partition)] = message.offset


def _released_ms(message: Any) -> int:
    """From the batch header ``b:<released ms>``: ingest has sent every review up to that time."""
    parts = (header_of(message) or "").split(":")
    return int(parts[1]) if len(parts) == 2 and parts[0] == "b" else NEVER


async def _on_review(message: Any, review: list[Any], changed: dict[bytes, NegativityState]) -> list[Any] | None:
    """Apply one review (``[review_id, order_id, store_id, city, rating, text, created_ms]``); return what its
    city counts (``[city, review_id, created_ms, negative]``), or None when it is ignored."""
    review_id, order_id, store_id, city, rating, text, created_ms = review
    key = store_key(store_id, city)
    state = changed.get(key) or store_reviews.get(key) or NegativityState(city, store_id)
    now_ms = max(_clock_ms.get(message.partition, 0), state.clock_ms, created_ms)
    _clock_ms[message.partition] = now_ms
    negative = is_negative(rating, settings.negative_max_rating)
    outcome = add_review(state, review_id, negative, created_ms, now_ms, RULE)
    if outcome != "ADDED":
        log.info("review_ignored", reason=outcome, review_id=review_id, store_id=store_id, city=city,
                 partition=message.partition, offset=message.offset)
        if outcome == "TOO_OLD":
            changed[key] = state
        return None
    emits = []
    if negative:
        emits.append(negative_review_alert(review_id=review_id, order_id=order_id, store_id=store_id, city=city,
                                           rating=rating, text=text, created_ms=created_ms))
    emits += evaluate_negativity(state, now_ms, RULE, REPEAT)
    await publish(emits, message, log)
    changed[key] = state
    return [city, review_id, created_ms, int(negative)]
