"""Broker restart: the worker rides out its Kafka broker stopping and starting again while events flow."""

from __future__ import annotations

import threading
import time
from collections import Counter

import orjson
import pytest
from conftest import free_port
from kafka import KafkaProducer
from kafkautil import produce
from test_orders import T0, H, clock_mover, failing_store, outputs
from webutil import poll

from monitor.ops import localkafka
from monitor.toolkit.lag import end_offsets, wait_for_zero_lag


def trickle(bootstrap: str, topic: str, events: list[tuple], gap_s: float) -> None:
    """Send events one by one; the producer buffers and retries through a broker outage."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             delivery_timeout_ms=120_000, reconnect_backoff_max_ms=1000)
    try:
        for key, value in events:
            producer.send(topic, key=key.encode(), value=orjson.dumps(value))
            time.sleep(gap_s)  # the point: a steady trickle that is still flowing when the broker goes down
        producer.flush(120)
    finally:
        producer.close()


@pytest.mark.slow
@pytest.mark.timeout(400)
class TestBrokerRestart:
    def test_worker_reconnects_by_itself_and_outputs_are_complete(self, monitor_env, start_worker,
                                                                  tmp_path) -> None:
        """A broker of its own is stopped and started again on the same port and data dir while a producer
        keeps sending: the same worker process reconnects, hides the store that failed across the outage and
        reports every late order; nothing is lost."""
        kafka_dir, port = tmp_path / "own-kafka", free_port()
        broker = localkafka.start(kafka_dir, port=port, timeout_s=120)
        try:
            env = {**monitor_env, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
            orders = env["MONITOR_TOPIC_ORDER_STATUS"]
            worker = start_worker(env)
            produce(broker.bootstrap, orders, failing_store("before", 5, 3) + clock_mover(T0 + 5 * H))
            assert outputs(env, "MONITOR_TOPIC_STORE_VISIBILITY", lambda ms: len(ms) >= 1)[0]["store_id"] == "before"

            across = failing_store("across", 8, 0, start=T0 + 6 * H) + clock_mover(T0 + 11 * H)
            written = sum(end_offsets(broker.bootstrap, [orders]).values())
            feeder = threading.Thread(target=trickle, args=(broker.bootstrap, orders, across, 0.5))
            feeder.start()
            # the outage begins mid-stream: once the first events of the trickle are on the broker
            poll("trickle under way", lambda: sum(end_offsets(broker.bootstrap, [orders]).values()),
                 lambda n: n >= written + 2, timeout_s=30)
            assert localkafka.stop(kafka_dir)
            assert not localkafka.answers_metadata(broker.bootstrap)[0]
            time.sleep(5.0)  # the point: the outage itself, while the feeder keeps sending and the worker retries
            restarted = localkafka.start(kafka_dir, port=port, timeout_s=120)
            assert restarted.bootstrap == broker.bootstrap
            feeder.join(150)
            assert not feeder.is_alive()

            visibility = outputs(env, "MONITOR_TOPIC_STORE_VISIBILITY", lambda ms: len(ms) >= 2, timeout_s=180)
            assert sorted(v["event_id"] for v in visibility) == ["hide:Moscow:across:1", "hide:Moscow:before:1"]
            late = [f"before-l{i}" for i in range(5)] + [f"across-l{i}" for i in range(8)]
            alerts = outputs(env, "MONITOR_TOPIC_ALERTS", lambda ms: {m["json"]["details"].get("order_id") for m in ms
                                                                      if m["json"]["kind"] == "order_late"} >= set(late),
                             timeout_s=120)
            hidden = Counter(a["alert_id"] for a in alerts if a["kind"] == "store_hidden")
            assert set(hidden) == {"store_hidden:Moscow:before:1", "store_hidden:Moscow:across:1"}
            assert worker.proc.poll() is None, "the worker died instead of reconnecting"
            # evidence from after the outage only: a record written after the restart (a duplicate of the last
            # event, which changes no output) is read and committed by the same worker process
            produce(broker.bootstrap, orders, clock_mover(T0 + 11 * H))
            wait_for_zero_lag(broker.bootstrap, env["MONITOR_APP_ID"], [orders], timeout_s=60, poll_s=0.5, hops=1)
            assert worker.proc.poll() is None, "the same worker process did it, still running"
        finally:
            localkafka.stop(kafka_dir)
