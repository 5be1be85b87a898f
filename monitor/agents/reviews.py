"""Agent over ``reviews``: validate, dead-letter what is invalid, repartition the rest by store."""

from __future__ import annotations

from monitor.app import app, settings
from monitor.codec import DecodeError, check_key, decode_review
from monitor.deadletters import send_to_dead_letters
from monitor.topics import reviews, reviews_by_store

__all__ = ["reviews_in"]


@app.agent(reviews)
async def reviews_in(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        try:
            check_key(event.message.topic, event.key, "review_id")
            review = decode_review(event.value, max_bytes=settings.max_value_bytes)
        except DecodeError as exc:
            await send_to_dead_letters(event.message, exc.reason)
            continue
        await reviews_by_store.send(key=review.store_id.encode(), value=event.value)
