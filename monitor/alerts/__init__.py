"""Alert delivery: pure pipeline stages (mute, group, dedup, rate-limit, render) and the channels that send."""
