"""`monitor dispatcher` against the real broker and real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from conftest import free_port
from kafkautil import consume_until, produce

from monitor.toolkit.lag import wait_for_zero_lag

SECRET = "hmac-secret-123"


class Receiver:
    """An aiohttp server in a thread that records POSTs per path; ``fail[path]`` 500s to answer first."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: dict[str, list[dict]] = {}
        self.fail: dict[str, int] = {}
        self.hang: set[str] = set()  # paths whose requests are held open and never answered
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    def _run(self) -> None:
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            self.requests.setdefault(request.path, []).append({"body": body, "headers": dict(request.headers),
                                                               "at": time.monotonic()})
            if request.path in self.hang:
                await asyncio.Event().wait()
            if self.fail.get(request.path, 0) > 0:
                self.fail[request.path] -= 1
                return web.Response(status=500, text="try later")
            return web.json_response({"ok": True})

        async def main() -> None:
            app = web.Application()
            app.router.add_post("/{tail:.*}", handle)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            while True:
                await asyncio.sleep(3600)  # the point: keep the server's loop alive until the process ends

        asyncio.run(main())

    def bodies(self, path: str) -> list[dict]:
        return [orjson.loads(r["body"]) for r in self.requests.get(path, [])]

    def wait(self, path: str, count: int, timeout_s: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.requests.get(path, [])) >= count:
                return self.bodies(path)
            time.sleep(0.1)  # the polling interval of this wait
        raise AssertionError(f"{path}: {len(self.requests.get(path, []))} requests, wanted {count}")


def alert(alert_id: str, kind: str, status: str = "firing", store: str | None = "s-1", summary: str = "x",
          **details) -> tuple:
    return (alert_id, {"alert_id": alert_id, "kind": kind, "severity": "warning", "status": status,
                       "store_id": store, "city": "Moscow", "summary": summary, "details": details,
                       "at": datetime(2026, 2, 14, 12, tzinfo=UTC).isoformat()})


CONFIG = """
retry_attempts = 3
retry_base_ms = 100
default_receivers = ["log"]

[receivers.log]
type = "log"

[receivers.oncall]
type = "webhook"
url = "http://127.0.0.1:{port}/oncall"
secret = "env:TEST_HOOK_SECRET"

[receivers.reviews]
type = "webhook"
url = "http://127.0.0.1:{port}/reviews"

[receivers.dead]
type = "webhook"
url = "http://127.0.0.1:{dead_port}/never"

[[routes]]
matchers = {{ kind = ["store_hidden"] }}
receivers = ["oncall", "dead"]
group_wait_ms = 0
group_interval_ms = 1000
repeat_interval_ms = {repeat_ms}

[[routes]]
matchers = {{ kind = ["negative_review"] }}
receivers = ["reviews"]
group_wait_ms = 2000
group_by = ["kind", "city", "store_id"]

[[routes]]
matchers = {{ kind = ["order_late"] }}
receivers = ["oncall"]
group_wait_ms = 0
"""


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def dispatcher_env(monitor_env, receiver, tmp_path: Path):
    def make(repeat_ms: int = 3_600_000) -> dict:
        cfg = tmp_path / "dispatch.toml"
        cfg.write_text(CONFIG.format(port=receiver.port, dead_port=free_port(), repeat_ms=repeat_ms))
        return {**monitor_env, "MONITOR_DISPATCH_CONFIG": str(cfg), "TEST_HOOK_SECRET": SECRET,
                "MONITOR_TOPIC_SILENCES": f"silences-{monitor_env['MONITOR_APP_ID']}"}
    return make


