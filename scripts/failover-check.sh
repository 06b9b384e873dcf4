#!/usr/bin/env bash
# Failover check (issue 17; docs/SCALING.md): two banjied nodes on one PostgreSQL database under a
# keyed write load; one node is killed with SIGKILL, later the database itself is restarted with
# `pg_ctl restart -m immediate`; every acknowledged write must be there exactly once.
#
#   swift build                                # debug binaries in .build/debug
#   scripts/failover-check.sh                  # CI: 4 clients, 12 s of load (about 40 s)
#   scripts/failover-check.sh --clients 8 --duration 60
#
# Each client is a loop around the real CLI with `--server A,B`: the CLI moves to the next node
# when one cannot be reached or is lost before answering, with the same idempotency key
# (docs/OPERATIONS.md). When both fail (the database restarting) the client retries the same key
# until it is acknowledged. The load runs in three phases:
#   1. both nodes up;
#   2. node A (which holds the sweeper's lease) is killed with SIGKILL: the clients go on against
#      B, and B must take the lease over (its log says `sweeper lease taken`). Then an alert raised
#      after the kill must reach a watcher on the survivor: `banjie alerts --watch` connected to B,
#      a case of an instant item (2 working hours) submitted and accepted on B, and B's sweeper
#      must raise its yellow or red alert, which the watcher prints;
#   3. A is started again, then PostgreSQL is restarted with `pg_ctl restart -m immediate` (a
#      crash of the database: its connections drop mid-call), and the load goes on.
# Then, with both nodes up:
#   - every key was acknowledged with one case number, and no number went to two keys;
#   - the database holds exactly one case per acknowledged key (`cases` and the SubmitCase
#     idempotency records), each with the number its key was answered with;
#   - `banjie admin audit verify` exits 0 through each node.
#
# Both nodes run on one simulated clock (`banjied serve --simulate-from`, 300x: an office hour in
# 12 s) that starts at 08:30 on the working Monday 2026-03-02 (Beijing time) when the first node
# starts; a node started later starts its clock where that timeline is then, so the nodes agree
# to within their start-up time (a fraction of a second, about a minute simulated).
#
# A throw-away PostgreSQL cluster is started in a temporary directory (scripts/postgres-cluster.sh:
# as the `postgres` user when run as root) and stopped at the end.
#
# Options (or environment variables): --clients N (CLIENTS, 4), --duration SECONDS (DURATION, 12:
# the whole load; each phase a third), --bin-dir DIR (BIN_DIR, .build/debug), --keep (KEEP=1).
# Exit 0 when every check passed, 1 on a violation (the reason is printed and the work directory
# kept), 2 on bad usage or set-up failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-12}
BIN_DIR=${BIN_DIR:-$ROOT/.build/debug}
KEEP=${KEEP:-0}
ITEM=SCJGJ-002

usage() { sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --clients) CLIENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "failover-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in CLIENTS DURATION; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "failover-check: $v must be a positive whole number, not '${!v}'" >&2; exit 2; }
done
(( CLIENTS <= 9 )) || { echo "failover-check: at most 9 clients" >&2; exit 2; }

