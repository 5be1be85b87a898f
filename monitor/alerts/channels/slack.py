"""Slack incoming-webhook channel."""

from __future__ import annotations

import orjson

from monitor.alerts.channels.base import post, raise_for_status
from monitor.alerts.config import Receiver
from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message

__all__ = ["SlackChannel"]


class SlackChannel:
    """Posts ``{"text": "*title*\\ntext"}`` to the webhook URL (the URL itself is the secret)."""

    def __init__(self, receiver: Receiver) -> None:
        if not receiver.webhook_url:
            raise ValueError(f"receivers.{receiver.name}: slack needs webhook_url")
        self.name = receiver.name
        self._url = receiver.webhook_url
        self._secrets = receiver.secrets

    async def send(self, message: Message, alerts: list[AlertEvent]) -> None:
        body = orjson.dumps({"text": f"*{message.title}*\n{message.text}"})
        what = f"slack {self.name}"
        status, raw = await post(self._url, body, headers={"Content-Type": "application/json"},
                                 secrets=self._secrets, what=what)
        raise_for_status(status, raw, secrets=self._secrets, what=what)
