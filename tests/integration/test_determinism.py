"""Same input, same decisions: one generated scenario sent several ways gives the same hides and alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability import comparable, dedupe, preload, replay, run_env, wait_until_done, write_traffic

from monitor.ops.admin import ensure_topics
from monitor.settings import Settings

pytestmark = pytest.mark.slow


class TestSameInputSameDecisions:
    @pytest.mark.timeout(900)  # four runs of the monitor, about two minutes each on 2 cores
    def test_one_scenario_sent_four_ways_gives_identical_hides_and_alerts(self, monitor_env, start_worker,
                                                                         tmp_path: Path) -> None:
        """Two generated days with injected incidents and reviews, sent as a burst before the worker starts
        (4 partitions), as a burst while it runs (4 partitions), as a burst into 1 partition, and slowly
        (3,600x event time): deduped by id, every output is equal in full (ids, times, evidence, shares)."""
        path = write_traffic(tmp_path / "traffic.jsonl", days=2, orders_per_day=300, stores=30, seed=11)

        def run(name: str, partitions: int, *, before: bool = True, speed: float | None = None) -> dict:
            env = run_env({**monitor_env, "MONITOR_PARTITIONS": str(partitions)}, name)
            if before:
                preload(env, path)
                worker = start_worker(env, name=name)
            else:
                ensure_topics(Settings.load(env))
                worker = start_worker(env, name=name)
                worker.wait_for_log("ingest_assigned", timeout_s=120)
                replay(env, path, speed=speed)
            outputs = dedupe(wait_until_done(env))
            assert worker.stop() == 0
            return comparable(outputs)

        reference = run("before-4", 4)
        kinds = {v["kind"] if "kind" in v else v["action"] for v in reference.values() if v}
        assert {"hide", "store_hidden", "order_late", "negative_review", "store_negativity"} <= kinds, kinds
        for name, partitions, before, speed in (("after-4", 4, False, None), ("before-1", 1, True, None),
                                                ("slow-4", 4, False, 3600.0)):
            got = run(name, partitions, before=before, speed=speed)
            missing, extra = set(reference) - set(got), set(got) - set(reference)
            assert not missing and not extra, (name, sorted(missing)[:10], sorted(extra)[:10])
            differing = [k for k in reference if reference[k] != got[k]]
            assert not differing, (name, [(reference[k], got[k]) for k in differing[:3]])
