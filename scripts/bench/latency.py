"""Latency benchmark: a worker under a steady 200 input events/s; p50/p95/p99 end to end, lag, RSS, state.

    .venv/bin/python scripts/bench/latency.py --rate 200 --duration 60

Starts a local Kafka and one `monitor worker`, then runs `monitor loadtest` against it: generated traffic moved
to the present, with one input in ten a probe (a negative review answered by one alert). Writes
docs/bench/latency.json and docs/bench/latency.png.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from monitor.ops import localkafka  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--out-dir", default=str(ROOT / "docs" / "bench"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qm-latency-"))
    info = localkafka.start(work / "kafka", port=0, heap="1g")
    env = {**os.environ, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": info.bootstrap, "MONITOR_APP_ID": "latency-bench",
           "MONITOR_DATA_DIR": str(work / "data"), "MONITOR_LOG_LEVEL": "warning", "MONITOR_LOG_FORMAT": "json",
           "MONITOR_WEB_ENABLED": "false"}
    log = open(work / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        time.sleep(8)  # start-up and partition assignment
        out = Path(args.out_dir)
        cmd = [sys.executable, "-m", "monitor.cli", "loadtest", "--rate", str(args.rate), "--duration",
               str(args.duration), "--out", str(out / "latency.json"), "--chart", str(out / "latency.png"),
               "--worker-pid", str(worker.pid), "--data-dir", str(work / "data")]
        return subprocess.run(cmd, env=env).returncode
    finally:
        worker.terminate()
        worker.wait(60)
        log.close()
        localkafka.stop(work / "kafka")


if __name__ == "__main__":
    sys.exit(main())
