"""What ingest refuses before any clock sees it, and how it follows an order across stores: pure, literal times."""

from __future__ import annotations

import pytest

from monitor.domain.intake import (
    OrderRegistry,
    RefusalCode,
    SeenOutcome,
    format_span_ms,
    future_refusal,
    promise_refusal,
)

S = 1000
MIN = 60 * S
H = 60 * MIN
D = 24 * H
WALL = 1_796_112_000_000  # 2026-12-01T08:00:00Z
A, B = ("st-a", "Moscow"), ("st-b", "Moscow")


class TestFutureBound:
    @pytest.mark.parametrize(("event_ms", "refused"), [
        (WALL - 365 * D, False),  # history: replays are unaffected
        (WALL, False),  # now
        (WALL + 5 * MIN, False),  # exactly the allowed skew
        (WALL + 5 * MIN + 1, True),  # one ms more
        (WALL + 3 * H, True),  # Moscow local time marked Z
        (4_070_908_800_000, True),  # 2099-01-01
    ])
    def test_an_event_time_past_the_wall_clock_plus_the_skew_is_refused(self, event_ms: int, refused: bool) -> None:
        """The bound is inclusive: an event exactly max_future_skew ahead is still accepted."""
        refusal = future_refusal("occurred_at", event_ms, WALL, 5 * MIN)
        assert (refusal is not None) == refused
        if refusal:
            assert refusal.code is RefusalCode.FUTURE_EVENT_TIME

    def test_the_refusal_names_the_field_the_skew_and_the_setting(self) -> None:
        """A person reading the dead letter sees what was wrong and which setting decides it."""
        refusal = future_refusal("occurred_at", WALL + 3 * H + 12 * S, WALL, 5 * MIN)
        assert refusal is not None
        reason = refusal.reason("order-status")
        assert reason.startswith("order-status: FUTURE_EVENT_TIME: occurred_at is 3 h 0 min 12 s ahead")
        assert f"skew {3 * H + 12 * S} ms" in reason and "max_future_skew 5 min 0 s" in reason


class TestPromiseHorizon:
    @pytest.mark.parametrize(("promised_ms", "refused"), [
        (WALL + 3 * H, False),  # a same-day delivery
        (WALL + 30 * D, False),  # exactly the horizon
        (WALL + 30 * D + 1, True),
        (WALL + 99 * 365 * D, True),  # created now, promised a century out
    ])
    def test_a_promise_past_the_horizon_is_refused(self, promised_ms: int, refused: bool) -> None:
        """An order promised further out than max_promise_horizon would sit in state at risk for years."""
        refusal = promise_refusal(WALL, promised_ms, 30 * D)
        assert (refusal is not None) == refused
        if refusal:
            assert refusal.code is RefusalCode.PROMISE_TOO_FAR


class TestSpans:
    @pytest.mark.parametrize(("ms", "text"), [(12 * S, "12 s"), (5 * MIN, "5 min 0 s"), (3 * H + 5 * S, "3 h 0 min 5 s"),
                                              (4 * D, "4 d"), (27_054 * D, "27,054 d")])
    def test_spans_read_as_people_write_them(self, ms: int, text: str) -> None:
        """Durations in reasons carry their units."""
        assert format_span_ms(ms) == text


class TestOrderRegistry:
    def test_the_same_event_again_is_a_harmless_repeat(self) -> None:
        """A producer's retry (same id, same contents) is applied again: order facts merge, so nothing changes."""
        r = OrderRegistry(keep_ms=4 * D)
        assert r.see("o1", "e1", A, 11, WALL).outcome is SeenOutcome.NEW
        assert r.see("o1", "e1", A, 11, WALL).outcome is SeenOutcome.REPEAT

    def test_an_event_id_repeated_with_other_contents_is_refused(self) -> None:
        """An event id names one status change: another content under it is a producer bug, dead-lettered."""
        r = OrderRegistry(keep_ms=4 * D)
        r.see("o1", "e1", A, 11, WALL)
        seen = r.see("o1", "e1", A, 12, WALL)
        assert seen.outcome is SeenOutcome.REFUSED and seen.refusal is not None
        assert seen.refusal.code is RefusalCode.DUPLICATE_EVENT_ID

    def test_an_order_that_names_another_store_moves_there(self) -> None:
        """The first store is told to forget it (it is not that store's order any more)."""
        r = OrderRegistry(keep_ms=4 * D)
        r.see("o1", "e1", A, 1, WALL)
        seen = r.see("o1", "e2", B, 2, WALL + 10 * MIN)
        assert (seen.outcome, seen.previous) == (SeenOutcome.MOVED, A)
        assert r.see("o1", "e3", B, 3, WALL + 20 * MIN).outcome is SeenOutcome.NEW  # it stays at B

    def test_an_older_event_naming_the_store_it_left_is_refused(self) -> None:
        """A straggler from before the move cannot move the order back."""
        r = OrderRegistry(keep_ms=4 * D)
        r.see("o1", "e1", A, 1, WALL)
        r.see("o1", "e2", B, 2, WALL + 10 * MIN)
        seen = r.see("o1", "e0", A, 0, WALL + 5 * MIN)
        assert seen.outcome is SeenOutcome.REFUSED and seen.refusal is not None
        assert seen.refusal.code is RefusalCode.STALE_REASSIGNMENT

    def test_orders_are_forgotten_by_event_time_and_by_count(self) -> None:
        """Memory is bounded: orders quiet for keep_ms go, and beyond max_orders the least recent goes first."""
        r = OrderRegistry(keep_ms=4 * D, max_orders=3)
        for i in range(5):
            r.see(f"o{i}", "e", A, 0, WALL + i * D)
        assert len(r) == 3
        r.expire(WALL + 8 * D)
        assert len(r) == 1  # only o4 (4 d before) is left
        assert r.see("o4", "e", A, 0, WALL + 8 * D).outcome is SeenOutcome.REPEAT

    def test_an_order_keeps_a_bounded_number_of_event_ids(self) -> None:
        """A hostile producer sending endless distinct ids for one order cannot grow memory without bound."""
        r = OrderRegistry(keep_ms=4 * D, max_events=4)
        for i in range(100):
            assert r.see("o1", f"e{i}", A, i, WALL).outcome is SeenOutcome.NEW
        assert len(r._orders["o1"].events) == 4
