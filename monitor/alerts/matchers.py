"""Label matchers shared by routes and silences: a list of allowed values, or a ``"~regex"`` string.

Regexes run on RE2 (linear time in the label's length, no backtracking): a silence such as ``city=~(a+)+$`` and an
alert whose city, from input, is ``aaaa…a!`` would hang Python's ``re`` in the dispatcher and stop all delivery.
RE2 refuses what it cannot run in linear time (backreferences, lookaround) when the matcher is checked.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import re2

from monitor.alerts.model import LABEL_NAMES

__all__ = ["Matchers", "check_matchers", "matches", "MAX_PATTERN_CHARS"]

MAX_PATTERN_CHARS = 256
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is reported to whoever wrote it, not to stderr


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)

# label name -> list of allowed values, or "~regex" (full match); a null label matches as "".
Matchers = Mapping[str, list[str] | str]


def check_matchers(raw: Any, where: str) -> dict[str, list[str] | str]:
    """Validate matchers from configuration or a stored silence; ValueError names ``where`` and the label."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a table of label -> values")
    out: dict[str, list[str] | str] = {}
    for name, value in raw.items():
        if name not in LABEL_NAMES:
            raise ValueError(f"{where}.{name}: unknown label (use one of {', '.join(LABEL_NAMES)})")
        if isinstance(value, str):
            if not value.startswith("~"):
                raise ValueError(f"{where}.{name}: a string must be a regex starting with '~'; use a list for values")
            if len(value) - 1 > MAX_PATTERN_CHARS:
                raise ValueError(f"{where}.{name}: regex longer than {MAX_PATTERN_CHARS} characters")
            try:
                _compiled(value[1:])
            except (re2.error, UnicodeEncodeError) as e:  # RE2 takes UTF-8: a lone surrogate cannot be a pattern
                reason = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else e
                raise ValueError(f"{where}.{name}: bad regex {value[1:]!r} (RE2 syntax): {reason}") from None
            out[name] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[name] = list(value)
        else:
            raise ValueError(f"{where}.{name}: expected a non-empty list of strings or a '~regex' string")
    return out


def matches(matchers: Matchers, labels: Mapping[str, str | None]) -> bool:
    """True when every matcher accepts its label (no matchers: everything matches)."""
    for name, want in matchers.items():
        value = labels.get(name) or ""
        if isinstance(want, str):
            if _compiled(want[1:]).fullmatch(value) is None:
                return False
        elif value not in want:
            return False
    return True
