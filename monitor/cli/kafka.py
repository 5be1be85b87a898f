"""The local broker and the topics: ``monitor kafka fetch|start|stop|status`` and ``monitor topics create``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from monitor.cli.common import add_command, load_settings

__all__ = ["register", "register_topics"]

_settings = load_settings


def _kafka_dir(args: argparse.Namespace) -> Path:
    if args.data_dir:
        return Path(args.data_dir)
    return _settings().data_dir / "kafka"


def cmd_kafka_fetch(args: argparse.Namespace) -> int:
    from monitor.ops import localkafka

    lib = localkafka.fetch(quiet=not args.verbose)
    print(f"Kafka {localkafka.KAFKA_VERSION} jars in {lib}")
    return 0


def cmd_kafka_start(args: argparse.Namespace) -> int:
    from monitor.ops import localkafka

    info = localkafka.start(_kafka_dir(args), port=args.port, timeout_s=args.timeout)
    print(f"Kafka {info.version} is up (pid {info.pid}); bootstrap servers: {info.bootstrap}")
    print(f"  export MONITOR_KAFKA_BOOTSTRAP_SERVERS={info.bootstrap}")
    print(f"  log: {info.log_file}")
    return 0


def cmd_kafka_stop(args: argparse.Namespace) -> int:
    from monitor.ops import localkafka

    if localkafka.stop(_kafka_dir(args)):
        print("Kafka stopped")
    else:
        print("no local Kafka was running")
    return 0


def cmd_kafka_status(args: argparse.Namespace) -> int:
    from monitor.ops import localkafka

    info = localkafka.status(_kafka_dir(args))
    if info is None:
        print("local Kafka: not running")
        return 1
    print(f"local Kafka {info.version}: running (pid {info.pid}), bootstrap servers {info.bootstrap}")
    return 0


def cmd_topics_create(args: argparse.Namespace) -> int:
    from monitor.ops.admin import ensure_topics, wait_for_broker

    settings = _settings()
    wait_for_broker(settings.kafka_bootstrap_servers, timeout_s=args.broker_timeout)
    created = ensure_topics(settings)
    print(f"created {len(created)} topic(s): {', '.join(created) or '-'} ({settings.partitions} partitions)")
    return 0


def register(sub: Any) -> None:
    """Add ``monitor kafka`` and its actions to the ``monitor`` parser."""
    kafka = sub.add_parser("kafka", help="a local Apache Kafka broker (KRaft) for development and tests",
                           description="A local Apache Kafka broker (KRaft) on 127.0.0.1, from Maven Central jars.")
    ksub = kafka.add_subparsers(dest="kafka_command", metavar="ACTION", required=True)
    add_command(ksub, "fetch", cmd_kafka_fetch, "download the Kafka jars with Maven (once)").add_argument(
        "-v", "--verbose", action="store_true", help="show Maven's output")
    for name, func, text in (
        ("start", cmd_kafka_start, "format storage if needed, start the broker, wait until it answers"),
        ("stop", cmd_kafka_stop, "stop the local broker"),
        ("status", cmd_kafka_status, "tell whether the local broker runs (exit 1 if not)"),
    ):
        p = add_command(ksub, name, func, text)
        p.add_argument("--data-dir", help="broker data folder (default: <data_dir>/kafka)")
        if name == "start":
            p.add_argument("--port", type=int, default=9092, help="listener port on 127.0.0.1; 0 = any free port")
            p.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the broker")


def register_topics(sub: Any) -> None:
    """Add ``monitor topics create`` to the ``monitor`` parser."""
    topics = sub.add_parser("topics", help="manage the monitor's topics")
    tsub = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    t = add_command(tsub, "create", cmd_topics_create, "create missing topics with the configured partition count")
    t.add_argument("--broker-timeout", type=float, default=30.0, help="seconds to wait for Kafka")
