"""``order-status`` and ``reviews``: read by the worker's ingest (``monitor/worker/ingest.py``), outside Faust's
per-message stream.

Ingest validates each record, dead-letters what is invalid, and sends the rest to the store partitions in batch
messages, with heartbeats per ``order-status`` partition that drive the store partitions' clocks
(``monitor/eventtime/clock.py``). It starts with the worker, once the tables are recovered.
"""

from __future__ import annotations

from typing import Any

from faust.types import TP

from monitor.worker.app import app, settings
from monitor.worker.counters import PROCESSED
from monitor.worker.ingest import Ingest
from monitor.worker.topicnames import orders_by_store_name, reviews_by_store_name

__all__ = ["WorkerIngest", "running"]

_running: list[Ingest] = []


@app.service
class WorkerIngest(Ingest):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self._by_store = (orders_by_store_name(settings.app_id), reviews_by_store_name(settings.app_id))
        _running.append(self)

    def downstream_backlog(self) -> int:
        """Batch messages on the by-store partitions this worker's agents own, not processed yet (partitions
        its agents have not processed anything of since start count as none: unknown)."""
        try:
            owned = app.consumer.assignment()
        except Exception:  # noqa: BLE001 - the consumer is not up yet
            return 0
        backlog = 0
        for (topic, partition), done in list(PROCESSED.items()):
            tp = TP(topic, partition)
            if topic in self._by_store and tp in owned:
                highwater = app.consumer.highwater(tp)
                if highwater is not None:
                    backlog += max(0, highwater - done - 1)
        return backlog


def running() -> Ingest | None:
    """This worker's ingest, once started."""
    return _running[-1] if _running else None
