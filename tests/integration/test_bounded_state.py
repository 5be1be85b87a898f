"""Bounded resources: the state left by 60 days of traffic equals the state left by its last 30 days alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from reliability import MSK, preload, read_to_end, run_env, wait_until_done, write_traffic

from monitor.toolkit.generate import write_jsonl
from monitor.toolkit.jsonl import read_records
from monitor.toolkit.replay import record_time_ms

START = datetime(2026, 1, 1, tzinfo=MSK)
CUT = START + timedelta(days=30)
DAY_MS = 86_400_000
TABLES = ("store-state", "store-reviews", "city-reviews")


def table_state(env: dict[str, str], table: str) -> dict[bytes, dict]:
    """The compacted view of a table's changelog: the last value of every key, deleted keys left out."""
    topic = f"{env['MONITOR_APP_ID']}-{table}-changelog"
    latest: dict[bytes | None, bytes | None] = {}
    for key, value in read_to_end(env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"], topic):
        latest[key] = value
    return {k: orjson.loads(v) for k, v in latest.items() if v is not None}


def rocksdb_option(data_dir: Path, app_id: str, name: str) -> set[str]:
    """The values of a RocksDB option in the OPTIONS files of every table database of ``app_id``."""
    values = set()
    files = list((data_dir / "faust" / app_id).rglob("OPTIONS-*"))
    assert files, f"no RocksDB OPTIONS file under {data_dir / 'faust' / app_id}"
    for options in files:
        for line in options.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key == name:
                values.add(value.strip())
    return values


def cut_traffic(src: Path, dst: Path) -> int:
    """The records of ``src`` from CUT on."""
    cut_ms = int(CUT.timestamp() * 1000)
    kept = [r for r in read_records(src) if record_time_ms(r) >= cut_ms]
    return write_jsonl(dst, kept)


def recent(entries: dict[str, int] | dict[str, list[int]], *, by_value: bool = False) -> dict:
    """Entries from the first whole day after the cut (the cut day itself is seen in part by the short run),
    keyed by day start ms (``by_value``: valued by creation ms)."""
    first = int(CUT.timestamp() * 1000) // DAY_MS * DAY_MS + DAY_MS
    return {k: v for k, v in entries.items() if (v if by_value else int(k)) >= first}


def without(value: dict, *names: str) -> dict:
    """A table value without some fields. What may legitimately differ between the two runs:

    - ``t``, the partition clock at the value's last write: how far the other source partitions had got at that
      moment depends on how they interleaved, not on the data;
    - ``d``, ``b``, ``seen`` before the cut: only the long run saw those days (daily totals are kept 35 days,
      review days until the stream's time moves the store's window past them);
    - ``old`` is compared on its own: it must be 0 in both runs (nothing in this traffic arrives a window late);
    - the negativity alert history (``f``, ``fs``, ``i``, ``fa``): an alert the long run fired on day 45 counted
      reviews from before the cut, which the short run never saw; incident numbers and firing times are kept
      (90 days, for repeat offenders) on purpose.
    """
    return {k: v for k, v in value.items() if k not in names}


REVIEW_HISTORY = ("t", "b", "seen", "old", "f", "fs", "i", "fa")


@pytest.mark.slow
@pytest.mark.timeout(500)
class TestBoundedState:
    def test_sixty_days_leave_the_state_of_the_last_thirty(self, monitor_env, start_worker, tmp_path) -> None:
        """Order facts and hide state, and the review days and seen review ids of the last 30 days after 60 days
        equal those after only the last 30 days; no daily total is older than 35 days and no
        review day older than the window; what may differ is listed in ``without``."""
        sixty = write_traffic(tmp_path / "60d.jsonl", days=60, orders_per_day=20, stores=6, seed=3, start=START,
                              incidents=())
        thirty = tmp_path / "30d.jsonl"
        assert cut_traffic(sixty, thirty) > 1000
        # the short run also checks that the RocksDB memory settings reach every table (4 MiB instead of 8)
        runs = {name: (run_env(monitor_env, name, **extra), path) for name, path, extra in (
            ("d60", sixty, {}), ("d30", thirty, {"MONITOR_ROCKSDB_WRITE_BUFFER_MB": "4"}))}
        for env, path in runs.values():
            preload(env, path)
        workers = {name: start_worker(env, name=name) for name, (env, _) in runs.items()}  # side by side
        states = {}
        for name, (env, _) in runs.items():
            wait_until_done(env)
            assert workers[name].stop() == 0
            states[name] = {t: table_state(env, t) for t in TABLES}

        data = Path(monitor_env["MONITOR_DATA_DIR"])
        for name, buffer_mb in (("d60", 8), ("d30", 4)):
            app_id = runs[name][0]["MONITOR_APP_ID"]
            assert rocksdb_option(data, app_id, "write_buffer_size") == {str(buffer_mb << 20)}, name
            assert rocksdb_option(data, app_id, "max_write_buffer_number") == {"2"}, name

        long, short = states["d60"], states["d30"]
        for table in TABLES:
            assert set(long[table]) == set(short[table]), table  # no key left over from the first 30 days
        assert len(long["store-state"]) >= 6 and len(long["store-reviews"]) >= 6
        for key, value in long["store-state"].items():
            other = short["store-state"][key]
            assert all(int(d) >= value["t"] - 36 * DAY_MS for d in value["d"]), "daily totals older than 35 days"
            assert recent(value["d"]) == recent(other["d"]), key
            assert without(value, "t", "d") == without(other, "t", "d"), key
        for table in ("store-reviews", "city-reviews"):
            for key, value in long[table].items():
                other = short[table][key]
                assert all(int(d) >= value["t"] - 31 * DAY_MS for d in value["b"]), "review days beyond the window"
                assert recent(value["b"]) == recent(other["b"]), (table, key)
                # ingest keeps the pre-loaded source partitions within source_skew of each other: no review of
                # this traffic is older than the window at its point of the stream, so none may be ignored
                assert value["old"] == other["old"] == 0, (table, key, value["old"], other["old"])
                assert recent(value["seen"], by_value=True) == recent(other["seen"], by_value=True), (table, key)
                assert without(value, *REVIEW_HISTORY) == without(other, *REVIEW_HISTORY), (table, key)
