"""The ``monitor`` command: one entry point for the broker, the worker, the demo and the tools."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor.cli.common import CommandError, UsageError, add_command, http_url, load_settings

__all__ = ["main", "build_parser"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


_settings = load_settings


def _kafka_dir(args: argparse.Namespace) -> Path:
    if args.data_dir:
        return Path(args.data_dir)
    return _settings().data_dir / "kafka"


# --- kafka -------------------------------------------------------------------------------------------------


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


# --- worker, topics, demo ----------------------------------------------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    from monitor.worker.run import run_worker

    return run_worker(_settings(), broker_timeout_s=args.broker_timeout, rebuild_state=args.rebuild_state)


def cmd_topics_create(args: argparse.Namespace) -> int:
    from monitor.ops.admin import ensure_topics, wait_for_broker

    settings = _settings()
    wait_for_broker(settings.kafka_bootstrap_servers, timeout_s=args.broker_timeout)
    created = ensure_topics(settings)
    print(f"created {len(created)} topic(s): {', '.join(created) or '-'} ({settings.partitions} partitions)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.toolkit.demo import run_demo

    return run_demo(_settings(), keep=args.keep, port=args.port, lang=args.lang, bootstrap=args.bootstrap,
                    seed=args.seed)


def cmd_store_restore(args: argparse.Namespace) -> int:
    from monitor.ops.commands import send_store_command

    if not args.by.strip() or not args.note.strip():
        raise UsageError("--by and --note must not be empty: a restore is on the record")
    if not args.no_check:
        _check_restorable(args)
    cmd = send_store_command(_settings(), "restore", store_id=args.store_id, city=args.city, by=args.by,
                             note=args.note)
    print(f"restore of {args.store_id} ({args.city}) sent as command {cmd.command_id}; the owning worker "
          "publishes the restore on store-visibility")
    return 0


def _check_restorable(args: argparse.Namespace) -> None:
    """Ask the worker's API whether the store exists in that city and is hidden: a restore of a typo or of a
    visible store would otherwise be "sent" and vanish."""
    from urllib.parse import quote

    from monitor.web.client import ApiRefused

    try:
        data: dict = _api(args, f"/stores/{quote(args.store_id, safe='')}", {"city": args.city},  # type: ignore[assignment]
                          refused=True)
    except ApiRefused as exc:
        why = "the monitor knows no such store in that city" if exc.status == 404 else str(exc)
        raise CommandError(f"cannot restore {args.store_id} ({args.city}): {why}") from None
    views = [v for v in data.get("cities", []) if v.get("city") == args.city]
    if not views:
        raise CommandError(f"cannot restore {args.store_id} ({args.city}): the monitor knows no such store in that "
                           "city")
    if not views[0].get("hidden"):
        raise CommandError(f"cannot restore {args.store_id} ({args.city}): it is not hidden")


def _api(args: argparse.Namespace, path: str, query: dict[str, str] | None = None, *,
         refused: bool = False) -> object:
    from monitor.web.client import ApiRefused, ApiUnavailable, base_url, get_json

    base = args.url or base_url(_settings())
    try:
        return get_json(base, path, query)
    except ApiRefused:
        if refused:
            raise
        raise CommandError(str(sys.exc_info()[1])) from None
    except ApiUnavailable as exc:
        raise CommandError(str(exc)) from None


def _store_line(s: dict) -> str:
    state = f"HIDDEN since {s['hidden_since']} ({s['hide_reason']})" if s["hidden"] else "visible"
    return f"{s['store_id']:24} {s['city']:16} {state}; now {s['late']} late, {s['at_risk']} at risk"


def cmd_store_show(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    data: dict = _api(args, f"/stores/{quote(args.store_id, safe='')}",
                      {"city": args.city} if args.city else None)  # type: ignore[assignment]
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    for v in data["cities"]:
        print(_store_line(v))
        vis = v["visibility"]
        if vis["hidden"]:
            print(f"  evidence: late {', '.join(vis['evidence']['late']) or '-'}; "
                  f"at risk {', '.join(vis['evidence']['at_risk']) or '-'}")
        print(f"  open orders: {len(v['orders']['open'])}; late: {', '.join(v['orders']['late']) or '-'}; "
              f"at risk: {', '.join(v['orders']['at_risk']) or '-'}")
        n = v["negativity"]
        if n:
            print(f"  negativity: {n['share']:.1%} ({n['negative']} of {n['reviews']} in {n['window_days']} days)"
                  + (" FIRING" if n["firing"] else ""))
        for d in v["recent_decisions"][:5]:
            print(f"  {d['at']}  {d['output']:16} {d['kind']} {d.get('status') or ''} {d['decision']}")
    return 0


def cmd_store_list(args: argparse.Namespace) -> int:
    data: dict = _api(args, "/stores", {"hidden": "true"} if args.hidden else None)  # type: ignore[assignment]
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    for s in data["stores"]:
        print(_store_line(s))
    print(f"{data['count']} store(s){' hidden' if args.hidden else ''} on partitions {data['partitions']} of "
          f"{data['worker']}")
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
        raise UsageError(str(exc)) from None
    print(f"silence {silence.silence_id} until {_iso(silence.ends_at_ms)}")
    return 0


def _iso(ms: int) -> str:
    from monitor.domain.outputs import iso_from_ms

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


# --- schemas -----------------------------------------------------------------------------------------------


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from monitor.wire.contracts import CONTRACTS

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


_add = add_command


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
    w.add_argument("--rebuild-state", action="store_true",
                   help="delete the local state folder first; the tables are restored from their changelog topics")

    topics = sub.add_parser("topics", help="manage the monitor's topics")
    tsub = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    t = _add(tsub, "create", cmd_topics_create, "create missing topics with the configured partition count")
    t.add_argument("--broker-timeout", type=float, default=30.0, help="seconds to wait for Kafka")

    d = _add(sub, "demo", cmd_demo, "replay a generated marketplace day through a local broker, a worker and a "
             "dispatcher; show what happened and the score")
    d.add_argument("--keep", action="store_true", help="leave broker and worker running afterwards")
    d.add_argument("--port", type=int, default=0, help="broker port (default: any free port)")
    d.add_argument("--lang", choices=("en", "ru"), default="en", help="language of the delivered messages")
    d.add_argument("--bootstrap", help="use this running Kafka instead of starting a local one")
    d.add_argument("--seed", type=int, default=1, help="seed of the generated day")

    store = sub.add_parser("store", help="act on a store")
    stsub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    r = _add(stsub, "restore", cmd_store_restore, "make a hidden store visible again (after talking to the partner)")
    r.add_argument("store_id")
    r.add_argument("--city", required=True, help="city of the store")
    r.add_argument("--by", required=True, help="who restores it")
    r.add_argument("--note", required=True, help="why (kept with the restore event)")
    r.add_argument("--url", type=http_url, help="worker URL to check the store with (default: from the settings)")
    r.add_argument("--no-check", action="store_true",
                   help="send without asking the worker whether the store is known and hidden")
    sh = _add(stsub, "show", cmd_store_show, "what the monitor knows about a store (asks the worker's HTTP API)")
    sh.add_argument("store_id")
    sh.add_argument("--city", help="one city only")
    ls = _add(stsub, "list", cmd_store_list, "stores known to the worker (asks the worker's HTTP API)")
    ls.add_argument("--hidden", action="store_true", help="hidden stores only")
    for p in (sh, ls):
        p.add_argument("--url", type=http_url,
                       help="worker URL (default: http://<web_host>:<web_port> from the settings)")
        p.add_argument("--json", action="store_true", help="print the API's JSON answer")

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

    from monitor.cli.replay import register as register_toolkit

    register_toolkit(sub)

    schemas = sub.add_parser("schemas", help="JSON Schemas of the topics")
    ssub = schemas.add_subparsers(dest="schemas_command", metavar="ACTION", required=True)
    s = _add(ssub, "export", cmd_schemas_export, "write schemas/*.schema.json from the contracts")
    s.add_argument("--dir", default=str(SCHEMA_DIR), help="output folder")
    s.add_argument("--check", action="store_true", help="fail if the files differ from the contracts")
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
