"""Clocks read back from state are held under the wall clock plus ``max_future_skew``: state written before the
clocks were bounded (one producer's future event moved them) is brought back, said once per agent in a warning."""

from __future__ import annotations

from typing import Any

from monitor.domain.outputs import iso_from_ms
from monitor.eventtime.clock import PartitionClock, ceiling_ms
from monitor.settings import Settings

__all__ = ["bound_clock", "partition_clock", "AHEAD_FOUND"]

AHEAD_FOUND: dict[str, int] = {}  # logger name -> states whose clock was brought back


def partition_clock(settings: Settings, assigned_wall_ms: int) -> PartitionClock:
    """A store partition's clock (orders or reviews) as the settings say: live delay and horizon, and never
    further ahead of the wall clock than ``max_future_skew``."""
    def ms(td: Any) -> int:
        return int(td.total_seconds() * 1000)
    return PartitionClock(live_delay_ms=ms(settings.live_delay), live_horizon_ms=ms(settings.live_horizon),
                          max_ahead_ms=ms(settings.max_future_skew), assigned_wall_ms=assigned_wall_ms)


def bound_clock(state: Any, max_ahead_ms: int, log: Any, name: str) -> None:
    """Bring ``state.clock_ms`` back to the ceiling when it is past it; the agent's first one logs a warning."""
    ceiling = ceiling_ms(max_ahead_ms)
    if state.clock_ms <= ceiling:
        return
    if not AHEAD_FOUND.get(name):
        log.warning("clock_ahead_brought_back", city=state.city, store_id=getattr(state, "store_id", None),
                    furthest=iso_from_ms(state.clock_ms), to=iso_from_ms(ceiling), setting="max_future_skew")
    AHEAD_FOUND[name] = AHEAD_FOUND.get(name, 0) + 1
    state.clock_ms = ceiling
