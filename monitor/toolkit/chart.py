"""PNG charts: a load test (probe latency, consumer lag) and a long replay (worker memory, state size)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_chart", "write_resource_chart"]


def write_chart(result: Any, path: str | Path) -> None:
    """Two panels: probe latency histogram (p50/p95/p99 marked) and lag over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from monitor.toolkit.loadtest import percentile

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    lat = result.latencies_ms
    ax1.hist(lat, bins=40, color="#4C72B0")
    for p, style in ((50, "-"), (95, "--"), (99, ":")):
        ax1.axvline(percentile(lat, p), color="black", linestyle=style, label=f"p{p} {percentile(lat, p):.0f} ms")
    ax1.set_xlabel("end-to-end latency (ms)")
    ax1.set_ylabel("probes")
    ax1.set_title(f"latency at {result.target_rate:.0f} events/s")
    ax1.legend()
    ts = [t for t, _ in result.lag_samples]
    ax2.plot(ts, [lag for _, lag in result.lag_samples], marker="o", color="#DD8452")
    ax2.set_xlabel("seconds")
    ax2.set_ylabel("consumer lag (messages)")
    ax2.set_title("lag of the worker's group")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_resource_chart(samples: list[dict[str, Any]], path: str | Path, title: str) -> None:
    """Two panels over event-days replayed: worker RSS (current and peak) and state size on disk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [s["event_day"] for s in samples]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(days, [s["rss_mb"] for s in samples], marker=".", label="RSS")
    ax1.plot(days, [s["peak_rss_mb"] for s in samples], linestyle="--", label="peak RSS")
    ax1.set_xlabel("event-days applied")
    ax1.set_ylabel("MiB")
    ax1.set_title("worker memory")
    ax1.legend()
    ax2.plot(days, [s["state_mb"] for s in samples], marker=".", color="#55A868")
    ax2.set_xlabel("event-days applied")
    ax2.set_ylabel("MiB")
    ax2.set_title("state on disk (RocksDB)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
