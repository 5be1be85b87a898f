"""Hostile event times end to end: future and far-promised events, too-old events, backfills read after newer
events, retracted evidence, orders that move to another store, repeated event ids; real broker, real RocksDB,
`monitor worker` subprocesses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafkautil import consume_until, produce
from test_orders import clock_mover, ev, failing_store, hides, outputs, settle
from test_reviews import batch, review
from webutil import base, poll, request

from monitor.web.routing import partition_for

T0 = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)  # historical: in the past of the wall clock, no live clock
T20 = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)  # six days on: the stream's clock "far ahead"
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)  # inside the contract's plausible years, decades past the wall clock
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def zulu(at: datetime) -> str:
    """``at`` written with a ``Z``, as a producer that marks Moscow local time as UTC writes it."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def ahead_of_wall_clock(order_id: str, store: str) -> tuple:
    """An order created "now" in Moscow local time (UTC+3) but marked Z: three hours ahead of the wall clock."""
    moscow = datetime.now(UTC) + 3 * H
    key, value = ev(order_id, store, "created", moscow, moscow + 3 * H)
    return key, {**value, "occurred_at": zulu(moscow), "promised_at": zulu(moscow + 3 * H)}


def on_time_store(store: str, n: int, start: datetime, promised: datetime) -> list[tuple]:
    """``n`` open orders accepted and in delivery in time, promised at ``promised``: not late, not at risk."""
    events = []
    for i in range(n):
        oid = f"{store}-{i}"
        events += [ev(oid, store, "created", start + i * MIN, promised),
                   ev(oid, store, "accepted", start + i * MIN + 2 * MIN, promised),
                   ev(oid, store, "in_delivery", start + 30 * MIN, promised)]
    return events


def neighbour(store: str, partitions: int = 2) -> str:
    """Another store on the same store partition as ``store`` (MONITOR_PARTITIONS=2): one partition clock."""
    return next(f"{store}-neighbour-{i}" for i in range(100)
                if partition_for(f"{store}-neighbour-{i}".encode(), partitions) == partition_for(store.encode(),
                                                                                                 partitions))


def on_every_partition(prefix: str, per_partition: int, partitions: int = 4) -> list[str]:
    """Order ids, ``per_partition`` on each input partition (the broker auto-creates the topic with 4; 4 covers
    2): whichever partition ingest reads last, these orders are on it."""
    ids, count, i = [], dict.fromkeys(range(partitions), 0), 0
    while len(ids) < per_partition * partitions:
        oid, i = f"{prefix}-{i}", i + 1
        p = partition_for(oid.encode(), partitions)
        if count[p] < per_partition:
            ids.append(oid)
            count[p] += 1
    return ids


def ticks(store: str, at: datetime) -> list[tuple]:
    """Healthy orders of ``store`` at ``at``, one on every input partition: the stream's newest events."""
    return [ev(oid, store, "created", at, at + 3 * H) for oid in on_every_partition(f"tick-{at:%H%M}", 1)]


def dead_letters(env: dict, keys: set[str], timeout_s: float = 90) -> dict[str, dict]:
    """The dead letters by key, once every one of ``keys`` has one."""
    messages = consume_until(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_DEAD_LETTERS"],
                             lambda ms: keys <= {m["key"].decode() for m in ms if m["key"] is not None},
                             timeout_s=timeout_s)
    return {m["key"].decode(): m["json"] for m in messages if m["key"] is not None}


def alerts_until(env: dict, done, timeout_s: float = 90) -> list[dict]:
    """All alerts once ``done(alerts)`` holds."""
    return outputs(env, "MONITOR_TOPIC_ALERTS", lambda ms: done([m["json"] for m in ms]), timeout_s=timeout_s)


def quiet(env: dict, topic_var: str, quiet_s: float = 4.0) -> list[dict]:
    """Everything on the topic once nothing more came for ``quiet_s`` (the `settle` idiom, from what is there)."""
    got = outputs(env, topic_var, lambda ms: True)
    return settle(env, topic_var, len(got), quiet_s)


