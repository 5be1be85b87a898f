"""Delivery configuration: defaults, environment secrets and errors that name the field."""

from __future__ import annotations

import re
import tomllib

import pytest

from monitor.alerts.config import DEFAULT_CONFIG_TOML, DispatchConfig

ENV = {"MONITOR_TELEGRAM_TOKEN": "123:tok", "MONITOR_SMTP_PASSWORD": "pw", "MONITOR_SLACK_MOSCOW": "https://x/y"}


def config(**over: object) -> dict:
    """A valid configuration document with top-level keys replaced."""
    d: dict = {"receivers": {"log": {"type": "log"},
                             "chat": {"type": "telegram", "bot_token": "env:TOKEN", "chat_id": -100, "language": "ru"}},
               "routes": [{"matchers": {"kind": ["store_hidden"]}, "receivers": ["chat"]}]}
    d.update(over)
    return d


class TestDefaults:
    def test_default_config_is_a_log_receiver(self) -> None:
        """The shipped configuration sends everything to the log receiver."""
        c = DispatchConfig.from_toml_dict(tomllib.loads(DEFAULT_CONFIG_TOML), env={})
        assert c.default_receivers == ("log",) and c.routes == () and c.receivers["log"].type == "log"
        assert (c.retry_attempts, c.retry_base_ms, c.retry_max_ms) == (5, 500, 30_000)

    def test_commented_examples_are_valid(self) -> None:
        """Uncommenting the example routes gives a valid configuration with three routes."""
        text = re.sub(r"^# ?(?!#)", "", DEFAULT_CONFIG_TOML, flags=re.M)
        c = DispatchConfig.from_toml_dict(tomllib.loads(text), env=ENV)
        assert [r.receivers for r in c.routes] == [("oncall-chat", "oncall-mail"), ("moscow-chat",),
                                                    ("moscow-chat",)]
        assert c.routes[0].continue_ and c.receivers["oncall-chat"].bot_token == "123:tok"

    def test_env_secret_and_int_chat_id(self) -> None:
        """``env:NAME`` reads the environment; a numeric chat id becomes a string; secrets stay out of repr."""
        c = DispatchConfig.from_toml_dict(config(), env={"TOKEN": "999:secret"})
        chat = c.receivers["chat"]
        assert (chat.bot_token, chat.chat_id, chat.language) == ("999:secret", "-100", "ru")
        assert "999:secret" not in repr(c)


@pytest.mark.parametrize(("over", "env", "message"), [
    ({"routes": [{}, {}, {"receivers": ["oncall-chat"]}]}, {"TOKEN": "t"},
     r"routes\[0\].receivers: expected a list"),  # the first bad route is reported
    ({"routes": [{"receivers": ["log"]}, {"receivers": ["oncall-chat"]}]}, {"TOKEN": "t"},
     r"routes\[1\].receivers: unknown receiver 'oncall-chat'"),  # names the index and the receiver
    ({}, {}, r"receivers.chat.bot_token: environment variable TOKEN is not set"),  # missing secret
    ({"receivers": {"x": {"type": "pager"}}}, {}, r"receivers.x.type: 'pager'"),  # unknown type
    ({"receivers": {"x": {"type": "log", "language": "de"}}}, {}, r"receivers.x.language"),  # language
    ({"receivers": {"x": {"type": "slack"}}}, {}, r"receivers.x.webhook_url: required"),  # required field
    ({"receivers": {"x": {"type": "log", "rate_limit_per_min": 0}}}, {}, r"receivers.x.rate_limit_per_min"),
    ({"receivers": {"x": {"type": "email", "host": "h", "from_addr": "a@b", "to_addrs": ["nobody"]}}}, {},
     r"receivers.x.to_addrs"),  # not an address
    ({"receivers": {"x": {"type": "log", "chat": 1}}}, {}, r"receivers.x.chat: unknown setting"),  # typo
    ({"routes": [{"receivers": ["log"], "matchers": {"town": ["a"]}}]}, {"TOKEN": "t"},
     r"routes\[0\].matchers.town: unknown label"),
    ({"routes": [{"receivers": ["log"], "matchers": {"city": "~("}}]}, {"TOKEN": "t"},
     r"routes\[0\].matchers.city: bad regex"),
    ({"routes": [{"receivers": ["log"], "matchers": {"city": "moscow"}}]}, {"TOKEN": "t"},
     r"routes\[0\].matchers.city: a string must be a regex"),  # a bare string is ambiguous
    ({"routes": [{"receivers": ["log"], "group_by": ["town"]}]}, {"TOKEN": "t"}, r"routes\[0\].group_by"),
    ({"routes": [{"receivers": ["log"], "group_wait_ms": -1}]}, {"TOKEN": "t"}, r"routes\[0\].group_wait_ms"),
    ({"routes": [{"receivers": ["log"], "continue": "yes"}]}, {"TOKEN": "t"}, r"routes\[0\].continue"),
    ({"default_receivers": []}, {"TOKEN": "t"}, "default_receivers: must name"),
    ({"retry_attempts": 0}, {"TOKEN": "t"}, "retry_attempts"),
    ({"retries": 3}, {"TOKEN": "t"}, "retries: unknown setting"),
])
def test_invalid_config_names_the_field(over: dict, env: dict, message: str) -> None:
    """Invalid configuration fails with a ValueError naming the field."""
    with pytest.raises(ValueError, match=message):
        DispatchConfig.from_toml_dict(config(**over), env=env)
