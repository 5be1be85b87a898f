"""Faust agents, one module per consumed topic; importing this package registers them all."""

from monitor.agents import city_lateness, city_reviews, ingest, store_reviews, stores  # noqa: F401
