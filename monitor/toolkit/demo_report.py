"""What the demo prints: short, explained lines from the monitor's outputs, the dispatcher's messages and the score."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.toolkit.score import Score

__all__ = ["ago", "incident_lines", "hide_lines", "alert_lines", "dead_letter_lines", "message_lines", "score_lines"]

_RANK = {"critical": 0, "warning": 1, "info": 2}
_MEANING = {
    "store_hidden": "a store hidden from customers",
    "order_late": "an order past its promised time",
    "order_at_risk": "an order that will probably be late",
    "negative_review": "one review rated 1-2 stars",
    "store_negativity": "a store's share of negative reviews is too high",
    "city_negativity": "a city's share of negative reviews is too high",
    "store_repeat_offender": "a store alerted again and again",
    "city_lateness": "couriers of a city deliver too many orders late",
}


def ago(iso: str, now: datetime) -> str:
    """How long before ``now`` an ISO 8601 time was, in words a person reads at a glance ("3 h 05 min ago")."""
    minutes = round((now - datetime.fromisoformat(iso)).total_seconds() / 60)
    if minutes <= 0:
        return "now" if minutes == 0 else f"in {-minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min ago" if minutes >= 60 else f"{minutes} min ago"


def _ids(ids: Sequence[str] | None, show: int = 3) -> str:
    ids = list(ids or ())
    more = f", +{len(ids) - show} more" if len(ids) > show else ""
    return ", ".join(ids[:show]) + more


def incident_lines(truth: Sequence[Mapping[str, Any]], now: datetime) -> list[str]:
    """One line per injected incident: what happens, when, and what the monitor should do."""
    out = []
    for inc in truth:
        should = {"hide": "hide it", "alert": f"raise {inc['alert_kind']}",
                  "no_alert": f"stay quiet (no {inc['alert_kind']})"}[inc["expect"]]
        out.append(f"{inc['description']}")
        out.append(f"  from {ago(inc['start'], now)} to {ago(inc['end'], now)}: the monitor should {should}")
    return out


def hide_lines(visibility: Sequence[Mapping[str, Any]], now: datetime) -> list[str]:
    """Each hide or restore with its reason, counts and order ids."""
    out = []
    for v in visibility:
        out.append(f"{v['action'].upper()} {v['store_id']} ({v['city']}) {ago(v['at'], now)}: {v['reason']}, "
                   f"{v.get('late') or 0} late + {v.get('at_risk') or 0} at risk")
        if v.get("late_order_ids"):
            out.append(f"     late:    {_ids(v['late_order_ids'])}")
        if v.get("at_risk_order_ids"):
            out.append(f"     at risk: {_ids(v['at_risk_order_ids'])}")
    return out


def alert_lines(alerts: Sequence[Mapping[str, Any]], examples: int = 1) -> list[str]:
    """Firing alerts counted by kind (most severe first), each with what it means and ``examples`` summaries."""
    firing = [a for a in alerts if a.get("status") == "firing"]
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for a in sorted(firing, key=lambda a: (_RANK.get(a["severity"], 3), a["kind"], a["at"])):
        by_kind.setdefault(a["kind"], []).append(a)
    out = []
    for kind, group in by_kind.items():
        out.append(f"{len(group):4} x {group[0]['severity']:8} {kind:17} ({_MEANING.get(kind, kind)})")
        for a in group[:examples]:
            out.append(f"       e.g. {a['summary']}")
    resolved = len(alerts) - len(firing)
    if resolved:
        out.append(f"{resolved:4} x resolved (an alert that stopped being true)")
    return out


def dead_letter_lines(dead_letters: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each dead letter: its source topic, offset and the reason a person can act on."""
    return [f"{d['topic']} offset {d['offset']}: {d['error']}" for d in dead_letters]


def message_lines(messages: Sequence[Mapping[str, Any]], show_kinds: Sequence[str] = ("store_hidden",
                  "store_negativity", "city_lateness", "order_late")) -> list[str]:
    """How many messages the log channel got, by title kind, and the first message mentioning each of
    ``show_kinds`` in full."""
    out = [f"{len(messages)} messages (grouped per alert kind and city), for example:"]
    shown: set[int] = set()
    for kind in show_kinds:
        for i, m in enumerate(messages):
            if i not in shown and any(aid.startswith(f"{kind}:") for aid in m.get("alert_ids", ())):
                shown.add(i)
                text = str(m.get("text", "")).splitlines()
                body = [line for line in text if not line.startswith(("ids:", "id:"))][:4]
                out += ["", f"  {m.get('title', '')}", *(f"  {line}" for line in body)]
                break
    return out


def score_lines(result: Score) -> list[str]:
    """Each incident's outcome, then the totals in words: detected, missed, false alarms."""
    out = []
    for r in result.incidents:
        where = f"{r.store_id} ({r.city})" if r.store_id else r.city
        delay = f" after {r.delay_s / 60:.0f} min" if r.delay_s is not None else ""
        out.append(f"{r.outcome:11} {r.kind:27} {where}{delay}")
    counts = Counter(r.outcome for r in result.incidents)
    should_fire = sum(1 for r in result.incidents if r.expect != "no_alert")
    false_alarms = counts["FALSE_ALARM"] + len(result.unexplained_hides) + len(result.unexplained_negativity)
    out.append(f"detected {counts['DETECTED']} of {should_fire}, missed {counts['MISSED']}, "
               f"false alarms {false_alarms} ({counts['FALSE_ALARM']} on the must-stay-quiet store, "
               f"{len(result.unexplained_hides)} hides and {len(result.unexplained_negativity)} negativity alerts "
               "no incident explains)")
    slow = {r.city for r in result.incidents if r.kind == "city_slow_couriers"}
    for hide_id in result.unexplained_hides:
        city = hide_id.split(":")[1] if hide_id.count(":") >= 3 else ""
        why = (f": {city} is the city with slow couriers, and the hide rule blames the store for their lateness"
               if city in slow else "")
        out.append(f"  unexplained hide {hide_id}{why}")
    for alert_id in result.unexplained_negativity:
        out.append(f"  unexplained negativity alert {alert_id}")
    return out
