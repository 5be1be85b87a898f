"""Late and at-risk orders end to end: real broker, real RocksDB, `monitor worker` subprocesses."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from kafkautil import consume_until, produce

T0 = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)  # St Valentine's morning, historical: no live clock
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def ev(order_id: str, store: str, status: str, at: datetime, promised: datetime, city: str = "Moscow") -> tuple:
    value = {"event_id": f"{order_id}:{status}", "order_id": order_id, "store_id": store, "city": city,
             "status": status, "promised_at": promised.isoformat(), "occurred_at": at.isoformat()}
    return (order_id, value)


def failing_store(store: str, late: int, at_risk: int, *, city: str = "Moscow", start: datetime = T0,
                  prefix: str | None = None) -> list[tuple]:
    """``late`` orders accepted but never delivered (deadline start+3h) and ``at_risk`` orders never
    accepted, created 10 min before that deadline (at risk 15 min later)."""
    prefix = prefix or store
    events = []
    for i in range(late):
        created = start + i * MIN
        events += [ev(f"{prefix}-l{i}", store, "created", created, start + 3 * H, city),
                   ev(f"{prefix}-l{i}", store, "accepted", created + 2 * MIN, start + 3 * H, city)]
    for i in range(at_risk):
        created = start + 3 * H - 10 * MIN
        events += [ev(f"{prefix}-r{i}", store, "created", created, start + 6 * H, city)]
    return events


def clock_mover(at: datetime) -> list[tuple]:
    """An unrelated, healthy order whose event moves the stream's clock to ``at``."""
    return [ev(f"tick-{at:%H%M}", "clock-store", "created", at, at + 3 * H, "Tver")]


def outputs(env: dict, topic_var: str, done, timeout_s: float = 90) -> list[dict]:
    return [m["json"] for m in consume_until(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env[topic_var], done,
                                             timeout_s=timeout_s)]


def settle(env: dict, topic_var: str, count: int, quiet_s: float = 4.0) -> list[dict]:
    """Wait for ``count`` messages, then a little longer to catch any extra (duplicate) ones."""
    got = outputs(env, topic_var, lambda ms: len(ms) >= count)
    time.sleep(quiet_s)  # the point: a quiet window in which an extra (duplicate) message would show up
    return outputs(env, topic_var, lambda ms: len(ms) >= len(got))


def hides(messages: list[dict]) -> dict[str, dict]:
    return {m["store_id"]: m for m in messages if m["action"] == "hide"}


class TestHideRule:
    def test_scenarios_hide_exactly_the_failing_stores(self, monitor_env, start_worker) -> None:
        """5+3 hides, 4+3 does not, 8 late hides, on-time and cancelled orders never count; stores and
        cities stay independent."""
        events = (
            failing_store("five-three", 5, 3)
            + failing_store("four-three", 4, 3)
            + failing_store("eight-late", 8, 0)
            + failing_store("five-three-kazan", 5, 3, city="Kazan")
        )
        # on time: 8 orders delivered before their deadline
        for i in range(8):
            events += [ev(f"ok-{i}", "on-time", "created", T0, T0 + 3 * H),
                       ev(f"ok-{i}", "on-time", "delivered", T0 + 2 * H, T0 + 3 * H)]
        # 5 late + 3 at risk, but 2 of the late ones were cancelled in time: 3 + 3 stays visible
        cancelled = failing_store("cancels", 5, 3)
        cancelled += [ev("cancels-l0", "cancels", "cancelled", T0 + H, T0 + 3 * H),
                      ev("cancels-l1", "cancels", "cancelled", T0 + H, T0 + 3 * H)]
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"],
                events + cancelled + clock_mover(T0 + 5 * H))
        start_worker(monitor_env)
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 3)
        hidden = hides(visibility)
        assert set(hidden) == {"five-three", "eight-late", "five-three-kazan"}
        assert len(visibility) == 3  # exactly one hide each
        five = hidden["five-three"]
        assert (five["reason"], five["late"], five["at_risk"], five["source"]) == ("HIDE_LATE_AND_AT_RISK", 5, 3,
                                                                                  "auto")
        assert five["at"] == "2026-02-14T12:05:00+00:00"  # at-risk orders were created 11:50, 15 min to accept
        assert sorted(five["late_order_ids"]) == [f"five-three-l{i}" for i in range(5)]
        assert hidden["eight-late"]["reason"] == "HIDE_LATE"
        assert hidden["five-three-kazan"]["city"] == "Kazan"
        alerts = outputs(monitor_env, "MONITOR_TOPIC_ALERTS", lambda ms: len(ms) >= 3)
        critical = {a["store_id"] for a in alerts if a["kind"] == "store_hidden"}
        assert critical == set(hidden)
        late_orders = {a["details"]["order_id"] for a in alerts if a["kind"] == "order_late"}
        assert not any(oid.startswith("ok-") for oid in late_orders)
        assert "cancels-l0" not in late_orders and "cancels-l2" in late_orders

    def test_duplicated_and_reordered_events_give_the_same_result(self, monitor_env, start_worker) -> None:
        """Every event twice and in reverse order still hides the store once with the same evidence."""
        events = failing_store("dup", 5, 3)
        produce(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env["MONITOR_TOPIC_ORDER_STATUS"],
                list(reversed(events)) + events + clock_mover(T0 + 5 * H))
        start_worker(monitor_env)
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1)
        assert len(visibility) == 1
        assert (visibility[0]["late"], visibility[0]["at_risk"]) == (5, 3)
        assert visibility[0]["at"] == "2026-02-14T12:05:00+00:00"


