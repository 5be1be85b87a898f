"""`monitor dispatcher`: alerts topic -> route -> group -> mute -> dedup -> rate-limit -> send with retry -> record.

Runs as its own process with its own consumer group, so a slow or dead receiver never delays the worker that
hides stores, and each receiver has its own queue, so one dead receiver never blocks the others. An alert's
offset is committed only when every receiver it routes to has been sent it, skipped it as a duplicate or
dead-lettered it: a restart loses nothing, and the notification log (RocksDB) makes the re-read send nothing
twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from monitor.alerts.channels import build_channel
from monitor.alerts.config import DispatchConfig, Route
from monitor.alerts.grouping import Grouper
from monitor.alerts.model import AlertEvent
from monitor.alerts.notify_log import NotifyLog, Reason, acknowledge, needs_update, record
from monitor.alerts.ratelimit import RateLimiter
from monitor.alerts.retry import send_with_retry
from monitor.alerts.routing import route
from monitor.alerts.silences import SilenceBook, active_silence, after_resolve
from monitor.alerts.templates import render
from monitor.alerts.tickets import Ticket, Tickets
from monitor.logs import get_logger
from monitor.secrets import redact
from monitor.settings import Settings
from monitor.wire.codec import dead_letter, encode

__all__ = ["Dispatcher"]

log = get_logger("monitor.alerts.dispatcher")
STOP_BUDGET_S = 5.0  # SIGTERM to exit, whatever is in flight: a send waiting on a dead receiver is cancelled


@dataclass
class _Job:
    receiver: str
    route: Route
    alerts: list[AlertEvent]
    tickets: list[Ticket] = field(default_factory=list)


class Dispatcher:
    """The delivery service; ``run()`` until ``stop()``; time comes from ``clock_ms`` (injectable)."""

    def __init__(self, settings: Settings, config: DispatchConfig, *,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000), tick_s: float = 0.2) -> None:
        self.settings, self.config, self.clock_ms, self.tick_s = settings, config, clock_ms, tick_s
        self.channels = {name: build_channel(r) for name, r in config.receivers.items()}
        self.limiter = RateLimiter({n: r.rate_limit_per_min for n, r in config.receivers.items()})
        self.grouper = Grouper()
        self.silences = SilenceBook()
        self.log_db = NotifyLog(settings.data_dir / "dispatcher" / settings.app_id / "notify-log")
        self._waiting: dict[Any, list[Ticket]] = defaultdict(list)  # group key -> tickets of its alerts
        self._muted: dict[tuple[str, str], tuple[Route, AlertEvent, Ticket]] = {}
        self._ticket_of: dict[tuple[str, str], Ticket] = {}  # (receiver, alert id) -> its latest message
        self._firing: dict[tuple[str, str], tuple[Route, AlertEvent]] = {}  # for repeat_interval
        self._queues: dict[str, asyncio.Queue[_Job]] = {}
        self._tickets = Tickets()
        self._stopping = asyncio.Event()
        self.sent = 0

    def stop(self) -> None:
        self._stopping.set()

    # --- consuming ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        s = self.settings
        self.consumer = AIOKafkaConsumer(s.topic_alerts, bootstrap_servers=s.kafka_bootstrap_servers,
                                         group_id=f"{s.app_id}-dispatcher", enable_auto_commit=False,
                                         auto_offset_reset="earliest")
        self.control = AIOKafkaConsumer(s.topic_silences, bootstrap_servers=s.kafka_bootstrap_servers,
                                        group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
        self.producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap_servers, acks="all")
        await self.producer.start()
        await self.control.start()
        await self.consumer.start()
        for name in self.channels:
            self._queues[name] = asyncio.Queue()
        senders = [asyncio.create_task(self._sender(name)) for name in self.channels]
        tasks = [asyncio.create_task(self._consume_alerts()), asyncio.create_task(self._consume_control()),
                 asyncio.create_task(self._tick())]
        log.info("dispatcher_started", receivers=sorted(self.channels), routes=len(self.config.routes))
        try:
            await self._stopping.wait()
        finally:
            try:
                await asyncio.wait_for(self._close(tasks, senders), STOP_BUDGET_S)
            except TimeoutError:
                log.warning("dispatcher_stop_cut_short", budget_s=STOP_BUDGET_S,
                            reason="the broker did not answer in time; uncommitted alerts are read again")
            finally:
                self.log_db.close()
            log.info("dispatcher_stopped", sent=self.sent)

    async def _close(self, tasks: list[asyncio.Task[Any]], senders: list[asyncio.Task[Any]]) -> None:
        """Stop reading, commit what is settled, cancel sends in flight (their alerts stay uncommitted, so the
        next run sends them), and close the Kafka clients."""
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for t in senders:
            t.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        await self._commit()
        await self.consumer.stop()
        await self.control.stop()
        await self.producer.stop()

    async def _consume_alerts(self) -> None:
        async for m in self.consumer:
            ticket = self._tickets.take(m.partition, m.offset, m.value, m.key)
            try:
                alert = AlertEvent.from_dict(orjson.loads(m.value))
            except (ValueError, orjson.JSONDecodeError) as exc:
                await self._dead_letter(ticket, f"alerts: {exc}")
                continue
            try:
                self.on_alert(alert, ticket)
            except Exception as exc:  # noqa: BLE001 - one alert must not stop the reading of all the others
                await self._dead_letter(ticket, f"alerts: RULE_FAILED: routing raised {type(exc).__name__}: "
                                                f"{str(exc)[:300]}")

    async def _consume_control(self) -> None:
        async for m in self.control:
            try:
                d = orjson.loads(m.value) if m.value else None
                if d is None:
                    continue
                if d.get("type") == "ack":
                    self.on_ack(d["alert_id"], d.get("by", "?"))
                elif (silence := self.silences.read(m.key, m.value)) is not None:
                    log.info("silence_loaded", silence_id=silence.silence_id, by=silence.created_by,
                             active=silence.is_active(self.clock_ms()), matchers=dict(silence.matchers))
            except (ValueError, KeyError, orjson.JSONDecodeError) as exc:
                log.warning("control_message_ignored", offset=m.offset, reason=str(exc))

    # --- the pipeline ------------------------------------------------------------------------------------

    def on_alert(self, alert: AlertEvent, ticket: Ticket) -> None:
        """Route the alert and put it into one group per receiver."""
        now = self.clock_ms()
        if alert.status == "resolved":
            for silence in list(self.silences.values()):
                self.silences.put(after_resolve(silence, alert))
        for r, receivers in route(alert, self.config):
            for receiver in receivers:
                key = self.grouper.add(receiver, r, alert, now)
                ticket.open_slot()
                self._waiting[key].append(ticket)
                self._ticket_of[(receiver, alert.alert_id)] = ticket
                if alert.status == "firing":
                    self._firing[(receiver, alert.alert_id)] = (r, alert)
                else:
                    self._firing.pop((receiver, alert.alert_id), None)
        if ticket.open_slots == 0:
            ticket.settle()

    def on_ack(self, alert_id: str, by: str) -> None:
        for receiver in self.channels:
            entry = self.log_db.get(receiver, alert_id)
            if entry is not None and not entry.acked:
                self.log_db.put(acknowledge(entry))
        log.info("alert_acknowledged", alert_id=alert_id, by=by)

    async def _tick(self) -> None:
        while True:
            now = self.clock_ms()
            for group in self.grouper.due(now):
                tickets = self._waiting.pop(group.key, [])
                self._flush(group.receiver, group.route, list(group.alerts), tickets, now)
            self._unmute(now)
            self._repeat(now)
            await self._commit()
            await asyncio.sleep(self.tick_s)

    def _flush(self, receiver: str, r: Route, alerts: list[AlertEvent], tickets: list[Ticket], now: int) -> None:
        """Mute what is silenced, drop what the receiver already has, queue the rest as one message."""
        send: list[AlertEvent] = []
        held: set[int] = set()
        for a in alerts:
            self._muted.pop((receiver, a.alert_id), None)
            silence = active_silence(a, self.silences.values(), now) if a.status == "firing" else None
            if silence is not None:
                owner = self._ticket_of.get((receiver, a.alert_id))
                if owner is not None and owner in tickets and id(owner) not in held:
                    # its offset stays uncommitted until the silence ends
                    held.add(id(owner))
                    self._muted[(receiver, a.alert_id)] = (r, a, owner)
                    tickets = [t for t in tickets if t is not owner] + [owner]
                log.info("alert_silenced", receiver=receiver, alert_id=a.alert_id, silence_id=silence.silence_id)
                continue
            reason = needs_update(self.log_db.get(receiver, a.alert_id), a, now_ms=now,
                                  repeat_interval_ms=r.repeat_interval_ms, send_resolved=r.send_resolved)
            if reason.sends:
                send.append(a)
            else:
                log.info("alert_not_sent", receiver=receiver, alert_id=a.alert_id, reason=reason.value)
        release = [t for t in tickets if id(t) not in held]
        if send:
            self._queues[receiver].put_nowait(_Job(receiver, r, send, release))
        else:
            for t in release:
                t.close_slot()

    def _unmute(self, now: int) -> None:
        for (receiver, alert_id), (r, a, ticket) in list(self._muted.items()):
            if active_silence(a, self.silences.values(), now) is None:
                del self._muted[(receiver, alert_id)]
                self._flush(receiver, r, [a], [ticket], now)

    def _repeat(self, now: int) -> None:
        for (receiver, alert_id), (r, a) in list(self._firing.items()):
            if (receiver, alert_id) in self._muted:
                continue
            entry = self.log_db.get(receiver, alert_id)
            if entry is None:
                continue
            reason = needs_update(entry, a, now_ms=now, repeat_interval_ms=r.repeat_interval_ms,
                                  send_resolved=r.send_resolved)
            if reason is Reason.REPEAT_DUE and active_silence(a, self.silences.values(), now) is None:
                self.log_db.put(record(entry, receiver, a, now))  # not again before the job runs
                self._queues[receiver].put_nowait(_Job(receiver, r, [a]))

    async def _sender(self, receiver: str) -> None:
        channel = self.channels[receiver]
        lang = self.config.receivers[receiver].language
        while True:
            job = await self._queues[receiver].get()
            now = self.clock_ms()
            if not self.limiter.allow(receiver, now):
                await asyncio.sleep(max(0, self.limiter.next_allowed_ms(receiver, now) - now) / 1000)
                self.limiter.allow(receiver, self.clock_ms())
            try:
                message = render(job.alerts, lang)
            except Exception as exc:  # noqa: BLE001 - one alert must not stop this receiver's deliveries
                for t in job.tickets:
                    await self._dead_letter(t, f"receiver {receiver}: RULE_FAILED: rendering raised "
                                               f"{type(exc).__name__}: {str(exc)[:300]}", settle=False)
                    t.close_slot()
                continue
            delivery = await send_with_retry(channel, message, job.alerts, attempts=self.config.retry_attempts,
                                             base_ms=self.config.retry_base_ms, max_ms=self.config.retry_max_ms)
            if delivery.ok:
                sent_at = self.clock_ms()
                for a in job.alerts:
                    self.log_db.put(record(self.log_db.get(receiver, a.alert_id), receiver, a, sent_at))
                self.sent += 1
                log.info("notification_sent", receiver=receiver, alert_ids=list(message.alert_ids),
                         attempts=delivery.attempts, title=message.title)
            else:
                error = redact(f"receiver {receiver}: {delivery.last_error} (after {delivery.attempts} attempts)",
                               self.config.secrets)
                log.error("notification_failed", receiver=receiver, alert_ids=list(message.alert_ids),
                          error=error, permanent=delivery.permanent)
                for t in job.tickets or []:
                    await self._dead_letter(t, error, settle=False)
            for t in job.tickets:
                t.close_slot()

    # --- bookkeeping -------------------------------------------------------------------------------------

    async def _dead_letter(self, ticket: Ticket, error: str, *, settle: bool = True) -> None:
        record_ = dead_letter(topic=self.settings.topic_alerts, partition=ticket.partition, offset=ticket.offset,
                              key=ticket.key, value=ticket.raw, error=error, at=datetime.now(UTC),
                              excerpt_bytes=self.settings.dead_letter_excerpt_bytes)
        await self.producer.send_and_wait(self.settings.topic_dead_letters, encode(record_), key=ticket.key)
        log.warning("dead_letter", topic=self.settings.topic_alerts, partition=ticket.partition,
                    offset=ticket.offset, reason=error[:300])
        if settle:
            ticket.settle()

    async def _commit(self) -> None:
        """Commit, per partition, up to the first alert that is not settled yet."""
        from aiokafka import TopicPartition

        offsets = self._tickets.committable()
        if offsets:
            await self.consumer.commit({TopicPartition(self.settings.topic_alerts, p): o for p, o in offsets.items()})
