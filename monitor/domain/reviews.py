"""Review negativity: the share of negative reviews, when it fires and resolves, as pure functions of counts and ms."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from monitor.domain.units import DAY_MS, HOUR_MS

__all__ = [
    "DAY_MS",
    "is_negative",
    "share",
    "wilson_lower",
    "NegativityRule",
    "WindowStats",
    "Decision",
    "Evaluation",
    "evaluate",
    "bucket_start_ms",
    "window_bucket_starts",
    "is_too_old",
    "sum_window",
    "expired_buckets",
    "RepeatRule",
    "is_repeat_offender",
    "prune_firings",
    "alert_id",
]



def _ms(td: Any) -> int:
    return int(td.total_seconds() * 1000)


def is_negative(rating: int, negative_max_rating: int) -> bool:
    """A review is negative when its rating is at most ``negative_max_rating``."""
    return rating <= negative_max_rating


def share(negative: int, total: int) -> float:
    """The share of negative reviews; 0.0 without reviews."""
    return negative / total if total else 0.0


def wilson_lower(negative: int, total: int, confidence: float) -> float:
    """Lower bound of the Wilson score interval of the negative share at a two-sided ``confidence``."""
    if total == 0:
        return 0.0
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p, n, z2 = negative / total, total, z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))  # max: rounding can dip just below 0 at p = 0


@dataclass(frozen=True, slots=True)
class NegativityRule:
    """When a negativity alert fires and when it resolves.

    Fires (not yet firing) when the evidence is enough -- ``total >= min_reviews`` and
    ``negative >= min_negative`` -- and the measure is strictly above ``threshold``: the share itself
    (``simple``) or the Wilson lower bound of the share (``wilson``).

    Resolves (firing) when the observed share is back at the threshold or below, with hysteresis so a store at
    the border does not flap: at once when the share is at ``threshold - resolve_margin`` or below, otherwise
    only when the alert has been firing for at least ``min_firing_ms``. Both methods resolve on the observed
    share, which is never below the Wilson bound, so a Wilson alert also resolves once its share is back.
    """

    threshold: float = 0.02
    method: str = "simple"  # "simple" | "wilson"
    confidence: float = 0.95
    min_reviews: int = 20
    min_negative: int = 2
    resolve_margin: float = 0.005
    min_firing_ms: int = 6 * HOUR_MS
    window_ms: int = 30 * DAY_MS
    max_reviews: int = 4_000  # per store: its state must fit one Kafka message

    def __post_init__(self) -> None:
        if self.method not in ("simple", "wilson"):
            raise ValueError(f"method must be simple or wilson, got {self.method!r}")

    @classmethod
    def from_settings(cls, s: Any, *, city: bool = False) -> NegativityRule:
        """The rule of a store, or of a city (``city_min_reviews`` instead of ``min_reviews``)."""
        return cls(
            threshold=s.negativity_threshold, method=s.negativity_method, confidence=s.negativity_confidence,
            min_reviews=s.city_min_reviews if city else s.min_reviews, min_negative=s.min_negative,
            window_ms=_ms(s.negativity_window), resolve_margin=s.negativity_resolve_margin,
            min_firing_ms=_ms(s.negativity_min_firing), max_reviews=s.max_reviews_per_store,
        )


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Reviews in the window: how many, and how many of them negative."""

    total: int
    negative: int


class Decision(enum.StrEnum):
    """Why a negativity alert fires, stays, resolves or stays quiet."""

    FIRE_SHARE_ABOVE_THRESHOLD = "FIRE_SHARE_ABOVE_THRESHOLD"  # simple: share > threshold, enough evidence
    FIRE_WILSON_ABOVE_THRESHOLD = "FIRE_WILSON_ABOVE_THRESHOLD"  # wilson: lower bound > threshold
    STAY_FIRING = "STAY_FIRING"  # share still above the threshold
    STAY_FIRING_IN_MARGIN = "STAY_FIRING_IN_MARGIN"  # back at the threshold, but hysteresis holds it
    RESOLVE_SHARE_BACK = "RESOLVE_SHARE_BACK"  # share <= threshold - resolve_margin
    RESOLVE_SHARE_BACK_AFTER_MIN_FIRING = "RESOLVE_SHARE_BACK_AFTER_MIN_FIRING"  # share <= threshold, held long
    QUIET_NO_REVIEWS = "QUIET_NO_REVIEWS"
    QUIET_BELOW_THRESHOLD = "QUIET_BELOW_THRESHOLD"
    QUIET_TOO_FEW_REVIEWS = "QUIET_TOO_FEW_REVIEWS"  # above the threshold, but total < min_reviews
    QUIET_TOO_FEW_NEGATIVES = "QUIET_TOO_FEW_NEGATIVES"  # above the threshold, but negative < min_negative


