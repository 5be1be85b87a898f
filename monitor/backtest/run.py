"""One pass over recorded input for every variant: read each line once, check it as ingest would (once per group
of variants that check alike), and apply its events to each distinct rule set.

The input is the JSONL of ``monitor dump`` and ``monitor generate`` (``monitor/toolkit/jsonl.py``), read in file
order. A dump's lines carry their partition: each partition is a source of its topic's clock, as in the worker;
a generated file has none and is one source per topic (it is written in event-time order).

Variants equal in their order rules share one order side, equal in their review rules one review side
(``monitor/backtest/engine.py``). With ``jobs`` > 1 this process reads and checks the input and streams the valid
events to ``jobs - 1`` others, over which the sides are spread (``monitor/backtest/sides.py``): reading and
checking costs about as much as one order side, so on 2 cores the pass takes about half the time
(``tests/unit/test_backtest.py`` checks the outputs are the same bytes as in one process).
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from monitor.backtest.lines import bounded, input_lines, input_record, where_ok
from monitor.backtest.sides import END, ORDER, RESTORE, REVIEW, Child, Side, build_sides, default_jobs, merge
from monitor.backtest.summary import Pass, VariantRun
from monitor.backtest.variants import Variant
from monitor.domain.stores import MOVED
from monitor.settings import Settings
from monitor.toolkit.jsonl import message_value
from monitor.wire.codec import DecodeError, decode_store_command
from monitor.worker.screening import Screening

__all__ = ["run_pass", "default_jobs"]

NEVER_MS = -(2**62)


def run_pass(paths: Sequence[Path], base: Settings, variants: Sequence[Variant], out_dir: Path,
             progress: Callable[[int], None] | None = None, jobs: int = 1) -> Pass:
    """Read ``paths`` once; run the baseline ``variants[0]`` and the others side by side in ``jobs`` processes
    (``default_jobs``: as many as help on this machine); write each variant's outputs to
    ``out_dir/<n>-<name>.jsonl``."""
    started = time.monotonic()
    topics = {base.topic_order_status: ORDER, "order-status": ORDER, base.topic_reviews: REVIEW,
              "reviews": REVIEW, base.topic_store_commands: RESTORE, "store-commands": RESTORE}
    line_max = 4 * base.max_value_bytes + 65_536  # a value in base64 or escaped JSON, and the record around it
    order_sources, review_sources, ends = _scan(paths, topics, line_max)
    out_dir.mkdir(parents=True, exist_ok=True)
    order_sides, review_sides, mine = build_sides(variants, out_dir, max(1, jobs), order_sources, review_sources)
    used = sorted({s.job for s in order_sides + review_sides})
    children = {job: Child(job, [s for s in order_sides if s.job == job], [s for s in review_sides if s.job == job])
                for job in used if job != 0}
    here_orders = [s for s in order_sides if s.job == 0]
    here_reviews = [s for s in review_sides if s.job == 0]
    for s in here_orders + here_reviews:
        s.fh = open(s.path, "wb")  # noqa: SIM115 - closed below, after the pass
    # order sides that keep orders for the same time screen alike: one screening (and one decode) per group
    groups: dict[int, tuple[Screening, list[Side]]] = {}
    for s in order_sides:
        if s.keep not in groups:
            rules = s.side.orders  # type: ignore[union-attr]
            groups[s.keep] = (Screening(base.replace(late_window=timedelta(milliseconds=rules.late_window_ms),
                                                     order_retention=timedelta(milliseconds=rules.retention_ms)), 1),
                              [])
        groups[s.keep][1].append(s)
    review_screening = next(iter(groups.values()))[0]
    group_jobs = {keep: ([s for s in group if s.job == 0], [children[j] for j in sorted({s.job for s in group} - {0})])
                  for keep, (_, group) in groups.items()}
    result = Pass([VariantRun(v, out_dir / f"{i}-{_slug(v.name)}.jsonl") for i, v in enumerate(variants)])
    read_ms: dict[tuple[int, int], int] = {}
    wall_ms, lines = int(time.time() * 1000), 0

    def end_sources(after: int) -> None:
        """The sources whose last line is ``after`` stop holding their clocks back."""
        for kind, partition in ends.pop(after, ()):
            for s in here_orders if kind == ORDER else here_reviews:
                s.side.end_source(partition)
            for child in children.values():
                child.add(END, partition, [kind])

    try:
        for path in paths:
            for index, lineno, rec in input_lines(path, result, line_max, lines):
                end_sources(index - 1)
                lines = index
                if index % 1000 == 0:
                    wall_ms = int(time.time() * 1000)  # the wall clock ingest would check event times against
                    if progress is not None:
                        progress(1000)
                if rec is None:
                    continue
                topic = rec.get("topic")
                kind = topics.get(topic) if isinstance(topic, str) else None
                if kind is None:
                    result.skipped[str(topic)[:100]] += 1
                    continue
                if kind == RESTORE:
                    restore = _command(rec, f"{path.name}:{lineno}", base, result)
                    if restore is not None:
                        for s in here_orders:
                            s.side.restore(*restore[:2], by=restore[2], note=restore[3], at_ms=restore[4])  # type: ignore[union-attr]
                        for child in children.values():
                            child.add(RESTORE, 0, list(restore))
                    continue
                record = input_record(rec, lineno)
                if record is None:
                    result.refuse(f"{path.name}:{lineno}", "input: value_b64 is not base64")
                    continue
                source = (kind, record.partition)
                prior = read_ms.get(source, NEVER_MS)
                if kind == REVIEW:
                    record.topic = base.topic_reviews
                    screened = review_screening.reviews([record], wall_ms, prior)
                    _count(result, screened, source, read_ms, f"{path.name}:{lineno}", "reviews")
                    for events in screened.batches.values():
                        for event in events:
                            for s in here_reviews:
                                s.side.review(event, record.partition)  # type: ignore[union-attr]
                            for child in children.values():
                                if child.reviews:
                                    child.add(REVIEW, record.partition, event.packed())
                    continue
                record.topic = base.topic_order_status
                for n, (keep, (screening, _group)) in enumerate(groups.items()):
                    screened = screening.orders(source, [record], wall_ms, prior)
                    if n == 0:
                        _count(result, screened, source, read_ms, f"{path.name}:{lineno}", "order-status")
                    here, there = group_jobs[keep]
                    for events in screened.batches.values():
                        for event in events:
                            for s in here:
                                s.side.order(event, record.partition)  # type: ignore[union-attr]
                            for child in there:  # once per process: it applies the event to each of its sides
                                child.add(ORDER, record.partition, event.packed(), keep)
        end_sources(lines)
        if progress is not None:
            progress(lines % 1000)
        for s in here_orders + here_reviews:
            s.side.finish()
        counters = {}
        for child in children.values():
            counters.update(child.finish())
    finally:
        for s in here_orders + here_reviews:
            s.fh.close()
        for child in children.values():
            child.stop()
    for s in here_orders + here_reviews:
        counters[s.path.name] = (s.side.refused, s.side.ignored)
    for run, (order_side, review_side) in zip(result.runs, mine, strict=True):
        merge(run, (order_side.path, review_side.path))
        run.refused = counters[order_side.path.name][0] + counters[review_side.path.name][0]
        run.ignored = counters[order_side.path.name][1] + counters[review_side.path.name][1]
    for s in order_sides + review_sides:
        s.path.unlink(missing_ok=True)
    result.seconds = time.monotonic() - started
    return result


def _count(result: Pass, screened: Any, source: tuple[int, int], read_ms: dict[tuple[int, int], int], where: str,
           topic: str) -> None:
    """Count what one screened line holds (once, whatever the number of variants)."""
    read_ms[source] = screened.max_ms
    for _, reason in screened.refused:
        result.refuse(where, reason)
    for events in screened.batches.values():
        for event in events:
            if topic == "order-status" and event.status == MOVED:  # ingest's own event for the store left
                continue
            result.events[topic] += 1
            at = event.occurred_ms if topic == "order-status" else event.created_ms
            result.first_ms = at if result.first_ms is None else min(result.first_ms, at)
            result.last_ms = at if result.last_ms is None else max(result.last_ms, at)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def _scan(paths: Sequence[Path], topics: dict[str, int], line_max: int
          ) -> tuple[int, int, dict[int, list[tuple[int, int]]]]:
    """The sources of each input topic (a dump's partitions; one for a generated file) and, by line number over
    all files, the sources whose last line it is (0: sources with no line at all)."""
    last: dict[tuple[int, int], int] = {}
    read = 0
    for path in paths:
        with open(path, "rb") as fh:
            for index, line in bounded(fh, line_max, read):
                read = index
                if line is None or b'"partition"' not in line:  # no partition: source 0 of either topic
                    last[(ORDER, 0)] = last[(REVIEW, 0)] = index
                    continue
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                topic = rec.get("topic") if isinstance(rec, dict) else None
                kind = topics.get(topic) if isinstance(topic, str) else None
                if kind in (ORDER, REVIEW) and where_ok(rec):
                    last[(kind, rec.get("partition") or 0)] = index  # type: ignore[index]
    counts = {kind: 1 + max((p for k, p in last if k == kind), default=0) for kind in (ORDER, REVIEW)}
    ends: dict[int, list[tuple[int, int]]] = {}
    for kind, n in counts.items():
        for partition in range(n):
            ends.setdefault(last.get((kind, partition), 0), []).append((kind, partition))
    return counts[ORDER], counts[REVIEW], ends


def _command(rec: dict[str, Any], where: str, base: Settings, result: Pass) -> tuple[str, str, str, str, int] | None:
    """An operator's restore in a dump of ``store-commands`` (it reaches every variant), or None."""
    try:
        cmd = decode_store_command(message_value(rec), max_bytes=base.max_value_bytes)
    except DecodeError as exc:
        result.refuse(where, exc.reason)
        return None
    except (binascii.Error, TypeError, ValueError):
        result.refuse(where, "input: value_b64 is not base64")
        return None
    if cmd.command != "restore":
        return None
    return cmd.store_id, cmd.city, cmd.by, cmd.note, int(cmd.at.timestamp() * 1000)
