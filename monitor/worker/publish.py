"""Send what the rules decided to the output topics, with one structured log line per decision."""

from __future__ import annotations

from typing import Any

from monitor.domain.outputs import Emit
from monitor.wire.codec import encode
from monitor.worker.counters import record_emit
from monitor.worker.topics import alerts, store_visibility

__all__ = ["publish"]


async def publish(emits: list[Emit], message: Any, log: Any) -> None:
    """Publish ``emits`` (alerts keyed by alert_id, visibility keyed by store_id) and log each decision."""
    for e in emits:
        topic = alerts if e.topic == "alerts" else store_visibility
        await topic.send(key=e.key.encode(), value=encode(e.value))
        record_emit(e.topic, e.decision, e.value)
        v = e.value
        log.info("decision", decision=e.decision, output=e.topic,
                 id=getattr(v, "alert_id", None) or getattr(v, "event_id", None),
                 kind=getattr(v, "kind", None) or getattr(v, "action", None), store_id=v.store_id, city=v.city,
                 at=v.at.isoformat(), topic=message.topic, partition=message.partition, offset=message.offset)
