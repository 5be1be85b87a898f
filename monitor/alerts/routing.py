"""Which routes, and so which receivers, an alert goes to."""

from __future__ import annotations

from monitor.alerts.config import DispatchConfig, Route
from monitor.alerts.matchers import matches
from monitor.alerts.model import AlertEvent

__all__ = ["route"]


def route(alert: AlertEvent, config: DispatchConfig) -> list[tuple[Route, list[str]]]:
    """The matching routes in order: the first match ends the walk unless it says ``continue``.

    With no match the alert goes to the default receivers with the default timings.
    """
    labels = alert.labels
    out: list[tuple[Route, list[str]]] = []
    for r in config.routes:
        if matches(r.matchers, labels):
            out.append((r, list(r.receivers)))
            if not r.continue_:
                break
    if not out:
        default = config.default_route
        out.append((default, list(default.receivers)))
    return out
