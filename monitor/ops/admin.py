"""Kafka administration: wait for the broker and create the monitor's topics with the right partition counts."""

from __future__ import annotations

import time
from collections.abc import Iterable

from monitor.logs import get_logger
from monitor.settings import Settings
from monitor.worker.topicnames import changelog_topic_names, internal_topic_names

__all__ = ["BrokerUnavailable", "wait_for_broker", "ensure_topics", "topic_specs"]

log = get_logger("monitor.ops.admin")


class BrokerUnavailable(RuntimeError):
    """Kafka did not answer within the start-up timeout."""


def wait_for_broker(bootstrap: str, timeout_s: float = 60.0) -> None:
    """Retry until the cluster answers metadata; log each retry; raise BrokerUnavailable after ``timeout_s``."""
    from monitor.ops.localkafka import answers_metadata

    deadline = time.monotonic() + timeout_s
    attempt = 0
    while True:
        attempt += 1
        ok, error = answers_metadata(bootstrap)
        if ok:
            return
        left_s = deadline - time.monotonic()
        log.warning("kafka_unreachable", bootstrap=bootstrap, attempt=attempt, error=error,
                    gives_up_in_s=round(max(0.0, left_s), 1))
        if left_s <= 0:
            raise BrokerUnavailable(f"Kafka at {bootstrap} is unreachable after {timeout_s:.0f}s: {error}")
        time.sleep(min(5.0, 0.5 * attempt, left_s))


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic name -> topic configs for every topic the monitor reads or writes."""
    return {
        **{name: {} for name in internal_topic_names(settings.app_id)},
        # created before faust starts, so the first table write never finds its changelog missing from metadata
        **{name: {"cleanup.policy": "compact"} for name in changelog_topic_names(settings.app_id)},
        settings.topic_order_status: {},
        settings.topic_reviews: {},
        settings.topic_store_commands: {},
        settings.topic_store_visibility: {},
        settings.topic_alerts: {},
        settings.topic_dead_letters: {},
        settings.topic_silences: {"cleanup.policy": "compact"},
    }


def ensure_topics(settings: Settings, names: Iterable[str] | None = None) -> list[str]:
    """Create missing topics with ``settings.partitions`` partitions; return the names created."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    specs = topic_specs(settings)
    wanted = list(names) if names is not None else list(specs)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="monitor-admin")
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=specs.get(name, {}))
            for name in wanted if name not in existing
        ]
        created = []
        for topic in new:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        if created:
            log.info("topics_created", topics=created, partitions=settings.partitions)
        return created
    finally:
        admin.close()
