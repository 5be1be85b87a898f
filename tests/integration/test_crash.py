"""Crash safety: a worker killed with SIGKILL in the middle of a replay and started again produces the same
outputs as an uninterrupted run: no id lost, no distinct extra id; copies of one id may repeat (at-least-once)."""

from __future__ import annotations

import threading
import time

import pytest
from reliability import (
    REDONE_AFTER_A_CRASH,
    comparable,
    dedupe,
    deterministic_ids,
    read_outputs,
    replay,
    run_env,
    wait_until_done,
    write_traffic,
)


@pytest.mark.slow
@pytest.mark.timeout(600)
class TestCrash:
    def test_sigkill_mid_replay_gives_the_outputs_of_an_uninterrupted_run(self, monitor_env, start_worker,
                                                                        tmp_path) -> None:
        """Two days of generated traffic with two stores that must be hidden: kill -9 the worker once the first
        output is out, restart it while the replay goes on; deduped by id, the outputs equal the reference run."""
        # a crashed worker's partitions wait for its session to time out: 10 s here, 60 s by default
        env = {**monitor_env, "MONITOR_PARTITIONS": "4", "MONITOR_SESSION_TIMEOUT": "10s"}
        traffic = write_traffic(tmp_path / "traffic.jsonl", days=2, orders_per_day=300, stores=30)

        reference, crashed = run_env(env, "ref"), run_env(env, "crash")
        worker = start_worker(reference, name="reference")  # the uninterrupted run goes on alongside
        first = start_worker(crashed, name="killed")
        replay(reference, traffic)
        first.wait_for_log("store_state_loaded", timeout_s=90)
        replay_ended: list[float] = []

        def feed() -> None:  # two days of event time in about 30 s
            replay(crashed, traffic, speed=2 * 86400 / 30)
            replay_ended.append(time.monotonic())

        feeder = threading.Thread(target=feed)
        feeder.start()
        first.wait_for_log("decision", timeout_s=120)
        before = len(read_outputs(crashed))
        assert first.kill() == -9
        assert feeder.is_alive(), "the replay ended before the crash: the test proves nothing"
        second = start_worker(crashed, name="restarted")
        loaded = second.wait_for_log("store_state_loaded", timeout_s=120)
        second.wait_for_log("decision", timeout_s=120)
        first_output_s = time.monotonic() - second.started
        expected = dedupe(wait_until_done(reference))
        assert worker.stop() == 0
        assert expected.duplicates == 0
        hides = {k for k in expected.by_id if k[0].startswith("hide:")}
        assert len(hides) >= 2, sorted(expected.by_id)
        feeder.join()
        wait_until_done(crashed, quiet_s=0)
        caught_up_s = time.monotonic() - replay_ended[0]
        got = dedupe(wait_until_done(crashed))
        print(f"\nrecovery after SIGKILL ({before} outputs before the kill): state loaded "
              f"({loaded['stores']} stores) and first output {first_output_s:.1f}s after the restart; "
              f"caught up (no lag) {caught_up_s:.1f}s after the replay ended; "
              f"{got.duplicates} duplicate copies of {len(got.by_id)} ids")

        assert deterministic_ids(got) == deterministic_ids(expected)  # no id lost, no distinct extra id
        assert comparable(got, REDONE_AFTER_A_CRASH) == comparable(expected, REDONE_AFTER_A_CRASH)  # same messages
