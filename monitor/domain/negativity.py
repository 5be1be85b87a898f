"""Negativity of a store or a city over event-time day buckets: what a review changes and which alerts follow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from monitor.domain.outputs import Alert, Emit, dt_from_ms, iso_from_ms
from monitor.domain.reviews import (
    DAY_MS,
    NegativityRule,
    RepeatRule,
    alert_id,
    bucket_start_ms,
    evaluate,
    expired_buckets,
    is_repeat_offender,
    is_too_old,
    prune_firings,
    sum_window,
)

__all__ = ["REVIEW_TEXT_MAX", "NegativityState", "add_review", "evaluate_negativity", "expire_negativity", "negative_review_alert",
           "hold_city_review", "judge_city_until", "city_due", "next_change_ms", "hold_store_review",
           "judge_store_until", "next_store_due_ms"]


@dataclass(slots=True)
class NegativityState:
    """Day buckets and the alert state of one store (``store_id`` set) or one city (``store_id`` None)."""

    city: str
    store_id: str | None = None
    partition: int = -1
    clock_ms: int = 0
    buckets: dict[int, list[int]] = field(default_factory=dict)  # day start ms -> [reviews, negative]
    seen: dict[str, int] = field(default_factory=dict)  # review id -> created ms (store scope: dedup)
    firing: bool = False
    firing_since_ms: int | None = None
    incident: int = 0
    fired_at: list[int] = field(default_factory=list)  # when incidents fired, within the repeat window
    too_old: int = 0  # reviews ignored because they were older than the window
    pending: list[list[Any]] = field(default_factory=list)  # [review_id, created ms, negative] not judged yet

    def is_empty(self) -> bool:
        """Nothing left to keep: no day in the window, no alert firing or remembered, nothing pending."""
        return not (self.buckets or self.seen or self.firing or self.fired_at or self.pending)

    def to_bytes(self) -> bytes:
        return orjson.dumps({
            "c": self.city, "s": self.store_id, "p": self.partition, "t": self.clock_ms,
            "b": {str(k): v for k, v in self.buckets.items()}, "seen": self.seen, "f": self.firing,
            "fs": self.firing_since_ms, "i": self.incident, "fa": self.fired_at, "old": self.too_old,
            "q": self.pending,
        })

    @classmethod
    def from_bytes(cls, raw: bytes) -> NegativityState:
        d = orjson.loads(raw)
        return cls(city=d["c"], store_id=d["s"], partition=d["p"], clock_ms=d["t"],
                   buckets={int(k): v for k, v in d["b"].items()}, seen=d["seen"], firing=d["f"],
                   firing_since_ms=d["fs"], incident=d["i"], fired_at=d["fa"], too_old=d["old"],
                   pending=d.get("q", []))


def add_review(state: NegativityState, review_id: str, negative: bool, created_ms: int, now_ms: int,
               rule: NegativityRule, *, dedup: bool = True) -> str:
    """Count a review in the bucket of its own day: ``ADDED``, ``DUPLICATE`` or ``TOO_OLD`` (ignored)."""
    if dedup and review_id in state.seen:
        return "DUPLICATE"
    if is_too_old(created_ms, now_ms, rule.window_ms):
        state.too_old += 1
        return "TOO_OLD"
    if dedup:
        state.seen[review_id] = created_ms
    row = state.buckets.setdefault(bucket_start_ms(created_ms), [0, 0])
    row[0] += 1
    row[1] += int(negative)
    return "ADDED"


def hold_city_review(state: NegativityState, review_id: str, negative: bool, created_ms: int, watermark_ms: int,
                     rule: NegativityRule) -> str:
    """A review reaching its city waits in ``pending`` until the watermark passes it: ``PENDING``, or ``TOO_OLD``
    (ignored) when it is older than the window at the watermark, or ``DUPLICATE`` when it already waits
    (the store agent deduplicates; a store batch sent again after a crash may repeat it)."""
    if is_too_old(created_ms, watermark_ms, rule.window_ms):
        state.too_old += 1
        return "TOO_OLD"
    if any(r[0] == review_id for r in state.pending):
        return "DUPLICATE"
    state.pending.append([review_id, created_ms, int(negative)])
    return "PENDING"


def hold_store_review(state: NegativityState, review_id: str, negative: bool, created_ms: int, clock_ms: int,
                      rule: NegativityRule) -> str:
    """A review reaching its store waits in ``pending`` until the partition's review clock passes it (every source
    has sent what comes before it): ``PENDING``, ``DUPLICATE`` (counted or waiting already), or ``TOO_OLD`` when it
    is older than the window at the clock ``clock_ms``, ``STORE_FULL`` when the store already holds
    ``rule.max_reviews``."""
    if review_id in state.seen or any(r[0] == review_id for r in state.pending):
        return "DUPLICATE"
    if is_too_old(created_ms, max(clock_ms, state.clock_ms), rule.window_ms):
        state.too_old += 1
        return "TOO_OLD"
    if len(state.seen) + len(state.pending) >= rule.max_reviews:
        return "STORE_FULL"
    state.pending.append([review_id, created_ms, int(negative)])
    return "PENDING"


def judge_store_until(state: NegativityState, clock_ms: int, rule: NegativityRule,
                      repeat: RepeatRule | None = None) -> tuple[list[Emit], list[list[Any]]]:
    """Count and judge the store's pending reviews up to ``clock_ms`` one at a time in ``created_at`` order (ties
    by id), and its change points (a day leaving the window, ``min_firing`` reached) in time order between them:
    the alerts depend on the reviews alone, not on how their sources interleaved. Returns the alerts and the
    reviews counted (``[review_id, created_ms, negative]``, for the city)."""
    ready = sorted((r for r in state.pending if r[1] <= clock_ms), key=lambda r: (r[1], r[0]))
    state.pending = [r for r in state.pending if r[1] > clock_ms]
    emits: list[Emit] = []
    counted: list[list[Any]] = []
    for review_id, created_ms, negative in ready:
        while (at_ms := next_change_ms(state, rule)) is not None and at_ms < created_ms:
            emits += evaluate_negativity(state, at_ms, rule, repeat)
        now_ms = max(state.clock_ms, created_ms)
        if add_review(state, review_id, bool(negative), created_ms, now_ms, rule) == "ADDED":
            counted.append([review_id, created_ms, negative])
            emits += evaluate_negativity(state, now_ms, rule, repeat)
    while (at_ms := next_change_ms(state, rule)) is not None and at_ms <= clock_ms:
        emits += evaluate_negativity(state, at_ms, rule, repeat)
    return emits, counted


def next_store_due_ms(state: NegativityState, rule: NegativityRule) -> int | None:
    """When the store next needs judging: its first pending review or its next change point."""
    times = [r[1] for r in state.pending]
    change = next_change_ms(state, rule)
    if change is not None:
        times.append(change)
    return min(times, default=None)


def judge_city_until(state: NegativityState, watermark_ms: int, rule: NegativityRule) -> list[Emit]:
    """Count and judge, one at a time in ``created_at`` order (ties by id), the pending reviews up to
    ``watermark_ms``, as the store agent does on arrival; then drop the days that left the window at the
    watermark. Every store partition has sent everything up to the watermark, so the alerts do not depend on
    the order their messages came in."""
    ready = sorted((r for r in state.pending if r[1] <= watermark_ms), key=lambda r: (r[1], r[0]))
    state.pending = [r for r in state.pending if r[1] > watermark_ms]
    emits: list[Emit] = []
    for review_id, created_ms, negative in ready:
        now_ms = max(state.clock_ms, created_ms)
        if add_review(state, review_id, bool(negative), created_ms, now_ms, rule, dedup=False) == "ADDED":
            emits += evaluate_negativity(state, now_ms, rule)
    expire_negativity(state, watermark_ms, rule)
    return emits


def next_change_ms(state: NegativityState, rule: NegativityRule) -> int | None:
    """When judging the store again changes something with no new review: its oldest day leaves the window (the
    share moves, the day is dropped), or its alert has fired for ``min_firing`` (it may resolve at the
    threshold). None when neither can happen."""
    times = []
    if state.buckets:
        times.append(min(state.buckets) + DAY_MS + rule.window_ms - 1)
    if state.firing and state.firing_since_ms is not None:
        until_ms = state.firing_since_ms + rule.min_firing_ms
        if until_ms > state.clock_ms:
            times.append(until_ms)
    return min(times, default=None)


def city_due(state: NegativityState, watermark_ms: int, rule: NegativityRule) -> bool:
    """Whether judging the city up to ``watermark_ms`` changes anything: a pending review the watermark passed,
    or a day that leaves the window."""
    return (any(r[1] <= watermark_ms for r in state.pending)
            or bool(expired_buckets(state.buckets, watermark_ms, rule.window_ms)))


def expire_negativity(state: NegativityState, now_ms: int, rule: NegativityRule) -> None:
    """Move the state's clock to ``now_ms``; drop the day buckets and seen ids that left the window."""
    for day in expired_buckets(state.buckets, now_ms, rule.window_ms):
        del state.buckets[day]
    for rid in [r for r, ms in state.seen.items() if is_too_old(ms, now_ms, rule.window_ms)]:
        del state.seen[rid]
    state.clock_ms = max(state.clock_ms, now_ms)