def fired(alerts: list[dict], kind: str, status: str = "firing", **match: object) -> list[dict]:
    return [a for a in alerts if a["kind"] == kind and a["status"] == status
            and all(a.get(k, a["details"].get(k)) == v for k, v in match.items())]


def of_store(alerts: list[dict], store: str) -> list[dict]:
    return [a for a in alerts if a["store_id"] == store]


class TestFutureEventTime:
    def test_future_order_events_are_refused_and_move_no_clock_across_a_restart(self, monitor_env,
                                                                                start_worker) -> None:
        """Order events dated 2099 or 3 h ahead of the wall clock, and a promise in 2099, are dead-lettered; a
        store with open on-time orders is never judged by them, before or after a restart, while a failing
        store is hidden exactly once."""
        boot, orders = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"]
        hostile = [ev("healthy-2099", "healthy", "created", FUTURE, FUTURE + 3 * H),
                   ahead_of_wall_clock("healthy-msk", "healthy"),
                   ev("healthy-promise", "healthy", "created", T0 + 4 * H, FUTURE)]
        produce(boot, orders, hostile + failing_store("failing", 5, 3)
                + on_time_store("healthy", 5, T0 + 4 * H, T0 + 10 * H) + clock_mover(T0 + 5 * H))
        first = start_worker(monitor_env, name="first")
        letters = dead_letters(monitor_env, {"healthy-2099", "healthy-msk", "healthy-promise"})
        for key in ("healthy-2099", "healthy-msk"):
            assert "FUTURE_EVENT_TIME" in letters[key]["error"], letters[key]
            assert "ahead of the wall clock" in letters[key]["error"], letters[key]
            assert letters[key]["topic"] == orders
        assert "PROMISE_TOO_FAR" in letters["healthy-promise"]["error"], letters["healthy-promise"]
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1)
        assert [(v["store_id"], v["action"], v["event_id"]) for v in visibility] == [
            ("failing", "hide", "hide:Moscow:failing:1")]
        assert visibility[0]["at"] == "2026-02-14T12:05:00+00:00"  # judged by the stream's clock, not 2099's
        alerts = alerts_until(monitor_env, lambda al: fired(al, "store_hidden", store_id="failing"))
        assert of_store(alerts, "healthy") == []

        first.stop()
        second = start_worker(monitor_env, name="second")
        second.wait_for_log("store_state_loaded", timeout_s=60)
        produce(boot, orders, [ev("healthy-2099-again", "healthy", "accepted", FUTURE, FUTURE + 3 * H)]
                + failing_store("after-restart", 8, 0, start=T0 + 5 * H) + clock_mover(T0 + 8 * H + 30 * MIN))
        assert "FUTURE_EVENT_TIME" in dead_letters(monitor_env, {"healthy-2099-again"})["healthy-2099-again"]["error"]
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 2)
        assert sorted((v["store_id"], v["action"], v["event_id"]) for v in visibility) == [
            ("after-restart", "hide", "hide:Moscow:after-restart:1"), ("failing", "hide", "hide:Moscow:failing:1")]
        alerts = alerts_until(monitor_env, lambda al: fired(al, "store_hidden", store_id="after-restart"))
        assert of_store(alerts, "healthy") == []
        assert sorted(a["alert_id"] for a in alerts if a["kind"] == "store_hidden") == [
            "store_hidden:Moscow:after-restart:1", "store_hidden:Moscow:failing:1"]

    def test_a_future_review_neither_resolves_a_store_nor_silences_its_city(self, monitor_env,
                                                                             start_worker) -> None:
        """Reviews dated 2098 or 3 h ahead are dead-lettered: a firing store alert stays firing, and 30 one-star
        reviews of another store read afterwards still fire the city's alert."""
        boot, reviews = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_REVIEWS"]
        produce(boot, reviews, batch("g", "grumpy", 20, 2, T0))  # 10% of 20: fires
        start_worker(monitor_env)
        alerts_until(monitor_env, lambda al: fired(al, "store_negativity", store_id="grumpy"))
        moscow = datetime.now(UTC) + 3 * H
        key, ahead = review("review-msk", "grumpy", 5, moscow)
        produce(boot, reviews, [review("review-2098", "grumpy", 5, datetime(2098, 6, 1, tzinfo=UTC)),
                                (key, {**ahead, "created_at": zulu(moscow)})])
        letters = dead_letters(monitor_env, {"review-2098", "review-msk"})
        for key in ("review-2098", "review-msk"):
            assert "FUTURE_EVENT_TIME" in letters[key]["error"], letters[key]
            assert "created_at" in letters[key]["error"] and "ahead of the wall clock" in letters[key]["error"]
        produce(boot, reviews, batch("s", "sour", 30, 30, T0 + H))  # the city: 32 negative of 50
        alerts_until(monitor_env, lambda al: fired(al, "city_negativity"))
        alerts = quiet(monitor_env, "MONITOR_TOPIC_ALERTS")
        negativity = sorted((a["alert_id"], a["status"]) for a in alerts if a["kind"] == "store_negativity")
        assert negativity == [("store_negativity:Moscow:grumpy:1", "firing"),
                              ("store_negativity:Moscow:sour:1", "firing")]
        city = [a for a in alerts if a["kind"] == "city_negativity"]
        assert [(a["alert_id"], a["status"]) for a in city] == [("city_negativity:Moscow:-:1", "firing")]
        assert (city[0]["details"]["reviews"], city[0]["details"]["negative"]) == (50, 32)


