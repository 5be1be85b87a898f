"""The replay toolkit's subcommands: generate, dump, replay, score, loadtest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from monitor.cli.common import CommandError, add_command, load_settings

__all__ = ["register"]

_settings = load_settings


def _iso_ms(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    from monitor.wire.contracts import ContractError, parse_timestamp

    try:
        return int(parse_timestamp(text, flag).timestamp() * 1000)
    except ContractError as exc:
        raise CommandError(str(exc)) from None


def _require_broker(settings: Any) -> None:
    from monitor.ops.localkafka import answers_metadata

    ok, error = answers_metadata(settings.kafka_bootstrap_servers)
    if not ok:
        raise CommandError(f"Kafka at {settings.kafka_bootstrap_servers} does not answer ({error}); start one with "
                           "`monitor kafka start` or set MONITOR_KAFKA_BOOTSTRAP_SERVERS")


def cmd_dump(args: argparse.Namespace) -> int:
    from monitor.toolkit.dump import dump_topics

    settings = _settings()
    _require_broker(settings)
    try:
        n = dump_topics(settings.kafka_bootstrap_servers, args.topics, args.out,
                        from_ms=_iso_ms(args.from_, "--from"), to_ms=_iso_ms(args.to, "--to"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(f"wrote {n} messages to {args.out}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import time

    from monitor.toolkit.replay import replay_file, start_for_now_ms

    settings = _settings()
    if not Path(args.file).is_file():
        raise CommandError(f"no such file: {args.file}")
    if args.speed is not None and args.speed <= 0:
        raise CommandError("--speed must be positive (omit it to replay as fast as possible)")
    _require_broker(settings)
    topic_map = {"order-status": settings.topic_order_status, "reviews": settings.topic_reviews,
                 "store-commands": settings.topic_store_commands}
    for pair in args.map or ():
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise CommandError(f"--map expects OLD=NEW, got {pair!r}")
        topic_map[old] = new
    try:
        shift_to = start_for_now_ms(args.file, int(time.time() * 1000), args.speed) if args.shift_to_now else None
    except (OSError, ValueError, KeyError) as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    try:
        n = replay_file(settings.kafka_bootstrap_servers, args.file, speed=args.speed, shift_to_ms=shift_to,
                        topic_map=topic_map)
    except (ValueError, KeyError) as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    print(f"replayed {n} messages")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from monitor.toolkit.generate import TrafficConfig, write_traffic, write_truth
    from monitor.toolkit.progress import Progress

    start = _iso_ms(args.start, "--start")
    from monitor.domain.outputs import dt_from_ms

    try:
        config = TrafficConfig(start=dt_from_ms(start or 0), seed=args.seed, days=args.days,
                               orders_per_day=args.orders_per_day, stores=args.stores, peak_factor=args.peak,
                               incidents=() if args.no_incidents else None)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = Progress(f"write {out.name}")
    n, truth = write_traffic(config, out, on_record=lambda _: bar.add())
    bar.done()
    truth_path = out.with_suffix(".truth.json")
    write_truth(truth_path, truth)
    print(f"wrote {n} records to {out} and {len(truth)} injected incidents to {truth_path}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    import json

    from monitor.toolkit.jsonl import read_records
    from monitor.toolkit.score import score

    settings = _settings()
    truth = json.loads(Path(args.truth).read_text())
    visibility, alerts = [], []
    for rec in read_records(args.output):
        value = rec.get("value") or {}
        if rec["topic"] in (settings.topic_store_visibility, "store-visibility") or "action" in value:
            visibility.append(value)
        elif "alert_id" in value:
            alerts.append(value)
    result = score(truth, visibility, alerts)
    for r in result.incidents:
        delay = f"{r.delay_s / 60:.0f} min" if r.delay_s is not None else "-"
        print(f"{r.outcome:11} {r.kind:27} {r.store_id or '-':12} {r.city:16} delay {delay:>8}  {r.evidence or ''}")
    print("totals:", ", ".join(f"{k.lower()} {v}" for k, v in result.counts().items()))
    if args.json:
        Path(args.json).write_text(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    return 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    import json

    from monitor.toolkit.lag import group_lag
    from monitor.toolkit.loadtest import run_load
    from monitor.worker.topicnames import internal_topic_names

    settings = _settings()
    if args.rate <= 0 or args.duration <= 0:
        raise CommandError("--rate and --duration must be positive")
    _require_broker(settings)
    topics = {"order-status": settings.topic_order_status, "reviews": settings.topic_reviews}
    watched = [*topics.values(), *internal_topic_names(settings.app_id)]
    result = run_load(settings.kafka_bootstrap_servers, topics, settings.topic_alerts, rate=args.rate,
                      duration_s=args.duration, probe_every=args.probe_every,
                      lag=lambda: group_lag(settings.kafka_bootstrap_servers, settings.app_id, watched),
                      progress=lambda line: print(line, file=sys.stderr))
    summary = result.summary()
    if args.worker_pid:
        from monitor.toolkit.resources import peak_rss_mb

        summary["worker_peak_rss_mb"] = peak_rss_mb(args.worker_pid)
    if args.data_dir:
        from monitor.toolkit.resources import dir_size_mb

        summary["state_mb"] = dir_size_mb(Path(args.data_dir))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    if args.chart:
        from monitor.toolkit.chart import write_chart

        write_chart(result, args.chart)
    lat = summary["latency_ms"]
    print(f"sent {summary['sent']} at {summary['achieved_rate']}/s; probes {summary['probes_answered']}/"
          f"{summary['probes_sent']}; latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms; "
          f"max lag {summary['max_lag']}")
    return 0


def register(sub: Any) -> None:
    """Add the toolkit's subcommands to the ``monitor`` parser."""
    dp = add_command(sub, "dump", cmd_dump, "copy topics to JSONL (key, value, timestamp, partition, offset)")
    dp.add_argument("topics", nargs="+", help="topic names")
    dp.add_argument("--out", required=True, help="output JSONL file")
    dp.add_argument("--from", dest="from_", help="only messages at or after this ISO 8601 time (with offset)")
    dp.add_argument("--to", help="only messages before this ISO 8601 time (with offset)")

    rp = add_command(sub, "replay", cmd_replay, "produce a JSONL file to its topics, keys and order kept")
    rp.add_argument("file", help="JSONL from `monitor dump` or `monitor generate`")
    rp.add_argument("--speed", type=float, help="event-time speed factor (60 = an hour per minute); "
                    "default: as fast as possible")
    rp.add_argument("--shift-to-now", action="store_true", help="move timestamps to the present, never ahead of the wall clock: as fast as possible the data "
                    "ends now; with --speed 1 it starts now, in step")
    rp.add_argument("--map", action="append", metavar="OLD=NEW", help="send records of topic OLD to NEW")

    g = add_command(sub, "generate", cmd_generate, "seeded synthetic marketplace traffic with injected incidents")
    g.add_argument("--out", required=True, help="JSONL output; the ground truth goes to <out>.truth.json")
    g.add_argument("--start", default="2026-02-10T00:00:00+03:00", help="first day (ISO 8601 with offset)")
    g.add_argument("--days", type=int, default=7)
    g.add_argument("--orders-per-day", type=int, default=1500)
    g.add_argument("--stores", type=int, default=300)
    g.add_argument("--peak", type=float, default=1.0, help="multiply the order volume (14 February: 3-5)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--no-incidents", action="store_true", help="normal traffic only")

    sc = add_command(sub, "score", cmd_score, "compare the monitor's output with the generator's ground truth")
    sc.add_argument("truth", help="<out>.truth.json from `monitor generate`")
    sc.add_argument("output", help="JSONL dump of store-visibility and alerts (`monitor dump`)")
    sc.add_argument("--json", help="also write the result as JSON here")

    lt = add_command(sub, "loadtest", cmd_loadtest, "drive a running monitor at a rate; measure latency and lag")
    lt.add_argument("--rate", type=float, default=200.0, help="input events per second")
    lt.add_argument("--duration", type=float, default=60.0, help="seconds")
    lt.add_argument("--probe-every", type=int, default=10, help="one input in N is a latency probe")
    lt.add_argument("--out", default="loadtest.json", help="JSON result")
    lt.add_argument("--chart", help="PNG chart of latency and lag (needs matplotlib)")
    lt.add_argument("--worker-pid", type=int, help="report the peak RSS of this worker process")
    lt.add_argument("--data-dir", help="report the size of this state folder")
