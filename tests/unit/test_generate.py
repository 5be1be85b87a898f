"""The traffic generator: reproducible, valid against the contracts, realistic, and its incidents hold their truth."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from monitor.toolkit.generate import (
    INCIDENT_KINDS,
    Incident,
    Traffic,
    TrafficConfig,
    generate,
    iter_records,
    write_jsonl,
    write_traffic,
    write_truth,
)
from monitor.wire.contracts import ORDER_STATUS, ORDER_STATUSES, REVIEW, parse_timestamp

START = datetime.fromisoformat("2026-02-14T00:00:00+03:00")  # local midnight in Moscow, Valentine's Day
SMALL = TrafficConfig(start=START, days=2, stores=100, orders_per_day=1500)
RANK = {s: i for i, s in enumerate(ORDER_STATUSES)}


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return generate(SMALL)


@pytest.fixture(scope="module")
def orders(traffic: Traffic) -> dict[str, list[dict[str, Any]]]:
    """Status values per order, in record order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in traffic.records:
        if r["topic"] == "order-status":
            out[r["value"]["order_id"]].append(r["value"])
    return out


@pytest.fixture(scope="module")
def reviews(traffic: Traffic) -> list[dict[str, Any]]:
    return [r["value"] for r in traffic.records if r["topic"] == "reviews"]


def truth_of(traffic: Traffic, kind: str) -> dict[str, Any]:
    return next(t for t in traffic.truth if t["kind"] == kind)


def ts(value: str) -> datetime:
    return parse_timestamp(value)


