"""Agent over delivered orders by city: the couriers' lateness in a whole city (``city_lateness``).

Two kinds of message arrive on ``<app>-deliveries-by-city``: counts (key city: ``{"h": hour ms, "d": delivered,
"l": courier-late}``), added as they come, and progress markers (no key, to every partition: ``{"s": store
partition, "n": store partitions, "t": ms}``), sent by each store partition after its counts. The cities of a
partition are judged only up to the watermark, the least progress of all store partitions, at each moment their
window changes (``monitor.domain.lateness``): the alerts do not depend on the order the store partitions'
counts came in.
"""

from __future__ import annotations

from typing import Any

from monitor.domain.lateness import CityLatenessRule, CityLatenessState, add_deliveries, judge_until
from monitor.eventtime.watermark import CityWatermark
from monitor.logs import get_logger
from monitor.wire.protocol import CityDeliveries, ProgressMarker
from monitor.worker.agents.bounds import bound_clock
from monitor.worker.agents.guard import own_faults
from monitor.worker.app import app, settings
from monitor.worker.deadletters import Origin, send_to_dead_letters
from monitor.worker.faust_adapter import on_partitions_assigned
from monitor.worker.publish import publish
from monitor.worker.tables.lateness import city_lateness
from monitor.worker.topics import deliveries_by_city

__all__ = ["city_lateness_agent"]

log = get_logger("monitor.worker.agents.city_lateness")
RULE = CityLatenessRule.from_settings(settings)
_MAX_AHEAD_MS = int(settings.max_future_skew.total_seconds() * 1000)
_watermark = CityWatermark(max_ahead_ms=_MAX_AHEAD_MS)


@on_partitions_assigned(app)
async def _on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
    _watermark.rebuild_needed = True


@app.agent(deliveries_by_city)
async def city_lateness_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        if _watermark.rebuild_needed:
            _watermark.rebuild((CityLatenessState.from_bytes(raw).partition, key)
                               for key, raw in city_lateness.table.items() if raw is not None)
        message = event.message
        async with own_faults(message, "the city lateness agent"):
            partition = message.partition
            if event.key is not None:  # counts of one city and hour
                counts = CityDeliveries.decode(message.topic, event.value)
                state = city_lateness.get(event.key) or CityLatenessState(event.key.decode(), partition=partition)
                bound_clock(state, _MAX_AHEAD_MS, log, "city_lateness")
                if not add_deliveries(state, counts.hour_ms, counts.delivered, counts.late, RULE):
                    log.info("deliveries_too_old", city=state.city, hour=counts.hour_ms, partition=partition,
                             offset=message.offset)
                    await send_to_dead_letters(Origin(message.topic, partition, message.offset, event.key, event.value),
                                               f"{message.topic}: TOO_OLD: deliveries of {state.city} in the hour "
                                               f"from {counts.hour_ms} ms are older than the city_lateness window")
                state.partition = partition
                city_lateness.put(event.key, state)
                _watermark.hold(partition, event.key)
                continue
            marker = ProgressMarker.decode(message.topic, event.value)
            for key, state, mark in _watermark.due(partition, marker.store_partition, marker.store_partitions,
                                                   marker.at_ms, city_lateness):
                bound_clock(state, _MAX_AHEAD_MS, log, "city_lateness")
                await publish(judge_until(state, mark, RULE), message, log)
                city_lateness.put(key, state)
