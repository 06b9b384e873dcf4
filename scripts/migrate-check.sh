#!/usr/bin/env bash
# Moving a county from SQLite to PostgreSQL (issue 17; docs/OPERATIONS.md, "Moving to
# PostgreSQL"): a seeded year is copied with `banjied migrate-store`, then one banjied serves the
# SQLite file and another the PostgreSQL copy, and every dashboard the office can ask for is
# asked of both: each month of the year and the whole year, each without a breakdown and by
# department, item, window, township and channel. Every answer must be the same, byte for byte
# (but for `computed_at`, the instant each server answered at).
#
#   swift build                                # debug binaries in .build/debug
#   scripts/migrate-check.sh                   # CI: 10,000 cases (about 90 s)
#   scripts/migrate-check.sh --cases 100000    # the seeded year of the issue (a few minutes)
#
# The year is `banjied seed --until 2026-11-30T17:30:00+08:00 --seed 1` (December 2025 to
# November 2026). Both servers run on one simulated clock stopped (in effect) at that instant,
# after office hours, so that neither recolours a case the other does not.
#
# A throw-away PostgreSQL cluster is started in a temporary directory (scripts/postgres-cluster.sh:
# as the `postgres` user when run as root) and stopped at the end.
#
# Options (or environment variables): --cases N (CASES, 10000), --bin-dir DIR (BIN_DIR,
# .build/debug), --keep (KEEP=1). Exit 0 when every dashboard matched, 1 on a difference or a
# failed copy (the reason is printed and the work directory kept), 2 on bad usage or set-up failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CASES=${CASES:-10000}
BIN_DIR=${BIN_DIR:-$ROOT/.build/debug}
KEEP=${KEEP:-0}
UNTIL=2026-11-30T17:30:00+08:00
MONTHS=(2025-12 2026-01 2026-02 2026-03 2026-04 2026-05 2026-06 2026-07 2026-08 2026-09 2026-10 2026-11)
BREAKDOWNS=("" department item window township channel)

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --cases) CASES=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "migrate-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $CASES =~ ^[1-9][0-9]*$ ]] || { echo "migrate-check: --cases must be a positive whole number, not '$CASES'" >&2; exit 2; }

