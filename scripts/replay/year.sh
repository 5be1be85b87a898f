#!/usr/bin/env bash
# A year of normal traffic (about 550,000 orders and their reviews, ~3M events) as fast as the broker takes it:
# state must stay bounded (scripts/bench/year.py measures it; docs/benchmarks.md has the figures).
source "$(dirname "$0")/common.sh"
"$MONITOR" generate --out "$OUT/year.jsonl" --days 365 --orders-per-day 1500 --stores "${STORES:-3000}" \
  --seed "${SEED:-2026}"
"$MONITOR" replay "$OUT/year.jsonl" "${MAP[@]}"
score_hint year
