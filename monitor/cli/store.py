"""Acting on a store: ``monitor store restore|show|list``; show and list ask the worker's HTTP API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from monitor.cli.common import CommandError, UsageError, add_command, http_url, load_settings

__all__ = ["register"]

_settings = load_settings


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


def register(sub: Any) -> None:
    """Add ``monitor store`` and its actions to the ``monitor`` parser."""
    store = sub.add_parser("store", help="act on a store")
    stsub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    r = add_command(stsub, "restore", cmd_store_restore,
                    "make a hidden store visible again (after talking to the partner)")
    r.add_argument("store_id")
    r.add_argument("--city", required=True, help="city of the store")
    r.add_argument("--by", required=True, help="who restores it")
    r.add_argument("--note", required=True, help="why (kept with the restore event)")
    r.add_argument("--url", type=http_url, help="worker URL to check the store with (default: from the settings)")
    r.add_argument("--no-check", action="store_true",
                   help="send without asking the worker whether the store is known and hidden")
    sh = add_command(stsub, "show", cmd_store_show, "what the monitor knows about a store (asks the worker's HTTP API)")
    sh.add_argument("store_id")
    sh.add_argument("--city", help="one city only")
    ls = add_command(stsub, "list", cmd_store_list, "stores known to the worker (asks the worker's HTTP API)")
    ls.add_argument("--hidden", action="store_true", help="hidden stores only")
    for p in (sh, ls):
        p.add_argument("--url", type=http_url,
                       help="worker URL (default: http://<web_host>:<web_port> from the settings)")
        p.add_argument("--json", action="store_true", help="print the API's JSON answer")
