#!/usr/bin/env bash
# A peak day at ten times the volume (14 February is 3-5x; 10x is the margin we test for), 15,000 orders,
# replayed an hour per minute so the worker sees it as it would live.
source "$(dirname "$0")/common.sh"
"$MONITOR" generate --out "$OUT/peak.jsonl" --start "${START:-2026-02-14T00:00:00+03:00}" --days 1 \
  --orders-per-day 1500 --stores "${STORES:-300}" --peak "${PEAK:-10}" --seed "${SEED:-14}"
"$MONITOR" replay "$OUT/peak.jsonl" --speed "${SPEED:-60}" "${MAP[@]}"
score_hint peak
