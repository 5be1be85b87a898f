"""Is a long replay's footprint bounded? Checkpoints of samples and a verdict on state size and RSS growth."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FRACTIONS", "checkpoints", "quarter_peaks", "boundedness"]

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def checkpoints(samples: Sequence[Mapping[str, Any]], total: int,
                fractions: Sequence[float] = FRACTIONS) -> list[dict[str, Any]]:
    """For each fraction of ``total`` events applied, the first sample at or past it (samples in time order)."""
    out = []
    for f in fractions:
        hit = next((s for s in samples if s["applied"] >= f * total), None)
        if hit is not None:
            out.append({"fraction": f, **hit})
    return out


def quarter_peaks(samples: Sequence[Mapping[str, Any]], total: int) -> dict[int, dict[str, float]]:
    """The largest state size and RSS sampled in each quarter of the replay (0: up to 25% of ``total`` events
    applied, ..., 3: past 75%)."""
    peaks: dict[int, dict[str, float]] = {}
    for s in samples:
        q = min(3, max(0, math.ceil(4 * s["applied"] / total) - 1)) if total else 3
        peak = peaks.setdefault(q, {"state_mb": 0.0, "rss_mb": 0.0})
        for name in peak:
            peak[name] = max(peak[name], float(s[name]))
    return peaks


def boundedness(samples: Sequence[Mapping[str, Any]], total: int, *, days: float, longest_window_days: float,
                tolerance: float = 0.25) -> dict[str, Any]:
    """BOUNDED when the peaks of state size and RSS in the last quarter of the replay are within ``tolerance`` of
    their peaks in the second quarter, GROWS when not; TOO_SHORT when the second quarter starts before the longest
    retention window has passed once (the state is expected to grow until then, so growth says nothing).

    Peaks over a quarter, not single samples: RocksDB compacts in steps, so its folder is a saw-tooth and one
    sample can catch it at any phase."""
    peaks = quarter_peaks(samples, total)
    second, last = peaks.get(1), peaks.get(3)
    if second is None or last is None:
        return {"verdict": "UNKNOWN", "reason": "no samples in the second and the last quarter of the replay"}
    growth = {name: round(last[name] / second[name], 3) if second[name] else None for name in ("state_mb", "rss_mb")}
    result: dict[str, Any] = {"state_growth_q2_to_q4": growth["state_mb"], "rss_growth_q2_to_q4": growth["rss_mb"],
                              "peaks": {f"q{q + 1}": p for q, p in sorted(peaks.items())}, "tolerance": tolerance,
                              "longest_window_days": longest_window_days}
    if days / 4 < longest_window_days:
        return {"verdict": "TOO_SHORT", **result,
                "reason": f"a quarter of the run ({days / 4:g} event-days) is shorter than the longest retention "
                          f"window ({longest_window_days:g} days): state is still filling its windows"}
    grows = [name for name, g in growth.items() if g is None or g > 1 + tolerance]
    if grows:
        return {"verdict": "GROWS", **result, "reason": f"the peak {' and '.join(grows)} of the last quarter is "
                                                        f"more than {tolerance:.0%} above the second quarter's"}
    return {"verdict": "BOUNDED", **result,
            "reason": f"peak state and RSS of the last quarter within {tolerance:.0%} of the second quarter's"}
