"""Order classification, the hide rule and the store model, driven by literal event times."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime

import pytest

from monitor.domain.orders import (
    HideDecision,
    HideRule,
    apply_status,
    at_risk_reason,
    evaluate_store,
    handed_over_in_time,
    is_late,
    is_store_late,
    status_at,
)
from monitor.domain.store_state import StoreState
from monitor.domain.stores import (
    MOVED,
    Applied,
    OrderRules,
    advance,
    apply_order_event,
    counts_at,
    next_due_ms,
    reconsider,
    restore,
)

MIN = 60_000
H = 60 * MIN
T0 = int(datetime.fromisoformat("2026-02-14T09:00:00+00:00").timestamp() * 1000)
RULES = OrderRules()


def facts(*events: tuple[str, int], promised: int = T0 + 3 * H):
    f = None
    for status, at in events:
        f = apply_status(f, status, at, promised)
    return f


class TestClassification:
    @pytest.mark.parametrize(
        ("events", "t", "late"),
        [
            ([("created", T0)], T0 + 3 * H, True),  # open at the deadline: late from the deadline on
            ([("created", T0)], T0 + 3 * H - 1, False),  # one ms before the deadline: not yet
            ([("created", T0), ("delivered", T0 + 2 * H)], T0 + 4 * H, False),  # delivered on time: never late
            ([("created", T0), ("delivered", T0 + 4 * H)], T0 + 5 * H, True),  # delivered after the deadline
            ([("created", T0), ("cancelled", T0 + H)], T0 + 4 * H, False),  # cancelled in time: neither
            ([("created", T0)], T0 + 3 * H + 24 * H, False),  # left the 24 h window
        ],
    )
    def test_is_late(self, events, t, late) -> None:
        """Late means the deadline passed before delivery, counted within the rolling window."""
        assert is_late(facts(*events), t, 24 * H) is late

    @pytest.mark.parametrize(
        ("events", "t", "reason"),
        [
            ([("created", T0)], T0 + 15 * MIN, "NOT_ACCEPTED"),  # 15 min without acceptance
            ([("created", T0)], T0 + 15 * MIN - 1, None),  # just before the accept timeout
            ([("created", T0), ("accepted", T0 + 5 * MIN)], T0 + 15 * MIN, None),  # accepted in time
            ([("created", T0), ("accepted", T0 + 20 * MIN)], T0 + 16 * MIN, "NOT_ACCEPTED"),  # as of 16 min
            ([("created", T0), ("accepted", T0 + 5 * MIN)], T0 + 2 * H, "NOT_DISPATCHED"),  # 60 min left
            ([("created", T0), ("in_delivery", T0 + H)], T0 + 2 * H, None),  # already in delivery
            ([("created", T0)], T0 + 3 * H, None),  # past the deadline it is late, not at risk
            ([("created", T0), ("cancelled", T0 + MIN)], T0 + H, None),  # cancelled: neither
            ([("created", T0 + 2 * H + 30 * MIN)], T0 + 2 * H, None),  # not created yet at t
        ],
    )
    def test_at_risk_reason(self, events, t, reason) -> None:
        """At risk: not accepted within 15 min, or not in delivery 60 min before the deadline."""
        assert at_risk_reason(facts(*events), t, 15 * MIN, 60 * MIN) == reason

    @pytest.mark.parametrize(
        ("events", "t", "handed", "store_late"),
        [
            # in delivery 2 h before a 3 h deadline, delivered 1 h late: the courier's lateness
            ([("created", T0), ("in_delivery", T0 + H), ("delivered", T0 + 4 * H)], T0 + 5 * H, True, False),
            # in delivery exactly at the dispatch deadline (60 min before): still in time
            ([("created", T0), ("in_delivery", T0 + 2 * H), ("delivered", T0 + 4 * H)], T0 + 5 * H, True, False),
            # one minute after the dispatch deadline: the store's lateness
            ([("created", T0), ("in_delivery", T0 + 2 * H + MIN), ("delivered", T0 + 4 * H)], T0 + 5 * H, False,
             True),
            # never handed over and past the deadline: the store's
            ([("created", T0), ("accepted", T0 + MIN)], T0 + 4 * H, False, True),
            # handed over in time and delivered in time: nobody's
            ([("created", T0), ("in_delivery", T0 + H), ("delivered", T0 + 2 * H)], T0 + 5 * H, True, False),
            # handed over in time, still with the courier at the deadline: the courier's
            ([("created", T0), ("in_delivery", T0 + H)], T0 + 3 * H, True, False),
        ],
    )
    def test_only_the_stores_lateness_counts_against_it(self, events, t, handed, store_late) -> None:
        """An order handed to the courier by the dispatch deadline and delivered late is not the store's."""
        f = facts(*events)
        assert handed_over_in_time(f, 60 * MIN) is handed
        assert is_store_late(f, t, 24 * H, 60 * MIN) is store_late

    def test_status_never_moves_back(self) -> None:
        """An accepted event after delivery leaves the order delivered; duplicates change nothing."""
        f = facts(("created", T0), ("delivered", T0 + H), ("accepted", T0 + 10 * MIN), ("delivered", T0 + H))
        assert f.status == "delivered"
        assert (f.accepted_ms, f.delivered_ms) == (T0 + 10 * MIN, T0 + H)
        assert status_at(f, T0 + 30 * MIN) == "accepted"

    def test_reordered_events_give_the_same_facts(self) -> None:
        """Facts do not depend on the order events arrive in."""
        events = [("created", T0), ("accepted", T0 + 3 * MIN), ("in_delivery", T0 + H), ("delivered", T0 + 2 * H)]
        shuffled = events[:]
        random.Random(7).shuffle(shuffled)
        assert facts(*events) == facts(*shuffled)


