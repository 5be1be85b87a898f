"""`monitor loadtest` against a real worker: probes come back, latency and lag are measured, a chart is drawn."""

from __future__ import annotations

import json
import subprocess
import sys


class TestLoadtest:
    def test_short_load_measures_latency_and_lag(self, monitor_env, start_worker, tmp_path) -> None:
        """At 50 events/s for 8 s every probe is answered and the result holds percentiles and lag samples."""
        worker = start_worker(monitor_env)
        worker.wait_for_log("store_state_loaded", timeout_s=60)
        out, chart = tmp_path / "load.json", tmp_path / "load.png"
        proc = subprocess.run(
            [sys.executable, "-m", "monitor.cli", "loadtest", "--rate", "50", "--duration", "8", "--out", str(out),
             "--chart", str(chart), "--worker-pid", str(worker.proc.pid)],
            env=monitor_env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(out.read_text())
        assert result["probes_sent"] >= 30
        assert result["probes_answered"] == result["probes_sent"]
        lat = result["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        assert result["lag_samples"] and result["worker_peak_rss_mb"] > 10
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
