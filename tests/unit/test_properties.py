"""Property-based: no input, however broken, makes the decoders or the pure rules raise anything but DecodeError."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.domain.negativity import NegativityState, add_review, evaluate_negativity, negative_review_alert
from monitor.domain.reviews import NegativityRule, RepeatRule, is_negative
from monitor.domain.store_state import StoreState
from monitor.domain.stores import OrderRules, advance, apply_order_event, next_due_ms, restore
from monitor.wire.codec import (
    DecodeError,
    check_key,
    decode_order_status,
    decode_review,
    decode_store_command,
)
from monitor.wire.contracts import ORDER_STATUSES

DECODERS = (decode_order_status, decode_review, decode_store_command)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# timestamps as producers get them wrong: naive, other offsets, absurd years, not strings at all
timestamps = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),  # noqa: DTZ001 - naive on purpose
                 timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2101, 1, 1),  # noqa: DTZ001
                 timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.text(max_size=30), st.integers(), st.none(),
)
ids = st.one_of(st.text(max_size=210), st.integers(), st.none(), st.just(""), st.just("   "))
FIELDS = {
    "event_id": ids, "order_id": ids, "store_id": ids, "city": ids, "review_id": ids, "command_id": ids,
    "status": st.sampled_from(ORDER_STATUSES) | st.text(max_size=12),
    "command": st.sampled_from(("restore", "acknowledge")) | st.text(max_size=12),
    "rating": st.integers(-10, 10) | st.floats() | st.text(max_size=3) | st.booleans(),
    "text": st.text(max_size=50) | st.none(), "by": ids, "note": ids,
    "promised_at": timestamps, "occurred_at": timestamps, "created_at": timestamps, "at": timestamps,
}
# objects shaped like the contracts, each field present or missing, valid or not
near_contract = st.fixed_dictionaries({}, optional=FIELDS)
# valid values with extreme but allowed content: any offset, years 2000..2099, long ids, any unicode
_aware_times = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30),  # noqa: DTZ001
                            timezones=st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (-11, 3, 14))]))
_ids = st.text(min_size=1, max_size=200).filter(str.strip)
valid_orders = st.builds(
    lambda oid, store, city, status, at, lead: {
        "event_id": f"{oid}:{status}", "order_id": oid, "store_id": store, "city": city, "status": status,
        "occurred_at": at.isoformat(), "promised_at": (at + lead).isoformat()},
    _ids, st.sampled_from(["s1", "s2"]), st.sampled_from(["Moscow", "Kazan"]), st.sampled_from(ORDER_STATUSES),
    _aware_times, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
valid_reviews = st.builds(
    lambda rid, store, rating, text, at: {
        "review_id": rid, "order_id": f"o-{rid}", "store_id": store, "city": "Moscow", "rating": rating,
        "text": text, "created_at": at.isoformat()},
    _ids, st.sampled_from(["s1", "s2"]), st.integers(1, 5), st.text(max_size=300), _aware_times)


class TestDecoders:
    @FAST
    @given(raw=st.binary(max_size=300))
    def test_arbitrary_bytes_raise_only_decode_error(self, raw: bytes) -> None:
        """Any byte string either decodes to a record or raises DecodeError."""
        for decode in DECODERS:
            try:
                decode(raw, max_bytes=200)
            except DecodeError as exc:
                assert exc.reason

    @FAST
    @given(value=json_values)
    def test_arbitrary_json_raises_only_decode_error(self, value: object) -> None:
        """Any JSON document (big integers and Infinity included) either decodes or raises DecodeError."""
        for decode in DECODERS:
            try:
                decode(json.dumps(value).encode())
            except DecodeError as exc:
                assert exc.reason

    @FAST
    @given(key=st.none() | st.binary(max_size=5))
    def test_a_missing_key_is_a_decode_error(self, key: bytes | None) -> None:
        """check_key refuses exactly the missing and empty keys."""
        try:
            check_key("order-status", key, "order_id")
            assert key
        except DecodeError as exc:
            assert not key and "without a key" in exc.reason


class TestDecodedInputThroughTheRules:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=st.lists(valid_orders | near_contract, min_size=1, max_size=12), step_min=st.integers(0, 600))
    def test_order_events_that_decode_never_break_the_store_rules(self, values: list[dict],
                                                                   step_min: int) -> None:
        """Whatever decodes is applied, advanced, restored and serialised without an exception."""
        rules = OrderRules(auto_restore_after_ms=3_600_000)
        states: dict[tuple[str, str], StoreState] = {}
        for value in values:
            try:
                order = decode_order_status(json.dumps(value).encode())
            except DecodeError:
                continue
            state = states.setdefault((order.store_id, order.city), StoreState(order.store_id, order.city))
            at_ms = int(order.occurred_at.timestamp() * 1000)
            apply_order_event(state, order.order_id, order.status, at_ms, int(order.promised_at.timestamp() * 1000),
                              rules)
            now_ms = max(state.clock_ms, at_ms)
            advance(state, now_ms, rules)
            next_due_ms(state, rules)
            advance(state, now_ms + step_min * 60_000, rules)
            restore(state, by="prop", note="test", at_ms=now_ms, rules=rules)
            assert StoreState.from_bytes(state.to_bytes()) == state

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=st.lists(valid_reviews | near_contract, min_size=1, max_size=12),
           lag=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=120)))
    def test_reviews_that_decode_never_break_the_negativity_rules(self, values: list[dict],
                                                                   lag: timedelta) -> None:
        """Whatever decodes is counted and judged for its store and city without an exception."""
        rule, repeat = NegativityRule(min_reviews=1, min_negative=1), RepeatRule()
        for value in values:
            try:
                review = decode_review(json.dumps(value).encode())
            except DecodeError:
                continue
            created_ms = int(review.created_at.timestamp() * 1000)
            now_ms = created_ms + int(lag.total_seconds() * 1000)
            negative = is_negative(review.rating, 2)
            for state in (NegativityState(review.city, review.store_id), NegativityState(review.city)):
                add_review(state, review.review_id, negative, created_ms, now_ms, rule)
                evaluate_negativity(state, now_ms, rule, repeat)
                assert NegativityState.from_bytes(state.to_bytes()) == state
            if negative:
                negative_review_alert(review_id=review.review_id, order_id=review.order_id,
                                      store_id=review.store_id, city=review.city, rating=review.rating,
                                      text=review.text, created_ms=created_ms)
