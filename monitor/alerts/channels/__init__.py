"""Channels, one module each, and ``build_channel`` to make the one a receiver needs."""

from __future__ import annotations

from monitor.alerts.channels.base import Channel, ChannelError, PermanentError, RetryableError, redact
from monitor.alerts.channels.email import EmailChannel
from monitor.alerts.channels.log import LogChannel
from monitor.alerts.channels.slack import SlackChannel
from monitor.alerts.channels.telegram import TelegramChannel
from monitor.alerts.channels.webhook import WebhookChannel
from monitor.alerts.config import Receiver

__all__ = ["build_channel", "Channel", "ChannelError", "RetryableError", "PermanentError", "redact"]

_BY_TYPE: dict[str, type] = {"telegram": TelegramChannel, "slack": SlackChannel, "webhook": WebhookChannel,
                             "email": EmailChannel, "log": LogChannel}


def build_channel(receiver: Receiver) -> Channel:
    """The channel for a receiver; ValueError for an unknown type."""
    try:
        cls = _BY_TYPE[receiver.type]
    except KeyError:
        raise ValueError(f"receivers.{receiver.name}.type: unknown channel type {receiver.type!r}") from None
    channel: Channel = cls(receiver)
    return channel
