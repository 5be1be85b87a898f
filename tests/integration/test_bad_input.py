"""Bad input on every input topic goes to dead-letters with a reason, and the pipeline keeps working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafkautil import consume_until, produce
from test_orders import clock_mover, failing_store

T0 = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)
ORDER = {"event_id": "e", "order_id": "o", "store_id": "s", "city": "Moscow", "status": "created",
         "promised_at": "2026-02-14T12:00:00+00:00", "occurred_at": "2026-02-14T09:00:00+00:00"}
REVIEW = {"review_id": "r", "order_id": "o", "store_id": "s", "city": "Moscow", "rating": 1, "text": "",
          "created_at": "2026-02-14T09:00:00+00:00"}
COMMAND = {"command_id": "c", "command": "restore", "store_id": "s", "city": "Moscow", "by": "anna", "note": "n",
           "at": "2026-02-14T09:00:00+00:00"}

BAD_ORDERS = {
    "not-json": (b"\x00\x01 binary", "not valid JSON"),
    "array": (b"[1,2,3]", "expected a JSON object"),
    "wrong-type": ({**ORDER, "order_id": 17}, "order_id: expected a string"),
    "missing": ({k: v for k, v in ORDER.items() if k != "city"}, "city: required field is missing"),
    "status": ({**ORDER, "status": "lost_in_space"}, "is not one of"),
    "naive": ({**ORDER, "occurred_at": "2026-02-14T09:00:00"}, "no UTC offset"),
    "epoch": ({**ORDER, "occurred_at": "1970-01-01T00:00:00Z"}, "plausible years"),
    "far-future": ({**ORDER, "promised_at": "2999-01-01T00:00:00Z"}, "plausible years"),
    "promised-before-created": ({**ORDER, "promised_at": "2026-02-14T08:00:00+00:00"}, "before the order was"),
    "tombstone": (None, "empty message"),
}
BAD_REVIEWS = {
    "rating-0": ({**REVIEW, "rating": 0}, "outside 1..5"),
    "rating-text": ({**REVIEW, "rating": "five"}, "expected an integer"),
    "naive": ({**REVIEW, "created_at": "2026-02-14 09:00"}, "ISO 8601"),
}
BAD_COMMANDS = {
    "unknown-command": ({**COMMAND, "command": "delete_store"}, "is not one of"),
    "no-author": ({k: v for k, v in COMMAND.items() if k != "by"}, "by: required field is missing"),
}


class TestBadInput:
    def test_every_bad_message_is_dead_lettered_and_hiding_still_works(self, monitor_env, start_worker) -> None:
        """15 kinds of bad input over three topics: each is one dead letter with its reason; a failing store
        sent afterwards is still hidden."""
        boot = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        start_worker(monitor_env)
        produce(boot, monitor_env["MONITOR_TOPIC_ORDER_STATUS"], [(f"o-{k}", v) for k, (v, _) in BAD_ORDERS.items()])
        produce(boot, monitor_env["MONITOR_TOPIC_REVIEWS"], [(f"r-{k}", v) for k, (v, _) in BAD_REVIEWS.items()])
        produce(boot, monitor_env["MONITOR_TOPIC_STORE_COMMANDS"],
                [(f"c-{k}", v) for k, (v, _) in BAD_COMMANDS.items()])
        produce(boot, monitor_env["MONITOR_TOPIC_ORDER_STATUS"],
                failing_store("after-the-garbage", 5, 3) + clock_mover(T0 + 5 * timedelta(hours=1)))
        expected = {f"o-{k}": r for k, (_, r) in BAD_ORDERS.items()} | {
            f"r-{k}": r for k, (_, r) in BAD_REVIEWS.items()} | {f"c-{k}": r for k, (_, r) in BAD_COMMANDS.items()}
        letters = consume_until(boot, monitor_env["MONITOR_TOPIC_DEAD_LETTERS"],
                                lambda ms: len(ms) >= len(expected), timeout_s=90)
        by_key = {m["key"].decode(): m["json"] for m in letters}
        assert set(by_key) == set(expected)
        for key, reason in expected.items():
            assert reason in by_key[key]["error"], (key, by_key[key]["error"])
        hidden = consume_until(boot, monitor_env["MONITOR_TOPIC_STORE_VISIBILITY"], lambda ms: len(ms) >= 1)
        assert hidden[0]["json"]["store_id"] == "after-the-garbage"