def evaluate_negativity(state: NegativityState, now_ms: int, rule: NegativityRule,
                        repeat: RepeatRule | None = None) -> list[Emit]:
    """Fire or resolve the negativity alert of the store or city at ``now_ms``; expire old buckets."""
    expire_negativity(state, now_ms, rule)
    stats = sum_window({k: (v[0], v[1]) for k, v in state.buckets.items()}, now_ms, rule.window_ms)
    ev = evaluate(stats, rule, firing=state.firing, firing_since_ms=state.firing_since_ms, now_ms=now_ms)
    kind = "city_negativity" if state.store_id is None else "store_negativity"
    where = f"city {state.city}" if state.store_id is None else f"store {state.store_id} ({state.city})"
    details = {"decision": ev.decision.value, "share": round(ev.share, 6), "lower_bound": round(ev.lower_bound, 6),
               "reviews": stats.total, "negative": stats.negative, "threshold": rule.threshold,
               "method": rule.method, "window_days": rule.window_ms // DAY_MS}
    out: list[Emit] = []
    if ev.fires:
        state.firing, state.firing_since_ms, state.incident = True, now_ms, state.incident + 1
        earlier = prune_firings(state.fired_at, now_ms, repeat) if repeat else state.fired_at
        state.fired_at = [*earlier, now_ms]
        details["incident"] = state.incident
        summary = (f"Negative reviews of {where}: {ev.share:.1%} ({stats.negative} of {stats.total}) "
                   f"in {details['window_days']} days, above {rule.threshold:.1%}")
        out.append(_alert(state, kind, "warning", "firing", summary, details, now_ms, ev.decision.value))
        if repeat and state.store_id is not None and is_repeat_offender(state.fired_at, now_ms, repeat):
            rd = {"incidents": len(state.fired_at), "fired_at": [iso_from_ms(t) for t in state.fired_at],
                  "repeat_window_days": repeat.repeat_window_ms // DAY_MS}
            out.append(_alert(state, "store_repeat_offender", "critical", "firing",
                              f"Store {state.store_id} ({state.city}) went over the negativity level "
                              f"{len(state.fired_at)} times in {rd['repeat_window_days']} days: candidate for "
                              "disconnection", rd, now_ms, "REPEAT_OFFENDER"))
    elif ev.resolves:
        state.firing, state.firing_since_ms = False, None
        details["incident"] = state.incident
        summary = f"Negative reviews of {where} back to {ev.share:.1%} ({stats.negative} of {stats.total})"
        out.append(_alert(state, kind, "warning", "resolved", summary, details, now_ms, ev.decision.value))
    return out


def _alert(state: NegativityState, kind: str, severity: str, status: str, summary: str, details: dict,
           at_ms: int, decision: str) -> Emit:
    a = Alert(alert_id=alert_id(kind, state.city, state.store_id, state.incident), kind=kind, severity=severity,
              status=status, store_id=state.store_id, city=state.city, summary=summary, details=details,
              at=dt_from_ms(at_ms))
    return Emit("alerts", a.alert_id, a, decision)


REVIEW_TEXT_MAX = 2000  # characters of a review's text an alert carries: an alert must fit, whatever the review


def negative_review_alert(*, review_id: str, order_id: str, store_id: str, city: str, rating: int, text: str,
                          created_ms: int) -> Emit:
    """The info alert every negative review produces (its id is the review's, so it is sent once)."""
    quoted = (text[:200] + "…") if len(text) > 200 else text
    a = Alert(
        alert_id=f"negative_review:{city}:{store_id}:{review_id}", kind="negative_review", severity="info",
        status="firing", store_id=store_id, city=city,
        summary=f"{rating}★ review of {store_id} ({city}), order {order_id}" + (f": {quoted}" if quoted else ""),
        details={"review_id": review_id, "order_id": order_id, "rating": rating,
                 "text": text if len(text) <= REVIEW_TEXT_MAX + 1 else text[:REVIEW_TEXT_MAX] + "…",
                 "created_at": iso_from_ms(created_ms)},
        at=dt_from_ms(created_ms),
    )
    return Emit("alerts", a.alert_id, a, "NEGATIVE_REVIEW")
