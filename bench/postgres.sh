#!/usr/bin/env bash
# bench/postgres.sh: absolute SCIM throughput of Roster on PostgreSQL (the issue's figures
# are absolute there: creates/s and gets/s), with the loadgen of ../shared/bench.
#
#   ROSTER_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable bench/postgres.sh [scenario ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${BENCH_DIR:-$repo/../shared/bench}"
: "${ROSTER_TEST_POSTGRES:?set ROSTER_TEST_POSTGRES to a server where a database may be created}"
work="$(mktemp -d /tmp/roster-pgbench.XXXXXX)"
out="${OUT:-$work/results.jsonl}"
duration="${DURATION:-20s}" conc="${CONCURRENCY:-16}" users="${USERS:-1000}"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(create get filter)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
(cd "$shared/loadgen" && go build -o "$work/loadgen" .)
go build -o "$work/roster" "$repo/cmd/roster"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for sc in "${scenarios[@]}"; do
  db="roster_bench_$$_${sc//-/_}"
  psql "$ROSTER_TEST_POSTGRES" -qc "CREATE DATABASE $db" >/dev/null
  export ROSTER_DATABASE=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$ROSTER_TEST_POSTGRES" "$db")
  export ROSTER_SECRET_KEY="$("$work/roster" keyring generate)"
  org=$("$work/roster" org create --name Bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  token=$("$work/roster" scim directory create --org "$org" --name Bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  "$work/roster" serve --addr "127.0.0.1:$port" --log-level warn >"$work/roster.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/scim/v2/Users?count=1" && break; sleep 0.1; done
  "$work/loadgen" -base "http://127.0.0.1:$port/scim/v2" -token "$token" -scenario "$sc" -duration "$duration" \
    -concurrency "$conc" -users "$users" -label roster-postgres -server-pid "$pid" -json-only >>"$out"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  psql "$ROSTER_TEST_POSTGRES" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
done
"$work/loadgen" report "$out"
echo "results: $out"
