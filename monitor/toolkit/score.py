"""score: compare the monitor's output (store-visibility, alerts) with the generator's ground truth."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["IncidentResult", "Score", "score"]

GRACE = timedelta(hours=6)  # a detection may come this long after the incident window ends


@dataclass(frozen=True, slots=True)
class IncidentResult:
    """One injected incident: detected or not, how late (event time), by which output."""

    kind: str
    expect: str
    store_id: str | None
    city: str
    outcome: str  # DETECTED, MISSED, QUIET (a no_alert incident that stayed quiet), FALSE_ALARM
    delay_s: float | None = None
    evidence: str | None = None


@dataclass(slots=True)
class Score:
    """All incident results plus hides and negativity alerts that no incident explains."""

    incidents: list[IncidentResult] = field(default_factory=list)
    unexplained_hides: list[str] = field(default_factory=list)
    unexplained_negativity: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.incidents:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        out["UNEXPLAINED_HIDES"] = len(self.unexplained_hides)
        out["UNEXPLAINED_NEGATIVITY"] = len(self.unexplained_negativity)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts(), "incidents": [_asdict(r) for r in self.incidents],
                "unexplained_hides": self.unexplained_hides,
                "unexplained_negativity": self.unexplained_negativity}


def _asdict(r: IncidentResult) -> dict[str, Any]:
    return {k: getattr(r, k) for k in IncidentResult.__slots__}


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def score(truth: Iterable[Mapping[str, Any]], visibility: Iterable[Mapping[str, Any]],
          alerts: Iterable[Mapping[str, Any]]) -> Score:
    """Match each truth incident with the first fitting output inside its window (plus a grace period)."""
    hides = [v for v in visibility if v.get("action") == "hide"]
    firing = [a for a in alerts if a.get("status") == "firing"]
    result = Score()
    explained_hides: set[str] = set()
    explained_alerts: set[str] = set()
    for inc in truth:
        start, end = _t(inc["start"]), _t(inc["end"]) + GRACE
        store, city, expect, kind = inc.get("store_id"), inc["city"], inc["expect"], inc.get("alert_kind")
        if expect == "hide":
            hits = [h for h in hides if h["store_id"] == store and h["city"] == city and start <= _t(h["at"]) <= end]
            explained_hides.update(h["event_id"] for h in hits)
            evidence = hits[0]["event_id"] if hits else None
        else:
            hits = [a for a in firing if a["kind"] == kind and a["city"] == city
                    and (store is None or a.get("store_id") == store) and start <= _t(a["at"]) <= end]
            explained_alerts.update(a["alert_id"] for a in hits)
            evidence = hits[0]["alert_id"] if hits else None
        first = min((_t(h["at"]) for h in hits), default=None)
        if expect == "no_alert":
            outcome = "FALSE_ALARM" if hits else "QUIET"
        else:
            outcome = "DETECTED" if hits else "MISSED"
        delay = (first - _t(inc["start"])).total_seconds() if first is not None and expect != "no_alert" else None
        result.incidents.append(IncidentResult(inc["kind"], expect, store, city, outcome, delay, evidence))
    result.unexplained_hides = sorted(h["event_id"] for h in hides if h["event_id"] not in explained_hides)
    result.unexplained_negativity = sorted(
        a["alert_id"] for a in firing
        if a["kind"] in ("store_negativity", "city_negativity") and a["alert_id"] not in explained_alerts)
    return result
