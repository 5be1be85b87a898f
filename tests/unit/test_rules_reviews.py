"""Review negativity: share, Wilson bound, fire and resolve decisions, event-time buckets and repeat offenders."""

from __future__ import annotations

from datetime import datetime

import pytest

from monitor.domain.reviews import (
    DAY_MS,
    Decision,
    NegativityRule,
    RepeatRule,
    WindowStats,
    alert_id,
    bucket_start_ms,
    evaluate,
    expired_buckets,
    is_negative,
    is_repeat_offender,
    is_too_old,
    prune_firings,
    share,
    sum_window,
    wilson_lower,
    window_bucket_starts,
)
from monitor.settings import Settings

H = 3_600_000
T0 = int(datetime.fromisoformat("2026-02-14T00:00:00+00:00").timestamp() * 1000)  # a UTC day boundary
W30 = 30 * DAY_MS
SIMPLE = NegativityRule()
WILSON = NegativityRule(method="wilson")


def quiet(negative: int, total: int, rule: NegativityRule = SIMPLE):
    """Evaluate counts for an alert that is not firing."""
    return evaluate(WindowStats(total, negative), rule, firing=False, firing_since_ms=None, now_ms=T0)


class TestCounting:
    @pytest.mark.parametrize(
        ("rating", "negative"),
        [
            (1, True),  # the worst rating
            (2, True),  # exactly the default maximum is still negative
            (3, False),  # neutral
            (5, False),  # the best rating
        ],
    )
    def test_is_negative(self, rating, negative) -> None:
        """A rating at or below negative_max_rating (2) is negative."""
        assert is_negative(rating, 2) is negative

    @pytest.mark.parametrize(
        ("negative", "total", "expected"),
        [
            (0, 0, 0.0),  # no reviews: share 0, not a division error
            (2, 100, 0.02),  # the border
            (3, 100, 0.03),
            (1, 10, 0.1),
        ],
    )
    def test_share(self, negative, total, expected) -> None:
        """The share is negative / total, and 0.0 without reviews."""
        assert share(negative, total) == pytest.approx(expected)

    @pytest.mark.parametrize(
        ("negative", "total", "confidence", "expected"),
        [
            (0, 0, 0.95, 0.0),  # no reviews
            (0, 50, 0.95, 0.0),  # no negatives: the bound is 0, never below
            # p=0.1, n=20, z=1.96: (0.1 + 0.09604 - 1.96*sqrt(0.0045 + 0.002401)) / 1.19208 = 0.02787
            (2, 20, 0.95, 0.02787),
            # p=0.03, n=10000: (0.03019208 - 1.96*sqrt(2.91e-6 + 9.6e-9)) / 1.000384 = 0.02683
            (300, 10_000, 0.95, 0.02683),
            (3, 100, 0.95, 0.01025),  # 3% on 100 reviews is not sure evidence of more than 2%
        ],
    )
    def test_wilson_lower(self, negative, total, confidence, expected) -> None:
        """The Wilson lower bound matches the closed formula worked by hand."""
        assert wilson_lower(negative, total, confidence) == pytest.approx(expected, abs=1e-5)

    def test_wilson_lower_grows_with_confidence_shrinking(self) -> None:
        """A lower confidence gives a higher (less cautious) lower bound, always below the share."""
        bounds = [wilson_lower(2, 20, c) for c in (0.99, 0.95, 0.80)]
        assert bounds == sorted(bounds)
        assert bounds[-1] < share(2, 20)


class TestNegativityRule:
    def test_from_settings_store_and_city(self) -> None:
        """A store rule uses min_reviews; a city rule uses city_min_reviews; both take the shared fields."""
        s = Settings().replace(negativity_method="wilson", negativity_threshold=0.03, min_reviews=25)
        store, city = NegativityRule.from_settings(s), NegativityRule.from_settings(s, city=True)
        assert (store.method, store.threshold, store.min_reviews, store.window_ms) == ("wilson", 0.03, 25, W30)
        assert city.min_reviews == s.city_min_reviews == 50
        assert city.min_negative == store.min_negative == 2

    def test_unknown_method_is_refused(self) -> None:
        """A method other than simple or wilson fails when the rule is built."""
        with pytest.raises(ValueError, match="simple or wilson"):
            NegativityRule(method="bayes")


