"""Units of event time, in milliseconds (defined once; every rule and table uses these)."""

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

__all__ = ["SECOND_MS", "MINUTE_MS", "HOUR_MS", "DAY_MS"]
