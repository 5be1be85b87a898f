"""The worker's local state folder: refuse a corrupted or foreign one at start-up, or rebuild it from the changelog.

The folder ``<data_dir>/faust/<app_id>`` holds one RocksDB database per table partition. It is only a cache of
the changelog topics: deleting it is always safe, and Faust then restores every table from its changelog.
A marker file written at start-up names the app id and partition count that wrote it, so a folder copied from
another app, or left from a run with another partition count, is refused instead of silently mixed in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from monitor.logs import get_logger
from monitor.settings import Settings

__all__ = ["StateDirError", "MARKER", "state_dir", "check_state_dir", "write_marker", "rebuild_state_dir"]

log = get_logger("monitor.ops.statedir")
MARKER = "monitor-state.json"
_HINT = "start the worker with --rebuild-state to rebuild it from the changelog topics"


class StateDirError(RuntimeError):
    """The local state folder cannot be used; the message says why and what to do."""


def state_dir(settings: Settings) -> Path:
    """Where Faust keeps this app's RocksDB tables."""
    return settings.data_dir / "faust" / settings.app_id


def _expected(settings: Settings) -> dict[str, object]:
    return {"app_id": settings.app_id, "partitions": settings.partitions}


def check_state_dir(settings: Settings) -> None:
    """Raise StateDirError when the folder was written by another app id or partition count, or a table's
    RocksDB database does not open; a missing or empty folder is fine (Faust fills it from the changelog)."""
    root = state_dir(settings)
    if not root.exists():
        return
    marker = root / MARKER
    if marker.exists():
        try:
            found = json.loads(marker.read_text())
            if not isinstance(found, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            raise StateDirError(f"state folder {root}: unreadable {MARKER} ({exc}); {_HINT}") from None
        for name, want in _expected(settings).items():
            if found.get(name) != want:
                raise StateDirError(f"state folder {root} was written with {name} {found.get(name)!r}, this worker "
                                    f"runs with {want!r}: it is not this app's state; {_HINT}")
    for db in sorted(root.glob("v*/tables/*.db")):
        _check_db(root, db)


def _check_db(root: Path, db: Path) -> None:
    from rocksdict import AccessType, Rdict

    if not db.is_dir():
        raise StateDirError(f"state folder {root}: {db.name} is a file, not a RocksDB database; {_HINT}")
    try:
        rdb = Rdict(str(db), access_type=AccessType.read_only(error_if_log_file_exist=False))
    except Exception as exc:  # noqa: BLE001 - rocksdict raises plain Exception for every RocksDB error
        raise StateDirError(f"state folder {root}: table database {db.name} is corrupted ({exc}); {_HINT}") from None
    rdb.close()


def write_marker(settings: Settings) -> None:
    """Record which app id and partition count this folder belongs to."""
    root = state_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(json.dumps(_expected(settings)) + "\n")


def rebuild_state_dir(settings: Settings) -> None:
    """Delete the local state folder, so that Faust restores every table from its changelog topic."""
    root = state_dir(settings)
    if root.exists():
        shutil.rmtree(root)
    log.warning("state_rebuild", state_dir=str(root), reason="asked with --rebuild-state; tables are restored "
                "from their changelog topics")
