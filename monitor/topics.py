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
    "orders_by_store",
    "store_inputs",
    "orders_by_store_name",
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


def orders_by_store_name(app_id: str) -> str:
    """The internal repartition topic: validated order events keyed by store_id."""
    return f"{app_id}-order-status-by-store"


# internal: order events repartitioned by store, plus per-source heartbeats (see monitor/clock.py)
orders_by_store = _raw(orders_by_store_name(settings.app_id), settings.partitions)
# what the store agent consumes: co-partitioned topics keyed by store_id
store_inputs = app.topic(
    orders_by_store_name(settings.app_id), settings.topic_store_commands,
    key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
)

INPUT_TOPICS = (order_status, reviews, store_commands)
OUTPUT_TOPICS = (store_visibility, alerts, dead_letters)
