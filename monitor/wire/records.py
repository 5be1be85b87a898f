"""Faust records of the topics the monitor reads, matching their contracts in ``monitor.wire.contracts`` (a test
keeps the two in step); what it writes is ``monitor.domain.outputs``."""

from __future__ import annotations

from datetime import datetime

import faust

__all__ = ["OrderStatus", "Review", "StoreCommand", "DeadLetter"]


class _Record(faust.Record, abstract=True, include_metadata=False):
    """Plain JSON on the wire: no faust metadata, timestamps as ISO 8601 with offset."""


class OrderStatus(_Record):
    event_id: str
    order_id: str
    store_id: str
    city: str
    status: str
    promised_at: datetime
    occurred_at: datetime


class Review(_Record):
    review_id: str
    order_id: str
    store_id: str
    city: str
    rating: int
    text: str
    created_at: datetime


class StoreCommand(_Record):
    command_id: str
    command: str
    store_id: str
    city: str
    by: str
    note: str
    at: datetime


class DeadLetter(_Record):
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str | None
    error: str
    at: datetime
    value_size: int | None = None
    value_sha256: str | None = None
    truncated: bool = False
