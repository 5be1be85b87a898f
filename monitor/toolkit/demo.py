"""`monitor demo`: a generated marketplace day replayed through a local broker, a worker and a dispatcher, scored."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from monitor.ops import localkafka
from monitor.settings import Settings
from monitor.toolkit.demo_day import build_day, demo_config, shift_to_ms_for, shift_truth
from monitor.toolkit.demo_report import (
    alert_lines,
    dead_letter_lines,
    hide_lines,
    incident_lines,
    message_lines,
    score_lines,
)

__all__ = ["run_demo"]

# The demo's dispatcher delivers everything to the log channel: one message per alert kind and city every few
# seconds at most, and no rate limit to speak of (a whole day arrives in seconds).
DEMO_DISPATCH = """
default_receivers = ["on-call"]

[receivers.on-call]
type = "log"
language = "{lang}"
rate_limit_per_min = 6000

[[routes]]
matchers = {{ kind = "~.+" }}
receivers = ["on-call"]
group_wait_ms = 2000
group_interval_ms = 5000
group_by = ["kind", "city"]
"""
_ROLES = ("ORDER_STATUS", "REVIEWS", "STORE_COMMANDS", "STORE_VISIBILITY", "ALERTS", "DEAD_LETTERS", "SILENCES")


def _say(text: str = "", lines: Sequence[str] = (), indent: str = "    ") -> None:
    if text:
        print(text, flush=True)
    for line in lines:
        print(indent + line, flush=True)


def _demo_env(settings: Settings, bootstrap: str, run_dir: Path, run_id: str, lang: str) -> dict[str, str]:
    """Environment of the demo's worker and dispatcher: own app id, data dir and topics for this run."""
    env = {**os.environ, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "MONITOR_LOG_FORMAT": "json",
           "MONITOR_DATA_DIR": str(run_dir / "data"), "MONITOR_APP_ID": f"quality-monitor-demo-{run_id}",
           "MONITOR_WEB_ENABLED": "false"}
    dispatch_toml = run_dir / "dispatch.toml"
    dispatch_toml.write_text(DEMO_DISPATCH.format(lang=lang))
    env["MONITOR_DISPATCH_CONFIG"] = str(dispatch_toml)
    for role in _ROLES:
        env[f"MONITOR_TOPIC_{role}"] = f"{getattr(settings, f'topic_{role.lower()}')}-demo-{run_id}"
    return env


