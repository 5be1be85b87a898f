"""What ingest does to each input record before anything is sent, without Kafka: the contract (key, size,
fields), the times against the wall clock, the order registry (repeats, moves between stores); the valid events
grouped by the store partition they go to, the refused ones with the reason their dead letter carries.

Kept apart from the consumer and producer (``monitor/worker/ingest.py``) so that the checks are one piece of code
whatever feeds them, and can be run over a recorded file in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.domain.intake import OrderRegistry, Refusal, SeenOutcome, future_refusal, promise_refusal
from monitor.domain.negativity import REVIEW_TEXT_MAX
from monitor.domain.stores import MOVED
from monitor.eventtime.clock import NEVER
from monitor.logs import get_logger
from monitor.settings import Settings
from monitor.web.routing import partition_for
from monitor.wire.codec import DecodeError, check_key, order_status_fields, review_fields
from monitor.wire.protocol import OrderEvent, ReviewEvent

__all__ = ["InputRecord", "Screened", "Screening", "excerpt"]

log = get_logger("monitor.worker.ingest")


class InputRecord(Protocol):
    """A record as read from ``order-status`` or ``reviews`` (a consumer record, or a line of a dump)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(slots=True)
class Screened:
    """One poll of one source partition, screened."""

    batches: dict[int, list[Any]] = field(default_factory=dict)  # store partition -> events, in source order
    refused: list[tuple[InputRecord, str]] = field(default_factory=list)  # record, dead letter's reason
    max_ms: int = NEVER  # the largest event time among the valid ones (and the source's before)


def excerpt(text: str) -> str:
    """A review's text as the monitor passes it on: alerts quote it, and every output has a size bound."""
    return text if len(text) <= REVIEW_TEXT_MAX else text[:REVIEW_TEXT_MAX] + "…"


def _ms(dt: Any) -> int:
    return int(dt.timestamp() * 1000)


class Screening:
    """The screening of every source partition one ingest reads; ``targets`` is the number of store partitions."""

    def __init__(self, settings: Settings, targets: int) -> None:
        self.settings = settings
        self.targets = targets
        self._orders: dict[Hashable, OrderRegistry] = {}  # recent orders per order-status partition
        self._future_ms = int(settings.max_future_skew.total_seconds() * 1000)
        self._horizon_ms = int(settings.max_promise_horizon.total_seconds() * 1000)
        self._keep_ms = int((settings.late_window + settings.order_retention).total_seconds() * 1000)

    def forget(self, source: Hashable) -> None:
        """Drop what is kept about a source partition this ingest no longer reads."""
        self._orders.pop(source, None)

    def orders(self, source: Hashable, records: Sequence[InputRecord], wall_ms: int,
               max_ms: int = NEVER) -> Screened:
        """Screen ``records`` of one order-status partition ``source``; ``max_ms``: its largest event time so
        far. An order that moves to another store is also sent, as MOVED, to the store it leaves."""
        out = Screened(max_ms=max_ms)
        registry = self._orders.get(source) or self._orders.setdefault(source, OrderRegistry(self._keep_ms))
        for record in records:
            d = self._valid(record, "order_id", order_status_fields, self._order_refusal, wall_ms, out)
            if d is None:
                continue
            at_ms, promised_ms = d["occurred_ms"], d["promised_ms"]
            oid, store, city, status = d["order_id"], d["store_id"], d["city"], d["status"]
            seen = registry.see(oid, d["event_id"], (store, city), hash((store, city, status, at_ms, promised_ms)),
                                at_ms)
            if seen.refusal is not None:
                out.refused.append((record, seen.refusal.reason(record.topic)))
                continue
            if seen.outcome is SeenOutcome.MOVED and seen.previous is not None:  # the first store stops counting it
                old_store, old_city = seen.previous
                out.batches.setdefault(self._partition(old_store), []).append(
                    OrderEvent(oid, old_store, old_city, MOVED, at_ms, promised_ms, record.offset))
                log.info("order_moved", order_id=oid, from_store=old_store, from_city=old_city, to_store=store,
                         to_city=city, partition=record.partition, offset=record.offset)
            out.max_ms = max(out.max_ms, at_ms)
            out.batches.setdefault(self._partition(store), []).append(
                OrderEvent(oid, store, city, status, at_ms, promised_ms, record.offset))
        if out.max_ms != NEVER:
            registry.expire(out.max_ms)
        return out

    def reviews(self, records: Sequence[InputRecord], wall_ms: int, max_ms: int = NEVER) -> Screened:
        """Screen ``records`` of one reviews partition; ``max_ms``: its largest event time so far."""
        out = Screened(max_ms=max_ms)
        for record in records:
            d = self._valid(record, "review_id", review_fields, self._review_refusal, wall_ms, out)
            if d is not None:
                created_ms = d["created_ms"]
                out.max_ms = max(out.max_ms, created_ms)
                out.batches.setdefault(self._partition(d["store_id"]), []).append(
                    ReviewEvent(d["review_id"], d["order_id"], d["store_id"], d["city"], d["rating"],
                                excerpt(d["text"]), created_ms, record.offset))
        return out

    def _partition(self, store_id: str) -> int:
        """The store partition of ``store_id`` (murmur2, as the producer's partitioner places store-commands)."""
        return 0 if self.targets == 1 else partition_for(store_id.encode(), self.targets)

    def _order_refusal(self, d: dict[str, Any], wall_ms: int) -> Refusal | None:
        occurred_ms = d["occurred_ms"] = _ms(d["occurred_at"])
        promised_ms = d["promised_ms"] = _ms(d["promised_at"])
        return (future_refusal("occurred_at", occurred_ms, wall_ms, self._future_ms)
                or promise_refusal(occurred_ms, promised_ms, self._horizon_ms))

    def _review_refusal(self, d: dict[str, Any], wall_ms: int) -> Refusal | None:
        created_ms = d["created_ms"] = _ms(d["created_at"])
        return future_refusal("created_at", created_ms, wall_ms, self._future_ms)

    def _valid(self, record: InputRecord, key_field: str, decode: Any,
               refuse: Callable[[dict[str, Any], int], Refusal | None], wall_ms: int,
               out: Screened) -> dict[str, Any] | None:
        """The validated fields of ``record``, or None once it is in ``out.refused`` with the reason: it breaks
        its contract, or ``refuse`` finds its times impossible at the wall clock ``wall_ms``."""
        try:
            check_key(record.topic, record.key, key_field)
            d: dict[str, Any] = decode(record.value, max_bytes=self.settings.max_value_bytes)
        except DecodeError as exc:
            out.refused.append((record, exc.reason))
            return None
        refusal = refuse(d, wall_ms)
        if refusal is not None:
            out.refused.append((record, refusal.reason(record.topic)))
            return None
        return d
