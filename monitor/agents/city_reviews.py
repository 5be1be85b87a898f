"""Agent over counted reviews by city: the negativity of a whole city, over all its stores."""

from __future__ import annotations

import orjson

from monitor.app import app, settings
from monitor.logs import get_logger
from monitor.publish import publish
from monitor.rules.negativity import NegativityState, add_review, evaluate_negativity
from monitor.rules.reviews import NegativityRule
from monitor.tables.reviews import city_reviews
from monitor.topics import reviews_by_city

__all__ = ["city_reviews_agent"]

log = get_logger("monitor.agents.city_reviews")
RULE = NegativityRule.from_settings(settings, city=True)
_clock_ms: dict[int, int] = {}


@app.agent(reviews_by_city)
async def city_reviews_agent(stream):  # type: ignore[no-untyped-def]
    """Each message: one city's counted reviews ``[[review_id, created_ms, negative], ...]`` of a store batch."""
    async for event in stream.events():
        message = event.message
        city = event.key.decode()
        state = city_reviews.get(event.key) or NegativityState(city)
        for review_id, created_ms, negative in orjson.loads(event.value):
            now_ms = max(_clock_ms.get(message.partition, 0), state.clock_ms, created_ms)
            _clock_ms[message.partition] = now_ms
            # deduplicated by the store agent already: a review reaches its city once
            outcome = add_review(state, review_id, bool(negative), created_ms, now_ms, RULE, dedup=False)
            if outcome == "ADDED":
                await publish(evaluate_negativity(state, now_ms, RULE), message, log)
        state.partition = message.partition
        city_reviews.put(event.key, state)
