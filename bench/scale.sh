#!/usr/bin/env bash
# bench/scale.sh: Roster and the yardstick at scale, in one run on one machine. For each
# server, on a fresh database: provision USERS users through SCIM (the identity provider's
# first push; the time is the figure), then time get, filter and list with 16 workers on
# the populated directory, and report the server's peak resident memory.
#
#   USERS=100000 bench/scale.sh          (default 100000; 1000000 takes about ten minutes a server)
#
# Environment: USERS, DURATION (10s), CONCURRENCY (16), SERVERS ("limit roster"), OUT.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${BENCH_DIR:-$repo/../shared/bench}"
work="$(mktemp -d /tmp/roster-scale.XXXXXX)"
out="${OUT:-$work/results.jsonl}"
users="${USERS:-100000}" duration="${DURATION:-10s}" conc="${CONCURRENCY:-16}"
servers="${SERVERS:-limit roster}"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

(cd "$shared/limit" && go build -o "$work/limit" .)
(cd "$shared/loadgen" && go build -o "$work/loadgen" .)
go build -o "$work/roster" "$repo/cmd/roster"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 100); do curl -fsS -o /dev/null -H "Authorization: Bearer $2" "$1/Users?count=1" && return 0; sleep 0.1; done; return 1; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

for srv in $servers; do
  port=$(free_port)
  rm -f "$work"/*.db*
  if [ "$srv" = limit ]; then
    token=limit-token label=limit-sqlite
    "$work/limit" -mode sqlite -addr "127.0.0.1:$port" -token "$token" -db "$work/limit.db" >"$work/limit.log" 2>&1 &
  else
    label=roster
    export ROSTER_DATABASE="$work/roster.db"
    org=$("$work/roster" org create --name Scale --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    token=$("$work/roster" scim directory create --org "$org" --name Scale --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    "$work/roster" serve --addr "127.0.0.1:$port" --log-level warn >"$work/roster.log" 2>&1 &
  fi
  pid=$!
  base="http://127.0.0.1:$port/scim/v2"
  wait_up "$base" "$token"
  "$work/loadgen" -base "$base" -token "$token" -scenario seed -users "$users" -concurrency "$conc" \
    -label "$label" -server-pid "$pid" -json-only >>"$out"
  for sc in get filter list; do
    "$work/loadgen" -base "$base" -token "$token" -scenario "$sc" -duration "$duration" -concurrency "$conc" \
      -users 1000 -label "$label" -server-pid "$pid" -json-only >>"$out"
  done
  echo "$label: $users users provisioned; peak resident memory $(peak_rss_mb "$pid") MB"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

"$work/loadgen" report "$out"
echo "results: $out"
