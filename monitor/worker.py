"""Start-up of a monitor worker: logging, broker check, topics, agents, then Faust's worker loop."""

from __future__ import annotations

from monitor.logs import configure, get_logger
from monitor.settings import Settings

__all__ = ["run_worker"]


def run_worker(settings: Settings, *, broker_timeout_s: float = 60.0) -> int:
    """Run until SIGTERM/SIGINT; exit non-zero when Kafka stays unreachable for ``broker_timeout_s``."""
    config = configure(settings.log_format, settings.log_level)
    log = get_logger("monitor.worker")
    from monitor.admin import ensure_topics, wait_for_broker

    wait_for_broker(settings.kafka_bootstrap_servers, timeout_s=broker_timeout_s)
    ensure_topics(settings)
    (settings.data_dir / "faust" / settings.app_id).mkdir(parents=True, exist_ok=True)

    from faust.worker import Worker

    import monitor.agents  # noqa: F401  (registers the agents)
    import monitor.web.control_views  # noqa: F401  (registers the HTTP API and the dashboard)
    from monitor.app import app

    log.info("worker_starting", app_id=settings.app_id, bootstrap=settings.kafka_bootstrap_servers,
             partitions=settings.partitions, store=settings.store_url, data_dir=str(settings.data_dir))
    worker = Worker(app, loglevel=settings.log_level.upper(), logging_config=config, quiet=True,
                    redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
