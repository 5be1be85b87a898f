"""Every store's state is one changelog message: at the caps, with the longest ids the contracts allow, it still
fits what the broker accepts, and the next new order or review is refused STORE_FULL instead of growing it."""

from __future__ import annotations

import pytest

from monitor.domain.negativity import NegativityState, hold_store_review, judge_store_until
from monitor.domain.reviews import NegativityRule
from monitor.domain.store_state import StoreState
from monitor.domain.stores import Applied, OrderRules, apply_order_event
from monitor.settings import Settings
from monitor.wire.contracts import MAX_ID_LENGTH

BROKER_MAX_MESSAGE = 1_048_588  # Kafka's default message.max.bytes
ENVELOPE = 16_384  # room for the record's key, headers and batch overhead
T0 = 1_780_000_000_000
HOUR = 3_600_000


def longest(i: int) -> str:
    return f"{i:08d}".ljust(MAX_ID_LENGTH, "x")


def full_store(rules: OrderRules) -> StoreState:
    """A store at its cap: every order accepted, dispatched, then delivered late, ids and names of maximum
    length."""
    state = StoreState(longest(0), "c" * MAX_ID_LENGTH, partition=0)
    for i in range(rules.max_orders):
        created, promised = T0 + i * 60_000, T0 + i * 60_000 + 3 * HOUR
        for status, at in (("created", created), ("accepted", created + 1_000),
                           ("in_delivery", created + HOUR), ("delivered", promised + HOUR)):
            assert apply_order_event(state, longest(i), status, at, promised, rules) is not Applied.STORE_FULL
    return state


def test_the_default_caps_are_the_largest_the_settings_allow() -> None:
    """The defaults are the most the settings accept: no setting can make a state that does not fit."""
    s = Settings()
    assert OrderRules.from_settings(s).max_orders == s.max_orders_per_store == 3_000
    assert NegativityRule.from_settings(s).max_reviews == s.max_reviews_per_store == 4_000
    with pytest.raises(ValueError):
        Settings.load(environ={"MONITOR_MAX_ORDERS_PER_STORE": "3001"})
    with pytest.raises(ValueError):
        Settings.load(environ={"MONITOR_MAX_REVIEWS_PER_STORE": "4001"})


def test_a_full_store_of_orders_fits_one_message_and_refuses_the_next_new_order() -> None:
    rules = OrderRules.from_settings(Settings())
    state = full_store(rules)
    assert len(state.to_bytes()) < BROKER_MAX_MESSAGE - ENVELOPE
    new = apply_order_event(state, longest(10**7), "created", T0, T0 + 3 * HOUR, rules)
    assert new is Applied.STORE_FULL and longest(10**7) not in state.orders
    known = apply_order_event(state, longest(5), "delivered", T0 + 5 * 60_000 + 4 * HOUR, T0 + 3 * HOUR, rules)
    assert known is not Applied.STORE_FULL  # the orders it holds still move on


@pytest.mark.parametrize("judged", [False, True], ids=["held", "counted"])
def test_a_full_store_of_reviews_fits_one_message_and_refuses_the_next_new_review(judged: bool) -> None:
    """Held (pending) and counted (seen) reviews both count toward the cap."""
    rule = NegativityRule.from_settings(Settings())
    state = NegativityState("c" * MAX_ID_LENGTH, longest(0))
    for i in range(rule.max_reviews):
        assert hold_store_review(state, longest(i), i % 2 == 0, T0 + i * 1_000, T0, rule) == "PENDING"
    if judged:
        judge_store_until(state, T0 + rule.max_reviews * 1_000, rule)
        assert not state.pending and len(state.seen) == rule.max_reviews
    assert len(state.to_bytes()) < BROKER_MAX_MESSAGE - ENVELOPE
    assert hold_store_review(state, longest(10**7), True, T0 + 10**6, T0, rule) == "STORE_FULL"
