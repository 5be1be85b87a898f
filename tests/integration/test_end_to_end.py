"""Generated traffic with injected incidents, replayed through a real worker, scored against the ground truth."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from monitor.toolkit.lag import wait_for_zero_lag
from monitor.worker.topicnames import internal_topic_names


def run(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc


class TestGeneratedIncidents:
    @pytest.mark.timeout(600)
    def test_injected_incidents_are_detected_and_the_unlucky_small_store_stays_quiet(
            self, monitor_env, start_worker, tmp_path) -> None:
        """Three days of seeded traffic: both failing stores are hidden, the city with slow couriers gets a
        city_lateness alert and no false hide, the store whose reviews turn negative fires, the small store with
        one bad review does not."""
        env = {**monitor_env, "MONITOR_PARTITIONS": "4"}
        data = tmp_path / "traffic.jsonl"
        run(env, "generate", "--out", str(data), "--days", "3", "--seed", "7")
        start_worker(env)
        run(env, "replay", str(data))
        bootstrap, app_id = env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_APP_ID"]
        watched = [env["MONITOR_TOPIC_ORDER_STATUS"], env["MONITOR_TOPIC_REVIEWS"], *internal_topic_names(app_id)]
        # round 1: every input committed, which ingest does only once what it sent on to the internal topics is
        # acknowledged; rounds 2 and 3: the internal topics as they were then, and what that sent on by city
        wait_for_zero_lag(bootstrap, app_id, watched, timeout_s=400, hops=3)
        out = tmp_path / "out.jsonl"
        run(env, "dump", env["MONITOR_TOPIC_STORE_VISIBILITY"], env["MONITOR_TOPIC_ALERTS"], "--out", str(out))
        report = tmp_path / "score.json"
        run(env, "score", str(data.with_suffix(".truth.json")), str(out), "--json", str(report))
        scored = json.loads(report.read_text())
        outcomes = {r["kind"]: r["outcome"] for r in scored["incidents"]}
        assert outcomes["city_slow_couriers"] == "DETECTED"  # a city_lateness alert for the city...
        assert scored["unexplained_hides"] == []  # ...and none of its punctual stores hidden
        assert outcomes["store_stops_accepting"] == "DETECTED"
        assert outcomes["store_overloaded"] == "DETECTED"
        assert outcomes["store_negative_reviews"] == "DETECTED"
        assert outcomes["small_store_unlucky_review"] == "QUIET"
