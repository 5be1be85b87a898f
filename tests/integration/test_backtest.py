"""``monitor backtest`` decides what a worker decides: the same generated days through a real worker on the broker
and through the in-process backtest give identical hides and alerts (ids, times, evidence)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from reliability import comparable, dedupe, preload, run_env, wait_until_done, write_traffic

from monitor.backtest.run import run_pass
from monitor.backtest.variants import BASELINE, Variant
from monitor.settings import Settings
from monitor.toolkit.jsonl import read_records

pytestmark = pytest.mark.slow


def _backtest_outputs(path: Path) -> list[dict]:
    return [rec["value"] for rec in read_records(path)]


class TestSameDecisionsAsTheWorker:
    @pytest.mark.timeout(600)
    def test_a_generated_multi_day_input_gives_identical_outputs(self, monitor_env, start_worker,
                                                                 tmp_path: Path) -> None:
        """Three generated days with every kind of injected incident, 4 partitions: the worker's hides and
        alerts, deduped by id, equal the backtest's baseline in full, and the backtest repeats none."""
        path = write_traffic(tmp_path / "traffic.jsonl", days=3, orders_per_day=400, stores=40, seed=5)
        env = run_env({**monitor_env, "MONITOR_PARTITIONS": "4"}, "bt")
        preload(env, path)
        worker = start_worker(env, name="bt")
        worker_outputs = dedupe(wait_until_done(env))
        assert worker.stop() == 0

        settings = Settings.load(env)
        result = run_pass([path], settings, [Variant(BASELINE, settings)], tmp_path / "backtest")
        backtest_outputs = dedupe(_backtest_outputs(result.runs[0].outputs))

        assert backtest_outputs.duplicates == 0
        reference, got = comparable(worker_outputs), comparable(backtest_outputs)
        kinds = {v["kind"] if "kind" in v else v["action"] for v in reference.values() if v}
        assert {"hide", "store_hidden", "order_late", "order_at_risk", "negative_review", "store_negativity",
                "city_lateness"} <= kinds, kinds
        missing, extra = set(reference) - set(got), set(got) - set(reference)
        assert not missing and not extra, (sorted(missing)[:10], sorted(extra)[:10])
        differing = [k for k in reference if reference[k] != got[k]]
        assert not differing, [(reference[k], got[k]) for k in differing[:3]]

        # the same from the topics (dumped with their partitions: four sources per input topic, interleaved)
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "backtest", "--from-topics", "--out",
                               str(tmp_path / "from-topics"), "--quiet"], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        from_topics = dedupe(_backtest_outputs(tmp_path / "from-topics" / "outputs" / "0-baseline.jsonl"))
        assert comparable(from_topics) == reference


class TestCommand:
    def test_report_with_a_variant_the_truth_and_bad_input(self, tmp_path: Path) -> None:
        """The command end to end, without a broker: two generated days with incidents plus three hostile lines.
        Bad lines are counted by reason as the worker would dead-letter them; a variant that hides on less
        evidence hides the failing stores earlier; both are scored against the generator's truth."""
        data = tmp_path / "days.jsonl"
        subprocess.run([sys.executable, "-m", "monitor.cli", "generate", "--out", str(data), "--days", "2",
                        "--orders-per-day", "600", "--stores", "60", "--seed", "3"], check=True,
                       capture_output=True, timeout=120)
        with open(data, "ab") as fh:
            fh.write(b"{not json\n")
            fh.write(orjson.dumps({"topic": "order-status", "key": "o-future", "value": {
                "event_id": "e-f", "order_id": "o-future", "store_id": "st-x", "city": "Moscow", "status": "created",
                "occurred_at": "2099-01-01T00:00:00+00:00", "promised_at": "2099-01-01T02:00:00+00:00"}}) + b"\n")
            fh.write(orjson.dumps({"topic": "reviews", "key": "r-bad", "value": {"review_id": "r-bad"}}) + b"\n")
            fh.write(orjson.dumps({"topic": "order-status", "key": "o-old", "value": {  # older than stores count
                "event_id": "e-o", "order_id": "o-old", "store_id": "st-old", "city": "Moscow", "status": "created",
                "occurred_at": "2026-01-01T00:00:00+00:00", "promised_at": "2026-01-01T02:00:00+00:00"}}) + b"\n")
        out = tmp_path / "report"
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "backtest", str(data), "--truth",
                               str(data.with_suffix(".truth.json")), "--variant",
                               "4+2:hide_min_late=4,hide_min_late_plus_at_risk=6", "--out", str(out), "--quiet"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "| 4+2 | hide_min_late=4, hide_min_late_plus_at_risk=6 |" in proc.stdout

        report = orjson.loads((out / "backtest.json").read_bytes())
        bad = report["input"]["bad_input"]
        assert bad.get("order-status: FUTURE_EVENT_TIME") == 1, bad
        assert sum(n for reason, n in bad.items() if reason.startswith("input: not a JSON line")) == 1, bad
        assert sum(n for reason, n in bad.items() if reason.startswith("reviews:")) == 1, bad
        baseline, variant = report["variants"]
        assert baseline["refused"] == variant["refused"] == {"order-status: TOO_OLD": 1}
        assert "- 4+2: order-status: TOO_OLD: 1" in (out / "backtest.md").read_text()
        for v in (baseline, variant):
            outcomes = {r["kind"]: r["outcome"] for r in v["score"]["incidents"]}
            assert outcomes["store_stops_accepting"] == "DETECTED" and outcomes["store_overloaded"] == "DETECTED"
            assert outcomes["small_store_unlucky_review"] == "QUIET"
        delays = {v["name"]: {r["kind"]: r["delay_s"] for r in v["score"]["incidents"]} for v in (baseline, variant)}
        assert delays["4+2"]["store_overloaded"] < delays[BASELINE]["store_overloaded"], delays
        assert variant["vs_baseline"]["hidden_earlier"], variant["vs_baseline"]
        assert (out / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "## 4+2 against the baseline" in (out / "backtest.md").read_text()

    @pytest.mark.parametrize(("variant", "words"), [
        ("nocolon", "expected NAME:key=value"),
        ("x:max_value_bytes=5", "cannot change in a backtest"),
        ("x:hide_min_late=zero", "invalid hide_min_late"),
        ("x:hide_min_late=9", "hide_min_late_plus_at_risk"),
        ("baseline:hide_min_late=4", "the settings in force"),
    ])
    def test_a_bad_variant_is_a_usage_error(self, tmp_path: Path, variant: str, words: str) -> None:
        data = tmp_path / "empty.jsonl"
        data.write_bytes(b"")
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "backtest", str(data), "--variant", variant,
                               "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc
        assert words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
