"""What every `monitor` subcommand shares: the one-line error type, the settings loader, parser registration."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["CommandError", "load_settings", "add_command"]


class CommandError(Exception):
    """A runtime failure with a one-line reason (exit code 1)."""


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
