#!/usr/bin/env bash
# The API keeps its OpenAPI contract. From a fresh clone (with the shared data beside it):
# creates a virtualenv with a pinned schemathesis, builds `drgdip`, prepares a throwaway
# SQLite ledger (June 2025 of the dev cases settled, as the README does) and a tokens file
# (`drgdip tokens init`), starts `drgdip serve` on 127.0.0.1 (a free port), files one
# special-case application (with its case's row), an opinion and a negotiation round with one
# proposal so that the {id} operations reach a real one, and runs
# schemathesis against the server's /openapi.json — every check, both positive and negative
# data, a fixed seed, a bounded number of examples per operation — once with each role's
# token (bureau, reviewer, hospital, in that order). Then it stops the server (SIGTERM).
# Exit status 1 on any finding (or if the server does not start or stop cleanly).
#
# The server runs with --rate-limit off: schemathesis sends hundreds of requests a second
# with one token, and a 429 is not what this checks (the rate limit has its own tests).
#
#   scripts/api-contract.sh
#   MAX_EXAMPLES=20 SEED=7 scripts/api-contract.sh
# Environment: DRGDIP_SHARED (default ../shared), CARGO_TARGET_DIR (default target),
# API_CONTRACT_VENV (default $CARGO_TARGET_DIR/api-contract-venv), MAX_EXAMPLES (50),
# SEED (20250601). Needs python3 with venv and pip (PyPI reachable the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DRGDIP_SHARED:-../shared}
T=${CARGO_TARGET_DIR:-target}
ST_VERSION=4.32.5
VENV=${API_CONTRACT_VENV:-$T/api-contract-venv}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
SEED=${SEED:-20250601}
DATA="$SHARED/testdata/chs-drg-2.0"
PARAMS="$SHARED/params/region-350100-2025.toml"
start=$(date +%s)

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "version $ST_VERSION\$"; then
  rm -rf "$VENV"   # absent, another version, or no longer runs (moved)
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
VENV=$(cd "$VENV" && pwd)   # absolute: schemathesis runs from the work directory below
"$VENV/bin/st" --version

cargo build -q --locked -p drgdip
BIN=$(cd "$T" && pwd)/debug/drgdip
SHARED=$(cd "$SHARED" && pwd)

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

"$BIN" tokens init --output "$WORK/tokens.toml" --hospital H001 --reviewer R1 > /dev/null
token() { sed -n "s/^token = \"\\($1-[^\"]*\\)\"\$/\\1/p" "$WORK/tokens.toml"; }
BUREAU=$(token bureau)
HOSPITAL=$(token hospital-H001)
REVIEWER=$(token reviewer-R1)

"$BIN" weights --shared "$SHARED" --history "$DATA/history-2024/cases.csv" --params "$PARAMS" \
  -o "$WORK/weights.csv" -q
"$BIN" settle --shared "$SHARED" --month 2025-06 -i "$DATA/dev/cases.csv" --params "$PARAMS" \
  --hospitals "$DATA/hospitals.csv" --weights "$WORK/weights.csv" \
  --db "sqlite://$WORK/ledger.db" -q > /dev/null
# a negotiation round with one simulated proposal, H001's representative a party, for the
# /v1/negotiations/{id} operations
NEG=(--shared "$SHARED" --db "sqlite://$WORK/ledger.db")
"$BIN" negotiate open "${NEG[@]}" --title "API contract check" --elements rates \
  --cases "$DATA/dev/cases.csv" --baseline "$PARAMS" --hospitals "$DATA/hospitals.csv" \
  --weights "$WORK/weights.csv" > /dev/null
"$BIN" negotiate party "${NEG[@]}" --round 1 --id bureau --kind bureau --name bureau > /dev/null
"$BIN" negotiate party "${NEG[@]}" --round 1 --id rep --kind hospital_representative \
  --name rep --hospitals H001,H002 > /dev/null
"$BIN" negotiate propose "${NEG[@]}" --round 1 --party bureau --params "$PARAMS" > /dev/null

