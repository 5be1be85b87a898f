"""Per-receiver token buckets."""

from __future__ import annotations

import pytest

from monitor.alerts.ratelimit import RateLimiter

T = 1_767_225_600_000


class TestRateLimiter:
    def test_burst_then_refill(self) -> None:
        """With 3 per minute, three messages pass at once, the fourth waits 20 s for a token."""
        rl = RateLimiter({"chat": 3})
        assert [rl.allow("chat", T) for _ in range(4)] == [True, True, True, False]
        assert rl.next_allowed_ms("chat", T) == T + 20_000
        assert rl.allow("chat", T + 19_999) is False
        assert rl.allow("chat", T + 20_000) is True

    def test_receivers_are_independent_and_default_applies(self) -> None:
        """One receiver's bucket does not drain another's; unknown receivers use the default limit."""
        rl = RateLimiter({"chat": 1}, default_per_min=2)
        assert rl.allow("chat", T) and not rl.allow("chat", T)
        assert rl.allow("mail", T) and rl.allow("mail", T) and not rl.allow("mail", T)
        assert rl.next_allowed_ms("other", T) == T

    def test_bucket_never_exceeds_capacity(self) -> None:
        """After a long quiet time the burst is still capped at the per-minute limit."""
        rl = RateLimiter({"chat": 2})
        rl.allow("chat", T)
        assert [rl.allow("chat", T + 10 * 60_000) for _ in range(3)] == [True, True, False]

    def test_limits_must_be_positive(self) -> None:
        """A zero limit is a configuration error."""
        with pytest.raises(ValueError):
            RateLimiter({"chat": 0})