_FIRES = frozenset({Decision.FIRE_SHARE_ABOVE_THRESHOLD, Decision.FIRE_WILSON_ABOVE_THRESHOLD})
_RESOLVES = frozenset({Decision.RESOLVE_SHARE_BACK, Decision.RESOLVE_SHARE_BACK_AFTER_MIN_FIRING})


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A decision with the numbers behind it (for the alert and the log line)."""

    decision: Decision
    share: float
    lower_bound: float  # Wilson lower bound at the rule's confidence, whatever the method

    @property
    def fires(self) -> bool:
        return self.decision in _FIRES

    @property
    def resolves(self) -> bool:
        return self.decision in _RESOLVES


def evaluate(
    stats: WindowStats, rule: NegativityRule, *, firing: bool, firing_since_ms: int | None, now_ms: int
) -> Evaluation:
    """The decision for a window's counts, given whether the alert fires already and since when.

    A firing alert with an unknown ``firing_since_ms`` resolves only below the margin.
    """
    s = share(stats.negative, stats.total)
    lower = wilson_lower(stats.negative, stats.total, rule.confidence)

    def result(decision: Decision) -> Evaluation:
        return Evaluation(decision, s, lower)

    if firing:
        if s > rule.threshold:
            return result(Decision.STAY_FIRING)
        if s <= rule.threshold - rule.resolve_margin + 1e-12:  # 0.03 - 0.005 is 0.024999..., not 0.025
            return result(Decision.RESOLVE_SHARE_BACK)
        if firing_since_ms is not None and now_ms - firing_since_ms >= rule.min_firing_ms:
            return result(Decision.RESOLVE_SHARE_BACK_AFTER_MIN_FIRING)
        return result(Decision.STAY_FIRING_IN_MARGIN)
    if stats.total == 0:
        return result(Decision.QUIET_NO_REVIEWS)
    measure = lower if rule.method == "wilson" else s
    if measure <= rule.threshold:
        return result(Decision.QUIET_BELOW_THRESHOLD)
    if stats.total < rule.min_reviews:
        return result(Decision.QUIET_TOO_FEW_REVIEWS)
    if stats.negative < rule.min_negative:
        return result(Decision.QUIET_TOO_FEW_NEGATIVES)
    if rule.method == "wilson":
        return result(Decision.FIRE_WILSON_ABOVE_THRESHOLD)
    return result(Decision.FIRE_SHARE_ABOVE_THRESHOLD)


# --- event-time buckets: the window is (now_ms - window_ms, now_ms], counted in whole buckets ---
# A bucket that overlaps the window counts whole, so the effective window is up to one bucket longer.


def bucket_start_ms(ts_ms: int, bucket_ms: int = DAY_MS) -> int:
    """Start of the bucket holding ``ts_ms`` (floored, also for times before the epoch)."""
    return ts_ms - ts_ms % bucket_ms


def window_bucket_starts(now_ms: int, window_ms: int, bucket_ms: int = DAY_MS) -> range:
    """Starts of the buckets that overlap the window (now_ms - window_ms, now_ms]."""
    first = bucket_start_ms(now_ms - window_ms + 1, bucket_ms)
    return range(first, bucket_start_ms(now_ms, bucket_ms) + bucket_ms, bucket_ms)


def is_too_old(ts_ms: int, now_ms: int, window_ms: int) -> bool:
    """A review at or before the window's open start no longer counts and is ignored."""
    return ts_ms <= now_ms - window_ms


def sum_window(
    buckets: Mapping[int, tuple[int, int]], now_ms: int, window_ms: int, bucket_ms: int = DAY_MS
) -> WindowStats:
    """Sum ``{bucket start: (total, negative)}`` over the buckets in the window."""
    total = negative = 0
    for start in window_bucket_starts(now_ms, window_ms, bucket_ms):
        t, n = buckets.get(start, (0, 0))
        total, negative = total + t, negative + n
    return WindowStats(total, negative)


def expired_buckets(
    buckets: Mapping[int, Any], now_ms: int, window_ms: int, bucket_ms: int = DAY_MS
) -> list[int]:
    """Bucket starts that end before the window starts: no longer counted, safe to delete."""
    first = window_bucket_starts(now_ms, window_ms, bucket_ms).start
    return sorted(start for start in buckets if start < first)


# --- repeat offenders ---


@dataclass(frozen=True, slots=True)
class RepeatRule:
    """A store whose alert fired ``repeat_count`` times within ``repeat_window_ms`` is a repeat offender."""

    repeat_count: int = 3
    repeat_window_ms: int = 90 * DAY_MS

    @classmethod
    def from_settings(cls, s: Any) -> RepeatRule:
        return cls(repeat_count=s.repeat_count, repeat_window_ms=_ms(s.repeat_window))


def is_repeat_offender(fired_at_ms: Sequence[int], now_ms: int, rule: RepeatRule) -> bool:
    """At least ``repeat_count`` firings within (now_ms - repeat_window_ms, now_ms]."""
    start = now_ms - rule.repeat_window_ms
    return sum(1 for t in fired_at_ms if start < t <= now_ms) >= rule.repeat_count


def prune_firings(fired_at_ms: Sequence[int], now_ms: int, rule: RepeatRule) -> list[int]:
    """The firing times still inside the repeat window (sorted); older ones can be forgotten."""
    start = now_ms - rule.repeat_window_ms
    return sorted(t for t in fired_at_ms if t > start)


def alert_id(kind: str, city: str, store_id: str | None, incident: int) -> str:
    """A deterministic alert id, e.g. ``store_negativity:Moscow:s-1:3`` (``-`` for a city alert)."""
    return f"{kind}:{city}:{'-' if store_id is None else store_id}:{incident}"
