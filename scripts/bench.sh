#!/usr/bin/env bash
# The speed targets of issue #16, end to end with the release binary (start-up included):
#   1. CSV → CSV grouping          (target ≥ 1,000,000 rows/s)
#   2. Parquet → Parquet grouping  (target ≥ 1,500,000 rows/s)
#   3. drgdip pay, CSV → CSV       (target ≥ 700,000 rows/s)
#   4. Arrow IPC → CSV grouping    (streamed by batches)
# and the peak memory (max RSS, target < 200 MB) of each, from /usr/bin/time -v.
#
#   scripts/bench.sh [ROWS]          ROWS defaults to 1,000,000
# Environment: DRGDIP_SHARED (default ../shared), BENCH_DIR (where the inputs and outputs
# go, default $CARGO_TARGET_DIR/bench or target/bench), RUNS (runs per target, default 3:
# the best wall time is reported; each run's line is printed).
#
# The inputs are the dev cases repeated with fresh case ids (crates/io/examples/repeat.rs);
# the Parquet and Arrow files hold typed columns (integers, a Date32 discharge date,
# Decimal128 costs) as a data platform would. Nothing is written into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${RUNS:-3}
SHARED=${DRGDIP_SHARED:-../shared}
T=${CARGO_TARGET_DIR:-target}
DIR=${BENCH_DIR:-$T/bench}
mkdir -p "$DIR"
DEV="$SHARED/testdata/chs-drg-2.0/dev/cases.csv"
PARAMS="$SHARED/params/region-350100-2025.toml"
HOSP="$SHARED/testdata/chs-drg-2.0/hospitals.csv"
HIST="$SHARED/testdata/chs-drg-2.0/history-2024/cases.csv"

# one build of both (two separate builds unify features differently and rebuild each other)
cargo build --release -q -p drgdip -p drgdip-io --bin drgdip --example repeat
BIN=$T/release/drgdip
REPEAT=$T/release/examples/repeat
for ext in csv parquet arrow; do
  [ -s "$DIR/cases-$ROWS.$ext" ] || "$REPEAT" "$DEV" "$DIR/cases-$ROWS.$ext" "$ROWS"
done
[ -s "$DIR/weights.csv" ] || "$BIN" weights --shared "$SHARED" --history "$HIST" \
  --params "$PARAMS" -o "$DIR/weights.csv" -q

echo "machine: $(nproc) cores; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "inputs: $(ls -l "$DIR"/cases-"$ROWS".* | awk '{printf "%s %d MB; ", $NF, $5/1e6}')"

# measure NAME TARGET_ROWS_PER_S CMD...: the best of RUNS runs
measure() {
  local name=$1 target=$2; shift 2
  local best="" line
  for _ in $(seq "$RUNS"); do
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -v "$@" 2> "$DIR/time.txt" >/dev/null
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$DIR/time.txt")
    user=$(awk -F': ' '/User time/{print $2}' "$DIR/time.txt")
    sys=$(awk -F': ' '/System time/{print $2}' "$DIR/time.txt")
    rss=$(awk -F': ' '/Maximum resident/{print $2}' "$DIR/time.txt")
    line=$(awk -v n="$name" -v r="$ROWS" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v l="$load" -v t="$target" \
      'BEGIN{printf "%-26s %6.2f s wall  %9.0f rows/s  (target %d)  cpu %5.2f s (user %.2f + sys %.2f)  max RSS %4.0f MB  load %s", n, w, r/w, t, u+s, u, s, m/1024, l}')
    echo "  $line"
    if [ -z "$best" ] || awk -v a="$wall" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
      best="$wall $line"
    fi
  done
  echo "best: ${best#* }"
}

measure "group csv -> csv" 1000000 "$BIN" group --shared "$SHARED" \
  -i "$DIR/cases-$ROWS.csv" -o "$DIR/out.csv" -q
measure "group parquet -> parquet" 1500000 "$BIN" group --shared "$SHARED" \
  -i "$DIR/cases-$ROWS.parquet" -o "$DIR/out.parquet" -q
measure "pay csv -> csv" 700000 "$BIN" pay --shared "$SHARED" --params "$PARAMS" \
  --hospitals "$HOSP" --weights "$DIR/weights.csv" \
  -i "$DIR/cases-$ROWS.csv" -o "$DIR/pay.csv" -q
measure "group arrow -> csv" 1000000 "$BIN" group --shared "$SHARED" \
  -i "$DIR/cases-$ROWS.arrow" -o "$DIR/out-arrow.csv" -q
