"""What the benchmark scripts share: the environment of a benchmarked worker, and writing a result file."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from monitor.ops import localkafka

__all__ = ["bench_broker", "run_header", "worker_env", "write_result"]


@contextmanager
def bench_broker(work: Path) -> Iterator[str]:
    """The bootstrap address of ``KAFKA_BOOTSTRAP_SERVERS``, or of a local broker started in ``work`` and stopped
    on exit."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if bootstrap:
        yield bootstrap
        return
    info = localkafka.start(work / "kafka", port=0, heap="1g")
    try:
        yield info.bootstrap
    finally:
        localkafka.stop(work / "kafka")


def run_header(benchmark: str) -> dict:
    """What every result starts with: the benchmark, when, on what machine, against which Kafka."""
    return {"benchmark": benchmark, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "kafka": localkafka.KAFKA_VERSION}


def worker_env(bootstrap: str, app_id: str, workdir: Path, partitions: int, topics: dict[str, str]) -> dict[str, str]:
    """A quiet worker (warnings only, no web server) of its own app id and topics, state under ``workdir``."""
    env = {**os.environ, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "MONITOR_APP_ID": app_id,
           "MONITOR_DATA_DIR": str(workdir / "data"), "MONITOR_LOG_LEVEL": "warning",
           "MONITOR_LOG_FORMAT": "json", "MONITOR_WEB_ENABLED": "false", "MONITOR_PARTITIONS": str(partitions),
           "MONITOR_TOPIC_ORDER_STATUS": topics["order-status"], "MONITOR_TOPIC_REVIEWS": topics["reviews"]}
    for role in ("STORE_COMMANDS", "STORE_VISIBILITY", "ALERTS", "DEAD_LETTERS", "SILENCES"):
        env[f"MONITOR_TOPIC_{role}"] = f"{app_id}-{role.lower().replace('_', '-')}"
    return env


def write_result(result: dict, out: str | Path, *, bulky: str) -> None:
    """Write the JSON result to ``out`` and print it without its ``bulky`` key (the samples)."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != bulky}, indent=2))