class TestHideRule:
    @pytest.mark.parametrize(
        ("late", "at_risk", "hidden", "decision"),
        [
            (5, 3, False, HideDecision.HIDE_LATE_AND_AT_RISK),  # the example: 5 late + 3 at risk
            (4, 3, False, HideDecision.BELOW_THRESHOLD),  # 4 late is not enough however many at risk
            (4, 9, False, HideDecision.BELOW_THRESHOLD),  # at-risk orders alone never hide
            (5, 2, False, HideDecision.BELOW_THRESHOLD),  # 5 + 2 = 7 < 8
            (8, 0, False, HideDecision.HIDE_LATE),  # 8 late alone
            (9, 9, True, HideDecision.ALREADY_HIDDEN),  # a hidden store is not hidden twice
        ],
    )
    def test_evaluate_store(self, late, at_risk, hidden, decision) -> None:
        """Hide when late >= 5 and late + at risk >= 8; the decision names its reason."""
        assert evaluate_store(late, at_risk, HideRule(5, 8), hidden=hidden) is decision


def store_with(late: int, at_risk: int, *, start: int = T0, prefix: str = "o",
               s: StoreState | None = None) -> StoreState:
    """A store (new, or ``s``) with ``late`` orders late at start+3h and ``at_risk`` orders not accepted since."""
    s = s or StoreState("s-1", "Moscow")
    for i in range(late):
        apply_order_event(s, f"{prefix}-late-{i}", "created", start + i * MIN, start + 3 * H, RULES)
        apply_order_event(s, f"{prefix}-late-{i}", "accepted", start + i * MIN + MIN, start + 3 * H, RULES)
    for i in range(at_risk):
        created = start + 3 * H - 10 * MIN
        apply_order_event(s, f"{prefix}-risk-{i}", "created", created, start + 6 * H, RULES)
    return s


