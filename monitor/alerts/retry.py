"""Send with retries: doubling back-off capped at a maximum, a server's ``retry_after`` respected."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from monitor.alerts.channels.base import Channel, PermanentError, RetryableError
from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message

__all__ = ["Delivery", "send_with_retry", "backoff_ms"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a send ended: ``last_error`` is redacted by the channel; ``permanent`` if retrying cannot help."""

    ok: bool
    attempts: int
    last_error: str | None = None
    permanent: bool = False


def backoff_ms(failures: int, base_ms: int, max_ms: int, retry_after_ms: int | None = None) -> int:
    """Wait after the ``failures``-th failure: base, 2*base, 4*base ... up to max; never less than retry_after."""
    delay = min(max_ms, base_ms * 2 ** (failures - 1))
    return max(delay, retry_after_ms or 0)


async def send_with_retry(channel: Channel, message: Message, alerts: list[AlertEvent], *, attempts: int,
                          base_ms: int, max_ms: int,
                          sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> Delivery:
    """Try up to ``attempts`` times; a permanent error, or an exception no channel should raise, stops at once."""
    last: str | None = None
    for attempt in range(1, attempts + 1):
        try:
            await channel.send(message, alerts)
            return Delivery(ok=True, attempts=attempt, last_error=last)
        except PermanentError as e:
            return Delivery(ok=False, attempts=attempt, last_error=str(e), permanent=True)
        except RetryableError as e:
            last = str(e)
            if attempt < attempts:
                await sleep(backoff_ms(attempt, base_ms, max_ms, e.retry_after_ms) / 1000)
        except Exception as e:  # a bug in a channel: its text may hold anything, so only the type is kept
            return Delivery(ok=False, attempts=attempt, last_error=f"{channel.name}: {type(e).__name__}",
                            permanent=True)
    return Delivery(ok=False, attempts=attempts, last_error=last)