class TestRefusedAtIntake:
    def test_too_old_repeated_ids_and_control_characters_are_dead_lettered_and_counted(self, monitor_env,
                                                                                       start_worker) -> None:
        """Once the clocks are at 2026-02-20, an order of 2026-01-01 and a review of 2026-01-05 are TOO_OLD; an
        event id repeated with other contents is DUPLICATE_EVENT_ID, repeated as it was is not refused, ids with
        control characters are refused; /metrics counts each reason."""
        boot = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        orders, reviews = monitor_env["MONITOR_TOPIC_ORDER_STATUS"], monitor_env["MONITOR_TOPIC_REVIEWS"]
        same = ev("dup-same", "dup-shop", "created", T20, T20 + 3 * H)
        key, ctl_store = ev("ctl-store", "dup-shop", "created", T20, T20 + 3 * H)
        produce(boot, orders, [
            ev("fresh-1", "old-shop", "created", T20, T20 + 3 * H),  # never accepted: at risk at 09:15
            ev("dup-diff", "dup-shop", "created", T20, T20 + 3 * H),
            ev("dup-diff", "dup-shop", "created", T20 + MIN, T20 + 3 * H),  # same event_id, another time
            same, same,
            ("ctl-order", {**ev("ctl-order", "dup-shop", "created", T20, T20 + 3 * H)[1], "order_id": "ctl\x1f1"}),
            (key, {**ctl_store, "store_id": "dup\x1fshop"}),
            ahead_of_wall_clock("order-msk", "old-shop"),
        ] + clock_mover(T20 + H))
        produce(boot, reviews, [review("fresh-review", "old-shop", 1, T20),
                                review("review-2098", "old-shop", 1, datetime(2098, 6, 1, tzinfo=UTC))])
        start_worker(monitor_env)
        alerts_until(monitor_env, lambda al: fired(al, "order_at_risk", store_id="old-shop")
                     and fired(al, "negative_review", store_id="old-shop"))
        # the store's clocks (order and review) are past 2026-02-20 09:15 now
        produce(boot, orders, [ev("ancient-1", "old-shop", "created", datetime(2026, 1, 1, 9, tzinfo=UTC),
                                  datetime(2026, 1, 1, 12, tzinfo=UTC))])
        produce(boot, reviews, [review("ancient-review", "old-shop", 1, datetime(2026, 1, 5, 9, tzinfo=UTC))])
        expected = {"ancient-1": "TOO_OLD", "ancient-review": "TOO_OLD", "review-2098": "FUTURE_EVENT_TIME",
                    "order-msk": "FUTURE_EVENT_TIME", "dup-diff": "DUPLICATE_EVENT_ID",
                    "ctl-order": "order_id: must not contain control characters",
                    "ctl-store": "store_id: must not contain control characters"}
        dead_letters(monitor_env, set(expected))
        url = base(monitor_env)
        want = {f'monitor_dead_letters_total{{topic="{orders}",reason="too_old"}} 1',
                f'monitor_dead_letters_total{{topic="{reviews}",reason="too_old"}} 1',
                f'monitor_dead_letters_total{{topic="{orders}",reason="future_event_time"}} 1',
                f'monitor_dead_letters_total{{topic="{reviews}",reason="future_event_time"}} 1',
                f'monitor_dead_letters_total{{topic="{orders}",reason="duplicate_event_id"}} 1',
                f'monitor_dead_letters_total{{topic="{orders}",reason="invalid"}} 2'}
        poll("dead letters counted by reason", lambda: request("GET", f"{url}/metrics"),
             lambda r: r[0] == 200 and want <= set(r[1].splitlines()))
        letters = dead_letters(monitor_env, set(expected))
        assert set(letters) == set(expected)  # "dup-same" sent twice as it was: not refused
        for key, reason in expected.items():
            assert reason in letters[key]["error"], (key, letters[key]["error"])
        assert letters["ancient-1"]["topic"] == orders and letters["ancient-review"]["topic"] == reviews
        assert "older than the store still counts" in letters["ancient-1"]["error"]
        assert "older than the negativity window" in letters["ancient-review"]["error"]
        _, metrics = request("GET", f"{url}/metrics")
        counted = sorted(line for line in metrics.splitlines() if line.startswith("monitor_dead_letters_total{"))
        assert counted == sorted(want)


