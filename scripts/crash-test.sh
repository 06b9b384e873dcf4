#!/usr/bin/env bash
# Crash test (issue 3, "Must show"): kill -9 banjied while clients submit cases, restart it, and
# check that nothing acknowledged was lost or applied twice.
#
#   swift build                          # debug binaries in .build/debug
#   scripts/crash-test.sh                # CI: 3 rounds, 4 clients, 8 s per round (< 3 minutes)
#   scripts/crash-test.sh --rounds 20 --clients 8 --duration 15    # a longer run (about 5 minutes)
#
# Each client is a loop around the real CLI: it makes an idempotency key, runs
# `banjie case submit --idempotency-key KEY --json`, and on success appends "KEY NUMBER" to its
# acknowledged log. When a submit fails (the server is dead, or died mid-call) it retries the SAME
# key until it succeeds against the restarted server, which must answer with the number the
# first, possibly unacknowledged, attempt got if that one was committed.
#
# Each round: clients start; at a random moment in the second half of --duration banjied gets
# SIGKILL; it is restarted on the same database; clients are let finish their pending keys; then
#   - every key was acknowledged with one number, and no number was given to two keys;
#   - a few keys acknowledged before the kill, submitted again, return the same number;
#   - the database (sqlite3 on the file) holds exactly the acknowledged numbers, each once:
#     count(*) of cases = distinct keys ever acknowledged, and one case.receive audit row each;
#   - `banjie admin audit verify` exits 0 and `PRAGMA integrity_check` says ok.
# After the last round banjied is stopped with SIGTERM and the database is checked once more.
#
# Options (or environment variables): --rounds N (ROUNDS, 3), --clients N (CLIENTS, 4),
# --duration SECONDS (DURATION, 8), --bin-dir DIR (BIN_DIR, .build/debug), --keep (KEEP=1: keep
# the work directory). Needs bash, sqlite3 (apt-get install -y sqlite3) and, for picking a free
# port, python3 if present. Uses 127.0.0.1 only. Exit 0 when every check passed, 1 on any
# violation (the reason is printed and the work directory kept), 2 on bad usage or set-up failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-8}
BIN_DIR=${BIN_DIR:-$ROOT/.build/debug}
KEEP=${KEEP:-0}
ITEM=SCJGJ-002

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "crash-test: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in ROUNDS CLIENTS DURATION; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "crash-test: $v must be a positive whole number, not '${!v}'" >&2; exit 2; }
done
(( CLIENTS <= 9 )) || { echo "crash-test: at most 9 clients (windows A01..A09)" >&2; exit 2; }

BANJIE=$BIN_DIR/banjie
BANJIED=$BIN_DIR/banjied
for b in "$BANJIE" "$BANJIED"; do
  [[ -x $b ]] || { echo "crash-test: $b not found: run \`swift build\` first, or give --bin-dir / BIN_DIR" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || {
  echo "crash-test: the sqlite3 command-line shell is missing; install it (Debian/Ubuntu: apt-get install -y sqlite3)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/banjie-crash.XXXXXX")
DB=$WORK/banjie.sqlite
CERTS=$WORK/certs
SERVER_PID=
CLIENT_PIDS=()
FAILED=0
T0=$SECONDS

log() { printf 'crash test [%3ds] %s\n' $((SECONDS - T0)) "$*"; }

cleanup() {
  touch "$WORK/abort" 2>/dev/null
  for pid in "${CLIENT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${CLIENT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [[ -n $SERVER_PID ]]; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  if [[ $FAILED == 0 && $KEEP != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "crash test: work directory kept: $WORK (server.log, client-*.err, acked-*.log, banjie.sqlite)" >&2
  fi
}
trap cleanup EXIT
trap 'FAILED=1; echo "crash test: interrupted" >&2; exit 130' INT TERM

# A violation: say what broke and stop.
fail() {
  FAILED=1
  echo "crash test: FAILED: $*" >&2
  exit 1
}
# The set-up itself went wrong (not a finding about durability).
setup_fail() {
  FAILED=1
  echo "crash test: set-up failed: $*" >&2
  exit 2
}

pick_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    echo $((20000 + RANDOM % 30000))
  fi
}

json_field() { # json_field NAME < json  (first "NAME": "value")
  sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# --- certificates, server, catalog -------------------------------------------------------------

"$BANJIE" certs init --dir "$CERTS" --json >"$WORK/certs.json" 2>&1 || setup_fail "banjie certs init: $(cat "$WORK/certs.json")"
OFFICE_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role office --org YSB --name 李明 --json 2>&1) || setup_fail "certs issue office: $OFFICE_JSON"
CLERK_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role clerk --org SCJGJ --name 张伟 --json 2>&1) || setup_fail "certs issue clerk: $CLERK_JSON"
PORT=$(pick_port)
SERVER=127.0.0.1:$PORT
OFFICE=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$OFFICE_JSON")" --key "$(json_field key <<<"$OFFICE_JSON")")
CLERK=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$CLERK_JSON")" --key "$(json_field key <<<"$CLERK_JSON")")

