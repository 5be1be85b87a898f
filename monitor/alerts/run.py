"""`monitor dispatcher`: the delivery service as a process (configuration, broker, signals)."""

from __future__ import annotations

import asyncio

from monitor.alerts.dispatcher import Dispatcher
from monitor.logs import hide_secrets
from monitor.settings import Settings

__all__ = ["run_dispatcher"]


def run_dispatcher(settings: Settings, *, broker_timeout_s: float = 60.0) -> int:
    """Run the dispatcher until SIGTERM/SIGINT (exit 0); a bad configuration or no broker exits 1."""
    import signal

    from monitor.alerts.control import load_dispatch_config
    from monitor.logs import configure
    from monitor.ops.admin import ensure_topics, wait_for_broker

    configure(settings.log_format, settings.log_level)
    config = load_dispatch_config(settings)
    hide_secrets(config.secrets)
    wait_for_broker(settings.kafka_bootstrap_servers, timeout_s=broker_timeout_s)
    ensure_topics(settings)

    async def main() -> None:
        dispatcher = Dispatcher(settings, config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, dispatcher.stop)
        await dispatcher.run()

    asyncio.run(main())
    return 0
