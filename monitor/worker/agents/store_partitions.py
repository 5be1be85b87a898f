"""This worker's store partitions as the store agent (``monitor/worker/agents/stores.py``) keeps them, and the
read-only views the web layer takes of them (never called from the stream)."""

from __future__ import annotations

from typing import Any

from monitor.domain.store_state import StoreState, store_key
from monitor.worker.agents.bounds import partition_clock
from monitor.worker.app import settings
from monitor.worker.runtime import PartitionRuntime
from monitor.worker.tables.stores import store_table

__all__ = ["LocalPartitions", "local", "snapshot", "snapshots", "partition_clock_ms"]


class LocalPartitions:
    """This worker's store partitions, in one place. ``stale`` is set by the assignment signal and cleared by
    ``_rebuild`` on the loop's next event; ``releasing`` is set by the release hook and cleared by the next
    assignment; the loop, the flush timer and the web readers only read them."""

    def __init__(self) -> None:
        self.runtimes: dict[int, PartitionRuntime] = {}  # per partition: cached states, held events, its clock
        self.stale = True  # the runtimes do not match the assignment yet: rebuild before the next event
        self.stream: Any = None  # the agent's stream with manual acknowledgement
        self.releasing = False  # partitions are being given up: flush after every event until the next assignment
        self.assigned_wall_ms = 0  # wall time of the last (re)assignment: the clocks ignore older heartbeats

    def runtime(self, partition: int) -> PartitionRuntime:
        rt = self.runtimes.get(partition)
        if rt is None:
            rt = self.runtimes[partition] = PartitionRuntime(
                clock=partition_clock(settings, self.assigned_wall_ms), partition=partition)
        return rt


local = LocalPartitions()


def snapshot(store_id: str, city: str) -> StoreState | None:
    """The state of a store held by this worker (the cached one when loaded), or None. Do not modify it."""
    key = store_key(store_id, city)
    if not local.stale:
        for rt in local.runtimes.values():
            state = rt.cache.get(key)
            if state is not None:
                return state
    raw = store_table.get(key)
    return StoreState.from_bytes(raw) if raw is not None else None


def snapshots() -> list[StoreState]:
    """Every store state held by this worker (the caches are complete once loaded). Do not modify them."""
    if not local.stale:
        return [state for rt in list(local.runtimes.values()) for state in list(rt.cache.values())]
    return [StoreState.from_bytes(raw) for raw in list(store_table.values()) if raw is not None]


def partition_clock_ms(partition: int) -> int | None:
    """The event-time clock of a store partition on this worker, if it runs here."""
    rt = None if local.stale else local.runtimes.get(partition)
    return rt.clock.now_ms if rt is not None and rt.clock.now_ms > 0 else None