"$BIN" serve --shared "$SHARED" --db "sqlite://$WORK/ledger.db" --tokens "$WORK/tokens.toml" \
  --params "$PARAMS" --hospitals "$DATA/hospitals.csv" --weights "$WORK/weights.csv" \
  --experts "$DATA/experts.csv" \
  --addr 127.0.0.1:0 --rate-limit off > "$WORK/stdout" 2> "$WORK/stderr" &
SERVER=$!
for _ in $(seq 1 600); do
  grep -q '^listening on ' "$WORK/stdout" 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/stderr" >&2; exit 1; }
  sleep 0.1
done
ADDR=$(sed -n 's|^listening on http://||p' "$WORK/stdout")
[ -n "$ADDR" ] || { echo "the server did not start" >&2; cat "$WORK/stderr" >&2; exit 1; }

# one application of H001 (its first settled case of June, with its row), for the {id} operations
APP=$(ADDR="$ADDR" TOKEN="$HOSPITAL" CASES="$DATA/dev/cases.csv" python3 - <<'PY'
import json, os, urllib.request
base, auth = "http://" + os.environ["ADDR"], {"Authorization": "Bearer " + os.environ["TOKEN"]}
def call(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers=auth)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
case = call("/v1/statements?month=2025-06")[0]["case_ids"][0]
with open(os.environ["CASES"], encoding="utf-8") as f:
    lines = f.read().splitlines()
records = "\n".join([lines[0]] + [l for l in lines[1:] if l.startswith(case + ",")]) + "\n"
app = call("/v1/special-cases", {"period": "2025Q2", "case_ids": [case], "records": records,
                                 "reason": "high_cost", "text": "API contract check"})
opinion = call("/v1/opinions", {"topic": "grouping", "about": "GB25", "text": "API contract check"})
print(app["application_id"], opinion["id"])
PY
)
read -r APP OPINION <<< "$APP"
# the {id} of each family of operations: the application, the opinion
cat > "$WORK/schemathesis.toml" <<TOML
[[operations]]
include-path-regex = "^/v1/special-cases/"
parameters = { "path.id" = "$APP" }

[[operations]]
include-path-regex = "^/v1/opinions/"
parameters = { "path.id" = "$OPINION" }

[[operations]]
include-path-regex = "^/v1/negotiations/[^/]+/proposals/"
parameters = { "path.id" = "1", "path.number" = "1" }

[[operations]]
include-path-regex = "^/v1/negotiations/[^/]+(/(parties|minutes|agreement|closing))?$"
parameters = { "path.id" = "1" }
TOML
echo "server http://$ADDR, application $APP, opinion $OPINION; schemathesis: all checks, seed $SEED, at most $MAX_EXAMPLES examples per operation"

status=0
for ROLE in bureau reviewer hospital; do
  case $ROLE in
    bureau) TOKEN=$BUREAU ;;
    reviewer) TOKEN=$REVIEWER ;;
    hospital) TOKEN=$HOSPITAL ;;
  esac
  echo "== as the $ROLE"
  rc=0
  (cd "$WORK" && "$VENV/bin/st" --config-file schemathesis.toml run "http://$ADDR/openapi.json" \
      --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES" --workers 1 \
      --generation-database none --no-color -H "Authorization: Bearer $TOKEN") \
    > "$WORK/st-$ROLE.txt" 2>&1 || rc=$?
  grep -E '^ *[0-9]+ generated' "$WORK/st-$ROLE.txt" || true
  if [ $rc -ne 0 ]; then
    status=1
    if grep -q '^=* FAILURES =*$' "$WORK/st-$ROLE.txt"; then
      sed -n '/^=* FAILURES =*$/,$p' "$WORK/st-$ROLE.txt"
    else
      tail -40 "$WORK/st-$ROLE.txt"
    fi
  fi
done

if grep -q 'panicked' "$WORK/stderr"; then
  echo "the server panicked:" >&2
  grep -A5 'panicked' "$WORK/stderr" >&2
  status=1
fi
kill -TERM "$SERVER"
wait "$SERVER" || { echo "the server did not stop cleanly" >&2; status=1; }
SERVER=""
echo "api-contract: $([ $status -eq 0 ] && echo "no finding" || echo "FINDINGS") in $(( $(date +%s) - start )) s"
exit $status