def created_per_day(traffic: Traffic, config: TrafficConfig) -> list[int]:
    counts = [0] * config.days
    for r in traffic.records:
        if r["topic"] == "order-status" and r["value"]["status"] == "created":
            counts[(ts(r["value"]["occurred_at"]) - config.start) // timedelta(days=1)] += 1
    return counts


class TestReproducibility:
    def test_same_seed_same_output(self, traffic: Traffic) -> None:
        """Generating again from the same config gives identical records and truth."""
        again = generate(SMALL)
        assert again.records == traffic.records
        assert again.truth == traffic.truth

    def test_different_seed_differs(self, traffic: Traffic) -> None:
        """Another seed gives other traffic."""
        other = generate(dataclasses.replace(SMALL, seed=2))
        assert other.records != traffic.records

    def test_iter_records_streams_the_same_records(self, traffic: Traffic) -> None:
        """The streaming generator yields exactly the records of generate(), in the same order."""
        assert list(iter_records(SMALL)) == traffic.records

    def test_write_traffic_streams_the_same_records_and_truth(self, traffic: Traffic, tmp_path) -> None:
        """Writing JSONL as it generates gives the lines and the truth of generate()."""
        seen: list[dict[str, Any]] = []
        n, truth = write_traffic(SMALL, tmp_path / "t.jsonl", on_record=seen.append)
        assert n == len(traffic.records) == len(seen)
        assert [orjson.loads(line) for line in (tmp_path / "t.jsonl").read_bytes().splitlines()] == traffic.records
        assert truth == traffic.truth

    def test_streaming_memory_does_not_grow_with_days(self) -> None:
        """Memory held while streaming 24 days is about that of 3 days: records leave as their day is final."""
        import tracemalloc

        def peak_kib(days: int) -> float:
            config = TrafficConfig(start=START, days=days, stores=100, orders_per_day=300)
            tracemalloc.start()
            for _ in iter_records(config):
                pass
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return peak / 1024

        short, long = peak_kib(3), peak_kib(24)
        assert long < 1.5 * short, (short, long)


class TestContracts:
    def test_every_record_validates(self, traffic: Traffic) -> None:
        """Every value passes its topic's contract; keys and record timestamps match the value."""
        for r in traffic.records:
            v = r["value"]
            if r["topic"] == "order-status":
                ORDER_STATUS.validate(v)
                assert (r["key"], r["timestamp"]) == (v["order_id"], v["occurred_at"])
            else:
                assert r["topic"] == "reviews"
                REVIEW.validate(v)
                assert (r["key"], r["timestamp"]) == (v["review_id"], v["created_at"])

    def test_ids_are_unique_and_deterministic(self, traffic: Traffic) -> None:
        """Event ids are order:status and unique; review ids are unique."""
        values = [r["value"] for r in traffic.records]
        event_ids = [v["event_id"] for v in values if "event_id" in v]
        assert len(event_ids) == len(set(event_ids))
        assert all(v["event_id"] == f"{v['order_id']}:{v['status']}" for v in values if "event_id" in v)
        review_ids = [v["review_id"] for v in values if "review_id" in v]
        assert len(review_ids) == len(set(review_ids))

    def test_records_are_sorted_by_event_time(self, traffic: Traffic) -> None:
        """Records come in event-time order across topics and time zones."""
        times = [ts(r["timestamp"]) for r in traffic.records]
        assert times == sorted(times)

    def test_utc_option_writes_utc_offsets(self) -> None:
        """With local_time=False every timestamp carries +00:00."""
        cfg = dataclasses.replace(SMALL, days=1, orders_per_day=100, local_time=False, incidents=())
        assert all(r["timestamp"].endswith("+00:00") for r in generate(cfg).records)


class TestVolume:
    def test_orders_per_day_within_ten_percent(self, traffic: Traffic) -> None:
        """Each day has orders_per_day orders, within 10% (incident surges included)."""
        for n in created_per_day(traffic, SMALL):
            assert abs(n - SMALL.orders_per_day) <= 0.1 * SMALL.orders_per_day

    def test_peak_factor_multiplies_volume(self) -> None:
        """peak_factor=3 triples the day's orders."""
        base = dataclasses.replace(SMALL, days=1, orders_per_day=500, incidents=())
        normal = created_per_day(generate(base), base)[0]
        peak = created_per_day(generate(dataclasses.replace(base, peak_factor=3.0)), base)[0]
        assert 2.7 <= peak / normal <= 3.3

    def test_daily_curve_peaks_in_business_hours(self, orders: dict[str, list[dict[str, Any]]]) -> None:
        """Most orders are created between 9:00 and 20:00 local time."""
        hours = [ts(events[0]["occurred_at"]).hour for events in orders.values()]
        assert sum(9 <= h < 20 for h in hours) / len(hours) > 0.7

    def test_store_sizes_are_skewed(self, orders: dict[str, list[dict[str, Any]]]) -> None:
        """The top 10% of stores hold more than 30% of the orders."""
        per_store = sorted(Counter(events[0]["store_id"] for events in orders.values()).values(), reverse=True)
        assert sum(per_store[: SMALL.stores // 10]) > 0.3 * sum(per_store)


class TestOrderProgression:
    def test_statuses_move_forward_in_time(self, orders: dict[str, list[dict[str, Any]]]) -> None:
        """Per order: created first, statuses in forward order, times non-decreasing, one promise after creation."""
        for events in orders.values():
            statuses = [e["status"] for e in events]
            assert statuses[0] == "created"
            assert [RANK[s] for s in statuses] == sorted(RANK[s] for s in statuses)
            times = [ts(e["occurred_at"]) for e in events]
            assert times == sorted(times)
            assert len({e["promised_at"] for e in events}) == 1
            slot = ts(events[0]["promised_at"]) - times[0]
            assert timedelta(hours=2) <= slot <= timedelta(hours=4, minutes=30)

    def test_normal_orders_are_mostly_on_time(self, traffic: Traffic,
                                              orders: dict[str, list[dict[str, Any]]]) -> None:
        """Outside incidents about 97% of orders are delivered by the promise and about 2% are cancelled."""
        touched = {t["store_id"] for t in traffic.truth} | {t["city"] for t in traffic.truth if not t["store_id"]}
        last = [ev[-1] for ev in orders.values() if not {ev[0]["store_id"], ev[0]["city"]} & touched]
        on_time = sum(e["status"] == "delivered" and ts(e["occurred_at"]) <= ts(e["promised_at"]) for e in last)
        cancelled = sum(e["status"] == "cancelled" for e in last)
        assert 0.94 <= on_time / len(last) <= 0.99
        assert 0.01 <= cancelled / len(last) <= 0.035


class TestReviews:
    def test_negative_share_outside_incidents(self) -> None:
        """Without incidents about 1-2% of reviews are negative (rating 1-2)."""
        cfg = dataclasses.replace(SMALL, days=1, orders_per_day=4000, review_share=1.0, incidents=())
        ratings = [r["value"]["rating"] for r in generate(cfg).records if r["topic"] == "reviews"]
        assert len(ratings) > 3000
        assert 0.01 <= sum(r <= 2 for r in ratings) / len(ratings) <= 0.025

    def test_reviews_follow_delivery(self, orders: dict[str, list[dict[str, Any]]],
                                     reviews: list[dict[str, Any]]) -> None:
        """Each review is of a delivered order of the same store, written after delivery."""
        for rv in reviews:
            last = orders[rv["order_id"]][-1]
            assert (last["status"], last["store_id"]) == ("delivered", rv["store_id"])
            assert ts(rv["created_at"]) > ts(last["occurred_at"])


class TestIncidents:
    def test_truth_lists_every_kind(self, traffic: Traffic, tmp_path) -> None:
        """The truth file names each incident kind once with what the monitor should do."""
        path = tmp_path / "traffic.truth.json"
        write_truth(path, traffic.truth)
        truth = orjson.loads(path.read_bytes())
        assert sorted(t["kind"] for t in truth) == sorted(INCIDENT_KINDS)
        expect = {t["kind"]: (t["expect"], t["alert_kind"]) for t in truth}
        assert expect["store_stops_accepting"][0] == expect["store_overloaded"][0] == "hide"
        assert expect["city_slow_couriers"] == ("alert", "city_lateness")
        assert expect["store_negative_reviews"] == ("alert", "store_negativity")
        assert expect["small_store_unlucky_review"][0] == "no_alert"

    def test_incidents_hit_distinct_stores_outside_the_slow_city(self, traffic: Traffic) -> None:
        """Each store incident has its own store, away from the city with slow couriers."""
        slow_city = truth_of(traffic, "city_slow_couriers")["city"]
        store_truths = [t for t in traffic.truth if t["store_id"]]
        assert len({t["store_id"] for t in store_truths}) == len(store_truths) == 4
        assert all(t["city"] != slow_city for t in store_truths)

    def test_stopped_store_never_accepts(self, traffic: Traffic, orders: dict[str, list[dict[str, Any]]]) -> None:
        """Orders of the stopped store created in its window have a created event and no accepted one."""
        t = truth_of(traffic, "store_stops_accepting")
        start, end = ts(t["start"]), ts(t["end"])
        hit = [ev for ev in orders.values()
               if ev[0]["store_id"] == t["store_id"] and start <= ts(ev[0]["occurred_at"]) < end]
        assert len(hit) >= 8  # enough for the hide rule: 5 late + 3 at risk
        assert all([e["status"] for e in ev] == ["created"] for ev in hit)
        assert t["evidence"]["late"] == len(hit)

    def test_overloaded_store_is_late_or_stuck(self, traffic: Traffic,
                                               orders: dict[str, list[dict[str, Any]]]) -> None:
        """At least 5 orders of the overloaded store in its window end late or never get delivered."""
        t = truth_of(traffic, "store_overloaded")
        start, end = ts(t["start"]), ts(t["end"])
        bad = [ev for ev in orders.values() if ev[0]["store_id"] == t["store_id"]
               and start <= ts(ev[0]["occurred_at"]) < end
               and (ev[-1]["status"] != "delivered" or ts(ev[-1]["occurred_at"]) > ts(ev[-1]["promised_at"]))]
        assert len(bad) >= 5
        assert any(ev[-1]["status"] in ("accepted", "assembled") for ev in bad)  # some are stuck

    def test_slow_couriers_make_many_stores_late(self, traffic: Traffic,
                                                 orders: dict[str, list[dict[str, Any]]]) -> None:
        """In the slow city, orders of several stores are delivered after their promise."""
        t = truth_of(traffic, "city_slow_couriers")
        late = [ev[-1] for ev in orders.values() if ev[0]["city"] == t["city"] and ev[-1]["status"] == "delivered"
                and ts(ev[-1]["occurred_at"]) > ts(ev[-1]["promised_at"])]
        assert len(late) >= 20
        assert len({e["store_id"] for e in late}) >= 3
        assert t["evidence"]["stores"] >= 3

    def test_negative_store_turns_negative(self, traffic: Traffic, reviews: list[dict[str, Any]]) -> None:
        """The negative-reviews store gets at least 20 reviews after its start, far more than 2% negative."""
        t = truth_of(traffic, "store_negative_reviews")
        ratings = [r["rating"] for r in reviews if r["store_id"] == t["store_id"] and ts(r["created_at"]) >= ts(t["start"])]
        assert len(ratings) >= 20
        assert sum(r <= 2 for r in ratings) / len(ratings) > 0.3

    def test_small_store_has_one_negative_review(self, traffic: Traffic, reviews: list[dict[str, Any]]) -> None:
        """The unlucky small store has fewer than 20 reviews, exactly one of them negative."""
        t = truth_of(traffic, "small_store_unlucky_review")
        ratings = [r["rating"] for r in reviews if r["store_id"] == t["store_id"]]
        assert len(ratings) < 20
        assert sum(r <= 2 for r in ratings) == 1
        assert t["evidence"] == {"negative": 1, "reviews": len(ratings)}

    def test_explicit_incident_keeps_its_store(self) -> None:
        """An incident that names its store hits that store, and no default incidents are added."""
        start = START + timedelta(hours=10)
        inc = Incident(kind="store_stops_accepting", store_id="st-0007", start=start, end=start + timedelta(hours=6))
        traffic = generate(dataclasses.replace(SMALL, days=1, incidents=(inc,)))
        assert [(t["kind"], t["store_id"]) for t in traffic.truth] == [("store_stops_accepting", "st-0007")]

    @pytest.mark.parametrize(
        "changes",
        [
            {"start": datetime.fromisoformat("2026-02-14T00:00:00")},  # naive start
            {"days": 0},  # no days
            {"review_share": 1.5},  # a share above 1
        ],
    )
    def test_invalid_config_is_rejected(self, changes: dict[str, Any]) -> None:
        """A naive start or an out-of-range field fails at construction with the field's name."""
        with pytest.raises(ValueError, match=next(iter(changes))):
            dataclasses.replace(SMALL, **changes)


class TestFiles:
    def test_write_jsonl_round_trips(self, traffic: Traffic, tmp_path) -> None:
        """write_jsonl writes one record per line that reads back equal."""
        path = tmp_path / "traffic.jsonl"
        assert write_jsonl(path, traffic.records[:500]) == 500
        lines = path.read_bytes().splitlines()
        assert [orjson.loads(line) for line in lines] == traffic.records[:500]
