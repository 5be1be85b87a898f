"""The channel protocol, its two kinds of failure and a shared JSON POST whose errors are redacted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

import aiohttp

from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message
from monitor.secrets import excerpt, redact

__all__ = ["Channel", "ChannelError", "RetryableError", "PermanentError", "redact", "post", "raise_for_status",
           "TIMEOUT_S"]

TIMEOUT_S = 10.0


@runtime_checkable
class Channel(Protocol):
    """Sends one rendered message about some alerts to one receiver."""

    name: str

    async def send(self, message: Message, alerts: list[AlertEvent]) -> None: ...


class ChannelError(Exception):
    """A failed send; the message is already redacted."""


class RetryableError(ChannelError):
    """Try again later: rate limited, server error, network trouble. ``retry_after_ms`` if the server said."""

    def __init__(self, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class PermanentError(ChannelError):
    """Trying again will not help: bad token, unknown chat, refused recipient."""


async def post(url: str, body: bytes, *, headers: Mapping[str, str], secrets: Iterable[str | None], what: str,
               timeout_s: float = TIMEOUT_S) -> tuple[int, bytes]:
    """POST ``body``; returns (status, response body). Network failures raise a redacted RetryableError."""
    secrets = tuple(secrets)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
            async with session.post(url, data=body, headers=dict(headers)) as resp:
                return resp.status, await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        raise RetryableError(f"{what}: {excerpt(f'{type(e).__name__}: {e}', secrets)}") from None


def raise_for_status(status: int, body: bytes, *, secrets: Iterable[str | None], what: str) -> None:
    """Map an HTTP status: 2xx passes, 408/429/5xx are retryable, other 4xx permanent."""
    if 200 <= status < 300:
        return
    detail = f"{what}: HTTP {status}: {excerpt(body, secrets)}"
    if status in (408, 429) or status >= 500:
        raise RetryableError(detail)
    raise PermanentError(detail)