class TestLiveClock:
    def test_not_accepted_order_is_reported_by_time_alone(self, monitor_env, start_worker) -> None:
        """With no further events, an order not accepted within the accept timeout becomes at risk."""
        env = {**monitor_env, "MONITOR_ACCEPT_TIMEOUT": "4s"}
        start_worker(env)
        now = datetime.now(UTC)
        produce(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_ORDER_STATUS"],
                [ev("silent-1", "sleepy-store", "created", now, now + 3 * H)])
        alerts = outputs(env, "MONITOR_TOPIC_ALERTS", lambda ms: len(ms) >= 1, timeout_s=60)
        assert alerts[0]["kind"] == "order_at_risk"
        assert alerts[0]["details"]["reason"] == "NOT_ACCEPTED"
        fired_at = datetime.fromisoformat(alerts[0]["at"])
        assert abs(fired_at - (now + timedelta(seconds=4))) < timedelta(milliseconds=1)  # event time, not arrival


def restore_cli(env: dict, store: str, city: str = "Moscow") -> None:
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "store", "restore", store, "--city", city,
                           "--by", "anna", "--note", "partner called back"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


class TestRestoreAndRecovery:
    def test_restart_keeps_state_restore_holds_and_new_evidence_hides_again(self, monitor_env,
                                                                             start_worker) -> None:
        """A restarted worker emits no duplicate hide and still knows the store is hidden; a restore is not
        undone by the old evidence; 8 new late orders open incident 2."""
        bootstrap, orders_topic = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], monitor_env[
            "MONITOR_TOPIC_ORDER_STATUS"]
        produce(bootstrap, orders_topic, failing_store("tsvetochki", 5, 3) + clock_mover(T0 + 5 * H))
        first = start_worker(monitor_env, name="first")
        assert len(settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1)) == 1
        assert first.proc.poll() is None, "the first worker should still be running: its exit code is SIGTERM's"
        assert first.stop() == 0, first.log_path.read_text()[-4000:]  # SIGTERM: a clean shutdown, exit 0
        second = start_worker(monitor_env, name="second")
        second.wait_for_log("store_state_loaded", timeout_s=60)
        produce(bootstrap, orders_topic, clock_mover(T0 + 6 * H))
        restore_cli(monitor_env, "tsvetochki")
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 2)
        assert [(v["action"], v["event_id"]) for v in visibility] == [
            ("hide", "hide:Moscow:tsvetochki:1"), ("restore", "restore:Moscow:tsvetochki:1")]
        restored = visibility[1]
        assert (restored["source"], restored["by"], restored["note"]) == ("manual", "anna", "partner called back")
        # the old evidence, a whole day on, does not hide it again; 8 new late orders do
        produce(bootstrap, orders_topic, failing_store("tsvetochki", 8, 0, start=T0 + 7 * H, prefix="new")
                + clock_mover(T0 + 12 * H))
        visibility = settle(monitor_env, "MONITOR_TOPIC_STORE_VISIBILITY", 3)
        assert [(v["action"], v["event_id"], v.get("late")) for v in visibility][2] == (
            "hide", "hide:Moscow:tsvetochki:2", 8)
        alerts = outputs(monitor_env, "MONITOR_TOPIC_ALERTS", lambda ms: len(ms) >= 3)
        hidden_alerts = sorted((a["alert_id"], a["status"]) for a in alerts if a["kind"] == "store_hidden")
        # keyed by alert_id, so incidents land on different partitions: compare sorted
        assert hidden_alerts == [("store_hidden:Moscow:tsvetochki:1", "firing"),
                                 ("store_hidden:Moscow:tsvetochki:1", "resolved"),
                                 ("store_hidden:Moscow:tsvetochki:2", "firing")]


