"""The backtest over a year of generated traffic: the settings in force and two variants in one pass, against a loop
that only reads and decodes the same file.

    .venv/bin/python scripts/bench/backtest.py                       # 365 days x 1,500 orders at 3,000 stores
    .venv/bin/python scripts/bench/backtest.py --days 14 --out /tmp/bt.json   # a short run

The year is generated once into ``.cache/bench/`` (streamed, not held in memory). Then, in the same run and each in
a fresh process (so that one's memory does not count for the other):

- ``decode``: every line parsed and checked as the backtest and the worker's ingest check it (contract, times,
  the order registry), nothing decided: the floor any backtest pays;
- ``backtest``: ``run_pass`` with the baseline, ``4 + 2`` and ``negativity 3%`` (as ``monitor backtest`` runs it:
  one process reading, one per distinct order rule set), the reading process's RSS sampled every 100,000 lines
  (flat or not) and the peak of each process.

The figure is the ratio of the two times; the result (JSON) also has events/s and the peak RSS of each.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchenv import run_header, write_result  # noqa: E402

VARIANTS = ("4 + 2:hide_min_late=4,hide_min_late_plus_at_risk=6", "negativity 3%:negativity_threshold=0.03")
SAMPLE_EVERY = 100_000


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def phase_decode(path: Path) -> dict:
    import orjson

    from monitor.backtest.lines import input_record
    from monitor.settings import Settings
    from monitor.worker.screening import Screening

    settings = Settings.load({})
    screening = Screening(settings, 1)
    started = time.perf_counter()
    wall_ms = int(time.time() * 1000)
    lines = events = 0
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            lines += 1
            rec = orjson.loads(line)
            record = input_record(rec, lineno)
            assert record is not None
            if record.topic == "order-status":
                screened = screening.orders(0, [record], wall_ms)
            else:
                screened = screening.reviews([record], wall_ms)
            events += sum(len(b) for b in screened.batches.values())
    return {"seconds": round(time.perf_counter() - started, 2), "lines": lines, "events": events,
            "peak_rss_mib": round(_peak_mb(), 1)}


def phase_backtest(path: Path, out: Path) -> dict:
    from monitor.backtest.run import default_jobs, run_pass
    from monitor.backtest.variants import BASELINE, Variant, parse_variant
    from monitor.settings import Settings

    settings = Settings.load({})
    variants = [Variant(BASELINE, settings), *(parse_variant(v, settings) for v in VARIANTS)]
    samples: list[dict] = []
    state = {"lines": 0, "started": time.perf_counter()}

    def tick(n: int) -> None:
        state["lines"] += n
        if state["lines"] % SAMPLE_EVERY == 0:
            samples.append({"lines": state["lines"], "seconds": round(time.perf_counter() - state["started"], 1),
                            "rss_mib": round(_rss_mb(), 1)})

    jobs = default_jobs(variants)
    result = run_pass([path], settings, variants, out, progress=tick, jobs=jobs)
    return {"seconds": round(result.seconds, 2), "jobs": jobs, "lines": result.lines, "events": sum(result.events.values()),
            "variants": {r.variant.name: {"hides": len(r.hides), "alerts": sum(r.counts.values()) - len(r.hides)
                                          - len(r.restores)} for r in result.runs},
            "bad_input": dict(result.bad), "peak_rss_mib": round(_peak_mb(), 1),
            "peak_rss_mib_largest_other_process": round(_children_peak_mb(), 1), "rss_samples": samples}


def _child(phase: str, path: Path, work: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--phase", phase, "--data", str(path), "--work", str(work)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _generate(days: int, orders_per_day: int, stores: int, seed: int) -> Path:
    from monitor.toolkit.generate import TrafficConfig, write_traffic
    from monitor.toolkit.progress import Progress

    path = ROOT / ".cache" / "bench" / f"backtest-{days}d-{orders_per_day}o-{stores}s-{seed}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = Progress("generate", every_s=10)
    config = TrafficConfig(start=datetime(2025, 1, 1, tzinfo=UTC), days=days, orders_per_day=orders_per_day,
                           stores=stores, seed=seed)
    partial = path.with_suffix(".partial")
    write_traffic(config, partial, on_record=lambda _: bar.add())
    bar.done()
    partial.rename(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--orders-per-day", type=int, default=1500)
    ap.add_argument("--stores", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench" / "backtest.json"))
    ap.add_argument("--phase", choices=("decode", "backtest"), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase == "decode":
        print(json.dumps(phase_decode(Path(args.data))))
        return 0
    if args.phase == "backtest":
        print(json.dumps(phase_backtest(Path(args.data), Path(args.work))))
        return 0
    path = _generate(args.days, args.orders_per_day, args.stores, args.seed)
    work = ROOT / ".cache" / "bench" / "backtest-outputs"
    decode = _child("decode", path, work)
    backtest = _child("backtest", path, work)
    rss = [s["rss_mib"] for s in backtest["rss_samples"]]
    quarter = max(1, len(rss) // 4)
    result = {
        **run_header("backtest"),
        "input": {"days": args.days, "orders_per_day": args.orders_per_day, "stores": args.stores,
                  "seed": args.seed, "lines": decode["lines"], "events": decode["events"]},
        "variants": ["baseline", *(v.split(":")[0] for v in VARIANTS)],
        "decode_only": decode,
        "backtest": backtest,
        "ratio_backtest_to_decode": round(backtest["seconds"] / decode["seconds"], 2),
        "events_per_s": round(backtest["events"] / backtest["seconds"]),
        "rss_mib_second_quarter_max": max(rss[quarter:2 * quarter], default=None),
        "rss_mib_last_quarter_max": max(rss[-quarter:], default=None),
    }
    write_result(result, args.out, bulky="backtest")
    print(f"backtest {backtest['seconds']} s vs decode-only {decode['seconds']} s: "
          f"x{result['ratio_backtest_to_decode']}; peak RSS {backtest['peak_rss_mib']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
