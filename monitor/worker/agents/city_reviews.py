"""Agent over counted reviews by city: the negativity of a whole city, over all its stores.

Two kinds of message arrive on ``<app>-reviews-by-city``: a city's counted reviews of one store batch (key city:
``[[review_id, created_ms, negative], ...]``), held in the city's ``pending`` list as they come, and progress
markers (no key, to every partition, ``monitor/eventtime/watermark.py``) sent by each store partition after its reviews.
The pending reviews are counted and judged in ``created_at`` order once the watermark, the least progress of all
store partitions, has passed them: the city's alerts do not depend on how the store partitions interleaved.
"""

from __future__ import annotations

from typing import Any

from monitor.domain.negativity import NegativityState, city_due, hold_city_review, judge_city_until
from monitor.domain.reviews import NegativityRule
from monitor.eventtime.watermark import CityWatermark
from monitor.logs import get_logger
from monitor.wire.protocol import CityReview, ProgressMarker
from monitor.worker.agents.bounds import bound_clock
from monitor.worker.agents.guard import own_faults
from monitor.worker.app import app, settings
from monitor.worker.deadletters import Origin, send_to_dead_letters
from monitor.worker.faust_adapter import on_partitions_assigned
from monitor.worker.publish import publish
from monitor.worker.tables.reviews import city_reviews
from monitor.worker.topics import reviews_by_city

__all__ = ["city_reviews_agent"]

log = get_logger("monitor.worker.agents.city_reviews")
RULE = NegativityRule.from_settings(settings, city=True)
_MAX_AHEAD_MS = int(settings.max_future_skew.total_seconds() * 1000)
_watermark = CityWatermark(max_ahead_ms=_MAX_AHEAD_MS)


@on_partitions_assigned(app)
async def _on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
    _watermark.rebuild_needed = True


@app.agent(reviews_by_city)
async def city_reviews_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        if _watermark.rebuild_needed:
            _watermark.rebuild((NegativityState.from_bytes(raw).partition, key)
                               for key, raw in city_reviews.table.items() if raw is not None)
        message = event.message
        async with own_faults(message, "the city reviews agent"):
            partition = message.partition
            if event.key is not None:  # one city's reviews of a store batch
                state = city_reviews.get(event.key) or NegativityState(event.key.decode())
                bound_clock(state, _MAX_AHEAD_MS, log, "city_reviews")
                mark = _watermark.mark(partition)
                for review in CityReview.decode_all(message.topic, event.value):
                    outcome = hold_city_review(state, review.review_id, review.negative, review.created_ms, mark,
                                               RULE)
                    if outcome != "PENDING":
                        log.info("review_ignored", reason=outcome, review_id=review.review_id, city=state.city,
                                 partition=partition, offset=message.offset)
                    if outcome == "TOO_OLD":  # counted by its store, too old for its city: kept, not dropped quietly
                        await send_to_dead_letters(Origin(message.topic, partition, message.offset, event.key,
                                                          CityReview.encode_all([[review.review_id, review.created_ms,
                                                                                  review.negative]])),
                                                   f"{message.topic}: TOO_OLD: review {review.review_id!r} of "
                                                   f"{state.city} is older than the city's negativity window at its "
                                                   "watermark")
                if city_due(state, mark, RULE):  # reviews the watermark already passed (read late, live): at once
                    await publish(judge_city_until(state, mark, RULE), message, log)
                state.partition = partition
                city_reviews.put(event.key, state)
                _watermark.hold(partition, event.key)
                continue
            marker = ProgressMarker.decode(message.topic, event.value)
            for key, state, mark in _watermark.due(partition, marker.store_partition, marker.store_partitions,
                                                   marker.at_ms, city_reviews):
                bound_clock(state, _MAX_AHEAD_MS, log, "city_reviews")
                if city_due(state, mark, RULE):
                    await publish(judge_city_until(state, mark, RULE), message, log)
                    city_reviews.put(key, state)