class TestDeterminism:
    @pytest.mark.timeout(400)
    def test_replay_speed_does_not_change_the_output(self, monitor_env, start_worker, unique) -> None:
        """The same recorded input replayed at 60x and as fast as possible gives the same outputs."""
        env = {**monitor_env, "MONITOR_ACCEPT_TIMEOUT": "5m", "MONITOR_DISPATCH_LEAD": "10m",
               "MONITOR_PARTITIONS": "3"}
        start = T0
        events: list[tuple] = []
        # two stores over 30 minutes of event time: one collapses, one recovers just in time
        for i in range(9):
            created = start + i * MIN
            events.append(ev(f"a{i}", "alpha", "created", created, created + 12 * MIN))
            if i % 3 == 0:
                events.append(ev(f"a{i}", "alpha", "accepted", created + 4 * MIN, created + 12 * MIN))
            events.append(ev(f"b{i}", "beta", "created", created, created + 20 * MIN, "Kazan"))
            events.append(ev(f"b{i}", "beta", "accepted", created + 6 * MIN, created + 20 * MIN, "Kazan"))
            events.append(ev(f"b{i}", "beta", "in_delivery", created + 9 * MIN, created + 20 * MIN, "Kazan"))
            events.append(ev(f"b{i}", "beta", "delivered", created + 15 * MIN, created + 20 * MIN, "Kazan"))
        events += clock_mover(start + 30 * MIN)
        events.sort(key=lambda kv: kv[1]["occurred_at"])

        def run(speed: float | None, suffix: str) -> tuple[list, list]:
            run_env = {**env, "MONITOR_APP_ID": f"{env['MONITOR_APP_ID']}-{suffix}"}
            for var in ("ORDER_STATUS", "STORE_VISIBILITY", "ALERTS", "DEAD_LETTERS", "STORE_COMMANDS",
                        "REVIEWS"):
                run_env[f"MONITOR_TOPIC_{var}"] = f"{env[f'MONITOR_TOPIC_{var}']}-{suffix}"
            worker = start_worker(run_env, name=suffix)
            worker.wait_for_log("store_state_loaded", timeout_s=60)
            if speed is None:
                produce(run_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], run_env["MONITOR_TOPIC_ORDER_STATUS"], events)
            else:
                first = datetime.fromisoformat(events[0][1]["occurred_at"])
                began = time.monotonic()
                for key, value in events:
                    due = (datetime.fromisoformat(value["occurred_at"]) - first).total_seconds() / speed
                    time.sleep(max(0.0, due - (time.monotonic() - began)))  # the point: pace the replay at 60x
                    produce(run_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], run_env["MONITOR_TOPIC_ORDER_STATUS"],
                            [(key, value)])
            vis = settle(run_env, "MONITOR_TOPIC_STORE_VISIBILITY", 1, quiet_s=6)
            al = settle(run_env, "MONITOR_TOPIC_ALERTS", 1, quiet_s=1)
            worker.stop()
            return (sorted(vis, key=lambda v: v["event_id"]), sorted(al, key=lambda a: (a["alert_id"], a["status"])))

        fast = run(None, "fast")
        slow = run(60.0, "x60")
        assert fast == slow
        assert [v["store_id"] for v in fast[0]] == ["alpha"]
        assert len(fast[1]) > 5
