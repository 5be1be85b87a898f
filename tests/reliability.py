"""Helpers of the reliability tests: generated traffic, replay into a test's topics, wait until the worker is done,
read the outputs and dedupe them by id."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from conftest import free_port
from kafka import KafkaConsumer, TopicPartition

from monitor.ops.admin import ensure_topics
from monitor.settings import Settings
from monitor.toolkit.generate import TrafficConfig, generate, write_jsonl
from monitor.toolkit.lag import group_lag
from monitor.toolkit.replay import replay_file
from monitor.worker.topicnames import internal_topic_names

MSK = timezone(timedelta(hours=3))
HEARTBEAT_SLACK = 200
TOPIC_VARS = ("ORDER_STATUS", "REVIEWS", "STORE_COMMANDS", "STORE_VISIBILITY", "ALERTS", "DEAD_LETTERS")


def run_env(env: dict[str, str], suffix: str, **extra: str) -> dict[str, str]:
    """``env`` with its own app id and topics: one independent run of the monitor."""
    out = {**env, "MONITOR_APP_ID": f"{env['MONITOR_APP_ID']}-{suffix}", "MONITOR_WEB_PORT": str(free_port()),
           **extra}
    for var in TOPIC_VARS:
        out[f"MONITOR_TOPIC_{var}"] = f"{env[f'MONITOR_TOPIC_{var}']}-{suffix}"
    return out


def write_traffic(path: Path, *, days: int, orders_per_day: int, stores: int, seed: int = 7,
                  start: datetime = datetime(2026, 2, 10, tzinfo=MSK), incidents: tuple | None = None) -> Path:
    """Seeded generated traffic (with the default injected incidents unless ``incidents`` is given) as JSONL."""
    traffic = generate(TrafficConfig(start=start, days=days, orders_per_day=orders_per_day, stores=stores,
                                     seed=seed, incidents=incidents))
    write_jsonl(path, traffic.records)
    return path


def replay(env: dict[str, str], path: Path, *, speed: float | None = None) -> int:
    """Produce the JSONL file into the run's input topics."""
    return replay_file(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], path, speed=speed, progress=False,
                       topic_map={"order-status": env["MONITOR_TOPIC_ORDER_STATUS"],
                                  "reviews": env["MONITOR_TOPIC_REVIEWS"]})


def preload(env: dict[str, str], path: Path) -> int:
    """Create the run's topics (as its worker would) and produce the JSONL file into them before any worker
    starts. Ingest's review merge can only wait for records already written: a producer writing historical
    traffic faster than real time while the worker reads can leave one partition's records unwritten for a
    moment, in which another partition's stream runs ahead by days of event time."""
    ensure_topics(Settings.load(env))
    return replay(env, path)


def read_to_end(bootstrap: str, topic: str, timeout_s: float = 60) -> list[tuple[bytes | None, bytes | None]]:
    """(key, value) of every message of ``topic`` up to its end offsets when called, in order per partition
    (not "until a quiet moment", which a busy broker can end early)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out: list[tuple[bytes | None, bytes | None]] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout_s}s")
            for records in consumer.poll(timeout_ms=500).values():
                out += [(r.key, r.value) for r in records]
        return out
    finally:
        consumer.close()


def read_outputs(env: dict[str, str]) -> list[dict]:
    """Every message of the run's store-visibility and alerts topics, as decoded JSON."""
    return [orjson.loads(value) for var in ("STORE_VISIBILITY", "ALERTS")
            for _, value in read_to_end(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env[f"MONITOR_TOPIC_{var}"])]


def wait_until_done(env: dict[str, str], *, timeout_s: float = 240, quiet_s: float = 6.0) -> list[dict]:
    """Poll until the group has committed everything on its input and repartition topics and the outputs have
    not grown for ``quiet_s``; return the outputs."""
    bootstrap, group = env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], env["MONITOR_APP_ID"]
    watched = [env["MONITOR_TOPIC_ORDER_STATUS"], env["MONITOR_TOPIC_REVIEWS"],
               *internal_topic_names(group)[1:]]  # not order-status-by-store: heartbeats keep arriving there
    deadline = time.monotonic() + timeout_s
    count, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        try:
            lag = group_lag(bootstrap, group, watched)
            # heartbeats keep arriving on the store topic: a committed position within a few of them is done
            lag += max(0, group_lag(bootstrap, group, internal_topic_names(group)[:1]) - HEARTBEAT_SLACK)
        except Exception:  # noqa: BLE001 - the group is forming
            lag = -1
        n = len(read_outputs(env))
        if n != count or lag != 0:
            count, stable_since = n, time.monotonic()
        elif time.monotonic() - stable_since >= quiet_s:
            return read_outputs(env)
        time.sleep(1.0)  # the polling interval of this wait
    raise AssertionError(f"run {group} did not finish within {timeout_s}s (outputs {count})")


def output_id(value: dict) -> tuple[str, str]:
    """What consumers dedupe by: the event id of a visibility change, the alert id and status of an alert."""
    if "event_id" in value:
        return value["event_id"], value["action"]
    return value["alert_id"], value["status"]


@dataclass
class Deduped:
    """Outputs by id, and how many times each id was on the topics."""

    by_id: dict[tuple[str, str], dict]
    copies: Counter

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.copies.values())


def deterministic_ids(d: Deduped) -> set[tuple[str, str]]:
    """The ids of every output."""
    return set(d.by_id)


# After a crash a store partition may send its city reviews it had sent before (its city message was written, its
# state was not), and a city keeps no ids of the reviews it judged: a city's negativity alert may come at another
# time. Only a crash redoes work; one worker or two, any pace, every output is a function of the input alone.
REDONE_AFTER_A_CRASH = ("city_negativity",)


def comparable(d: Deduped, by_id_only: tuple[str, ...] = ()) -> dict[tuple[str, str], dict | None]:
    """Outputs by id, in full (each store partition judges its reviews in created_at order behind a clock over all
    review sources), except the kinds in ``by_id_only``, reduced to their id."""
    return {k: (None if v.get("kind") in by_id_only else v) for k, v in d.by_id.items()}


def dedupe(values: list[dict]) -> Deduped:
    """Group outputs by id; every copy of one id must be the same message (deterministic outputs)."""
    by_id: dict[tuple[str, str], dict] = {}
    copies: Counter = Counter()
    for v in values:
        key = output_id(v)
        copies[key] += 1
        first = by_id.setdefault(key, v)
        assert first == v or v.get("kind") in REDONE_AFTER_A_CRASH, f"two messages share the id {key}: {first}, {v}"
    return Deduped(by_id, copies)
