"""A real `monitor worker` subprocess consumes order-status and routes bad input to dead-letters."""

from __future__ import annotations

import base64
import subprocess
import sys

from kafkautil import consume_until, produce

VALID = {"event_id": "e-1", "order_id": "o-1", "store_id": "s-1", "city": "Moscow", "status": "created",
         "promised_at": "2026-02-14T12:00:00+03:00", "occurred_at": "2026-02-14T10:00:00+03:00"}


class TestWorkerDeadLetters:
    def test_malformed_messages_land_in_dead_letters_with_reasons(self, monitor_env, start_worker) -> None:
        """Non-JSON, a naive timestamp and a bad status each become one dead letter; the valid event does not."""
        bootstrap = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        worker = start_worker(monitor_env)
        produce(bootstrap, monitor_env["MONITOR_TOPIC_ORDER_STATUS"], [
            ("o-bad-json", b"{this is not json"),
            ("o-1", VALID),
            ("o-naive", {**VALID, "order_id": "o-naive", "occurred_at": "2026-02-14T10:00:00"}),
            ("o-status", {**VALID, "order_id": "o-status", "status": "teleported"}),
        ])
        letters = consume_until(bootstrap, monitor_env["MONITOR_TOPIC_DEAD_LETTERS"],
                                lambda ms: len(ms) >= 3, timeout_s=90)
        by_key = {m["key"]: m["json"] for m in letters}
        assert set(by_key) == {b"o-bad-json", b"o-naive", b"o-status"}
        assert "not valid JSON" in by_key[b"o-bad-json"]["error"]
        assert base64.b64decode(by_key[b"o-bad-json"]["value"]) == b"{this is not json"
        assert by_key[b"o-bad-json"]["topic"] == monitor_env["MONITOR_TOPIC_ORDER_STATUS"]
        assert "no UTC offset" in by_key[b"o-naive"]["error"]
        assert "teleported" in by_key[b"o-status"]["error"]
        # the valid order went on to its store's partition, and the worker is still alive after the bad input
        by_store = consume_until(bootstrap, f"{monitor_env['MONITOR_APP_ID']}-order-status-by-store",
                                 lambda ms: any(m["headers"].get("qm", b"").startswith(b"b:") for m in ms),
                                 timeout_s=30)
        forwarded = [e for m in by_store if m["headers"].get("qm", b"").startswith(b"b:") for e in m["json"]]
        assert [e[:4] for e in forwarded] == [["o-1", "s-1", "Moscow", "created"]]
        assert worker.proc.poll() is None

    def test_unreachable_broker_fails_start_up_with_a_reason(self, monitor_env) -> None:
        """With no broker at the address, the worker retries, then exits 1 naming the address."""
        env = {**monitor_env, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "worker", "--broker-timeout", "3"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        assert "127.0.0.1:1 is unreachable" in proc.stderr

    def test_invalid_setting_fails_start_up_naming_the_field(self, monitor_env) -> None:
        """An invalid setting stops the worker before it touches Kafka, with the field in the message."""
        env = {**monitor_env, "MONITOR_PARTITIONS": "zero"}
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "worker"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 1
        assert "invalid setting partitions" in proc.stderr
