"""The worker's mutating HTTP endpoints: restore a store, silences and acknowledgements (token required).

They send exactly what the CLI sends (``monitor.ops.commands``, ``monitor.alerts.control``), in a thread because
those use the blocking Kafka client; silences are read from memory (``monitor.web.silence_book``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from faust import web

from monitor.alerts.control import (
    acknowledge_alert,
    add_silence,
    expire_silence,
    parse_matchers,
)
from monitor.alerts.matchers import check_matchers
from monitor.alerts.silences import SilenceBook
from monitor.ops.commands import send_store_command
from monitor.settings import parse_duration
from monitor.web import live
from monitor.web.requests import ApiError, json_body, require_token, required_text
from monitor.web.silence_book import BOOK, READY
from monitor.web.views import route_to_owner
from monitor.worker.app import app, settings
from monitor.worker.tables.stores import store_table

__all__ = ["Restore", "Silences", "SilenceItem", "AlertAck"]

BOOK_WAIT_S = 5.0  # how long a request waits for the silences to be read at start
MAX_LISTED = 1000  # a response's bound: the newest silences


def _now_ms() -> int:
    return int(time.time() * 1000)


@app.page("/stores/{store_id}/restore")
class Restore(web.View):
    """Restore a hidden store: body ``{"city", "by", "note"}``; 202 once the command is on store-commands."""

    async def post(self, request: web.Request, store_id: str) -> web.Response:
        require_token(request, settings.api_token)
        routed = await route_to_owner(self, request, store_table, store_id.encode())
        if routed is not None:
            return routed
        city, by, note = required_text(await json_body(request), "city", "by", "note")
        views = live.store_details(store_id, city)
        if not views:
            raise ApiError(404, f"no store {store_id!r} in {city} on record")
        if not views[0]["hidden"]:
            raise ApiError(409, f"store {store_id!r} in {city} is not hidden")
        cmd = await asyncio.to_thread(send_store_command, settings, "restore", store_id=store_id, city=city,
                                      by=by, note=note)
        return self.json({"status": "sent", "command_id": cmd.command_id, "store_id": store_id, "city": city,
                          "by": by, "note": note}, status=202)


def _silence_json(s: Any) -> dict[str, Any]:
    now = _now_ms()
    return {**s.to_dict(), "active": s.is_active(now)}


def _matchers(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("matchers")
    try:
        if isinstance(raw, list):
            return parse_matchers([str(x) for x in raw])
        if isinstance(raw, dict) and raw:
            return check_matchers(raw, "matchers")
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    raise ApiError(400, "field 'matchers' is required: {\"kind\": [\"negative_review\"], \"city\": \"~Mos.*\"} "
                        "or [\"kind=negative_review\"]")


async def _book() -> SilenceBook:
    """The worker's silences once read (at start, a few seconds at most), else 503."""
    try:
        await asyncio.wait_for(READY.wait(), BOOK_WAIT_S)
    except TimeoutError:
        raise ApiError(503, "the silences are still being read from Kafka; try again in a few seconds") from None
    return BOOK


@app.page("/silences")
class Silences(web.View):
    """GET: silences from memory (``?all=true`` includes ended ones; the newest ``MAX_LISTED``). POST: add one
    (token required)."""

    async def get(self, request: web.Request) -> web.Response:
        everything = request.query.get("all", "").lower() in ("1", "true", "yes")
        now = _now_ms()
        found = [s for s in (await _book()).all() if everything or s.is_active(now)]
        listed = found[-MAX_LISTED:]
        return self.json({"silences": [_silence_json(s) for s in listed], "count": len(found),
                          "truncated": len(listed) < len(found)})

    async def post(self, request: web.Request) -> web.Response:
        require_token(request, settings.api_token)
        body = await json_body(request)
        matchers = _matchers(body)
        duration_raw, by, comment = required_text(body, "duration", "by", "comment")
        try:
            duration = parse_duration(duration_raw)
        except ValueError as exc:
            raise ApiError(400, f"field 'duration': {exc}") from None
        if duration.total_seconds() <= 0 or duration > settings.max_silence:
            raise ApiError(400, f"field 'duration' must be positive and at most {settings.max_silence} "
                                "(setting max_silence)")
        silence = await asyncio.to_thread(
            add_silence, settings, matchers=matchers, duration=duration, by=by, comment=comment,
            now_ms=_now_ms(), end_on_resolve=bool(body.get("end_on_resolve", False)))
        BOOK.put(silence)  # read your own write before the tail brings it back
        return self.json(_silence_json(silence), status=201)


@app.page("/silences/{silence_id}")
class SilenceItem(web.View):
    """DELETE: expire a silence now; ``?by=NAME`` (or body ``{"by"}``) says who (token required)."""

    async def delete(self, request: web.Request, silence_id: str) -> web.Response:
        require_token(request, settings.api_token)
        by = request.query.get("by") or (await json_body(request)).get("by")
        if not isinstance(by, str) or not by.strip():
            raise ApiError(400, "'by' is required (query ?by=NAME or body {\"by\": NAME})")
        known = (await _book()).all()
        try:
            expired = await asyncio.to_thread(expire_silence, settings, silence_id, by=by.strip(), known=known)
        except ValueError as exc:
            raise ApiError(404, str(exc)) from None
        BOOK.put(expired)
        return self.json(_silence_json(expired))


@app.page("/alerts/{alert_id}/ack")
class AlertAck(web.View):
    """Acknowledge a firing alert (no more repeats): body ``{"by"}`` (token required)."""

    async def post(self, request: web.Request, alert_id: str) -> web.Response:
        require_token(request, settings.api_token)
        (by,) = required_text(await json_body(request), "by")
        await asyncio.to_thread(acknowledge_alert, settings, alert_id, by=by, now_ms=_now_ms())
        return self.json({"status": "acknowledged", "alert_id": alert_id, "by": by}, status=202)
