"""Message templates in Russian and English."""

from __future__ import annotations

import pytest
from alertfactory import alert_dict, make_alert, review

from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import emoji, render

HIDDEN = make_alert()
RESTORED = make_alert(status="resolved", details={"reason": "MANUAL_RESTORE", "incident": 1, "by": "anna",
                                                    "note": "partner fixed the kitchen"})
LATE = make_alert(alert_id="order_late:moscow:s1:o9", kind="order_late", severity="warning",
                  details={"order_id": "o9", "promised_at": "2026-01-01T10:00:00+00:00", "reason": "NOT_ACCEPTED"})
NEG = make_alert(alert_id="store_negativity:moscow:s1:2", kind="store_negativity", severity="warning",
                 details={"share": 0.25, "reviews": 40, "negative": 10, "threshold": 0.15, "window_days": 7,
                          "incident": 2})
CITY = AlertEvent.from_dict(alert_dict(alert_id="city_negativity:moscow:1", kind="city_negativity",
                                       severity="warning", store_id=None, details=NEG.details))
REPEAT = make_alert(alert_id="store_repeat_offender:moscow:s1:3", kind="store_repeat_offender",
                    details={"incidents": 3, "repeat_window_days": 30})
UNKNOWN = make_alert(alert_id="x:1", kind="brand_new_kind", severity="info", summary="something new")


@pytest.mark.parametrize(("alert", "language", "must_contain"), [
    (HIDDEN, "en", ["🔴", "s1", "moscow", "3 late", "1 at risk", "o1, o2, o3", "o4", "call the partner",
                    "monitor store restore s1 --city moscow --by NAME --note TEXT"]),
    (HIDDEN, "ru", ["🔴", "скрыт", "опоздали 3", "под угрозой 1", "позвоните партнёру", "monitor store restore"]),
    (RESTORED, "en", ["✅", "visible again", "anna: partner fixed the kitchen"]),
    (RESTORED, "ru", ["✅", "снова виден", "anna"]),
    (LATE, "en", ["🟠", "Order o9", "is late", "not accepted yet", "2026-01-01T10:00:00+00:00"]),
    (LATE, "ru", ["Заказ o9", "опаздывает", "ещё не принят"]),
    (review("s1", 7), "en", ["ℹ️", "1★ review", "«cold soup 7»", "Order o7"]),
    (review("s1", 7), "ru", ["Отзыв 1★", "«cold soup 7»", "Заказ o7"]),
    (NEG, "en", ["25.0% negative (10 of 40) in 7 days, threshold 15.0%", "talk to the partner"]),
    (CITY, "ru", ["город moscow", "25.0%", "(10 из 40)", "общую причину"]),
    (REPEAT, "en", ["Repeat offender", "3 times in 30 days", "disconnection"]),
    (REPEAT, "ru", ["Повторный нарушитель", "3 раз за 30 дн."]),
    (UNKNOWN, "en", ["brand_new_kind", "something new"]),
    (make_alert(city="Kazan"), "en", ["Store s1 (Kazan) hidden", "--city Kazan"]),  # names keep their case  # unknown kinds fall back to the summary
])
def test_single_alert_templates(alert: AlertEvent, language: str, must_contain: list[str]) -> None:
    """A single alert renders its kind's template, naming the evidence, the next step and its id."""
    m = render([alert], language)
    full = f"{m.title}\n{m.text}"
    for part in must_contain:
        assert part in full, part
    assert m.alert_ids == (alert.alert_id,) and alert.alert_id in m.text


@pytest.mark.parametrize(("language", "more"), [("en", "…and 5 more"), ("ru", "…и ещё 5")])
def test_group_lists_compactly_and_counts_the_rest(language: str, more: str) -> None:
    """A group of 15 reviews lists 10, says how many more, and carries all 15 ids."""
    alerts = [review("s1", n, 1_767_225_600_000 + n) for n in range(15)]
    m = render(alerts, language, max_items=10)
    assert more in m.text and m.text.count("ℹ️") == 10
    assert len(m.alert_ids) == 15 and all(a.alert_id in m.text for a in alerts)
    assert "s1 (moscow)" in m.title and "15" in m.title


def test_group_orders_critical_first_and_marks_resolved() -> None:
    """A mixed group shows firing critical first, resolved last, and the title takes the worst emoji."""
    m = render([RESTORED.__class__.from_dict({**RESTORED.to_dict(), "alert_id": "store_hidden:moscow:s1:0"}),
                LATE, HIDDEN], "en")
    lines = m.text.splitlines()
    assert lines[0].startswith("🔴") and lines[1].startswith("🟠") and lines[2].startswith("✅")
    assert m.title.startswith("🔴 3 alerts (2 firing)")


@pytest.mark.parametrize(("alert", "expected"), [(HIDDEN, "🔴"), (LATE, "🟠"), (UNKNOWN, "ℹ️"), (RESTORED, "✅")])
def test_emoji(alert: AlertEvent, expected: str) -> None:
    """Resolved is ✅; firing is 🔴 critical, 🟠 warning, ℹ️ info."""
    assert emoji(alert) == expected


def test_bad_input() -> None:
    """Unknown languages and empty groups are refused."""
    with pytest.raises(ValueError, match="language"):
        render([HIDDEN], "de")
    with pytest.raises(ValueError):
        render([], "en")


def test_messages_and_id_headers_are_bounded() -> None:
    """A thousand alerts with the longest ids make one message within Telegram's limit and an ids header within
    what HTTP servers accept; the cut is marked."""
    from monitor.alerts.templates import IDS_HEADER_MAX, TEXT_MAX, TITLE_MAX, ids_header

    alerts = [AlertEvent.from_dict({"alert_id": f"{i:04d}".ljust(200, "x"), "kind": f"kind_{i}", "severity": "info",
                                    "status": "firing", "store_id": "s", "city": "Москва", "summary": "s" * 5000,
                                    "details": {}, "at": "2026-01-01T00:00:00+00:00"}) for i in range(1000)]
    for group in (alerts[:1], alerts):
        message = render(group, "ru")
        assert len(message.title) <= TITLE_MAX and len(message.text) <= TEXT_MAX
        assert message.text.endswith("…") and len(message.alert_ids) == len(group)
    header = ids_header([a.alert_id for a in alerts])
    assert len(header) <= IDS_HEADER_MAX and header.endswith(",…") and header.startswith("0000x")
    assert ids_header(["a:Москва"]) == "a:%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0"
    assert ids_header(["a:Москва"], percent_encoded=False) == "a:Москва"
