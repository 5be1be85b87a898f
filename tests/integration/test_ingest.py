"""Ingest (monitor/worker/ingest.py) on the real broker: batches, each event once, on its store's partition, in order."""

from __future__ import annotations

from collections import Counter

from kafkautil import consume_until, produce

from monitor.toolkit.lag import committed_offsets, end_offsets, wait_for_zero_lag
from monitor.web.routing import partition_for
from monitor.worker.topicnames import ingest_group

STATUSES = ("created", "accepted", "in_delivery")


def _order_events(orders: int, stores: int) -> list[tuple[str, dict]]:
    events = []
    for status_no, status in enumerate(STATUSES):
        for n in range(orders):
            events.append((f"o-{n}", {
                "event_id": f"e-{n}-{status}", "order_id": f"o-{n}", "store_id": f"s-{n % stores}",
                "city": "Kazan", "status": status, "promised_at": "2026-02-14T18:00:00+03:00",
                "occurred_at": f"2026-02-14T1{status_no}:{n % 60:02d}:00+03:00"}))
    return events


def _batched(messages: list[dict]) -> list[tuple[int, bytes, list]]:
    return [(m["partition"], m["headers"]["qm"], m["json"]) for m in messages
            if m["headers"].get("qm", b"").split(b":")[0] == b"b"]


class TestIngest:
    def test_valid_events_reach_their_store_partition_once_in_order_and_batched(self, monitor_env,
                                                                                start_worker) -> None:
        """600 order events and 40 reviews loaded before the worker starts: each forwarded exactly once, on the
        partition its store hashes to, each order's statuses in their order, packed many to a message; reviews
        over 40 days sent per source partition in its order (the store partitions' review clocks put them in
        created_at order); the ingest group commits everything it read."""
        bootstrap, app_id = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_APP_ID"]
        orders_topic, reviews_topic = monitor_env["MONITOR_TOPIC_ORDER_STATUS"], monitor_env["MONITOR_TOPIC_REVIEWS"]
        events = _order_events(200, 30)
        reviews = [(f"r-{n}", {"review_id": f"r-{n}", "order_id": f"o-{n}", "store_id": f"s-{n % 30}",
                               "city": "Kazan", "rating": 1 + n % 5, "text": "", "created_at":
                               f"2026-01-{1 + n % 28:02d}T{10 + n // 28}:{n:02d}:00+03:00"}) for n in range(40)]
        reviews.sort(key=lambda kv: kv[1]["created_at"])  # 40 days, each source partition in time order
        produce(bootstrap, orders_topic, events)
        produce(bootstrap, reviews_topic, reviews)
        start_worker(monitor_env)
        wait_for_zero_lag(bootstrap, app_id, [orders_topic, reviews_topic], timeout_s=120, poll_s=0.5, hops=1)

        by_store = consume_until(
            bootstrap, f"{app_id}-order-status-by-store",
            lambda ms: sum(len(b[2]) for b in _batched(ms)) >= len(events), timeout_s=60)
        batches = _batched(by_store)
        forwarded = [(partition, event) for partition, _, batch in batches for event in batch]
        assert Counter((e[0], e[3]) for _, e in forwarded) == Counter((k, v["status"]) for k, v in events)
        assert all(p == partition_for(e[1].encode(), 2) for p, e in forwarded)
        for n in range(200):
            assert [e[3] for _, e in forwarded if e[0] == f"o-{n}"] == list(STATUSES)
        assert len(batches) <= len(events) // 10, f"{len(batches)} messages for {len(events)} events"
        sources = len([tp for tp in end_offsets(bootstrap, [orders_topic])])
        assert {header.split(b":")[2] for _, header, _ in batches} == {str(sources).encode()}  # b:<source>:<n>

        review_msgs = consume_until(bootstrap, f"{app_id}-reviews-by-store",
                                    lambda ms: sum(len(b[2]) for b in _batched(ms)) >= len(reviews), timeout_s=60)
        review_batches = _batched(review_msgs)
        sent_on = [(p, int(h.split(b":")[1]), r) for p, h, batch in review_batches for r in batch]
        assert sorted(r[0] for _, _, r in sent_on) == sorted(k for k, _ in reviews)
        assert all(p == partition_for(r[2].encode(), 2) for p, _, r in sent_on)
        review_sources = len(end_offsets(bootstrap, [reviews_topic]))
        assert {h.split(b":")[2] for _, h, _ in review_batches} == {str(review_sources).encode()}  # as for orders
        for partition, source in {(p, s) for p, s, _ in sent_on}:  # each source's reviews in its own order
            offsets = [r[7] for p, s, r in sent_on if (p, s) == (partition, source)]
            assert offsets == sorted(offsets), (partition, source)

        ends = end_offsets(bootstrap, [orders_topic, reviews_topic])
        committed = committed_offsets(bootstrap, ingest_group(app_id))
        assert {tp: committed.get(tp) for tp in ends} == ends
