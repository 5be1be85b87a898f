"""Silences and acknowledgements: published to a compacted topic that every dispatcher reads."""

from __future__ import annotations

import tomllib
import uuid
from datetime import timedelta
from typing import Any

import orjson

from monitor.alerts.config import DEFAULT_CONFIG_TOML, DispatchConfig
from monitor.alerts.matchers import check_matchers
from monitor.alerts.silences import Silence
from monitor.settings import Settings

__all__ = ["load_dispatch_config", "parse_matchers", "add_silence", "expire_silence", "list_silences",
           "acknowledge_alert"]


def load_dispatch_config(settings: Settings) -> DispatchConfig:
    """The dispatch configuration file named by the settings, or the default (log everything)."""
    if settings.dispatch_config:
        try:
            with open(settings.dispatch_config, "rb") as fh:
                doc = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"dispatch_config {settings.dispatch_config}: {exc}") from None
    else:
        doc = tomllib.loads(DEFAULT_CONFIG_TOML)
    return DispatchConfig.from_toml_dict(doc)


def parse_matchers(pairs: list[str]) -> dict[str, Any]:
    """``["kind=store_hidden", "city=~Mos.*"]`` -> matchers (values, or ``~regex``); ValueError on bad input."""
    raw: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"--match expects LABEL=VALUE or LABEL=~REGEX, got {pair!r}")
        if value.startswith("~"):
            raw[name] = value
        else:
            raw.setdefault(name, []).append(value)
    return check_matchers(raw, "--match")


def _publish(settings: Settings, key: str, value: dict[str, Any]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    try:
        producer.send(settings.topic_silences, key=key.encode(), value=orjson.dumps(value)).get(timeout=30)
    finally:
        producer.close()


def _days(td: timedelta) -> str:
    return f"{td.total_seconds() / 86400:g} days" if td >= timedelta(days=1) else f"{td.total_seconds():g} s"


def add_silence(settings: Settings, *, matchers: dict[str, Any], duration: timedelta, by: str, comment: str,
                now_ms: int, end_on_resolve: bool = False) -> Silence:
    """Create a silence from now for ``duration`` (positive, at most ``settings.max_silence``: ValueError)."""
    if not timedelta(0) < duration <= settings.max_silence:
        raise ValueError(f"a silence lasts more than 0 and at most {_days(settings.max_silence)} (setting max_silence), "
                         f"got {_days(duration)}")
    silence = Silence(silence_id=uuid.uuid4().hex[:12], matchers=matchers, created_by=by, comment=comment,
                      starts_at_ms=now_ms, ends_at_ms=now_ms + int(duration.total_seconds() * 1000),
                      end_on_resolve=end_on_resolve)
    _publish(settings, f"silence:{silence.silence_id}", silence.to_dict())
    return silence


def list_silences(settings: Settings) -> list[Silence]:
    """Every silence on the topic (latest version of each)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(settings.topic_silences, bootstrap_servers=settings.kafka_bootstrap_servers,
                             group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=2000)
    found: dict[str, Silence] = {}
    try:
        for m in consumer:
            d = orjson.loads(m.value) if m.value else None
            if d and d.get("type") != "ack":
                s = Silence.from_dict(d)
                found[s.silence_id] = s
    finally:
        consumer.close()
    return sorted(found.values(), key=lambda s: s.starts_at_ms)


def expire_silence(settings: Settings, silence_id: str, *, by: str, known: list[Silence] | None = None) -> Silence:
    """Expire a silence now; ValueError if there is no such silence (among ``known``, else on the topic)."""
    from dataclasses import replace

    match = [s for s in (list_silences(settings) if known is None else known) if s.silence_id == silence_id]
    if not match:
        raise ValueError(f"no silence {silence_id!r} (see `monitor silence list`)")
    expired = replace(match[0], expired=True, comment=f"{match[0].comment} [expired by {by}]")
    _publish(settings, f"silence:{silence_id}", expired.to_dict())
    return expired


def acknowledge_alert(settings: Settings, alert_id: str, *, by: str, now_ms: int) -> None:
    """Stop repeats of a firing alert for every receiver (a change or a resolve is still sent)."""
    _publish(settings, f"ack:{alert_id}", {"type": "ack", "alert_id": alert_id, "by": by, "at_ms": now_ms})
