"""Operator commands sent through Kafka to the worker that owns the store (``store-commands``, key store_id)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from monitor.settings import Settings
from monitor.wire.codec import encode
from monitor.wire.records import StoreCommand

__all__ = ["send_store_command"]


def send_store_command(settings: Settings, command: str, *, store_id: str, city: str, by: str, note: str,
                       at: datetime | None = None) -> StoreCommand:
    """Publish a ``restore`` or ``acknowledge`` command keyed by store (so its owner partition gets it)."""
    from kafka import KafkaProducer

    cmd = StoreCommand(command_id=str(uuid.uuid4()), command=command, store_id=store_id, city=city, by=by,
                       note=note, at=at or datetime.now(UTC))
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    try:
        producer.send(settings.topic_store_commands, key=store_id.encode(), value=encode(cmd)).get(timeout=30)
    finally:
        producer.close()
    return cmd
