"""Resource readings for benchmarks: current and peak RSS of a process and the size of a folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["rss_mb", "peak_rss_mb", "dir_size_mb"]


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def rss_mb(pid: int) -> float:
    """Current resident set size (VmRSS) of a live process in MiB; 0.0 if unknown."""
    return _status_mb(pid, "VmRSS:")


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a live process in MiB; 0.0 if unknown."""
    return _status_mb(pid, "VmHWM:")


def dir_size_mb(path: Path) -> float:
    """Total size of the files under ``path`` in MiB (files that vanish while counting, as RocksDB compacts,
    are skipped)."""
    total = 0
    for folder, _, files in os.walk(path):  # os.walk skips folders that vanish
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return round(total / 2**20, 1)
