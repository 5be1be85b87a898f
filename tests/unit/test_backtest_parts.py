"""The backtest's parts without a broker: variants, the source clock, and rule sets shared between variants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from monitor.backtest.engine import SourceClock
from monitor.backtest.run import run_pass
from monitor.backtest.summary import reason_class
from monitor.backtest.variants import BASELINE, RULE_SETTINGS, Variant, parse_variant
from monitor.eventtime.clock import NEVER
from monitor.settings import Settings
from monitor.toolkit.generate import TrafficConfig, generate, write_jsonl

BASE = Settings.load({})
BASE_START = datetime(2026, 2, 10, tzinfo=timezone(timedelta(hours=3)))


class TestVariants:
    def test_a_variant_changes_only_what_it_names(self) -> None:
        v = parse_variant("4 + 2:hide_min_late=4, HIDE_MIN_LATE_PLUS_AT_RISK=6", BASE)
        assert (v.name, v.settings.hide_min_late, v.settings.hide_min_late_plus_at_risk) == ("4 + 2", 4, 6)
        assert v.settings.replace(hide_min_late=5, hide_min_late_plus_at_risk=8) == BASE
        assert v.describe() == "hide_min_late=4, hide_min_late_plus_at_risk=6"

    def test_durations_and_methods_parse_like_settings(self) -> None:
        v = parse_variant("w:negativity_window=14d,negativity_method=wilson,accept_timeout=20m", BASE)
        assert v.settings.negativity_window.days == 14 and v.settings.negativity_method == "wilson"
        assert v.settings.accept_timeout.total_seconds() == 1200

    @pytest.mark.parametrize("key", RULE_SETTINGS)
    def test_every_rule_setting_is_a_setting(self, key: str) -> None:
        assert hasattr(BASE, key)

    @pytest.mark.parametrize(("text", "words"), [
        ("x", "expected NAME:key=value"),
        ("x:", "no key=value"),
        ("x:partitions=8", "cannot change in a backtest"),
        ("x:nonsense=1", "(no such setting)"),
        ("x:negativity_method=median", "invalid negativity_method"),
        ("x:min_negative=50", "min_negative"),
        (f"{BASELINE}:min_reviews=5", "the settings in force"),
        ("a/b:min_reviews=5", "expected NAME"),
    ])
    def test_bad_variants_say_why(self, text: str, words: str) -> None:
        with pytest.raises(ValueError) as info:
            parse_variant(text, BASE)
        assert words in str(info.value)


class TestSourceClock:
    def test_the_clock_waits_for_every_source_then_follows_the_slowest(self) -> None:
        clock = SourceClock(2)
        assert clock.on_event(0, 100) == NEVER  # source 1 not heard yet
        assert clock.on_event(1, 50) == 50
        assert clock.on_event(1, 300) == 100
        assert clock.on_event(0, 90) == 100  # never back
        assert clock.finish() == 300


def test_reason_classes_drop_the_particulars() -> None:
    assert reason_class("order-status: FUTURE_EVENT_TIME: occurred_at is 3 d ahead") == "order-status: FUTURE_EVENT_TIME"
    assert (reason_class("reviews: value of 900000 bytes is larger than the limit of 65536 bytes (setting x)")
            == reason_class("reviews: value of 5 bytes is larger than the limit of 4 bytes (setting x)"))


def test_variants_sharing_a_rule_set_or_spread_over_processes_get_the_outputs_they_would_get_alone(tmp_path: Path) -> None:
    """Run together, the baseline and two variants (one changing order rules, one review rules) write exactly
    what each writes when run alone: sharing a side between variants changes nothing."""
    traffic = generate(TrafficConfig(start=BASE_START, days=2, orders_per_day=300, stores=30, seed=4))
    path = tmp_path / "t.jsonl"
    write_jsonl(path, traffic.records)
    variants = [Variant(BASELINE, BASE), parse_variant("h:hide_min_late=3,hide_min_late_plus_at_risk=5", BASE),
                parse_variant("n:negativity_threshold=0.05,min_reviews=10", BASE)]
    together = run_pass([path], BASE, variants, tmp_path / "together")
    alone = [run_pass([path], BASE, [v], tmp_path / f"alone-{i}").runs[0] for i, v in enumerate(variants)]
    for shared, single in zip(together.runs, alone, strict=True):
        assert shared.outputs.read_bytes() == single.outputs.read_bytes(), shared.variant.name
    # spread over processes (every side in one other process; or in two, one order side each): the same
    for jobs in (2, 3):
        spread_out = run_pass([path], BASE, variants, tmp_path / f"jobs-{jobs}", jobs=jobs)
        for spread, shared in zip(spread_out.runs, together.runs, strict=True):
            assert spread.outputs.read_bytes() == shared.outputs.read_bytes(), (jobs, spread.variant.name)
            assert spread.counts == shared.counts and spread.refused == shared.refused
    assert together.runs[0].outputs.read_bytes() != together.runs[1].outputs.read_bytes()
    assert together.runs[0].outputs.read_bytes() != together.runs[2].outputs.read_bytes()



def test_hostile_lines_are_counted_and_the_rest_is_read(tmp_path: Path) -> None:
    """A line longer than the bound is read past without being held; impossible partitions or offsets, and
    lines that are not JSON objects, are counted by reason; the valid line after them is still applied."""
    base = BASE.replace(max_value_bytes=4096)
    good = orjson.dumps({"topic": "order-status", "key": "o1", "value": {
        "event_id": "e1", "order_id": "o1", "store_id": "s1", "city": "Moscow", "status": "created",
        "occurred_at": "2026-02-10T10:00:00+00:00", "promised_at": "2026-02-10T12:00:00+00:00"}})
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join([
        b'{"topic": "order-status", "value": "' + b"x" * 100_000 + b'"}',
        b'{"topic": "order-status", "partition": 1000000000, "key": "o1", "value": {}}',
        b'{"topic": "order-status", "partition": true, "key": "o1", "value": {}}',
        b'{"topic": "reviews", "offset": -5, "key": "r", "value": {}}',
        b"[1, 2]",
        good, b""]))
    result = run_pass([path], base, [Variant(BASELINE, base)], tmp_path / "out")
    assert result.lines == 6 and dict(result.events) == {"order-status": 1}
    assert sum(n for r, n in result.bad.items() if "a line longer than" in r) == 1, result.bad
    assert any("81920 bytes" in e for ex in result.examples.values() for e in ex), result.examples
    assert sum(n for r, n in result.bad.items() if "partition must be" in r) == 3, result.bad
    assert sum(n for r, n in result.bad.items() if "not a JSON object" in r) == 1, result.bad


class TestSourceEnds:
    def test_an_ended_source_stops_holding_the_clock(self) -> None:
        clock = SourceClock(3)
        clock.on_event(0, 100)
        clock.on_event(1, 200)
        assert clock.now_ms == NEVER  # source 2 not heard yet
        assert clock.end(2) == 100  # it has nothing to send: the others decide
        assert clock.end(0) == 200


def _order_line(order_id: str, store: str, status: str, at: str, promised: str, **where: object) -> bytes:
    return orjson.dumps({"topic": "order-status", "key": order_id, **where, "value": {
        "event_id": f"{order_id}-{status}", "order_id": order_id, "store_id": store, "city": "Moscow",
        "status": status, "occurred_at": at, "promised_at": promised}})


def test_a_partition_with_nothing_valid_does_not_freeze_the_clock(tmp_path: Path) -> None:
    """A dump whose partition 7 holds one unusable line (first, as a dump written in poll order would have it):
    the orders of partition 0 are judged as they come, so a full store forgets and takes new orders."""
    base = BASE.replace(max_orders_per_store=100)
    lines = [b'{"topic": "order-status", "partition": 7, "offset": 0, "key": null, "value": {}}']
    start = datetime(2026, 2, 10, tzinfo=UTC)
    for i in range(200):  # one store, an order every 1.2 h, delivered on time: about 80 kept (4 days) when judged as they come
        at = start + timedelta(hours=1.2 * i)
        iso = lambda t: t.isoformat()  # noqa: E731
        lines.append(_order_line(f"o{i}", "s1", "created", iso(at), iso(at + timedelta(hours=1)), partition=0,
                                 offset=2 * i))
        lines.append(_order_line(f"o{i}", "s1", "delivered", iso(at + timedelta(minutes=40)),
                                 iso(at + timedelta(hours=1)), partition=0, offset=2 * i + 1))
    path = tmp_path / "dump.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = run_pass([path], base, [Variant(BASELINE, base)], tmp_path / "out")
    assert dict(result.events) == {"order-status": 400}
    assert result.runs[0].refused == {}, result.runs[0].refused


def test_hostile_topics_and_base64_are_counted_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\n".join([
        b'{"topic": ["order-status"], "key": "o", "value": {}}',
        b'{"topic": "order-status", "key": "o", "value_b64": "abc"}',
        b'{"topic": "store-commands", "key": "s", "value_b64": 5}',
    ]) + b"\n")
    result = run_pass([path], BASE, [Variant(BASELINE, BASE)], tmp_path / "out")
    assert result.bad == {"input: value_b64 is not base64": 2}, result.bad
    assert sum(result.skipped.values()) == 1
