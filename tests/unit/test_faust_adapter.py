"""Faust beyond its documented API (monitor/worker/faust_adapter.py): this fails when an upgrade changes it."""

from __future__ import annotations

import asyncio
import contextvars
import inspect

import faust
from faust import streams as faust_streams

from monitor.worker.faust_adapter import MonitorApp, as_current_event


def test_the_current_event_is_a_context_variable_table_writes_read() -> None:
    """Table writes outside the agent's loop go to the partition of ``_current_event``."""
    assert isinstance(faust_streams._current_event, contextvars.ContextVar)
    from faust.tables import base

    assert "current_event()" in inspect.getsource(base.Collection.partition_for_key)

    class Event:
        pass

    event = Event()
    with as_current_event(event):
        assert faust_streams.current_event() is event
    assert faust_streams._current_event.get(None) is None


def test_the_release_hooks_exist_and_run_where_monitor_app_expects() -> None:
    """MonitorApp flushes before Faust gives up partitions (``_on_partitions_revoked``) and when the consumer
    stops, the first step of ``App.on_stop`` (``_stop_consumer``)."""
    for hook in ("_on_partitions_revoked", "_stop_consumer"):
        assert inspect.iscoroutinefunction(getattr(faust.App, hook)), hook
    assert "_stop_consumer" in inspect.getsource(faust.App.on_stop)
    assert "_on_partitions_revoked" in inspect.getsource(faust.App._on_partitions_revoked)  # still the hook
    assert issubclass(MonitorApp, faust.App)


def test_the_assignment_signal_takes_a_coroutine_handler() -> None:
    app = MonitorApp("adapter-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    assert hasattr(app.on_partitions_assigned, "connect")
    calls: list[int] = []

    async def handler(sender: object, **kwargs: object) -> None:
        calls.append(1)

    app.on_partitions_assigned.connect(handler)
    asyncio.run(app.on_partitions_assigned.send(assigned=set()))
    assert calls == [1]
