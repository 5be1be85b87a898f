"""Seeded synthetic marketplace traffic: order status changes and reviews, with injected incidents and their truth.

Pure and reproducible: every draw comes from ``random.Random`` instances seeded from ``TrafficConfig.seed``
(one per day for arrivals, one per order for its progression), so the same config gives the same records, and
adding an incident does not change the orders it does not touch. Times are whole seconds since the epoch
inside, ISO 8601 with the store city's UTC offset outside. Stores work around the clock; the daily curve
only shapes when customers order (busy 9:00-20:00 local).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import orjson

from monitor.toolkit.profiles import HOURLY_WEIGHTS, Store, build_stores, pick_rating, pick_text
from monitor.toolkit.scenario import (
    DAY,
    EXPECT,
    HOUR,
    INCIDENT_KINDS,
    MIN,
    Incident,
    TrafficConfig,
    default_incidents,
    expected_orders,
    resolve_incidents,
)

__all__ = [
    "INCIDENT_KINDS",
    "EXPECT",
    "Incident",
    "TrafficConfig",
    "Traffic",
    "default_incidents",
    "resolve_incidents",
    "generate",
    "iter_records",
    "write_jsonl",
    "write_traffic",
    "write_truth",
]

SURGE = 2.0  # an overloaded store gets this many times its usual orders during the incident
STUCK_SHARE = 0.15  # overloaded: orders that never leave accepted / assembled
OVERLOAD_LATE_SHARE = 0.7  # overloaded: delivered orders pushed past the deadline
SLOW_COURIER_SHARE = 0.85  # slow couriers: deliveries that take 2.5-5 hours
LATE_NEGATIVE_FACTOR = 5  # a late order is this many times as likely to get a negative review
ANGRY_REVIEW_SHARE, ANGRY_NEGATIVE_SHARE = 0.8, 0.75  # negative-reviews store: who writes, and how
_CURVE_MAX = max(HOURLY_WEIGHTS)


@dataclass(frozen=True)
class Traffic:
    """Generated records sorted by event time, the truth per incident, and what they were generated from."""

    records: list[dict[str, Any]]
    truth: list[dict[str, Any]]
    incidents: tuple[Incident, ...] = ()
    stores: tuple[Store, ...] = field(default=(), repr=False)


class _Simulation:
    """Orders day by day; records leave in event-time order through a heap (ties keep generation order)."""

    def __init__(self, config: TrafficConfig, stores: tuple[Store, ...], incidents: tuple[Incident, ...]) -> None:
        self.cfg, self.stores, self.incidents = config, stores, incidents
        self.start_s = int(config.start.timestamp())
        self.windows = [(int(i.start.timestamp()), int(i.end.timestamp())) for i in incidents]
        self.stats: list[dict[str, int]] = [{} for _ in incidents]
        self.late_stores: list[set[str]] = [set() for _ in incidents]  # city incidents: stores hit
        self.unlucky = {i.store_id for i in incidents if i.kind == "small_store_unlucky_review"}
        self.tz: dict[str, tzinfo] = {c.name: c.tz if config.local_time else UTC for c in config.cities}

    def _active(self, kind: str, store: Store, t: int) -> int | None:
        for i, inc in enumerate(self.incidents):
            if inc.kind == kind and (inc.store_id == store.store_id or (inc.store_id is None
                                                                        and inc.city == store.city.name)):
                if self.windows[i][0] <= t < self.windows[i][1]:
                    return i
        return None

    def _count(self, i: int | None, key: str, n: int = 1) -> None:
        if i is not None:
            self.stats[i][key] = self.stats[i].get(key, 0) + n

    def _arrival(self, rng: random.Random, store: Store, lo: int, hi: int) -> int:
        """A creation time in [lo, hi) following the daily curve in the store's local time (rejection sampling)."""
        offset = store.city.utc_offset_h * HOUR
        while True:
            t = lo + int(rng.random() * (hi - lo))
            if rng.random() * _CURVE_MAX < HOURLY_WEIGHTS[(t + offset) // HOUR % 24]:
                return t

    def _day_orders(self, day: int) -> list[tuple[int, Store, str, bool]]:
        """(created, store, order id, injected?) of one day: the marketplace's, surge and injected orders."""
        cfg, lo = self.cfg, self.start_s + day * DAY
        hi, rng, prefix = lo + DAY, random.Random(f"{cfg.seed}/day/{day}"), f"ord-{cfg.seed}-{day + 1:03d}"
        n = round(cfg.orders_per_day * cfg.peak_factor * rng.uniform(0.95, 1.05))
        chosen = rng.choices(self.stores, weights=[s.share for s in self.stores], k=n)
        base = sorted(((self._arrival(rng, s, lo, hi), s) for s in chosen), key=lambda x: x[0])
        orders = [(t, s, f"{prefix}-{k + 1:05d}", False) for k, (t, s) in enumerate(base)]
        stores = {s.store_id: s for s in self.stores}
        for i, inc in enumerate(self.incidents):
            a, b = max(lo, self.windows[i][0]), min(hi, self.windows[i][1])
            if a >= b or inc.store_id is None:
                continue
            store, irng = stores[inc.store_id], random.Random(f"{cfg.seed}/incident/{i}/{day}")
            if inc.kind == "store_overloaded":
                extra = round(expected_orders(cfg, store, a, b) * (SURGE - 1))
                times = sorted(self._arrival(irng, store, a, b) for _ in range(extra))
                orders += [(t, store, f"{prefix}-s{i}-{k + 1:04d}", False) for k, t in enumerate(times)]
            elif inc.kind == "small_store_unlucky_review" and a == max(self.start_s, self.windows[i][0]):
                orders.append((a, store, f"{prefix}-u{i}", True))
        return orders

    def _order(self, created: int, store: Store, oid: str, injected: bool) -> Iterator[tuple[int, dict[str, Any]]]:
        """The status records of one order, then its review if it gets one (an injected order: on time, rated 1)."""
        cfg = self.cfg
        rng = random.Random(f"{cfg.seed}/{oid}")
        promised = -(-(created + 2 * HOUR + rng.randint(0, 2 * HOUR)) // (30 * MIN)) * 30 * MIN
        stops, over = self._active("store_stops_accepting", store, created), self._active("store_overloaded", store,
                                                                                         created)
        steps = [("created", created)]
        accepted = created + (rng.randint(5 * MIN, 40 * MIN) if over is not None else rng.randint(MIN, 10 * MIN))
        delivered: int | None = None
        if stops is not None:  # the store is gone: created, never accepted, late at the deadline
            self._count(stops, "orders")
            self._count(stops, "late")
        elif over is None and not injected and rng.random() < cfg.cancel_share:
            if rng.random() < 0.5:  # the customer gives up before the store accepts
                steps.append(("cancelled", created + rng.randint(3 * MIN, 40 * MIN)))
            else:  # the store accepts, then cannot fulfil
                steps += [("accepted", accepted), ("cancelled", accepted + rng.randint(10 * MIN, 60 * MIN))]
        else:
            assembled = accepted + rng.randint(*((60 * MIN, 150 * MIN) if over is not None else (20 * MIN, 60 * MIN)))
            stuck = over is not None and rng.random() < STUCK_SHARE
            steps.append(("accepted", accepted))
            if not stuck or rng.random() < 0.5:
                steps.append(("assembled", assembled))
            if not stuck:
                dispatched = assembled + rng.randint(5 * MIN, 20 * MIN)
                slow = self._active("city_slow_couriers", store, dispatched)
                slow_hit = slow is not None and rng.random() < SLOW_COURIER_SHARE
                delivered = dispatched + (rng.randint(150 * MIN, 300 * MIN) if slow_hit else
                                          rng.randint(20 * MIN, 60 * MIN))
                if over is not None:
                    if rng.random() < OVERLOAD_LATE_SHARE:
                        delivered = max(delivered, promised + rng.randint(20 * MIN, 90 * MIN))
                elif not slow_hit:  # the usual day: most on time, a few late
                    if not injected and rng.random() < cfg.late_share:
                        delivered = max(delivered, promised + rng.randint(5 * MIN, 60 * MIN))
                    else:
                        delivered = min(delivered, promised - rng.randint(2 * MIN, 15 * MIN))
                steps += [("in_delivery", dispatched), ("delivered", delivered)]
                if slow is not None and slow_hit:
                    self._count(slow, "orders")
                    self._count(slow, "late", int(delivered > promised))
                    if delivered > promised:
                        self.late_stores[slow].add(store.store_id)
            self._count(over, "orders")
            self._count(over, "late", int(stuck or (delivered or 0) > promised))
        tz = self.tz[store.city.name]
        for status, t in steps:
            value = {"event_id": f"{oid}:{status}", "order_id": oid, "store_id": store.store_id,
                     "city": store.city.name, "status": status, "promised_at": _iso(promised, tz),
                     "occurred_at": _iso(t, tz)}
            yield t, {"topic": "order-status", "key": oid, "value": value, "timestamp": value["occurred_at"]}
        if delivered is not None:
            review = self._review(rng, oid, store, delivered, delivered > promised, injected)
            if review is not None:
                yield review

    def _review(self, rng: random.Random, oid: str, store: Store, delivered: int, late: bool,
                injected: bool) -> tuple[int, dict[str, Any]] | None:
        cfg, angry = self.cfg, self._active("store_negative_reviews", store, delivered)
        if not injected and rng.random() >= (ANGRY_REVIEW_SHARE if angry is not None else cfg.review_share):
            return None
        if injected:  # the one unlucky review of a small store
            negative = True
        elif store.store_id in self.unlucky:
            negative = False
        elif angry is not None:
            negative = rng.random() < ANGRY_NEGATIVE_SHARE
        else:
            negative = rng.random() < min(1.0, cfg.negative_share * (LATE_NEGATIVE_FACTOR if late else 1))
        rating = 1 if injected else pick_rating(rng, negative)
        created = delivered + min(max(int(rng.expovariate(1 / (4 * HOUR))), 20 * MIN), 48 * HOUR)
        for i, inc in enumerate(self.incidents):
            if (inc.store_id == store.store_id and inc.kind == "small_store_unlucky_review") or i == angry:
                self._count(i, "reviews")
                self._count(i, "negative", int(negative))
        rid = f"rev-{oid}"
        value = {"review_id": rid, "order_id": oid, "store_id": store.store_id, "city": store.city.name,
                 "rating": rating, "text": pick_text(rng, rating), "created_at": _iso(created, self.tz[store.city.name])}
        return created, {"topic": "reviews", "key": rid, "value": value, "timestamp": value["created_at"]}

    def run(self) -> Iterator[dict[str, Any]]:
        heap: list[tuple[int, int, dict[str, Any]]] = []
        seq = 0
        for day in range(self.cfg.days):
            for created, store, oid, injected in sorted(self._day_orders(day), key=lambda o: o[0]):
                for t, record in self._order(created, store, oid, injected):
                    heapq.heappush(heap, (t, seq, record))
                    seq += 1
            # every later order is created at or after the next day's start, so earlier records are final
            horizon = self.start_s + (day + 1) * DAY if day + 1 < self.cfg.days else None
            while heap and (horizon is None or heap[0][0] < horizon):
                yield heapq.heappop(heap)[2]

    def truth(self) -> list[dict[str, Any]]:
        out = []
        for inc, stats, late_stores in zip(self.incidents, self.stats, self.late_stores, strict=True):
            expect, alert_kind = EXPECT[inc.kind]
            if inc.store_id is None:
                stats = {**stats, "stores": len(late_stores)}
            out.append({"kind": inc.kind, "store_id": inc.store_id, "city": inc.city, "start": inc.start.isoformat(),
                        "end": inc.end.isoformat(), "expect": expect, "alert_kind": alert_kind,
                        "description": _describe(inc), "evidence": dict(sorted(stats.items()))})
        return out


def _describe(inc: Incident) -> str:
    where = f"store {inc.store_id} ({inc.city})" if inc.store_id else f"city {inc.city}"
    return {
        "store_stops_accepting": f"{where} stops accepting: its new orders are never accepted and turn late",
        "store_overloaded": f"{where} gets twice its orders on a peak day: most deliveries late, some stuck",
        "city_slow_couriers": f"couriers in {where} take 2.5-5 h: many late orders across its stores",
        "store_negative_reviews": f"reviews of {where} turn negative: most ratings 1-2",
        "small_store_unlucky_review": f"{where} has few reviews and gets exactly one negative: no alert",
    }[inc.kind]


def _iso(t: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(t, tz).isoformat()


def _prepare(config: TrafficConfig) -> _Simulation:
    stores = build_stores(random.Random(f"{config.seed}/stores"), config.stores, config.cities)
    return _Simulation(config, stores, resolve_incidents(config, stores))


def iter_records(config: TrafficConfig) -> Iterator[dict[str, Any]]:
    """The records of ``generate(config)`` one at a time (memory bounded by about a day of traffic)."""
    yield from _prepare(config).run()


def generate(config: TrafficConfig) -> Traffic:
    """All records sorted by event time, and the truth of every injected incident."""
    sim = _prepare(config)
    records = list(sim.run())
    return Traffic(records=records, truth=sim.truth(), incidents=sim.incidents, stores=sim.stores)


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write one record per line (orjson); return how many were written."""
    n = 0
    with open(path, "wb") as fh:
        for record in records:
            fh.write(orjson.dumps(record) + b"\n")
            n += 1
    return n


def write_traffic(config: TrafficConfig, path: str | Path,
                  on_record: Callable[[dict[str, Any]], None] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Stream the records of ``config`` to a JSONL file without holding them (memory bounded by about a day of
    traffic); return how many were written and the truth. ``on_record`` sees each record (progress)."""
    sim = _prepare(config)

    def tapped() -> Iterator[dict[str, Any]]:
        for record in sim.run():
            if on_record is not None:
                on_record(record)
            yield record

    n = write_jsonl(path, tapped())
    return n, sim.truth()


def write_truth(path: str | Path, truth: list[dict[str, Any]]) -> None:
    """Write the truth as one indented JSON file (by convention next to the data, e.g. ``traffic.truth.json``)."""
    Path(path).write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
