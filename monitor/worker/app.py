"""The process's Faust app, built from the Settings it is given.

Faust binds agents, tables and web views to an app when their modules are imported (``@app.agent``), so a worker
process has exactly one app. ``install(settings)`` builds it; ``run_worker`` calls it with the Settings it was
passed before importing the agents, so the app that runs is the one those settings describe. A module that reads
``app`` or ``settings`` before anything was installed (a test importing a table module) gets the app built from
``Settings.load()``, the ``MONITOR_*`` environment and ``MONITOR_CONFIG`` file. Asking for a second app from other
settings is an error rather than a silent mix of two configurations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor.settings import Settings
from monitor.worker.faust_adapter import MonitorApp

__all__ = ["app", "settings", "create_app", "install", "MonitorApp"]

if TYPE_CHECKING:  # served by __getattr__ below, so that importing this module builds nothing
    app: MonitorApp
    settings: Settings

_installed: tuple[Settings, MonitorApp] | None = None


def create_app(settings: Settings) -> MonitorApp:
    """A Faust app configured from ``settings``; agents register themselves on import."""
    brokers = [f"kafka://{hp.strip()}" for hp in settings.kafka_bootstrap_servers.split(",")]
    return MonitorApp(
        settings.app_id,
        broker=brokers,
        store=settings.store_url,
        datadir=str(settings.data_dir / "faust" / settings.app_id),  # one app id, one state folder
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        web_enabled=settings.web_enabled,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # faust's own pages would serve raw table state and the cluster's topology without the API token; the
        # monitor routes between workers itself (monitor/web/routing.py), so none of them is needed
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        producer_acks=-1,
        producer_linger=0.005,
        producer_max_batch_size=256 * 1024,  # changelog values of busy stores are kilobytes: fewer, larger requests
        broker_session_timeout=settings.session_timeout.total_seconds(),
        broker_heartbeat_interval=min(3.0, settings.session_timeout.total_seconds() / 3),
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        autodiscover=False,
        logging_config=None,
    )


def install(settings: Settings) -> MonitorApp:
    """Build this process's app from ``settings`` (once); the same settings again return the same app."""
    global _installed
    if _installed is None:
        _installed = (settings, create_app(settings))
    elif _installed[0] != settings:
        raise RuntimeError("the worker app was already built from other settings; one process runs one app")
    return _installed[1]


def __getattr__(name: str) -> Any:
    if name not in ("app", "settings"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _installed is None:
        install(Settings.load())
    assert _installed is not None
    return _installed[1] if name == "app" else _installed[0]
