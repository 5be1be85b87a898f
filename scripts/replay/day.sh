#!/usr/bin/env bash
# A marketplace day: 1,500 orders and their reviews over 300 stores, with the generator's incidents (a store that
# stops accepting, an overloaded one, a courier strike...), replayed so that it ends now. Smaller with
# ORDERS_PER_DAY=200 STORES=20 (the test runs that).
source "$(dirname "$0")/common.sh"
"$MONITOR" generate --out "$OUT/day.jsonl" --days 1 --orders-per-day "${ORDERS_PER_DAY:-1500}" \
  --stores "${STORES:-300}" --seed "${SEED:-7}"
"$MONITOR" replay "$OUT/day.jsonl" --shift-to-now "${MAP[@]}"
score_hint day