class TestEvaluateNotFiring:
    @pytest.mark.parametrize(
        ("negative", "total", "decision"),
        [
            (2, 100, Decision.QUIET_BELOW_THRESHOLD),  # exactly 2%: must be strictly above
            (3, 100, Decision.FIRE_SHARE_ABOVE_THRESHOLD),  # 3% with 100 reviews and 3 negatives
            (1, 20, Decision.QUIET_TOO_FEW_NEGATIVES),  # 5%, but a single negative (min_negative=2)
            (1, 10, Decision.QUIET_TOO_FEW_REVIEWS),  # a small store: 10%, but 10 < 20 reviews
            (2, 19, Decision.QUIET_TOO_FEW_REVIEWS),  # one review short of min_reviews
            (2, 20, Decision.FIRE_SHARE_ABOVE_THRESHOLD),  # exactly min_reviews and min_negative
            (0, 0, Decision.QUIET_NO_REVIEWS),  # nothing in the window
            (0, 500, Decision.QUIET_BELOW_THRESHOLD),  # many reviews, none negative
        ],
    )
    def test_simple(self, negative, total, decision) -> None:
        """Simple mode fires on share > threshold once there are enough reviews and negatives."""
        assert quiet(negative, total).decision is decision

    @pytest.mark.parametrize(
        ("negative", "total", "decision"),
        [
            # 2/20 = 10%: lower bound 2.79% > 2% (see TestCounting), and 20 reviews / 2 negatives suffice
            (2, 20, Decision.FIRE_WILSON_ABOVE_THRESHOLD),
            (300, 10_000, Decision.FIRE_WILSON_ABOVE_THRESHOLD),  # 3% of 10 000: bound 2.68% > 2%
            (3, 100, Decision.QUIET_BELOW_THRESHOLD),  # 3% of 100 fires in simple mode, bound 1.03% does not
            (1, 10, Decision.QUIET_BELOW_THRESHOLD),  # 10% of 10: bound 1.79% is not above 2%
            (3, 19, Decision.QUIET_TOO_FEW_REVIEWS),  # bound 5.5%, but min_reviews still applies
            (0, 0, Decision.QUIET_NO_REVIEWS),
        ],
    )
    def test_wilson(self, negative, total, decision) -> None:
        """Wilson mode fires when the lower bound of the share is above the threshold."""
        assert quiet(negative, total, WILSON).decision is decision

    def test_evaluation_carries_the_numbers(self) -> None:
        """The evaluation reports the share and the lower bound, and says it fires."""
        ev = quiet(3, 100)
        assert (ev.fires, ev.resolves) == (True, False)
        assert ev.share == pytest.approx(0.03)
        assert ev.lower_bound == pytest.approx(wilson_lower(3, 100, 0.95))

    def test_no_reviews_gives_zero_numbers(self) -> None:
        """Without reviews the share and the bound are both 0 and nothing fires."""
        ev = quiet(0, 0, WILSON)
        assert (ev.share, ev.lower_bound, ev.fires) == (0.0, 0.0, False)


class TestHysteresis:
    @pytest.mark.parametrize(
        ("negative", "total", "since", "decision"),
        [
            (3, 100, T0 - 30 * DAY_MS, Decision.STAY_FIRING),  # still above 2%, however long it fires
            (2, 100, T0 - 1 * H, Decision.STAY_FIRING_IN_MARGIN),  # at 2% after 1 h: held, no flapping
            (2, 100, T0 - 6 * H + 1, Decision.STAY_FIRING_IN_MARGIN),  # 1 ms short of min_firing (6 h)
            (2, 100, T0 - 6 * H, Decision.RESOLVE_SHARE_BACK_AFTER_MIN_FIRING),  # at 2% for exactly 6 h
            (2, 100, None, Decision.STAY_FIRING_IN_MARGIN),  # unknown start: only the margin resolves
            (3, 200, T0 - 1 * H, Decision.RESOLVE_SHARE_BACK),  # 1.5% = 2% - 0.5% margin: resolves at once
            (1, 100, T0 - 1 * H, Decision.RESOLVE_SHARE_BACK),  # 1%: well below the margin
            (0, 0, T0 - 1 * H, Decision.RESOLVE_SHARE_BACK),  # the window emptied: share 0
            (7, 400, T0 - 1 * H, Decision.STAY_FIRING_IN_MARGIN),  # 1.75%: inside the band
        ],
    )
    def test_firing(self, negative, total, since, decision) -> None:
        """A firing alert resolves below threshold - margin, or at the threshold after min_firing_ms."""
        ev = evaluate(WindowStats(total, negative), SIMPLE, firing=True, firing_since_ms=since, now_ms=T0)
        assert ev.decision is decision
        assert ev.resolves is decision.name.startswith("RESOLVE")
        assert not ev.fires

    def test_margin_edge_survives_float_rounding(self) -> None:
        """5/200 = 2.5% resolves at once under threshold 3% and margin 0.5%, though 0.03 - 0.005 < 0.025."""
        rule = NegativityRule(threshold=0.03)
        ev = evaluate(WindowStats(200, 5), rule, firing=True, firing_since_ms=T0, now_ms=T0)
        assert ev.decision is Decision.RESOLVE_SHARE_BACK

    def test_wilson_alert_resolves_on_the_share(self) -> None:
        """A Wilson alert stays while the share is above the threshold, even if its bound has dropped."""
        stats = WindowStats(100, 3)  # share 3%, bound 1.03%
        ev = evaluate(stats, WILSON, firing=True, firing_since_ms=T0 - DAY_MS, now_ms=T0)
        assert ev.decision is Decision.STAY_FIRING


