"""HTTP helpers for tests of the worker's web API: JSON requests and polling until a condition holds."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TOKEN = "s3cret-token"  # the API token of the web tests


def request(method: str, url: str, body: Any = None, token: str | None = None,
            timeout_s: float = 30.0) -> tuple[int, Any]:
    """(status, decoded JSON or text) of one request; error statuses are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    return status, json.loads(raw) if "json" in ctype else raw.decode()


def poll(what: str, fetch: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float = 90.0) -> Any:
    """Call ``fetch`` until ``done(result)``; connection errors count as not done yet."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = fetch()
            if done(last):
                return last
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.3)  # the polling interval of this wait
    raise AssertionError(f"{what}: not true within {timeout_s}s; last: {last!r}"[:3000])


def base(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['MONITOR_WEB_PORT']}"


def scenario(store: str, city: str = "Moscow") -> tuple[list[tuple], list[tuple]]:
    """(order events, reviews): ``store`` gets 5 late + 3 at-risk orders (hidden at 12:05 event time), a healthy
    store keeps one open order, and the city gets 10 reviews of which 2 are negative."""
    from datetime import UTC, datetime, timedelta

    t0, minute, hour = datetime(2026, 2, 14, 9, 0, tzinfo=UTC), timedelta(minutes=1), timedelta(hours=1)

    def ev(order_id: str, store_id: str, status: str, at: datetime, promised: datetime) -> tuple:
        return (order_id, {"event_id": f"{order_id}:{status}", "order_id": order_id, "store_id": store_id,
                           "city": city, "status": status, "promised_at": promised.isoformat(),
                           "occurred_at": at.isoformat()})

    orders = []
    for i in range(5):
        orders += [ev(f"{store}-l{i}", store, "created", t0 + i * minute, t0 + 3 * hour),
                   ev(f"{store}-l{i}", store, "accepted", t0 + i * minute + 2 * minute, t0 + 3 * hour)]
    for i in range(3):
        orders.append(ev(f"{store}-r{i}", store, "created", t0 + 3 * hour - 10 * minute, t0 + 6 * hour))
    orders.append(ev("calm-1", "calm-store", "created", t0 + 5 * hour, t0 + 9 * hour))
    reviews = [(f"rv{i}", {"review_id": f"rv{i}", "order_id": f"o-rv{i}", "store_id": store, "city": city,
                           "rating": 1 if i < 2 else 5, "text": "", "created_at": (t0 + i * minute).isoformat()})
               for i in range(10)]
    return orders, reviews
