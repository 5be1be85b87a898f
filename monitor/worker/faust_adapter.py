"""What this project needs from Faust beyond its documented API, in one place.

``tests/unit/test_faust_adapter.py`` fails if a Faust upgrade changes any of it.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import faust
from faust import streams as faust_streams

__all__ = ["MonitorApp", "as_current_event", "on_partitions_assigned"]


class MonitorApp(faust.App):
    """A faust.App that lets agents flush what they hold before the worker gives up its partitions.

    Agents that write state in batches register a callback in ``before_release``; it runs first when partitions
    are revoked (rebalance) and when the consumer stops (shutdown), while the tables are still open and before
    faust waits for unacknowledged events and commits.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_release: list[Callable[[], Awaitable[None]]] = []

    async def _release(self) -> None:
        for callback in self.before_release:
            await callback()

    async def _on_partitions_revoked(self, revoked: Any) -> None:  # faust 0.15 private hook
        if not self.should_stop:
            await self._release()
        await super()._on_partitions_revoked(revoked)

    async def _stop_consumer(self) -> None:  # faust 0.15 private hook, first step of App.on_stop
        await self._release()
        await super()._stop_consumer()


@contextmanager
def as_current_event(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event outside the agent's own iteration, so that table writes made there
    (a flush from a timer or before a rebalance) go to the partition of that event. Faust 0.15 reads the private
    context variable ``faust.streams._current_event`` for it."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


def on_partitions_assigned(app: Any) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Decorator: run the handler after every (re)assignment of partitions to this worker (Faust's signal; its
    type stubs want a ``signal`` keyword the handlers do not need)."""
    def register(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        app.on_partitions_assigned.connect(handler)
        return handler
    return register
