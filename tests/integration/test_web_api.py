"""The worker's HTTP API against a real broker and a `monitor worker` subprocess."""

from __future__ import annotations

import subprocess
import sys

from kafkautil import consume_until
from webutil import TOKEN, base, poll, request


def monitor_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60)


class TestReadEndpoints:
    def test_store_city_lists_metrics_and_cli_describe_the_hidden_store(self, api_env, hidden_store) -> None:
        """A hidden store shows why, since when, its late and at-risk orders and its negativity; lists, the city,
        the metrics and `monitor store show/list` agree; bad requests get clear 4xx answers."""
        url = hidden_store
        status, body = request("GET", f"{url}/stores/rozy")
        view = body["cities"][0]
        assert (view["city"], view["hide_reason"], view["hidden_since"]) == (
            "Moscow", "HIDE_LATE_AND_AT_RISK", "2026-02-14T12:05:00+00:00")
        assert view["visibility"]["evidence"]["late"] == [f"rozy-l{i}" for i in range(5)]
        assert sorted(view["visibility"]["evidence"]["at_risk"]) == [f"rozy-r{i}" for i in range(3)]
        assert {o["order_id"] for o in view["orders"]["open"]} >= {"rozy-l0", "rozy-r0"}
        neg = poll("reviews counted", lambda: request("GET", f"{url}/stores/rozy")[1]["cities"][0]["negativity"],
                   lambda n: n is not None and n["reviews"] == 10)
        assert (neg["negative"], neg["share"]) == (2, 0.2)
        assert {d["kind"] for d in view["recent_decisions"]} >= {"hide", "store_hidden"}

        for page in ("/router/", "/table/store-state/", "/table/store-state/rozy/", "/graph/", "/stats/"):
            assert request("GET", f"{url}{page}")[0] == 404, page  # faust's own pages are off: no raw state

        status, body = request("GET", f"{url}/stores?hidden=true")
        assert status == 200 and [s["store_id"] for s in body["stores"]] == ["rozy"]
        assert body["scope"] == "local" and body["partitions"] == [0, 1]
        _, everything = request("GET", f"{url}/stores")
        assert {s["store_id"] for s in everything["stores"]} == {"rozy", "calm-store"}
        city = poll("city counted", lambda: request("GET", f"{url}/cities/Moscow"),
                    lambda r: r[0] == 200 and r[1]["negativity"] and r[1]["negativity"]["reviews"] == 10)[1]
        assert [s["store_id"] for s in city["hidden_stores"]] == ["rozy"]
        assert city["series"] == [{"day": "2026-02-14", "reviews": 10, "negative": 2, "share": 0.2}]

        assert request("GET", f"{url}/stores/nobody")[0] == 404
        assert request("GET", f"{url}/stores/rozy?city=Kazan")[1] == {"error": "no store 'rozy' in Kazan on record"}
        assert request("GET", f"{url}/stores?hidden=maybe")[0] == 400
        assert request("GET", f"{url}/cities/Atlantis")[0] == 404

        _, metrics = request("GET", f"{url}/metrics")
        lines = metrics.splitlines()
        assert f'monitor_input_events_total{{topic="{api_env["MONITOR_TOPIC_ORDER_STATUS"]}"}} 14' in lines
        assert f'monitor_input_events_total{{topic="{api_env["MONITOR_TOPIC_REVIEWS"]}"}} 10' in lines
        assert "monitor_hidden_stores 1" in lines
        assert 'monitor_alerts_total{kind="store_hidden",status="firing"} 1' in lines
        assert 'monitor_visibility_events_total{action="hide"} 1' in lines
        assert "monitor_ready 1" in lines
        assert any(line.startswith('monitor_event_processing_seconds_bucket{topic="') for line in lines)
        assert any(line.startswith("monitor_consumer_lag{") for line in lines)
        assert any(line.startswith('monitor_state_bytes{table="store-state"}') for line in lines)

        _, spec = request("GET", f"{url}/openapi.json")
        assert spec["openapi"].startswith("3.") and "/stores/{store_id}/restore" in spec["paths"]

        shown = monitor_cli(api_env, "store", "show", "rozy")
        assert shown.returncode == 0, shown.stderr
        assert "HIDDEN since 2026-02-14T12:05:00+00:00 (HIDE_LATE_AND_AT_RISK)" in shown.stdout
        listed = monitor_cli(api_env, "store", "list", "--hidden")
        assert listed.returncode == 0 and "rozy" in listed.stdout and "calm-store" not in listed.stdout
        missing = monitor_cli(api_env, "store", "show", "nobody")
        assert (missing.returncode, missing.stderr.strip()) == (1, "monitor: error: 404: no store 'nobody' on record")


