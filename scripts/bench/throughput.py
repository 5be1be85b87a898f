"""Throughput benchmark: one monitor worker over a pre-loaded topic vs a plain aiokafka consume-and-decode loop.

    .venv/bin/python scripts/bench/throughput.py --events 1000000 --out docs/bench/throughput.json

Starts a local Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), loads generated marketplace traffic (orders and
reviews, seeded) into fresh topics, then measures in the same run:
  1. baseline: an aiokafka consumer that reads and orjson-decodes every message of both topics;
  2. the worker: `monitor worker` running the whole pipeline (validation, repartition, order and review state in
     RocksDB with changelogs, decisions, alerts), timed from its first committed progress until its consumer
     group has no lag left on the input and the internal topics.
Writes a JSON result with both rates, their ratio, peak RSS of the worker and its state size on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchenv import bench_broker, run_header, worker_env, write_result  # noqa: E402

from monitor.toolkit.generate import TrafficConfig, iter_records  # noqa: E402
from monitor.toolkit.lag import committed_offsets, end_offsets, group_lag, remaining  # noqa: E402
from monitor.toolkit.progress import Progress  # noqa: E402
from monitor.toolkit.resources import dir_size_mb, peak_rss_mb  # noqa: E402
from monitor.worker.topicnames import internal_topic_names  # noqa: E402


def load(bootstrap: str, topics: dict[str, str], events: int, partitions: int) -> int:
    """Produce at least ``events`` generated records (orders and reviews) into fresh topics."""
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(t, partitions, 1) for t in topics.values()])
    admin.close()
    days = max(1, events // 100_000 + 1)
    config = TrafficConfig(start=datetime(2026, 2, 1, tzinfo=UTC), days=days, orders_per_day=20_000,
                           stores=3000, seed=42)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=50, batch_size=1 << 20)
    bar = Progress("load", total=events)
    n = 0
    for rec in iter_records(config):
        producer.send(topics[rec["topic"]], key=rec["key"].encode(), value=orjson.dumps(rec["value"]))
        n += 1
        bar.add()
        if n >= events:
            break
    producer.flush()
    producer.close()
    bar.done()
    return n


async def baseline(bootstrap: str, topics: list[str], total: int) -> float:
    """Events per second of a plain aiokafka consume + orjson decode loop."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    n, start = 0, None
    try:
        while n < total:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for msgs in batch.values():
                if start is None:
                    start = time.perf_counter()
                for m in msgs:
                    orjson.loads(m.value)
                    n += 1
    finally:
        await consumer.stop()
    return n / (time.perf_counter() - (start or time.perf_counter()))


def run_worker(bootstrap: str, topics: dict[str, str], total: int, workdir: Path, partitions: int) -> dict:
    tag = workdir.name
    app_id = f"bench-{tag}"
    env = worker_env(bootstrap, app_id, workdir, partitions, topics)
    watched = [topics["order-status"], topics["reviews"], *internal_topic_names(app_id)]
    log = open(workdir / "worker.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    started = time.perf_counter()
    first_progress = None
    samples = []
    targets, rounds = None, 0  # once the inputs are read: wait until what was forwarded by then is applied (x2)
    try:
        while True:
            time.sleep(2)
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited {proc.returncode}, see {workdir / 'worker.log'}")
            try:
                input_lag = group_lag(bootstrap, app_id, watched[:2])
                all_lag = group_lag(bootstrap, app_id, watched)
            except Exception as exc:  # noqa: BLE001 - group not there yet
                print(f"  waiting for the group: {exc}", file=sys.stderr)
                continue
            now = time.perf_counter()
            samples.append({"t_s": round(now - started, 1), "input_lag": input_lag, "total_lag": all_lag})
            print(f"  {now - started:7.1f}s input lag {input_lag:>9,} all lag {all_lag:>9,}", file=sys.stderr)
            if first_progress is None and input_lag < total:
                first_progress = now
            if input_lag == 0:
                if targets is None:
                    targets = end_offsets(bootstrap, watched[2:])
                elif remaining(targets, committed_offsets(bootstrap, app_id)) == 0:
                    rounds += 1
                    if rounds == 2:  # by store, then what the store agents sent on by city
                        break
                    targets = end_offsets(bootstrap, watched[2:])
        elapsed = time.perf_counter() - (first_progress or started)
        return {"events_per_s": total / elapsed, "seconds": round(elapsed, 1),
                "startup_s": round((first_progress or started) - started, 1),
                "peak_rss_mb": round(peak_rss_mb(proc.pid), 1),
                "state_mb": round(dir_size_mb(workdir / "data"), 1), "lag_samples": samples}
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="input events to pre-load")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "throughput.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qm-bench-"))
    with bench_broker(work) as bootstrap:
        tag = work.name.replace("qm-bench-", "")
        topics = {"order-status": f"bench-{tag}-order-status", "reviews": f"bench-{tag}-reviews"}
        total = load(bootstrap, topics, args.events, args.partitions)
        base = asyncio.run(baseline(bootstrap, list(topics.values()), total))
        print(f"baseline aiokafka consume+decode: {base:,.0f} events/s", file=sys.stderr)
        worker = run_worker(bootstrap, topics, total, work, args.partitions)
        result = {
            **run_header("throughput"), "events": total, "partitions": args.partitions,
            "baseline_events_per_s": round(base), "worker_events_per_s": round(worker["events_per_s"]),
            "ratio_worker_to_baseline": round(worker["events_per_s"] / base, 3),
            "worker_seconds": worker["seconds"], "worker_startup_s": worker["startup_s"],
            "worker_peak_rss_mb": worker["peak_rss_mb"], "worker_state_mb": worker["state_mb"],
            "lag_samples": worker["lag_samples"],
            "command": f"python scripts/bench/throughput.py --events {args.events} --partitions {args.partitions}",
        }
        write_result(result, args.out, bulky="lag_samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
