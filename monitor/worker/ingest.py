"""Ingest: ``order-status`` and ``reviews`` read in batches outside Faust's per-message stream, validated, and
sent on to the store partitions packed into batch messages.

Why: Faust costs a fixed amount per message. On the 2-core machine an agent that only decodes JSON ran about
4,100 messages/s, and a forwarding agent feeding a second agent about 1,500-1,800 (docs/benchmarks.md, "Why
ingest"), and the order path paid that twice per order event (a forwarding agent, then the store agent): the
pipeline could not reach 5,000 events/s however cheap its own work. Ingest reads with a plain aiokafka consumer
in a group of its own (``<app>-ingest``), validates each record (dead-lettering what fails), and sends the store
partitions one message per (source partition, store partition, poll) carrying up to ``BATCH_MAX`` events in
their source order, so Faust's cost is paid per batch.

Messages on ``<app>-order-status-by-store`` and ``<app>-reviews-by-store``, told apart by the ``qm`` header:

- ``b:<source>:<sources>``: a batch of one source partition's events in its order; the value is a JSON list of
  ``[order_id, store_id, city, status, occurred_ms, promised_ms, offset]`` (orders) or ``[review_id, order_id,
  store_id, city, rating, text, created_ms, offset]`` (reviews), all of stores on that partition (murmur2 of
  ``store_id``, the producer's partitioner, so ``store-commands`` keyed by ``store_id`` land on the same
  partition);
- ``h:<source>:<sources>:<caught up 0/1>:<wall ms>:<max event ms>``: a heartbeat per source partition and
  ``clock_tick``, with an empty value, to every store partition (see ``monitor/eventtime/clock.py``).

Each store partition keeps one event-time clock per input topic over its source partitions: it moves only to a
time every source has reached, so orders and reviews are judged in event-time order whatever the pace and
interleaving of the sources (one ingest or several, one worker or two).

Alignment: a partition read more than ``source_skew`` (1 h) of event time ahead of the slowest partition of its
topic that still has records left is paused until that one catches up. It bounds what is read ahead; the clocks
then hold the decisions back until every source has reached their time.

Delivery: offsets are committed only once every message sent before them is acknowledged by the broker, and a
review partition's only up to its first review still held (at least once: after a crash the batches since the
last commit are sent again, and the store rules apply a repeated event as a no-op). A failed send rewinds to the
committed offsets.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from mode import Service

from monitor.domain.intake import OrderRegistry, Refusal, SeenOutcome, future_refusal, promise_refusal
from monitor.domain.negativity import REVIEW_TEXT_MAX
from monitor.domain.stores import MOVED
from monitor.eventtime.clock import NEVER
from monitor.logs import get_logger
from monitor.settings import Settings
from monitor.web.routing import partition_for
from monitor.wire.codec import DecodeError, check_key, order_status_fields, review_fields
from monitor.wire.protocol import BatchHead, Heartbeat, OrderEvent, ReviewEvent, packed_within
from monitor.worker.deadletters import dead_letter_value, note_dead_letter
from monitor.worker.topicnames import ingest_group, orders_by_store_name, reviews_by_store_name

__all__ = ["Ingest", "BATCH_MAX", "BATCH_BYTES_MAX", "partitions_ahead"]

log = get_logger("monitor.worker.ingest")
BATCH_MAX = 500  # events per batch message
BATCH_BYTES_MAX = 512 * 1024  # and bytes: well under the broker's 1 MB message limit, whatever the reviews say
_POLL_MAX = 2000  # records per poll: bounds how long one poll holds the event loop (~80 ms on 2 cores)
_COMMIT_S = 1.0
# Ingest reads far faster than the store agents apply (about 25,000 vs 5,000 events/s): during a catch-up it would
# read the whole backlog first, starving the agents. It waits while more than this many batch messages it sent
# wait for this process's agents, for at most _HOLD_MAX_S at a time (it must poll within max.poll.interval).
_LEAD_MAX = 100
_HOLD_MAX_S = 10.0


def partitions_ahead(read_ms: Mapping[Any, int], behind: Iterable[Any], skew_ms: int) -> set[Any]:
    """The partitions (of one topic) whose newest event read is more than ``skew_ms`` ahead of the slowest
    partition that still has records to read; none when ``skew_ms`` is 0 or no such partition was read yet."""
    known = [read_ms[tp] for tp in behind if read_ms.get(tp, NEVER) != NEVER]
    if skew_ms <= 0 or not known:
        return set()
    slowest = min(known)
    return {tp for tp, ms in read_ms.items() if ms - slowest > skew_ms}


def _excerpt(text: str) -> str:
    """A review's text as the monitor passes it on: alerts quote it, and every output has a size bound."""
    return text if len(text) <= REVIEW_TEXT_MAX else text[:REVIEW_TEXT_MAX] + "…"


