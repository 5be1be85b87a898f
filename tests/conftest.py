"""Shared fixtures: one real Kafka broker per test session, unique names per test, worker subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from monitor.ops import localkafka


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real broker: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else a local one we start.

    If the broker cannot start, every test that needs it errors: nothing is skipped.
    """
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        ok, error = localkafka.answers_metadata(external)
        if not ok:
            raise RuntimeError(f"KAFKA_BOOTSTRAP_SERVERS={external} does not answer: {error}")
        yield external
        return
    data_dir = tmp_path_factory.mktemp("kafka")
    info = localkafka.start(data_dir, port=0, timeout_s=120)
    try:
        yield info.bootstrap
    finally:
        localkafka.stop(data_dir)


@pytest.fixture
def unique() -> str:
    """A short suffix that makes topic names, app ids and groups unique to one test."""
    return uuid.uuid4().hex[:10]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def monitor_env(kafka_bootstrap: str, unique: str, tmp_path: Path) -> dict[str, str]:
    """Environment for a monitor process with its own topics, app id, data dir and web port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.update({
        "MONITOR_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONITOR_APP_ID": f"qm-test-{unique}",
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_WEB_PORT": str(free_port()),
        "MONITOR_PARTITIONS": "2",
        "MONITOR_LOG_FORMAT": "json",
        "MONITOR_TOPIC_ORDER_STATUS": f"order-status-{unique}",
        "MONITOR_TOPIC_REVIEWS": f"reviews-{unique}",
        "MONITOR_TOPIC_STORE_COMMANDS": f"store-commands-{unique}",
        "MONITOR_TOPIC_STORE_VISIBILITY": f"store-visibility-{unique}",
        "MONITOR_TOPIC_ALERTS": f"alerts-{unique}",
        "MONITOR_TOPIC_DEAD_LETTERS": f"dead-letters-{unique}",
    })
    return env


MONITOR_COMMAND = (sys.executable, "-m", "monitor.cli")
# `monitor` with rules that raise for some stores (tests/faulty_worker.py): start_worker(..., command=FAULTY_COMMAND)
FAULTY_COMMAND = (sys.executable, str(Path(__file__).resolve().parent / "faulty_worker.py"))


class WorkerProcess:
    """A ``monitor worker`` subprocess with its log captured to a file; ``command`` runs ``monitor`` (another
    launcher of ``monitor.cli.main``, such as ``FAULTY_COMMAND``, may stand in for it)."""

    def __init__(self, env: dict[str, str], log_path: Path, args: tuple[str, ...] = (),
                 command: tuple[str, ...] = MONITOR_COMMAND) -> None:
        self.env = env
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([*command, "worker", *args], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def log_lines(self) -> list[dict]:
        out = []
        for line in self.log_path.read_bytes().splitlines():
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                out.append({"event": line.decode(errors="replace")})
        return out

    def wait_for_log(self, event: str, timeout_s: float = 60.0, **match: object) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.log_lines():
                if line.get("event") == event and all(line.get(k) == v for k, v in match.items()):
                    return line
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited {self.proc.returncode}:\n{self.log_path.read_text()[-4000:]}")
            time.sleep(0.2)  # the polling interval of this wait
        raise AssertionError(f"no log event {event!r} {match} within {timeout_s}s:\n"
                             f"{self.log_path.read_text()[-4000:]}")

    def kill(self) -> int:
        """SIGKILL: no shutdown, no commit, no flush (a crash)."""
        self.proc.kill()
        self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: start ``monitor worker`` subprocesses; all are stopped at the end of the test."""
    workers: list[WorkerProcess] = []

    def start(env: dict[str, str], name: str = "worker", args: tuple[str, ...] = (),
              command: tuple[str, ...] = MONITOR_COMMAND) -> WorkerProcess:
        w = WorkerProcess(env, tmp_path / f"{name}-{len(workers)}.log", args, command)
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.stop()


@pytest.fixture
def api_env(monitor_env: dict[str, str], unique: str) -> dict[str, str]:
    """The test's environment with an API token and its own silences topic (web tests)."""
    from webutil import TOKEN

    return {**monitor_env, "MONITOR_API_TOKEN": TOKEN, "MONITOR_TOPIC_SILENCES": f"alert-silences-{unique}"}


@pytest.fixture
def hidden_store(api_env: dict[str, str], start_worker: Callable[..., WorkerProcess]) -> str:
    """A worker that has hidden store ``rozy`` (Moscow) and counted 10 reviews; returns its base URL."""
    from kafkautil import produce
    from webutil import base, poll, request, scenario

    orders, reviews = scenario("rozy")
    bootstrap = api_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
    produce(bootstrap, api_env["MONITOR_TOPIC_ORDER_STATUS"], orders)
    produce(bootstrap, api_env["MONITOR_TOPIC_REVIEWS"], reviews)
    start_worker(api_env)
    url = base(api_env)
    poll("worker ready", lambda: request("GET", f"{url}/health"), lambda r: r[0] == 200)
    poll("store hidden", lambda: request("GET", f"{url}/stores/rozy"),
         lambda r: r[0] == 200 and r[1]["cities"][0]["hidden"])
    return url
