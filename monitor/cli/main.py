"""The ``monitor`` command: one entry point for the broker, the worker, the demo and the tools.

Each command group lives in its own module with a ``register`` function that adds its subparsers (each with
``set_defaults(func=...)``); this module builds the parser from them and runs the chosen command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from monitor.cli import alerts, backtest, kafka, replay, schemas, service, store
from monitor.cli.common import CommandError, UsageError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``monitor`` and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="quality-monitor: hide failing stores and alert on late orders and negative reviews.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # The order of these calls is the order of the commands in `monitor --help`.
    kafka.register(sub)  # kafka
    service.register_worker(sub)  # worker
    kafka.register_topics(sub)  # topics
    service.register_demo(sub)  # demo
    store.register(sub)  # store
    service.register_dispatcher(sub)  # dispatcher
    alerts.register(sub)  # silence, alerts
    replay.register(sub)  # dump, replay, generate, score, loadtest
    backtest.register(sub)  # backtest
    schemas.register(sub)  # schemas
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``monitor``; exit 0 on success, 2 on a usage error, 1 on a failure with a one-line reason."""
    args = build_parser().parse_args(argv)
    from monitor.ops.admin import BrokerUnavailable
    from monitor.ops.localkafka import LocalKafkaError
    from monitor.ops.statedir import StateDirError

    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"monitor: error: {exc}", file=sys.stderr)
        return 2
    except (CommandError, LocalKafkaError, BrokerUnavailable, StateDirError) as exc:
        print(f"monitor: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
