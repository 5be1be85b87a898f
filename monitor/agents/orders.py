"""Agent over ``order-status``: validate, dead-letter what is invalid, repartition the rest by store.

A timer sends each store partition a heartbeat per source partition this worker owns, telling whether that
source has been read to its end; the store partitions' clocks advance on it (see ``monitor/clock.py``).
"""

from __future__ import annotations

import asyncio
import time

from monitor.app import app, settings
from monitor.clock import NEVER
from monitor.codec import DecodeError, check_key, decode_order_status
from monitor.deadletters import send_to_dead_letters
from monitor.logs import get_logger
from monitor.topics import order_status, orders_by_store

__all__ = ["orders", "heartbeat", "HEADER"]

log = get_logger("monitor.agents.orders")
HEADER = "qm"  # o:<source partition>:<sources>  |  h:<source>:<sources>:<caught up 0/1>:<wall ms>:<max event ms>
# last offset processed per source partition (heartbeats tell the stores whether a source is caught up)
_last_offset: dict[int, int] = {}
# largest event time forwarded per source partition: a heartbeat carries it to every store partition
_max_event_ms: dict[int, int] = {}
_reported: dict[int, bool] = {}


def _sources(topic: str) -> int:
    return app.consumer.topic_partitions(topic) or settings.partitions


@app.agent(order_status)
async def orders(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        try:
            check_key(message.topic, event.key, "order_id")
            order = decode_order_status(event.value, max_bytes=settings.max_value_bytes)
        except DecodeError as exc:
            await send_to_dead_letters(message, exc.reason)
        else:
            header = f"o:{message.partition}:{_sources(message.topic)}".encode()
            at_ms = int(order.occurred_at.timestamp() * 1000)
            if at_ms > _max_event_ms.get(message.partition, NEVER):
                _max_event_ms[message.partition] = at_ms
            await orders_by_store.send(key=order.store_id.encode(), value=event.value, headers=[(HEADER, header)])
        _last_offset[message.partition] = message.offset


async def _caught_up(tp) -> bool:  # type: ignore[no-untyped-def]
    highwater = app.consumer.highwater(tp)
    if highwater is None:
        return False
    last = _last_offset.get(tp.partition)
    if last is not None:
        return last + 1 >= highwater
    try:
        position = await asyncio.wait_for(app.consumer.position(tp), timeout=1.0)
    except (TimeoutError, Exception):  # noqa: BLE001 - not known yet: not caught up
        return False
    return position is not None and position >= highwater


@app.timer(interval=settings.clock_tick.total_seconds())
async def heartbeat() -> None:
    """Tell every store partition which of our source partitions are read to their end, and the wall time."""
    mine = [tp for tp in app.consumer.assignment() if tp.topic == settings.topic_order_status]
    if not mine:
        return
    wall_ms = int(time.time() * 1000)
    targets = app.consumer.topic_partitions(orders_by_store.get_topic_name()) or settings.partitions
    for tp in mine:
        caught_up = await _caught_up(tp)
        if _reported.get(tp.partition) != caught_up:
            _reported[tp.partition] = caught_up
            log.info("source_caught_up" if caught_up else "source_behind", topic=tp.topic, partition=tp.partition,
                     highwater=app.consumer.highwater(tp), last_offset=_last_offset.get(tp.partition))
        max_ms = _max_event_ms.get(tp.partition, NEVER)
        header = f"h:{tp.partition}:{_sources(tp.topic)}:{int(caught_up)}:{wall_ms}:{max_ms}".encode()
        for partition in range(targets):
            await orders_by_store.send(key=None, value=b"", partition=partition, headers=[(HEADER, header)])
