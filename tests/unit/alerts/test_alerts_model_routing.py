"""Alert parsing, label matchers and routing."""

from __future__ import annotations

import pytest
from alertfactory import T0_MS, alert_dict, make_alert

from monitor.alerts.config import DispatchConfig
from monitor.alerts.matchers import matches
from monitor.alerts.model import AlertEvent
from monitor.alerts.routing import route
from monitor.wire.contracts import ContractError


class TestAlertEvent:
    def test_parses_time_to_ms_and_keeps_the_dict(self) -> None:
        """An alert keeps its details and original ``at`` and gets ``at_ms`` in epoch milliseconds."""
        d = alert_dict()
        a = AlertEvent.from_dict(d)
        assert a.at_ms == T0_MS and a.to_dict() == d
        assert a.labels == {"kind": "store_hidden", "severity": "critical", "status": "firing",
                            "city": "moscow", "store_id": "s1"}

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("severity", "fatal", "severity"),  # not in info|warning|critical
        ("at", "2026-01-01T00:00:00", "naive"),  # a naive timestamp is a bug
        ("details", [], "details"),  # details must be an object
    ])
    def test_invalid_alert_names_the_field(self, field: str, value: object, message: str) -> None:
        """A broken alert raises a ContractError that names what is wrong."""
        with pytest.raises(ContractError, match=message):
            AlertEvent.from_dict(alert_dict(**{field: value}))


LABELS = {"kind": "store_hidden", "severity": "critical", "status": "firing", "city": "moscow", "store_id": None}


@pytest.mark.parametrize(("matchers", "expected"), [
    ({}, True),  # no matchers: everything
    ({"kind": ["store_hidden", "order_late"]}, True),  # value in the list
    ({"kind": ["order_late"]}, False),  # value not in the list
    ({"city": "~mos.*"}, True),  # regex, full match
    ({"city": "~mos"}, False),  # regex must match the whole value
    ({"store_id": "~"}, True),  # a null label matches as ""
    ({"kind": ["store_hidden"], "city": ["kazan"]}, False),  # every matcher must accept
])
def test_matchers(matchers: dict, expected: bool) -> None:
    """Matchers accept a label by list membership or a full regex match."""
    assert matches(matchers, LABELS) is expected


CONFIG = DispatchConfig.from_toml_dict({
    "receivers": {n: {"type": "log"} for n in ("log", "oncall", "mail", "moscow", "reviews")},
    "default_receivers": ["log"],
    "routes": [
        {"matchers": {"kind": ["store_hidden", "store_repeat_offender"]}, "receivers": ["oncall", "mail"],
         "continue": True},
        {"matchers": {"kind": ["negative_review"]}, "receivers": ["reviews"], "group_by": ["store_id"]},
        {"matchers": {"city": "~(?i)mos.*"}, "receivers": ["moscow"]},
        {"matchers": {"severity": ["warning"]}, "receivers": ["mail"]},
    ],
})


@pytest.mark.parametrize(("over", "expected"), [
    ({}, [["oncall", "mail"], ["moscow"]]),  # continue: on-call and then the city route
    ({"kind": "negative_review", "severity": "info"}, [["reviews"]]),  # first match wins, city route not reached
    ({"kind": "order_late", "severity": "warning"}, [["moscow"]]),  # regex city; stops before severity route
    ({"kind": "order_late", "severity": "warning", "city": "kazan"}, [["mail"]]),  # falls to a later route
    ({"kind": "order_late", "severity": "info", "city": "kazan"}, [["log"]]),  # nothing matches: default
])
def test_route(over: dict, expected: list[list[str]]) -> None:
    """Routes match in order; the first match ends the walk unless it says continue; else the default."""
    assert [names for _, names in route(make_alert(**over), CONFIG)] == expected


def test_default_route_has_default_timings() -> None:
    """An unmatched alert gets the default receivers with the default group and repeat timings."""
    [(r, _)] = route(make_alert(kind="x", severity="info", city="kazan"), CONFIG)
    assert (r.group_wait_ms, r.group_interval_ms, r.repeat_interval_ms) == (30_000, 300_000, 14_400_000)


class TestMatchersCannotStall:
    """Regex matchers run in linear time: no silence or route can hang the dispatcher."""

    def test_a_catastrophic_pattern_against_a_hostile_city_answers_at_once(self) -> None:
        """(a+)+$ against 100,000 a's and a '!' takes exponential time in Python's re; on RE2 it is linear."""
        import time

        from monitor.alerts.matchers import check_matchers, matches

        m = check_matchers({"city": "~(a+)+$"}, "silence")
        started = time.perf_counter()
        assert matches(m, {"city": "a" * 100_000 + "!"}) is False
        assert time.perf_counter() - started < 0.5

    @pytest.mark.parametrize(("pattern", "why"), [
        ("~(a)\\1", "RE2 syntax"),  # backreferences have no linear-time algorithm
        ("~(?=a)a", "RE2 syntax"),  # nor does lookahead
        ("~" + "a" * 300, "longer than 256"),
    ])
    def test_patterns_without_a_linear_time_match_are_refused_when_checked(self, pattern: str, why: str) -> None:
        """Refused with the reason when the configuration or the silence is checked, not at delivery time."""
        from monitor.alerts.matchers import check_matchers

        with pytest.raises(ValueError, match=why):
            check_matchers({"city": pattern}, "silence")
