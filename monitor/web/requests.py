"""Request checks shared by the views: the bearer token and JSON bodies with required text fields."""

from __future__ import annotations

import hmac
from typing import Any

from faust.web import exceptions

__all__ = ["ApiError", "require_token", "json_body", "required_text"]


class ApiError(exceptions.WebError):
    """A request the API refuses, with its HTTP status and a message saying what to do."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail, code=code)


def require_token(request: Any, token: str) -> None:
    """Mutating endpoints need ``Authorization: Bearer <MONITOR_API_TOKEN>``; no token configured: refused."""
    if not token:
        raise ApiError(403, "mutating endpoints are disabled: set MONITOR_API_TOKEN on the worker to enable them")
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise ApiError(401, "missing bearer token: send 'Authorization: Bearer <MONITOR_API_TOKEN>'")
    if not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise ApiError(403, "wrong API token")


async def json_body(request: Any) -> dict[str, Any]:
    """The request body as a JSON object (400 if it is not one)."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        import orjson

        body = orjson.loads(raw)
    except ValueError:
        raise ApiError(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    return body


def required_text(body: dict[str, Any], *names: str) -> list[str]:
    """The named fields as non-empty strings, or a 400 naming the first missing one."""
    values = []
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ApiError(400, f"field {name!r} is required (a non-empty string)")
        values.append(value.strip())
    return values
