#!/usr/bin/env bash
# Runs every benchmark in order, with the same RUNS, and keeps each one's output in
# $IHOP_BENCH_DIR/results-<time>/ besides printing it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
results=$WORK/results-$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"
for b in make-images compress update serve; do
  log "== $b"
  "$BENCH_ROOT/$b.sh" 2>"$results/$b.log" | tee "$results/$b.txt"
done
log "results in $results"
