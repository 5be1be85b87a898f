"""A year of traffic through one worker: total time, events/s, peak RSS and state size over time; bounded or not?

    .venv/bin/python scripts/bench/year.py                           # 365 days x 1,500 orders (~2.9M events, ~25 min)
    .venv/bin/python scripts/bench/year.py --days 10 --orders-per-day 500 --out docs/bench/year-short.json

Starts a local Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), streams the seeded generator's traffic (orders with
their status events and reviews, one incident of each kind on the middle day) into fresh topics without holding
it in memory, then runs one `monitor worker` over it as fast as possible. Every --sample-s seconds it records the
events applied (the events in the batches ingest forwarded to the by-store topics, below the offsets the store
agents committed), the event-day they reach, the worker's RSS and peak RSS, and the size of its state folder. The
result says whether state and RSS stay bounded: their peaks in the second and the last quarter of the replay are
compared, once the longest retention window has passed (old windows and finished orders expire by event time, so
they must not grow with history). Writes JSON (and a PNG chart with --chart).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchenv import bench_broker, run_header, worker_env, write_result  # noqa: E402

from monitor.settings import Settings  # noqa: E402
from monitor.toolkit.generate import TrafficConfig, iter_records  # noqa: E402
from monitor.toolkit.growth import boundedness, checkpoints  # noqa: E402
from monitor.toolkit.lag import committed_offsets, end_offsets, remaining  # noqa: E402
from monitor.toolkit.progress import Progress  # noqa: E402
from monitor.toolkit.replay import record_time_ms  # noqa: E402
from monitor.toolkit.resources import dir_size_mb, peak_rss_mb, rss_mb  # noqa: E402
from monitor.worker.topicnames import internal_topic_names, orders_by_store_name, reviews_by_store_name  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
DAY_MS = 86_400_000


def load(bootstrap: str, topics: dict[str, str], config: TrafficConfig, partitions: int) -> dict:
    """Stream the generated records into fresh topics; return the totals and the cumulative count at each
    event-day boundary (to map events applied to event-days)."""
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(t, partitions, 1) for t in topics.values()])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=50, batch_size=1 << 20)
    bar = Progress("load", every_s=10)
    start_ms = int(config.start.timestamp() * 1000)
    day_marks = [0]  # day_marks[d] = records before the start of event-day d
    per_topic: dict[str, int] = {}
    n = 0
    for rec in iter_records(config):
        day = (record_time_ms(rec) - start_ms) // DAY_MS
        while len(day_marks) <= day:
            day_marks.append(n)
        producer.send(topics[rec["topic"]], key=rec["key"].encode(), value=orjson.dumps(rec["value"]))
        per_topic[rec["topic"]] = per_topic.get(rec["topic"], 0) + 1
        n += 1
        bar.add()
    producer.flush()
    producer.close()
    rate = bar.done()
    return {"total": n, "per_topic": per_topic, "day_marks": day_marks, "load_events_per_s": round(rate)}


def event_day(applied: int, day_marks: list[int]) -> float:
    """Event-days covered by the first ``applied`` records (linear within a day)."""
    d = max(0, bisect_right(day_marks, applied) - 1)
    nxt = day_marks[d + 1] if d + 1 < len(day_marks) else None
    frac = (applied - day_marks[d]) / (nxt - day_marks[d]) if nxt and nxt > day_marks[d] else 0.0
    return round(d + frac, 2)


class ForwardedEvents:
    """The events inside the batch messages of the by-store topics, by partition and offset, read as they are
    written: what the worker has forwarded but not applied is counted in events, not in (batch) messages."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                      auto_offset_reset="earliest")
        parts = {t: self.consumer.partitions_for_topic(t) for t in topics}
        if not all(parts.values()):
            self.consumer.close()
            raise LookupError(f"not created yet: {[t for t, p in parts.items() if not p]}")
        tps = [TopicPartition(t, p) for t, ps in parts.items() for p in sorted(ps)]
        self.consumer.assign(tps)
        self.offsets: dict[tuple[str, int], list[int]] = {(tp.topic, tp.partition): [] for tp in tps}
        self.cumulative: dict[tuple[str, int], list[int]] = {(tp.topic, tp.partition): [] for tp in tps}

    def poll(self) -> None:
        while True:
            got = self.consumer.poll(timeout_ms=200, max_records=20_000)
            if not got:
                return
            for tp, messages in got.items():
                key = (tp.topic, tp.partition)
                offsets, cumulative = self.offsets[key], self.cumulative[key]
                for m in messages:
                    if dict(m.headers or ()).get("qm", b"").split(b":")[0] == b"b":
                        offsets.append(m.offset)
                        cumulative.append((cumulative[-1] if cumulative else 0) + len(orjson.loads(m.value)))

    def split(self, committed: dict[tuple[str, int], int]) -> tuple[int, int]:
        """(applied, not applied): events in batch messages before, and at or after, each partition's committed
        offset."""
        applied = left = 0
        for key, offsets in self.offsets.items():
            cumulative = self.cumulative[key]
            if cumulative:
                i = bisect_left(offsets, committed.get(key, 0))
                done = cumulative[i - 1] if i > 0 else 0
                applied, left = applied + done, left + cumulative[-1] - done
        return applied, left

    def close(self) -> None:
        self.consumer.close()


