"""The notification log and the decision whether to notify again."""

from __future__ import annotations

import pytest
from alertfactory import make_alert

from monitor.alerts.notify_log import NotifyEntry, Reason, acknowledge, fingerprint, needs_update, record

H = 3_600_000
FIRING = make_alert()
FP = fingerprint(FIRING)


def entry(status: str = "firing", fp: str = FP, sent_at_ms: int = 1_000_000, acked: bool = False) -> NotifyEntry:
    """What receiver ``chat`` was last sent about the alert."""
    return NotifyEntry("chat", FIRING.alert_id, status, fp, sent_at_ms, acked)


CHANGED_ALERT = make_alert(details={**FIRING.details, "late": 4})
RESOLVED = make_alert(status="resolved", details={"by": "anna", "note": "called"})


@pytest.mark.parametrize(("e", "alert", "now_ms", "send_resolved", "expected"), [
    (None, FIRING, 1_000_000, True, Reason.NEW),  # never told
    (entry(), FIRING, 1_000_000 + H - 1, True, Reason.UNCHANGED),  # repeat not due yet
    (entry(), FIRING, 1_000_000 + H, True, Reason.REPEAT_DUE),  # exactly one repeat interval later
    (entry(), CHANGED_ALERT, 1_000_001, True, Reason.CHANGED),  # details differ from what was sent
    (entry(acked=True), FIRING, 1_000_000 + 10 * H, True, Reason.ACKNOWLEDGED),  # acked: no repeats
    (entry(acked=True), CHANGED_ALERT, 1_000_001, True, Reason.CHANGED),  # but a change is still news
    (entry(acked=True), RESOLVED, 1_000_001, True, Reason.RESOLVED),  # and so is the resolve
    (entry(), RESOLVED, 1_000_001, True, Reason.RESOLVED),  # firing was sent, now resolved
    (entry(), RESOLVED, 1_000_001, False, Reason.RESOLVED_NOT_SENT),  # send_resolved is off
    (None, RESOLVED, 1_000_001, True, Reason.RESOLVED_NOT_SENT),  # firing was never sent
    (entry("resolved", fingerprint(RESOLVED)), RESOLVED, 1_000_000 + 10 * H, True, Reason.UNCHANGED),  # sent
])
def test_needs_update(e: NotifyEntry | None, alert, now_ms: int, send_resolved: bool, expected: Reason) -> None:
    """needs_update returns the reason to send, or not to send, at ``now_ms``."""
    reason = needs_update(e, alert, now_ms=now_ms, repeat_interval_ms=H, send_resolved=send_resolved)
    assert reason is expected
    assert reason.sends is (expected in (Reason.NEW, Reason.CHANGED, Reason.RESOLVED, Reason.REPEAT_DUE))


def test_fingerprint_ignores_time_but_not_content() -> None:
    """The same summary, details and status hash the same, whatever the event time."""
    assert fingerprint(make_alert(at_ms=1_767_225_600_005)) == FP != fingerprint(make_alert(summary="other"))


def test_record_and_acknowledge() -> None:
    """record() stores what was sent; an ack survives a repeat but not a status change; to/from dict round-trips."""
    e = record(None, "chat", FIRING, 2_000)
    assert e == NotifyEntry("chat", FIRING.alert_id, "firing", FP, 2_000, False)
    acked = acknowledge(e)
    assert record(acked, "chat", FIRING, 3_000).acked is True
    assert record(acked, "chat", RESOLVED, 3_000).acked is False
    assert NotifyEntry.from_dict(acked.to_dict()) == acked