class TestMutatingEndpoints:
    def test_restore_silences_and_acks_need_the_token_and_reach_kafka(self, api_env, hidden_store) -> None:
        """Without the right token nothing changes; with it, a restore reaches store-visibility and silences
        and acks reach the silences topic."""
        url = hidden_store
        restore = {"city": "Moscow", "by": "anna", "note": "partner called back"}
        assert request("POST", f"{url}/stores/rozy/restore", restore)[0] == 401
        assert request("POST", f"{url}/stores/rozy/restore", restore, token="wrong")[0] == 403
        status, body = request("POST", f"{url}/stores/rozy/restore", {"city": "Moscow", "by": "anna"}, token=TOKEN)
        assert (status, body["error"]) == (400, "field 'note' is required (a non-empty string)")
        assert request("POST", f"{url}/stores/calm-store/restore", restore, token=TOKEN)[0] == 409
        assert request("POST", f"{url}/stores/nobody/restore", restore, token=TOKEN)[0] == 404
        status, body = request("POST", f"{url}/stores/rozy/restore", restore, token=TOKEN)
        assert status == 202 and body["status"] == "sent"
        visibility = consume_until(api_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"],
                                   api_env["MONITOR_TOPIC_STORE_VISIBILITY"],
                                   lambda ms: any(m["json"]["action"] == "restore" for m in ms))
        restored = [m["json"] for m in visibility if m["json"]["action"] == "restore"][0]
        assert (restored["store_id"], restored["by"], restored["note"]) == ("rozy", "anna", "partner called back")
        poll("store visible", lambda: request("GET", f"{url}/stores/rozy")[1]["cities"][0]["hidden"],
             lambda hidden: hidden is False)

        silence = {"matchers": ["kind=negative_review", "city=Moscow"], "duration": "2h", "by": "anna",
                   "comment": "known courier strike"}
        assert request("POST", f"{url}/silences", silence)[0] == 401
        assert request("POST", f"{url}/silences", {**silence, "duration": "soon"}, token=TOKEN)[0] == 400
        assert request("POST", f"{url}/silences", {**silence, "matchers": ["kind"]}, token=TOKEN)[0] == 400
        status, created = request("POST", f"{url}/silences", silence, token=TOKEN)
        assert status == 201 and created["active"] and created["matchers"]["kind"] == ["negative_review"]
        sid = created["silence_id"]
        _, listed = request("GET", f"{url}/silences")
        assert [s["silence_id"] for s in listed["silences"]] == [sid]
        assert request("DELETE", f"{url}/silences/{sid}", token=TOKEN)[0] == 400  # who?
        assert request("DELETE", f"{url}/silences/nope?by=anna", token=TOKEN)[0] == 404
        status, expired = request("DELETE", f"{url}/silences/{sid}?by=anna", token=TOKEN)
        assert status == 200 and expired["expired"] and not expired["active"]
        assert request("GET", f"{url}/silences")[1]["silences"] == []

        assert request("POST", f"{url}/alerts/store_hidden:Moscow:rozy:1/ack", {"by": "anna"})[0] == 401
        status, _ = request("POST", f"{url}/alerts/store_hidden:Moscow:rozy:1/ack", {"by": "anna"}, token=TOKEN)
        assert status == 202
        control = consume_until(api_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], api_env["MONITOR_TOPIC_SILENCES"],
                                lambda ms: any(m["key"] == b"ack:store_hidden:Moscow:rozy:1" for m in ms))
        ack = [m["json"] for m in control if m["key"] == b"ack:store_hidden:Moscow:rozy:1"][0]
        assert (ack["type"], ack["by"]) == ("ack", "anna")


