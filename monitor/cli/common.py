"""What every `monitor` subcommand shares: the one-line error type, the settings loader, parser registration."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["CommandError", "UsageError", "load_settings", "add_command", "http_url"]


class CommandError(Exception):
    """A runtime failure with a one-line reason (exit code 1)."""


class UsageError(CommandError):
    """An argument out of range, found after parsing (exit code 2, like argparse's own usage errors)."""


def http_url(value: str) -> str:
    """An ``http(s)://host[:port]`` URL (argparse type: anything else is a usage error, not a traceback)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise argparse.ArgumentTypeError(f"expected http://host:port, got {value!r}")
    return value.rstrip("/")


def load_settings() -> Any:
    """The settings, or a CommandError naming the invalid field."""
    from monitor.settings import Settings, SettingsError

    try:
        return Settings.load()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None


def add_command(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    """Add subcommand ``name`` running ``func``; its help is also its description."""
    p = sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=func)
    return p
