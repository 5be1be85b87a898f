"""One message never stops a worker: what goes wrong with one message alone is dead-lettered, and the stream goes on.

A rule that raises on some input, or an output that cannot be sent for a reason of its own (too large), would
otherwise end the agent: Faust restarts it in-process and goes on with the next message, so the failing batch
(other stores' events packed with it) is lost without a trace, and shutdown hangs on events never acknowledged.
Broker and disk trouble is different: skipping input there would lose it, so it still stops the worker (and a
restart picks up where it was).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from monitor.logs import get_logger
from monitor.wire.codec import DecodeError
from monitor.worker.deadletters import Origin, send_to_dead_letters

__all__ = ["is_infrastructure", "own_faults", "contain", "packed_origin", "RULE_FAILED"]

log = get_logger("monitor.worker.agents.guard")
RULE_FAILED = "RULE_FAILED"
_DISK = ("IO error", "Corruption", "No space left")  # how RocksDB (rocksdict) says the disk failed


def is_infrastructure(exc: BaseException) -> bool:
    """True for broker or disk trouble (stop the worker); False for a fault of the message's own."""
    from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
    from faust.exceptions import ProducerSendError

    if isinstance(exc, ProducerSendError):  # faust's topic.send wraps the producer's KafkaError: judge that one
        return not isinstance(exc.__cause__, BaseException) or is_infrastructure(exc.__cause__)
    if isinstance(exc, (MessageSizeTooLargeError, RecordTooLargeError)):
        return False
    if isinstance(exc, (KafkaError, OSError, MemoryError)):
        return True
    return type(exc) is Exception and str(exc).startswith(_DISK)


@asynccontextmanager
async def own_faults(origin: Any, what: str) -> AsyncIterator[None]:
    """Run the block; if it raises for a reason of the message's own, dead-letter ``origin`` (a message or a
    ``deadletters.Origin``, or a function that makes one: it runs only then, off the hot path) with reason
    ``RULE_FAILED`` naming ``what`` failed, and go on; a ``DecodeError`` dead-letters it with its own reason.
    Infrastructure errors pass through."""
    try:
        yield
    except Exception as exc:
        await contain(exc, origin, what)


async def contain(exc: Exception, origin: Any, what: str) -> None:
    """What ``own_faults`` does with an exception, for loops that use ``try``/``except`` themselves (an ``async
    with`` per event costs more than the rule it guards): re-raise it if it is infrastructure, else dead-letter
    ``origin`` and return."""
    if isinstance(exc, DecodeError):  # the message does not read as its kind: dead-lettered with that reason
        await send_to_dead_letters(origin() if callable(origin) else origin, exc.reason)
        return
    if is_infrastructure(exc):
        raise exc
    detail = f"{type(exc).__name__}: {str(exc)[:500]}"
    if callable(origin):
        origin = origin()
    log.error("rule_failed", what=what, error=detail, topic=origin.topic, partition=origin.partition,
              offset=origin.offset, exc_info=True)
    on = f" on {origin.key!r}" if getattr(origin, "key", None) is not None else ""
    await send_to_dead_letters(origin, f"{origin.topic}: {RULE_FAILED}: {what}{on} raised {detail}")


def packed_origin(topic: str, source: int, event: Any, offset_at: int) -> Origin:
    """Where an event that ingest packed into a batch came from: its source ``topic`` and partition, and the
    source offset ingest packed at index ``offset_at``; safe whatever the event's shape."""
    fields = event if isinstance(event, list) else []
    offset = fields[offset_at] if len(fields) > offset_at and isinstance(fields[offset_at], int) else -1
    key = fields[0].encode() if fields and isinstance(fields[0], str) else None
    return Origin(topic, source, offset, key, orjson.dumps(event, default=repr))
