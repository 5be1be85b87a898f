"""Review negativity end to end: real broker, real RocksDB, `monitor worker` subprocesses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
from kafkautil import consume_until, produce
from reliability import read_to_end

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # historical: event time only
DAY = timedelta(days=1)


def review(rid: str, store: str, rating: int, at: datetime, city: str = "Moscow", text: str = "") -> tuple:
    return (rid, {"review_id": rid, "order_id": f"o-{rid}", "store_id": store, "city": city, "rating": rating,
                  "text": text, "created_at": at.isoformat()})


def batch(prefix: str, store: str, n: int, negative: int, at: datetime, city: str = "Moscow") -> list[tuple]:
    """``n`` reviews one second apart, the first ``negative`` of them 1-star."""
    return [review(f"{prefix}{i}", store, 1 if i < negative else 5, at + timedelta(seconds=i), city,
                   "flowers were wilted" if i < negative else "lovely")
            for i in range(n)]


def alerts_of(env: dict, done, timeout_s: float = 90) -> list[dict]:
    msgs = consume_until(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_ALERTS"], done,
                         timeout_s=timeout_s)
    return [m["json"] for m in msgs]


def quiet_alerts(env: dict, count: int, quiet_s: float = 5.0) -> list[dict]:
    """All alerts once ``count`` arrived and nothing more came for ``quiet_s``."""
    alerts_of(env, lambda ms: len(ms) >= count)
    time.sleep(quiet_s)  # the point: a quiet window in which an extra (wrong or duplicate) alert would show up
    return alerts_of(env, lambda ms: len(ms) >= count)


def kinds(alerts: list[dict], kind: str) -> list[tuple]:
    return sorted((a["alert_id"], a["status"]) for a in alerts if a["kind"] == kind)


class TestStoreNegativity:
    def test_quiet_fire_once_resolve_and_restart_reemits_nothing(self, monitor_env, start_worker) -> None:
        """1/100 is quiet; 3/102 fires once; diluted to under 1.5% it resolves; after a restart duplicates
        of everything emit nothing new."""
        bootstrap, topic = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"]
        first = batch("a", "tsvetochki", 100, 1, T0)
        produce(bootstrap, topic, first)
        worker = start_worker(monitor_env, name="first")
        alerts = quiet_alerts(monitor_env, 1)
        assert kinds(alerts, "store_negativity") == []  # 1% stays quiet
        assert len(kinds(alerts, "negative_review")) == 1
        more_negative = batch("b", "tsvetochki", 2, 2, T0 + timedelta(hours=1))
        produce(bootstrap, topic, more_negative)
        alerts = quiet_alerts(monitor_env, 5)  # + the city's alert: Moscow is 3/102 as a whole too
        assert kinds(alerts, "store_negativity") == [("store_negativity:Moscow:tsvetochki:1", "firing")]
        fired = next(a for a in alerts if a["kind"] == "store_negativity")
        assert (fired["details"]["negative"], fired["details"]["reviews"]) == (3, 102)
        dilution = batch("c", "tsvetochki", 100, 0, T0 + timedelta(hours=2))
        produce(bootstrap, topic, dilution)
        alerts = quiet_alerts(monitor_env, 7)
        assert kinds(alerts, "store_negativity") == [("store_negativity:Moscow:tsvetochki:1", "firing"),
                                                     ("store_negativity:Moscow:tsvetochki:1", "resolved")]
        worker.stop()
        start_worker(monitor_env, name="second")
        produce(bootstrap, topic, first + more_negative + dilution)  # every review again
        produce(bootstrap, topic, batch("d", "tsvetochki", 1, 0, T0 + timedelta(hours=3)))
        alerts = quiet_alerts(monitor_env, 7, quiet_s=12)
        # nothing re-emitted: 3 negative_review, the store's and the city's firing and resolved
        assert len(alerts) == 7
        assert len(kinds(alerts, "negative_review")) == 3  # one per negative review, duplicates ignored
        assert kinds(alerts, "city_negativity") == [("city_negativity:Moscow:-:1", "firing"),
                                                    ("city_negativity:Moscow:-:1", "resolved")]

    def test_small_store_with_one_bad_review_does_not_fire(self, monitor_env, start_worker) -> None:
        """1 negative in 10 reviews is 10%, but under the evidence minimum: only the review is reported."""
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"],
                batch("s", "tiny-shop", 10, 1, T0))
        start_worker(monitor_env)
        alerts = quiet_alerts(monitor_env, 1)
        assert [a["kind"] for a in alerts] == ["negative_review"]
        assert alerts[0]["details"]["text"] == "flowers were wilted" and alerts[0]["severity"] == "info"

    def test_third_incident_is_a_repeat_offender(self, monitor_env, start_worker) -> None:
        """Fire, resolve, fire, resolve, fire: the third firing brings a critical store_repeat_offender."""
        rounds = [(20, 2), (120, 0), (3, 3), (200, 0), (6, 6)]  # each round flips the store's alert
        start_worker(monitor_env)
        for r, (n, neg) in enumerate(rounds):
            # one round at a time: reviews keyed by review_id spread over partitions and may interleave
            produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"],
                    batch(f"r{r}-", "rozy", n, neg, T0 + r * timedelta(hours=1)))
            alerts = alerts_of(monitor_env, lambda ms, r=r: len(
                [m for m in ms if m["json"]["kind"] == "store_negativity"]) >= r + 1)
        offender = next(a for a in alerts if a["kind"] == "store_repeat_offender")
        assert offender["severity"] == "critical" and offender["details"]["incidents"] == 3
        assert len([a for a in alerts if a["kind"] == "store_negativity" and a["status"] == "firing"]) == 3


class TestCityNegativity:
    def test_city_fires_from_stores_each_under_their_own_minimum(self, monitor_env, start_worker) -> None:
        """Ten Kazan stores with 1 bad review in 10 each: no store alert, one city alert (10% of 100)."""
        events: list[tuple] = []
        for s in range(10):
            events += batch(f"k{s}-", f"kazan-{s}", 10, 1, T0 + s * timedelta(minutes=1), city="Kazan")
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"], events)
        start_worker(monitor_env)
        alerts = alerts_of(monitor_env, lambda ms: any(m["json"]["kind"] == "city_negativity" for m in ms))
        time.sleep(4)  # the point: a quiet window in which a store alert or a second city alert would show up
        alerts = alerts_of(monitor_env, lambda ms: len(ms) >= len(alerts))
        assert kinds(alerts, "store_negativity") == []
        assert kinds(alerts, "city_negativity") == [("city_negativity:Kazan:-:1", "firing")]
        city = next(a for a in alerts if a["kind"] == "city_negativity")
        assert city["store_id"] is None and city["details"]["reviews"] >= 50


class TestEventTimeWindows:
    def test_sixty_days_replayed_fast_expire_by_event_time(self, monitor_env, start_worker) -> None:
        """Negative days keep counting for 30 days of event time (not wall time) and then expire; a review read
        after the stream's time passed its window is too old: dead-lettered, not counted, not reported."""
        events = batch("early", "lilia", 20, 4, T0)  # day 0: 20% negative
        for day in range(1, 60):
            events += batch(f"d{day}-", "lilia", 2, 0, T0 + day * DAY)
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"], events)
        worker = start_worker(monitor_env)
        alerts = alerts_of(monitor_env, lambda ms: any(m["json"]["status"] == "resolved" for m in ms))
        store = [a for a in alerts if a["kind"] == "store_negativity"]
        assert [a["status"] for a in store] == ["firing", "resolved"]
        resolved_at = datetime.fromisoformat(store[1]["at"])
        # day 0 leaves the 30-day window on day 31 (whole-day buckets), not a moment earlier
        assert T0 + 30 * DAY <= resolved_at < T0 + 32 * DAY
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"],
                [review("ancient", "lilia", 1, T0 + 20 * DAY)])  # read when the stream is at day 59: 39 days late
        worker.wait_for_log("review_ignored", reason="TOO_OLD", timeout_s=30)
        letters = consume_until(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"],
                                monitor_env["MONITOR_TOPIC_DEAD_LETTERS"], lambda ms: len(ms) >= 1)
        assert "TOO_OLD" in letters[0]["json"]["error"] and "ancient" in letters[0]["json"]["error"]
        alerts = alerts_of(monitor_env, lambda ms: len(ms) >= len(alerts))
        assert len([a for a in alerts if a["kind"] == "negative_review"]) == 4

    def test_a_store_without_more_reviews_resolves_when_its_bad_day_leaves_the_window(self, monitor_env,
                                                                                      start_worker) -> None:
        """'lilia' fires on day 0 and never gets another review; another store's reviews carry the stream on for
        40 days. lilia's alert resolves at the exact moment day 0 leaves its window (not at a review of its
        own), and its days are dropped from the state."""
        events = batch("early", "lilia", 20, 4, T0)
        for day in range(1, 41):
            events += batch(f"r{day}-", "romashka", 1, 0, T0 + day * DAY)
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"], events)
        start_worker(monitor_env)
        alerts = alerts_of(monitor_env, lambda ms: any(
            m["json"]["kind"] == "store_negativity" and m["json"]["status"] == "resolved" for m in ms))
        store = [a for a in alerts if a["kind"] == "store_negativity"]
        assert [(a["store_id"], a["status"]) for a in store] == [("lilia", "firing"), ("lilia", "resolved")]
        day_start = T0.replace(hour=0)
        assert datetime.fromisoformat(store[1]["at"]) == day_start + 31 * DAY - timedelta(milliseconds=1)
        assert store[1]["details"]["reviews"] == 0
        changelog = f"{monitor_env['MONITOR_APP_ID']}-store-reviews-changelog"
        latest = {}
        for key, value in read_to_end(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], changelog):
            latest[key] = value
        lilia = orjson.loads(latest[b"lilia\x1fMoscow"])
        assert lilia["b"] == {} and lilia["seen"] == {} and not lilia["f"]
