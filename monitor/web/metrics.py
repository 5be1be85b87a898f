"""Prometheus text exposition of the worker's counters, written by hand (no client library needed)."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from faust.sensors import Sensor

from monitor.worker import counters

__all__ = ["LatencySensor", "LATENCY", "render", "BUCKETS_S", "dir_bytes"]

BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Histogram:
    """Cumulative-on-render histogram per topic: counts per bucket, sum and count."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}

    def observe(self, label: str, value_s: float) -> None:
        row = self.counts.get(label)
        if row is None:
            row = self.counts[label] = [0] * (len(self.buckets) + 1)
            self.sums[label] = 0.0
        row[bisect.bisect_left(self.buckets, value_s)] += 1
        self.sums[label] += value_s


LATENCY = Histogram(BUCKETS_S)


class LatencySensor(Sensor):
    """Times each event from the moment a stream hands it to an agent until the agent asks for the next."""

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> dict | None:
        return {"t": time.perf_counter()}

    def on_stream_event_out(self, tp: Any, offset: int, stream: Any, event: Any, state: dict | None = None) -> None:
        if state is not None:
            LATENCY.observe(tp.topic, time.perf_counter() - state["t"])


def _esc(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items()) + "}"


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[Mapping[str, object], float]],
             suffix: str = "") -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{suffix}{_labels(labels)} {_num(value)}" for labels, value in samples]
    return lines


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _histogram_lines(name: str, help_text: str, hist: Histogram) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for label, row in sorted(hist.counts.items()):
        running = 0
        for bound, n in zip((*hist.buckets, float("inf")), row, strict=True):
            running += n
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'{name}_bucket{{topic="{_esc(label)}",le="{le}"}} {running}')
        lines.append(f'{name}_sum{{topic="{_esc(label)}"}} {_num(hist.sums[label])}')
        lines.append(f'{name}_count{{topic="{_esc(label)}"}} {running}')
    return lines


def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (0 if it does not exist)."""
    total = 0
    for f in path.rglob("*") if path.exists() else ():
        try:
            if f.is_file():
                total += f.stat().st_size
        except OSError:  # RocksDB deletes files while we walk
            continue
    return total


def render(*, input_by_topic: Mapping[str, int], hidden_stores: int, stores: int,
           lag: Mapping[tuple[str, int], int], state_bytes: Mapping[str, int], ready: bool,
           events_per_s: float) -> str:
    """The whole exposition; gauges that need the app are computed by the caller and passed in."""
    lines: list[str] = []
    lines += _family("monitor_input_events_total", "counter", "messages consumed, by topic",
                     (({"topic": t}, n) for t, n in sorted(input_by_topic.items())))
    lines += _family("monitor_dead_letters_total", "counter", "messages sent to dead-letters, by source topic "
                     "and reason class", (({"topic": t, "reason": r}, n)
                                          for (t, r), n in sorted(counters.DEAD_LETTERS.items())))
    lines += _family("monitor_alerts_total", "counter", "alerts published, by kind and status",
                     (({"kind": k, "status": s}, n) for (k, s), n in sorted(counters.ALERTS.items())))
    lines += _family("monitor_visibility_events_total", "counter", "store-visibility events published, by action",
                     (({"action": a}, n) for a, n in sorted(counters.VISIBILITY.items())))
    lines += _family("monitor_hidden_stores", "gauge", "stores hidden now (stores owned by this worker)",
                     [({}, hidden_stores)])
    lines += _family("monitor_stores", "gauge", "stores with state on this worker", [({}, stores)])
    lines += _histogram_lines("monitor_event_processing_seconds", "time an agent spent on one event, by topic",
                              LATENCY)
    lines += _family("monitor_events_per_second", "gauge", "input events read per second",
                     [({}, events_per_s)])
    lines += _family("monitor_consumer_lag", "gauge", "messages not yet processed, by assigned topic partition",
                     (({"topic": t, "partition": p}, n) for (t, p), n in sorted(lag.items())))
    lines += _family("monitor_state_bytes", "gauge", "bytes of table state on disk (RocksDB), by table",
                     (({"table": t}, n) for t, n in sorted(state_bytes.items())))
    lines += _family("monitor_ready", "gauge", "1 when partitions are assigned and tables recovered",
                     [({}, int(ready))])
    return "\n".join(lines) + "\n"
