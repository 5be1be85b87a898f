"""The sides of a backtest (``monitor/backtest/engine.py``: one per distinct order or review rule set), the process
each runs in, and the other processes: valid events reach them in batches through a pipe. Each side writes its
outputs to a file of its own; after the pass each variant's outputs are its order side's, then its review side's.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import orjson

from monitor.backtest.engine import OrderSide, ReviewSide
from monitor.backtest.summary import VariantRun
from monitor.backtest.variants import Variant
from monitor.domain.outputs import Emit
from monitor.toolkit.jsonl import to_line
from monitor.wire.codec import encode
from monitor.wire.protocol import OrderEvent, ReviewEvent

__all__ = ["Side", "build_sides", "default_jobs", "Child", "merge", "ORDER", "REVIEW", "RESTORE", "END"]

ORDER, REVIEW, RESTORE, END = 0, 1, 2, 3
_BATCH = 2000  # events per message to another process


class Side:
    """One order or review side, the file its outputs go to, and the process (0: this one) that runs it."""

    def __init__(self, side: OrderSide | ReviewSide, path: Path, job: int) -> None:
        self.side, self.path, self.job = side, path, job
        self.fh: Any = None
        # order sides: how long orders are kept, which decides how ingest's registry screens them
        self.keep = side.orders.late_window_ms + side.orders.retention_ms if isinstance(side, OrderSide) else 0

    def sink(self, e: Emit) -> None:
        self.fh.write(to_line(e.topic, e.key.encode(), encode(e.value), int(e.value.at.timestamp() * 1000)))


def build_sides(variants: Sequence[Variant], out_dir: Path, jobs: int, order_sources: int,
           review_sources: int) -> tuple[list[Side], list[Side], list[tuple[Side, Side]]]:
    orders: dict[tuple, Side] = {}
    reviews: dict[tuple, Side] = {}
    mine = []
    for v in variants:
        key = OrderSide.rules_of(v.settings)
        if key not in orders:
            n = len(orders)
            s = orders[key] = Side(OrderSide(v.settings, lambda e: None, order_sources), out_dir / f"orders-{n}.jsonl",
                                    _job(n, jobs))
            s.side.sink = s.sink
        rkey = ReviewSide.rules_of(v.settings)
        if rkey not in reviews:
            n = len(reviews)
            r = reviews[rkey] = Side(ReviewSide(v.settings, lambda e: None, review_sources),
                                      out_dir / f"reviews-{n}.jsonl", _job(n, jobs))
            r.side.sink = r.sink
        mine.append((orders[key], reviews[rkey]))
    return list(orders.values()), list(reviews.values()), mine


def _job(n: int, jobs: int) -> int:
    """The process of the n-th order (or review) side: this one alone, or, with more, one of the others (this one
    reads and checks the input, as much work as one order side)."""
    return 0 if jobs <= 1 else 1 + n % (jobs - 1)


def default_jobs(variants: Sequence[Variant]) -> int:
    """One process reading, and one per distinct order rule set, as many as there are cores (1 on one core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    order_sets = len({OrderSide.rules_of(v.settings) for v in variants})
    return 1 if cores < 2 else 1 + min(order_sets, cores)


class Child:
    """Another process running some of the sides; valid events reach it in batches through a pipe."""

    def __init__(self, job: int, orders: list[Side], reviews: list[Side]) -> None:
        self.orders, self.reviews = orders, reviews
        ctx = multiprocessing.get_context("fork")  # the sides are built here; the child starts with them
        self.conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(target=_child_main, args=(theirs, orders, reviews), name=f"backtest-{job}",
                                daemon=True)
        self.proc.start()
        theirs.close()
        self.batch: list[tuple[int, int, list[Any], int]] = []

    def add(self, kind: int, source: int, fields: list[Any], group: int = 0) -> None:
        self.batch.append((kind, source, fields, group))
        if len(self.batch) >= _BATCH:
            self._send(self.batch)
            self.batch = []

    def finish(self) -> dict[str, tuple[Counter[str], Counter[str]]]:
        self._send(self.batch)
        self.batch = []
        self._send(None)
        try:
            counters: dict[str, tuple[Counter[str], Counter[str]]] = self.conn.recv()
        except (OSError, EOFError):
            self._died()
        self.proc.join()
        if self.proc.exitcode != 0:
            raise RuntimeError(f"backtest process {self.proc.name} exited {self.proc.exitcode}")
        return counters

    def _send(self, message: Any) -> None:
        try:
            self.conn.send(message)
        except OSError:
            self._died()

    def _died(self) -> NoReturn:
        self.proc.join(timeout=10)
        raise RuntimeError(f"backtest process {self.proc.name} stopped (exit code {self.proc.exitcode}); its error "
                           "is above")

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def _child_main(conn: Any, orders: list[Side], reviews: list[Side]) -> None:
    for s in orders + reviews:
        s.fh = open(s.path, "wb")  # noqa: SIM115 - closed below
    while (batch := conn.recv()) is not None:
        for kind, source, fields, group in batch:
            if kind == ORDER:
                event = OrderEvent(*fields)
                for s in orders:
                    if s.keep == group:  # screened by the registry that keeps orders as long as this side
                        s.side.order(event, source)  # type: ignore[union-attr]
            elif kind == REVIEW:
                review = ReviewEvent(*fields)
                for s in reviews:
                    s.side.review(review, source)  # type: ignore[union-attr]
            elif kind == END:  # a source has no more lines: fields = [its topic's kind]
                for s in orders if fields[0] == ORDER else reviews:
                    s.side.end_source(source)  # type: ignore[union-attr]
            else:
                for s in orders:
                    s.side.restore(fields[0], fields[1], by=fields[2], note=fields[3], at_ms=fields[4])  # type: ignore[union-attr]
    for s in orders + reviews:
        s.side.finish()
        s.fh.close()
    conn.send({s.path.name: (s.side.refused, s.side.ignored) for s in orders + reviews})
    conn.close()


def merge(run: VariantRun, parts: Iterable[Path]) -> None:
    """The variant's outputs file and summary, from the files of its order side and its review side."""
    with open(run.outputs, "wb") as out:
        for part in parts:
            with open(part, "rb") as fh:
                for line in fh:
                    out.write(line)
                    rec = orjson.loads(line)
                    run.take(rec["topic"], rec["value"])
