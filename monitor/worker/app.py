"""The Faust app, built once from the settings (``MONITOR_*`` environment and ``MONITOR_CONFIG`` file)."""

from __future__ import annotations

from monitor.settings import Settings
from monitor.worker.faust_adapter import MonitorApp

__all__ = ["app", "settings", "create_app", "MonitorApp"]


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


settings = Settings.load()
app = create_app(settings)
