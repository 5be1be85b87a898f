"""Log channel: one structlog line per notification, and the last messages kept for tests and the demo."""

from __future__ import annotations

import structlog

from monitor.alerts.config import Receiver
from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message

__all__ = ["LogChannel"]

log = structlog.get_logger("monitor.alerts")


class LogChannel:
    """Logs ``alert_notification``; ``sent`` holds the last ``keep`` messages, oldest first."""

    def __init__(self, receiver: Receiver, keep: int = 100) -> None:
        self.name = receiver.name
        self.keep = keep
        self.sent: list[Message] = []

    async def send(self, message: Message, alerts: list[AlertEvent]) -> None:
        log.info("alert_notification", receiver=self.name, title=message.title, text=message.text,
                 alert_ids=list(message.alert_ids))
        self.sent.append(message)
        del self.sent[: -self.keep]
