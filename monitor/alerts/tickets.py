"""Which alert messages the dispatcher may commit: each consumed message is a ticket with one slot per receiver
it routes to; a ticket is done when every slot is settled (sent, skipped as a duplicate, or dead-lettered), and
a partition's offset moves only up to its first ticket that is not done, so a restart loses nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

__all__ = ["Ticket", "Tickets"]

_DONE = -1


@dataclass(eq=False)
class Ticket:
    """One consumed alert message (its raw bytes kept for a dead letter)."""

    partition: int
    offset: int
    raw: bytes
    key: bytes | None
    open_slots: int = 0

    @property
    def done(self) -> bool:
        return self.open_slots == _DONE

    def open_slot(self) -> None:
        self.open_slots += 1

    def close_slot(self) -> None:
        """One receiver is settled; the last one settles the ticket."""
        self.open_slots -= 1
        if self.open_slots <= 0:
            self.settle()

    def settle(self) -> None:
        self.open_slots = _DONE


class Tickets:
    """The tickets consumed and not committed yet, per partition."""

    def __init__(self) -> None:
        self._pending: dict[int, dict[int, Ticket]] = defaultdict(dict)

    def take(self, partition: int, offset: int, raw: bytes, key: bytes | None) -> Ticket:
        ticket = self._pending[partition][offset] = Ticket(partition, offset, raw, key)
        return ticket

    def committable(self) -> dict[int, int]:
        """Per partition, the offset to commit (one past the last done ticket before the first that is not),
        forgetting the tickets it covers; partitions with nothing new are left out."""
        offsets = {}
        for partition, tickets in self._pending.items():
            upto = None
            for offset in sorted(tickets):
                if not tickets[offset].done:
                    break
                upto = offset
                del tickets[offset]
            if upto is not None:
                offsets[partition] = upto + 1
        return offsets
