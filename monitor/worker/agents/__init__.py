"""Faust agents, one module per consumed topic; importing this package registers them all (and ingest's task)."""

from monitor.worker import ingest_task  # noqa: F401
from monitor.worker.agents import city_lateness, city_reviews, store_reviews, stores  # noqa: F401
