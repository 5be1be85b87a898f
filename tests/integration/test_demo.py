"""`monitor demo` on the session's broker: it tells the generated day's story, scores it, and leaves nothing running."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def demo_env(kafka_bootstrap: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["MONITOR_DATA_DIR"] = str(tmp_path / "var")
    return env


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment contains ``marker`` (the demo's children carry its data dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


class TestDemo:
    @pytest.mark.timeout(420)
    def test_the_demo_shows_hides_alerts_dead_letter_messages_and_score(self, kafka_bootstrap, tmp_path) -> None:
        """The replayed day hides the failing stores with order ids, raises per-order and negativity alerts,
        dead-letters the broken message, shows delivered messages and the score, then stops its processes."""
        env = demo_env(kafka_bootstrap, tmp_path)
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "demo", "--bootstrap", kafka_bootstrap],
                              env=env, capture_output=True, text=True, timeout=400)
        out = proc.stdout
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "HIDE st-0212 (Moscow)" in out and "late:    ord-1-001-" in out
        for kind in ("store_hidden", "order_late", "order_at_risk", "store_negativity", "negative_review"):
            assert f" {kind} " in out, kind
        assert "not valid JSON" in out
        assert "messages (grouped per alert kind and city)" in out and "Hidden from customers: " in out
        assert "DETECTED    store_stops_accepting" in out
        assert "QUIET       small_store_unlucky_review" in out
        assert "DETECTED    city_slow_couriers" in out  # a city_lateness alert, and no store of it hidden
        assert "detected 4 of 4, missed 0" in out and "1 hides" not in out
        assert processes_with(f"MONITOR_DATA_DIR={tmp_path / 'var'}") == []
        # the closing hint is a backtest command that runs as printed, on the day the demo generated
        hint = out.rsplit("without a broker: ", 1)[1].splitlines()[0]
        assert hint.startswith("monitor backtest ")
        bt = subprocess.run([sys.executable, "-m", "monitor.cli", *shlex.split(hint)[1:], "--quiet"], env=env,
                            capture_output=True, text=True, timeout=120)
        assert bt.returncode == 0, bt.stderr[-3000:]
        assert "| 4 + 2 | hide_min_late=4, hide_min_late_plus_at_risk=6 |" in bt.stdout

    @pytest.mark.timeout(180)
    def test_ctrl_c_stops_the_worker_and_the_dispatcher(self, kafka_bootstrap, tmp_path) -> None:
        """An interrupt while the day is being processed exits 130 and leaves no demo process behind."""
        env = demo_env(kafka_bootstrap, tmp_path)
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "demo", "--bootstrap", kafka_bootstrap],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("4/6"):
                break
        marker = f"MONITOR_DATA_DIR={tmp_path / 'var'}"
        deadline = time.monotonic() + 30
        while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # the polling interval of this wait
        assert len(processes_with(marker)) >= 2, "the worker and the dispatcher should be running"
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
        assert proc.wait(120) == 130
        assert "stopped the worker and the dispatcher" in rest
        assert processes_with(marker) == []