class TestRestoreCommand:
    def test_restore_of_an_unknown_or_visible_store_fails_and_a_hidden_one_is_sent(self, api_env,
                                                                                    hidden_store) -> None:
        """`monitor store restore` asks the worker first: an unknown store or a visible one fails with exit 1 and a
        one-line reason (nothing is sent); the hidden store's restore is sent."""
        for store, why in (("no-such-store", "knows no such store"), ("calm-store", "not hidden")):
            out = monitor_cli(api_env, "store", "restore", store, "--city", "Moscow", "--by", "anna", "--note",
                              "called", "--url", hidden_store)
            assert out.returncode == 1 and why in out.stderr and len(out.stderr.strip().splitlines()) == 1, out
        out = monitor_cli(api_env, "store", "restore", "rozy", "--city", "Moscow", "--by", "anna", "--note",
                          "called", "--url", hidden_store)
        assert out.returncode == 0 and "sent" in out.stdout, out.stderr


class TestHealth:
    def test_health_is_503_until_the_worker_is_ready(self, api_env, start_worker) -> None:
        """Before assignment and recovery /health answers 503 with a reason; then 200."""
        start_worker(api_env)
        url = base(api_env)
        first = poll("web server up", lambda: request("GET", f"{url}/health"), lambda r: isinstance(r, tuple))
        seen = [first]
        ready = poll("ready", lambda: seen.append(request("GET", f"{url}/health")) or seen[-1],
                     lambda r: r[0] == 200)
        assert ready[1]["status"] == "ready"
        not_ready = [r for r in seen if r[0] != 200]
        assert all(r[0] == 503 and r[1]["reason"] for r in not_ready)


class TestRequestBudget:
    READS = ("/silences", "/silences?all=true", "/stores/rozy", "/stores", "/cities", "/dashboard/data", "/health",
             "/metrics")

    def test_reads_answer_from_memory_and_cannot_slow_a_restore(self, api_env, hidden_store) -> None:
        """160 reads from 24 clients at once, 20 of each read endpoint: each answers within 1 s and 95% within
        0.3 s (one GET /silences used to read Kafka for about 2 s), and a restore sent in the middle of them is
        accepted within 2 s (12 reads of /silences once slowed one to 4 s)."""
        import time
        from concurrent.futures import ThreadPoolExecutor

        url = hidden_store
        poll("silences read", lambda: request("GET", f"{url}/silences"), lambda r: r[0] == 200)

        def timed(path: str) -> tuple[str, int, float]:
            started = time.monotonic()
            status, _ = request("GET", f"{url}{path}")
            return path, status, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=24) as pool:
            reads = [pool.submit(timed, path) for _ in range(20) for path in self.READS]
            started = time.monotonic()
            status, body = request("POST", f"{url}/stores/rozy/restore",
                                   {"city": "Moscow", "by": "anna", "note": "called"}, token=TOKEN)
            restore_s = time.monotonic() - started
            results = [f.result() for f in reads]
        assert status == 202 and body["status"] == "sent"
        assert all(code == 200 for _, code, _ in results), [r for r in results if r[1] != 200][:5]
        latencies = sorted(s for _, _, s in results)
        slowest = max(results, key=lambda r: r[2])
        print(f"reads p50 {latencies[len(latencies) // 2]:.3f}s p95 {latencies[int(len(latencies) * 0.95)]:.3f}s "
              f"max {slowest}; restore {restore_s:.3f}s")
        assert latencies[-1] < 1.0, slowest
        assert latencies[int(len(latencies) * 0.95)] < 0.3, latencies[-10:]
        assert restore_s < 2.0, restore_s
