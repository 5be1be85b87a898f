"""Names of the internal topics of an app id (no app import: admin tools and tests use them too)."""

from __future__ import annotations

__all__ = ["ingest_group", "orders_by_store_name", "reviews_by_store_name", "reviews_by_city_name",
           "deliveries_by_city_name", "internal_topic_names", "TABLE_NAMES", "changelog_topic_names"]

# the worker's tables (monitor/worker/tables/): faust names their changelog topics "<app_id>-<table>-changelog"
TABLE_NAMES = ("store-state", "store-reviews", "city-reviews", "city-lateness")


def ingest_group(app_id: str) -> str:
    """The consumer group of the worker's ingest (``monitor/worker/ingest.py``), which reads ``order-status``."""
    return f"{app_id}-ingest"


def orders_by_store_name(app_id: str) -> str:
    """Validated order events in batches, each on its stores' partition, plus per-source heartbeats."""
    return f"{app_id}-order-status-by-store"


def reviews_by_store_name(app_id: str) -> str:
    """Validated reviews keyed by store_id."""
    return f"{app_id}-reviews-by-store"


def reviews_by_city_name(app_id: str) -> str:
    """Counted reviews (id, time, negative) keyed by city."""
    return f"{app_id}-reviews-by-city"


def deliveries_by_city_name(app_id: str) -> str:
    """Delivered orders per (city, event hour), and how many the couriers made late, keyed by city."""
    return f"{app_id}-deliveries-by-city"


def internal_topic_names(app_id: str) -> list[str]:
    """Repartition topics the monitor creates for an app id."""
    return [orders_by_store_name(app_id), reviews_by_store_name(app_id), reviews_by_city_name(app_id),
            deliveries_by_city_name(app_id)]


def changelog_topic_names(app_id: str) -> list[str]:
    """Changelog topics of the worker's tables (compacted, co-partitioned with what the tables are keyed by)."""
    return [f"{app_id}-{table}-changelog" for table in TABLE_NAMES]
