"""Resource readings for benchmarks: peak RSS of a process and the size of a folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["peak_rss_mb", "dir_size_mb"]


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a live process in MiB; 0.0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def dir_size_mb(path: Path) -> float:
    """Total size of the files under ``path`` in MiB."""
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)
