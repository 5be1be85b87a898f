"""Fixtures of the web tests: a worker with an API token that has hidden a store."""

from __future__ import annotations

import pytest
from kafkautil import produce
from webutil import TOKEN, base, poll, request, scenario


@pytest.fixture
def api_env(monitor_env: dict[str, str], unique: str) -> dict[str, str]:
    """The test's environment with an API token and its own silences topic."""
    return {**monitor_env, "MONITOR_API_TOKEN": TOKEN, "MONITOR_TOPIC_SILENCES": f"alert-silences-{unique}"}


@pytest.fixture
def hidden_store(api_env: dict[str, str], start_worker) -> str:  # type: ignore[no-untyped-def]
    """A worker that has hidden store ``rozy`` (Moscow) and counted 10 reviews; returns its base URL."""
    orders, reviews = scenario("rozy")
    bootstrap = api_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
    produce(bootstrap, api_env["MONITOR_TOPIC_ORDER_STATUS"], orders)
    produce(bootstrap, api_env["MONITOR_TOPIC_REVIEWS"], reviews)
    start_worker(api_env)
    url = base(api_env)
    poll("worker ready", lambda: request("GET", f"{url}/health"), lambda r: r[0] == 200)
    poll("store hidden", lambda: request("GET", f"{url}/stores/rozy"),
         lambda r: r[0] == 200 and r[1]["cities"][0]["hidden"])
    return url
