#!/usr/bin/env bash
# End-to-end benchmark: groups ROWS rows (default 1,000,000) made by repeating the dev cases
# with fresh case ids, CSV → CSV, and reports rows/s and peak memory.
#   scripts/bench-e2e.sh [ROWS] [extra drgdip group flags…]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}; shift || true
SHARED=${DRGDIP_SHARED:-../shared}
DEV="$SHARED/testdata/chs-drg-2.0/dev/cases.csv"
T=${CARGO_TARGET_DIR:-target}
BIG=$T/bench-${ROWS}.csv
cargo build --release -q -p drgdip
[ -s "$BIG" ] || cargo run --release -q -p drgdip-io --example repeat -- "$DEV" "$BIG" "$ROWS"
echo "input: $BIG ($(wc -l < "$BIG") lines, $(du -h "$BIG" | cut -f1))"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$T"/release/drgdip group --shared "$SHARED" \
  -i "$BIG" -o "$T"/bench-out.csv -q "$@"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$T"/release/drgdip group --shared "$SHARED" \
  -i "$BIG" -o "$T"/bench-out.csv "$@"