class TestBackfill:
    def test_a_backfill_read_after_newer_events_is_applied_before_it_is_judged(self, monitor_env,
                                                                               start_worker) -> None:
        """A store's whole history, delivered in time, read after a neighbour's events six hours newer on every
        partition in one burst: no order_late, no order_at_risk, no hide (a failing store alongside is hidden)."""
        history = []
        for i, oid in enumerate(on_every_partition("backfill", 2)):  # after the tick on each partition
            created = T0 + i * MIN
            history += [ev(oid, "backfill", "created", created, T0 + 3 * H),
                        ev(oid, "backfill", "accepted", created + 5 * MIN, T0 + 3 * H),
                        ev(oid, "backfill", "in_delivery", T0 + H, T0 + 3 * H),
                        ev(oid, "backfill", "delivered", T0 + 2 * H, T0 + 3 * H)]
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"],
                ticks(neighbour("backfill"), T0 + 6 * H) + history + failing_store("real-failure", 5, 3))
        start_worker(monitor_env)
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1)
        assert [(v["store_id"], v["action"]) for v in visibility] == [("real-failure", "hide")]
        alerts = alerts_until(monitor_env, lambda al: fired(al, "store_hidden", store_id="real-failure"))
        assert of_store(alerts, "backfill") == []

    def test_late_read_deliveries_retract_the_alerts_and_the_hide(self, monitor_env, start_worker) -> None:
        """Orders judged late and at risk, the store hidden, then their in-time deliveries are read: every order
        alert that went out resolves (RETRACTED) and the store is restored (EVIDENCE_RETRACTED)."""
        boot, orders = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"]
        produce(boot, orders, failing_store("late-news", 5, 3) + clock_mover(T0 + 5 * H))
        start_worker(monitor_env)
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1)
        assert [(v["store_id"], v["action"], v["late"], v["at_risk"]) for v in visibility] == [
            ("late-news", "hide", 5, 3)]
        # 5 late (at risk at 11:00, late at 12:00) and 3 at risk (not accepted by 12:05), then the hide
        judged = alerts_until(monitor_env, lambda al: len(fired(al, "order_late")) >= 5
                              and len(fired(al, "order_at_risk")) >= 8 and fired(al, "store_hidden"))
        order_alerts = {a["alert_id"] for a in judged if a["kind"] in ("order_late", "order_at_risk")}
        late_news = []  # what the partner's system sends once it is back: every order was in time
        for i in range(5):
            promised = T0 + 3 * H
            late_news += [ev(f"late-news-l{i}", "late-news", "in_delivery", T0 + H, promised),
                          ev(f"late-news-l{i}", "late-news", "delivered", T0 + 2 * H, promised)]
        for i in range(3):
            promised = T0 + 6 * H
            late_news += [ev(f"late-news-r{i}", "late-news", "accepted", T0 + 2 * H + 52 * MIN, promised),
                          ev(f"late-news-r{i}", "late-news", "in_delivery", T0 + 3 * H + 10 * MIN, promised),
                          ev(f"late-news-r{i}", "late-news", "delivered", T0 + 4 * H, promised)]
        produce(boot, orders, late_news)
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 2)
        assert [(v["action"], v["reason"], v["event_id"]) for v in visibility] == [
            ("hide", "HIDE_LATE_AND_AT_RISK", "hide:Moscow:late-news:1"),
            ("restore", "EVIDENCE_RETRACTED", "restore:Moscow:late-news:1")]
        alerts_until(monitor_env, lambda al: fired(al, "store_hidden", "resolved"))
        alerts = quiet(monitor_env, "MONITOR_TOPIC_ALERTS")
        hidden = [(a["status"], a["details"]["reason"]) for a in alerts if a["kind"] == "store_hidden"]
        assert hidden == [("firing", "HIDE_LATE_AND_AT_RISK"), ("resolved", "EVIDENCE_RETRACTED")]
        resolved = {a["alert_id"]: a for a in alerts if a["kind"] in ("order_late", "order_at_risk")
                    and a["status"] == "resolved"}
        assert {a["details"]["reason"] for a in resolved.values()} <= {"RETRACTED"}
        unresolved = sorted(order_alerts - set(resolved))
        assert unresolved == [], f"order alerts that went out and were never resolved: {unresolved}"


