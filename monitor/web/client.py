"""A small client of the worker's HTTP API for the CLI (stdlib only: the CLI must start fast)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["ApiUnavailable", "ApiRefused", "get_json", "base_url"]


class ApiUnavailable(Exception):
    """The worker's web server did not answer."""


class ApiRefused(Exception):
    """The API answered with an error status; the message is its reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status


def base_url(settings: Any) -> str:
    """The worker's URL from the settings (web_host, web_port)."""
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "::") else settings.web_host
    return f"http://{host}:{settings.web_port}"


def get_json(base: str, path: str, query: dict[str, str] | None = None, *, timeout_s: float = 10.0) -> Any:
    """GET ``base + path`` and decode the JSON answer; ApiUnavailable or ApiRefused otherwise."""
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - operator-given URL
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            reason = exc.reason
        raise ApiRefused(exc.code, str(reason)) from None
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", exc)
        raise ApiUnavailable(f"worker not reachable at {base}: {why}") from None
