"""``order-status`` and ``reviews``: read by the worker's ingest (``monitor/ingest.py``), outside Faust's
per-message stream.

Ingest validates each record, dead-letters what is invalid, and sends the rest to the store partitions in batch
messages, with heartbeats per ``order-status`` partition that drive the store partitions' clocks
(``monitor/clock.py``). It starts with the worker, once the tables are recovered.
"""

from __future__ import annotations

from typing import Any

from monitor.app import app, settings
from monitor.ingest import Ingest

__all__ = ["WorkerIngest", "running"]

_running: list[Ingest] = []


@app.service
class WorkerIngest(Ingest):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        _running.append(self)


def running() -> Ingest | None:
    """This worker's ingest, once started."""
    return _running[-1] if _running else None
