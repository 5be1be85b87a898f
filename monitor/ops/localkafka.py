"""A real single-node Apache Kafka (KRaft broker + controller) on 127.0.0.1, from Maven Central jars, no Docker."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from monitor.ops.kafkajars import KAFKA_VERSION, LocalKafkaError, fetch, find_java, kafka_home

__all__ = [
    "KAFKA_VERSION",
    "LocalKafkaError",
    "BrokerInfo",
    "kafka_home",
    "fetch",
    "start",
    "stop",
    "status",
    "wait_until_ready",
]

STATE_FILE = "broker.json"

_LOG4J = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
"""


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """A running local broker: its process, address and files."""

    pid: int
    bootstrap: str
    controller_port: int
    data_dir: str
    log_file: str
    version: str = KAFKA_VERSION


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _read_state(data_dir: Path) -> BrokerInfo | None:
    try:
        return BrokerInfo(**json.loads((data_dir / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _server_properties(data_dir: Path, port: int, controller_port: int) -> str:
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data_dir / 'logs'}",
        "num.partitions=4",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=8",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "transaction.state.log.num.partitions=4",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=true",
        # replays carry historical timestamps: time-based retention would delete them at once
        "log.retention.ms=-1",
        "",
    ])


def _cluster_id() -> str:
    """A random KRaft cluster id; like Kafka's own, never starting with '-' (the tool would read an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def start(data_dir: Path, *, port: int | None = 9092, timeout_s: float = 90.0, heap: str = "768m") -> BrokerInfo:
    """Format KRaft storage (first time) and start the broker detached; return once it answers metadata.

    ``port=None`` or ``0`` picks a free port. Raises LocalKafkaError with a clear reason on failure.
    """
    data_dir = Path(data_dir).resolve()
    running = status(data_dir)
    if running is not None:
        return running
    java = find_java()
    lib = fetch()
    if port:
        if not _port_is_free(port):
            raise LocalKafkaError(
                f"port {port} on 127.0.0.1 is busy (another Kafka? try `monitor kafka status`), "
                "or pass --port 0 to pick a free port"
            )
    else:
        port = _free_port()
    controller_port = _free_port()
    while controller_port == port:
        controller_port = _free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    props = data_dir / "server.properties"
    props.write_text(_server_properties(data_dir, port, controller_port))
    log4j = data_dir / "log4j.properties"
    log4j.write_text(_LOG4J)
    base = [java, f"-Dlog4j.configuration=file:{log4j}", "-cp", f"{lib}/*"]
    if not (data_dir / "logs" / "meta.properties").exists():
        cluster_id = _cluster_id()
        fmt = subprocess.run([*base, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
                             capture_output=True, text=True)
        if fmt.returncode != 0:
            raise LocalKafkaError(f"formatting KRaft storage in {data_dir} failed:\n{fmt.stdout}{fmt.stderr}")
    log_file = data_dir / "broker.log"
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(
            [java, "-Xms256m", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             *base[1:], "kafka.Kafka", str(props)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    info = BrokerInfo(pid=proc.pid, bootstrap=f"127.0.0.1:{port}", controller_port=controller_port,
                      data_dir=str(data_dir), log_file=str(log_file))
    (data_dir / STATE_FILE).write_text(json.dumps(asdict(info)))
    try:
        wait_until_ready(info.bootstrap, timeout_s=timeout_s, pid=proc.pid, log_file=log_file)
    except LocalKafkaError:
        _terminate(proc.pid, 10)
        (data_dir / STATE_FILE).unlink(missing_ok=True)
        raise
    return info


def wait_until_ready(bootstrap: str, *, timeout_s: float = 60.0, pid: int | None = None,
                     log_file: Path | None = None) -> None:
    """Poll until the broker answers a metadata request; fail fast if its process dies."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if pid is not None and not _pid_alive(pid):
            tail = Path(log_file).read_text(errors="replace")[-3000:] if log_file else ""
            raise LocalKafkaError(f"the Kafka broker exited during start-up; last lines of its log:\n{tail}")
        ok, last_error = answers_metadata(bootstrap)
        if ok:
            return
        time.sleep(0.5)
    raise LocalKafkaError(f"Kafka at {bootstrap} did not answer metadata requests within {timeout_s:.0f}s "
                          f"({last_error})")


def answers_metadata(bootstrap: str) -> tuple[bool, str]:
    """(True, "") when the cluster at ``bootstrap`` describes itself with at least one broker."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        # bounded: kafka-python would otherwise keep bootstrapping for 30 s before it gives up
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, bootstrap_timeout_ms=3000,
                                 client_id="monitor-probe")
    except (KafkaError, OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    try:
        cluster = admin.describe_cluster()
        return bool(cluster.get("brokers")), ""
    except (KafkaError, OSError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        admin.close()


def status(data_dir: Path) -> BrokerInfo | None:
    """The broker recorded in ``data_dir`` if its process is alive and it answers; else None."""
    info = _read_state(Path(data_dir).resolve())
    if info is None or not _pid_alive(info.pid):
        return None
    ok, _ = answers_metadata(info.bootstrap)
    return info if ok else None


def _terminate(pid: int, timeout_s: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            break
        time.sleep(0.2)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:  # reap it when it is our child (tests); harmless otherwise
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(data_dir: Path, *, timeout_s: float = 30.0) -> bool:
    """Stop the broker recorded in ``data_dir`` (SIGTERM, then SIGKILL); True if one was running."""
    data_dir = Path(data_dir).resolve()
    info = _read_state(data_dir)
    if info is None:
        return False
    was_alive = _pid_alive(info.pid)
    if was_alive:
        _terminate(info.pid, timeout_s)
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return was_alive
