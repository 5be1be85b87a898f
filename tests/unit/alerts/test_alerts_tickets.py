"""The dispatcher commits an alert's offset only when every receiver it routes to is settled."""

from __future__ import annotations

from monitor.alerts.tickets import Tickets


def test_a_partition_commits_up_to_its_first_open_ticket() -> None:
    tickets = Tickets()
    a, b, c = (tickets.take(0, offset, b"{}", None) for offset in (10, 11, 12))
    other = tickets.take(1, 5, b"{}", None)
    for t in (a, b, c):
        t.open_slot()
        t.open_slot()  # routed to two receivers
    a.close_slot()
    assert tickets.committable() == {}  # a waits for its second receiver
    a.close_slot()
    c.close_slot()
    c.close_slot()
    other.settle()  # routed nowhere
    assert tickets.committable() == {0: 11, 1: 6}  # c is done, but b before it is not
    b.close_slot()
    b.close_slot()
    assert tickets.committable() == {0: 13}
    assert tickets.committable() == {}  # nothing new


def test_a_dead_lettered_ticket_is_done_even_with_open_slots() -> None:
    tickets = Tickets()
    t = tickets.take(0, 0, b"x", b"k")
    t.open_slot()
    t.settle()
    assert t.done and tickets.committable() == {0: 1}
    t.close_slot()  # a receiver that finishes later changes nothing
    assert t.done
