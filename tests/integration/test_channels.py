"""Channels against real receivers on 127.0.0.1: an aiohttp server as Telegram, Slack and a webhook; aiosmtpd."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from collections.abc import Awaitable, Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from monitor.alerts.channels import PermanentError, RetryableError, build_channel
from monitor.alerts.config import Receiver
from monitor.alerts.model import AlertEvent
from monitor.alerts.retry import send_with_retry
from monitor.alerts.templates import render

TOKEN = "123456:SECRET-bot-token"
PASSWORD = "hunter2-smtp-password"
ALERT = AlertEvent.from_dict({
    "alert_id": "store_hidden:Москва:s1:1", "kind": "store_hidden", "severity": "critical", "status": "firing",
    "store_id": "s1", "city": "Москва", "summary": "Store s1 (Москва) hidden",
    "details": {"reason": "HIDE_LATE", "incident": 1, "late": 3, "at_risk": 0,
                "late_order_ids": ["o1", "o2", "o3"], "at_risk_order_ids": []},
    "at": "2026-01-01T00:00:00+00:00",
})
MESSAGE = render([ALERT], "ru")

class Collector:
    """An HTTP receiver: records every request and answers with the scripted statuses, then 200."""

    def __init__(self, statuses: list[int] | None = None, reply: dict | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.reply = reply or {"ok": True}

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers), await request.read()))
        status = self.statuses.pop(0) if self.statuses else 200
        body = self.reply if status in (200, 429) else {"ok": False, "description": f"failed at {request.path}"}
        return web.json_response(body, status=status)


async def serve(collector: Collector, fn: Callable[[str], Awaitable[Any]]) -> Any:
    """Run ``fn(base_url)`` while the collector listens on 127.0.0.1 on a free port."""
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", collector.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        return await fn(str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestTelegram:
    def test_send_message(self) -> None:
        """The bot API gets POST /bot<token>/sendMessage with chat_id, the text and no link previews."""
        c = Collector()

        async def go(base: str) -> None:
            r = Receiver(name="chat", type="telegram", bot_token=TOKEN, chat_id="-100", api_base=base)
            await build_channel(r).send(MESSAGE, [ALERT])

        asyncio.run(serve(c, go))
        [(path, _, body)] = c.requests
        assert path == f"/bot{TOKEN}/sendMessage"
        sent = orjson.loads(body)
        assert set(sent) == {"chat_id", "text", "disable_web_page_preview"}
        assert sent["chat_id"] == "-100" and sent["disable_web_page_preview"] is True
        assert sent["text"].startswith(MESSAGE.title) and ALERT.alert_id in sent["text"]

    @pytest.mark.parametrize(("status", "error", "retry_after_ms"), [
        (429, RetryableError, 3_000),  # rate limited: Telegram's retry_after is passed on
        (502, RetryableError, None),  # server trouble
        (401, PermanentError, None),  # bad token: retrying cannot help
        (400, PermanentError, None),  # unknown chat
    ])
    def test_errors_are_classified_and_redacted(self, status: int, error: type, retry_after_ms: int | None) -> None:
        """Failures are retryable or permanent as the status says, and never show the bot token."""
        reply = {"ok": False, "error_code": 429, "parameters": {"retry_after": 3}} if status == 429 else None
        c = Collector([status], reply=reply)

        async def go(base: str) -> BaseException:
            r = Receiver(name="chat", type="telegram", bot_token=TOKEN, chat_id="1", api_base=base)
            with pytest.raises(error) as info:
                await build_channel(r).send(MESSAGE, [ALERT])
            return info.value

        e = asyncio.run(serve(c, go))
        assert TOKEN not in str(e)
        assert status == 429 or "/bot***/sendMessage" in str(e)  # the echoed path was redacted, not dropped
        assert getattr(e, "retry_after_ms", None) == retry_after_ms

    def test_connection_refused_is_retryable_and_redacted(self) -> None:
        """Nobody listening is a retryable error whose text does not contain the token."""
        r = Receiver(name="chat", type="telegram", bot_token=TOKEN, chat_id="1",
                     api_base=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(RetryableError) as info:
            asyncio.run(build_channel(r).send(MESSAGE, [ALERT]))
        assert TOKEN not in str(info.value)


class TestSlackAndWebhook:
    def test_slack_incoming_webhook(self) -> None:
        """Slack gets {"text": ...} with the title and the alert id."""
        c = Collector()

        async def go(base: str) -> None:
            await build_channel(Receiver(name="s", type="slack", webhook_url=f"{base}/services/T/B/x")).send(
                MESSAGE, [ALERT])

        asyncio.run(serve(c, go))
        [(path, _, body)] = c.requests
        sent = orjson.loads(body)
        assert path == "/services/T/B/x" and list(sent) == ["text"]
        assert MESSAGE.title in sent["text"] and ALERT.alert_id in sent["text"]

    def test_slack_404_is_permanent_and_hides_the_url(self) -> None:
        """A removed Slack webhook is a permanent error whose text does not contain the webhook URL."""
        c = Collector([404])

        async def go(base: str) -> BaseException:
            url = f"{base}/services/T/B/secret-part"
            with pytest.raises(PermanentError) as info:
                await build_channel(Receiver(name="s", type="slack", webhook_url=url)).send(MESSAGE, [ALERT])
            assert url not in str(info.value)
            return info.value

        assert "HTTP 404" in str(asyncio.run(serve(c, go)))

    def test_webhook_is_signed(self) -> None:
        """The webhook body carries message and original alerts; its HMAC-SHA256 signature verifies."""
        c = Collector()

        async def go(base: str) -> None:
            r = Receiver(name="hook", type="webhook", url=f"{base}/hook", secret="hmac-key")
            await build_channel(r).send(MESSAGE, [ALERT])

        asyncio.run(serve(c, go))
        [(_, headers, body)] = c.requests
        expected = "sha256=" + hmac.new(b"hmac-key", body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Monitor-Signature"], expected)
        assert headers["X-Monitor-Alert-Ids"] == "store_hidden:%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0:s1:1"
        sent = orjson.loads(body)
        assert sent == {"receiver": "hook", "title": MESSAGE.title, "text": MESSAGE.text,
                        "alert_ids": [ALERT.alert_id], "alerts": [ALERT.to_dict()]}

    def test_webhook_500_twice_then_delivered_once(self) -> None:
        """A receiver failing twice with 500 gets three identical requests and the message exactly once."""
        c = Collector([500, 500])
        sleeps: list[float] = []

        async def sleep(s: float) -> None:
            sleeps.append(s)

        async def go(base: str) -> Any:
            r = Receiver(name="hook", type="webhook", url=f"{base}/hook", secret="k")
            return await send_with_retry(build_channel(r), MESSAGE, [ALERT], attempts=5, base_ms=500,
                                         max_ms=30_000, sleep=sleep)

        delivery = asyncio.run(serve(c, go))
        assert (delivery.ok, delivery.attempts, sleeps) == (True, 3, [0.5, 1.0])
        assert len(c.requests) == 3 and len({body for _, _, body in c.requests}) == 1


class _Inbox:
    """aiosmtpd handler that keeps every received message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _reject_all(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    """An SMTP server on 127.0.0.1 that accepts every message."""
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class TestEmail:
    def test_email_delivered(self, smtp: tuple[_Inbox, int]) -> None:
        """The e-mail arrives with the title as subject and the text as a plain-text body."""
        inbox, port = smtp
        r = Receiver(name="mail", type="email", host="127.0.0.1", port=port, starttls=False,
                     from_addr="monitor@example.com", to_addrs=("oncall@example.com", "lead@example.com"))
        asyncio.run(build_channel(r).send(MESSAGE, [ALERT]))
        [(mail_from, rcpt, msg)] = inbox.messages
        assert mail_from == "monitor@example.com" and rcpt == ["oncall@example.com", "lead@example.com"]
        assert msg["Subject"] == MESSAGE.title and msg["X-Monitor-Alert-Ids"] == ALERT.alert_id
        assert msg.get_content_type() == "text/plain" and msg.get_content().strip() == MESSAGE.text

    def test_auth_failure_is_permanent_and_hides_the_password(self) -> None:
        """A refused login is a permanent error that does not contain the password."""
        port = free_port()
        controller = Controller(_Inbox(), hostname="127.0.0.1", port=port, authenticator=_reject_all,
                                auth_require_tls=False)
        controller.start()
        try:
            r = Receiver(name="mail", type="email", host="127.0.0.1", port=port, starttls=False,
                         username="monitor", password=PASSWORD, from_addr="m@example.com",
                         to_addrs=("o@example.com",))
            with pytest.raises(PermanentError) as info:
                asyncio.run(build_channel(r).send(MESSAGE, [ALERT]))
        finally:
            controller.stop()
        assert PASSWORD not in str(info.value)

    def test_no_server_is_retryable(self) -> None:
        """An unreachable SMTP server is a retryable error."""
        r = Receiver(name="mail", type="email", host="127.0.0.1", port=free_port(), starttls=False,
                     password=PASSWORD, from_addr="m@example.com", to_addrs=("o@example.com",))
        with pytest.raises(RetryableError) as info:
            asyncio.run(build_channel(r).send(MESSAGE, [ALERT]))
        assert PASSWORD not in str(info.value)


def test_log_channel_keeps_messages() -> None:
    """The log channel logs one alert_notification line and keeps the message."""
    from structlog.testing import capture_logs

    channel = build_channel(Receiver(name="log", type="log"))
    with capture_logs() as logs:
        asyncio.run(channel.send(MESSAGE, [ALERT]))
    assert channel.sent == [MESSAGE]  # type: ignore[attr-defined]
    assert logs == [{"event": "alert_notification", "log_level": "info", "receiver": "log",
                     "title": MESSAGE.title, "text": MESSAGE.text, "alert_ids": [ALERT.alert_id]}]
