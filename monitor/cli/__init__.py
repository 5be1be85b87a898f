"""The ``monitor`` command: one module per command group; ``main`` parses and dispatches."""

from monitor.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
