"""The dead-letter path: a message that cannot be used is kept, with the reason, on the dead-letters topic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.logs import get_logger
from monitor.wire.codec import dead_letter, encode
from monitor.worker.app import settings
from monitor.worker.counters import record_dead_letter
from monitor.worker.topics import dead_letters

__all__ = ["send_to_dead_letters", "dead_letter_value", "note_dead_letter", "COUNTS", "Origin"]

log = get_logger("monitor.worker.deadletters")
# dead letters sent by this worker, by source topic (exported as a metric later)
COUNTS: Counter[str] = Counter()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an input event came from, for one that is refused after ingest packed it into a batch: its source
    topic, partition and offset, and its fields as ingest read them (the original is at that offset)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def dead_letter_value(message: Any, error: str, excerpt_bytes: int) -> bytes:
    """The dead-letter value of ``message`` (anything with topic, partition, offset, key and value)."""
    return encode(dead_letter(
        topic=message.topic, partition=message.partition, offset=message.offset,
        key=message.key, value=message.value, error=error, at=datetime.now(UTC), excerpt_bytes=excerpt_bytes,
    ))


def note_dead_letter(message: Any, error: str) -> None:
    """Count a dead letter that was sent and log one line."""
    COUNTS[message.topic] += 1
    record_dead_letter(message.topic, error)
    log.warning("dead_letter", topic=message.topic, partition=message.partition, offset=message.offset,
                reason=error, dead_letters_total=sum(COUNTS.values()))


async def send_to_dead_letters(message: Any, error: str) -> None:
    """Publish ``message`` (a faust Message) with ``error`` to dead-letters and log one line."""
    key = None if message.key is None else message.key[:1024]
    await dead_letters.send(key=key, value=dead_letter_value(message, error, settings.dead_letter_excerpt_bytes))
    note_dead_letter(message, error)