def _spawn(command: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A monitor subprocess in its own session, so Ctrl-C reaches only the demo, which stops it in order."""
    with open(log_path, "wb") as log_file:
        return subprocess.Popen([sys.executable, "-m", "monitor.cli", command], env=env, stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_until_committed(bootstrap: str, group: str, targets: Mapping[tuple[str, int], int],
                          procs: Sequence[subprocess.Popen[bytes]], *, label: str, timeout_s: float) -> float:
    """Wait until ``group`` has committed every partition up to ``targets``, printing progress to stderr."""
    from kafka.errors import KafkaError

    from monitor.toolkit.lag import committed_offsets, remaining

    start = time.monotonic()
    total = sum(targets.values())
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a demo process exited with {proc.returncode}; see its log")
        try:
            left = remaining(targets, committed_offsets(bootstrap, group))
        except KafkaError:
            left = total  # the group is still forming
        end = "\n" if left == 0 or not sys.stderr.isatty() else "\r"
        print(f"    {label}: {total - left:,} of {total:,} ({time.monotonic() - start:.0f}s)", end=end,
              file=sys.stderr, flush=True)
        if left == 0:
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"{label}: not done within {timeout_s:.0f}s")
        time.sleep(1.0)


def _read_topics(bootstrap: str, topics: Sequence[str], out: Path) -> dict[str, list[dict[str, Any]]]:
    """Dump ``topics`` to ``out`` with the replay toolkit and return their values by topic."""
    from monitor.toolkit.dump import dump_topics
    from monitor.toolkit.jsonl import read_records

    dump_topics(bootstrap, topics, out, progress=False)
    got: dict[str, list[dict[str, Any]]] = {t: [] for t in topics}
    for rec in read_records(out):
        if isinstance(rec.get("value"), dict):
            got[rec["topic"]].append(rec["value"])
    return got


def _notifications(log_path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in log_path.read_bytes().splitlines():
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(line, dict) and line.get("event") == "alert_notification":
            out.append(line)
    return out


def _stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def backtest_hint(data: Path, run_dir: Path) -> str:
    """The ``monitor backtest`` command that compares the rules in force with two variants on the demo's day."""
    return (f"monitor backtest {shlex.quote(str(data))} --truth {shlex.quote(str(data.with_suffix('.truth.json')))} "
            "--variant '4 + 2:hide_min_late=4,hide_min_late_plus_at_risk=6' "
            f"--variant 'negativity 3%:negativity_threshold=0.03' --out {shlex.quote(str(run_dir / 'backtest'))}")


def run_demo(settings: Settings, *, keep: bool = False, port: int = 0, lang: str = "en",
             bootstrap: str | None = None, seed: int = 1) -> int:
    """Start a broker (unless ``bootstrap`` is given), a worker and a dispatcher; replay a generated day as fast
    as possible, moved to end now; print the decisions, the delivered messages and the score; clean up."""
    from monitor.toolkit.lag import end_offsets
    from monitor.toolkit.replay import replay_file
    from monitor.toolkit.score import score
    from monitor.worker.topicnames import internal_topic_names

    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = (settings.data_dir / "demo" / run_id).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    kafka_dir = settings.data_dir / "kafka"
    stop_kafka = False
    procs: list[subprocess.Popen[bytes]] = []
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if bootstrap is None:
            _say(f"1/6 Starting Kafka {localkafka.KAFKA_VERSION} (KRaft, 127.0.0.1; data in {kafka_dir}) ...")
            stop_kafka = localkafka.status(kafka_dir) is None
            bootstrap = localkafka.start(kafka_dir, port=port).bootstrap
        else:
            _say(f"1/6 Using the Kafka broker at {bootstrap}")
        env = _demo_env(settings, bootstrap, run_dir, run_id, lang)
        settings = Settings.load(environ=env)
        _say(f"2/6 Starting a monitor worker (decides) and an alert dispatcher (delivers); logs in {run_dir}")
        procs = [_spawn("dispatcher", env, run_dir / "dispatcher.log"), _spawn("worker", env, run_dir / "worker.log")]

        day = build_day(demo_config(seed=seed))
        now_ms = int(time.time()) // 60 * 60_000  # whole minutes: the moved times stay readable
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        shift_to_ms = shift_to_ms_for(day, now_ms)
        truth = shift_truth(day.truth, timedelta(milliseconds=now_ms - day.end_ms))
        data = run_dir / "day.jsonl"
        data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in day.records))
        data.with_suffix(".truth.json").write_bytes(orjson.dumps(day.truth, option=orjson.OPT_INDENT_2))
        _say(f"3/6 Generated one marketplace day (seed {seed}): {day.orders:,} orders at {day.stores} stores in "
             f"{len(day.config.cities)} cities, {len(day.records):,} order-status and review messages, one of "
             "them deliberately broken. Moved to end now, it has these injected incidents:",
             incident_lines(truth, now))

        _say("4/6 Replaying the day as fast as possible with the replay toolkit (`monitor replay`) ...")
        topic_map = {"order-status": settings.topic_order_status, "reviews": settings.topic_reviews}
        replay_file(bootstrap, data, shift_to_ms=shift_to_ms, topic_map=topic_map)
        # Everything replayed is read, then everything it was repartitioned into (not the heartbeats after).
        took = _wait_until_committed(bootstrap, settings.app_id, end_offsets(bootstrap, list(topic_map.values())),
                                     procs, label="worker read input messages", timeout_s=300)
        took += _wait_until_committed(bootstrap, settings.app_id,
                                      end_offsets(bootstrap, internal_topic_names(settings.app_id)), procs,
                                      label="worker applied repartitioned messages to its state", timeout_s=300)
        _say(f"    the worker caught up {took:.0f}s after the replay")

        out = _read_topics(bootstrap, [settings.topic_store_visibility, settings.topic_alerts,
                                       settings.topic_dead_letters], run_dir / "out.jsonl")
        visibility, alerts = out[settings.topic_store_visibility], out[settings.topic_alerts]
        _say("5/6 What the monitor published:")
        _say("  store-visibility: stores hidden from customers, with the reason and the evidence",
             hide_lines(visibility, now) or ["(none)"])
        _say("  alerts: counted by kind", alert_lines(alerts))
        _say("  dead-letters: input the worker could not use (it kept going)",
             dead_letter_lines(out[settings.topic_dead_letters]) or ["(none)"])

        _wait_until_committed(bootstrap, f"{settings.app_id}-dispatcher",
                              end_offsets(bootstrap, [settings.topic_alerts]), procs,
                              label="dispatcher settled alerts", timeout_s=120)
        _say("6/6 What the dispatcher delivered to the on-call log channel:",
             message_lines(_notifications(run_dir / "dispatcher.log")))

        result = score(truth, visibility, alerts)
        _say("\nScore against the generator's ground truth (`monitor score`):", score_lines(result))
        print(f"\nOther rules on this day, in seconds and without a broker: {backtest_hint(data, run_dir)}")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave processes behind
        try:
            if keep:
                pids = ", ".join(str(p.pid) for p in procs)
                print(f"dispatcher and worker (pids {pids}) and Kafka ({bootstrap}) keep running; stop them with "
                      "`kill` and `monitor kafka stop`")
            else:
                _stop(procs)
                if stop_kafka:
                    localkafka.stop(kafka_dir)
                print(f"stopped the worker and the dispatcher{' and Kafka' if stop_kafka else ''}")
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous_term)
