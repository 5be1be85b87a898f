"""Acting on alert delivery: ``monitor silence add|list|expire`` and ``monitor alerts ack``."""

from __future__ import annotations

import argparse
from typing import Any

from monitor.cli.common import CommandError, UsageError, add_command, load_settings

__all__ = ["register"]

_settings = load_settings


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _iso(ms: int) -> str:
    from monitor.domain.outputs import iso_from_ms

    return iso_from_ms(ms)


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


def register(sub: Any) -> None:
    """Add ``monitor silence`` and ``monitor alerts`` and their actions to the ``monitor`` parser."""
    silence = sub.add_parser("silence", help="mute matching alerts for a while")
    silsub = silence.add_subparsers(dest="silence_command", metavar="ACTION", required=True)
    sa = add_command(silsub, "add", cmd_silence_add, "silence alerts that match all --match filters")
    sa.add_argument("--match", action="append", required=True, metavar="LABEL=VALUE",
                    help="kind, severity, status, city or store_id; VALUE or ~REGEX; repeat for more")
    sa.add_argument("--duration", required=True, help="how long, e.g. 2h")
    sa.add_argument("--by", required=True, help="who silences")
    sa.add_argument("--comment", required=True, help="why")
    sa.add_argument("--end-on-resolve", action="store_true", help="end the silence when a matching alert resolves")
    sl = add_command(silsub, "list", cmd_silence_list, "list active silences")
    sl.add_argument("--all", action="store_true", help="include expired ones")
    se = add_command(silsub, "expire", cmd_silence_expire, "end a silence now")
    se.add_argument("silence_id")
    se.add_argument("--by", required=True, help="who ends it")

    al = sub.add_parser("alerts", help="act on alerts")
    alsub = al.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    ack = add_command(alsub, "ack", cmd_alerts_ack, "acknowledge a firing alert: stop its repeats")
    ack.add_argument("alert_id")
    ack.add_argument("--by", required=True, help="who acknowledges")