class Dispatcher:
    """A `monitor dispatcher` subprocess; every one started is stopped at the end of the session."""

    started: list[Dispatcher] = []

    def __init__(self, env: dict, log: Path) -> None:
        self._log = open(log, "ab")
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "dispatcher"], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        Dispatcher.started.append(self)

    def wait_for_log(self, event: str, timeout_s: float = 60.0, **match: object) -> dict:
        """The first JSON log line of ``event`` whose fields equal ``match``, once it is written."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for raw in self.log.read_bytes().splitlines():
                try:
                    line = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if line.get("event") == event and all(line.get(k) == v for k, v in match.items()):
                    return line
            if self.proc.poll() is not None:
                raise AssertionError(f"dispatcher exited {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.2)  # the polling interval of this wait
        raise AssertionError(f"no log event {event!r} {match} within {timeout_s}s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(autouse=True)
def _stop_dispatchers():
    """No dispatcher outlives its test, even when the test fails half-way."""
    yield
    while Dispatcher.started:
        Dispatcher.started.pop().stop()


class TestDelivery:
    def test_routing_grouping_retry_signature_and_dead_letters(self, dispatcher_env, receiver, tmp_path) -> None:
        """store_hidden reaches on-call once despite two 500s (signed); 10 reviews of a store make one message;
        a receiver that is down for good ends in dead-letters while the others get theirs."""
        env = dispatcher_env()
        receiver.fail["/oncall"] = 2
        d = Dispatcher(env, tmp_path / "d.log")
        try:
            produce(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_ALERTS"],
                    [alert("store_hidden:Moscow:s-1:1", "store_hidden", late=5, at_risk=3, incident=1)]
                    + [alert(f"negative_review:Moscow:s-1:r{i}", "negative_review", review_id=f"r{i}", rating=1,
                             text="bad", order_id=f"o{i}") for i in range(10)])
            receiver.wait("/oncall", 3)
            sent = d.wait_for_log("notification_sent", receiver="oncall", alert_ids=["store_hidden:Moscow:s-1:1"])
            assert sent["attempts"] == 3  # the delivery is over: no further attempt can follow
            oncall = receiver.requests["/oncall"]
            assert len(oncall) == 3  # 500, 500, 200: one message delivered, nothing more
            assert len({r["body"] for r in oncall}) == 1  # the same body every time
            body = oncall[-1]["body"]
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert oncall[-1]["headers"]["X-Monitor-Signature"] == expected
            assert orjson.loads(body)["alert_ids"] == ["store_hidden:Moscow:s-1:1"]
            reviews = receiver.wait("/reviews", 1)
            assert len(reviews) == 1 and len(reviews[0]["alert_ids"]) == 10
            letters = consume_until(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_DEAD_LETTERS"],
                                    lambda ms: len(ms) >= 1)
            assert "receiver dead" in letters[0]["json"]["error"]
            assert SECRET not in d.log.read_text()
        finally:
            assert d.stop() == 0

    def test_dedup_repeat_resolve_and_restart(self, dispatcher_env, receiver, tmp_path) -> None:
        """An unchanged firing alert is not resent until repeat_interval; resolved is sent; after a restart
        nothing is sent twice and new alerts still arrive."""
        env = dispatcher_env(repeat_ms=4000)
        boot, topic = env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_ALERTS"]
        d = Dispatcher(env, tmp_path / "d1.log")
        hidden = alert("store_hidden:Moscow:s-9:1", "store_hidden", store="s-9", late=6, at_risk=2)
        produce(boot, topic, [hidden])
        receiver.wait("/oncall", 1)
        produce(boot, topic, [hidden])  # the same alert again: a duplicate
        receiver.wait("/oncall", 2, timeout_s=15)  # repeat_interval (4 s) passed: sent again
        first, repeat = receiver.requests["/oncall"][:2]
        # the duplicate was not sent: the second message is the repeat, a whole repeat_interval after the first
        assert repeat["at"] - first["at"] >= 3.9, repeat["at"] - first["at"]
        resolved = alert("store_hidden:Moscow:s-9:1", "store_hidden", status="resolved", store="s-9")
        produce(boot, topic, [resolved])
        bodies = receiver.wait("/oncall", 3)
        assert bodies[2]["alerts"][0]["status"] == "resolved"
        assert d.stop() == 0
        sent_before = len(receiver.requests["/oncall"])
        d2 = Dispatcher(env, tmp_path / "d2.log")
        try:
            produce(boot, topic, [alert("order_late:Moscow:s-9:o1", "order_late", store="s-9", order_id="o1")])
            bodies = receiver.wait("/oncall", sent_before + 1)
            # d2 has settled (sent or skipped) every alert it read, old ones too had it read them again
            wait_for_zero_lag(boot, f"{env['MONITOR_APP_ID']}-dispatcher", [topic], timeout_s=60, poll_s=0.5, hops=1)
            assert len(receiver.requests["/oncall"]) == sent_before + 1  # nothing old re-sent
            assert bodies[-1]["alert_ids"] == ["order_late:Moscow:s-9:o1"]
        finally:
            d2.stop()

    def test_silenced_alert_is_sent_after_the_silence_if_still_firing(self, dispatcher_env, receiver,
                                                                       tmp_path) -> None:
        """A silenced alert is held while the silence lasts and delivered once it expires."""
        env = dispatcher_env()
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "silence", "add", "--match", "kind=order_late",
                               "--duration", "6s", "--by", "anna", "--comment", "courier strike, known"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        d = Dispatcher(env, tmp_path / "d.log")
        try:
            started = time.monotonic()
            produce(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_ALERTS"],
                    [alert("order_late:Moscow:s-2:o7", "order_late", store="s-2", order_id="o7")])
            receiver.wait("/oncall", 1, timeout_s=30)
            assert time.monotonic() - started > 2  # held back while the silence lasted
            assert "alert_silenced" in d.log.read_text()
            listing = subprocess.run([sys.executable, "-m", "monitor.cli", "silence", "list", "--all"], env=env,
                                     capture_output=True, text=True, timeout=60)
            assert "courier strike" in listing.stdout
        finally:
            d.stop()


class TestStopping:
    def test_sigterm_stops_within_seconds_while_a_send_hangs_and_a_regex_is_hostile(
            self, dispatcher_env, receiver, tmp_path) -> None:
        """A receiver that never answers holds a send, and a silence `city=~(a+)+$` meets an alert whose city
        is 'aaa…a!' (the pattern that hung a backtracking engine): other alerts are still delivered, SIGTERM
        ends the dispatcher within a few seconds with exit 0, and the held alert is sent after a restart (it
        was never committed)."""
        env = dispatcher_env()
        boot, topic = env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_TOPIC_ALERTS"]
        produce(boot, env["MONITOR_TOPIC_SILENCES"], [("silence:evil", {
            "silence_id": "evil", "matchers": {"city": "~(a+)+$"}, "created_by": "mallory", "comment": "x",
            "starts_at_ms": 0, "ends_at_ms": 4_102_444_800_000})])
        receiver.hang.add("/oncall")
        d = Dispatcher(env, tmp_path / "d1.log")
        try:
            hostile = alert("negative_review:evil:s-3:r1", "negative_review", store="s-3", review_id="r1",
                            rating=1, text="x", order_id="o1")
            hostile[1]["city"] = "a" * 199 + "!"  # the longest city the contract allows
            produce(boot, topic, [alert("store_hidden:Moscow:s-1:1", "store_hidden", late=5, at_risk=3),
                                  hostile])
            receiver.wait("/oncall", 1)  # the send is in flight and will never be answered
            reviews = receiver.wait("/reviews", 1)  # the hostile city went through the matcher and was sent
            assert reviews[0]["alert_ids"] == ["negative_review:evil:s-3:r1"]
            started = time.monotonic()
            d.proc.terminate()
            assert d.proc.wait(15) == 0
            assert time.monotonic() - started < 8
        finally:
            d.stop()
        receiver.hang.clear()
        d2 = Dispatcher(env, tmp_path / "d2.log")
        try:
            sent = receiver.wait("/oncall", 2)
            assert sent[-1]["alert_ids"] == ["store_hidden:Moscow:s-1:1"]
        finally:
            d2.stop()
