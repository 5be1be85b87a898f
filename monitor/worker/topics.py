"""Every topic the monitor reads or writes, declared once and shared by agents, tools and tests."""

from __future__ import annotations

from monitor.worker.app import app, settings
from monitor.worker.topicnames import (
    deliveries_by_city_name,
    orders_by_store_name,
    reviews_by_city_name,
    reviews_by_store_name,
)

__all__ = [
    "order_status",
    "reviews",
    "store_commands",
    "store_visibility",
    "alerts",
    "dead_letters",
    "orders_by_store",
    "deliveries_by_city",
    "store_inputs",
    "reviews_by_store",
    "reviews_by_city",
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

# internal: order events repartitioned by store, plus per-source heartbeats (see monitor/eventtime/clock.py)
orders_by_store = _raw(orders_by_store_name(settings.app_id), settings.partitions)
# internal: validated reviews by store, and counted reviews by city
reviews_by_store = _raw(reviews_by_store_name(settings.app_id), settings.partitions)
reviews_by_city = _raw(reviews_by_city_name(settings.app_id), settings.partitions)
# internal: delivered orders per (city, hour) from the store agent, for the city courier lateness alert
deliveries_by_city = _raw(deliveries_by_city_name(settings.app_id), settings.partitions)

# what the store agent consumes: co-partitioned topics keyed by store_id
store_inputs = app.topic(
    orders_by_store_name(settings.app_id), settings.topic_store_commands,
    key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
)

INPUT_TOPICS = (order_status, reviews, store_commands)
OUTPUT_TOPICS = (store_visibility, alerts, dead_letters)

