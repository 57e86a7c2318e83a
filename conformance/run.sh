#!/usr/bin/env bash
# conformance/run.sh: runs the third-party SCIM conformance suites (../shared/conformance)
# against a freshly started Roster on SQLite and, when ROSTER_TEST_POSTGRES is set, on a
# fresh PostgreSQL database, and fails on any failed assertion that allowed-failures.txt
# does not list.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
suites="${CONFORMANCE_DIR:-$repo/../shared/conformance}"
work="$(mktemp -d /tmp/roster-conformance.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

go build -o "$work/roster" "$repo/cmd/roster"
status=0

run_on() { # name database-dsn
  local name="$1" db="$2" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export ROSTER_DATABASE="$db" ROSTER_SECRET_KEY="$("$work/roster" keyring generate)"
  org=$("$work/roster" org create --name "Conformance $name" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  token=$("$work/roster" scim directory create --org "$org" --name "Conformance" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  "$work/roster" serve --addr "127.0.0.1:$port" --log-level warn >"$work/$name-server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== conformance on $name"
  LOGDIR="$work/$name" bash "$suites/run.sh" "http://127.0.0.1:$port/scim/v2" "$token" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # Collect every failed assertion as "suite: request: assertion".
  : >"$work/$name-failures.txt"
  for log in "$work/$name"/*.log; do
    suite=$(basename "$log" .log)
    awk -v suite="$suite" '
      /^FAIL / { req=$0; sub(/^FAIL /, "", req); sub(/ \(.*$/, "", req); infail=1; n=0; next }
      /^(ok  |PASS) / { infail=0; next }
      infail && /^     - / { a=$0; sub(/^     - /, "", a); sub(/: .*$/, "", a); print suite ": " req ": " a; n++ }
    ' "$log" >>"$work/$name-failures.txt"
    grep -E "^$suite: [0-9]+ passed" "$log" | tail -n 1 || true
  done
  unexpected=$(grep -vxF -f <(grep -v '^#' "$here/allowed-failures.txt" | sed '/^$/d') "$work/$name-failures.txt" || true)
  if [ -n "$unexpected" ]; then
    echo "conformance on $name: unexpected failures:"
    echo "$unexpected" | sed 's/^/  /'
    status=1
  else
    echo "conformance on $name: only the allowed failures ($(wc -l <"$work/$name-failures.txt"))"
  fi
}

run_on sqlite "$work/roster.db"
if [ -n "${ROSTER_TEST_POSTGRES:-}" ]; then
  dbname="roster_conformance_$$"
  psql "$ROSTER_TEST_POSTGRES" -qc "CREATE DATABASE $dbname" >/dev/null
  pgdsn=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$ROSTER_TEST_POSTGRES" "$dbname")
  run_on postgres "$pgdsn"
  psql "$ROSTER_TEST_POSTGRES" -qc "DROP DATABASE $dbname WITH (FORCE)" >/dev/null || true
else
  echo "conformance on postgres: skipped (ROSTER_TEST_POSTGRES is unset)"
fi
exit $status
