"""A dependency-free progress line for long CLI runs (stderr, rewritten in place on a terminal)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Counts items and prints ``label: n/total (rate/s)`` at most every ``every_s`` seconds."""

    def __init__(self, label: str, total: int | None = None, every_s: float = 1.0) -> None:
        self.label, self.total, self.every_s = label, total, every_s
        self.n = 0
        self._start = self._last = time.monotonic()
        self._tty = sys.stderr.isatty()

    def add(self, k: int = 1) -> None:
        self.n += k
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self._print(now)

    def done(self) -> float:
        """Print the final line; return the rate in items per second."""
        now = time.monotonic()
        self._print(now, final=True)
        return self.n / max(now - self._start, 1e-9)

    def _print(self, now: float, final: bool = False) -> None:
        rate = self.n / max(now - self._start, 1e-9)
        of = f"/{self.total}" if self.total else ""
        pct = f" {100 * self.n / self.total:5.1f}%" if self.total else ""
        line = f"{self.label}: {self.n}{of}{pct} ({rate:,.0f}/s, {now - self._start:.1f}s)"
        end = "\n" if final or not self._tty else "\r"
        print(line, end=end, file=sys.stderr, flush=True)
