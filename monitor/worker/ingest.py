"""Ingest: ``order-status`` and ``reviews`` read in batches outside Faust's per-message stream, validated, and
sent on to the store partitions packed into batch messages.

Why: Faust costs a fixed amount per message, whatever the agent does (docs/benchmarks.md, "Why ingest"). Ingest
reads with a plain aiokafka consumer in a group of its own (``<app>-ingest``), screens each record (dead-lettering
what fails), and sends the store partitions one message per (source partition, store partition, poll) carrying
up to ``BATCH_MAX`` events in their source order, so Faust's cost is paid per batch.

What goes to ``<app>-order-status-by-store`` and ``<app>-reviews-by-store`` (batches of one source partition's
events in its order, and heartbeats per source partition) is defined in ``monitor/wire/protocol.py``; what is
checked before is ``monitor/worker/screening.py``. A store's events go to partition murmur2(``store_id``), the
producer's partitioner, so ``store-commands`` keyed by ``store_id`` land on the same partition.

Each store partition keeps one event-time clock per input topic over its source partitions: it moves only to a
time every source has reached, so orders and reviews are judged in event-time order whatever the pace and
interleaving of the sources (one ingest or several, one worker or two).

Alignment: a partition read too far ahead of its topic's slowest one is paused (``monitor/worker/alignment.py``).

Delivery: offsets are committed only once every message sent before them is acknowledged by the broker, and a
review partition's only up to its first review still held (at least once: after a crash the batches since the
last commit are sent again, and the store rules apply a repeated event as a no-op). A failed send rewinds to the
committed offsets.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, ProducerClosed
from mode import Service

from monitor.eventtime.clock import NEVER
from monitor.logs import get_logger
from monitor.settings import Settings
from monitor.wire.protocol import BatchHead, Heartbeat, OrderEvent, ReviewEvent, packed_within
from monitor.worker.deadletters import dead_letter_value, note_dead_letter
from monitor.worker.screening import Screened, Screening
from monitor.worker.sources import align, caught_up_with, lag
from monitor.worker.topicnames import ingest_group, orders_by_store_name, reviews_by_store_name

__all__ = ["Ingest", "BATCH_MAX", "BATCH_BYTES_MAX"]

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
        self.screening: Screening | None = None  # once the number of store partitions is known
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
        self.screening = Screening(s, self.targets)
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
        try:
            await self._read_and_forward()
        except ProducerClosed:
            if not self.should_stop:
                raise
            # stopping: on_stop closed the producer under a send in flight; nothing after the last commit is lost,
            # it is read again by the next run (at least once)
            log.info("ingest_stopped_during_a_send")

    async def _read_and_forward(self) -> None:
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
        """Screen ``records`` of one order-status partition and send the valid ones on, batched per store
        partition, in their source order (the store partitions' clocks follow each source separately)."""
        assert self.screening is not None
        screened = self.screening.orders(tp, records, int(time.time() * 1000), self._read_ms.get(tp, NEVER))
        await self._forward(tp, records, screened, self.target, self.topic)

    async def _forward_reviews(self, tp: TopicPartition, records: list[Any]) -> None:
        """Screen ``records`` of one reviews partition and send the valid ones on, batched per store partition,
        in their source order (the store partitions' review clocks follow each source separately)."""
        assert self.screening is not None
        screened = self.screening.reviews(records, int(time.time() * 1000), self._read_ms.get(tp, NEVER))
        await self._forward(tp, records, screened, self.review_target, self.review_topic)

    async def _forward(self, tp: TopicPartition, records: list[Any], screened: Screened, target: str,
                       topic: str) -> None:
        for record, reason in screened.refused:
            await self._dead_letter(record, reason)
        await self._send(target, screened.batches, BatchHead(tp.partition, self._sources(topic)))
        self._read(tp, records, screened.max_ms)

    def _read(self, tp: TopicPartition, records: list[Any], max_ms: int) -> None:
        self._next[tp] = records[-1].offset + 1
        self._read_ms[tp] = max(self._read_ms.get(tp, NEVER), max_ms)
        self.received[tp.topic] += len(records)

    def _align(self) -> None:
        """Pause the partitions read too far ahead of their topic's slowest one (see the module doc)."""
        assert self.consumer is not None
        align(self.consumer, (self.topic, self.review_topic), self._read_ms, self._next,
              int(self.settings.source_skew.total_seconds() * 1000))

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

    async def _heartbeat(self) -> None:
        """Tell every store partition, per source partition this worker reads, its progress and the wall time."""
        assert self.consumer is not None and self.producer is not None
        mine = sorted(self.consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
        wall_ms = int(time.time() * 1000)
        for tp in mine:
            target = self.target if tp.topic == self.topic else self.review_target
            caught_up = await caught_up_with(self.consumer, tp, self._next.get(tp))
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
        return {} if self.consumer is None else lag(self.consumer, self._next)

    def on_assigned(self, assigned: Any) -> None:
        for tp in list(self._next):
            if tp not in assigned:
                self._next.pop(tp, None)
                self._committed.pop(tp, None)
                self._read_ms.pop(tp, None)
                if self.screening is not None:
                    self.screening.forget(tp)
        log.info("ingest_assigned", partitions=sorted(tp.partition for tp in assigned))
