"""The state of one (store, city): its recent orders, visibility incident and daily totals, as compact JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from monitor.domain.orders import OrderFacts

__all__ = ["StoreState", "store_key"]


def store_key(store_id: str, city: str) -> bytes:
    """The table key of a store: stores are keyed by (store, city)."""
    return f"{store_id}\x1f{city}".encode()


@dataclass(slots=True)
class StoreState:
    """Everything the monitor remembers about one store in one city."""

    store_id: str
    city: str
    partition: int = -1  # the partition that owns it (for rebuilding timers after recovery)
    clock_ms: int = 0  # partition clock at the last write (restores the clock after a restart)
    orders: dict[str, OrderFacts] = field(default_factory=dict)
    hidden: bool = False
    incident: int = 0  # number of the current or last hide incident
    hidden_at_ms: int | None = None
    last_bad_ms: int | None = None  # last time an order turned late or at risk while hidden (auto-restore)
    evidence_late: list[str] = field(default_factory=list)
    evidence_at_risk: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)  # order id -> forget at (counted in a closed incident)
    done: dict[str, int] = field(default_factory=dict)  # finished orders that can no longer count: id -> forget at
    days: dict[int, list[int]] = field(default_factory=dict)  # UTC day start ms -> [orders, delivered, late, cancelled]
    # In memory only: a heap of (event time ms, flag, order id) of the orders' deadlines (flag 0: forget time),
    # built by monitor.domain.stores on first use, so that a store's work per event does not grow with its orders.
    timeline: list[tuple[int, int, str]] | None = field(default=None, repr=False, compare=False)

    def to_bytes(self) -> bytes:
        return orjson.dumps({
            "s": self.store_id, "c": self.city, "p": self.partition, "t": self.clock_ms,
            "o": {oid: f.to_list() for oid, f in self.orders.items()},
            "h": self.hidden, "i": self.incident, "ha": self.hidden_at_ms, "lb": self.last_bad_ms,
            "el": self.evidence_late, "ea": self.evidence_at_risk, "x": self.excluded, "f": self.done,
            "d": {str(k): v for k, v in self.days.items()},
        })

    @classmethod
    def from_bytes(cls, raw: bytes) -> StoreState:
        d = orjson.loads(raw)
        return cls(
            store_id=d["s"], city=d["c"], partition=d["p"], clock_ms=d["t"],
            orders={oid: OrderFacts.from_list(v) for oid, v in d["o"].items()},
            hidden=d["h"], incident=d["i"], hidden_at_ms=d["ha"], last_bad_ms=d["lb"],
            evidence_late=d["el"], evidence_at_risk=d["ea"], excluded=d["x"], done=d.get("f", {}),
            days={int(k): v for k, v in d["d"].items()},
        )

    def is_empty(self) -> bool:
        """Nothing worth keeping: no orders, never hidden, no totals."""
        return (not self.orders and not self.hidden and self.incident == 0 and not self.days and not self.excluded
                and not self.done)
