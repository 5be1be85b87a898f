"""The long-running processes: ``monitor worker``, ``monitor dispatcher`` and ``monitor demo``."""

from __future__ import annotations

import argparse
from typing import Any

from monitor.cli.common import CommandError, add_command, load_settings

__all__ = ["register_worker", "register_demo", "register_dispatcher"]

_settings = load_settings


def cmd_worker(args: argparse.Namespace) -> int:
    from monitor.worker.run import run_worker

    return run_worker(_settings(), broker_timeout_s=args.broker_timeout, rebuild_state=args.rebuild_state)


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.toolkit.demo import run_demo

    return run_demo(_settings(), keep=args.keep, port=args.port, lang=args.lang, bootstrap=args.bootstrap,
                    seed=args.seed)


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from monitor.alerts.run import run_dispatcher

    try:
        return run_dispatcher(_settings(), broker_timeout_s=args.broker_timeout)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def register_worker(sub: Any) -> None:
    """Add ``monitor worker`` to the ``monitor`` parser."""
    w = add_command(sub, "worker", cmd_worker, "run a monitor worker (Faust) against the configured Kafka")
    w.add_argument("--broker-timeout", type=float, default=60.0, help="seconds to wait for Kafka at start-up")
    w.add_argument("--rebuild-state", action="store_true",
                   help="delete the local state folder first; the tables are restored from their changelog topics")


def register_demo(sub: Any) -> None:
    """Add ``monitor demo`` to the ``monitor`` parser."""
    d = add_command(sub, "demo", cmd_demo, "replay a generated marketplace day through a local broker, a worker "
                    "and a dispatcher; show what happened and the score")
    d.add_argument("--keep", action="store_true", help="leave broker and worker running afterwards")
    d.add_argument("--port", type=int, default=0, help="broker port (default: any free port)")
    d.add_argument("--lang", choices=("en", "ru"), default="en", help="language of the delivered messages")
    d.add_argument("--bootstrap", help="use this running Kafka instead of starting a local one")
    d.add_argument("--seed", type=int, default=1, help="seed of the generated day")


def register_dispatcher(sub: Any) -> None:
    """Add ``monitor dispatcher`` to the ``monitor`` parser."""
    ds = add_command(sub, "dispatcher", cmd_dispatcher, "deliver alerts to people (Telegram, Slack, e-mail, webhooks)")
    ds.add_argument("--broker-timeout", type=float, default=60.0, help="seconds to wait for Kafka at start-up")
