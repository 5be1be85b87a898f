"""Label matchers shared by routes and silences: a list of allowed values, or a ``"~regex"`` string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from monitor.alerts.model import LABEL_NAMES

__all__ = ["Matchers", "check_matchers", "matches"]

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
            try:
                re.compile(value[1:])
            except re.error as e:
                raise ValueError(f"{where}.{name}: bad regex {value[1:]!r}: {e}") from None
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
            if re.fullmatch(want[1:], value) is None:
                return False
        elif value not in want:
            return False
    return True
