"""Generic webhook channel: the message and the original alerts as JSON, signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac

import orjson

from monitor.alerts.channels.base import post, raise_for_status
from monitor.alerts.config import Receiver
from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message, ids_header

__all__ = ["WebhookChannel", "sign", "ids_header", "SIGNATURE_HEADER", "IDS_HEADER"]

SIGNATURE_HEADER = "X-Monitor-Signature"
IDS_HEADER = "X-Monitor-Alert-Ids"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: ``sha256=<hex HMAC of the exact body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs {receiver, title, text, alert_ids, alerts}; signs the body when a secret is configured."""

    def __init__(self, receiver: Receiver) -> None:
        if not receiver.url:
            raise ValueError(f"receivers.{receiver.name}: webhook needs url")
        self.name = receiver.name
        self._url, self._secret = receiver.url, receiver.secret
        self._secrets = receiver.secrets

    def body(self, message: Message, alerts: list[AlertEvent]) -> bytes:
        return orjson.dumps({"receiver": self.name, "title": message.title, "text": message.text,
                             "alert_ids": list(message.alert_ids), "alerts": [a.to_dict() for a in alerts]})

    async def send(self, message: Message, alerts: list[AlertEvent]) -> None:
        body = self.body(message, alerts)
        headers = {"Content-Type": "application/json", IDS_HEADER: ids_header(message.alert_ids)}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        what = f"webhook {self.name}"
        status, raw = await post(self._url, body, headers=headers, secrets=self._secrets, what=what)
        raise_for_status(status, raw, secrets=self._secrets, what=what)
