"""Agent over reviews by store: count each review once in its day, report negative ones, judge the store."""

from __future__ import annotations

import orjson

from monitor.app import app, settings
from monitor.codec import decode_review
from monitor.logs import get_logger
from monitor.publish import publish
from monitor.rules.negativity import NegativityState, add_review, evaluate_negativity, negative_review_alert
from monitor.rules.reviews import NegativityRule, RepeatRule, is_negative
from monitor.tables.reviews import store_reviews
from monitor.tables.store_state import store_key
from monitor.topics import reviews_by_city, reviews_by_store

__all__ = ["store_reviews_agent"]

log = get_logger("monitor.agents.store_reviews")
RULE = NegativityRule.from_settings(settings)
REPEAT = RepeatRule.from_settings(settings)
_clock_ms: dict[int, int] = {}  # per partition: the largest review time seen (the stream's time)


@app.agent(reviews_by_store)
async def store_reviews_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        review = decode_review(event.value)  # validated upstream
        created_ms = int(review.created_at.timestamp() * 1000)
        key = store_key(review.store_id, review.city)
        state = store_reviews.get(key) or NegativityState(review.city, review.store_id)
        now_ms = max(_clock_ms.get(message.partition, 0), state.clock_ms, created_ms)
        _clock_ms[message.partition] = now_ms
        negative = is_negative(review.rating, settings.negative_max_rating)
        outcome = add_review(state, review.review_id, negative, created_ms, now_ms, RULE)
        if outcome != "ADDED":
            log.info("review_ignored", reason=outcome, review_id=review.review_id, store_id=review.store_id,
                     city=review.city, partition=message.partition, offset=message.offset)
            if outcome == "TOO_OLD":
                state.partition = message.partition
                store_reviews.put(key, state)
            continue
        emits = []
        if negative:
            emits.append(negative_review_alert(
                review_id=review.review_id, order_id=review.order_id, store_id=review.store_id, city=review.city,
                rating=review.rating, text=review.text, created_ms=created_ms))
        emits += evaluate_negativity(state, now_ms, RULE, REPEAT)
        await publish(emits, message, log)
        state.partition = message.partition
        store_reviews.put(key, state)
        counted = orjson.dumps({"r": review.review_id, "t": created_ms, "n": int(negative)})
        await reviews_by_city.send(key=review.city.encode(), value=counted)
