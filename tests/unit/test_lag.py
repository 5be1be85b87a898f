"""Consumer progress: what is left below target offsets, given what a group has committed."""

from __future__ import annotations

from monitor.toolkit.lag import remaining


class TestRemaining:
    def test_counts_what_is_below_the_targets(self) -> None:
        """Each partition contributes target minus committed; a partition never committed counts whole."""
        targets = {("in", 0): 100, ("in", 1): 50, ("in", 2): 7}
        committed = {("in", 0): 60, ("in", 1): 50}
        assert remaining(targets, committed) == 40 + 0 + 7

    def test_commits_past_the_target_count_as_done(self) -> None:
        """Messages produced after the targets were taken (heartbeats) do not make the result negative."""
        assert remaining({("hb", 0): 10}, {("hb", 0): 25, ("other", 0): 3}) == 0
