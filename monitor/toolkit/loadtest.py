"""loadtest: drive a running monitor at a target rate and measure end-to-end latency and consumer lag.

Background traffic is generated marketplace traffic moved to the day before the present (never ahead of it); one input in ``probe_every`` is a
probe: a negative review of a dedicated store, which the monitor answers with exactly one ``negative_review``
alert. The latency of a probe is the time from sending it to reading its alert.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from monitor.toolkit.generate import TrafficConfig, iter_records
from monitor.toolkit.replay import shift_value

__all__ = ["LoadResult", "run_load", "percentile"]

PROBE_STORE = "loadtest-probe"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


@dataclass
class LoadResult:
    """What a load test measured."""

    target_rate: float
    sent: int = 0
    seconds: float = 0.0
    probes_sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lag_samples: list[tuple[float, int]] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "target_rate": self.target_rate, "achieved_rate": round(self.achieved_rate, 1), "sent": self.sent,
            "seconds": round(self.seconds, 1), "probes_sent": self.probes_sent, "probes_answered": len(lat),
            "latency_ms": {"p50": round(percentile(lat, 50), 1), "p95": round(percentile(lat, 95), 1),
                           "p99": round(percentile(lat, 99), 1), "max": round(max(lat, default=0.0), 1),
                           "mean": round(statistics.fmean(lat), 1) if lat else 0.0},
            "max_lag": max((lag for _, lag in self.lag_samples), default=0),
            "lag_samples": [{"t_s": round(t, 1), "lag": lag} for t, lag in self.lag_samples],
        }


def _background(now: datetime, seed: int, wall: Callable[[], datetime] = lambda: datetime.now(UTC)
                ) -> Iterator[dict[str, Any]]:
    """Endless generated traffic, moved so that it starts a day before ``now``, and never ahead of the wall clock.

    Sent at a load test's rate, a generated day passes in minutes, far faster than the wall clock; the monitor
    refuses events ahead of the wall clock (``max_future_skew``). So the traffic starts a day back, and a record
    that would still be ahead when it is sent pulls the rest of the traffic back with it (time compressed, each
    record's promise moved with it, so the order keeps its lateness)."""
    delta: timedelta | None = None
    day = 0
    while True:
        config = TrafficConfig(start=datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=day), days=1,
                               orders_per_day=20_000, stores=3000, seed=seed + day, incidents=())
        for rec in iter_records(config):
            at = datetime.fromisoformat(rec["timestamp"])
            if delta is None:
                delta = now - timedelta(days=1) - at
            ahead = at + delta - wall()
            if ahead > timedelta(0):
                delta -= ahead
            yield {**rec, "value": shift_value(rec["value"], delta)}
        day += 1


def run_load(bootstrap: str, topics: dict[str, str], alerts_topic: str, *, rate: float, duration_s: float,
             probe_every: int = 10, lag: Callable[[], int] | None = None, seed: int = 1,
             progress: Callable[[str], None] | None = None) -> LoadResult:
    """Send ``rate`` inputs per second for ``duration_s``; return latencies of the probes and lag samples."""
    from kafka import KafkaConsumer, KafkaProducer

    result = LoadResult(target_rate=rate)
    sent_at: dict[str, float] = {}
    done = threading.Event()
    consumer = KafkaConsumer(alerts_topic, bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="latest", consumer_timeout_ms=200)
    consumer.poll(timeout_ms=1000)  # join the partitions before the first probe

    def collect() -> None:
        while not done.is_set():
            for m in consumer:
                arrived = time.perf_counter()
                key = (m.key or b"").decode()
                if PROBE_STORE in key:
                    probe = key.rsplit(":", 1)[-1]
                    if probe in sent_at:
                        result.latencies_ms.append((arrived - sent_at.pop(probe)) * 1000)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=1)
    traffic = _background(datetime.now(UTC), seed)
    start = time.perf_counter()
    next_lag = start
    i = 0
    try:
        while (elapsed := time.perf_counter() - start) < duration_s:
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            if i % probe_every == 0:
                probe = f"probe-{i}"
                value = {"review_id": probe, "order_id": f"o-{probe}", "store_id": PROBE_STORE, "city": "Moscow",
                         "rating": 1, "text": "load test probe", "created_at": datetime.now(UTC).isoformat()}
                sent_at[probe] = time.perf_counter()
                producer.send(topics["reviews"], key=probe.encode(), value=orjson.dumps(value))
                producer.flush()
                result.probes_sent += 1
            else:
                rec = next(traffic)
                producer.send(topics[rec["topic"]], key=rec["key"].encode(), value=orjson.dumps(rec["value"]))
            i += 1
            if lag is not None and time.perf_counter() >= next_lag:
                next_lag += 2.0
                try:
                    result.lag_samples.append((elapsed, lag()))
                except Exception:  # noqa: BLE001 - the group may be rebalancing; skip a sample
                    pass
                if progress:
                    progress(f"{elapsed:5.0f}s sent {i} probes answered {len(result.latencies_ms)}")
        producer.flush()
        result.sent, result.seconds = i, time.perf_counter() - start
        deadline = time.perf_counter() + 10  # let the last probes arrive
        while sent_at and time.perf_counter() < deadline:
            time.sleep(0.2)
    finally:
        done.set()
        reader.join(5)
        producer.close()
        consumer.close()
    return result
