"""The ``monitor`` command: one entry point for the broker, the worker, the demo and the tools."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser"]

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"


class CommandError(Exception):
    """A runtime failure with a one-line reason (exit code 1)."""


def _settings() -> Any:
    from monitor.settings import Settings, SettingsError

    try:
        return Settings.load()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None


def _kafka_dir(args: argparse.Namespace) -> Path:
    if args.data_dir:
        return Path(args.data_dir)
    return _settings().data_dir / "kafka"


# --- kafka -------------------------------------------------------------------------------------------------


def cmd_kafka_fetch(args: argparse.Namespace) -> int:
    from monitor import localkafka

    lib = localkafka.fetch(quiet=not args.verbose)
    print(f"Kafka {localkafka.KAFKA_VERSION} jars in {lib}")
    return 0


def cmd_kafka_start(args: argparse.Namespace) -> int:
    from monitor import localkafka

    info = localkafka.start(_kafka_dir(args), port=args.port, timeout_s=args.timeout)
    print(f"Kafka {info.version} is up (pid {info.pid}); bootstrap servers: {info.bootstrap}")
    print(f"  export MONITOR_KAFKA_BOOTSTRAP_SERVERS={info.bootstrap}")
    print(f"  log: {info.log_file}")
    return 0


def cmd_kafka_stop(args: argparse.Namespace) -> int:
    from monitor import localkafka

    if localkafka.stop(_kafka_dir(args)):
        print("Kafka stopped")
    else:
        print("no local Kafka was running")
    return 0


def cmd_kafka_status(args: argparse.Namespace) -> int:
    from monitor import localkafka

    info = localkafka.status(_kafka_dir(args))
    if info is None:
        print("local Kafka: not running")
        return 1
    print(f"local Kafka {info.version}: running (pid {info.pid}), bootstrap servers {info.bootstrap}")
    return 0


# --- worker, topics, demo ----------------------------------------------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    from monitor.worker import run_worker

    return run_worker(_settings(), broker_timeout_s=args.broker_timeout)


def cmd_topics_create(args: argparse.Namespace) -> int:
    from monitor.admin import ensure_topics, wait_for_broker

    settings = _settings()
    wait_for_broker(settings.kafka_bootstrap_servers, timeout_s=args.broker_timeout)
    created = ensure_topics(settings)
    print(f"created {len(created)} topic(s): {', '.join(created) or '-'} ({settings.partitions} partitions)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return run_demo(_settings(), keep=args.keep, port=args.port, lang=args.lang)


def cmd_store_restore(args: argparse.Namespace) -> int:
    from monitor.commands import send_store_command

    if not args.by.strip() or not args.note.strip():
        raise CommandError("--by and --note must not be empty: a restore is on the record")
    cmd = send_store_command(_settings(), "restore", store_id=args.store_id, city=args.city, by=args.by,
                             note=args.note)
    print(f"restore of {args.store_id} ({args.city}) sent as command {cmd.command_id}; the owning worker "
          "publishes the restore on store-visibility")
    return 0


# --- alert delivery -----------------------------------------------------------------------------------------


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from monitor.alerts.dispatcher import run_dispatcher

    try:
        return run_dispatcher(_settings(), broker_timeout_s=args.broker_timeout)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def cmd_silence_add(args: argparse.Namespace) -> int:
    from monitor.alerts.control import add_silence, parse_matchers
    from monitor.settings import parse_duration

    try:
        matchers = parse_matchers(args.match)
        duration = parse_duration(args.duration)
        silence = add_silence(_settings(), matchers=matchers, duration=duration, by=args.by, comment=args.comment,
                              now_ms=_now_ms(), end_on_resolve=args.end_on_resolve)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(f"silence {silence.silence_id} until {_iso(silence.ends_at_ms)}")
    return 0


def _iso(ms: int) -> str:
    from monitor.rules.outputs import iso_from_ms

    return iso_from_ms(ms)


def cmd_silence_list(args: argparse.Namespace) -> int:
    from monitor.alerts.control import list_silences

    now = _now_ms()
    shown = 0
    for s in list_silences(_settings()):
        if s.is_active(now) or args.all:
            state = "active" if s.is_active(now) else ("expired" if s.expired or s.ends_at_ms <= now else "pending")
            print(f"{s.silence_id}  {state:8} until {_iso(s.ends_at_ms)}  by {s.created_by}: {s.comment}  "
                  f"{dict(s.matchers)}{'  (ends on resolve)' if s.end_on_resolve else ''}")
            shown += 1
    if not shown:
        print("no active silences" if not args.all else "no silences")
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    from monitor.alerts.control import expire_silence

    try:
        expire_silence(_settings(), args.silence_id, by=args.by)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(f"silence {args.silence_id} expired")
    return 0


def cmd_alerts_ack(args: argparse.Namespace) -> int:
    from monitor.alerts.control import acknowledge_alert

    acknowledge_alert(_settings(), args.alert_id, by=args.by, now_ms=_now_ms())
    print(f"acknowledged {args.alert_id}: no more repeats (a change or a resolve is still sent)")
    return 0


# --- replay toolkit ----------------------------------------------------------------------------------------


def _iso_ms(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    from monitor.contracts import ContractError, parse_timestamp

    try:
        return int(parse_timestamp(text, flag).timestamp() * 1000)
    except ContractError as exc:
        raise CommandError(str(exc)) from None


def _require_broker(settings: Any) -> None:
    from monitor.localkafka import answers_metadata

    ok, error = answers_metadata(settings.kafka_bootstrap_servers)
    if not ok:
        raise CommandError(f"Kafka at {settings.kafka_bootstrap_servers} does not answer ({error}); start one with "
                           "`monitor kafka start` or set MONITOR_KAFKA_BOOTSTRAP_SERVERS")


def cmd_dump(args: argparse.Namespace) -> int:
    from monitor.replay.dump import dump_topics

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

    from monitor.replay.replay import replay_file

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
    shift_to = int(time.time() * 1000) if args.shift_to_now else None
    try:
        n = replay_file(settings.kafka_bootstrap_servers, args.file, speed=args.speed, shift_to_ms=shift_to,
                        topic_map=topic_map)
    except (ValueError, KeyError) as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    print(f"replayed {n} messages")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from monitor.replay.generate import TrafficConfig, generate, write_jsonl, write_truth
    from monitor.replay.progress import Progress

    start = _iso_ms(args.start, "--start")
    from monitor.rules.outputs import dt_from_ms

    try:
        config = TrafficConfig(start=dt_from_ms(start or 0), seed=args.seed, days=args.days,
                               orders_per_day=args.orders_per_day, stores=args.stores, peak_factor=args.peak,
                               incidents=() if args.no_incidents else None)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    traffic = generate(config)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = Progress(f"write {out.name}", total=len(traffic.records))

    def counted(records):  # type: ignore[no-untyped-def]
        for r in records:
            bar.add()
            yield r

    n = write_jsonl(out, counted(traffic.records))
    bar.done()
    truth = out.with_suffix(".truth.json")
    write_truth(truth, traffic.truth)
    print(f"wrote {n} records to {out} and {len(traffic.truth)} injected incidents to {truth}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    import json

    from monitor.replay.jsonl import read_records
    from monitor.replay.score import score

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

    from monitor.replay.lag import group_lag
    from monitor.replay.loadtest import run_load
    from monitor.topicnames import internal_topic_names

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
        from monitor.replay.resources import peak_rss_mb

        summary["worker_peak_rss_mb"] = peak_rss_mb(args.worker_pid)
    if args.data_dir:
        from monitor.replay.resources import dir_size_mb

        summary["state_mb"] = dir_size_mb(Path(args.data_dir))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    if args.chart:
        from monitor.replay.chart import write_chart

        write_chart(result, args.chart)
    lat = summary["latency_ms"]
    print(f"sent {summary['sent']} at {summary['achieved_rate']}/s; probes {summary['probes_answered']}/"
          f"{summary['probes_sent']}; latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms; "
          f"max lag {summary['max_lag']}")
    return 0


# --- schemas -----------------------------------------------------------------------------------------------


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from monitor.contracts import CONTRACTS

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    stale = []
    for topic, contract in CONTRACTS.items():
        path = out / f"{topic}.schema.json"
        text = json.dumps(contract.json_schema(), indent=2, ensure_ascii=False) + "\n"
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        raise CommandError(f"schemas out of date: {', '.join(stale)} (run `monitor schemas export`)")
    return 0


# --- parser ------------------------------------------------------------------------------------------------


def _add(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``monitor`` and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="quality-monitor: hide failing stores and alert on late orders and negative reviews.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    kafka = sub.add_parser("kafka", help="a local Apache Kafka broker (KRaft) for development and tests",
                           description="A local Apache Kafka broker (KRaft) on 127.0.0.1, from Maven Central jars.")
    ksub = kafka.add_subparsers(dest="kafka_command", metavar="ACTION", required=True)
    _add(ksub, "fetch", cmd_kafka_fetch, "download the Kafka jars with Maven (once)").add_argument(
        "-v", "--verbose", action="store_true", help="show Maven's output")
    for name, func, text in (
        ("start", cmd_kafka_start, "format storage if needed, start the broker, wait until it answers"),
        ("stop", cmd_kafka_stop, "stop the local broker"),
        ("status", cmd_kafka_status, "tell whether the local broker runs (exit 1 if not)"),
    ):
        p = _add(ksub, name, func, text)
        p.add_argument("--data-dir", help="broker data folder (default: <data_dir>/kafka)")
        if name == "start":
            p.add_argument("--port", type=int, default=9092, help="listener port on 127.0.0.1; 0 = any free port")
            p.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the broker")

    w = _add(sub, "worker", cmd_worker, "run a monitor worker (Faust) against the configured Kafka")
    w.add_argument("--broker-timeout", type=float, default=60.0, help="seconds to wait for Kafka at start-up")

    topics = sub.add_parser("topics", help="manage the monitor's topics")
    tsub = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    t = _add(tsub, "create", cmd_topics_create, "create missing topics with the configured partition count")
    t.add_argument("--broker-timeout", type=float, default=30.0, help="seconds to wait for Kafka")

    d = _add(sub, "demo", cmd_demo, "start a local broker and a worker, feed a demo stream, show what happened")
    d.add_argument("--keep", action="store_true", help="leave broker and worker running afterwards")
    d.add_argument("--port", type=int, default=0, help="broker port (default: any free port)")
    d.add_argument("--lang", choices=("en", "ru"), default="en", help="language of the delivered messages")

    store = sub.add_parser("store", help="act on a store")
    stsub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    r = _add(stsub, "restore", cmd_store_restore, "make a hidden store visible again (after talking to the partner)")
    r.add_argument("store_id")
    r.add_argument("--city", required=True, help="city of the store")
    r.add_argument("--by", required=True, help="who restores it")
    r.add_argument("--note", required=True, help="why (kept with the restore event)")

    ds = _add(sub, "dispatcher", cmd_dispatcher, "deliver alerts to people (Telegram, Slack, e-mail, webhooks)")
    ds.add_argument("--broker-timeout", type=float, default=60.0, help="seconds to wait for Kafka at start-up")

    silence = sub.add_parser("silence", help="mute matching alerts for a while")
    silsub = silence.add_subparsers(dest="silence_command", metavar="ACTION", required=True)
    sa = _add(silsub, "add", cmd_silence_add, "silence alerts that match all --match filters")
    sa.add_argument("--match", action="append", required=True, metavar="LABEL=VALUE",
                    help="kind, severity, status, city or store_id; VALUE or ~REGEX; repeat for more")
    sa.add_argument("--duration", required=True, help="how long, e.g. 2h")
    sa.add_argument("--by", required=True, help="who silences")
    sa.add_argument("--comment", required=True, help="why")
    sa.add_argument("--end-on-resolve", action="store_true", help="end the silence when a matching alert resolves")
    sl = _add(silsub, "list", cmd_silence_list, "list active silences")
    sl.add_argument("--all", action="store_true", help="include expired ones")
    se = _add(silsub, "expire", cmd_silence_expire, "end a silence now")
    se.add_argument("silence_id")
    se.add_argument("--by", required=True, help="who ends it")

    al = sub.add_parser("alerts", help="act on alerts")
    alsub = al.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    ack = _add(alsub, "ack", cmd_alerts_ack, "acknowledge a firing alert: stop its repeats")
    ack.add_argument("alert_id")
    ack.add_argument("--by", required=True, help="who acknowledges")

    dp = _add(sub, "dump", cmd_dump, "copy topics to JSONL (key, value, timestamp, partition, offset)")
    dp.add_argument("topics", nargs="+", help="topic names")
    dp.add_argument("--out", required=True, help="output JSONL file")
    dp.add_argument("--from", dest="from_", help="only messages at or after this ISO 8601 time (with offset)")
    dp.add_argument("--to", help="only messages before this ISO 8601 time (with offset)")

    rp = _add(sub, "replay", cmd_replay, "produce a JSONL file to its topics, keys and order kept")
    rp.add_argument("file", help="JSONL from `monitor dump` or `monitor generate`")
    rp.add_argument("--speed", type=float, help="event-time speed factor (60 = an hour per minute); "
                    "default: as fast as possible")
    rp.add_argument("--shift-to-now", action="store_true", help="move timestamps so the data happens from now on")
    rp.add_argument("--map", action="append", metavar="OLD=NEW", help="send records of topic OLD to NEW")

    g = _add(sub, "generate", cmd_generate, "seeded synthetic marketplace traffic with injected incidents")
    g.add_argument("--out", required=True, help="JSONL output; the ground truth goes to <out>.truth.json")
    g.add_argument("--start", default="2026-02-10T00:00:00+03:00", help="first day (ISO 8601 with offset)")
    g.add_argument("--days", type=int, default=7)
    g.add_argument("--orders-per-day", type=int, default=1500)
    g.add_argument("--stores", type=int, default=300)
    g.add_argument("--peak", type=float, default=1.0, help="multiply the order volume (14 February: 3-5)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--no-incidents", action="store_true", help="normal traffic only")

    sc = _add(sub, "score", cmd_score, "compare the monitor's output with the generator's ground truth")
    sc.add_argument("truth", help="<out>.truth.json from `monitor generate`")
    sc.add_argument("output", help="JSONL dump of store-visibility and alerts (`monitor dump`)")
    sc.add_argument("--json", help="also write the result as JSON here")

    lt = _add(sub, "loadtest", cmd_loadtest, "drive a running monitor at a rate; measure latency and lag")
    lt.add_argument("--rate", type=float, default=200.0, help="input events per second")
    lt.add_argument("--duration", type=float, default=60.0, help="seconds")
    lt.add_argument("--probe-every", type=int, default=10, help="one input in N is a latency probe")
    lt.add_argument("--out", default="loadtest.json", help="JSON result")
    lt.add_argument("--chart", help="PNG chart of latency and lag (needs matplotlib)")
    lt.add_argument("--worker-pid", type=int, help="report the peak RSS of this worker process")
    lt.add_argument("--data-dir", help="report the size of this state folder")

    schemas = sub.add_parser("schemas", help="JSON Schemas of the topics")
    ssub = schemas.add_subparsers(dest="schemas_command", metavar="ACTION", required=True)
    s = _add(ssub, "export", cmd_schemas_export, "write schemas/*.schema.json from the contracts")
    s.add_argument("--dir", default=str(SCHEMA_DIR), help="output folder")
    s.add_argument("--check", action="store_true", help="fail if the files differ from the contracts")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``monitor``; exit 0 on success, 2 on a usage error, 1 on a failure with a one-line reason."""
    args = build_parser().parse_args(argv)
    from monitor.admin import BrokerUnavailable
    from monitor.localkafka import LocalKafkaError

    try:
        return int(args.func(args) or 0)
    except (CommandError, LocalKafkaError, BrokerUnavailable) as exc:
        print(f"monitor: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
