"""Bad input on every input topic goes to dead-letters with a reason, and the pipeline keeps working."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
from kafkautil import consume_until, produce
from test_orders import clock_mover, failing_store, outputs

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
    "empty": (b"", "empty value (0 bytes)"),
    "oversized": ({**ORDER, "padding": "x" * 5000}, "larger than the limit of 4096 bytes"),
    "promised-not-a-time": ({**ORDER, "promised_at": 1771059600}, "expected an ISO 8601 string"),
}
BAD_REVIEWS = {
    "rating-0": ({**REVIEW, "rating": 0}, "outside 1..5"),
    "rating-text": ({**REVIEW, "rating": "five"}, "expected an integer"),
    "naive": ({**REVIEW, "created_at": "2026-02-14 09:00"}, "ISO 8601"),
    "rating-6": ({**REVIEW, "rating": 6}, "outside 1..5"),
    "no-store": ({k: v for k, v in REVIEW.items() if k != "store_id"}, "store_id: required field is missing"),
    "not-json": (b"\xff\xfe rating=5", "not valid JSON"),
    "empty": (b"", "empty value (0 bytes)"),
    "oversized": ({**REVIEW, "text": "long " * 1000}, "larger than the limit of 4096 bytes"),
    "year-1970": ({**REVIEW, "created_at": "1970-01-01T00:00:00+00:00"}, "plausible years"),
}
# valid values without a key: the key keeps one order's (one review's) events in order, so they are refused
KEYLESS = {"ORDER_STATUS": ({**ORDER, "order_id": "keyless"}, "without a key (the key must be the order_id)"),
           "REVIEWS": ({**REVIEW, "review_id": "keyless"}, "without a key (the key must be the review_id)")}
BAD_COMMANDS = {
    "unknown-command": ({**COMMAND, "command": "delete_store"}, "is not one of"),
    "no-author": ({k: v for k, v in COMMAND.items() if k != "by"}, "by: required field is missing"),
    "oversized": ({**COMMAND, "note": "x" * 5000}, "larger than the limit of 4096 bytes"),
}


class TestBadInput:
    def test_every_bad_message_is_dead_lettered_and_hiding_still_works(self, monitor_env, start_worker) -> None:
        """27 kinds of bad input over three topics: each is one dead letter with its reason and its original
        bytes; a failing store sent afterwards is still hidden, and a review of an order the monitor never saw
        is valid (reviews come weeks after their order is forgotten) and reported."""
        monitor_env = {**monitor_env, "MONITOR_MAX_VALUE_BYTES": "4096"}
        boot = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        start_worker(monitor_env)
        for var, (value, _) in KEYLESS.items():
            produce(boot, monitor_env[f"MONITOR_TOPIC_{var}"], [(None, value)])
        produce(boot, monitor_env["MONITOR_TOPIC_ORDER_STATUS"], [(f"o-{k}", v) for k, (v, _) in BAD_ORDERS.items()])
        produce(boot, monitor_env["MONITOR_TOPIC_REVIEWS"], [(f"r-{k}", v) for k, (v, _) in BAD_REVIEWS.items()])
        produce(boot, monitor_env["MONITOR_TOPIC_STORE_COMMANDS"],
                [(f"c-{k}", v) for k, (v, _) in BAD_COMMANDS.items()])
        produce(boot, monitor_env["MONITOR_TOPIC_ORDER_STATUS"],
                failing_store("after-the-garbage", 5, 3) + clock_mover(T0 + 5 * timedelta(hours=1)))
        produce(boot, monitor_env["MONITOR_TOPIC_REVIEWS"], [("r-unknown-order", {
            **REVIEW, "review_id": "r-unknown-order", "order_id": "never-seen"})])
        expected = {f"o-{k}": r for k, (_, r) in BAD_ORDERS.items()} | {
            f"r-{k}": r for k, (_, r) in BAD_REVIEWS.items()} | {f"c-{k}": r for k, (_, r) in BAD_COMMANDS.items()}
        letters = consume_until(boot, monitor_env["MONITOR_TOPIC_DEAD_LETTERS"],
                                lambda ms: len(ms) >= len(expected) + len(KEYLESS), timeout_s=90)
        by_key = {m["key"].decode(): m["json"] for m in letters if m["key"] is not None}
        assert set(by_key) == set(expected)
        for key, reason in expected.items():
            assert reason in by_key[key]["error"], (key, by_key[key]["error"])
        sent = {f"o-{k}": v for k, (v, _) in BAD_ORDERS.items()} | {f"r-{k}": v for k, (v, _) in BAD_REVIEWS.items()}
        for key, value in sent.items():  # the original bytes are kept
            raw = None if value is None else value if isinstance(value, bytes) else orjson.dumps(value)
            kept = by_key[key]["value"]
            assert (None if kept is None else base64.b64decode(kept)) == raw, key
        keyless = sorted(m["json"]["error"] for m in letters if m["key"] is None)
        assert len(keyless) == len(KEYLESS)
        for var, (_, reason) in KEYLESS.items():
            assert any(e.startswith(monitor_env[f"MONITOR_TOPIC_{var}"]) and reason in e for e in keyless), keyless
        reported = outputs(monitor_env, "MONITOR_TOPIC_ALERTS",
                           lambda ms: any((m["json"] or {}).get("kind") == "negative_review" for m in ms))
        assert [a["details"]["order_id"] for a in reported if a["kind"] == "negative_review"] == ["never-seen"]
        hidden = consume_until(boot, monitor_env["MONITOR_TOPIC_STORE_VISIBILITY"], lambda ms: len(ms) >= 1)
        assert hidden[0]["json"]["store_id"] == "after-the-garbage"

    def test_restore_of_an_unknown_store_is_dead_lettered(self, monitor_env, start_worker) -> None:
        """A restore command naming a store the monitor has no state for is kept in dead-letters with a reason,
        so a typo in a store id does not vanish into a log line."""
        boot = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        worker = start_worker(monitor_env)
        produce(boot, monitor_env["MONITOR_TOPIC_STORE_COMMANDS"],
                [("no-such-store", {**COMMAND, "store_id": "no-such-store"})])
        letters = consume_until(boot, monitor_env["MONITOR_TOPIC_DEAD_LETTERS"], lambda ms: len(ms) >= 1,
                                timeout_s=90)
        assert "unknown store 'no-such-store'" in letters[0]["json"]["error"]
        assert letters[0]["json"]["topic"] == monitor_env["MONITOR_TOPIC_STORE_COMMANDS"]
        assert worker.proc.poll() is None

    def test_huge_poison_is_dead_lettered_within_bounds_and_the_worker_goes_on(self, monitor_env,
                                                                             start_worker) -> None:
        """A 900 KB value that is not JSON on each input topic, and a valid negative review of 810 KB, used to
        stop the worker (a dead letter, or an alert, larger than the broker accepts, again on every restart):
        each poison is now one dead letter with a 64 KiB excerpt, the value's size and hash, the review one alert
        quoting 2,000 characters of it, and a store that really fails afterwards is still hidden."""
        import hashlib

        boot = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        worker = start_worker(monitor_env)
        junk = b"\xfe" * 900_000
        for var in ("ORDER_STATUS", "REVIEWS", "STORE_COMMANDS"):
            produce(boot, monitor_env[f"MONITOR_TOPIC_{var}"], [(f"huge-{var}", junk)])
        produce(boot, monitor_env["MONITOR_TOPIC_REVIEWS"],
                [("r-long", {**REVIEW, "review_id": "r-long", "text": "ужас " * 90_000})])
        produce(boot, monitor_env["MONITOR_TOPIC_ORDER_STATUS"],
                failing_store("after-the-poison", 5, 3) + clock_mover(T0 + 5 * timedelta(hours=1)))
        letters = consume_until(boot, monitor_env["MONITOR_TOPIC_DEAD_LETTERS"], lambda ms: len(ms) >= 3,
                                timeout_s=90)
        assert sorted(m["key"] for m in letters) == [b"huge-ORDER_STATUS", b"huge-REVIEWS", b"huge-STORE_COMMANDS"]
        for m in letters:
            letter = m["json"]
            assert "not valid JSON" in letter["error"]
            assert (letter["value_size"], letter["value_sha256"], letter["truncated"]) == (
                900_000, hashlib.sha256(junk).hexdigest(), True)
            assert base64.b64decode(letter["value"]) == junk[:65_536]
        reported = outputs(monitor_env, "MONITOR_TOPIC_ALERTS", lambda ms: any(
            (m["json"] or {}).get("kind") == "negative_review" for m in ms))
        quoted = next(a for a in reported if a["kind"] == "negative_review")["details"]["text"]
        assert len(quoted) == 2001 and quoted.endswith("…")
        hidden = consume_until(boot, monitor_env["MONITOR_TOPIC_STORE_VISIBILITY"], lambda ms: len(ms) >= 1)
        assert hidden[0]["json"]["store_id"] == "after-the-poison"
        assert worker.proc.poll() is None
