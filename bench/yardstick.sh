#!/usr/bin/env bash
# bench/yardstick.sh: measures Roster against the yardstick in ../shared/bench, in one run on
# one machine: for each scenario, the loadgen drives `limit -mode sqlite` and then Roster
# (both on SQLite with synchronous=FULL), and the report gives each figure as a ratio.
#
#   bench/yardstick.sh [scenario ...]      (default: get filter create patch put group-members mixed)
#
# Environment: DURATION (default 20s), CONCURRENCY (16), USERS (1000), OUT (results file).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${BENCH_DIR:-$repo/../shared/bench}"
work="$(mktemp -d /tmp/roster-bench.XXXXXX)"
out="${OUT:-$work/results.jsonl}"
duration="${DURATION:-20s}" conc="${CONCURRENCY:-16}" users="${USERS:-1000}"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(get filter create patch put group-members mixed)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

(cd "$shared/limit" && go build -o "$work/limit" .)
(cd "$shared/loadgen" && go build -o "$work/loadgen" .)
go build -o "$work/roster" "$repo/cmd/roster"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 100); do curl -fsS -o /dev/null -H "Authorization: Bearer $2" "$1/Users?count=1" && return 0; sleep 0.1; done; return 1; }

for sc in "${scenarios[@]}"; do
  # The yardstick.
  port=$(free_port)
  "$work/limit" -mode sqlite -addr "127.0.0.1:$port" -token limit-token -db "$work/limit.db" >"$work/limit.log" 2>&1 &
  lpid=$!
  wait_up "http://127.0.0.1:$port/scim/v2" limit-token
  "$work/loadgen" -base "http://127.0.0.1:$port/scim/v2" -token limit-token -scenario "$sc" -duration "$duration" \
    -concurrency "$conc" -users "$users" -label limit-sqlite -server-pid "$lpid" -json-only >>"$out"
  kill "$lpid"; wait "$lpid" 2>/dev/null || true

  # Roster, on a fresh embedded database.
  rm -f "$work"/roster.db*
  export ROSTER_DATABASE="$work/roster.db"
  org=$("$work/roster" org create --name Bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  token=$("$work/roster" scim directory create --org "$org" --name Bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  port=$(free_port)
  "$work/roster" serve --addr "127.0.0.1:$port" --log-level warn >"$work/roster.log" 2>&1 &
  rpid=$!
  wait_up "http://127.0.0.1:$port/scim/v2" "$token"
  "$work/loadgen" -base "http://127.0.0.1:$port/scim/v2" -token "$token" -scenario "$sc" -duration "$duration" \
    -concurrency "$conc" -users "$users" -label roster -server-pid "$rpid" -json-only >>"$out"
  echo "roster $sc: peak resident memory $(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$rpid/status") MB"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
done

"$work/loadgen" report "$out"
echo "results: $out"
