"""Grouping: alerts wait in per-receiver groups so a burst becomes one message; time is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.alerts.config import Route
from monitor.alerts.model import AlertEvent

__all__ = ["Group", "GroupKey", "Grouper", "group_key"]

GroupKey = tuple[str, tuple[tuple[str, str | None], ...]]  # (receiver, ((label, value), ...))


def group_key(receiver: str, route: Route, alert: AlertEvent) -> GroupKey:
    """The group of an alert for a receiver: the receiver and the route's ``group_by`` label values."""
    labels = alert.labels
    return receiver, tuple((name, labels[name]) for name in route.group_by)


@dataclass(frozen=True, slots=True)
class Group:
    """A flushed group: the latest state of each of its alerts, oldest first."""

    receiver: str
    key: GroupKey
    route: Route
    alerts: tuple[AlertEvent, ...]
    first_ms: int
    last_flush_ms: int


@dataclass(slots=True)
class _State:
    receiver: str
    route: Route
    first_ms: int
    alerts: dict[str, AlertEvent] = field(default_factory=dict)
    updated_ms: dict[str, int] = field(default_factory=dict)
    last_flush_ms: int | None = None
    pending: bool = False

    def due_ms(self) -> int | None:
        if not self.pending:
            return None
        if self.last_flush_ms is None:
            return self.first_ms + self.route.group_wait_ms
        return self.last_flush_ms + self.route.group_interval_ms


class Grouper:
    """Holds open groups; ``due(now_ms)`` flushes those whose wait or interval has passed.

    Resolved alerts leave a group once flushed; firing alerts leave it ``retention_ms`` after their last update
    (alerts that never resolve, such as single reviews, must not stay forever). An empty group is dropped.
    """

    def __init__(self, retention_ms: int = 24 * 3_600_000) -> None:
        self.retention_ms = retention_ms
        self._groups: dict[GroupKey, _State] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def add(self, receiver: str, route: Route, alert: AlertEvent, now_ms: int) -> GroupKey:
        """Put the alert into its group; an identical re-delivery of an alert does not make the group due."""
        key = group_key(receiver, route, alert)
        state = self._groups.get(key)
        if state is None:
            state = self._groups[key] = _State(receiver=receiver, route=route, first_ms=now_ms)
        if state.alerts.get(alert.alert_id) != alert:
            state.alerts[alert.alert_id] = alert
            state.pending = True
        state.updated_ms[alert.alert_id] = now_ms
        return key

    def next_due_ms(self) -> int | None:
        """The earliest time at which ``due`` will flush something, or None."""
        times = [t for s in self._groups.values() if (t := s.due_ms()) is not None]
        return min(times) if times else None

    def due(self, now_ms: int) -> list[Group]:
        """Flush and return the groups due at ``now_ms``: first after group_wait, then after group_interval."""
        out: list[Group] = []
        for key, state in list(self._groups.items()):
            due = state.due_ms()
            if due is not None and due <= now_ms:
                alerts = sorted(state.alerts.values(), key=lambda a: (a.at_ms, a.alert_id))
                out.append(Group(receiver=state.receiver, key=key, route=state.route, alerts=tuple(alerts),
                                 first_ms=state.first_ms, last_flush_ms=now_ms))
                state.last_flush_ms, state.pending = now_ms, False
                for a in alerts:
                    if a.status == "resolved":
                        del state.alerts[a.alert_id], state.updated_ms[a.alert_id]
            self._expire(state, now_ms)
            if not state.alerts:
                del self._groups[key]
        return out

    def _expire(self, state: _State, now_ms: int) -> None:
        if state.pending:
            return
        for aid, t in list(state.updated_ms.items()):
            if t + self.retention_ms <= now_ms:
                del state.alerts[aid], state.updated_ms[aid]