def run_worker(bootstrap: str, topics: dict[str, str], loaded: dict, workdir: Path, partitions: int,
               sample_s: float) -> dict:
    """One worker over the pre-loaded topics; samples until everything is applied."""
    app_id = f"bench-{workdir.name}"
    env = worker_env(bootstrap, app_id, workdir, partitions, topics)
    inputs = end_offsets(bootstrap, list(topics.values()))
    total = loaded["total"]
    by_store = [orders_by_store_name(app_id), reviews_by_store_name(app_id)]
    log = open(workdir / "worker.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    started = time.perf_counter()
    first_progress: float | None = None
    samples: list[dict] = []
    internal_targets = None
    last_sample = -sample_s
    forwarded: ForwardedEvents | None = None
    try:
        while True:
            time.sleep(2)
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited {proc.returncode}, see {workdir / 'worker.log'}")
            try:
                forwarded = forwarded or ForwardedEvents(bootstrap, by_store)
                forwarded.poll()
                committed = committed_offsets(bootstrap, app_id)
                applied, backlog = forwarded.split(committed)
            except Exception as exc:  # noqa: BLE001 - the group or the topics are not there yet
                print(f"  waiting for the group: {exc}", file=sys.stderr)
                continue
            read = total - remaining(inputs, committed)
            now = time.perf_counter()
            if first_progress is None and read > 0:
                first_progress = now
            done = False
            if read == total:  # everything read: wait until what was forwarded until now is applied too
                if internal_targets is None:
                    internal_targets = end_offsets(bootstrap, internal_topic_names(app_id))
                done = remaining(internal_targets, committed) == 0
                applied = total if done else applied
            if done or now - last_sample >= sample_s:
                last_sample = now
                s = {"t_s": round(now - started, 1), "read": read, "applied": applied,
                     "event_day": event_day(applied, loaded["day_marks"]), "backlog": backlog,
                     "rss_mb": rss_mb(proc.pid), "peak_rss_mb": peak_rss_mb(proc.pid),
                     "state_mb": dir_size_mb(workdir / "data")}
                samples.append(s)
                rate = applied / max(now - (first_progress or now), 1e-9)
                print(f"  {s['t_s']:7.1f}s applied {applied:>9,}/{total:,} ({100 * applied / total:5.1f}%, "
                      f"event-day {s['event_day']:6.1f}, {rate:,.0f}/s) backlog {backlog:>7,} "
                      f"RSS {s['rss_mb']:6.1f} MiB (peak {s['peak_rss_mb']:6.1f}) state {s['state_mb']:6.1f} MiB",
                      file=sys.stderr, flush=True)
            if done:
                break
        elapsed = time.perf_counter() - (first_progress or started)
        return {"seconds": round(elapsed, 1), "startup_s": round((first_progress or started) - started, 1),
                "events_per_s": round(total / elapsed), "peak_rss_mb": peak_rss_mb(proc.pid),
                "final_state_mb": samples[-1]["state_mb"], "samples": samples}
    finally:
        if forwarded is not None:
            forwarded.close()
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def longest_window_days() -> float:
    """The longest event-time retention of the worker's state with default settings (days)."""
    import monitor.domain.stores as store_rules  # daily totals are kept 35 days

    s = Settings.load(environ={})
    days_kept_ms = getattr(store_rules, "DAYS_KEPT_MS", 35 * DAY_MS)
    windows = [s.order_retention + s.late_window, s.negativity_window, timedelta(milliseconds=days_kept_ms)]
    return max(windows) / timedelta(days=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365, help="event-days of traffic")
    parser.add_argument("--orders-per-day", type=int, default=1500, help="orders a day (the marketplace: 1,500)")
    parser.add_argument("--stores", type=int, default=3000, help="partner stores (the marketplace: 3,000+)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample-s", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "year.json"))
    parser.add_argument("--chart", help="PNG chart of RSS and state size over event-days")
    args = parser.parse_args()
    config = TrafficConfig(start=START, days=args.days, orders_per_day=args.orders_per_day, stores=args.stores,
                           seed=args.seed)
    work = Path(tempfile.mkdtemp(prefix="qm-year-"))
    with bench_broker(work) as bootstrap:
        tag = work.name.replace("qm-year-", "")
        topics = {"order-status": f"year-{tag}-order-status", "reviews": f"year-{tag}-reviews"}
        print(f"loading {args.days} days x ~{args.orders_per_day} orders into {list(topics.values())} ...",
              file=sys.stderr)
        loaded = load(bootstrap, topics, config, args.partitions)
        print(f"loaded {loaded['total']:,} events; starting one worker", file=sys.stderr)
        worker = run_worker(bootstrap, topics, loaded, work, args.partitions, args.sample_s)
        points = checkpoints(worker["samples"], loaded["total"])
        verdict = boundedness(worker["samples"], loaded["total"], days=args.days,
                              longest_window_days=longest_window_days())
        command = (f"python scripts/bench/year.py --days {args.days} --orders-per-day {args.orders_per_day} "
                   f"--stores {args.stores} --partitions {args.partitions} --seed {args.seed}")
        result = {
            **run_header("year"), "days": args.days, "orders_per_day": args.orders_per_day,
            "stores": args.stores, "partitions": args.partitions, "seed": args.seed, "events": loaded["total"],
            "events_per_topic": loaded["per_topic"], "load_events_per_s": loaded["load_events_per_s"],
            "worker_seconds": worker["seconds"], "worker_startup_s": worker["startup_s"],
            "worker_events_per_s": worker["events_per_s"], "worker_peak_rss_mb": worker["peak_rss_mb"],
            "final_state_mb": worker["final_state_mb"],
            "checkpoints": [{k: p[k] for k in ("fraction", "t_s", "applied", "event_day", "rss_mb", "peak_rss_mb",
                                               "state_mb")} for p in points],
            "boundedness": verdict, "samples": worker["samples"], "command": command,
        }
        write_result(result, args.out, bulky="samples")
        if args.chart:
            from monitor.toolkit.chart import write_resource_chart

            write_resource_chart(worker["samples"], args.chart,
                                 f"{loaded['total']:,} events, {args.days} days x {args.orders_per_day} orders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
