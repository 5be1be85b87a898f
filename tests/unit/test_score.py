"""The scorer: incidents matched to outputs inside their window, in event time."""

from __future__ import annotations

from monitor.toolkit.score import score

TRUTH = [
    {"kind": "store_stops_accepting", "expect": "hide", "alert_kind": "store_hidden", "store_id": "s1",
     "city": "Moscow", "start": "2026-02-13T07:00:00+00:00", "end": "2026-02-13T21:00:00+00:00"},
    {"kind": "small_store_unlucky_review", "expect": "no_alert", "alert_kind": "store_negativity",
     "store_id": "s2", "city": "Kazan", "start": "2026-02-13T00:00:00+00:00", "end": "2026-02-14T00:00:00+00:00"},
    {"kind": "city_slow_couriers", "expect": "alert", "alert_kind": "city_lateness", "store_id": None,
     "city": "Sochi", "start": "2026-02-13T00:00:00+00:00", "end": "2026-02-14T00:00:00+00:00"},
]


class TestScore:
    def test_detection_delay_quiet_and_missed(self) -> None:
        """A hide inside the window is detected with its delay; a quiet store is QUIET; no alert is MISSED."""
        vis = [{"action": "hide", "store_id": "s1", "city": "Moscow", "at": "2026-02-13T09:30:00+00:00",
                "event_id": "hide:Moscow:s1:1"},
               {"action": "hide", "store_id": "s9", "city": "Moscow", "at": "2026-02-13T09:30:00+00:00",
                "event_id": "hide:Moscow:s9:1"}]
        result = score(TRUTH, vis, [])
        by_kind = {r.kind: r for r in result.incidents}
        assert by_kind["store_stops_accepting"].outcome == "DETECTED"
        assert by_kind["store_stops_accepting"].delay_s == 2.5 * 3600
        assert by_kind["small_store_unlucky_review"].outcome == "QUIET"
        assert by_kind["city_slow_couriers"].outcome == "MISSED"
        assert result.unexplained_hides == ["hide:Moscow:s9:1"]

    def test_alert_on_the_unlucky_store_is_a_false_alarm(self) -> None:
        """A negativity alert for the small store counts as a false alarm."""
        alert = {"alert_id": "store_negativity:Kazan:s2:1", "kind": "store_negativity", "status": "firing",
                 "store_id": "s2", "city": "Kazan", "at": "2026-02-13T12:00:00+00:00"}
        result = score(TRUTH, [], [alert])
        assert {r.kind: r.outcome for r in result.incidents}["small_store_unlucky_review"] == "FALSE_ALARM"

    def test_hide_before_the_incident_does_not_count(self) -> None:
        """Outputs before the incident started are not detections."""
        vis = [{"action": "hide", "store_id": "s1", "city": "Moscow", "at": "2026-02-12T09:30:00+00:00",
                "event_id": "hide:Moscow:s1:1"}]
        assert score(TRUTH, vis, []).incidents[0].outcome == "MISSED"


class TestPercentile:
    def test_nearest_rank(self) -> None:
        """Nearest-rank percentiles of 1..100 are the values themselves; empty input gives 0."""
        from monitor.toolkit.loadtest import percentile

        values = [float(v) for v in range(100, 0, -1)]
        assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
        assert percentile([], 99) == 0.0
