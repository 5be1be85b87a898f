"""What a backtest pass found: per variant its outputs summed up for the report, and what the input held."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.backtest.variants import Variant

__all__ = ["VariantRun", "Pass", "reason_class", "EXAMPLES_PER_REASON"]

EXAMPLES_PER_REASON = 5
# order and review alerts are many; the report keeps the rest in full for scoring and comparison
_PER_ORDER_KINDS = frozenset({"order_late", "order_at_risk", "negative_review"})


def reason_class(reason: str) -> str:
    """A dead letter's reason without its particulars: ``order-status: FUTURE_EVENT_TIME``, or the contract's
    words with ids, numbers and quoted values taken out."""
    topic, _, rest = reason.partition(": ")
    code = rest.split(": ", 1)[0]
    if re.fullmatch(r"[A-Z][A-Z_]+", code):
        return f"{topic}: {code}"
    rest = re.sub(r"'[^']*'|\"[^\"]*\"|\b\d[\d,.]*|\([^)]*\)", "…", rest)
    return f"{topic}: {rest[:100]}"


@dataclass(slots=True)
class VariantRun:
    """What one variant decided: outputs written to ``outputs``, and the summaries the report needs."""

    variant: Variant
    outputs: Path
    hides: list[dict[str, Any]] = field(default_factory=list)
    restores: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # firing and resolved, except per-order kinds
    counts: Counter[str] = field(default_factory=Counter)  # "kind status" -> n
    per_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # day -> kind -> n
    per_store: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # store -> kind -> n
    firing_ids: set[str] = field(default_factory=set)
    refused: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)

    def take(self, topic: str, v: dict[str, Any]) -> None:
        """Count one output (``topic``: alerts or store-visibility, ``v``: its value)."""
        day = v["at"][:10]
        store = f"{v['store_id']} ({v['city']})" if v.get("store_id") else f"city {v['city']}"
        if topic == "store-visibility":
            (self.hides if v["action"] == "hide" else self.restores).append(v)
            self.counts[v["action"]] += 1
            self.per_day[day][v["action"]] += 1
            self.per_store[store][v["action"]] += 1
            return
        self.counts[f"{v['kind']} {v['status']}"] += 1
        if v["status"] == "firing":
            self.firing_ids.add(v["alert_id"])
            self.per_day[day][v["kind"]] += 1
            self.per_store[store][v["kind"]] += 1
        if v["kind"] not in _PER_ORDER_KINDS:
            self.alerts.append(v)


@dataclass(slots=True)
class Pass:
    """The whole pass: per variant its run, and what the input held."""

    runs: list[VariantRun]
    lines: int = 0
    events: Counter[str] = field(default_factory=Counter)  # topic -> valid events
    bad: Counter[str] = field(default_factory=Counter)  # reason class -> records (as the worker dead-letters)
    skipped: Counter[str] = field(default_factory=Counter)  # topic -> lines of topics the monitor does not read
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    first_ms: int | None = None
    last_ms: int | None = None
    seconds: float = 0.0

    def refuse(self, where: str, reason: str) -> None:
        cls = reason_class(reason)
        self.bad[cls] += 1
        if len(self.examples[cls]) < EXAMPLES_PER_REASON:
            self.examples[cls].append(f"{where}: {reason[:300]}")
