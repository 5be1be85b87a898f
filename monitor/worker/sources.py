"""Ingest's view of its source partitions: caught up or not, the lag, and their alignment.

Alignment: a source partition read more than ``source_skew`` of event time ahead of the slowest
partition of its topic that still has records left is paused until that one catches up. It bounds what is read
ahead; the store partitions' clocks then hold the decisions back until every source has reached their time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.errors import KafkaError

from monitor.eventtime.clock import NEVER
from monitor.logs import get_logger

__all__ = ["partitions_ahead", "align", "caught_up_with", "lag"]

log = get_logger("monitor.worker.ingest")


def partitions_ahead(read_ms: Mapping[Any, int], behind: Iterable[Any], skew_ms: int) -> set[Any]:
    """The partitions (of one topic) whose newest event read is more than ``skew_ms`` ahead of the slowest
    partition that still has records to read; none when ``skew_ms`` is 0 or no such partition was read yet."""
    known = [read_ms[tp] for tp in behind if read_ms.get(tp, NEVER) != NEVER]
    if skew_ms <= 0 or not known:
        return set()
    slowest = min(known)
    return {tp for tp, ms in read_ms.items() if ms - slowest > skew_ms}


def align(consumer: Any, topics: Iterable[str], read_ms: Mapping[Any, int], next_offset: Mapping[Any, int],
          skew_ms: int) -> None:
    """Pause (and resume) ``consumer``'s partitions of ``topics`` by ``partitions_ahead``: ``read_ms`` is the
    largest event time read per partition, ``next_offset`` the next offset to read."""
    owned = consumer.assignment()
    pause: set[Any] = set()
    for topic in topics:
        mine = {tp: ms for tp, ms in read_ms.items() if tp.topic == topic and tp in owned}
        behind = [tp for tp in mine if (hw := consumer.highwater(tp)) is not None and next_offset.get(tp, 0) < hw]
        pause |= partitions_ahead(mine, behind, skew_ms)
    paused = consumer.paused()
    if pause - paused:
        consumer.pause(*(pause - paused))
    if paused - pause:
        consumer.resume(*(paused - pause))
    if pause != paused:
        log.info("ingest_aligned", paused=sorted(f"{tp.topic}:{tp.partition}" for tp in pause))


async def caught_up_with(consumer: Any, tp: Any, next_offset: int | None) -> bool:
    """Whether ``tp`` is read up to its high watermark (``next_offset``: the next offset to read, if known)."""
    highwater = consumer.highwater(tp)
    if highwater is None:
        return False
    if next_offset is None:
        try:
            next_offset = await asyncio.wait_for(consumer.position(tp), timeout=1.0)
        except (TimeoutError, KafkaError):
            return False
    return next_offset >= highwater


def lag(consumer: Any, next_offset: Mapping[Any, int]) -> dict[tuple[str, int], int]:
    """Per owned partition with a known position: records not read yet (high watermark minus the next offset)."""
    out = {}
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is not None and tp in next_offset:
            out[(tp.topic, tp.partition)] = max(0, highwater - next_offset[tp])
    return out
