"""The silences as the silences topic says, kept in memory by every worker: ``GET /silences`` answers from here in
milliseconds instead of reading the topic (about 2 s, on the shared thread pool) for every request.

A background task tails the compacted topic from the beginning with its own consumer (no group: every worker
reads every partition). The book is ready once it has read up to the end offsets it found at start; the
mutating endpoints put what they publish into it at once, so a client reads its own writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from monitor.alerts.silences import SilenceBook
from monitor.logs import get_logger
from monitor.worker.app import app, settings

__all__ = ["BOOK", "READY", "tail_silences"]

log = get_logger("monitor.web.silence_book")
RETRY_S = 5.0


BOOK = SilenceBook()
READY = asyncio.Event()  # set once the book has read the topic up to where it ended at start


async def _tail_once(book: SilenceBook) -> None:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(settings.topic_silences, bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        ends: dict[Any, int] | None = None
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                for r in records:
                    book.read(r.key, r.value)
            if not READY.is_set():
                assigned = consumer.assignment()
                if assigned and ends is None:
                    ends = await consumer.end_offsets(list(assigned))
                if ends is not None and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    READY.set()
                    log.info("silences_loaded", silences=len(book.all()), ignored=book.ignored)
    finally:
        await consumer.stop()


@app.task
async def tail_silences() -> None:
    """Keep ``BOOK`` up to date for the life of the worker; broker trouble is retried, never fatal here."""
    while True:
        try:
            await _tail_once(BOOK)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the book keeps what it has; the API says if not ready
            log.warning("silences_tail_failed", error=f"{type(exc).__name__}: {str(exc)[:300]}", retry_s=RETRY_S)
            await asyncio.sleep(RETRY_S)