start_server() {
  "$BANJIED" serve --certs-dir "$CERTS" --listen "$SERVER" --metrics-listen off --database "$DB" --log-level warning >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 30))
  until "$BANJIE" health "${CLERK[@]}" --timeout 2 >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || setup_fail "banjied exited at start-up; last lines of $WORK/server.log: $(tail -n 5 "$WORK/server.log")"
    (( SECONDS < deadline )) || setup_fail "banjied did not answer health checks within 30 s"
    sleep 0.2
  done
}

sql() { sqlite3 -bail -cmd '.timeout 10000' "$DB" "$@"; }

log "work directory $WORK, server $SERVER, $ROUNDS round(s) x $CLIENTS client(s) x ${DURATION} s"
start_server
"$BANJIE" catalog import "${OFFICE[@]}" "$ROOT/catalog/sample-county.json" >"$WORK/catalog.out" 2>&1 \
  || setup_fail "catalog import: $(cat "$WORK/catalog.out")"

# --- clients -----------------------------------------------------------------------------------

# client_loop ROUND ID: submit with fresh keys until $WORK/stop exists; every key is retried until
# it is acknowledged. Exit codes 64 (usage), 65 (the server refused the request) and 77 (permission)
# are not what a crash causes: they are recorded as violations.
client_loop() {
  local round=$1 id=$2 n=0 key out rc number tries
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    key=crash-r$round-c$id-$n-$RANDOM$RANDOM
    tries=0
    while :; do
      [[ -e $WORK/abort ]] && return 0
      out=$("$BANJIE" case submit "${CLERK[@]}" --timeout 10 --item "$ITEM" --applicant "压测客户$id" --window "A0$id" \
        --note "crash test round $round" --idempotency-key "$key" --json 2>>"$WORK/client-$id.err")
      rc=$?
      if [[ $rc == 0 ]]; then
        number=$(json_field number <<<"$out")
        if [[ -z $number ]]; then
          echo "client $id: key $key: success without a case number: $out" >>"$WORK/violations"
          return 1
        fi
        echo "$key $number" >>"$WORK/acked-$id.log"
        break
      fi
      tries=$((tries + 1))
      echo "client $id: key $key: attempt $tries exited $rc" >>"$WORK/client-$id.err"
      if [[ $rc == 64 || $rc == 65 || $rc == 77 ]]; then
        echo "client $id: key $key: refused with exit $rc (see client-$id.err)" >>"$WORK/violations"
        return 1
      fi
      if (( tries >= 300 )); then
        echo "client $id: key $key: still failing after $tries attempts" >>"$WORK/violations"
        return 1
      fi
      sleep 0.2
    done
  done
}

start_clients() {
  CLIENT_PIDS=()
  rm -f "$WORK/stop"
  for ((c = 1; c <= CLIENTS; c++)); do
    client_loop "$1" "$c" &
    CLIENT_PIDS+=($!)
  done
}

# Lets the clients finish their pending keys (against the restarted server) and exit.
stop_clients() {
  touch "$WORK/stop"
  local deadline=$((SECONDS + 90)) pid
  for pid in "${CLIENT_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      (( SECONDS < deadline )) || fail "clients did not finish their pending keys within 90 s after the restart (see $WORK/client-*.err)"
      sleep 0.2
    done
    wait "$pid" 2>/dev/null
  done
  CLIENT_PIDS=()
  [[ -s $WORK/violations ]] && fail "$(cat "$WORK/violations")"
  return 0
}

acked_all() { cat "$WORK"/acked-*.log 2>/dev/null; }

# --- checks ------------------------------------------------------------------------------------

LOST=0
DUPLICATED=0
ACKED=0