def _ms(dt: Any) -> int:
    return int(dt.timestamp() * 1000)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.ingest.commit()  # what was sent is kept: the next owner starts after it

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.ingest.on_assigned(assigned)


class Ingest(Service):
    """The worker's reader of ``order-status`` and ``reviews`` (see the module doc)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.topic = settings.topic_order_status
        self.target = orders_by_store_name(settings.app_id)
        self.review_topic = settings.topic_reviews
        self.review_target = reviews_by_store_name(settings.app_id)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.targets = settings.partitions
        self.received: Counter[str] = Counter()  # records read, by topic (for /metrics)
        self.rate_per_s = 0.0  # input records read per second, over the last few seconds
        self._rate_at, self._rate_count = time.monotonic(), 0
        self._next: dict[TopicPartition, int] = {}  # next offset to read, per owned source partition
        self._committed: dict[TopicPartition, int] = {}
        self._read_ms: dict[TopicPartition, int] = {}  # largest event time read, per source partition
        self._orders: dict[TopicPartition, OrderRegistry] = {}  # recent orders per order-status partition
        self._future_ms = int(settings.max_future_skew.total_seconds() * 1000)
        self._horizon_ms = int(settings.max_promise_horizon.total_seconds() * 1000)
        self._keep_ms = int((settings.late_window + settings.order_retention).total_seconds() * 1000)
        self._reported: dict[TopicPartition, bool] = {}
        self._pending: list[asyncio.Future[Any]] = []  # sends not known to be acknowledged yet
        self._beat_at = self._commit_at = 0.0

    async def on_start(self) -> None:
        s = self.settings
        session_ms = int(s.session_timeout.total_seconds() * 1000)
        self.producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap_servers, acks="all", linger_ms=5,
                                         max_batch_size=256 * 1024, client_id=f"{s.app_id}-ingest")
        await self.producer.start()
        self.targets = len(await self.producer.partitions_for(self.target)) or s.partitions
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap_servers, group_id=ingest_group(s.app_id),
            client_id=f"{s.app_id}-ingest", enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=session_ms, heartbeat_interval_ms=min(3000, session_ms // 3),
            max_partition_fetch_bytes=4 << 20)
        self.consumer.subscribe([self.topic, self.review_topic], listener=_Rebalance(self))
        await self.consumer.start()
        log.info("ingest_started", topics=[self.topic, self.review_topic], group=ingest_group(s.app_id),
                 target=self.target, target_partitions=self.targets)

    async def on_stop(self) -> None:
        if self.consumer is not None:
            try:
                await self.commit()
            except KafkaError as exc:
                log.warning("ingest_commit_failed", error=repr(exc), at="stop")
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()

    # --- the loop -------------------------------------------------------------------------------------------

    @Service.task
    async def _run(self) -> None:
        assert self.consumer is not None
        held_since: float | None = None
        while not self.should_stop:
            if self.downstream_backlog() > _LEAD_MAX:  # the store agents are behind: let them catch up
                held_since = held_since or time.monotonic()
                if time.monotonic() - held_since < _HOLD_MAX_S:
                    await asyncio.sleep(0.05)
                    await self._periodic()
                    continue
            held_since = None
            try:
                polled = await self.consumer.getmany(timeout_ms=100, max_records=_POLL_MAX)
            except KafkaError as exc:  # the consumer reconnects by itself; say so and poll again
                log.warning("ingest_poll_failed", error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            for tp, records in polled.items():
                if tp.topic == self.topic:
                    await self._forward_orders(tp, records)
                else:
                    await self._forward_reviews(tp, records)
            if polled:
                self._align()
                # let the agents, timers and the web server run between polls: during a catch-up ingest always
                # has records ready, and awaiting a ready result does not yield to the event loop
                await asyncio.sleep(0)
            await self._periodic()

    def downstream_backlog(self) -> int:
        """Messages sent on that this process's store agents have not processed yet (0: unknown or none).
        The worker's ingest overrides it; while it is above ``_LEAD_MAX`` ingest reads nothing."""
        return 0

    async def _periodic(self) -> None:
        """The rate, the heartbeats and the commit, each when due."""
        now = time.monotonic()
        if now - self._rate_at >= 5.0:
            total = sum(self.received.values())
            self.rate_per_s = (total - self._rate_count) / (now - self._rate_at)
            self._rate_at, self._rate_count = now, total
        if now - self._beat_at >= self.settings.clock_tick.total_seconds():
            self._beat_at = now
            await self._heartbeat()
        if now - self._commit_at >= _COMMIT_S:
            self._commit_at = now
            await self.commit()

    async def _forward_orders(self, tp: TopicPartition, records: list[Any]) -> None:
        """Validate ``records`` of one order-status partition and send the valid ones on, batched per store
        partition, in their source order (the store partitions' clocks follow each source separately)."""
        batches: dict[int, list[OrderEvent]] = {}
        max_ms = self._read_ms.get(tp, NEVER)
        wall_ms = int(time.time() * 1000)
        registry = self._orders.get(tp) or self._orders.setdefault(tp, OrderRegistry(self._keep_ms))
        for record in records:
            d = await self._valid(record, "order_id", order_status_fields, self._order_refusal, wall_ms)
            if d is None:
                continue
            at_ms, promised_ms = _ms(d["occurred_at"]), _ms(d["promised_at"])
            oid, store, city, status = d["order_id"], d["store_id"], d["city"], d["status"]
            seen = registry.see(oid, d["event_id"], (store, city), hash((store, city, status, at_ms, promised_ms)),
                                at_ms)
            if seen.refusal is not None:
                await self._dead_letter(record, seen.refusal.reason(record.topic))
                continue
            if seen.outcome is SeenOutcome.MOVED and seen.previous is not None:  # the first store stops counting it
                old_store, old_city = seen.previous
                batches.setdefault(partition_for(old_store.encode(), self.targets), []).append(
                    OrderEvent(oid, old_store, old_city, MOVED, at_ms, promised_ms, record.offset))
                log.info("order_moved", order_id=oid, from_store=old_store, from_city=old_city, to_store=store,
                         to_city=city, partition=tp.partition, offset=record.offset)
            max_ms = max(max_ms, at_ms)
            batches.setdefault(partition_for(store.encode(), self.targets), []).append(
                OrderEvent(oid, store, city, status, at_ms, promised_ms, record.offset))
        await self._send(self.target, batches, BatchHead(tp.partition, self._sources(self.topic)))
        self._read(tp, records, max_ms)
        if max_ms != NEVER:
            registry.expire(max_ms)

    def _order_refusal(self, d: dict[str, Any], wall_ms: int) -> Refusal | None:
        occurred_ms = _ms(d["occurred_at"])
        return (future_refusal("occurred_at", occurred_ms, wall_ms, self._future_ms)
                or promise_refusal(occurred_ms, _ms(d["promised_at"]), self._horizon_ms))

    def _review_refusal(self, d: dict[str, Any], wall_ms: int) -> Refusal | None:
        return future_refusal("created_at", _ms(d["created_at"]), wall_ms, self._future_ms)

    async def _forward_reviews(self, tp: TopicPartition, records: list[Any]) -> None:
        """Validate ``records`` of one reviews partition and send the valid ones on, batched per store partition,
        in their source order (the store partitions' review clocks follow each source separately)."""
        batches: dict[int, list[ReviewEvent]] = {}
        max_ms = self._read_ms.get(tp, NEVER)
        wall_ms = int(time.time() * 1000)
        for record in records:
            d = await self._valid(record, "review_id", review_fields, self._review_refusal, wall_ms)
            if d is not None:
                created_ms = _ms(d["created_at"])
                max_ms = max(max_ms, created_ms)
                batches.setdefault(partition_for(d["store_id"].encode(), self.targets), []).append(
                    ReviewEvent(d["review_id"], d["order_id"], d["store_id"], d["city"], d["rating"],
                                _excerpt(d["text"]), created_ms, record.offset))
        await self._send(self.review_target, batches, BatchHead(tp.partition, self._sources(self.review_topic)))
        self._read(tp, records, max_ms)

    def _read(self, tp: TopicPartition, records: list[Any], max_ms: int) -> None:
        self._next[tp] = records[-1].offset + 1
        self._read_ms[tp] = max(self._read_ms.get(tp, NEVER), max_ms)
        self.received[tp.topic] += len(records)

    def _align(self) -> None:
        """Pause the partitions read too far ahead of their topic's slowest one (see the module doc)."""
        assert self.consumer is not None
        skew_ms = int(self.settings.source_skew.total_seconds() * 1000)
        owned = self.consumer.assignment()
        pause: set[TopicPartition] = set()
        for topic in (self.topic, self.review_topic):
            mine = {tp: ms for tp, ms in self._read_ms.items() if tp.topic == topic and tp in owned}
            behind = [tp for tp in mine if (hw := self.consumer.highwater(tp)) is not None
                      and self._next.get(tp, 0) < hw]
            pause |= partitions_ahead(mine, behind, skew_ms)
        paused = self.consumer.paused()
        if pause - paused:
            self.consumer.pause(*(pause - paused))
        if paused - pause:
            self.consumer.resume(*(paused - pause))
        if pause != paused:
            log.info("ingest_aligned", paused=sorted(f"{tp.topic}:{tp.partition}" for tp in pause))

    async def _valid(self, record: Any, key_field: str, decode: Any,
                     refuse: Callable[[dict[str, Any], int], Refusal | None], wall_ms: int) -> dict[str, Any] | None:
        """The validated fields of ``record``, or None once it is sent to dead-letters with the reason: it breaks
        its contract, or ``refuse`` finds its times impossible at the wall clock ``wall_ms``."""
        try:
            check_key(record.topic, record.key, key_field)
            d = decode(record.value, max_bytes=self.settings.max_value_bytes)
        except DecodeError as exc:
            await self._dead_letter(record, exc.reason)
            return None
        refusal = refuse(d, wall_ms)
        if refusal is not None:
            await self._dead_letter(record, refusal.reason(record.topic))
            return None
        return d

    async def _dead_letter(self, record: Any, reason: str) -> None:
        assert self.producer is not None
        key = None if record.key is None else record.key[:1024]
        value = dead_letter_value(record, reason, self.settings.dead_letter_excerpt_bytes)
        self._pending.append(await self.producer.send(self.settings.topic_dead_letters, key=key, value=value))
        note_dead_letter(record, reason)

    async def _send(self, topic: str, batches: Mapping[int, Sequence[OrderEvent | ReviewEvent]],
                    head: BatchHead) -> None:
        assert self.producer is not None
        headers = head.headers()
        for partition, events in batches.items():
            for i in range(0, len(events), BATCH_MAX):
                for value in packed_within(events[i:i + BATCH_MAX], BATCH_BYTES_MAX):
                    self._pending.append(await self.producer.send(topic, value=value, partition=partition,
                                                                  headers=headers))

    def _sources(self, topic: str) -> int:
        assert self.consumer is not None
        return len(self.consumer.partitions_for_topic(topic) or ()) or self.settings.partitions

    async def _caught_up(self, tp: TopicPartition) -> bool:
        assert self.consumer is not None
        highwater = self.consumer.highwater(tp)
        if highwater is None:
            return False
        position = self._next.get(tp)
        if position is None:
            try:
                position = await asyncio.wait_for(self.consumer.position(tp), timeout=1.0)
            except (TimeoutError, KafkaError):
                return False
        return position >= highwater

    async def _heartbeat(self) -> None:
        """Tell every store partition, per source partition this worker reads, its progress and the wall time."""
        assert self.consumer is not None and self.producer is not None
        mine = sorted(self.consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
        wall_ms = int(time.time() * 1000)
        for tp in mine:
            target = self.target if tp.topic == self.topic else self.review_target
            caught_up = await self._caught_up(tp)
            if self._reported.get(tp) != caught_up:
                self._reported[tp] = caught_up
                log.info("source_caught_up" if caught_up else "source_behind", topic=tp.topic,
                         partition=tp.partition, highwater=self.consumer.highwater(tp), next=self._next.get(tp))
            max_ms = self._read_ms.get(tp, NEVER)
            header = Heartbeat(tp.partition, self._sources(tp.topic), caught_up, wall_ms, max_ms).headers()
            for partition in range(self.targets):
                self._pending.append(await self.producer.send(target, value=b"", partition=partition,
                                                              headers=header))

    async def commit(self) -> None:
        """Commit what was read once everything sent so far is acknowledged; on a failed send, read it again."""
        if self.consumer is None:
            return
        owned = self.consumer.assignment()
        resume = {tp: self._next[tp] for tp in self._next if tp in owned}
        offsets = {tp: n for tp, n in resume.items() if self._committed.get(tp) != n}
        pending, self._pending = self._pending, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.error("ingest_send_failed", sends=len(failed), error=repr(failed[0]),
                      action="reading again from the committed offsets")
            for tp in owned:
                if tp in self._committed:
                    self.consumer.seek(tp, self._committed[tp])
                else:
                    await self.consumer.seek_to_committed(tp)
                self._next.pop(tp, None)
            return
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError as exc:  # a rebalance took the partitions: their next owner reads them again
            log.warning("ingest_commit_failed", error=repr(exc))
            return
        self._committed.update(offsets)

    def lag(self) -> dict[tuple[str, int], int]:
        """Per owned source partition: records not read yet (high watermark minus the next offset)."""
        if self.consumer is None:
            return {}
        lag = {}
        for tp in self.consumer.assignment():
            highwater = self.consumer.highwater(tp)
            if highwater is not None and tp in self._next:
                lag[(tp.topic, tp.partition)] = max(0, highwater - self._next[tp])
        return lag

    def on_assigned(self, assigned: Any) -> None:
        for tp in list(self._next):
            if tp not in assigned:
                self._next.pop(tp, None)
                self._committed.pop(tp, None)
                self._read_ms.pop(tp, None)
                self._orders.pop(tp, None)
        log.info("ingest_assigned", partitions=sorted(tp.partition for tp in assigned))
