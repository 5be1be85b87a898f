"""`monitor demo`: a local broker, a worker and a small marketplace story, then what the monitor made of it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from monitor import localkafka
from monitor.settings import Settings

__all__ = ["run_demo", "demo_story"]

# The dispatcher of the demo delivers to the log channel, grouping per store for a second.
DEMO_DISPATCH = """
default_receivers = ["on-call"]

[receivers.on-call]
type = "log"
language = "{lang}"

[[routes]]
matchers = {{ kind = "~.+" }}
receivers = ["on-call"]
group_wait_ms = 1500
group_by = ["kind", "city", "store_id"]
"""


def _order(order_id: str, store: str, city: str, status: str, at: datetime, promised: datetime,
           seq: int) -> tuple[str, str, dict[str, Any]]:
    return ("order-status", order_id, {
        "event_id": f"{order_id}-{seq}-{status}", "order_id": order_id, "store_id": store, "city": city,
        "status": status, "promised_at": promised.isoformat(), "occurred_at": at.isoformat(),
    })


def demo_story(now: datetime) -> list[tuple[str, str, Any]]:
    """(topic role, key, value) in order: a healthy store, a failing store, a review and a broken message."""
    events: list[tuple[str, str, Any]] = []
    start = now - timedelta(hours=5)
    # Tsvetochki (Moscow) delivers on time.
    for i in range(3):
        oid = f"demo-ok-{i}"
        created = start + timedelta(minutes=10 * i)
        promised = created + timedelta(hours=3)
        for seq, (status, offset_min) in enumerate(
            [("created", 0), ("accepted", 4), ("assembled", 40), ("in_delivery", 70), ("delivered", 130)]
        ):
            events.append(_order(oid, "tsvetochki", "Moscow", status, created + timedelta(minutes=offset_min),
                                 promised, seq))
    # Rozy-Express (Moscow) takes orders and then stops delivering: 6 orders are past their deadline and
    # 3 fresh ones are not in delivery with less than an hour to go (5 late + 3 at risk hides a store).
    for i in range(9):
        oid = f"demo-late-{i}"
        created = start + timedelta(minutes=5 * i) if i < 6 else now - timedelta(minutes=12 - i)
        promised = created + timedelta(hours=2) if i < 6 else now + timedelta(minutes=50)
        events.append(_order(oid, "rozy-express", "Moscow", "created", created, promised, 0))
        events.append(_order(oid, "rozy-express", "Moscow", "accepted", created + timedelta(minutes=3),
                             promised, 1))
    events.append(("reviews", "demo-review-1", {
        "review_id": "demo-review-1", "order_id": "demo-ok-0", "store_id": "tsvetochki", "city": "Moscow",
        "rating": 5, "text": "Beautiful roses, on time", "created_at": (now - timedelta(hours=1)).isoformat(),
    }))
    # Lilia (Kazan): 25 reviews this week, 3 of them 1-star: 12% negative, above the 2% level.
    for i in range(25):
        bad = i % 8 == 3
        events.append(("reviews", f"demo-lilia-{i}", {
            "review_id": f"demo-lilia-{i}", "order_id": f"demo-lilia-order-{i}", "store_id": "lilia",
            "city": "Kazan", "rating": 1 if bad else 5,
            "text": "Курьер опоздал на три часа, цветы завяли" if bad else "Спасибо, всё отлично!",
            "created_at": (now - timedelta(days=7) + timedelta(hours=6 * i)).isoformat(),
        }))
    events.append(("order-status", "demo-broken", b'{"order_id": "demo-broken", "status": '))
    return events


def _topic_for(settings: Settings, role: str) -> str:
    return {"order-status": settings.topic_order_status, "reviews": settings.topic_reviews}[role]


def _print_outputs(settings: Settings) -> None:
    """Print the output topics: visibility changes, then alerts by severity, then dead letters."""
    from kafka import KafkaConsumer

    topics = [settings.topic_store_visibility, settings.topic_alerts, settings.topic_dead_letters]
    consumer = KafkaConsumer(*topics, bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    got: dict[str, list[dict[str, Any]]] = {t: [] for t in topics}
    try:
        for m in consumer:
            got[m.topic].append(orjson.loads(m.value))
    finally:
        consumer.close()
    for v in got[settings.topic_store_visibility]:
        print(f"  store-visibility  {v['action'].upper()} {v['store_id']} ({v['city']}): {v['reason']}, "
              f"{v.get('late')} late + {v.get('at_risk')} at risk")
    rank = {"critical": 0, "warning": 1, "info": 2}
    for a in sorted(got[settings.topic_alerts], key=lambda a: (rank[a["severity"]], a["kind"], a["at"])):
        print(f"  alerts            {a['severity']:8} {a['kind']:17} {a['summary']}")
    for d in got[settings.topic_dead_letters]:
        print(f"  dead-letters      {d['error']}")


def run_demo(settings: Settings, *, keep: bool = False, port: int = 0, lang: str = "en") -> int:
    """Start broker, worker and dispatcher, feed the story, print the decisions, outputs and messages."""
    from kafka import KafkaProducer

    demo_dir = settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    print(f"1/5 starting Kafka {localkafka.KAFKA_VERSION} (KRaft, 127.0.0.1) in {settings.data_dir / 'kafka'} ...")
    kafka_dir = settings.data_dir / "kafka"
    we_started_kafka = localkafka.status(kafka_dir) is None
    info = localkafka.start(kafka_dir, port=port)
    print(f"    bootstrap servers: {info.bootstrap}")
    run_id = datetime.now(UTC).strftime("%H%M%S")
    env = {**os.environ, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": info.bootstrap, "MONITOR_LOG_FORMAT": "json",
           "MONITOR_DATA_DIR": str(demo_dir / run_id), "MONITOR_APP_ID": f"quality-monitor-demo-{run_id}"}
    dispatch_toml = demo_dir / f"dispatch-{run_id}.toml"
    dispatch_toml.write_text(DEMO_DISPATCH.format(lang=lang))
    env["MONITOR_DISPATCH_CONFIG"] = str(dispatch_toml)
    for role in ("ORDER_STATUS", "REVIEWS", "STORE_COMMANDS", "STORE_VISIBILITY", "ALERTS", "DEAD_LETTERS",
                 "SILENCES"):
        default = getattr(settings, f"topic_{role.lower()}")
        env[f"MONITOR_TOPIC_{role}"] = f"{default}-demo-{run_id}"
    settings = Settings.load(environ=env)
    log_path = demo_dir / f"worker-{run_id}.log"
    dispatch_log = demo_dir / f"dispatcher-{run_id}.log"
    print(f"2/5 starting a monitor worker and an alert dispatcher (logs: {log_path}, {dispatch_log}) ...")
    with open(log_path, "wb") as log_file:
        worker = subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], env=env,
                                  stdout=log_file, stderr=subprocess.STDOUT)
    with open(dispatch_log, "wb") as log_file:
        dispatcher = subprocess.Popen([sys.executable, "-m", "monitor.cli", "dispatcher"], env=env,
                                      stdout=log_file, stderr=subprocess.STDOUT)
    try:
        story = demo_story(datetime.now(UTC))
        print(f"3/5 sending {len(story)} demo events (a healthy store, a store that stops delivering, a store "
              "with bad reviews, one broken message) ...")
        producer = KafkaProducer(bootstrap_servers=info.bootstrap, acks="all")
        for role, key, value in story:
            raw = value if isinstance(value, bytes) else orjson.dumps(value)
            producer.send(_topic_for(settings, role), key=key.encode(), value=raw)
        producer.flush()
        producer.close()
        _wait_quiet(log_path, worker, timeout_s=60)
        print("4/5 what the worker decided (one log line per decision; counts by decision):")
        for line in _decisions(log_path):
            print("  " + line)
        print("    and what it published:")
        _print_outputs(settings)
        _wait_quiet(dispatch_log, dispatcher, timeout_s=30, quiet_s=3.0)
        print("5/5 messages the dispatcher delivered to the on-call log channel:")
        for text in _notifications(dispatch_log):
            print("  " + text.replace("\n", "\n  ") + "\n")
    finally:
        if keep:
            print(f"worker (pid {worker.pid}), dispatcher (pid {dispatcher.pid}) and Kafka ({info.bootstrap}) "
                  "keep running; stop them with `kill` and `monitor kafka stop`")
        else:
            for proc in (dispatcher, worker):
                proc.terminate()
                proc.wait(30)
            print("stopped the worker and the dispatcher")
            if we_started_kafka:
                localkafka.stop(kafka_dir)
                print("stopped Kafka")
    return 0


def _log_lines(log_path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in log_path.read_bytes().splitlines():
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(line, dict):
            out.append(line)
    return out


def _decisions(log_path: Path) -> list[str]:
    """The worker's decisions counted by kind, plus its warnings (dead letters)."""
    counts: dict[str, int] = {}
    out = []
    for line in _log_lines(log_path):
        if line.get("event") == "decision":
            name = f"{line.get('decision')} -> {line.get('output')}"
            counts[name] = counts.get(name, 0) + 1
        elif line.get("level") in ("warning", "error") and str(line.get("logger", "")).startswith("monitor."):
            out.append(f"{line['level']:7} {line['event']}: {line.get('reason', '')}")
    return [f"{n:3} x {name}" for name, n in sorted(counts.items())] + out


def _notifications(log_path: Path) -> list[str]:
    return [f"{line.get('title', '')}\n{line.get('text', '')}" for line in _log_lines(log_path)
            if line.get("event") == "alert_notification"]


def _wait_quiet(log_path: Path, worker: subprocess.Popen[bytes], *, timeout_s: float, quiet_s: float = 4.0) -> None:
    """Wait until the worker has logged something and then stayed quiet for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    last_size, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited ({worker.returncode}); see {log_path}")
        size = log_path.stat().st_size
        if size != last_size:
            last_size, last_change = size, time.monotonic()
        elif size > 0 and time.monotonic() - last_change > quiet_s:
            return
        time.sleep(0.5)
