"""Every topic the monitor reads or writes, declared once and shared by agents, tools and tests."""

from __future__ import annotations

from monitor.app import app, settings

__all__ = [
    "order_status",
    "reviews",
    "store_commands",
    "store_visibility",
    "alerts",
    "dead_letters",
    "INPUT_TOPICS",
    "OUTPUT_TOPICS",
]


def _raw(name: str, partitions: int | None = None):  # type: ignore[no-untyped-def]
    # Values stay bytes: the codec validates them and routes failures to dead-letters.
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
        partitions=partitions,
    )


order_status = _raw(settings.topic_order_status, settings.partitions)
reviews = _raw(settings.topic_reviews, settings.partitions)
store_commands = _raw(settings.topic_store_commands, settings.partitions)
store_visibility = _raw(settings.topic_store_visibility, settings.partitions)
alerts = _raw(settings.topic_alerts, settings.partitions)
dead_letters = _raw(settings.topic_dead_letters, settings.partitions)

INPUT_TOPICS = (order_status, reviews, store_commands)
OUTPUT_TOPICS = (store_visibility, alerts, dead_letters)
