"""What to generate: the traffic settings, the incident kinds with what the monitor should do, and where they hit."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.toolkit.profiles import DEFAULT_CITIES, HOURLY_WEIGHTS, City, Store

__all__ = [
    "INCIDENT_KINDS",
    "EXPECT",
    "Incident",
    "TrafficConfig",
    "default_incidents",
    "expected_orders",
    "resolve_incidents",
]

MIN, HOUR, DAY = 60, 3600, 86400  # seconds

# kind -> (what the monitor should do, the alert kind it should raise, or must not raise for "no_alert")
EXPECT: dict[str, tuple[str, str]] = {
    "store_stops_accepting": ("hide", "store_hidden"),
    "store_overloaded": ("hide", "store_hidden"),
    "city_slow_couriers": ("alert", "city_lateness"),
    "store_negative_reviews": ("alert", "store_negativity"),
    "small_store_unlucky_review": ("no_alert", "store_negativity"),
}
INCIDENT_KINDS = tuple(EXPECT)

# Expected orders in the window of the store picked for an incident: a hide needs 8 late or at-risk orders,
# a negativity alert 20 reviews (four in five customers of the negative-reviews store write one).
MIN_HIDE_ORDERS = 16
MIN_NEGATIVE_ORDERS = 40
_CURVE_TOTAL = sum(HOURLY_WEIGHTS)


def _aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name}: expected an aware datetime (with a UTC offset), got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Incident:
    """One injected problem in [start, end); a store incident without ``store_id`` gets one picked from the seed,
    a city incident without ``city`` gets a large city other than the largest."""

    kind: str
    start: datetime
    end: datetime
    store_id: str | None = None
    city: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EXPECT:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(INCIDENT_KINDS)}")
        _aware("start", self.start)
        _aware("end", self.end)
        if self.end <= self.start:
            raise ValueError(f"end: {self.end.isoformat()} is not after start {self.start.isoformat()}")


@dataclass(frozen=True, kw_only=True)
class TrafficConfig:
    """What to generate. ``incidents=None`` injects one incident of each kind (``default_incidents``); ``()`` none.

    ``start`` is best a local midnight: default incident windows are hours after it. ``local_time`` writes
    timestamps with the store city's offset (+03:00 Moscow, +07:00 Novosibirsk); otherwise in UTC.
    """

    start: datetime
    seed: int = 1
    days: int = 1
    orders_per_day: int = 1500
    stores: int = 300
    cities: tuple[City, ...] = DEFAULT_CITIES
    peak_factor: float = 1.0
    review_share: float = 0.3  # of delivered orders
    negative_share: float = 0.015  # of reviews of on-time orders
    late_share: float = 0.02  # of delivered orders, without incidents
    cancel_share: float = 0.02
    local_time: bool = True
    incidents: tuple[Incident, ...] | None = None

    def __post_init__(self) -> None:
        _aware("start", self.start)
        for name in ("days", "stores"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be at least 1, got {getattr(self, name)}")
        if self.orders_per_day < 0:
            raise ValueError(f"orders_per_day: must be at least 0, got {self.orders_per_day}")
        if self.peak_factor <= 0:
            raise ValueError(f"peak_factor: must be positive, got {self.peak_factor}")
        for name in ("review_share", "negative_share", "late_share", "cancel_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must be in [0, 1], got {getattr(self, name)}")
        if not self.cities or any(c.weight <= 0 for c in self.cities):
            raise ValueError("cities: need at least one city, every weight positive")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


def default_incidents(config: TrafficConfig) -> tuple[Incident, ...]:
    """One incident of each kind on the middle day (negative reviews last until the end); places not picked yet."""
    mid = config.start + timedelta(days=(config.days - 1) // 2)

    def at(kind: str, from_h: float, to_h: float | None = None) -> Incident:
        end = config.end if to_h is None else mid + timedelta(hours=to_h)
        return Incident(kind=kind, start=mid + timedelta(hours=from_h), end=end)

    return (at("store_stops_accepting", 10, 24), at("store_overloaded", 9, 21), at("city_slow_couriers", 12, 19),
            at("store_negative_reviews", 6), at("small_store_unlucky_review", 11, 23))


def expected_orders(config: TrafficConfig, store: Store, start_s: int, end_s: int) -> float:
    """Orders the store should get in [start_s, end_s) by its share and its city's daily curve."""
    offset, total, t = store.city.utc_offset_h * HOUR, 0.0, start_s
    while t < end_s:
        step = min(HOUR - (t + offset) % HOUR, end_s - t)
        total += HOURLY_WEIGHTS[(t + offset) // HOUR % 24] * step / HOUR
        t += step
    return store.share * config.orders_per_day * config.peak_factor * total / _CURVE_TOTAL


def resolve_incidents(config: TrafficConfig, stores: Sequence[Store]) -> tuple[Incident, ...]:
    """The config's incidents with every store and city filled in, deterministically from the seed.

    City incidents go to a large city other than the largest; store incidents avoid those cities and each other.
    Negative reviews go to a store expected to get enough reviews to judge, hide incidents to a mid/large store
    expected to get enough orders in the window, the unlucky review to a store among the smallest 30%.
    """
    incidents = default_incidents(config) if config.incidents is None else config.incidents
    rng = random.Random(f"{config.seed}/incidents")
    city_names = {c.name for c in config.cities}
    ranked_cities = sorted(config.cities, key=lambda c: (-c.weight, c.name))
    by_id = {s.store_id: s for s in stores}
    out: dict[int, Incident] = {}
    for i, inc in enumerate(incidents):
        if inc.kind == "city_slow_couriers":
            city = inc.city or rng.choice(ranked_cities[1:4] or ranked_cities).name
            if city not in city_names:
                raise ValueError(f"incident {inc.kind}: unknown city {city!r}")
            out[i] = Incident(kind=inc.kind, start=inc.start, end=inc.end, city=city)
    busy = {inc.city for inc in out.values()}
    used = {inc.store_id for inc in incidents if inc.store_id}
    by_size = sorted(stores, key=lambda s: (-s.share, s.store_id))
    # negative reviews pick first (they need the most orders), then hide incidents, then the rest
    priority = {"store_negative_reviews": 0, "store_stops_accepting": 1, "store_overloaded": 1}
    for i in sorted(range(len(incidents)), key=lambda i: (priority.get(incidents[i].kind, 2), i)):
        inc = incidents[i]
        if i in out:
            continue
        if inc.store_id is not None:
            if inc.store_id not in by_id:
                raise ValueError(f"incident {inc.kind}: unknown store {inc.store_id!r}")
            store = by_id[inc.store_id]
        else:
            pool = [s for s in by_size if s.store_id not in used and inc.city in (None, s.city.name)]
            pool = [s for s in pool if s.city.name not in busy] or pool or by_size
            window = (int(inc.start.timestamp()), int(inc.end.timestamp()))
            if inc.kind == "small_store_unlucky_review":
                candidates = pool[-max(1, len(pool) * 3 // 10):]
            else:  # hides skip the largest store: it is a mid/large store that fails, not the market leader
                least, skip = ((MIN_NEGATIVE_ORDERS, 0) if inc.kind == "store_negative_reviews" else
                               (MIN_HIDE_ORDERS, 1))
                candidates = [s for s in pool[skip:] if expected_orders(config, s, *window) >= least] or pool[:1]
            store = rng.choice(candidates)
        used.add(store.store_id)
        out[i] = Incident(kind=inc.kind, start=inc.start, end=inc.end, store_id=store.store_id, city=store.city.name)
    return tuple(out[i] for i in range(len(incidents)))


