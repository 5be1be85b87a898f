"""The web layer's pure parts: the state view, the token check, metrics exposition, routing hash, reasons."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kafka.partitioner import murmur2

from monitor.domain.negativity import NegativityState
from monitor.domain.orders import HideRule, OrderFacts
from monitor.domain.reviews import NegativityRule
from monitor.domain.store_state import StoreState
from monitor.domain.stores import OrderRules
from monitor.web import metrics
from monitor.web.requests import ApiError, require_token, required_text
from monitor.web.routing import partition_for
from monitor.web.state_view import negativity_series, store_view
from monitor.worker.counters import reason_class

H = 3_600_000
T0 = 1_771_059_600_000  # 2026-02-14T09:00:00Z


def _hidden_state() -> StoreState:
    orders = {f"l{i}": OrderFacts(promised_ms=T0 + 3 * H, promise_from_ms=T0, created_ms=T0, accepted_ms=T0)
              for i in range(5)}
    orders["r0"] = OrderFacts(promised_ms=T0 + 6 * H, promise_from_ms=T0 + 2 * H, created_ms=T0 + 2 * H)
    orders["done"] = OrderFacts(promised_ms=T0 + 3 * H, promise_from_ms=T0, created_ms=T0, accepted_ms=T0,
                                dispatched_ms=T0 + H, delivered_ms=T0 + 2 * H, rank=4)
    return StoreState("rozy", "Moscow", partition=1, clock_ms=T0 + 4 * H, orders=orders, hidden=True,
                      incident=1, hidden_at_ms=T0 + 3 * H, evidence_late=[f"l{i}" for i in range(5)],
                      evidence_at_risk=["r0", "x1", "x2"], days={T0 - T0 % (24 * H): [7, 1, 5, 0]})


class TestStoreView:
    def test_hidden_store_view_names_reason_since_and_orders(self) -> None:
        """A hidden store shows when and why, its late, at-risk and open orders as of the given time."""
        view = store_view(_hidden_state(), T0 + 4 * H, OrderRules())
        assert (view["hidden"], view["hidden_since"]) == (True, "2026-02-14T12:00:00+00:00")
        assert view["hide_reason"] == "HIDE_LATE_AND_AT_RISK"  # from the evidence: 5 late + 3 at risk
        assert view["orders"]["late"] == [f"l{i}" for i in range(5)]
        assert view["orders"]["at_risk"] == ["r0"]  # not accepted for 2h
        assert "done" not in {o["order_id"] for o in view["orders"]["open"]}
        assert view["daily"] == [{"day": "2026-02-14", "orders": 7, "delivered": 1, "late": 5, "cancelled": 0}]
        assert view["at_risk_now"] is False  # hidden stores are listed as hidden, not as at risk
        assert view["negativity"] is None

    def test_reason_of_a_store_hidden_under_a_stricter_rule_is_not_invented(self) -> None:
        """Evidence that today's rule would not hide on is reported as such, not as BELOW_THRESHOLD."""
        view = store_view(_hidden_state(), T0 + 4 * H, OrderRules(hide=HideRule(6, 9)))
        assert view["hide_reason"] == "HIDDEN_UNDER_EARLIER_RULE"

    def test_negativity_counts_only_the_window(self) -> None:
        """Share and counts sum the day buckets inside the window at the state's clock."""
        day = 86_400_000
        state = NegativityState("Moscow", "rozy", clock_ms=T0, buckets={T0 - T0 % day: [10, 2],
                                                                        T0 - T0 % day - 40 * day: [5, 5]})
        view = store_view(_hidden_state(), T0 + 4 * H, OrderRules(), reviews=state, review_rule=NegativityRule())
        assert (view["negativity"]["reviews"], view["negativity"]["negative"], view["negativity"]["share"]) == (
            10, 2, 0.2)
        assert [p["day"] for p in negativity_series(state)] == ["2026-01-05", "2026-02-14"]


class TestToken:
    def req(self, header: str | None) -> SimpleNamespace:
        return SimpleNamespace(headers={"Authorization": header} if header is not None else {})

    @pytest.mark.parametrize(("configured", "header", "code"), [
        ("", "Bearer anything", 403),   # no token configured: mutations are off
        ("tok", None, 401),             # no header
        ("tok", "Basic tok", 401),      # wrong scheme
        ("tok", "Bearer nope", 403),    # wrong token
    ])
    def test_refusals(self, configured: str, header: str | None, code: int) -> None:
        """Each refusal has its own status and a message saying what to do."""
        with pytest.raises(ApiError) as exc:
            require_token(self.req(header), configured)
        assert exc.value.code == code and exc.value.detail

    def test_right_token_passes(self) -> None:
        """The configured token in a bearer header is accepted."""
        assert require_token(self.req("Bearer tok"), "tok") is None

    def test_required_text_names_the_missing_field(self) -> None:
        """Blank strings count as missing."""
        with pytest.raises(ApiError, match="'note'"):
            required_text({"by": "anna", "note": "  "}, "by", "note")


class TestMetrics:
    def test_histogram_is_cumulative_and_counts_match(self) -> None:
        """Buckets are cumulative, +Inf equals the count, and the sum adds the observations."""
        hist = metrics.Histogram((0.01, 0.1))
        for v in (0.005, 0.05, 0.05, 3.0):
            hist.observe("t", v)
        lines = metrics._histogram_lines("x", "help", hist)
        assert 'x_bucket{topic="t",le="0.01"} 1' in lines
        assert 'x_bucket{topic="t",le="0.1"} 3' in lines
        assert 'x_bucket{topic="t",le="+Inf"} 4' in lines
        assert 'x_count{topic="t"} 4' in lines
        assert 'x_sum{topic="t"} 3.105' in lines

    def test_render_escapes_labels(self) -> None:
        """Label values with quotes or backslashes stay valid exposition text."""
        text = metrics.render(input_by_topic={'a"b\\c': 3}, hidden_stores=2, stores=5, lag={("in", 0): 7},
                              state_bytes={"store-state": 10}, ready=True, events_per_s=1.5)
        assert 'monitor_input_events_total{topic="a\\"b\\\\c"} 3' in text.splitlines()
        assert "monitor_hidden_stores 2" in text and 'monitor_consumer_lag{topic="in",partition="0"} 7' in text
        assert "monitor_events_per_second 1.5" in text


class TestRouting:
    @pytest.mark.parametrize("key", [b"rozy", b"tsvetochki", b"\xd1\x86\xd0\xb2\xd0\xb5\xd1\x82\xd1\x8b", b"x" * 40])
    def test_partition_matches_the_java_default_partitioner(self, key: bytes) -> None:
        """Our partition of a key is murmur2 positive modulo the partition count, as Kafka's producers do."""
        assert partition_for(key, 4) == (murmur2(key) & 0x7FFFFFFF) % 4


class TestDeadLetterReasons:
    @pytest.mark.parametrize(("error", "reason"), [
        ("order-status: empty message (no value)", "empty"),
        ("reviews: not valid JSON (unexpected end of data)", "not_json"),
        ("x-by-store: message without the 'qm' header", "bad_header"),
        ("x-by-store: unknown message kind 'z'", "unknown_kind"),
        ("order-status: field status: must be one of created, ...", "invalid"),
    ])
    def test_reason_classes_are_bounded(self, error: str, reason: str) -> None:
        """Free-text reasons map onto a handful of label values."""
        assert reason_class(error) == reason
