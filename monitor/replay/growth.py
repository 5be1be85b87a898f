"""Is a long replay's footprint bounded? Checkpoints of samples and a verdict on state size and RSS growth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FRACTIONS", "checkpoints", "boundedness"]

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


def boundedness(points: Sequence[Mapping[str, Any]], *, days: float, longest_window_days: float,
                tolerance: float = 0.25) -> dict[str, Any]:
    """BOUNDED when state and RSS at the end are within ``tolerance`` of their value at half-way, GROWS when
    not; TOO_SHORT when half-way comes before the longest retention window has passed once (the state is
    expected to grow until then, so growth there says nothing)."""
    by_f = {p["fraction"]: p for p in points}
    half, end = by_f.get(0.5), by_f.get(1.0)
    if half is None or end is None:
        return {"verdict": "UNKNOWN", "reason": "no samples at 50% and 100% of the replay"}
    growth = {name: round(end[name] / half[name], 3) if half[name] else None for name in ("state_mb", "rss_mb")}
    result: dict[str, Any] = {"state_growth_50_to_100": growth["state_mb"],
                              "rss_growth_50_to_100": growth["rss_mb"], "tolerance": tolerance,
                              "longest_window_days": longest_window_days}
    if days / 2 < longest_window_days:
        return {"verdict": "TOO_SHORT", **result,
                "reason": f"half of the run ({days / 2:g} event-days) is shorter than the longest retention "
                          f"window ({longest_window_days:g} days): state is still filling its windows"}
    grows = [name for name, g in growth.items() if g is None or g > 1 + tolerance]
    if grows:
        return {"verdict": "GROWS", **result, "reason": f"{' and '.join(grows)} grew more than "
                                                        f"{tolerance:.0%} from 50% to 100% of the replay"}
    return {"verdict": "BOUNDED", **result,
            "reason": f"state and RSS within {tolerance:.0%} between 50% and 100% of the replay"}
