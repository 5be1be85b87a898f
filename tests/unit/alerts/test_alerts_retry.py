"""Sending with retries, and secret redaction."""

from __future__ import annotations

import asyncio

import pytest
from alertfactory import make_alert

from monitor.alerts.channels.base import PermanentError, RetryableError, redact
from monitor.alerts.retry import Delivery, backoff_ms, send_with_retry
from monitor.alerts.templates import Message

MESSAGE = Message("t", "x", ("a1",))


class Scripted:
    """A channel that raises the scripted errors in turn, then succeeds."""

    name = "scripted"

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def send(self, message: Message, alerts: list) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


def run(channel: Scripted, attempts: int = 5, base_ms: int = 500, max_ms: int = 30_000) -> tuple[Delivery, list]:
    """Send through ``channel`` with a recording sleep; return the delivery and the sleeps in ms."""
    sleeps: list[int] = []

    async def sleep(s: float) -> None:
        sleeps.append(round(s * 1000))

    d = asyncio.run(send_with_retry(channel, MESSAGE, [make_alert()], attempts=attempts, base_ms=base_ms,
                                    max_ms=max_ms, sleep=sleep))
    return d, sleeps


@pytest.mark.parametrize(("errors", "attempts", "expected", "sleeps"), [
    ([], 5, Delivery(True, 1), []),  # first try
    ([RetryableError("HTTP 500"), RetryableError("HTTP 500")], 5, Delivery(True, 3, "HTTP 500"), [500, 1000]),
    ([PermanentError("HTTP 403")], 5, Delivery(False, 1, "HTTP 403", True), []),  # stops at once
    ([RetryableError("e")] * 4, 3, Delivery(False, 3, "e"), [500, 1000]),  # gives up after 3, no final sleep
    ([RetryableError("e", retry_after_ms=7_000)], 5, Delivery(True, 2, "e"), [7_000]),  # server's retry_after
    ([RetryableError("e")] * 8, 9, Delivery(True, 9, "e"), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]),
    ([KeyError("secret-token")], 5, Delivery(False, 1, "scripted: KeyError", True), []),  # a bug: text dropped
])
def test_send_with_retry(errors: list, attempts: int, expected: Delivery, sleeps: list[int]) -> None:
    """Retryable errors back off by doubling up to the cap; permanent errors and bugs stop at once."""
    channel = Scripted(*errors)
    delivery, slept = run(channel, attempts=attempts)
    assert (delivery, slept) == (expected, sleeps)
    assert channel.calls == expected.attempts


@pytest.mark.parametrize(("failures", "retry_after_ms", "expected"), [
    (1, None, 500), (2, None, 1000), (7, None, 30_000), (1, 2_000, 2_000), (7, 60_000, 60_000),
])
def test_backoff_ms(failures: int, retry_after_ms: int | None, expected: int) -> None:
    """Back-off doubles from the base, is capped, and never undercuts the server's retry_after."""
    assert backoff_ms(failures, 500, 30_000, retry_after_ms) == expected


@pytest.mark.parametrize(("text", "secrets", "expected"), [
    ("POST https://api/bot123:abc/sendMessage failed", ["123:abc"], "POST https://api/bot***/sendMessage failed"),
    ("https://hooks.slack/T/B/xyz: HTTP 404", ["https://hooks.slack/T/B/xyz", None, ""], "***: HTTP 404"),
    ("pw=hunter2 and hunter", ["hunter", "hunter2"], "pw=*** and ***"),  # longest first: no fragment left
])
def test_redact(text: str, secrets: list, expected: str) -> None:
    """redact() replaces every secret, and empty or missing secrets are ignored."""
    assert redact(text, secrets) == expected