class TestBuckets:
    @pytest.mark.parametrize(
        ("ts", "start"),
        [
            (T0, T0),  # on the boundary
            (T0 + DAY_MS - 1, T0),  # last ms of the day
            (T0 + DAY_MS, T0 + DAY_MS),  # first ms of the next day
            (T0 - 1, T0 - DAY_MS),  # last ms of the previous day
        ],
    )
    def test_bucket_start(self, ts, start) -> None:
        """Buckets are UTC days [start, start + 1 day)."""
        assert bucket_start_ms(ts) == start

    @pytest.mark.parametrize(
        ("now", "first", "count"),
        [
            (T0 + 12 * H, T0 - 30 * DAY_MS, 31),  # mid-day: the oldest day overlaps the window partly
            (T0 + DAY_MS - 1, T0 - 29 * DAY_MS, 30),  # last ms of a day: exactly 30 whole days
            (T0, T0 - 30 * DAY_MS, 31),  # first ms of a day: today holds one ms of the window
        ],
    )
    def test_window_bucket_starts(self, now, first, count) -> None:
        """The buckets overlapping (now - 30 d, now] run from the oldest overlapping day to today."""
        starts = window_bucket_starts(now, W30)
        assert (starts[0], len(starts), starts[-1]) == (first, count, bucket_start_ms(now))

    @pytest.mark.parametrize(
        ("ts", "too_old"),
        [
            (T0 - W30, True),  # exactly at the window edge: the window is open there
            (T0 - W30 + 1, False),  # one ms inside
            (T0, False),  # now
            (T0 - 31 * DAY_MS, True),  # a day older than the window
        ],
    )
    def test_is_too_old(self, ts, too_old) -> None:
        """Reviews at or before now - window are ignored."""
        assert is_too_old(ts, T0, W30) is too_old

    def test_sum_window_counts_buckets_in_the_window(self) -> None:
        """Buckets overlapping the window are summed; older and future buckets are not."""
        buckets = {
            T0 - 31 * DAY_MS: (50, 50),  # ended before the window
            T0 - 30 * DAY_MS: (10, 1),  # overlaps the window's oldest hours at now = T0 + 12 h
            T0 - 5 * DAY_MS: (20, 2),
            T0: (5, 0),  # today
            T0 + DAY_MS: (7, 7),  # tomorrow: not yet
        }
        assert sum_window(buckets, T0 + 12 * H, W30) == WindowStats(35, 3)
        assert sum_window({}, T0, W30) == WindowStats(0, 0)

    def test_expired_buckets(self) -> None:
        """Buckets that end at or before the window start are listed for deletion, oldest first."""
        buckets = {T0: (1, 0), T0 - 30 * DAY_MS: (1, 0), T0 - 31 * DAY_MS: (1, 0), T0 - 40 * DAY_MS: (1, 1)}
        assert expired_buckets(buckets, T0 + 12 * H, W30) == [T0 - 40 * DAY_MS, T0 - 31 * DAY_MS]
        # at the last ms of the day the window is exactly 30 whole days: day -30 ends at the window start
        assert expired_buckets(buckets, T0 + DAY_MS - 1, W30) == [T0 - 40 * DAY_MS, T0 - 31 * DAY_MS,
                                                                   T0 - 30 * DAY_MS]


class TestRepeatOffender:
    RULE = RepeatRule(repeat_count=3, repeat_window_ms=90 * DAY_MS)

    @pytest.mark.parametrize(
        ("fired", "repeat"),
        [
            ([T0 - 80 * DAY_MS, T0 - 40 * DAY_MS, T0], True),  # three within 90 days
            ([T0 - 40 * DAY_MS, T0], False),  # only two
            ([T0 - 90 * DAY_MS, T0 - 40 * DAY_MS, T0], False),  # the oldest is exactly at the open edge
            ([T0 - 90 * DAY_MS + 1, T0 - 40 * DAY_MS, T0], True),  # one ms inside the window
            ([T0 - 200 * DAY_MS, T0 - 100 * DAY_MS, T0 - 95 * DAY_MS, T0], False),  # old ones do not count
            ([], False),  # never fired
        ],
    )
    def test_is_repeat_offender(self, fired, repeat) -> None:
        """Three firings within (now - 90 d, now] make a repeat offender."""
        assert is_repeat_offender(fired, T0, self.RULE) is repeat

    def test_prune_firings(self) -> None:
        """Firings at or before the window start are dropped; the rest come back sorted."""
        fired = [T0, T0 - 100 * DAY_MS, T0 - 90 * DAY_MS, T0 - 10 * DAY_MS]
        assert prune_firings(fired, T0, self.RULE) == [T0 - 10 * DAY_MS, T0]

    def test_from_settings(self) -> None:
        """The repeat rule reads repeat_count and repeat_window (90 d by default)."""
        assert RepeatRule.from_settings(Settings()) == RepeatRule(3, 90 * DAY_MS)


class TestAlertId:
    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (("store_negativity", "Moscow", "s-1", 3), "store_negativity:Moscow:s-1:3"),  # a store incident
            (("city_negativity", "Kazan", None, 1), "city_negativity:Kazan:-:1"),  # a city has no store
        ],
    )
    def test_alert_id(self, args, expected) -> None:
        """Alert ids are deterministic: the same incident gives the same id on every replay."""
        assert alert_id(*args) == expected == alert_id(*args)
