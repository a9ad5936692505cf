#!/usr/bin/env bash
# Bounded load test of the HTTP API against a local server: builds (release), starts
# `drgdip serve` on 127.0.0.1 (a free port) over a fresh SQLite ledger, sends a fixed number
# of requests over keep-alive connections with a time cap (`crates/server/examples/load.rs`),
# prints requests/s and latency percentiles, and stops the server (SIGTERM). Needs the shared
# data (DRGDIP_SHARED, default ../shared).
#   scripts/load-test.sh   # 20,000 each of POST /v1/group, POST /v1/pay and GET /v1/statements
#                          # (H001's June statement from a ledger settled by `drgdip settle`), 16 connections
#   REQUESTS=5000 CONCURRENCY=4 MAX_SECONDS=60 scripts/load-test.sh
# The server runs with --rate-limit off (RATE_LIMIT=100/s to keep the server's default): the
# one token sends thousands of requests a second, and what is measured is the server, not the
# limit (over it every request would be a 429, counted as failed).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DRGDIP_SHARED:-../shared}
REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-16}
MAX_SECONDS=${MAX_SECONDS:-120}
RATE_LIMIT=${RATE_LIMIT:-off}
T=${CARGO_TARGET_DIR:-target}
DATA="$SHARED/testdata/chs-drg-2.0"

cargo build --release -q -p drgdip
cargo build --release -q -p drgdip-server --example load

WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN="load-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
cat > "$WORK/tokens.toml" <<TOKENS
[[token]]
token = "$TOKEN"
role = "hospital"
hospital = "H001"
TOKENS

# a ledger with one month settled, for the statements endpoint
"$T"/release/drgdip settle --shared "$SHARED" --month 2025-06 -i "$DATA/dev/cases.csv" \
  --params "$SHARED/params/region-350100-2025.toml" --hospitals "$DATA/hospitals.csv" \
  --history "$DATA/history-2024/cases.csv" --db "sqlite://$WORK/ledger.db" -q

"$T"/release/drgdip serve --shared "$SHARED" --db "sqlite://$WORK/ledger.db" \
  --tokens "$WORK/tokens.toml" --params "$SHARED/params/region-350100-2025.toml" \
  --hospitals "$DATA/hospitals.csv" --history "$DATA/history-2024/cases.csv" \
  --addr 127.0.0.1:0 --rate-limit "$RATE_LIMIT" > "$WORK/stdout" 2> "$WORK/stderr" &
SERVER=$!
for _ in $(seq 1 600); do
  grep -q '^listening on ' "$WORK/stdout" 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/stderr" >&2; exit 1; }
  sleep 0.1
done
ADDR=$(sed -n 's|^listening on http://||p' "$WORK/stdout")
[ -n "$ADDR" ] || { echo "the server did not start" >&2; cat "$WORK/stderr" >&2; exit 1; }
grep -v warning "$WORK/stderr" || true
echo "machine: $(nproc) cores, $(uname -m); server and load generator share them; load average $(cut -d' ' -f1-3 /proc/loadavg); rate limit $RATE_LIMIT"

status=0
for MP in POST:/v1/group POST:/v1/pay GET:/v1/statements?month=2025-06; do
  "$T"/release/examples/load --addr "$ADDR" --token "$TOKEN" --method "${MP%%:*}" --path "${MP#*:}" \
    --cases "$DATA/dev/cases.csv" --rows 2000 --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY" --max-seconds "$MAX_SECONDS" || status=1
done
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status 2>/dev/null | awk '{print $2, $3}')"
kill -TERM "$SERVER"
wait "$SERVER" || status=1
SERVER=""
exit $status