class TestStoreModel:
    def test_five_late_and_three_at_risk_hide_once(self) -> None:
        """At the deadline plus the accept timeout the store is hidden once, with the evidence."""
        s = store_with(5, 3)
        out = advance(s, T0 + 4 * H, RULES)
        hides = [e for e in out if e.topic == "store-visibility"]
        assert len(hides) == 1
        hide = hides[0].value
        assert (hide.action, hide.reason, hide.late, hide.at_risk) == ("hide", "HIDE_LATE_AND_AT_RISK", 5, 3)
        assert hide.event_id == "hide:Moscow:s-1:1"
        assert hide.at == datetime.fromisoformat("2026-02-14T12:05:00+00:00")  # 3 at-risk after 15 min
        assert advance(s, T0 + 5 * H, RULES) == []  # nothing new is due: no second hide, no alert again
        # evidence that would hide a visible store (8 more late orders) brings their own alerts, but no second hide
        store_with(8, 0, start=T0 + 5 * H, prefix="n", s=s)
        later = advance(s, T0 + 9 * H, RULES)
        assert later, "the new late orders raise alerts: the checks below must not run over nothing"
        assert [e for e in later if e.topic != "alerts"] == []  # no store-visibility event: not hidden twice
        assert sorted(e.value.alert_id for e in later) == sorted(
            [f"order_late:Moscow:s-1:o-risk-{i}" for i in range(3)]  # their deadline (T0+6h) passed
            + [f"{kind}:Moscow:s-1:n-late-{i}" for kind in ("order_at_risk", "order_late") for i in range(8)])
        assert s.hidden

    def test_four_late_and_three_at_risk_stay_visible(self) -> None:
        """One late order short: no hide, only per-order alerts."""
        out = advance(store_with(4, 3), T0 + 4 * H, RULES)
        assert [e for e in out if e.topic == "store-visibility"] == []
        kinds = sorted(e.value.kind for e in out)
        assert kinds == ["order_at_risk"] * 3 + ["order_at_risk"] * 4 + ["order_late"] * 4

    def test_per_order_alerts_fire_once(self) -> None:
        """Advancing again emits no second alert for the same order."""
        s = store_with(1, 0)
        first = advance(s, T0 + 4 * H, RULES)
        assert [e.value.kind for e in first] == ["order_at_risk", "order_late"]
        assert advance(s, T0 + 5 * H, RULES) == []

    def test_restore_is_not_undone_by_old_evidence_but_new_late_orders_hide_again(self) -> None:
        """After a restore the counted orders never count again; 8 new late orders start incident 2."""
        s = store_with(5, 3)
        advance(s, T0 + 4 * H, RULES)
        out = restore(s, by="anna", note="partner called", at_ms=T0 + 4 * H, rules=RULES)
        assert [e.value.status if e.topic == "alerts" else e.value.action for e in out] == ["restore", "resolved"]
        assert not s.hidden
        assert [e for e in advance(s, T0 + 8 * H, RULES) if e.topic == "store-visibility"] == []
        store_with(8, 0, start=T0 + 5 * H, prefix="n", s=s)
        hides = [e for e in advance(s, T0 + 9 * H, RULES) if e.topic == "store-visibility"]
        assert [(h.value.event_id, h.value.reason, h.value.late) for h in hides] == [
            ("hide:Moscow:s-1:2", "HIDE_LATE", 8)
        ]

    def test_restore_of_a_visible_store_does_nothing(self) -> None:
        """Restoring a store that is not hidden emits nothing."""
        assert restore(store_with(1, 0), by="x", note="", at_ms=T0, rules=RULES) == []

    def test_cancelled_orders_are_excluded_and_counted_separately(self) -> None:
        """Cancelled orders are neither late nor at risk but appear in the daily totals."""
        s = store_with(5, 3)
        for oid in list(s.orders)[:2]:
            apply_order_event(s, oid, "cancelled", T0 + 30 * MIN, T0 + 3 * H, RULES)
        out = advance(s, T0 + 4 * H, RULES)
        assert [e for e in out if e.topic == "store-visibility"] == []
        assert counts_at(s, T0 + 4 * H, RULES)[0] == [f"o-late-{i}" for i in range(2, 5)]
        day = T0 - T0 % (24 * H)
        assert s.days[day][3] == 2  # cancelled column

    def test_event_order_does_not_change_the_outcome(self) -> None:
        """Shuffled input gives the same outputs once the clock passes every deadline."""
        events = []
        for i in range(6):
            events += [(f"o{i}", "created", T0 + i * MIN), (f"o{i}", "accepted", T0 + i * MIN + 2 * MIN)]
        for i in range(3):
            events += [(f"r{i}", "created", T0 + 2 * H + 50 * MIN)]
        events += [("o0", "delivered", T0 + 2 * H)]

        def run(evs):
            s = StoreState("s-1", "Moscow")
            for oid, status, at in evs:
                apply_order_event(s, oid, status, at, T0 + 3 * H + (3 * H if oid.startswith("r") else 0), RULES)
            return [(e.key, dataclasses.asdict(e.value)) for e in advance(s, T0 + 4 * H, RULES)]

        shuffled = events[:]
        random.Random(3).shuffle(shuffled)
        assert run(events) == run(shuffled)
        assert any(k == "s-1" for k, _ in run(events))  # and it did hide

    def test_old_orders_are_forgotten(self) -> None:
        """Orders leave state after their deadline plus the retention; state stays bounded."""
        s = store_with(2, 0)
        advance(s, T0 + 4 * H, RULES)
        assert len(s.orders) == 2
        advance(s, T0 + 3 * H + 3 * 24 * H, RULES)
        assert s.orders == {}
        assert next_due_ms(s, RULES) is None

    def test_auto_restore_after_quiet_period_when_enabled(self) -> None:
        """With auto_restore_after set, a hidden store comes back after that long without an order turning bad."""
        rules = OrderRules(auto_restore_after_ms=2 * H)
        s = store_with(5, 3)
        advance(s, T0 + 4 * H, rules)
        assert s.hidden
        out = advance(s, T0 + 9 * H, rules)  # last bad news: the at-risk orders turn late at 6 h
        restores = [e.value for e in out if e.topic == "store-visibility"]
        assert [(r.action, r.source, r.reason) for r in restores] == [("restore", "auto", "AUTO_RESTORE_QUIET")]

    def test_state_round_trips_through_bytes(self) -> None:
        """The compact JSON form restores an equal state."""
        s = store_with(5, 3)
        advance(s, T0 + 4 * H, RULES)
        assert StoreState.from_bytes(s.to_bytes()) == s

    def test_deadline_index_gives_what_a_fresh_scan_gives(self) -> None:
        """Random traffic: keeping the deadline heap across events decides exactly as rebuilding it every time."""
        rng = random.Random(7)
        statuses = ["created", "accepted", "assembled", "in_delivery", "delivered", "cancelled"]
        events = []
        for i in range(300):
            created = T0 + rng.randrange(0, 48 * H)
            promised = created + rng.randrange(1 * H, 5 * H)
            for rank in range(rng.randrange(1, 6)):
                at = created + rank * rng.randrange(5 * MIN, 90 * MIN)
                events.append((at, f"o-{i}", statuses[rank], promised + (H if rng.random() < 0.05 else 0)))
        events.sort()

        def run(rebuild: bool) -> tuple[list[tuple[str, str]], StoreState]:
            s, out = StoreState("s-1", "Moscow"), []
            for at, oid, status, promised in events:
                if rebuild:
                    s = StoreState.from_bytes(s.to_bytes())  # a reload: the index is built from the orders
                apply_order_event(s, oid, status, at, promised, RULES)
                for e in advance(s, max(s.clock_ms, at - 30 * MIN), RULES):
                    out.append((e.topic, getattr(e.value, "alert_id", None) or e.value.event_id))
                if s.hidden and rng.random() < 0.2:
                    restore(s, by="x", note="y", at_ms=s.clock_ms, rules=RULES)
            out.extend((e.topic, e.key) for e in advance(s, T0 + 30 * 24 * H, RULES))
            return out, s

        rng_state = rng.getstate()
        kept, s1 = run(rebuild=False)
        rng.setstate(rng_state)
        rebuilt, s2 = run(rebuild=True)
        assert kept == rebuilt
        assert s1 == s2
        assert any(topic == "store-visibility" for topic, _ in kept)
        assert s1.orders == {}

    def test_finished_orders_are_settled_to_an_id_and_duplicates_do_not_revive_them(self) -> None:
        """A delivered order leaves the facts (only its id stays until forgotten); a replayed 'created' after
        that is ignored instead of becoming a new open order that would turn late."""
        s = StoreState("s-1", "Moscow")
        apply_order_event(s, "o-1", "created", T0, T0 + 2 * H, RULES)
        apply_order_event(s, "o-1", "delivered", T0 + H, T0 + 2 * H, RULES)
        advance(s, T0 + H, RULES)
        assert (list(s.orders), list(s.done)) == ([], ["o-1"])
        apply_order_event(s, "o-1", "created", T0, T0 + 2 * H, RULES)
        assert advance(s, T0 + 10 * H, RULES) == [] and s.orders == {}
        advance(s, T0 + 2 * H + 3 * 24 * H, RULES)
        assert s.done == {} and s.is_empty() is False  # the daily totals stay
        assert s.days

    def test_an_order_delivered_late_keeps_counting_for_the_late_window(self) -> None:
        """Delivered after its deadline: it stays late for the late window, then settles."""
        s = StoreState("s-1", "Moscow")
        apply_order_event(s, "o-1", "created", T0, T0 + 2 * H, RULES)
        apply_order_event(s, "o-1", "delivered", T0 + 3 * H, T0 + 2 * H, RULES)
        advance(s, T0 + 4 * H, RULES)
        assert counts_at(s, T0 + 4 * H, RULES) == (["o-1"], [])
        advance(s, T0 + 2 * H + 24 * H, RULES)
        assert (list(s.orders), list(s.done)) == ([], ["o-1"])

    def test_orders_the_courier_made_late_do_not_hide_the_store(self) -> None:
        """8 orders handed to the courier before the dispatch deadline and delivered late: each gets an
        order_late naming the courier, and the store stays visible; 8 the store itself held back hide it."""
        def late_store(dispatched_before_deadline_min: int) -> tuple[list, StoreState]:
            s = StoreState("s-1", "Moscow")
            for i in range(8):
                oid, promised = f"o-{i}", T0 + 3 * H
                apply_order_event(s, oid, "created", T0 + i * MIN, promised, RULES)
                apply_order_event(s, oid, "accepted", T0 + i * MIN + MIN, promised, RULES)
                apply_order_event(s, oid, "in_delivery", promised - dispatched_before_deadline_min * MIN, promised,
                                  RULES)
            return advance(s, T0 + 5 * H, RULES), s

        out, s = late_store(90)  # handed over 90 min before the deadline (the dispatch lead is 60 min)
        late = [e.value for e in out if e.topic == "alerts" and e.value.kind == "order_late"]
        assert len(late) == 8 and {a.details["reason"] for a in late} == {"HANDED_OVER_IN_TIME"}
        assert not s.hidden and not [e for e in out if e.topic == "store-visibility"]
        out, s = late_store(10)  # handed over 10 min before the deadline: the store was late
        assert s.hidden and [e.value.reason for e in out if e.topic == "store-visibility"] == ["HIDE_LATE"]


