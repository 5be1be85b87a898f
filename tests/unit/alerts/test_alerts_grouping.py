"""Grouping: bursts become one message; later alerts wait for the group interval."""

from __future__ import annotations

from alertfactory import make_alert, review

from monitor.alerts.config import Route
from monitor.alerts.grouping import Grouper

T = 1_767_225_600_000
ROUTE = Route(receivers=("chat",), group_by=("kind", "city", "store_id"), group_wait_ms=30_000,
              group_interval_ms=300_000)


class TestGrouper:
    def test_burst_of_reviews_is_one_group_flushed_once(self) -> None:
        """Ten negative reviews of one store within group_wait become one group, flushed once."""
        g = Grouper()
        for n in range(10):
            g.add("chat", ROUTE, review("s1", n, T + n * 1_000), T + n * 1_000)
        assert g.due(T + 29_999) == []
        assert g.next_due_ms() == T + 30_000
        [group] = g.due(T + 30_000)
        assert len(group.alerts) == 10 and group.receiver == "chat"
        assert group.key == ("chat", (("kind", "negative_review"), ("city", "moscow"), ("store_id", "s1")))
        assert (group.first_ms, group.last_flush_ms) == (T, T + 30_000)
        assert g.due(T + 10_000_000) == []  # nothing new: never again

    def test_new_alert_after_flush_waits_group_interval(self) -> None:
        """An alert arriving after the first flush is sent group_interval after that flush, with the group."""
        g = Grouper()
        g.add("chat", ROUTE, review("s1", 1, T), T)
        assert len(g.due(T + 30_000)) == 1
        g.add("chat", ROUTE, review("s1", 2, T + 40_000), T + 40_000)
        assert g.due(T + 329_999) == []
        [group] = g.due(T + 330_000)
        assert [a.alert_id for a in group.alerts] == ["negative_review:moscow:s1:r1", "negative_review:moscow:s1:r2"]

    def test_groups_split_by_label_and_receiver(self) -> None:
        """Different stores or receivers are different groups; a repeated identical alert changes nothing."""
        g = Grouper()
        g.add("chat", ROUTE, review("s1", 1, T), T)
        g.add("chat", ROUTE, review("s2", 1, T), T)
        g.add("mail", ROUTE, review("s1", 1, T), T)
        assert len(g.due(T + 30_000)) == 3
        g.add("chat", ROUTE, review("s1", 1, T), T + 31_000)  # a replayed duplicate
        assert g.due(T + 1_000_000) == []

    def test_resolved_alerts_leave_and_empty_groups_go(self) -> None:
        """A resolved alert is flushed once and then removed; its empty group is dropped."""
        g = Grouper()
        g.add("chat", ROUTE, make_alert(), T)
        g.due(T + 30_000)
        g.add("chat", ROUTE, make_alert(status="resolved", details={"by": "a", "note": "b"}), T + 60_000)
        [group] = g.due(T + 330_000)
        assert [a.status for a in group.alerts] == ["resolved"] and len(g) == 0

    def test_old_firing_alerts_expire(self) -> None:
        """A firing alert not updated for the retention time leaves its group."""
        g = Grouper(retention_ms=3_600_000)
        g.add("chat", ROUTE, review("s1", 1, T), T)
        g.due(T + 30_000)
        assert len(g) == 1
        g.due(T + 3_600_000)
        assert len(g) == 0
