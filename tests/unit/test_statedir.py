"""The start-up check of the local state folder: foreign, mismatched or corrupted folders are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rocksdict import Rdict

from monitor.ops.statedir import (
    MARKER,
    StateDirError,
    check_state_dir,
    rebuild_state_dir,
    state_dir,
    write_marker,
)
from monitor.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(environ={"MONITOR_DATA_DIR": str(tmp_path), "MONITOR_APP_ID": "qm-a",
                                  "MONITOR_PARTITIONS": "4"})


def make_table(settings: Settings, name: str = "store-state-0") -> Path:
    path = state_dir(settings) / "v1" / "tables" / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Rdict(str(path))
    db[b"k"] = b"v"
    db.close()
    return path


class TestCheckStateDir:
    def test_missing_folder_is_fine(self, settings: Settings) -> None:
        """A first start has no folder: nothing to check, Faust restores from the changelog."""
        check_state_dir(settings)

    def test_own_folder_with_healthy_tables_passes(self, settings: Settings) -> None:
        """A folder this app wrote, with databases that open, is used as it is."""
        make_table(settings)
        write_marker(settings)
        check_state_dir(settings)
        assert json.loads((state_dir(settings) / MARKER).read_text()) == {"app_id": "qm-a", "partitions": 4}

    def test_folder_of_another_app_id_is_refused(self, settings: Settings) -> None:
        """A folder copied from another app id names both ids and the way out."""
        state_dir(settings).mkdir(parents=True)
        (state_dir(settings) / MARKER).write_text(json.dumps({"app_id": "qm-other", "partitions": 4}))
        with pytest.raises(StateDirError, match=r"app_id 'qm-other'.*--rebuild-state"):
            check_state_dir(settings)

    def test_folder_of_another_partition_count_is_refused(self, settings: Settings) -> None:
        """State written with 2 partitions would put stores on the wrong partitions with 4."""
        write_marker(settings.replace(partitions=2))
        with pytest.raises(StateDirError, match="partitions 2"):
            check_state_dir(settings)

    @pytest.mark.parametrize("victim", ["CURRENT", "MANIFEST"])
    def test_corrupted_table_is_refused(self, settings: Settings, victim: str) -> None:
        """Garbage in a RocksDB database's CURRENT or MANIFEST file is found before Faust opens it."""
        db = make_table(settings)
        write_marker(settings)
        for f in db.glob(f"{victim}*"):
            f.write_bytes(b"\x00garbage\xff" * 10)
        with pytest.raises(StateDirError, match=r"store-state-0.db is corrupted.*--rebuild-state"):
            check_state_dir(settings)

    def test_a_file_where_a_table_should_be_is_refused(self, settings: Settings) -> None:
        """A stray file named like a table database is not a database."""
        path = state_dir(settings) / "v1" / "tables" / "store-state-1.db"
        path.parent.mkdir(parents=True)
        path.write_text("not a database")
        with pytest.raises(StateDirError, match="is a file"):
            check_state_dir(settings)

    def test_unreadable_marker_is_refused(self, settings: Settings) -> None:
        """A marker that is not JSON is reported rather than ignored."""
        state_dir(settings).mkdir(parents=True)
        (state_dir(settings) / MARKER).write_text("{{{")
        with pytest.raises(StateDirError, match="unreadable"):
            check_state_dir(settings)

    def test_rebuild_deletes_the_folder(self, settings: Settings) -> None:
        """--rebuild-state removes the folder, which then passes the check."""
        db = make_table(settings)
        (db / "CURRENT").write_bytes(b"garbage")
        rebuild_state_dir(settings)
        assert not state_dir(settings).exists()
        check_state_dir(settings)
