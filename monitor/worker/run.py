"""Start-up of a monitor worker: logging, broker check, topics, agents, then Faust's worker loop."""

from __future__ import annotations

from monitor.logs import configure, get_logger
from monitor.settings import Settings

__all__ = ["run_worker"]


def run_worker(settings: Settings, *, broker_timeout_s: float = 60.0, rebuild_state: bool = False) -> int:
    """Run until SIGTERM/SIGINT; exit non-zero when Kafka stays unreachable for ``broker_timeout_s``, or when
    the local state folder is corrupted or foreign (``rebuild_state`` deletes it and restores the changelog)."""
    config = configure(settings.log_format, settings.log_level)
    log = get_logger("monitor.worker.run")
    from monitor.ops.admin import ensure_topics, wait_for_broker
    from monitor.ops.statedir import check_state_dir, rebuild_state_dir, write_marker

    if rebuild_state:
        rebuild_state_dir(settings)
    check_state_dir(settings)
    wait_for_broker(settings.kafka_bootstrap_servers, timeout_s=broker_timeout_s)
    ensure_topics(settings)
    write_marker(settings)

    from faust.worker import Worker

    from monitor.worker.app import install

    app = install(settings)  # before the agents and views bind themselves to it
    import monitor.web.control_views  # noqa: F401  (registers the HTTP API and the dashboard)
    import monitor.worker.agents  # noqa: F401  (registers the agents)

    log.info("worker_starting", app_id=settings.app_id, bootstrap=settings.kafka_bootstrap_servers,
             partitions=settings.partitions, store=settings.store_url, data_dir=str(settings.data_dir))
    worker = Worker(app, loglevel=settings.log_level.upper(), logging_config=config, quiet=True,
                    redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
