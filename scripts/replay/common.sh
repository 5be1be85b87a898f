# Shared by the replay recipes: which `monitor` to run, where files go, and topic names from the environment.
# Each recipe is a few `monitor` commands; read them to see the toolkit's use (docs/replay.md explains it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MONITOR="${MONITOR:-$ROOT/.venv/bin/monitor}"
OUT="${OUT:-$ROOT/.cache/replay}"
mkdir -p "$OUT"
# replay into the topics the monitor reads (MONITOR_TOPIC_* as the worker sees them; defaults otherwise)
MAP=(--map "order-status=${MONITOR_TOPIC_ORDER_STATUS:-order-status}" --map "reviews=${MONITOR_TOPIC_REVIEWS:-reviews}")

score_hint() {  # how to score a run once the worker has caught up
  echo "when the worker has caught up:"
  echo "  $MONITOR dump --out $OUT/$1.outputs.jsonl ${MONITOR_TOPIC_STORE_VISIBILITY:-store-visibility} ${MONITOR_TOPIC_ALERTS:-alerts}"
  echo "  $MONITOR score $OUT/$1.truth.json $OUT/$1.outputs.jsonl"
}