check() { # check LABEL
  local label=$1
  acked_all | sort -u >"$WORK/acked.pairs"
  # One number per key, and no number for two keys.
  local bad
  bad=$(awk '{print $1}' "$WORK/acked.pairs" | uniq -d | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: key(s) acknowledged with two different numbers (a retry was applied twice): $bad"
  bad=$(awk '{print $2}' "$WORK/acked.pairs" | sort | uniq -d | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: case number(s) acknowledged for two different keys: $bad"
  awk '{print $1}' "$WORK/acked.pairs" >"$WORK/acked.keys"
  awk '{print $2}' "$WORK/acked.pairs" | sort >"$WORK/acked.numbers"
  ACKED=$(wc -l <"$WORK/acked.keys")

  sql "SELECT number FROM cases ORDER BY number" >"$WORK/db.numbers" || fail "$label: cannot read cases from $DB"
  local total distinct receives keys
  total=$(sql "SELECT count(*) FROM cases")
  distinct=$(sql "SELECT count(DISTINCT number) FROM cases")
  receives=$(sql "SELECT count(*) FROM audit_log WHERE action = 'case.receive'")
  keys=$(sql "SELECT count(*) FROM idempotency WHERE method = 'SubmitCase'")
  sort "$WORK/db.numbers" -o "$WORK/db.numbers"
  LOST=$(comm -23 "$WORK/acked.numbers" "$WORK/db.numbers" | wc -l)
  local extra
  extra=$(comm -13 "$WORK/acked.numbers" "$WORK/db.numbers" | wc -l)
  DUPLICATED=$(( extra + total - distinct ))
  if (( LOST > 0 )); then
    fail "$label: $LOST acknowledged case(s) missing from the database, e.g. $(comm -23 "$WORK/acked.numbers" "$WORK/db.numbers" | head -n 3 | tr '\n' ' ')"
  fi
  if (( DUPLICATED > 0 )); then
    fail "$label: $extra case(s) in the database that no client was acknowledged for (a retried key applied twice?), e.g. $(comm -13 "$WORK/acked.numbers" "$WORK/db.numbers" | head -n 3 | tr '\n' ' ')"
  fi
  (( total == ACKED )) || fail "$label: $total cases in the database but $ACKED distinct keys acknowledged"
  (( receives == total )) || fail "$label: $receives case.receive audit rows for $total cases"
  (( keys == total )) || fail "$label: $keys SubmitCase idempotency rows for $total cases"
  local integrity
  integrity=$(sql "PRAGMA integrity_check" 2>&1)
  [[ $integrity == ok ]] || fail "$label: PRAGMA integrity_check: $integrity"
}

check_audit() { # check_audit LABEL (server running)
  local out
  out=$("$BANJIE" admin audit verify "${OFFICE[@]}" 2>&1) || fail "$1: banjie admin audit verify: $out"
  AUDIT=$out
}

# Keys acknowledged before the kill, sent again: the same number, and nothing new.
check_replay() { # check_replay LABEL FILE-OF-PAIRS
  local key number out again
  while read -r key number; do
    out=$("$BANJIE" case submit "${CLERK[@]}" --timeout 10 --item "$ITEM" --applicant "压测客户0" --window A00 \
      --idempotency-key "$key" --json 2>&1) || fail "$1: replaying key $key failed: $out"
    again=$(json_field number <<<"$out")
    [[ $again == "$number" ]] || fail "$1: key $key was acknowledged as $number before the crash but now answers $again"
  done <"$2"
}

# --- rounds ------------------------------------------------------------------------------------

KILLS_IN_FLIGHT=0
for ((round = 1; round <= ROUNDS; round++)); do
  start_clients "$round"
  # Kill at a random moment in the second half of the round (in tenths of a second).
  tenths=$(( DURATION * 5 + RANDOM % (DURATION * 5 + 1) ))
  sleep "$((tenths / 10)).$((tenths % 10))"
  before=$(acked_all | wc -l)
  acked_all | shuf -n 5 >"$WORK/replay.pairs" 2>/dev/null || acked_all | tail -n 5 >"$WORK/replay.pairs"
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
  log "round $round: kill -9 after ${tenths}00 ms with $before acknowledged so far"
  sleep 1 # clients fail and keep retrying their keys
  start_server
  stop_clients
  after=$(acked_all | wc -l)
  label="round $round"
  check "$label"
  check_audit "$label"
  check_replay "$label" "$WORK/replay.pairs"
  check "$label (after replay)"
  log "round $round: restarted; $ACKED acknowledged in all, all present once; $AUDIT; integrity ok; $(wc -l <"$WORK/replay.pairs") replayed keys gave their numbers"
done

# The final stop is a graceful one; check the closed file once more.
check_audit "final"
kill -TERM "$SERVER_PID"
deadline=$((SECONDS + 40))
while kill -0 "$SERVER_PID" 2>/dev/null; do
  (( SECONDS < deadline )) || fail "banjied did not exit within 40 s of SIGTERM"
  sleep 0.2
done
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
check "after the final stop"
retried=$(cat "$WORK"/client-*.err 2>/dev/null | grep -c ' attempt ')
# "Connection refused": the server was down when the client came; anything else (reset by peer,
# closed) cut a call off after it was sent, which is what the kill is for.
cut=$(cat "$WORK"/client-*.err 2>/dev/null | grep '^banjie:' | grep -vc 'Connection refused')
log "$retried failed attempts were retried with their keys, $cut of them calls cut off mid-flight by a kill"
echo "crash test: $ROUNDS rounds, $ACKED acknowledged, $LOST lost, $DUPLICATED duplicated"
