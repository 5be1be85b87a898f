"""The channel protocol, its two kinds of failure, secret redaction and a shared JSON POST."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

import aiohttp

from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message

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


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (longest first, so no fragment survives)."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "***")
    return text


async def post(url: str, body: bytes, *, headers: Mapping[str, str], secrets: Iterable[str | None], what: str,
               timeout_s: float = TIMEOUT_S) -> tuple[int, bytes]:
    """POST ``body``; returns (status, response body). Network failures raise a redacted RetryableError."""
    secrets = tuple(secrets)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
            async with session.post(url, data=body, headers=dict(headers)) as resp:
                return resp.status, await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        raise RetryableError(redact(f"{what}: {type(e).__name__}: {e}", secrets)) from None


def raise_for_status(status: int, body: bytes, *, secrets: Iterable[str | None], what: str) -> None:
    """Map an HTTP status: 2xx passes, 408/429/5xx are retryable, other 4xx permanent."""
    if 200 <= status < 300:
        return
    detail = redact(f"{what}: HTTP {status}: {body[:300].decode('utf-8', 'replace')}", secrets)
    if status in (408, 429) or status >= 500:
        raise RetryableError(detail)
    raise PermanentError(detail)