class TestMovedOrders:
    def test_an_order_that_moves_to_another_store_counts_only_there(self, monitor_env, start_worker) -> None:
        """An order created at store A and accepted, sent and delivered by store B never counts for A (4 late +
        3 at risk: not hidden) and is B's; when the move is read after A was hidden for it, A is restored."""
        boot, orders = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"]

        def moved(order_id: str, to: str, delivered: datetime) -> list[tuple]:
            promised = T0 + 3 * H
            return [ev(order_id, to, "accepted", T0 + 5 * MIN, promised),
                    ev(order_id, to, "in_delivery", T0 + H, promised),
                    ev(order_id, to, "delivered", delivered, promised)]

        produce(boot, orders, failing_store("first-shop", 4, 3)
                + [ev("moving-1", "first-shop", "created", T0, T0 + 3 * H)]
                + moved("moving-1", "second-shop", T0 + 4 * H)  # handed over in time, the courier late: B's
                + failing_store("left-shop", 4, 3) + [ev("moving-2", "left-shop", "created", T0, T0 + 3 * H)]
                + clock_mover(T0 + 5 * H))
        start_worker(monitor_env)
        alerts = alerts_until(monitor_env, lambda al: fired(al, "order_late", store_id="second-shop")
                              and fired(al, "store_hidden", store_id="left-shop"))
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1)
        assert set(hides(visibility)) == {"left-shop"}  # 4 + moving-2 late, 3 at risk: it has not moved yet
        assert sorted(hides(visibility)["left-shop"]["late_order_ids"]) == [
            "left-shop-l0", "left-shop-l1", "left-shop-l2", "left-shop-l3", "moving-2"]
        assert [a for a in of_store(alerts, "first-shop") if a["details"].get("order_id") == "moving-1"] == []
        late_at_b = fired(alerts, "order_late", store_id="second-shop")
        assert [(a["details"]["order_id"], a["details"]["reason"]) for a in late_at_b] == [
            ("moving-1", "HANDED_OVER_IN_TIME")]

        produce(boot, orders, moved("moving-2", "second-shop", T0 + 2 * H))  # read after left-shop was hidden
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 2)
        assert [(v["store_id"], v["action"], v["reason"]) for v in visibility] == [
            ("left-shop", "hide", "HIDE_LATE_AND_AT_RISK"), ("left-shop", "restore", "EVIDENCE_RETRACTED")]
        alerts = alerts_until(monitor_env, lambda al: fired(al, "store_hidden", "resolved", store_id="left-shop"))
        assert not fired(alerts, "store_hidden", store_id="first-shop")
