"""Operational safety: SIGTERM commits and flushes, an unreachable broker fails clearly, a corrupted or foreign
state folder is refused at start-up and rebuilt from the changelog on request."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
from kafkautil import produce
from test_orders import T0, H, clock_mover, failing_store, outputs, restore_cli, settle

from monitor.ops.statedir import MARKER


def ids(messages: list[dict], field: str) -> Counter:
    return Counter((m[field], m.get("status") or m.get("action")) for m in messages)


def state_folder(env: dict) -> Path:
    return Path(env["MONITOR_DATA_DIR"]) / "faust" / env["MONITOR_APP_ID"]


class TestGracefulShutdown:
    def test_sigterm_exits_0_and_a_restart_re_emits_nothing_and_misses_nothing(self, monitor_env,
                                                                               start_worker) -> None:
        """After SIGTERM (exit 0) and a restart, the first store's outputs are not repeated and a second store
        that fails while the worker was down is hidden: every output id appears exactly once."""
        boot, orders = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"]
        produce(boot, orders, failing_store("first", 5, 3) + clock_mover(T0 + 5 * H))
        worker = start_worker(monitor_env, name="before")
        settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1, quiet_s=2)
        assert worker.stop() == 0
        produce(boot, orders, failing_store("second", 8, 0, start=T0 + 6 * H) + clock_mover(T0 + 11 * H))
        start_worker(monitor_env, name="after")
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 2, quiet_s=6)
        assert ids(visibility, "event_id") == Counter({("hide:Moscow:first:1", "hide"): 1,
                                                       ("hide:Moscow:second:1", "hide"): 1})
        alerts = outputs(monitor_env, "MONITOR_TOPIC_ALERTS",
                         lambda ms: sum(m["json"]["kind"] == "store_hidden" for m in ms) >= 2)
        counts = ids(alerts, "alert_id")
        assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
        assert ("order_late:Moscow:second:second-l7", "firing") in counts


class TestStartUp:
    def test_unreachable_broker_logs_each_retry_then_exits_1(self, monitor_env) -> None:
        """Each failed attempt is one kafka_unreachable log line with its number; after the timeout exit 1."""
        env = {**monitor_env, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "worker", "--broker-timeout", "4"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        retries = [orjson.loads(line) for line in proc.stdout.splitlines() + proc.stderr.splitlines()
                   if "kafka_unreachable" in line]
        assert len(retries) >= 2 and [r["attempt"] for r in retries[:2]] == [1, 2]
        assert retries[0]["bootstrap"] == "127.0.0.1:1"
        assert "monitor: error: Kafka at 127.0.0.1:1 is unreachable after 4s" in proc.stderr

    def test_corrupted_or_foreign_state_is_refused_and_rebuilt_from_the_changelog(
            self, monitor_env, start_worker, unique) -> None:
        """Garbage in the tables' RocksDB files, or a state folder of another app id, stops the worker at once
        with exit 1 and a message; --rebuild-state restores the state from the changelog: the hidden store is
        still known (no second hide, and a restore works)."""
        boot, orders = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"]
        produce(boot, orders, failing_store("tsvetochki", 5, 3) + clock_mover(T0 + 5 * H))
        first = start_worker(monitor_env, name="first")
        settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1, quiet_s=2)
        assert first.stop() == 0
        folder = state_folder(monitor_env)

        # a copy of this state under another app id is not that app's state
        other = {**monitor_env, "MONITOR_APP_ID": f"qm-other-{unique}"}
        shutil.copytree(folder, state_folder(other))
        foreign = start_worker(other, name="foreign")
        assert foreign.proc.wait(60) == 1
        assert f"was written with app_id '{monitor_env['MONITOR_APP_ID']}'" in foreign.log_path.read_text()

        # garbage over every RocksDB CURRENT file of the store table
        victims = sorted(folder.glob("v*/tables/store-state-*.db/CURRENT"))
        assert victims
        for f in victims:
            f.write_bytes(b"\x00\x01garbage")
        broken = start_worker(monitor_env, name="broken")
        assert broken.proc.wait(60) == 1
        text = broken.log_path.read_text()
        assert "is corrupted" in text and "--rebuild-state" in text

        rebuilt = start_worker(monitor_env, name="rebuilt", args=("--rebuild-state",))
        rebuilt.wait_for_log("state_rebuild", timeout_s=30)
        loaded = rebuilt.wait_for_log("store_state_loaded", timeout_s=90)
        assert loaded["stores"] >= 1
        assert orjson.loads((folder / MARKER).read_text())["app_id"] == monitor_env["MONITOR_APP_ID"]
        produce(boot, orders, clock_mover(T0 + 6 * H))
        restore_cli(monitor_env, "tsvetochki")
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 2, quiet_s=4)
        assert [v["event_id"] for v in visibility] == ["hide:Moscow:tsvetochki:1", "restore:Moscow:tsvetochki:1"]
