"""Variants of the rules: ``NAME:key=value,key=value`` on top of the settings in force.

Only the settings the rules read can change (``RULE_SETTINGS``): what ingest checks before the rules (sizes, times
against the wall clock, promise horizons) is the same for every variant, so the input is decoded and checked once.
Values are parsed and validated by the same code as the worker's settings (``monitor/setting_values.py``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from monitor.settings import Settings, SettingsError

__all__ = ["Variant", "parse_variant", "RULE_SETTINGS", "BASELINE"]

BASELINE = "baseline"
# the settings read by OrderRules, NegativityRule, RepeatRule, CityLatenessRule and the negative rating
RULE_SETTINGS = (
    "accept_timeout", "dispatch_lead", "dispatch_lead_by_city", "late_window", "hide_min_late",
    "hide_min_late_plus_at_risk", "order_retention", "max_orders_per_store", "auto_restore_after",
    "negative_max_rating", "negativity_window", "max_reviews_per_store", "negativity_threshold",
    "negativity_method", "negativity_confidence", "negativity_resolve_margin", "negativity_min_firing",
    "min_reviews", "min_negative", "city_min_reviews", "city_lateness_window", "city_lateness_share",
    "city_lateness_min_late", "repeat_count", "repeat_window",
)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._%+-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Variant:
    """A named set of settings; ``changes`` are the overrides as given (for the report)."""

    name: str
    settings: Settings
    changes: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.changes) or "the settings in force"


def parse_variant(text: str, base: Settings) -> Variant:
    """``NAME:key=value,...`` (keys as in docs/configuration.md without ``MONITOR_``, any case) -> a Variant;
    ValueError with a line a person can act on."""
    name, sep, body = text.partition(":")
    name = name.strip()
    if not sep or not _NAME_RE.match(name):
        raise ValueError(f"--variant {text!r}: expected NAME:key=value[,key=value...] with a name of letters, "
                         "digits, spaces or ._%+- (at most 40)")
    if name == BASELINE:
        raise ValueError(f"--variant {text!r}: {BASELINE!r} is the settings in force; choose another name")
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    changes: list[tuple[str, str]] = []
    values: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, eq, value = part.partition("=")
        key = key.strip().lower().removeprefix("monitor_")
        if not eq or not value.strip():
            raise ValueError(f"--variant {name}: {part!r} is not key=value")
        if key not in RULE_SETTINGS:
            known = "" if key in fields else " (no such setting)"
            raise ValueError(f"--variant {name}: {key}{known} cannot change in a backtest; the rule settings are: "
                             + ", ".join(RULE_SETTINGS))
        try:
            values[key] = fields[key].metadata["parse"](value.strip())
        except ValueError as exc:
            raise ValueError(f"--variant {name}: invalid {key}: {exc}") from None
        changes.append((key, value.strip()))
    if not changes:
        raise ValueError(f"--variant {name}: no key=value given")
    try:
        return Variant(name, base.replace(**values), tuple(changes))
    except SettingsError as exc:
        raise ValueError(f"--variant {name}: {exc}") from None
