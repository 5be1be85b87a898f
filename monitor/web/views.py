"""The worker's HTTP API: health, metrics, stores, cities and the dashboard's data (read-only views).

Reads of one store or one city go to the worker that owns its partition; lists answer from this worker's own
partitions (complete with one worker; each worker's answer says which partitions it covers).
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from faust import web

from monitor.web import live
from monitor.web.metrics import LatencySensor
from monitor.web.openapi import openapi_spec
from monitor.web.requests import ApiError
from monitor.web.routing import FORWARDED_HEADER, forward, owner_url
from monitor.worker import counters
from monitor.worker.app import app, settings
from monitor.worker.tables.reviews import city_reviews
from monitor.worker.tables.stores import store_table

__all__ = ["Health", "Metrics", "OpenApi", "Stores", "Store", "Cities", "City", "Dashboard", "DashboardData",
           "route_to_owner"]

app.sensors.add(LatencySensor())


async def route_to_owner(view: web.View, request: web.Request, table: Any, key: bytes) -> web.Response | None:
    """The owner's answer if another worker owns ``key``; None when this worker should answer."""
    if request.headers.get(FORWARDED_HEADER):
        return None  # one hop only: during a rebalance two workers must not bounce a request
    dest = owner_url(app, table, key, settings.partitions)
    return None if dest is None else await forward(app, view.web, request, dest)


def _scope() -> dict[str, Any]:
    try:
        assigned = sorted(tp.partition for tp in app.consumer.assignment()
                          if tp.topic == store_table.changelog_topic.get_topic_name())
    except Exception:  # noqa: BLE001 - consumer not up yet
        assigned = []
    return {"scope": "local", "worker": str(app.conf.canonical_url), "partitions": assigned}


@app.page("/health")
class Health(web.View):
    """200 when ready (partitions assigned, state recovered), else 503 with the reason."""

    async def get(self, request: web.Request) -> web.Response:
        ready, reason = live.readiness(app)
        return self.json({"status": "ready" if ready else "starting", "reason": reason},
                         status=200 if ready else 503)


@app.page("/metrics")
class Metrics(web.View):
    """Prometheus text format."""

    async def get(self, request: web.Request) -> web.Response:
        return self.text(live.metrics_text(app), content_type="text/plain; version=0.0.4")


@app.page("/openapi.json")
class OpenApi(web.View):
    """The OpenAPI 3 description of this API."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json(openapi_spec())


def _bool_query(request: web.Request, name: str) -> bool | None:
    value = request.query.get(name)
    if value is None:
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ApiError(400, f"query parameter {name!r} must be true or false, got {value!r}")


@app.page("/stores")
class Stores(web.View):
    """Stores this worker holds; ``?hidden=true`` for hidden ones only, ``?city=`` for one city."""

    async def get(self, request: web.Request) -> web.Response:
        hidden = _bool_query(request, "hidden")
        stores = live.local_summaries(hidden=hidden, city=request.query.get("city"))
        return self.json({"stores": stores, "count": len(stores), **_scope()})


@app.page("/stores/{store_id}")
class Store(web.View):
    """One store (every city it is in, or ``?city=``): visibility, orders, negativity, recent decisions."""

    async def get(self, request: web.Request, store_id: str) -> web.Response:
        routed = await route_to_owner(self, request, store_table, store_id.encode())
        if routed is not None:
            return routed
        views = live.store_details(store_id, request.query.get("city"))
        if not views:
            where = f" in {request.query['city']}" if "city" in request.query else ""
            raise ApiError(404, f"no store {store_id!r}{where} on record")
        return self.json({"store_id": store_id, "cities": views})


@app.page("/cities")
class Cities(web.View):
    """Negativity of every city this worker counts, with daily series."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json({"cities": live.local_cities(), **_scope()})


@app.page("/cities/{city}")
class City(web.View):
    """One city: negativity now and by day, its hidden and at-risk stores (those this worker holds)."""

    async def get(self, request: web.Request, city: str) -> web.Response:
        routed = await route_to_owner(self, request, city_reviews.table, city.encode())
        if routed is not None:
            return routed
        details = live.city_details(city)
        if details is None:
            raise ApiError(404, f"no city {city!r} on record")
        return self.json(details)


@app.page("/dashboard")
class Dashboard(web.View):
    """The operator dashboard: one HTML page, no build step, polling /dashboard/data."""

    async def get(self, request: web.Request) -> web.Response:
        page = resources.files("monitor.web").joinpath("dashboard.html").read_text(encoding="utf-8")
        return self.html(page)


@app.page("/dashboard/data")
class DashboardData(web.View):
    """Everything the dashboard shows, in one JSON document."""

    async def get(self, request: web.Request) -> web.Response:
        stores = live.local_summaries()
        ready, reason = live.readiness(app)
        return self.json({
            "generated_at_ms": int(time.time() * 1000), "ready": ready, "reason": reason,
            "hidden": [s for s in stores if s["hidden"]],
            "at_risk": [s for s in stores if s["at_risk_now"]],
            "cities": live.local_cities(),
            "alerts": list(reversed(counters.RECENT_ALERTS))[:20],
            "events_per_second": live.input_rate(app),
            "lag": sum(live.consumer_lag(app).values()),
            "dead_letters": [{"topic": t, "reason": r, "count": n} for (t, r), n in sorted(counters.DEAD_LETTERS.items())],
            **_scope(),
        })
