"""In-process counters of what the worker decided, cheap enough for the hot path (plain dict increments)."""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from typing import Any

from monitor.domain.intake import RefusalCode

__all__ = ["ALERTS", "VISIBILITY", "DEAD_LETTERS", "RECENT_ALERTS", "PROCESSED", "record_emit", "record_dead_letter",
           "recent_decisions", "reason_class"]

# (kind, status) -> alerts this worker published
ALERTS: Counter[tuple[str, str]] = Counter()
# action (hide / restore) -> store-visibility events this worker published
VISIBILITY: Counter[str] = Counter()
# (source topic, reason class) -> dead letters this worker sent
DEAD_LETTERS: Counter[tuple[str, str]] = Counter()
# (topic, partition) -> the offset of the last message this worker's store agents processed (for ingest's lead)
PROCESSED: dict[tuple[str, int], int] = {}
# the newest alerts this worker published, newest last (for the dashboard)
RECENT_ALERTS: deque[dict[str, Any]] = deque(maxlen=50)

_CODES = frozenset(c.value for c in RefusalCode) | {"RULE_FAILED"}  # RULE_FAILED: monitor/worker/agents/guard.py
_DECISIONS_PER_STORE = 10
_STORES_REMEMBERED = 10_000
_decisions: OrderedDict[tuple[str, str], deque[dict[str, Any]]] = OrderedDict()


def record_emit(topic: str, decision: str, value: Any) -> None:
    """Count one published output and remember it as a recent decision of its store."""
    at = value.at.isoformat()
    if topic == "alerts":
        ALERTS[(value.kind, value.status)] += 1
        entry = {"output": "alerts", "id": value.alert_id, "kind": value.kind, "status": value.status,
                 "severity": value.severity, "store_id": value.store_id, "city": value.city,
                 "summary": value.summary, "decision": decision, "at": at}
        RECENT_ALERTS.append(entry)
    else:
        VISIBILITY[value.action] += 1
        entry = {"output": "store-visibility", "id": value.event_id, "kind": value.action,
                 "store_id": value.store_id, "city": value.city, "decision": decision, "at": at,
                 "by": value.by, "note": value.note}
    if value.store_id is None:
        return
    key = (value.store_id, value.city)
    recent = _decisions.get(key)
    if recent is None:
        recent = _decisions[key] = deque(maxlen=_DECISIONS_PER_STORE)
        if len(_decisions) > _STORES_REMEMBERED:
            _decisions.popitem(last=False)
    recent.append(entry)


def recent_decisions(store_id: str, city: str) -> list[dict[str, Any]]:
    """The latest decisions published for a store by this worker since it started, newest first."""
    return list(reversed(_decisions.get((store_id, city), ())))


def reason_class(error: str) -> str:
    """A bounded label for a dead-letter reason (the full reason stays on the dead letter itself)."""
    text = error.partition(": ")[2] or error
    code = text.partition(": ")[0]
    if code in _CODES:  # FUTURE_EVENT_TIME, TOO_OLD, ...
        return code.lower()
    if text.startswith("empty message"):
        return "empty"
    if text.startswith("not valid JSON"):
        return "not_json"
    if "header" in text:
        return "bad_header"
    if text.startswith("unknown message kind"):
        return "unknown_kind"
    return "invalid"


def record_dead_letter(topic: str, error: str) -> None:
    """Count one dead letter by source topic and reason class."""
    DEAD_LETTERS[(topic, reason_class(error))] += 1
