"""One pass over recorded input for every variant: read each line once, check it as ingest would (once per group
of variants that check alike), and feed the valid events to one ``Engine`` per variant.

The input is the JSONL of ``monitor dump`` and ``monitor generate`` (``monitor/toolkit/jsonl.py``), read in file
order. A dump's lines carry their partition: each partition is a source of its topic's clock, as in the worker;
a generated file has none and is one source per topic (it is written in event-time order).
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from monitor.backtest.engine import OrderSide, ReviewSide
from monitor.backtest.variants import Variant
from monitor.domain.outputs import Emit
from monitor.settings import Settings
from monitor.toolkit.jsonl import message_key, message_value, to_line
from monitor.wire.codec import DecodeError, decode_store_command, encode
from monitor.worker.screening import Screening

__all__ = ["VariantRun", "Pass", "run_pass", "reason_class"]

EXAMPLES_PER_REASON = 5
NEVER_MS = -(2**62)
# order and review alerts are many; the report keeps the rest in full for scoring and comparison
_PER_ORDER_KINDS = frozenset({"order_late", "order_at_risk", "negative_review"})


@dataclass(slots=True)
class _Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def reason_class(reason: str) -> str:
    """A dead letter's reason without its particulars: ``order-status: FUTURE_EVENT_TIME``, or the contract's
    words with ids, numbers and quoted values taken out."""
    topic, _, rest = reason.partition(": ")
    code = rest.split(": ", 1)[0]
    if re.fullmatch(r"[A-Z][A-Z_]+", code):
        return f"{topic}: {code}"
    rest = re.sub(r"'[^']*'|\"[^\"]*\"|\d[\d,.]*|\([^)]*\)", "…", rest)
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

    def take(self, e: Emit, fh: Any) -> None:
        raw = encode(e.value)
        fh.write(to_line(e.topic, e.key.encode(), raw, int(e.value.at.timestamp() * 1000)))
        v = orjson.loads(raw)
        day = v["at"][:10]
        store = f"{v['store_id']} ({v['city']})" if v.get("store_id") else f"city {v['city']}"
        if e.topic == "store-visibility":
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


def _sources(paths: Sequence[Path], order_topics: set[str], review_topics: set[str]) -> tuple[int, int]:
    """Partitions per input topic in a dump (its lines carry them); 1 for generated files."""
    orders, reviews = {0}, {0}
    for path in paths:
        with open(path, "rb") as fh:
            first = fh.readline()
            if b'"partition"' not in first:
                continue
            fh.seek(0)
            for line in fh:
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("partition"), int):
                    if rec.get("topic") in order_topics:
                        orders.add(rec["partition"])
                    elif rec.get("topic") in review_topics:
                        reviews.add(rec["partition"])
    return max(orders) + 1, max(reviews) + 1


def run_pass(paths: Sequence[Path], base: Settings, variants: Sequence[Variant], out_dir: Path,
             progress: Callable[[int], None] | None = None) -> Pass:
    """Read ``paths`` once; run the baseline ``variants[0]`` and the others side by side; write each variant's
    outputs to ``out_dir/<n>-<name>.jsonl``."""
    started = time.monotonic()
    order_topics = {base.topic_order_status, "order-status"}
    review_topics = {base.topic_reviews, "reviews"}
    command_topics = {base.topic_store_commands, "store-commands"}
    order_sources, review_sources = _sources(paths, order_topics, review_topics)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs: list[VariantRun] = []
    files: list[Any] = []
    # variants equal in their order rules share one order side, equal in their review rules one review side:
    # each distinct rule set is computed once, and its outputs go to every variant that has it
    order_sides: dict[tuple, tuple[OrderSide, list[tuple[VariantRun, Any]]]] = {}
    review_sides: dict[tuple, tuple[ReviewSide, list[tuple[VariantRun, Any]]]] = {}
    mine: list[tuple[OrderSide, ReviewSide]] = []
    for i, v in enumerate(variants):
        run = VariantRun(v, out_dir / f"{i}-{re.sub(r'[^A-Za-z0-9._-]+', '_', v.name)}.jsonl")
        fh = open(run.outputs, "wb")  # noqa: SIM115 - closed below, after the pass
        files.append(fh)
        runs.append(run)
        key = OrderSide.rules_of(v.settings)
        if key not in order_sides:
            targets: list[tuple[VariantRun, Any]] = []
            order_sides[key] = (OrderSide(v.settings, _sink(targets), order_sources), targets)
        order_sides[key][1].append((run, fh))
        key = ReviewSide.rules_of(v.settings)
        if key not in review_sides:
            targets = []
            review_sides[key] = (ReviewSide(v.settings, _sink(targets), review_sources), targets)
        review_sides[key][1].append((run, fh))
        mine.append((order_sides[OrderSide.rules_of(v.settings)][0], review_sides[key][0]))
    # order sides that keep orders for the same time screen alike: one screening (and one decode) per group
    groups: dict[int, tuple[Screening, list[OrderSide]]] = {}
    for side, _ in order_sides.values():
        keep = side.orders.late_window_ms + side.orders.retention_ms
        groups.setdefault(keep, (Screening(base.replace(late_window=timedelta(milliseconds=side.orders.late_window_ms),
                                                        order_retention=timedelta(milliseconds=side.orders.retention_ms)),
                                           1), []))[1].append(side)
    review_group = [side for side, _ in review_sides.values()]
    review_screening = next(iter(groups.values()))[0]
    result = Pass(runs)
    read_ms: dict[tuple[int, int], int] = {}
    first_ms, last_ms = -NEVER_MS, NEVER_MS
    wall_ms, lines = int(time.time() * 1000), 0
    try:
        for path in paths:
            for lineno, rec in _lines(path, result):
                lines += 1
                if lines % 1000 == 0:
                    wall_ms = int(time.time() * 1000)  # the wall clock ingest would check event times against
                    if progress is not None:
                        progress(1000)
                topic = rec.get("topic")
                if topic in order_topics:
                    is_orders = True
                elif topic in review_topics:
                    is_orders = False
                elif topic in command_topics:
                    _command(rec, f"{path.name}:{lineno}", base, [side for side, _ in order_sides.values()],
                             result)
                    continue
                else:
                    result.skipped[str(topic)[:100]] += 1
                    continue
                record = _record(rec, lineno)
                record.topic = base.topic_order_status if is_orders else base.topic_reviews
                source = (0 if is_orders else 1, record.partition)
                prior = read_ms.get(source, NEVER_MS)
                if not is_orders:
                    screened = review_screening.reviews([record], wall_ms, prior)
                    first_ms, last_ms = _take(result, screened, source, read_ms, path, lineno, first_ms, last_ms,
                                              str(topic), False)
                    for events in screened.batches.values():
                        for review_side in review_group:
                            for event in events:
                                review_side.review(event, record.partition)
                    continue
                for n, (screening, order_group) in enumerate(groups.values()):
                    screened = screening.orders(source, [record], wall_ms, prior)
                    if n == 0:
                        first_ms, last_ms = _take(result, screened, source, read_ms, path, lineno, first_ms,
                                                  last_ms, str(topic), True)
                    for events in screened.batches.values():
                        for order_side in order_group:
                            for event in events:
                                order_side.order(event, record.partition)
        if progress is not None:
            progress(lines % 1000)
        for side, _ in order_sides.values():
            side.finish()
        for review_side, _ in review_sides.values():
            review_side.finish()
    finally:
        for fh in files:
            fh.close()
    if last_ms != NEVER_MS:
        result.first_ms, result.last_ms = first_ms, last_ms
    for run, (order_side, review_side) in zip(runs, mine, strict=True):
        run.refused, run.ignored = order_side.refused + review_side.refused, review_side.ignored
    result.seconds = time.monotonic() - started
    return result


def _sink(targets: list[tuple[VariantRun, Any]]) -> Callable[[Emit], None]:
    def sink(e: Emit) -> None:
        for run, fh in targets:
            run.take(e, fh)
    return sink


def _take(result: Pass, screened: Any, source: tuple[int, int], read_ms: dict[tuple[int, int], int], path: Path,
          lineno: int, first_ms: int, last_ms: int, topic: str, is_orders: bool) -> tuple[int, int]:
    """Count what one screened line holds (once, whatever the number of variants); return the event-time span."""
    read_ms[source] = screened.max_ms
    for _, reason in screened.refused:
        result.refuse(f"{path.name}:{lineno}", reason)
    for events in screened.batches.values():
        result.events[topic] += len(events)
        for event in events:
            at = event.occurred_ms if is_orders else event.created_ms
            first_ms, last_ms = min(first_ms, at), max(last_ms, at)
    return first_ms, last_ms


def _lines(path: Path, result: Pass) -> Iterable[tuple[int, dict[str, Any]]]:
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            result.lines += 1
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                result.refuse(f"{path.name}:{lineno}", f"input: not a JSON line ({exc})")
                continue
            if not isinstance(rec, dict):
                result.refuse(f"{path.name}:{lineno}", "input: a line that is not a JSON object")
                continue
            yield lineno, rec


def _record(rec: dict[str, Any], lineno: int) -> _Record:
    partition = rec.get("partition")
    offset = rec.get("offset")
    return _Record(str(rec.get("topic")), partition if isinstance(partition, int) else 0,
                   offset if isinstance(offset, int) else lineno, message_key(rec), message_value(rec))


def _command(rec: dict[str, Any], where: str, base: Settings, sides: list[OrderSide], result: Pass) -> None:
    """An operator's command in a dump of ``store-commands``: a restore reaches every variant."""
    try:
        cmd = decode_store_command(message_value(rec), max_bytes=base.max_value_bytes)
    except DecodeError as exc:
        result.refuse(where, exc.reason)
        return
    if cmd.command != "restore":
        return
    at_ms = int(cmd.at.timestamp() * 1000)
    for side in sides:
        side.restore(cmd.store_id, cmd.city, by=cmd.by, note=cmd.note, at_ms=at_ms)

