"""Faust agents, one module per consumed topic; importing this package registers them all."""

from monitor.agents import orders, stores  # noqa: F401
