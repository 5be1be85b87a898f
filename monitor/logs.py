"""structlog set-up: JSON lines in production, readable console output on a terminal; stdlib logs included."""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

import structlog

from monitor.secrets import redact

__all__ = ["configure", "logging_config", "get_logger", "hide_secrets"]

_SECRETS: tuple[str, ...] = ()


def hide_secrets(secrets: tuple[str, ...]) -> None:
    """From now on, every log line this process writes is redacted of ``secrets`` in any form
    (``monitor.secrets``), whatever field, exception or library line carries them."""
    global _SECRETS
    _SECRETS = tuple(s for s in secrets if s)


def _redacted(renderer: Any) -> Any:
    def render(logger: Any, name: str, event_dict: Any) -> Any:
        line = renderer(logger, name, event_dict)
        return redact(line, _SECRETS) if _SECRETS and isinstance(line, str) else line
    return render

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _wants_json(log_format: str) -> bool:
    if log_format == "auto":
        return not sys.stderr.isatty()
    return log_format == "json"


def logging_config(log_format: str = "auto", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that renders stdlib records (faust, aiokafka) through structlog."""
    renderer = (
        structlog.processors.JSONRenderer()
        if _wants_json(log_format)
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    _redacted(renderer),
                ],
                "foreign_pre_chain": _SHARED,
            }
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "structlog", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # chatty libraries: keep their warnings, drop their routine info lines
            "aiokafka": {"level": "WARNING"},
            "kafka": {"level": "WARNING"},
            "faust": {"level": "WARNING" if level.lower() != "debug" else "DEBUG"},
            "mode": {"level": "WARNING" if level.lower() != "debug" else "DEBUG"},
        },
    }


def configure(log_format: str = "auto", level: str = "info") -> dict[str, Any]:
    """Configure structlog and stdlib logging once; returns the dictConfig for faust's worker."""
    config = logging_config(log_format, level)
    logging.config.dictConfig(config)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return config


def get_logger(name: str | None = None, **bound: Any) -> Any:
    """A structlog logger with ``bound`` context."""
    return structlog.get_logger(name).bind(**bound) if bound else structlog.get_logger(name)
