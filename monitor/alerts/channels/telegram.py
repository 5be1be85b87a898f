"""Telegram Bot API channel: ``sendMessage`` to one chat, honouring ``retry_after``."""

from __future__ import annotations

import orjson

from monitor.alerts.channels.base import PermanentError, RetryableError, post, raise_for_status, redact
from monitor.alerts.config import Receiver
from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message
from monitor.secrets import excerpt

__all__ = ["TelegramChannel", "MAX_TEXT"]

MAX_TEXT = 4096  # Telegram's limit for one message


class TelegramChannel:
    """Posts ``{title}\\n\\n{text}`` as plain text (no parse mode, so nothing needs escaping)."""

    def __init__(self, receiver: Receiver) -> None:
        if not receiver.bot_token or not receiver.chat_id:
            raise ValueError(f"receivers.{receiver.name}: telegram needs bot_token and chat_id")
        self.name = receiver.name
        self._token, self._chat_id = receiver.bot_token, receiver.chat_id
        self._url = f"{receiver.api_base.rstrip('/')}/bot{receiver.bot_token}/sendMessage"
        self._secrets = receiver.secrets

    async def send(self, message: Message, alerts: list[AlertEvent]) -> None:
        text = f"{message.title}\n\n{message.text}"
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1] + "…"
        body = orjson.dumps({"chat_id": self._chat_id, "text": text, "disable_web_page_preview": True})
        what = f"telegram {self.name}"
        status, raw = await post(self._url, body, headers={"Content-Type": "application/json"},
                                 secrets=self._secrets, what=what)
        if status == 429:
            try:
                retry_after = int(orjson.loads(raw)["parameters"]["retry_after"])
            except (ValueError, KeyError, TypeError):
                retry_after = None
            raise RetryableError(redact(f"{what}: HTTP 429: rate limited", self._secrets),
                                 retry_after_ms=None if retry_after is None else retry_after * 1000)
        raise_for_status(status, raw, secrets=self._secrets, what=what)
        try:
            ok = orjson.loads(raw).get("ok", True)
        except (ValueError, AttributeError):
            ok = True  # a 2xx with an odd body was still accepted
        if ok is False:
            raise PermanentError(f"{what}: API said not ok: {excerpt(raw, self._secrets)}")
