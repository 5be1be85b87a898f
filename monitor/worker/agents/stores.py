"""Agent over the store partitions: order facts, deadlines by event time, hide / restore, per-order alerts.

Consumes ``<app>-order-status-by-store`` (batches of order events and heartbeats, from ``monitor/worker/ingest.py``) and
``store-commands``, co-partitioned by store. Decisions are the pure functions of ``monitor.domain.stores``; this
module only loads, stores and sends.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from monitor.domain.intake import RefusalCode
from monitor.domain.orders import delivery_hour
from monitor.domain.outputs import iso_from_ms
from monitor.domain.store_alerts import refusal
from monitor.domain.store_state import StoreState, store_key
from monitor.domain.stores import (
    Applied,
    OrderRules,
    advance,
    apply_order_event,
    next_due_ms,
    reconsider,
    restore,
)
from monitor.eventtime.clock import NEVER, ceiling_ms
from monitor.logs import get_logger
from monitor.wire.codec import DecodeError, decode_store_command
from monitor.wire.protocol import BatchHead, CityDeliveries, OrderEvent, ProgressMarker, read_header, unpack
from monitor.worker.agents.guard import contain, own_faults, packed_origin
from monitor.worker.agents.store_partitions import local as _local
from monitor.worker.agents.store_partitions import partition_clock_ms, snapshot, snapshots
from monitor.worker.app import app, settings
from monitor.worker.counters import PROCESSED
from monitor.worker.deadletters import Origin, send_to_dead_letters
from monitor.worker.faust_adapter import as_current_event, on_partitions_assigned
from monitor.worker.publish import publish
from monitor.worker.runtime import PartitionRuntime
from monitor.worker.tables.stores import store_table
from monitor.worker.topics import deliveries_by_city, store_inputs

__all__ = ["stores", "flush_idle", "RULES", "snapshot", "snapshots", "partition_clock_ms"]  # the last three: for the web

log = get_logger("monitor.worker.agents.stores")
RULES = OrderRules.from_settings(settings)
_MAX_AHEAD_MS = int(settings.max_future_skew.total_seconds() * 1000)
_FLUSH_S = settings.state_flush_interval.total_seconds()
_FLUSH_MAX_EVENTS = 20_000  # bounds the input events held (not acknowledged) between flushes


@on_partitions_assigned(app)
async def _on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
    _local.stale, _local.releasing = True, False


def _rebuild() -> None:
    """After a (re)assignment: reload every local store state into the per-partition runtimes.

    Changes not flushed yet are dropped with their events: those were not acknowledged, so the consumer, which
    seeks to the committed offsets after a rebalance, delivers them again.
    """
    _local.runtimes.clear()
    _local.assigned_wall_ms = int(time.time() * 1000)
    count, ahead, furthest = 0, 0, NEVER
    ceiling = ceiling_ms(_MAX_AHEAD_MS)
    for key, raw in store_table.items():
        if raw is None:
            continue
        state = StoreState.from_bytes(raw)
        rt = _local.runtime(state.partition)
        rt.cache[key] = state
        if rt.clock.restore(state.clock_ms) or state.clock_ms > ceiling:
            ahead, furthest = ahead + 1, max(furthest, state.clock_ms)
            state.clock_ms = min(state.clock_ms, ceiling)
        rt.schedule(key, next_due_ms(state, RULES))
        count += 1
    _local.stale = False
    if ahead:  # state written before clocks were bounded: one producer's future event moved them
        log.warning("clock_ahead_brought_back", stores=ahead, furthest=iso_from_ms(furthest),
                    to=iso_from_ms(ceiling), setting="max_future_skew")
    log.info("store_state_loaded", stores=count, partitions=sorted(_local.runtimes))


def _load(rt: PartitionRuntime, key: bytes) -> StoreState | None:
    state = rt.cache.get(key)
    if state is None:
        raw = store_table.get(key)
        if raw is not None:
            state = rt.cache[key] = StoreState.from_bytes(raw)
    return state


def _save(rt: PartitionRuntime, key: bytes, state: StoreState, partition: int) -> None:
    """Keep the changed state in memory; ``_flush`` writes it (coalescing many events into one write)."""
    state.partition = partition
    rt.cache[key] = state
    rt.dirty.add(key)
    rt.schedule(key, next_due_ms(state, RULES))


async def _flush(rt: PartitionRuntime) -> None:
    """Write the partition's changed states to the table (RocksDB + changelog), then acknowledge their events.

    Faust commits an offset only once every event up to it is acknowledged, and flushes the producer (changelog
    included) before committing: a committed offset therefore never runs ahead of the state written. Everything
    up to taking the held events is synchronous, so no event can slip in between the write and its ack.
    """
    for key in rt.dirty:
        state = rt.cache.get(key)
        if state is None or state.is_empty():
            rt.cache.pop(key, None)
            if key in store_table:
                del store_table[key]
        else:
            store_table[key] = state.to_bytes()
    rt.dirty.clear()
    held, rt.held, rt.held_events = rt.held, [], 0
    deliveries, rt.deliveries = rt.deliveries, {}
    rt.flushed_at = time.monotonic()
    for (city, hour_ms), (delivered, late) in sorted(deliveries.items()):
        await deliveries_by_city.send(key=city.encode(), value=CityDeliveries(hour_ms, delivered, late).encode())
    # then to every city partition: this store partition has sent every delivery up to its clock (a watermark)
    if held and rt.clock.now_ms > NEVER:
        progress = ProgressMarker(rt.partition, settings.partitions, rt.clock.now_ms).encode()
        for partition in range(settings.partitions):
            await deliveries_by_city.send(key=None, value=progress, partition=partition)
    for event in held:
        await _local.stream.ack(event)


async def _release() -> None:
    """Before a rebalance or shutdown: write and acknowledge everything held, so faust can commit it."""
    _local.releasing = True
    for rt in list(_local.runtimes.values()):
        if rt.held:
            with as_current_event(rt.held[-1]):
                await _flush(rt)


app.before_release.append(_release)


@app.timer(interval=max(_FLUSH_S, 0.05))
async def flush_idle() -> None:
    """Flush partitions whose last flush is older than the interval (quiet partitions, rebalances, shutdown)."""
    now = time.monotonic()
    for rt in list(_local.runtimes.values()):
        if rt.held and now - rt.flushed_at >= _FLUSH_S:
            with as_current_event(rt.held[-1]):
                await _flush(rt)


async def _advance_due(rt: PartitionRuntime, message: Any) -> None:
    """Fire every store deadline the partition clock has passed (before later events are applied)."""
    now = rt.clock.now_ms
    for key in rt.pop_due(now):
        async with own_faults(lambda: Origin(message.topic, message.partition, message.offset, key, None),  # noqa: B023
                              "judging the store's deadlines"):
            state = _load(rt, key)
            if state is not None:
                emits = advance(state, now, RULES)
                await publish(emits, message, log)
                _save(rt, key, state, message.partition)


async def _on_batch(rt: PartitionRuntime, message: Any, batch: list[Any], head: BatchHead) -> None:
    """Apply every order event of a batch, then judge the deadlines the clock passed: what a batch says about an
    order (its delivery in a partner's backfill, say) is known before its deadline is judged."""
    touched: dict[bytes, StoreState] = {}
    for fields in batch:
        try:
            await _on_order(rt, message, OrderEvent.unpacked(fields), head, touched)
        except Exception as exc:  # noqa: BLE001 - contain() re-raises broker and disk trouble
            await contain(exc, lambda: packed_origin(settings.topic_order_status, head.source, fields, 6),  # noqa: B023
                          "the order rules")
    for key, state in touched.items():
        _save(rt, key, state, message.partition)


async def _on_order(rt: PartitionRuntime, message: Any, event: OrderEvent, head: BatchHead,
                    touched: dict[bytes, StoreState]) -> None:
    """Apply one order event."""
    rt.clock.on_event(head.source, head.sources, event.occurred_ms)
    key = store_key(event.store_id, event.city)
    state = touched.get(key) or _load(rt, key) or StoreState(event.store_id, event.city, partition=message.partition)
    state.clock_ms = max(state.clock_ms, rt.clock.now_ms)
    order_id = event.order_id
    applied = apply_order_event(state, order_id, event.status, event.occurred_ms, event.promised_ms, RULES)
    if applied is Applied.TOO_OLD or applied is Applied.STORE_FULL:
        await _refused(event, head.source, applied)
        return
    touched[key] = state
    if applied is Applied.DELIVERED:  # counted for the city's courier lateness, once per order
        hour_ms, late = delivery_hour(state.orders[order_id], RULES.lead_ms(state.city))
        row = rt.deliveries.setdefault((state.city, hour_ms), [0, 0])
        row[0] += 1
        row[1] += late
    await publish(reconsider(state, order_id, event.occurred_ms, RULES), message, log)


async def _refused(event: OrderEvent, source: int, applied: Applied) -> None:
    """An order event the store cannot take (older than anything it still counts, or a new order of a store that
    is full): kept in dead-letters, never dropped quietly."""
    order_id, store_id, city = event.order_id, event.store_id, event.city
    reason = refusal(RefusalCode(applied.value), order_id, store_id, city, event.promised_ms, RULES).reason(settings.topic_order_status)
    value = orjson.dumps({"order_id": order_id, "store_id": store_id, "city": city, "status": event.status,
                          "occurred_at": iso_from_ms(event.occurred_ms), "promised_at": iso_from_ms(event.promised_ms)})
    await send_to_dead_letters(Origin(settings.topic_order_status, source, event.offset, order_id.encode(), value),
                               reason)


async def _on_command(rt: PartitionRuntime, message: Any, raw: bytes) -> None:
    cmd = decode_store_command(raw, max_bytes=settings.max_value_bytes)
    key = store_key(cmd.store_id, cmd.city)
    state = _load(rt, key)
    if cmd.command != "restore":
        log.info("command_ignored", command=cmd.command, store_id=cmd.store_id, city=cmd.city,
                 reason="acknowledge is handled by the alert dispatcher")
        return
    if state is None:  # a typo in the id or city: tell whoever sent it, through dead-letters
        raise DecodeError(f"store-commands: restore of unknown store {cmd.store_id!r} in {cmd.city!r}")
    if not state.hidden:
        log.info("restore_ignored", store_id=cmd.store_id, city=cmd.city, by=cmd.by, reason="NOT_HIDDEN")
        return
    emits = restore(state, by=cmd.by, note=cmd.note, at_ms=int(cmd.at.timestamp() * 1000), rules=RULES)
    await publish(emits, message, log)
    _save(rt, key, state, message.partition)


@app.agent(store_inputs)
async def stores(stream):  # type: ignore[no-untyped-def]
    _local.stream = stream.noack()
    async for event in _local.stream.events():
        message = event.message
        if _local.stale:
            _rebuild()
        rt = _local.runtime(message.partition)
        async with own_faults(message, "the store agent"):
            if message.topic == settings.topic_store_commands:
                await _on_command(rt, message, event.value)
            else:
                head = read_header(message)
                if isinstance(head, BatchHead):  # its events applied, then the deadlines passed judged
                    batch = unpack(message, event.value)
                    await _on_batch(rt, message, batch, head)
                    rt.held_events += len(batch)
                else:
                    rt.clock.on_heartbeat(head.source, head.sources, caught_up=head.caught_up,
                                          wall_ms=head.wall_ms, max_event_ms=head.max_event_ms)
        await _advance_due(rt, message)
        rt.held.append(event)
        rt.held_events += 1
        PROCESSED[(message.topic, message.partition)] = message.offset
        if _local.releasing or rt.held_events >= _FLUSH_MAX_EVENTS or time.monotonic() - rt.flushed_at >= _FLUSH_S:
            await _flush(rt)
