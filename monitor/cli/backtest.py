"""``monitor backtest``: what other rule settings would have done on recorded traffic, in one process."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from monitor.cli.common import CommandError, UsageError, add_command, load_settings

__all__ = ["register"]


def cmd_backtest(args: argparse.Namespace) -> int:
    import orjson

    from monitor.backtest.report import TruthError, build_report, load_truth, write_chart, write_markdown
    from monitor.backtest.run import default_jobs, run_pass
    from monitor.backtest.variants import BASELINE, Variant, parse_variant
    from monitor.toolkit.progress import Progress

    settings = load_settings()
    variants = [Variant(BASELINE, settings)]
    for text in args.variant or ():
        try:
            variants.append(parse_variant(text, settings))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise UsageError(f"--variant: two variants share a name ({', '.join(names)})")
    truth = None
    if args.truth:
        try:
            truth = load_truth(Path(args.truth))
        except TruthError as exc:
            raise UsageError(str(exc)) from None
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="backtest-") as scratch:
        inputs = _inputs(args, settings, Path(scratch))
        total = sum(_count_lines(p) for p in inputs) if not args.quiet else None
        bar = Progress("backtest", total=total) if not args.quiet else None
        jobs = args.jobs or default_jobs(variants)
        try:
            result = run_pass(inputs, settings, variants, out / "outputs", progress=bar.add if bar else None,
                              jobs=jobs)
        except RuntimeError as exc:  # a process of the pass stopped: its traceback is above
            raise CommandError(str(exc)) from None
        if bar is not None:
            bar.done()
        report = build_report(result, inputs, truth)
    out.mkdir(parents=True, exist_ok=True)
    (out / "backtest.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    write_markdown(report, out / "backtest.md")
    charted = write_chart(report, out / "backtest.png")
    print((out / "backtest.md").read_text(encoding="utf-8").split("\n## ", 1)[0].rstrip())
    print(f"\nreport: {out / 'backtest.md'}, {out / 'backtest.json'}"
          + (f", {out / 'backtest.png'}" if charted else " (no chart: matplotlib is not installed)")
          + f"; outputs per variant in {out / 'outputs'}")
    return 0


def _inputs(args: argparse.Namespace, settings: Any, scratch: Path) -> list[Path]:
    if args.from_topics:
        if args.inputs:
            raise UsageError("give input files or --from-topics, not both")
        from monitor.cli.replay import _iso_ms, _require_broker
        from monitor.toolkit.dump import dump_topics

        _require_broker(settings)
        path = scratch / "topics.jsonl"
        topics = [settings.topic_order_status, settings.topic_reviews, settings.topic_store_commands]
        try:
            dump_topics(settings.kafka_bootstrap_servers, topics, path, from_ms=_iso_ms(args.from_, "--from"),
                        to_ms=_iso_ms(args.to, "--to"), progress=not args.quiet)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return [path]
    if not args.inputs:
        raise UsageError("give at least one input file (from `monitor dump` or `monitor generate`) or --from-topics")
    paths = [Path(p) for p in args.inputs]
    for p in paths:
        if not p.is_file():
            raise CommandError(f"no such file: {p}")
    return paths


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def register(sub: Any) -> None:
    bt = add_command(sub, "backtest", cmd_backtest,
                     "what other rule settings would have done on recorded traffic (no broker needed)")
    bt.add_argument("inputs", nargs="*", metavar="INPUT.jsonl", help="JSONL from `monitor dump` or `monitor generate`")
    bt.add_argument("--variant", action="append", metavar="NAME:key=value,...",
                    help="rule settings to compare with the settings in force (repeatable), e.g. "
                         "'4+2:hide_min_late=4,hide_min_late_plus_at_risk=6' or 'neg3:negativity_threshold=0.03'")
    bt.add_argument("--truth", help="incidents to score against: <out>.truth.json from `monitor generate`, or a "
                                    "file labelled by hand in the same shape (docs/replay.md)")
    bt.add_argument("--out", required=True, help="folder for backtest.md, backtest.json, backtest.png and outputs/")
    bt.add_argument("--from-topics", action="store_true",
                    help="read order-status, reviews and store-commands from Kafka instead of files")
    bt.add_argument("--from", dest="from_", help="with --from-topics: messages at or after this ISO 8601 time")
    bt.add_argument("--to", help="with --from-topics: messages before this ISO 8601 time")
    bt.add_argument("--jobs", type=int, choices=range(1, 9), metavar="N",
                    help="processes (1-8; default: one reading and one per distinct order rule set, up to the cores)")
    bt.add_argument("--quiet", action="store_true", help="no progress line")