BANJIE=$BIN_DIR/banjie
BANJIED=$BIN_DIR/banjied
for b in "$BANJIE" "$BANJIED"; do
  [[ -x $b ]] || { echo "failover-check: $b not found: run \`swift build\` first, or give --bin-dir / BIN_DIR" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/banjie-failover.XXXXXX")
chmod 755 "$WORK"
CLUSTER=$WORK/pg
PID_A=
PID_B=
WATCH_PID=
CLIENT_PIDS=()
FAILED=0
T0=$SECONDS

log() { printf 'failover check [%3ds] %s\n' $((SECONDS - T0)) "$*"; }

cleanup() {
  touch "$WORK/stop" 2>/dev/null
  for pid in "${CLIENT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${CLIENT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for pid in $PID_A $PID_B $WATCH_PID; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  bash "$ROOT/scripts/postgres-cluster.sh" stop "$CLUSTER" >/dev/null 2>&1
  if [[ $FAILED == 0 && $KEEP != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "failover check: work directory kept: $WORK (node-a.log, node-b.log, client-*.err, acked-*.log)" >&2
  fi
}
trap cleanup EXIT
trap 'FAILED=1; echo "failover check: interrupted" >&2; exit 130' INT TERM

fail() { FAILED=1; echo "failover check: FAILED: $*" >&2; exit 1; }
setup_fail() { FAILED=1; echo "failover check: set-up failed: $*" >&2; exit 2; }

# pick_port, json_field, client_tls, cluster_database
source "$ROOT/scripts/check-lib.sh"

# --- PostgreSQL, certificates, nodes --------------------------------------------------------------

cluster_database failover   # sets ADMIN_URL, PSQL, DB_URL
sql() { "$PSQL" -X -q -A -t "$DB_URL" -c "$1"; }
pg_ctl_restart() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$bin/pg_ctl" restart -m immediate -w -D "$CLUSTER/data" -l "$CLUSTER/server.log" >>"$WORK/pg-restart.out" 2>&1
  else
    "$bin/pg_ctl" restart -m immediate -w -D "$CLUSTER/data" -l "$CLUSTER/server.log" >>"$WORK/pg-restart.out" 2>&1
  fi
}
[[ -d $CLUSTER/data ]] || setup_fail "postgres-cluster.sh left no data directory in $CLUSTER"

"$BANJIE" certs init --dir "$WORK/certs" --json >"$WORK/certs.json" 2>&1 || setup_fail "certs init: $(cat "$WORK/certs.json")"
OFFICE_JSON=$("$BANJIE" certs issue --dir "$WORK/certs" --role office --org YSB --name 李明 --json 2>&1) || setup_fail "office: $OFFICE_JSON"
CLERK_JSON=$("$BANJIE" certs issue --dir "$WORK/certs" --role clerk --org SCJGJ --name 张伟 \
  --catalog "$ROOT/catalog/sample-county.json" --json 2>&1) || setup_fail "clerk: $CLERK_JSON"
NODE_A=127.0.0.1:$(pick_port)
NODE_B=127.0.0.1:$(pick_port)
read -r -a OFFICE_TLS <<<"$(client_tls "$WORK/certs/ca.pem" "$OFFICE_JSON")"
read -r -a CLERK_TLS <<<"$(client_tls "$WORK/certs/ca.pem" "$CLERK_JSON")"

# The shared simulated timeline: SIM_START (epoch seconds) at real instant SIM_REAL0, SIM_SPEED x.
SIM_SPEED=300
SIM_START=$(date -d 2026-03-02T08:30:00+08:00 +%s)
# Set here, in this shell: simulated_now runs in command substitutions (subshells).
SIM_REAL0=$(date +%s.%N)
simulated_now() { # the timeline's instant now, as an ISO 8601 instant
  local now
  now=$(date +%s.%N)
  date -u -d "@$(awk -v s="$SIM_START" -v r0="$SIM_REAL0" -v r="$now" -v k="$SIM_SPEED" 'BEGIN { printf "%d", s + (r - r0) * k }')" \
    +%Y-%m-%dT%H:%M:%SZ
}

start_node() { # start_node NAME ADDRESS: sets PID_A or PID_B
  local name=$1 address=$2 pid
  "$BANJIED" serve --certs-dir "$WORK/certs" --listen "$address" --metrics-listen off --database "$DB_URL" \
    --sweep-interval 2 --log-level info --simulate-from "$(simulated_now)" --simulate-speed "$SIM_SPEED" \
    >>"$WORK/node-$name.log" 2>&1 &
  pid=$!
  if [[ $name == a ]]; then PID_A=$pid; else PID_B=$pid; fi
  local deadline=$((SECONDS + 60))
  until "$BANJIE" health --server "$address" "${CLERK_TLS[@]}" --timeout 2 >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || setup_fail "node $name exited at start-up: $(tail -n 5 "$WORK/node-$name.log")"
    (( SECONDS < deadline )) || setup_fail "node $name did not answer health checks within 60 s"
    sleep 0.2
  done
}

log "work directory $WORK; nodes $NODE_A and $NODE_B on $DB_URL"
start_node a "$NODE_A"
# A is up first and takes the sweeper's lease before B exists.
sleep 1
start_node b "$NODE_B"
"$BANJIE" catalog import --server "$NODE_A" "${OFFICE_TLS[@]}" "$ROOT/catalog/sample-county.json" >"$WORK/catalog.out" 2>&1 \
  || setup_fail "catalog import: $(cat "$WORK/catalog.out")"
grep -q "sweeper lease taken" "$WORK/node-a.log" || setup_fail "node A did not take the sweeper lease: $(tail -n 5 "$WORK/node-a.log")"
grep -q "sweeper lease taken" "$WORK/node-b.log" && fail "node B took the sweeper lease while A held it"

# --- load ----------------------------------------------------------------------------------------

# client_loop ID: fresh keys until $WORK/stop exists, each retried until acknowledged. Exit codes
# 64 (usage), 65 (refused) and 77 (permission) are not what a failover causes: violations.
client_loop() {
  local id=$1 n=0 key out rc number tries
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    key=failover-c$id-$n-$RANDOM$RANDOM
    tries=0
    while :; do
      out=$("$BANJIE" case submit --server "$NODE_A,$NODE_B" "${CLERK_TLS[@]}" --timeout 10 --item "$ITEM" \
        --applicant "客户$id" --window "A0$id" --idempotency-key "$key" --json 2>>"$WORK/client-$id.err")
      rc=$?
      if [[ $rc == 0 ]]; then
        number=$(json_field number <<<"$out")
        [[ -n $number ]] || { echo "client $id: key $key: success without a case number: $out" >>"$WORK/violations"; return 1; }
        echo "$key $number" >>"$WORK/acked-$id.log"
        break
      fi
      tries=$((tries + 1))
      echo "client $id: key $key: attempt $tries exited $rc" >>"$WORK/client-$id.err"
      if [[ $rc == 64 || $rc == 65 || $rc == 77 ]]; then
        echo "client $id: key $key: refused with exit $rc (see client-$id.err)" >>"$WORK/violations"
        return 1
      fi
      (( tries < 300 )) || { echo "client $id: key $key: still failing after $tries attempts" >>"$WORK/violations"; return 1; }
      [[ -e $WORK/abort ]] && return 0
      sleep 0.2
    done
  done
}

for id in $(seq 1 "$CLIENTS"); do
  client_loop "$id" &
  CLIENT_PIDS+=($!)
done
PHASE=$(( (DURATION + 2) / 3 ))
sleep "$PHASE"
acked() { cat "$WORK"/acked-*.log 2>/dev/null | wc -l; }
log "phase 1: $(acked) cases acknowledged with both nodes up; killing node A (SIGKILL)"
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
PID_A=
deadline=$((SECONDS + 15))
until grep -q "sweeper lease taken" "$WORK/node-b.log"; do
  (( SECONDS < deadline )) || fail "node B did not take the sweeper lease within 15 s of node A's death"
  sleep 0.2
done
log "node B took the sweeper lease $((SECONDS - deadline + 15)) s after the kill"

# An alert raised after the kill reaches a watcher on the survivor: B's sweeper raises it.
"$BANJIE" alerts --watch --json --department SCJGJ --server "$NODE_B" "${OFFICE_TLS[@]}" \
  >"$WORK/alerts-b.out" 2>"$WORK/alerts-b.err" &
WATCH_PID=$!
key=failover-alert-$RANDOM$RANDOM
out=$("$BANJIE" case submit --server "$NODE_B" "${CLERK_TLS[@]}" --timeout 30 --item SCJGJ-001 --applicant 告警检查 \
  --window A09 --idempotency-key "$key" --json 2>&1) || fail "submit on B after the kill: $out"
ALERT_CASE=$(json_field number <<<"$out")
[[ -n $ALERT_CASE ]] || fail "submit on B after the kill answered no case number: $out"
echo "$key $ALERT_CASE" >"$WORK/acked-alert.log"
out=$("$BANJIE" case accept "$ALERT_CASE" --server "$NODE_B" "${CLERK_TLS[@]}" --timeout 30 --json 2>&1) \
  || fail "accept on B after the kill: $out"
deadline=$((SECONDS + 120))
until grep -q "case $ALERT_CASE" "$WORK/alerts-b.out"; do
  kill -0 "$WATCH_PID" 2>/dev/null || fail "the watcher on B ended: $(tail -n 3 "$WORK/alerts-b.err")"
  (( SECONDS < deadline )) || fail "no alert about $ALERT_CASE reached the watcher on B within 120 s (simulated: $(simulated_now))"
  sleep 0.5
done
kill "$WATCH_PID" 2>/dev/null
wait "$WATCH_PID" 2>/dev/null
WATCH_PID=
log "an alert raised by B after the kill reached the watcher on B: $(grep -o "\"kind\": *\"[^\"]*\"" "$WORK/alerts-b.out" | head -n 1) for $ALERT_CASE"
sleep "$PHASE"
log "phase 2: $(acked) cases acknowledged; starting node A again, then pg_ctl restart -m immediate"
start_node a "$NODE_A"
before_restart=$(acked)
pg_ctl_restart || fail "pg_ctl restart failed: $(tail -n 5 "$WORK/pg-restart.out")"
sleep "$PHASE"
touch "$WORK/stop"
for pid in "${CLIENT_PIDS[@]}"; do wait "$pid"; done
CLIENT_PIDS=()
[[ -s $WORK/violations ]] && fail "$(head -n 5 "$WORK/violations")"
after_restart=$(acked)
(( after_restart > before_restart )) || fail "no case was acknowledged after the database restart"
retries=$(cat "$WORK"/client-*.err 2>/dev/null | grep -c "attempt" || true)
log "phase 3: $after_restart cases acknowledged in all ($((after_restart - before_restart)) after the database restart; $retries failed attempts retried with their keys)"

# --- checks --------------------------------------------------------------------------------------

cat "$WORK"/acked-*.log | LC_ALL=C sort >"$WORK/acked.txt"
keys=$(wc -l <"$WORK/acked.txt")
(( keys > 0 )) || fail "no case was acknowledged"
distinct_numbers=$(cut -d' ' -f2 "$WORK/acked.txt" | LC_ALL=C sort -u | wc -l)
[[ $distinct_numbers == "$keys" ]] || fail "$keys keys acknowledged but $distinct_numbers distinct case numbers"
stored=$(sql "SELECT COUNT(*) FROM cases") || fail "cannot count cases"
[[ $stored == "$keys" ]] || fail "$keys cases acknowledged, $stored stored"
recorded=$(sql "SELECT COUNT(*) FROM idempotency WHERE method = 'SubmitCase'") || fail "cannot count idempotency records"
[[ $recorded == "$keys" ]] || fail "$keys keys acknowledged, $recorded SubmitCase idempotency records"
sql "SELECT number FROM cases ORDER BY number" >"$WORK/stored.txt" || fail "cannot list cases"
cut -d' ' -f2 "$WORK/acked.txt" | LC_ALL=C sort | diff -q - "$WORK/stored.txt" >/dev/null \
  || fail "the stored case numbers differ from the acknowledged ones (see $WORK/acked.txt, $WORK/stored.txt)"
for node in "$NODE_A" "$NODE_B"; do
  out=$("$BANJIE" admin audit verify --server "$node" "${OFFICE_TLS[@]}" 2>&1) || fail "audit verify through $node: $out"
done
log "passed: $keys cases acknowledged, each stored once with its number; audit chain verifies through both nodes"
