"""A PNG chart of a load test: latency distribution of the probes and consumer lag over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_chart"]


def write_chart(result: Any, path: str | Path) -> None:
    """Two panels: probe latency histogram (p50/p95/p99 marked) and lag over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from monitor.replay.loadtest import percentile

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
