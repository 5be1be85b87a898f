"""Agent over delivered orders by city: the couriers' lateness in a whole city (``city_lateness``)."""

from __future__ import annotations

import orjson

from monitor.app import app, settings
from monitor.logs import get_logger
from monitor.publish import publish
from monitor.rules.lateness import CityLatenessRule, CityLatenessState, add_deliveries, evaluate_city_lateness
from monitor.tables.lateness import city_lateness
from monitor.topics import deliveries_by_city

__all__ = ["city_lateness_agent"]

log = get_logger("monitor.agents.city_lateness")
RULE = CityLatenessRule.from_settings(settings)
_clock_ms: dict[int, int] = {}


@app.agent(deliveries_by_city)
async def city_lateness_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        counted = orjson.loads(event.value)  # {"h": hour ms, "d": delivered, "l": courier-late, "t": clock ms}
        state = city_lateness.get(event.key) or CityLatenessState(event.key.decode())
        now_ms = max(_clock_ms.get(message.partition, 0), state.clock_ms, counted["t"])
        _clock_ms[message.partition] = now_ms
        if add_deliveries(state, counted["h"], counted["d"], counted["l"], now_ms, RULE):
            await publish(evaluate_city_lateness(state, RULE), message, log)
        state.partition = message.partition
        city_lateness.put(event.key, state)
