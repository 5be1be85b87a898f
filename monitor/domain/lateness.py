"""Courier lateness of a whole city: deliveries per event-time hour, and when the late share calls for an alert.

An order delivered late although its store handed it to the courier by the dispatch deadline is the courier's
lateness (``monitor.domain.orders.courier_late``): it does not count towards hiding the store, it counts here.
Pure: state in, outputs out, time in ms passed in.

Deliveries reach a city from every store partition, each at its own pace (a store partition sends its counts
when it writes its state). So counts are added as they come, but the city is judged only as of a time every
store partition has passed (the watermark, kept by the agent): at each hour's end up to it, in turn, so the
alerts are the same whatever order the store partitions' counts arrived in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import orjson

from monitor.domain.outputs import Alert, Emit, dt_from_ms
from monitor.domain.units import HOUR_MS

__all__ = ["HOUR_MS", "CityLatenessRule", "CityLatenessState", "LatenessDecision", "decide_city_lateness",
           "add_deliveries", "evaluate_city_lateness", "evaluation_times", "judge_until"]



@dataclass(frozen=True, slots=True)
class CityLatenessRule:
    """Fire when, over the last ``window_ms`` of deliveries, at least ``min_late`` were late by the courier and
    they are at least ``min_share`` of the deliveries; resolve below ``resolve_share`` (hysteresis)."""

    window_ms: int = 3 * HOUR_MS
    min_share: float = 0.20
    resolve_share: float = 0.10
    min_late: int = 10

    @classmethod
    def from_settings(cls, s: Any) -> CityLatenessRule:
        return cls(window_ms=int(s.city_lateness_window.total_seconds() * 1000),
                   min_share=s.city_lateness_share, resolve_share=s.city_lateness_share / 2,
                   min_late=s.city_lateness_min_late)


class LatenessDecision(enum.StrEnum):
    """What the city's courier lateness calls for."""

    FIRE = "COURIER_LATE_SHARE_HIGH"
    RESOLVE = "COURIER_LATE_SHARE_NORMAL"
    KEEP = "NO_CHANGE"


def decide_city_lateness(delivered: int, late: int, rule: CityLatenessRule, *, firing: bool) -> LatenessDecision:
    """The decision for ``late`` courier-late deliveries out of ``delivered`` in the window."""
    share = late / delivered if delivered else 0.0
    if not firing and late >= rule.min_late and share >= rule.min_share:
        return LatenessDecision.FIRE
    if firing and share < rule.resolve_share:
        return LatenessDecision.RESOLVE
    return LatenessDecision.KEEP


@dataclass(slots=True)
class CityLatenessState:
    """Deliveries of one city per event-time hour: hour start ms -> [delivered, late by the courier]."""

    city: str
    hours: dict[int, list[int]] = field(default_factory=dict)
    clock_ms: int = 0
    firing: bool = False
    incident: int = 0
    partition: int = -1

    def to_bytes(self) -> bytes:
        return orjson.dumps({"c": self.city, "h": {str(k): v for k, v in self.hours.items()}, "t": self.clock_ms,
                             "f": self.firing, "i": self.incident, "p": self.partition})

    @classmethod
    def from_bytes(cls, raw: bytes) -> CityLatenessState:
        d = orjson.loads(raw)
        return cls(d["c"], {int(k): v for k, v in d["h"].items()}, d["t"], d["f"], d["i"], d["p"])


def add_deliveries(state: CityLatenessState, hour_ms: int, delivered: int, late: int,
                   rule: CityLatenessRule) -> bool:
    """Count deliveries of an hour; False (ignored) when the city was judged past the hour's window already."""
    if hour_ms + HOUR_MS <= state.clock_ms - rule.window_ms:
        return False
    row = state.hours.setdefault(hour_ms, [0, 0])
    row[0] += delivered
    row[1] += late
    return True


def evaluation_times(state: CityLatenessState, watermark_ms: int, rule: CityLatenessRule) -> list[int]:
    """When to judge the city, last judged at ``state.clock_ms``, now that every store partition has passed
    ``watermark_ms``: each moment in between at which the window's sums change (an hour's end, when its counts
    are in; an hour leaving the window), in order, then the watermark itself."""
    if watermark_ms <= state.clock_ms:
        return []
    changes = {t for h in state.hours for t in (h + HOUR_MS - 1, h + HOUR_MS + rule.window_ms)}
    return sorted(t for t in changes if state.clock_ms < t < watermark_ms) + [watermark_ms]


def judge_until(state: CityLatenessState, watermark_ms: int, rule: CityLatenessRule) -> list[Emit]:
    """Judge the city at every ``evaluation_times`` step up to ``watermark_ms``."""
    emits: list[Emit] = []
    for at_ms in evaluation_times(state, watermark_ms, rule):
        emits += evaluate_city_lateness(state, rule, at_ms)
    return emits


def evaluate_city_lateness(state: CityLatenessState, rule: CityLatenessRule, at_ms: int) -> list[Emit]:
    """As of ``at_ms``: drop hours that left the window, then fire or resolve the city's ``city_lateness``
    alert from the hours in the window (hours after ``at_ms``, already counted, wait for their turn)."""
    state.clock_ms = max(state.clock_ms, at_ms)
    start = state.clock_ms - rule.window_ms
    for hour in [h for h in state.hours if h + HOUR_MS <= start]:
        del state.hours[hour]
    rows = [row for h, row in state.hours.items() if h + HOUR_MS - 1 <= state.clock_ms]
    delivered = sum(row[0] for row in rows)
    late = sum(row[1] for row in rows)
    decision = decide_city_lateness(delivered, late, rule, firing=state.firing)
    if decision is LatenessDecision.KEEP:
        return []
    if decision is LatenessDecision.FIRE:
        state.firing, state.incident = True, state.incident + 1
    else:
        state.firing = False
    share = round(late / delivered, 4) if delivered else 0.0
    firing = decision is LatenessDecision.FIRE
    alert = Alert(
        alert_id=f"city_lateness:{state.city}:{state.incident}", kind="city_lateness", severity="warning",
        status="firing" if firing else "resolved", store_id=None, city=state.city,
        summary=(f"Couriers in {state.city} are late: {late} of {delivered} deliveries in the last "
                 f"{rule.window_ms // HOUR_MS} h were handed over in time and arrived late ({share:.0%})"
                 if firing else f"Courier lateness in {state.city} back to normal ({share:.0%})"),
        details={"reason": decision.value, "incident": state.incident, "delivered": delivered,
                 "courier_late": late, "share": share, "threshold": rule.min_share,
                 "window_hours": rule.window_ms // HOUR_MS},
        at=dt_from_ms(state.clock_ms),
    )
    return [Emit("alerts", alert.alert_id, alert, decision.value)]
