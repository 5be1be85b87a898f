"""dump and replay against the real broker: what is dumped replays to the same keys, values and order."""

from __future__ import annotations

import subprocess
import sys

import orjson
from kafkautil import consume_until, produce

from monitor.toolkit.jsonl import read_records


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


class TestDumpAndReplay:
    def test_dump_then_replay_to_another_topic_keeps_keys_values_and_order(self, monitor_env, tmp_path,
                                                                            unique) -> None:
        """50 messages with 5 keys dump to JSONL and replay to a new topic in the same order per key."""
        bootstrap = monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
        source, target = f"src-{unique}", f"dst-{unique}"
        items = [(f"k{i % 5}", {"n": i, "at": f"2026-02-14T10:{i:02d}:00+03:00"}) for i in range(50)]
        items.append(("broken", b"\xffnot json"))
        produce(bootstrap, source, items)
        out = tmp_path / "dump.jsonl"
        proc = run(monitor_env, "dump", source, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        records = list(read_records(out))
        assert len(records) == 51
        assert {r["partition"] for r in records} <= {0, 1, 2, 3}
        assert any("value_b64" in r for r in records)  # non-JSON kept byte for byte
        proc = run(monitor_env, "replay", str(out), "--map", f"{source}={target}")
        assert proc.returncode == 0, proc.stderr
        got = consume_until(bootstrap, target, lambda ms: len(ms) >= 51, timeout_s=60)
        by_key: dict[bytes, list[int]] = {}
        for m in got:
            if m["key"] != b"broken":
                by_key.setdefault(m["key"], []).append(m["json"]["n"])
        assert by_key == {f"k{k}".encode(): [i for i in range(50) if i % 5 == k] for k in range(5)}
        assert [m["value"] for m in got if m["key"] == b"broken"] == [b"\xffnot json"]

    def test_replay_shift_to_now_moves_event_times(self, monitor_env, tmp_path, unique) -> None:
        """--shift-to-now (as fast as possible) moves the data so that it ends now, never ahead of the wall clock,
        and keeps the spacing of the records and their promises."""
        target = f"shifted-{unique}"
        path = tmp_path / "in.jsonl"
        lines = [{"topic": target, "key": "o1", "timestamp": "2026-02-14T10:00:00+00:00",
                  "value": {"occurred_at": "2026-02-14T10:00:00+00:00", "promised_at": "2026-02-14T13:00:00+00:00"}},
                 {"topic": target, "key": "o1", "timestamp": "2026-02-14T10:05:00+00:00",
                  "value": {"occurred_at": "2026-02-14T10:05:00+00:00", "promised_at": "2026-02-14T13:00:00+00:00"}}]
        path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
        proc = run(monitor_env, "replay", str(path), "--shift-to-now")
        assert proc.returncode == 0, proc.stderr
        got = consume_until(monitor_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], target, lambda ms: len(ms) >= 2)
        from datetime import UTC, datetime, timedelta

        first = datetime.fromisoformat(got[0]["json"]["occurred_at"])
        second = datetime.fromisoformat(got[1]["json"]["occurred_at"])
        assert timedelta(0) <= datetime.now(UTC) - second < timedelta(minutes=2)
        assert second - first == timedelta(minutes=5)
        assert datetime.fromisoformat(got[0]["json"]["promised_at"]) - first == timedelta(hours=3)

    def test_missing_broker_and_bad_arguments_fail_clearly(self, monitor_env, tmp_path) -> None:
        """A missing file, a bad --speed and an unreachable broker each fail with exit 1 and a reason."""
        assert "no such file" in run(monitor_env, "replay", str(tmp_path / "nope.jsonl")).stderr
        f = tmp_path / "x.jsonl"
        f.write_text("")
        assert "--speed must be positive" in run(monitor_env, "replay", str(f), "--speed", "0").stderr
        env = {**monitor_env, "MONITOR_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
        proc = run(env, "dump", "x", "--out", str(tmp_path / "o.jsonl"))
        assert proc.returncode == 1 and "does not answer" in proc.stderr
