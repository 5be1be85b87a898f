"""Silences: active windows, matchers and ending on resolve."""

from __future__ import annotations

import pytest
from alertfactory import make_alert

from monitor.alerts.silences import Silence, active_silence, after_resolve

T = 1_767_225_600_000


def silence(sid: str = "s-1", start: int = T, end: int = T + 3_600_000, **over: object) -> Silence:
    """A silence of store s1 in moscow for one hour from T."""
    fields: dict = {"matchers": {"store_id": ["s1"], "city": "~mos.*"}, "created_by": "anna",
                    "comment": "partner on holiday", "end_on_resolve": False, "expired": False}
    fields.update(over)
    return Silence(silence_id=sid, starts_at_ms=start, ends_at_ms=end, **fields)


@pytest.mark.parametrize(("now_ms", "over", "alert_over", "expected"), [
    (T, {}, {}, "s-1"),  # starts inclusive
    (T - 1, {}, {}, None),  # not started yet
    (T + 3_599_999, {}, {}, "s-1"),  # last millisecond
    (T + 3_600_000, {}, {}, None),  # ends exclusive
    (T + 10, {"expired": True}, {}, None),  # expired silences mute nothing
    (T + 10, {}, {"store_id": "s2"}, None),  # another store
    (T + 10, {}, {"city": "kazan"}, None),  # regex does not match
])
def test_active_silence(now_ms: int, over: dict, alert_over: dict, expected: str | None) -> None:
    """A silence mutes matching alerts from its start (inclusive) to its end (exclusive) unless expired."""
    hit = active_silence(make_alert(**alert_over), [silence(**over)], now_ms)
    assert (hit.silence_id if hit else None) == expected


def test_longest_silence_wins() -> None:
    """Of several active silences the one ending last is reported."""
    found = active_silence(make_alert(), [silence("a"), silence("b", end=T + 7_200_000)], T + 5)
    assert found is not None and found.silence_id == "b"


@pytest.mark.parametrize(("over", "alert_over", "expired"), [
    ({"end_on_resolve": True}, {"status": "resolved"}, True),  # the matched alert resolved: expire
    ({"end_on_resolve": True, "matchers": {"status": ["firing"], "store_id": ["s1"]}}, {"status": "resolved"},
     True),  # a status matcher does not keep it alive
    ({"end_on_resolve": False}, {"status": "resolved"}, False),  # not asked to
    ({"end_on_resolve": True}, {"status": "firing"}, False),  # still firing
    ({"end_on_resolve": True}, {"status": "resolved", "store_id": "s2"}, False),  # another store resolved
])
def test_after_resolve(over: dict, alert_over: dict, expired: bool) -> None:
    """A silence with end_on_resolve expires when an alert it matches resolves, and only then."""
    assert after_resolve(silence(**over), make_alert(**alert_over)).expired is expired


def test_round_trip_and_validation() -> None:
    """A silence survives to_dict/from_dict; a window that ends before it starts is refused."""
    s = silence(end_on_resolve=True)
    assert Silence.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="ends_at_ms"):
        silence(end=T)
    with pytest.raises(ValueError, match="matchers.town"):
        Silence.from_dict({**s.to_dict(), "matchers": {"town": ["x"]}})