class TestLateArrivingEvents:
    """What a batch, or an event read later, says about an order is used before and after its deadline."""

    def test_a_backfill_applied_before_judging_gives_no_late_order(self) -> None:
        """A partner's history (created, accepted, in delivery, delivered in time) read after newer events of
        other stores: applied in full before the deadlines are judged, nothing is late or at risk."""
        s = StoreState("s-1", "Moscow")
        for i in range(8):
            oid, promised = f"o-{i}", T0 + 3 * H
            for status, at in (("created", T0), ("accepted", T0 + 5 * MIN), ("in_delivery", T0 + H),
                               ("delivered", T0 + 2 * H)):
                apply_order_event(s, oid, status, at, promised, RULES)
        assert advance(s, T0 + 6 * H, RULES) == []

    def test_an_alert_contradicted_by_a_later_event_resolves(self) -> None:
        """order_at_risk (not dispatched) and order_late went out; the delivery read later was in time: each
        alert is followed by a resolved with reason RETRACTED, once, and the order no longer counts."""
        s = store_with(1, 0)
        fired = advance(s, T0 + 4 * H, RULES)
        assert [e.value.kind for e in fired] == ["order_at_risk", "order_late"]
        apply_order_event(s, "o-late-0", "delivered", T0 + 2 * H, T0 + 3 * H, RULES)
        out = reconsider(s, "o-late-0", T0 + 2 * H, RULES)
        assert [(e.value.kind, e.value.status, e.value.details["reason"]) for e in out] == [
            ("order_at_risk", "resolved", "RETRACTED"), ("order_late", "resolved", "RETRACTED")]
        assert [e.value.alert_id for e in out] == [e.value.alert_id for e in fired]  # both alerts it had
        assert reconsider(s, "o-late-0", T0 + 2 * H, RULES) == []  # once
        assert counts_at(s, T0 + 4 * H, RULES) == ([], [])

    def test_a_store_hidden_on_evidence_that_is_retracted_is_restored(self) -> None:
        """5 late + 3 at risk hid it; the late orders turn out delivered in time: EVIDENCE_RETRACTED restores it,
        resolving store_hidden, and its remaining orders keep counting (not excluded like a manual restore)."""
        s = store_with(5, 3)
        assert any(e.topic == "store-visibility" for e in advance(s, T0 + 4 * H, RULES))
        out = []
        for i in range(5):
            apply_order_event(s, f"o-late-{i}", "delivered", T0 + 2 * H, T0 + 3 * H, RULES)
            out += reconsider(s, f"o-late-{i}", T0 + 2 * H, RULES)
        restores = [e.value for e in out if e.topic == "store-visibility"]
        assert [(v.action, v.reason, v.source) for v in restores] == [("restore", "EVIDENCE_RETRACTED", "auto")]
        assert ("store_hidden", "resolved") in [(e.value.kind, e.value.status) for e in out if e.topic == "alerts"]
        assert not s.hidden and s.excluded == {}
        assert restores[0].at >= datetime.fromisoformat("2026-02-14T12:05:00+00:00")  # not before the hide

    def test_a_store_that_still_fails_stays_hidden_when_one_order_is_retracted(self) -> None:
        """6 late + 3 at risk, one late order retracted: 5 + 3 still holds, the store stays hidden."""
        s = store_with(6, 3)
        advance(s, T0 + 4 * H, RULES)
        apply_order_event(s, "o-late-0", "delivered", T0 + 2 * H, T0 + 3 * H, RULES)
        out = reconsider(s, "o-late-0", T0 + 2 * H, RULES)
        assert [(e.value.kind, e.value.status) for e in out] == [("order_at_risk", "resolved"),
                                                                 ("order_late", "resolved")]
        assert s.hidden

    def test_an_order_that_moved_to_another_store_stops_counting_and_is_not_revived(self) -> None:
        """The first store forgets a moved order; a straggler of it changes nothing there."""
        s = store_with(5, 3)
        advance(s, T0 + 4 * H, RULES)
        assert apply_order_event(s, "o-late-0", MOVED, T0 + 4 * H, T0 + 3 * H, RULES) is Applied.MOVED
        out = reconsider(s, "o-late-0", T0 + 4 * H, RULES)
        assert [e.value.reason for e in out if e.topic == "store-visibility"] == ["EVIDENCE_RETRACTED"]
        apply_order_event(s, "o-late-0", "accepted", T0 + 10 * MIN, T0 + 3 * H, RULES)
        assert "o-late-0" not in s.orders
        assert len(counts_at(s, T0 + 4 * H, RULES)[0]) == 4


class TestRefusal:
    """Why the store agent dead-letters an order event it did not take: its code, the store and the setting."""

    @pytest.mark.parametrize(("applied", "words"), [
        (Applied.STORE_FULL, ["STORE_FULL", "'s1'", "holds 3000 orders", "max_orders_per_store"]),
        (Applied.TOO_OLD, ["TOO_OLD", "'s1'", "promised 2026-02-14T11:00:00", "late_window, order_retention"]),
    ])
    def test_each_refused_outcome_names_its_code_and_the_setting(self, applied: Applied, words: list[str]) -> None:
        from monitor.domain.intake import RefusalCode
        from monitor.domain.store_alerts import refusal

        reason = refusal(RefusalCode(applied.value), "o1", "s1", "Moscow", T0 + 2 * 3_600_000,
                         OrderRules()).reason("order-status")
        assert reason.startswith(f"order-status: {applied.value}: order 'o1'")
        for word in words:
            assert word in reason
