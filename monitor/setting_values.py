"""How a setting's text (TOML or environment) becomes a value: durations, bounded numbers, choices, topic names,
bootstrap servers, the store URL; and ``setting()``, which declares a field of ``Settings`` with its doc."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import timedelta
from typing import Any

__all__ = ["SettingsError", "parse_duration", "format_duration", "setting"]


class SettingsError(ValueError):
    """A setting is invalid; the message names the field and the source."""


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """Parse ``90``, ``"90s"``, ``"15m"``, ``"24h"``, ``"30d"`` (a bare number means seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '15m', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION_RE.match(str(value))
        if not m:
            raise ValueError(f"expected a duration such as 90s, 15m, 24h or 30d, got {value!r}")
        seconds = float(m.group(1)) * _UNIT_S[m.group(2) or "s"]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return timedelta(seconds=seconds)


def int_in(lo: int | None = None, hi: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected an integer, got {value!r}") from None
        if lo is not None and n < lo:
            raise ValueError(f"must be >= {lo}, got {n}")
        if hi is not None and n > hi:
            raise ValueError(f"must be <= {hi}, got {n}")
        return n

    return parse


def float_in(lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
        if x < lo or x > hi or (open_lo and x == lo) or (open_hi and x == hi):
            raise ValueError(f"must be in {'(' if open_lo else '['}{lo}, {hi}{')' if open_hi else ']'}, got {x}")
        return x

    return parse


def text(value: Any) -> str:
    s = str(value).strip()
    if not s:
        raise ValueError("must not be empty")
    return s


def choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        s = str(value).strip().lower()
        if s not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {value!r}")
        return s

    return parse


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def topic_name(value: Any) -> str:
    s = text(value)
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", s):
        raise ValueError(f"not a valid Kafka topic name: {s!r}")
    return s


def bootstrap_servers(value: Any) -> str:
    s = text(value)
    for part in s.split(","):
        if not re.fullmatch(r"[A-Za-z0-9.\-_\[\]:]+:\d{1,5}", part.strip()):
            raise ValueError(f"expected host:port[,host:port...], got {s!r}")
    return s


def store_url(value: Any) -> str:
    s = text(value)
    if s.startswith("rocksdict:"):
        raise ValueError(
            "'rocksdict://' is not a faust store URL; use 'rocksdb://' (faust uses rocksdict when installed)"
        )
    if not (s.startswith("rocksdb://") or s.startswith("memory://")):
        raise ValueError(f"expected rocksdb:// (or memory:// for experiments), got {s!r}")
    return s


def city_durations(value: Any) -> Mapping[str, timedelta]:
    """A table ``{city = "45m"}`` in TOML, or ``Moscow=45m,Kazan=90m`` in the environment."""
    if isinstance(value, Mapping):
        items = list(value.items())
    else:
        s = str(value).strip()
        items = []
        for part in filter(None, (p.strip() for p in s.split(","))):
            if "=" not in part:
                raise ValueError(f"expected City=duration[,City=duration...], got {s!r}")
            city, _, dur = part.partition("=")
            items.append((city.strip(), dur.strip()))
    return {str(city): parse_duration(dur) for city, dur in items}


def setting(default: Any, doc: str, parse: Callable[[Any], Any], *, env: tuple[str, ...] = ()) -> Any:
    """Declare one setting: its default, a one-line doc, its parser and extra environment names."""
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"doc": doc, "parse": parse, "env": env})
    return field(default=default, metadata={"doc": doc, "parse": parse, "env": env})


def format_duration(td: timedelta) -> str:
    """``30d``, ``24h``, ``15m``, ``90s``: the largest unit that divides it."""
    s = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"
