"""A rule that raises for one message is that message's fault: it is dead-lettered as RULE_FAILED with where it came
from, and the worker goes on (``monitor/worker/agents/guard.py``). Without the guard (checked by making ``own_faults`` re-raise)
faust 0.15 logs "Agent ... Crashed reason=RuntimeError('injected fault')" and restarts the agent in-process, which
goes on with the next message: the failing batch, and the other stores' events ingest packed into it, are lost with
no dead letter, and the events the store agent never acknowledged hold up its commits (shutdown waits on them).

The worker is ``tests/faulty_worker.py``: the real ``monitor worker`` with rules that raise for two stores
(``rule-breaker``: every order event and review; ``deadline-breaker``: the judgment of its deadlines and reviews).
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime, timedelta

import orjson
from conftest import FAULTY_COMMAND
from kafkautil import consume_until, produce
from test_bad_input import REVIEW, T0
from test_orders import clock_mover, failing_store

from monitor.worker.topicnames import orders_by_store_name, reviews_by_store_name

H, MIN = timedelta(hours=1), timedelta(minutes=1)
RB, DB = "rule-breaker", "deadline-breaker"  # as in tests/faulty_worker.py
FAULT = "RuntimeError: injected fault"


def review(review_id: str, store: str, rating: int, at: datetime) -> tuple:
    return (review_id, {**REVIEW, "review_id": review_id, "order_id": f"{review_id}-order", "store_id": store,
                        "rating": rating, "created_at": at.isoformat()})


def rule_failures(letters: list[dict], topic: str) -> list[dict]:
    """The RULE_FAILED dead letters that point at ``topic``."""
    return [m["json"] for m in letters if m["json"] and m["json"]["topic"] == topic
            and "RULE_FAILED" in m["json"]["error"]]


def places(letters: list[dict]) -> Counter:
    """How many dead letters point at each (partition, offset)."""
    return Counter((d["partition"], d["offset"]) for d in letters)


class TestRuleFaults:
    def test_a_raising_rule_is_dead_lettered_and_the_worker_goes_on(self, monitor_env, start_worker) -> None:
        """Every order event and review of rule-breaker is one RULE_FAILED dead letter pointing at its source
        message; deadline-breaker's failing judgments are one each; failing stores are still hidden, twice over,
        with no agent crash; after a clean restart no source message is dead-lettered twice."""
        env = monitor_env
        boot, app_id = env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_APP_ID"]
        orders, reviews = env["MONITOR_TOPIC_ORDER_STATUS"], env["MONITOR_TOPIC_REVIEWS"]
        dead, visibility = env["MONITOR_TOPIC_DEAD_LETTERS"], env["MONITOR_TOPIC_STORE_VISIBILITY"]
        by_store_orders, by_store_reviews = orders_by_store_name(app_id), reviews_by_store_name(app_id)

        def sources(topic: str, store: str) -> dict[tuple[int, int], dict]:
            """Every message of ``store`` on a source topic, by (partition, offset)."""
            mine = lambda ms: [m for m in ms if (m["json"] or {}).get("store_id") == store]  # noqa: E731
            return {(m["partition"], m["offset"]): m["json"] for m in mine(consume_until(boot, topic, mine))}

        def letters_when(done, timeout_s: float = 60) -> list[dict]:  # noqa: ANN001
            return consume_until(boot, dead, done, timeout_s=timeout_s)

        def hides_when(stores: set[str]) -> list[dict]:
            got = consume_until(boot, visibility, lambda ms: stores <= {
                m["json"]["store_id"] for m in ms if m["json"]["action"] == "hide"}, timeout_s=60)
            return [m["json"] for m in got]

        def check_source_letters(letters: list[dict], rb_orders: dict, rb_reviews: dict) -> None:
            """One RULE_FAILED dead letter per message of rule-breaker, pointing at it, with the event in it."""
            for topic, sent, store_at, what in ((orders, rb_orders, 1, "the order rules on"),
                                                (reviews, rb_reviews, 2, "the review rules on")):
                failed = rule_failures(letters, topic)
                assert places(failed) == Counter(set(sent)), (topic, places(failed), sorted(sent))
                for d in failed:
                    source = sent[(d["partition"], d["offset"])]
                    source_id = source["order_id" if topic == orders else "review_id"]
                    assert d["error"] == (f"{topic}: RULE_FAILED: {what} {source_id.encode()!r} raised {FAULT}"), d
                    assert base64.b64decode(d["key"]).decode() == source_id
                    packed = orjson.loads(base64.b64decode(d["value"]))  # the event as ingest packed it
                    assert (packed[0], packed[store_at]) == (source_id, RB)

        def check_no_crash(worker) -> None:  # noqa: ANN001
            assert worker.proc.poll() is None, worker.log_path.read_text()[-4000:]
            crashes = [line for line in worker.log_lines() if "crash" in str(line.get("event", "")).lower()]
            assert crashes == [], crashes
            assert all(line.get("level") != "critical" for line in worker.log_lines())

        worker = start_worker(env, name="faulty", command=FAULTY_COMMAND)
        # its topics made (with MONITOR_PARTITIONS partitions), not auto-created by the first send with the broker's
        worker.wait_for_log("worker_starting", timeout_s=60)

        # 1. rule-breaker's orders and reviews (two of them negative), deadline-breaker's, then a store that fails
        produce(boot, orders, failing_store(RB, 2, 1) + failing_store(DB, 1, 0)
                + failing_store("after-the-fault", 5, 3) + clock_mover(T0 + 5 * H))
        produce(boot, reviews, [review(f"rb-r{i}", RB, rating, T0 + i * MIN) for i, rating in enumerate((1, 2, 5))]
                + [review("db-r0", DB, 1, T0), review("tick-r0", "clock-store", 5, T0 + 5 * H)])
        rb_orders, rb_reviews = sources(orders, RB), sources(reviews, RB)
        assert (len(rb_orders), len(rb_reviews)) == (5, 3)
        hidden = hides_when({"after-the-fault"})
        check_no_crash(worker)  # without the guard faust logs "Agent ... Crashed" and restarts the agent
        letters = letters_when(lambda ms: len(rule_failures(ms, orders)) >= 5 and len(rule_failures(ms, reviews))
                               >= 3 and rule_failures(ms, by_store_orders) and rule_failures(ms, by_store_reviews))
        check_source_letters(letters, rb_orders, rb_reviews)
        # a judgment that raises has no source message: it points at the internal message that ran it, keyed by store
        deadlines, judged = rule_failures(letters, by_store_orders), rule_failures(letters, by_store_reviews)
        assert len(deadlines) == len(judged) == 1, (deadlines, judged)
        key = base64.b64encode(f"{DB}\x1fMoscow".encode()).decode()
        assert (deadlines[0]["key"], judged[0]["key"]) == (key, key)
        assert f"RULE_FAILED: judging the store's deadlines on b'{DB}\\x1fMoscow' raised {FAULT}" in deadlines[0]["error"]
        assert f"RULE_FAILED: judging the store's reviews on b'{DB}\\x1fMoscow' raised {FAULT}" in judged[0]["error"]
        assert [(h["store_id"], h["late"], h["at_risk"]) for h in hidden] == [("after-the-fault", 5, 3)]
        check_no_crash(worker)

        # 2. more of rule-breaker, and another store that fails: no crash loop, the stream still goes on
        produce(boot, orders, failing_store(RB, 1, 1, start=T0 + 5 * H, prefix="rb2")
                + failing_store("second-after-the-fault", 5, 3, start=T0 + 5 * H) + clock_mover(T0 + 10 * H))
        produce(boot, reviews, [review("rb2-r0", RB, 1, T0 + 5 * H), review("rb2-r1", RB, 4, T0 + 5 * H + MIN)])
        rb_orders, rb_reviews = sources(orders, RB), sources(reviews, RB)
        assert (len(rb_orders), len(rb_reviews)) == (8, 5)
        hidden = hides_when({"after-the-fault", "second-after-the-fault"})
        assert sorted(h["store_id"] for h in hidden) == ["after-the-fault", "second-after-the-fault"]
        letters = letters_when(lambda ms: len(rule_failures(ms, orders)) >= 8 and len(rule_failures(ms, reviews))
                               >= 5)
        check_source_letters(letters, rb_orders, rb_reviews)
        check_no_crash(worker)
        rule_failed_logged = [line for line in worker.log_lines() if line.get("event") == "rule_failed"]
        assert len(rule_failed_logged) == 8 + 5 + 2  # one error line per dead letter, no more

        # 3. a clean restart: the stores agent flushes and acknowledges what it held, ingest and faust commit, so
        # the restarted worker reads on after what the first one took and no source message is refused twice.
        # The two judgments of deadline-breaker are another matter: its state was saved (its input was taken), so
        # the restarted worker schedules its judgments again and they raise again, one more dead letter each
        # (pointing at another internal message). That is once per restart, not a loop.
        assert worker.stop() == 0, worker.log_path.read_text()[-4000:]
        worker = start_worker(env, name="faulty-restarted", command=FAULTY_COMMAND)
        # rule-breaker's markers: keys that land on both order-status and both reviews partitions, so whatever the
        # restart read again from either partition is dead-lettered before the markers' letters are all there
        produce(boot, orders, [ev for i in range(4) for ev in failing_store(RB, 1, 0, start=T0 + 6 * H,
                                                                            prefix=f"rb3-{i}")][::2])
        produce(boot, reviews, [review(f"rb3-r{i}", RB, 2, T0 + 6 * H) for i in range(4)])
        before = {p for p, _ in rb_orders}, {p for p, _ in rb_reviews}
        rb_orders, rb_reviews = sources(orders, RB), sources(reviews, RB)
        assert (len(rb_orders), len(rb_reviews)) == (12, 9)
        markers = ({p for p, o in rb_orders if rb_orders[p, o]["order_id"].startswith("rb3-")},
                   {p for p, o in rb_reviews if rb_reviews[p, o]["review_id"].startswith("rb3-")})
        assert before[0] <= markers[0] and before[1] <= markers[1], (before, markers)
        letters = letters_when(lambda ms: len(rule_failures(ms, orders)) >= 12 and len(rule_failures(ms, reviews))
                               >= 9 and len(rule_failures(ms, by_store_orders)) >= 2
                               and len(rule_failures(ms, by_store_reviews)) >= 2)
        check_source_letters(letters, rb_orders, rb_reviews)  # exactly one each: nothing refused twice
        deadlines, judged = rule_failures(letters, by_store_orders), rule_failures(letters, by_store_reviews)
        assert len(deadlines) == len(judged) == 2, (deadlines, judged)
        assert deadlines[1]["offset"] > deadlines[0]["offset"] or deadlines[1]["partition"] != deadlines[0][
            "partition"]
        check_no_crash(worker)
