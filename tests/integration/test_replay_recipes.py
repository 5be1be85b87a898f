"""The replay recipes in scripts/replay/ run as written: the smallest (a small marketplace day) against the real
broker puts every generated record on the monitor's input topics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kafkautil import consume_until

ROOT = Path(__file__).resolve().parents[2]


def test_the_day_recipe_generates_and_replays_into_the_monitors_topics(monitor_env, tmp_path: Path) -> None:
    env = {**monitor_env, "OUT": str(tmp_path), "ORDERS_PER_DAY": "200", "STORES": "20",
           "MONITOR": str(Path(sys.executable).parent / "monitor")}
    run = subprocess.run(["bash", str(ROOT / "scripts/replay/day.sh")], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"score {tmp_path}/day.truth.json" in run.stdout
    lines = (tmp_path / "day.jsonl").read_text().splitlines()
    assert (tmp_path / "day.truth.json").exists() and len(lines) > 200
    boot = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
    orders = sum('"order-status"' in line for line in lines)
    reviews = sum('"reviews"' in line for line in lines)
    assert orders + reviews == len(lines) and orders > 0 and reviews > 0
    got = consume_until(boot, monitor_env["MONITOR_TOPIC_ORDER_STATUS"], lambda ms: len(ms) >= orders)
    assert len(got) == orders
    got = consume_until(boot, monitor_env["MONITOR_TOPIC_REVIEWS"], lambda ms: len(ms) >= reviews)
    assert len(got) == reviews
