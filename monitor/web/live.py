"""What the worker knows right now: readiness, consumer lag, local stores and cities, rendered as views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.domain.negativity import NegativityState
from monitor.domain.store_state import StoreState, store_key
from monitor.web import metrics
from monitor.web.state_view import negativity_series, negativity_view, store_summary, store_view
from monitor.worker import ingest_task as worker_ingest
from monitor.worker.agents import stores as store_agent
from monitor.worker.agents.city_reviews import RULE as CITY_REVIEW_RULE
from monitor.worker.agents.store_reviews import RULE as STORE_REVIEW_RULE
from monitor.worker.counters import recent_decisions
from monitor.worker.tables.reviews import city_reviews, store_reviews

__all__ = ["readiness", "consumer_lag", "input_rate", "now_for", "store_details", "local_summaries", "city_details",
           "local_cities", "metrics_text"]


def readiness(app: Any) -> tuple[bool, str]:
    """(ready, reason): ready once partitions are assigned and table state is recovered."""
    if app.rebalancing:
        return False, "rebalancing"
    try:
        assignment = app.consumer.assignment()
    except Exception:  # noqa: BLE001 - the consumer is not up yet
        return False, "consumer not started"
    if not assignment:
        return False, "no partitions assigned yet"
    recovery = app.tables.recovery
    if app.in_recovery or recovery.in_recovery or not recovery.completed.is_set():
        return False, "recovering table state"
    return True, f"{len(assignment)} partitions assigned, state recovered"


def consumer_lag(app: Any) -> dict[tuple[str, int], int]:
    """Per assigned input partition (changelogs excluded), Faust's and ingest's: the high watermark minus the next
    offset to process."""
    lag: dict[tuple[str, int], int] = {}
    try:
        assignment = app.consumer.assignment()
    except Exception:  # noqa: BLE001
        return lag
    read = getattr(app.consumer, "_read_offset", {})
    for tp in assignment:
        if tp.topic.endswith("-changelog"):
            continue  # table changelogs are read by recovery, not by agents
        highwater = app.consumer.highwater(tp)
        if highwater is None:
            continue
        last = read.get(tp)
        lag[(tp.topic, tp.partition)] = max(0, highwater - (last + 1 if last is not None else 0))
    ingest = worker_ingest.running()
    if ingest is not None:
        lag.update(ingest.lag())
    return lag


def input_rate(app: Any) -> float:
    """Input events read per second: ingest's rate (faust's own sampler counts its batch messages, not events)."""
    ingest = worker_ingest.running()
    return ingest.rate_per_s if ingest is not None else float(app.monitor.events_s)


def now_for(state: StoreState) -> int:
    """The event time to show a store at: its partition's clock on this worker, or its own last write."""
    clock = store_agent.partition_clock_ms(state.partition)
    return max(state.clock_ms, clock or 0)


def store_details(store_id: str, city: str | None) -> list[dict[str, Any]]:
    """Full views of a store in each city this worker holds it in (one city if ``city`` is given)."""
    if city is not None:
        found = [s for s in [store_agent.snapshot(store_id, city)] if s is not None]
    else:
        found = [s for s in store_agent.snapshots() if s.store_id == store_id]
    views = []
    for state in sorted(found, key=lambda s: s.city):
        reviews = store_reviews.get(store_key(state.store_id, state.city))
        views.append(store_view(state, now_for(state), store_agent.RULES, reviews=reviews,
                                review_rule=STORE_REVIEW_RULE,
                                decisions=recent_decisions(state.store_id, state.city)))
    return views


def local_summaries(*, hidden: bool | None = None, city: str | None = None) -> list[dict[str, Any]]:
    """Short views of the stores this worker holds, optionally only hidden ones or one city's."""
    out = []
    for state in store_agent.snapshots():
        if (hidden is not None and state.hidden != hidden) or (city is not None and state.city != city):
            continue
        out.append(store_summary(state, now_for(state), store_agent.RULES))
    return sorted(out, key=lambda v: (v["city"], v["store_id"]))


def _city_state(city: str) -> NegativityState | None:
    return city_reviews.get(city.encode())


def city_details(city: str) -> dict[str, Any] | None:
    """A city's negativity, its daily series and the stores of the city this worker holds; None if unknown."""
    state = _city_state(city)
    stores = local_summaries(city=city)
    if state is None and not stores:
        return None
    return {
        "city": city,
        "negativity": negativity_view(state, CITY_REVIEW_RULE) if state is not None else None,
        "series": negativity_series(state) if state is not None else [],
        "hidden_stores": [s for s in stores if s["hidden"]],
        "at_risk_stores": [s for s in stores if s["at_risk_now"]],
        "stores": len(stores),
    }


def local_cities() -> list[dict[str, Any]]:
    """Negativity and daily series of every city whose reviews this worker counts."""
    out = []
    for raw in list(city_reviews.table.values()):
        if raw is None:
            continue
        state = NegativityState.from_bytes(raw)
        out.append({"city": state.city, "negativity": negativity_view(state, CITY_REVIEW_RULE),
                    "series": negativity_series(state)})
    return sorted(out, key=lambda c: c["city"])


def metrics_text(app: Any) -> str:
    """The Prometheus exposition of this worker."""
    states = store_agent.snapshots()
    tabledir = Path(app.conf.tabledir)
    state_bytes: dict[str, int] = {}
    for entry in tabledir.iterdir() if tabledir.exists() else ():
        table = entry.name.removesuffix(".db").rsplit("-", 1)[0]
        state_bytes[table] = state_bytes.get(table, 0) + metrics.dir_bytes(entry)
    monitor = app.monitor
    ingest = worker_ingest.running()
    received = dict(monitor.messages_received_by_topic) | (dict(ingest.received) if ingest is not None else {})
    return metrics.render(
        input_by_topic=received, hidden_stores=sum(s.hidden for s in states),
        stores=len(states), lag=consumer_lag(app), state_bytes=state_bytes, ready=readiness(app)[0],
        events_per_s=input_rate(app),
    )
