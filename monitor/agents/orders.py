"""Agent over ``order-status``: decode, dead-letter what is invalid, log what is valid."""

from __future__ import annotations

from monitor.app import app
from monitor.codec import DecodeError, decode_order_status
from monitor.deadletters import send_to_dead_letters
from monitor.logs import get_logger
from monitor.topics import order_status

log = get_logger("monitor.agents.orders")


@app.agent(order_status)
async def orders(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        try:
            order = decode_order_status(event.value)
        except DecodeError as exc:
            await send_to_dead_letters(message, exc.reason)
            continue
        log.info("order_status", partition=message.partition, offset=message.offset,
                 order_id=order.order_id, store_id=order.store_id, city=order.city, status=order.status)
