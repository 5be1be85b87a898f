"""Delivery configuration: receivers, routes and retry settings, validated once from a TOML table."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.alerts.matchers import check_matchers
from monitor.alerts.model import LABEL_NAMES

__all__ = ["Receiver", "Route", "DispatchConfig", "DEFAULT_CONFIG_TOML", "RECEIVER_TYPES"]

RECEIVER_TYPES = ("telegram", "slack", "webhook", "email", "log")
LANGUAGES = ("ru", "en")
_REQUIRED = {"telegram": ("bot_token", "chat_id"), "slack": ("webhook_url",), "webhook": ("url",),
             "email": ("host", "from_addr", "to_addrs"), "log": ()}
_STR_FIELDS = ("bot_token", "chat_id", "api_base", "webhook_url", "url", "secret", "host", "username",
               "password", "from_addr")


@dataclass(frozen=True, slots=True)
class Receiver:
    """Where notifications go; secrets are kept out of ``repr``."""

    name: str
    type: str
    language: str = "en"
    rate_limit_per_min: int = 30
    bot_token: str | None = field(default=None, repr=False)  # telegram
    chat_id: str | None = None
    api_base: str = "https://api.telegram.org"
    webhook_url: str | None = field(default=None, repr=False)  # slack
    url: str | None = field(default=None, repr=False)  # webhook
    secret: str | None = field(default=None, repr=False)  # webhook HMAC key
    host: str | None = None  # email
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    from_addr: str | None = None
    to_addrs: tuple[str, ...] = ()

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line or an error."""
        return tuple(s for s in (self.bot_token, self.webhook_url, self.url, self.secret, self.password) if s)