BANJIE=$BIN_DIR/banjie
BANJIED=$BIN_DIR/banjied
for b in "$BANJIE" "$BANJIED"; do
  [[ -x $b ]] || { echo "migrate-check: $b not found: run \`swift build\` first, or give --bin-dir / BIN_DIR" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/banjie-migrate.XXXXXX")
chmod 755 "$WORK"
CLUSTER=$WORK/pg
PIDS=()
FAILED=0
T0=$SECONDS

log() { printf 'migrate check [%3ds] %s\n' $((SECONDS - T0)) "$*"; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  bash "$ROOT/scripts/postgres-cluster.sh" stop "$CLUSTER" >/dev/null 2>&1
  if [[ $FAILED == 0 && $KEEP != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "migrate check: work directory kept: $WORK (migrate.out, sqlite.log, postgres.log, sqlite/, postgres/)" >&2
  fi
}
trap cleanup EXIT
trap 'FAILED=1; echo "migrate check: interrupted" >&2; exit 130' INT TERM
fail() { FAILED=1; echo "migrate check: FAILED: $*" >&2; exit 1; }
setup_fail() { FAILED=1; echo "migrate check: set-up failed: $*" >&2; exit 2; }

# pick_port, json_field, client_tls, cluster_database
source "$ROOT/scripts/check-lib.sh"

# --- the year, the copy --------------------------------------------------------------------------

FILE=$WORK/county.sqlite
"$BANJIED" seed --database "$FILE" --cases "$CASES" --until "$UNTIL" --seed 1 >"$WORK/seed.out" 2>&1 \
  || setup_fail "seed: $(tail -n 5 "$WORK/seed.out")"
log "$(head -n 2 "$WORK/seed.out" | tr '\n' ' ')"

cluster_database county   # sets ADMIN_URL, PSQL, DB_URL

started=$SECONDS
"$BANJIED" migrate-store --from "$FILE" --to "$DB_URL" >"$WORK/migrate.out" 2>&1 || fail "migrate-store: $(tail -n 5 "$WORK/migrate.out")"
log "migrate-store: $(tail -n 1 "$WORK/migrate.out") ($((SECONDS - started)) s)"
# A second copy into the now non-empty database is refused, and changes nothing there.
before=$("$PSQL" -X -q -A -t "$DB_URL" -c "SELECT (SELECT COUNT(*) FROM cases) || '/' || (SELECT COUNT(*) FROM audit_log)")
if "$BANJIED" migrate-store --from "$FILE" --to "$DB_URL" >"$WORK/migrate-again.out" 2>&1; then
  fail "a second migrate-store into the same database was accepted"
fi
after=$("$PSQL" -X -q -A -t "$DB_URL" -c "SELECT (SELECT COUNT(*) FROM cases) || '/' || (SELECT COUNT(*) FROM audit_log)")
[[ $before == "$after" ]] || fail "the refused second copy changed the target: $before cases/audit rows before, $after after"

# --- both servers --------------------------------------------------------------------------------

"$BANJIE" certs init --dir "$WORK/certs" --json >"$WORK/certs.json" 2>&1 || setup_fail "certs init: $(cat "$WORK/certs.json")"
OFFICE_JSON=$("$BANJIE" certs issue --dir "$WORK/certs" --role office --org YSB --name 李明 --json 2>&1) || setup_fail "office: $OFFICE_JSON"
read -r -a OFFICE_TLS <<<"$(client_tls "$WORK/certs/ca.pem" "$OFFICE_JSON")"

start_server() { # start_server NAME DATABASE: sets ADDRESS
  local name=$1 database=$2 address pid
  address=127.0.0.1:$(pick_port)
  # The clock starts at the end of the seeded year and advances a thousandth as fast as real time.
  "$BANJIED" serve --certs-dir "$WORK/certs" --listen "$address" --metrics-listen off --database "$database" \
    --simulate-from "$UNTIL" --simulate-speed 0.001 --log-level warning >>"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  local deadline=$((SECONDS + 120))
  until "$BANJIE" health --server "$address" "${OFFICE_TLS[@]}" --timeout 2 >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || setup_fail "the $name server exited at start-up: $(tail -n 5 "$WORK/$name.log")"
    (( SECONDS < deadline )) || setup_fail "the $name server did not answer health checks within 120 s"
    sleep 0.3
  done
  ADDRESS=$address
}
start_server sqlite "$FILE"
SQLITE_SERVER=$ADDRESS
start_server postgres "$DB_URL"
POSTGRES_SERVER=$ADDRESS

# --- every dashboard, on both --------------------------------------------------------------------

mkdir -p "$WORK/sqlite" "$WORK/postgres"
asked=0
nonempty=0
for period in "${MONTHS[@]}" year; do
  for by in "${BREAKDOWNS[@]}"; do
    args=()
    if [[ $period == year ]]; then args+=(--from 2025-12-01 --to 2026-11-30); else args+=(--period "$period"); fi
    [[ -n $by ]] && args+=(--by "$by")
    name=$period${by:+-$by}.json
    for engine in sqlite postgres; do
      if [[ $engine == sqlite ]]; then server=$SQLITE_SERVER; else server=$POSTGRES_SERVER; fi
      LANG=C.UTF-8 "$BANJIE" dashboard "${args[@]}" --json --server "$server" "${OFFICE_TLS[@]}" \
        >"$WORK/$engine/$name" 2>"$WORK/$engine/$name.err" || fail "dashboard ${args[*]} on $engine: $(cat "$WORK/$engine/$name.err")"
    done
    # `computed_at` is the instant each server answered at (its clock), not a figure of the data.
    for engine in sqlite postgres; do
      sed -i 's/"computed_at":"[^"]*",\{0,1\}//' "$WORK/$engine/$name"
    done
    cmp -s "$WORK/sqlite/$name" "$WORK/postgres/$name" \
      || fail "dashboard ${args[*]} differs between the engines: $(diff "$WORK/sqlite/$name" "$WORK/postgres/$name" | head -n 8)"
    asked=$((asked + 1))
    grep -q '"total"\|"received"' "$WORK/sqlite/$name" && nonempty=$((nonempty + 1))
  done
done
(( nonempty == asked )) || fail "only $nonempty of $asked dashboards held figures: the seeded year did not cover every month"
log "passed: $asked dashboards (12 months and the year; no breakdown and by department, item, window, township, channel) identical on SQLite and PostgreSQL"
