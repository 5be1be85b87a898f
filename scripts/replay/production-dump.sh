#!/usr/bin/env bash
# Replay a recorded stretch of production traffic into a local monitor: dump the input topics of the cluster
# named by SOURCE_BOOTSTRAP between FROM and TO (ISO 8601 with offset), then replay the file, in its order, into
# the cluster the monitor reads (MONITOR_KAFKA_BOOTSTRAP_SERVERS). Usage:
#   SOURCE_BOOTSTRAP=prod-kafka:9092 FROM=2026-11-30T00:00:00+03:00 TO=2026-12-01T00:00:00+03:00 \
#     scripts/replay/production-dump.sh
source "$(dirname "$0")/common.sh"
: "${SOURCE_BOOTSTRAP:?the cluster to dump from}" "${FROM:?start, ISO 8601 with offset}" "${TO:?end}"
MONITOR_KAFKA_BOOTSTRAP_SERVERS="$SOURCE_BOOTSTRAP" "$MONITOR" dump --out "$OUT/production.jsonl" \
  --from "$FROM" --to "$TO" order-status reviews
"$MONITOR" replay "$OUT/production.jsonl" --speed "${SPEED:-60}" "${MAP[@]}"
echo "replayed $(wc -l < "$OUT/production.jsonl") records from $FROM to $TO"