@dataclass(frozen=True, slots=True)
class Route:
    """Which alerts go to which receivers, how they are grouped and how often they repeat."""

    matchers: Mapping[str, list[str] | str] = field(default_factory=dict)
    receivers: tuple[str, ...] = ()
    continue_: bool = False
    group_by: tuple[str, ...] = ("kind", "city", "store_id")
    group_wait_ms: int = 30_000
    group_interval_ms: int = 300_000
    repeat_interval_ms: int = 4 * 3_600_000
    send_resolved: bool = True


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """The whole delivery configuration; build it with ``from_toml_dict``."""

    receivers: Mapping[str, Receiver]
    routes: tuple[Route, ...] = ()
    default_receivers: tuple[str, ...] = ("log",)
    retry_attempts: int = 5
    retry_base_ms: int = 500
    retry_max_ms: int = 30_000

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every receiver's secrets: one receiver's answer could echo another's."""
        return tuple(s for r in self.receivers.values() for s in r.secrets)

    @property
    def default_route(self) -> Route:
        """The route of alerts no configured route matches: default receivers, default timings."""
        return Route(receivers=self.default_receivers)

    @classmethod
    def from_toml_dict(cls, d: Mapping[str, Any], env: Mapping[str, str] | None = None) -> DispatchConfig:
        """Validate a parsed TOML document; ``"env:NAME"`` values come from ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        _no_unknown(d, {"receivers", "routes", "default_receivers", "retry_attempts", "retry_base_ms",
                        "retry_max_ms"}, "")
        raw_receivers = d.get("receivers", {})
        if not isinstance(raw_receivers, Mapping):
            raise ValueError("receivers: expected a table of receiver name -> settings")
        receivers = {n: _receiver(n, r, env) for n, r in raw_receivers.items()}
        defaults = _names(d.get("default_receivers", ["log"]), "default_receivers", receivers)
        if not defaults:
            raise ValueError("default_receivers: must name at least one receiver")
        raw_routes = d.get("routes", [])
        if not isinstance(raw_routes, list):
            raise ValueError("routes: expected an array of tables ([[routes]])")
        routes = tuple(_route(r, f"routes[{i}]", receivers) for i, r in enumerate(raw_routes))
        return cls(receivers=receivers, routes=routes, default_receivers=defaults,
                   retry_attempts=_int(d, "retry_attempts", 5, "", lo=1),
                   retry_base_ms=_int(d, "retry_base_ms", 500, "", lo=0),
                   retry_max_ms=_int(d, "retry_max_ms", 30_000, "", lo=0))


def _no_unknown(d: Any, known: set[str], where: str) -> None:
    if not isinstance(d, Mapping):
        raise ValueError(f"{where.rstrip('.') or 'config'}: expected a table")
    for key in d:
        if key not in known:
            raise ValueError(f"{where}{key}: unknown setting")


def _int(d: Mapping[str, Any], key: str, default: int, where: str, *, lo: int) -> int:
    value = d.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise ValueError(f"{where}{key}: expected an integer >= {lo}, got {value!r}")
    return value


def _names(value: Any, where: str, receivers: Mapping[str, Receiver]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of receiver names")
    for name in value:
        if name not in receivers:
            raise ValueError(f"{where}: unknown receiver {name!r}")
    return tuple(value)


def _resolve(value: Any, where: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("env:"):
        var = value[4:]
        if var not in env or not env[var]:
            raise ValueError(f"{where}: environment variable {var} is not set")
        return env[var]
    return value


def _receiver(name: str, raw: Any, env: Mapping[str, str]) -> Receiver:
    where = f"receivers.{name}."
    _no_unknown(raw, {f for f in Receiver.__dataclass_fields__ if f != "name"}, where)
    kind = raw.get("type")
    if kind not in RECEIVER_TYPES:
        raise ValueError(f"{where}type: {kind!r} is not one of {', '.join(RECEIVER_TYPES)}")
    values: dict[str, Any] = {"name": name, "type": kind}
    language = raw.get("language", "en")
    if language not in LANGUAGES:
        raise ValueError(f"{where}language: {language!r} is not one of {', '.join(LANGUAGES)}")
    values["language"] = language
    for key in _STR_FIELDS:
        if key in raw:
            value = _resolve(raw[key], where + key, env)
            if key == "chat_id" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{where}{key}: expected a non-empty string")
            values[key] = value
    values["rate_limit_per_min"] = _int(raw, "rate_limit_per_min", 30, where, lo=1)
    values["port"] = _int(raw, "port", 587, where, lo=1)
    if not isinstance(raw.get("starttls", True), bool):
        raise ValueError(f"{where}starttls: expected true or false")
    values["starttls"] = raw.get("starttls", True)
    if "to_addrs" in raw:
        to = raw["to_addrs"]
        if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise ValueError(f"{where}to_addrs: expected a non-empty list of e-mail addresses")
        values["to_addrs"] = tuple(to)
    for key in _REQUIRED[kind]:
        if key not in values:
            raise ValueError(f"{where}{key}: required for a {kind} receiver")
    return Receiver(**values)


def _route(raw: Any, where: str, receivers: Mapping[str, Receiver]) -> Route:
    _no_unknown(raw, {"matchers", "receivers", "continue", "group_by", "group_wait_ms", "group_interval_ms",
                      "repeat_interval_ms", "send_resolved"}, where + ".")
    names = _names(raw.get("receivers"), f"{where}.receivers", receivers)
    if not names:
        raise ValueError(f"{where}.receivers: must name at least one receiver")
    group_by = raw.get("group_by", ["kind", "city", "store_id"])
    if not isinstance(group_by, list) or any(g not in LABEL_NAMES for g in group_by):
        raise ValueError(f"{where}.group_by: expected a list of labels from {', '.join(LABEL_NAMES)}")
    for key in ("continue", "send_resolved"):
        if not isinstance(raw.get(key, False), bool):
            raise ValueError(f"{where}.{key}: expected true or false")
    return Route(matchers=check_matchers(raw.get("matchers", {}), f"{where}.matchers"), receivers=names,
                 continue_=raw.get("continue", False), group_by=tuple(group_by),
                 group_wait_ms=_int(raw, "group_wait_ms", 30_000, where + ".", lo=0),
                 group_interval_ms=_int(raw, "group_interval_ms", 300_000, where + ".", lo=1),
                 repeat_interval_ms=_int(raw, "repeat_interval_ms", 4 * 3_600_000, where + ".", lo=1),
                 send_resolved=raw.get("send_resolved", True))


DEFAULT_CONFIG_TOML = """\
## Alert delivery. Secrets may be written as "env:VARIABLE" to read them from the environment.
## Lines starting with "# " are examples: remove the "# " to use them.
default_receivers = ["log"]
retry_attempts = 5
retry_base_ms = 500
retry_max_ms = 30000

[receivers.log]
type = "log"

# [receivers.oncall-chat]
# type = "telegram"
# language = "ru"
# bot_token = "env:MONITOR_TELEGRAM_TOKEN"
# chat_id = "-1001234567890"
#
# [receivers.oncall-mail]
# type = "email"
# host = "smtp.example.com"
# port = 587
# username = "monitor"
# password = "env:MONITOR_SMTP_PASSWORD"
# from_addr = "monitor@example.com"
# to_addrs = ["oncall@example.com"]
#
# [receivers.moscow-chat]
# type = "slack"
# webhook_url = "env:MONITOR_SLACK_MOSCOW"

## Hidden stores and repeat offenders: page on-call at once, by chat and e-mail.
# [[routes]]
# matchers = { kind = ["store_hidden", "store_repeat_offender"] }
# receivers = ["oncall-chat", "oncall-mail"]
# group_wait_ms = 0
# continue = true              # the city chats below hear about them too

## Negative reviews: one message per store every 10 minutes at most.
# [[routes]]
# matchers = { kind = ["negative_review"] }
# receivers = ["moscow-chat"]
# group_by = ["kind", "city", "store_id"]
# group_wait_ms = 60000
# group_interval_ms = 600000

## Everything else of a city to that city's chat.
# [[routes]]
# matchers = { city = "~(?i)moscow" }
# receivers = ["moscow-chat"]
"""
