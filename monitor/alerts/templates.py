"""Short messages per alert kind, in Russian and English, naming the evidence and the next step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from monitor.alerts.model import AlertEvent

__all__ = ["Message", "render", "emoji", "ids_header", "LANGUAGES", "TITLE_MAX", "TEXT_MAX", "IDS_HEADER_MAX"]

LANGUAGES = ("ru", "en")
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
_EMOJI = {"critical": "🔴", "warning": "🟠", "info": "ℹ️"}
_MAX_IDS = 8  # order ids quoted as evidence


@dataclass(frozen=True, slots=True)
class Message:
    """What a channel sends: a title, a plain-text body and the ids of every alert it covers."""

    title: str
    text: str
    alert_ids: tuple[str, ...]


TITLE_MAX = 256
TEXT_MAX = 3_800  # with the title, within Telegram's 4,096 characters: no channel has to cut a message


IDS_HEADER_MAX = 4_000  # a header line receivers accept (aiohttp's default limit is 8,190 bytes)


def ids_header(alert_ids: Sequence[str], *, percent_encoded: bool = True) -> str:
    """Comma-separated ids (percent-encoded for HTTP, so that non-ASCII city or store names fit; e-mail encodes
    its headers itself); at most ``IDS_HEADER_MAX`` characters, ending ``,…`` when some ids are left out (the
    body lists them all)."""
    out, size = [], 0
    for i in alert_ids:
        part = quote(i, safe=":_-.@") if percent_encoded else i
        if size + len(part) + 1 > IDS_HEADER_MAX - 2:
            out.append("…")
            break
        out.append(part)
        size += len(part) + 1
    return ",".join(out)


def emoji(alert: AlertEvent) -> str:
    """✅ for resolved, else by severity: 🔴 critical, 🟠 warning, ℹ️ info."""
    return "✅" if alert.status == "resolved" else _EMOJI.get(alert.severity, "ℹ️")


def _ids(ids: Any) -> str:
    """Up to ``_MAX_IDS`` ids and how many more. Details are input: any JSON value is shown, none raises."""
    if not isinstance(ids, list):
        ids = [ids] if ids else []
    more = f" (+{len(ids) - _MAX_IDS})" if len(ids) > _MAX_IDS else ""
    return (", ".join(str(i) for i in ids[:_MAX_IDS]) + more) if ids else "—"


def _pct(x: Any) -> str:
    """A share as a percentage; "?" when the details carry something that is not a number."""
    try:
        return f"{float(x or 0):.1%}"
    except (TypeError, ValueError, OverflowError):
        return "?"


def _where(a: AlertEvent, ru: bool) -> str:
    if a.store_id is None:
        return f"город {a.city}" if ru else f"city {a.city}"
    return f"{'магазин' if ru else 'store'} {a.store_id} ({a.city})"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize() would lower-case the city name


def _store_hidden(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    w = _where(a, ru)
    if a.status == "resolved":
        who = f"{d.get('by')}: {d.get('note')}" if d.get("by") else str(d.get("note") or "")
        return ((f"{_cap(w)} снова виден", f"Вернул {who}") if ru
                else (f"{_cap(w)} visible again", f"Restored by {who}"))
    cmd = f"`monitor store restore {a.store_id} --city {a.city} --by NAME --note TEXT`"
    if ru:
        return (f"{_cap(w)} скрыт",
                f"Скрыт от покупателей: опоздали {d.get('late', 0)}, под угрозой {d.get('at_risk', 0)} "
                f"(инцидент {d.get('incident', '?')}).\nОпоздали: {_ids(d.get('late_order_ids'))}\n"
                f"Под угрозой: {_ids(d.get('at_risk_order_ids'))}\n"
                f"Что делать: позвоните партнёру; вернуть магазин: {cmd}")
    return (f"{_cap(w)} hidden",
            f"Hidden from customers: {d.get('late', 0)} late, {d.get('at_risk', 0)} at risk "
            f"(incident {d.get('incident', '?')}).\nLate: {_ids(d.get('late_order_ids'))}\n"
            f"At risk: {_ids(d.get('at_risk_order_ids'))}\n"
            f"Next: call the partner; restore with {cmd}")


_WHY = {"NOT_ACCEPTED": ("ещё не принят", "not accepted yet"),
        "NOT_DISPATCHED": ("ещё не передан в доставку", "not in delivery yet"),
        "DEADLINE_PASSED": ("срок доставки прошёл", "promised time has passed"),
        "HANDED_OVER_IN_TIME": ("магазин передал курьеру вовремя, опаздывает доставка",
                                "the store handed it to the courier in time; the delivery is late")}


def _order(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    oid, w = d.get("order_id", "?"), _where(a, ru)
    ru_why, en_why = _WHY.get(str(d.get("reason")), (str(d.get("reason")), str(d.get("reason"))))
    late = a.kind == "order_late"
    if ru:
        return (f"Заказ {oid} ({w}) {'опаздывает' if late else 'под угрозой опоздания'}",
                f"Обещан к {d.get('promised_at')}; {ru_why}.\n"
                "Что делать: уточните у магазина и курьера, предупредите покупателя.")
    return (f"Order {oid} ({w}) {'is late' if late else 'at risk of being late'}",
            f"Promised by {d.get('promised_at')}; {en_why}.\n"
            "Next: check with the store and the courier; warn the customer.")


def _review(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    text = str(d.get("text") or "")
    quoted = f"«{text[:300]}»" if text else ("(без текста)" if ru else "(no text)")
    if ru:
        return (f"Отзыв {d.get('rating')}★: {_where(a, ru)}",
                f"Заказ {d.get('order_id')}: {quoted}\nЧто делать: прочитайте отзыв, при необходимости "
                "свяжитесь с покупателем.")
    return (f"{d.get('rating')}★ review: {_where(a, ru)}",
            f"Order {d.get('order_id')}: {quoted}\nNext: read the review; contact the customer if needed.")


def _negativity(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    w, share, city = _where(a, ru), _pct(d.get("share")), a.store_id is None
    n, total, days, thr = d.get("negative"), d.get("reviews"), d.get("window_days"), _pct(d.get("threshold"))
    if a.status == "resolved":
        return ((f"Негатив: {w} — снова в норме", f"{share} ({n} из {total}) за {days} дн.") if ru
                else (f"Negativity back to normal: {w}", f"{share} ({n} of {total}) in {days} days"))
    if ru:
        todo = ("ищите общую причину по городу: курьеры, погода, сбой платформы" if city
                else "разберите последние заказы магазина и поговорите с партнёром")
        return (f"Много негатива: {w}", f"{share} негативных ({n} из {total}) за {days} дн., порог {thr}.\n"
                f"Что делать: {todo}.")
    todo = ("look for a city-wide cause: couriers, weather, a platform fault" if city
            else "review the store's recent orders and talk to the partner")
    return (f"High negativity: {w}", f"{share} negative ({n} of {total}) in {days} days, threshold {thr}.\n"
            f"Next: {todo}.")


def _repeat(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    w, n, days = _where(a, ru), d.get("incidents"), d.get("repeat_window_days")
    if ru:
        return (f"Повторный нарушитель: {w}", f"Порог негатива превышен {n} раз за {days} дн.\n"
                "Что делать: кандидат на отключение — передайте менеджеру партнёров.")
    return (f"Repeat offender: {w}", f"Over the negativity level {n} times in {days} days.\n"
            "Next: candidate for disconnection; escalate to partner management.")


def _city_lateness(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    w, share, n, total, hours = _where(a, ru), _pct(d.get("share")), d.get("courier_late"), d.get("delivered"), \
        d.get("window_hours")
    if a.status == "resolved":
        return ((f"Курьеры: {w} — снова в норме", f"опоздали по вине доставки {share} ({n} из {total}) за {hours} ч")
                if ru else (f"Couriers back to normal: {w}", f"{share} ({n} of {total}) late in {hours} h"))
    if ru:
        return (f"Курьеры опаздывают: {w}", f"{n} из {total} доставок за {hours} ч ({share}) магазины передали "
                "вовремя, а доставили поздно.\nЧто делать: свяжитесь со службой доставки; магазины не скрываются "
                "из-за этих заказов.")
    return (f"Couriers are late: {w}", f"{n} of {total} deliveries in {hours} h ({share}) were handed over in time "
            "and arrived late.\nNext: contact the delivery service; stores are not hidden for these orders.")


def _fallback(a: AlertEvent, d: dict[str, Any], ru: bool) -> tuple[str, str]:
    return f"{a.kind}: {_where(a, ru)}", a.summary


_KINDS: dict[str, Callable[[AlertEvent, dict[str, Any], bool], tuple[str, str]]] = {
    "store_hidden": _store_hidden, "order_late": _order, "order_at_risk": _order, "negative_review": _review,
    "store_negativity": _negativity, "city_negativity": _negativity, "store_repeat_offender": _repeat,
    "city_lateness": _city_lateness,
}


def _one(a: AlertEvent, ru: bool) -> tuple[str, str]:
    title, text = _KINDS.get(a.kind, _fallback)(a, a.details, ru)
    return f"{emoji(a)} {title}", text


def _compact(a: AlertEvent, ru: bool) -> str:
    title, text = _one(a, ru)
    first = text.split("\n", 1)[0]
    return f"{title} — {first[:117] + '…' if len(first) > 120 else first}"


def _order_key(a: AlertEvent) -> tuple[int, int, int, str]:
    return (a.status == "resolved", _SEVERITY_RANK.get(a.severity, 3), a.at_ms, a.alert_id)


def render(group_alerts: Sequence[AlertEvent], language: str, max_items: int = 10) -> Message:
    """One message for a group: the full template for one alert, a compact list for several."""
    if language not in LANGUAGES:
        raise ValueError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    if not group_alerts:
        raise ValueError("render: a message needs at least one alert")
    ru = language == "ru"
    alerts = sorted(group_alerts, key=_order_key)
    ids = tuple(a.alert_id for a in alerts)
    ids_line = ("id: " if ru else "ids: ") + ", ".join(ids)
    if len(alerts) == 1:
        title, text = _one(alerts[0], ru)
        return Message(title=_cut(title, TITLE_MAX), text=_cut(f"{text}\n{ids_line}", TEXT_MAX), alert_ids=ids)
    firing = [a for a in alerts if a.status == "firing"]
    head = emoji(firing[0]) if firing else "✅"
    kinds = ", ".join(dict.fromkeys(a.kind for a in alerts))
    places = {_where(a, ru) for a in alerts}
    where = f" — {places.pop()}" if len(places) == 1 else ""
    count = (f"{len(alerts)} оповещений ({len(firing)} активных)" if ru
             else f"{len(alerts)} alerts ({len(firing)} firing)")
    lines = [_compact(a, ru) for a in alerts[:max_items]]
    if len(alerts) > max_items:
        lines.append(f"…и ещё {len(alerts) - max_items}" if ru else f"…and {len(alerts) - max_items} more")
    return Message(title=_cut(f"{head} {count}: {kinds}{where}", TITLE_MAX),
                   text=_cut("\n".join([*lines, ids_line]), TEXT_MAX), alert_ids=ids)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
