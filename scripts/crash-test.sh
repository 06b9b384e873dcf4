#!/usr/bin/env bash
# Crash test (issue 3; mixed load, issue 8): kill -9 banjied while clients write cases, ratings and
# demands, restart it, and check that nothing acknowledged was lost or applied twice.
#
#   swift build                          # debug binaries in .build/debug
#   scripts/crash-test.sh                # CI: 3 rounds, 4 case clients, 8 s per round (about 40 s)
#   scripts/crash-test.sh --rounds 20    # the long run (docs/OPERATIONS.md), about 4 minutes
#
# Every client is a loop around the real CLI, and every write carries an idempotency key. On
# success the answer is appended to the client's acknowledged log; when a call fails (the server
# is dead, or died mid-call) the SAME key is retried until it succeeds against the restarted
# server, which must then answer what the first, possibly unacknowledged, attempt got if that one
# was committed. Three kinds of client run together:
#   - case clients (--clients of them, clerk): `banjie case submit`;
#   - one rating client: the clerk submits a case for the test enterprise (its USCC), accepts and
#     completes it, then the enterprise's certificate rates it (`banjie rate`, levels 2-5; a 2 is a
#     差评 and opens a rectification), each step under its own key;
#   - one demand client: the enterprise raises a demand (`banjie demand raise`) and, in turn, its
#     liaison official records a visit that raises one (`banjie visit record --demand`);
#   - one hall client (一窗受理, 容缺受理): the staff of comprehensive window Z01 submit a housing
#     bureau item there, and a clerk of that bureau accepts it with a material pending
#     (`banjie case accept --pending`).
#   - one countersign client (部门会签): the market regulation bureau registers a draft for the
#     housing bureau to countersign, and the housing bureau answers it.
#   - one appeal client (群众诉求): the 12345 dispatcher registers a citizen's appeal for the market
#     regulation bureau, whose clerk contacts the citizen and resolves it; the call-back closes it.
# Every other rating is given on the rating pad of window Z01 with the case's one-time rating code
# (`banjie rate --code`, 评价码) instead of the enterprise's certificate.
#
# Each round: clients start; at a random moment in the second half of --duration banjied gets
# SIGKILL; it is restarted on the same database; clients are let finish their pending keys; then
#   - every key was acknowledged with one answer, and no case number went to two keys (the hall
#     client's cases included);
#   - the database (sqlite3 on the file) holds exactly what was acknowledged, each once: cases
#     (one case.receive audit row and one SubmitCase key each), ratings (one rating.create audit
#     row and one RateCase key each, the acknowledged level and way — enterprise or pad — one
#     rectification per 差评), demands (one demand.raise audit row each), visits (each with the
#     demand it raised), 容缺 acceptances (each case ACCEPTED with exactly its pending material)
#     countersigns (each registered once, each acknowledged answer recorded once, COMPLETE) and
#     appeals (each registered once, each acknowledged contact, resolution and call-back once);
#   - a few keys of each kind acknowledged before the kill, sent again, give the same answer
#     (the same case number; for ratings, demands and visits the same JSON, byte for byte);
#   - `banjie admin audit verify` exits 0 and `PRAGMA integrity_check` says ok.
# After the last round banjied is stopped with SIGTERM and the database is checked once more.
#
# Measured (debug build, 2 cores shared with a fuzzer): the CI default, 3 rounds, 44 s. The long
# run, --rounds 20: 254 s wall; 20 kills; acknowledged 1 159 cases, 81 ratings (each after its own
# keyed submit, accept and complete), 248 demands (128 raised directly, 120 through visits) and 120
# visits; 345 failed attempts retried with their keys, 34 of them calls cut off mid-flight by a
# kill; 0 lost, 0 duplicated; audit chain and integrity_check ok after every round.
#
# Options (or environment variables): --rounds N (ROUNDS, 3), --clients N (CLIENTS, 4: case
# clients), --duration SECONDS (DURATION, 8), --bin-dir DIR (BIN_DIR, .build/debug), --keep (KEEP=1:
# keep the work directory). Needs bash, sqlite3 (apt-get install -y sqlite3) and, for picking a
# free port, python3 if present. Uses 127.0.0.1 only. Exit 0 when every check passed, 1 on any
# violation (the reason is printed and the work directory kept), 2 on bad usage or set-up failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-8}
BIN_DIR=${BIN_DIR:-$ROOT/.build/debug}
KEEP=${KEEP:-0}
ITEM=SCJGJ-002
USCC=91370830000001001N   # the test enterprise (a valid USCC check digit)

usage() { sed -n '2,56p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
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

# pick_port, json_field
source "$ROOT/scripts/check-lib.sh"

# --- certificates, server, catalog -------------------------------------------------------------

"$BANJIE" certs init --dir "$CERTS" --json >"$WORK/certs.json" 2>&1 || setup_fail "banjie certs init: $(cat "$WORK/certs.json")"
OFFICE_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role office --org YSB --name 李明 --json 2>&1) || setup_fail "certs issue office: $OFFICE_JSON"
CLERK_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role clerk --org SCJGJ --name 张伟 --catalog "$ROOT/catalog/sample-county.json" --json 2>&1) || setup_fail "certs issue clerk: $CLERK_JSON"
FIRM_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role enterprise --org "$USCC" --name 张总 --json 2>&1) || setup_fail "certs issue enterprise: $FIRM_JSON"
LIAISON_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role liaison --org 南旺镇人民政府 --name 王强 --json 2>&1) || setup_fail "certs issue liaison: $LIAISON_JSON"
HALL_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role clerk --org SCJGJ --name 综合受理员 --catalog "$ROOT/catalog/sample-county.json" --json 2>&1) || setup_fail "certs issue hall clerk: $HALL_JSON"
HOUSING_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role clerk --org ZJJ --name 赵敏 --catalog "$ROOT/catalog/sample-county.json" --json 2>&1) || setup_fail "certs issue housing clerk: $HOUSING_JSON"
PAD_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role pad --org Z01 --name PAD-Z01 --json 2>&1) || setup_fail "certs issue pad: $PAD_JSON"
DISPATCHER_JSON=$("$BANJIE" certs issue --dir "$CERTS" --role dispatcher --org 12345 --name 刘红 --json 2>&1) || setup_fail "certs issue dispatcher: $DISPATCHER_JSON"
PORT=$(pick_port)
SERVER=127.0.0.1:$PORT
OFFICE=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$OFFICE_JSON")" --key "$(json_field key <<<"$OFFICE_JSON")")
CLERK=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$CLERK_JSON")" --key "$(json_field key <<<"$CLERK_JSON")")
FIRM=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$FIRM_JSON")" --key "$(json_field key <<<"$FIRM_JSON")")
LIAISON=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$LIAISON_JSON")" --key "$(json_field key <<<"$LIAISON_JSON")")
HALL=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$HALL_JSON")" --key "$(json_field key <<<"$HALL_JSON")")
HOUSING=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$HOUSING_JSON")" --key "$(json_field key <<<"$HOUSING_JSON")")
PAD=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$PAD_JSON")" --key "$(json_field key <<<"$PAD_JSON")")
DISPATCHER=(--server "$SERVER" --ca "$CERTS/ca.pem" --cert "$(json_field certificate <<<"$DISPATCHER_JSON")" --key "$(json_field key <<<"$DISPATCHER_JSON")")

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
"$BANJIE" enterprise register "$USCC" "${OFFICE[@]}" --name 汶上县鲁源机械有限公司 --industry C --scale small \
  --township 南旺镇 --contact 刘芳:0537-7212345:财务负责人 --liaison 南旺镇人民政府/王强 >"$WORK/enterprise.out" 2>&1 \
  || setup_fail "enterprise register: $(cat "$WORK/enterprise.out")"
# The hall's registry: windows A00-A09 of the market regulation bureau, comprehensive window Z01
# with its staff member, and Z01's rating pad.
for w in A00 A01 A02 A03 A04 A05 A06 A07 A08 A09; do
  "$BANJIE" window add "$w" "${OFFICE[@]}" --name "窗口$w" --hall 县政务服务中心一楼 --department SCJGJ >>"$WORK/registry.out" 2>&1 \
    || setup_fail "window add $w: $(cat "$WORK/registry.out")"
done
{ "$BANJIE" window add Z01 "${OFFICE[@]}" --name 综合受理窗口 --hall 县政务服务中心一楼 --comprehensive \
  && "$BANJIE" staff assign "${OFFICE[@]}" --org SCJGJ --person 综合受理员 --window Z01 \
  && "$BANJIE" registry device add PAD-Z01 "${OFFICE[@]}" --window Z01; } >>"$WORK/registry.out" 2>&1 \
  || setup_fail "registry: $(cat "$WORK/registry.out")"

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

# keyed LABEL KEY ERRFILE ARGS...: runs `banjie ARGS... --idempotency-key KEY --json` until it
# succeeds and prints its answer; retries the same key after any failure a crash can cause. Exit
# codes 64, 65 and 77 are recorded as violations (return 1); an abort returns 3.
keyed() {
  local label=$1 key=$2 err=$3 out rc tries=0
  shift 3
  while :; do
    [[ -e $WORK/abort ]] && return 3
    out=$("$BANJIE" "$@" --timeout 10 --idempotency-key "$key" --json 2>>"$err")
    rc=$?
    if [[ $rc == 0 ]]; then
      printf '%s\n' "$out"
      return 0
    fi
    tries=$((tries + 1))
    echo "$label: key $key: attempt $tries exited $rc" >>"$err"
    if [[ $rc == 64 || $rc == 65 || $rc == 77 ]]; then
      echo "$label: key $key: refused with exit $rc (see $(basename "$err"))" >>"$WORK/violations"
      return 1
    fi
    if (( tries >= 300 )); then
      echo "$label: key $key: still failing after $tries attempts" >>"$WORK/violations"
      return 1
    fi
    sleep 0.2
  done
}

# rating_loop ROUND: submit (for the enterprise), accept, complete, rate; each step keyed. The
# submitted case joins the case accounting (acked-rating.log); the rating goes to rated.log as
# KEY<TAB>CASE<TAB>LEVEL<TAB>JSON.
rating_loop() {
  local round=$1 n=0 base json number level code err=$WORK/client-rating.err
  local -a rate
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    base=crash-r$round-rate-$n-$RANDOM$RANDOM
    json=$(keyed "rating client" "$base-submit" "$err" case submit "${CLERK[@]}" --item "$ITEM" --applicant 张总 \
      --uscc "$USCC" --window A09 --note "crash test round $round") || return 0
    number=$(json_field number <<<"$json")
    if [[ -z $number ]]; then
      echo "rating client: key $base-submit: success without a case number: $json" >>"$WORK/violations"
      return 1
    fi
    echo "$base-submit $number" >>"$WORK/acked-rating.log"
    keyed "rating client" "$base-accept" "$err" case accept "${CLERK[@]}" "$number" >/dev/null || return 0
    keyed "rating client" "$base-complete" "$err" case complete "${CLERK[@]}" "$number" --outcome approved >/dev/null || return 0
    level=$((2 + n % 4))
    if (( n % 2 == 0 )); then
      # At the rating pad of window Z01, with the case's one-time rating code (评价码).
      code=$(json_field rating_code <<<"$json")
      [[ -n $code ]] || { echo "rating client: case $number has no rating code: $json" >>"$WORK/violations"; return 1; }
      rate=(rate "${PAD[@]}" "$number" --code "$code" --level "$level" --tag 压测)
    else
      code=-
      rate=(rate "${FIRM[@]}" "$number" --level "$level" --tag 压测)
    fi
    (( level <= 2 )) && rate+=(--comment "压测差评 $round-$n")
    json=$(keyed "rating client" "$base-rate" "$err" "${rate[@]}") || return 0
    printf '%s\t%s\t%s\t%s\t%s\n' "$base-rate" "$number" "$level" "$code" "$json" >>"$WORK/rated.log"
  done
}

# demand_loop ROUND: in turn, the enterprise raises a demand, and its liaison official records a
# visit raising one. demanded.log: KEY<TAB>raise|visit<TAB>VISIT-ID|-<TAB>DEMAND<TAB>JSON.
demand_loop() {
  local round=$1 n=0 key json number id err=$WORK/client-demand.err
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    key=crash-r$round-demand-$n-$RANDOM$RANDOM
    if (( n % 2 == 1 )); then
      json=$(keyed "demand client" "$key" "$err" demand raise "${FIRM[@]}" --category financing --department SCJGJ \
        --description "压测诉求 $round-$n") || return 0
      number=$(json_field number <<<"$json")
      id=-
    else
      json=$(keyed "demand client" "$key" "$err" visit record "$USCC" "${LIAISON[@]}" --notes "压测走访 $round-$n" \
        --demand "land:ZRZYJ:压测用地 $round-$n") || return 0
      number=$(sed -n 's/.*"demand_numbers" *: *\[ *"\([^"]*\)".*/\1/p' <<<"$json")
      id=$(json_field id <<<"$json")
    fi
    if [[ -z $number || -z $id ]]; then
      echo "demand client: key $key: success without a demand number or visit id: $json" >>"$WORK/violations"
      return 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$key" "$( [[ $id == - ]] && echo raise || echo visit )" "$id" "$number" "$json" >>"$WORK/demanded.log"
  done
}

# hall_loop ROUND: 一窗受理 at comprehensive window Z01 (a housing bureau item, ZJJ-001), then the
# bureau's 容缺 acceptance with one material pending; each step keyed. The case joins the case
# accounting (acked-hall.log); pending.log lists the cases accepted with their material pending.
hall_loop() {
  local round=$1 n=0 base json number err=$WORK/client-hall.err
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    base=crash-r$round-hall-$n-$RANDOM$RANDOM
    json=$(keyed "hall client" "$base-submit" "$err" case submit "${HALL[@]}" --item ZJJ-001 --applicant "一窗客户$round-$n" \
      --window Z01 --note "crash test round $round") || return 0
    number=$(json_field number <<<"$json")
    if [[ -z $number ]]; then
      echo "hall client: key $base-submit: success without a case number: $json" >>"$WORK/violations"
      return 1
    fi
    echo "$base-submit $number" >>"$WORK/acked-hall.log"
    keyed "hall client" "$base-accept" "$err" case accept "${HOUSING[@]}" "$number" --pending 施工合同 >/dev/null || return 0
    echo "$number" >>"$WORK/pending.log"
  done
}

# countersign_loop ROUND: the lead unit registers a draft for ZJJ, ZJJ answers it; each keyed.
# countersigned.log: DRAFT<TAB>answered|registered.
countersign_loop() {
  local round=$1 n=0 base json number err=$WORK/client-countersign.err
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    base=crash-r$round-hq-$n-$RANDOM$RANDOM
    json=$(keyed "countersign client" "$base-register" "$err" countersign register "${CLERK[@]}" --title "压测会签 $round-$n" \
      --length 1200 --unit ZJJ) || return 0
    number=$(json_field number <<<"$json")
    if [[ -z $number ]]; then
      echo "countersign client: key $base-register: success without a number: $json" >>"$WORK/violations"
      return 1
    fi
    printf '%s\tregistered\n' "$number" >>"$WORK/countersigned.log"
    keyed "countersign client" "$base-answer" "$err" countersign answer "$number" "${HOUSING[@]}" --agree >/dev/null || return 0
    printf '%s\tanswered\n' "$number" >>"$WORK/countersigned.log"
  done
}

# appeal_loop ROUND: the 12345 dispatcher registers a citizen's appeal for the market regulation
# bureau, its clerk makes the first contact and resolves it, the dispatcher's call-back closes it;
# each step keyed. appealed.log: APPEAL<TAB>registered|contacted|resolved|closed.
appeal_loop() {
  local round=$1 n=0 base json number err=$WORK/client-appeal.err
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    base=crash-r$round-qz-$n-$RANDOM$RANDOM
    json=$(keyed "appeal client" "$base-register" "$err" appeal register "${DISPATCHER[@]}" --channel 12345 --category help \
      --citizen "压测市民$round-$n" --phone 13800000000 --subject "压测诉求 $round-$n" --content "crash test round $round" \
      --department SCJGJ) || return 0
    number=$(json_field number <<<"$json")
    if [[ -z $number ]]; then
      echo "appeal client: key $base-register: success without a number: $json" >>"$WORK/violations"
      return 1
    fi
    printf '%s\tregistered\n' "$number" >>"$WORK/appealed.log"
    keyed "appeal client" "$base-contact" "$err" appeal contact "$number" "${CLERK[@]}" --note 已电话联系 >/dev/null || return 0
    printf '%s\tcontacted\n' "$number" >>"$WORK/appealed.log"
    keyed "appeal client" "$base-resolve" "$err" appeal resolve "$number" "${CLERK[@]}" --result 已办理 >/dev/null || return 0
    printf '%s\tresolved\n' "$number" >>"$WORK/appealed.log"
    keyed "appeal client" "$base-call-back" "$err" appeal call-back "$number" "${DISPATCHER[@]}" --satisfaction satisfied >/dev/null || return 0
    printf '%s\tclosed\n' "$number" >>"$WORK/appealed.log"
  done
}

start_clients() {
  CLIENT_PIDS=()
  rm -f "$WORK/stop"
  for ((c = 1; c <= CLIENTS; c++)); do
    client_loop "$1" "$c" &
    CLIENT_PIDS+=($!)
  done
  rating_loop "$1" &
  CLIENT_PIDS+=($!)
  demand_loop "$1" &
  CLIENT_PIDS+=($!)
  hall_loop "$1" &
  CLIENT_PIDS+=($!)
  countersign_loop "$1" &
  CLIENT_PIDS+=($!)
  appeal_loop "$1" &
  CLIENT_PIDS+=($!)
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
# The cases 张伟 submitted (replayed with his certificate: keys are scoped to their caller).
acked_clerk() { cat "$WORK"/acked-[0-9]*.log "$WORK"/acked-rating.log 2>/dev/null; }

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

# Ratings, demands and visits: what the database holds is exactly what was acknowledged.
RATED=0
DEMANDED=0
VISITED=0
PENDING=0
COUNTERSIGNED=0
APPEALED=0
check_mixed() { # check_mixed LABEL
  local label=$1 bad n
  touch "$WORK/rated.log" "$WORK/demanded.log"
  # Ratings: one per acknowledged key, on its own case, with the acknowledged level.
  cut -f2,3 "$WORK/rated.log" | tr '\t' ' ' | sort >"$WORK/acked.ratings"
  RATED=$(wc -l <"$WORK/acked.ratings")
  bad=$(cut -f1 "$WORK/rated.log" | sort | uniq -d | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: rating key(s) acknowledged twice: $bad"
  sql "SELECT case_number || ' ' || level FROM ratings" | sort >"$WORK/db.ratings" || fail "$label: cannot read ratings"
  bad=$(comm -23 "$WORK/acked.ratings" "$WORK/db.ratings" | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: acknowledged rating(s) missing from the database (or with another level): $bad"
  bad=$(comm -13 "$WORK/acked.ratings" "$WORK/db.ratings" | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: rating(s) in the database that no client was acknowledged for: $bad"
  n=$(sql "SELECT count(*) FROM audit_log WHERE action = 'rating.create'")
  (( n == RATED )) || fail "$label: $n rating.create audit rows for $RATED ratings"
  n=$(sql "SELECT count(*) FROM idempotency WHERE method = 'RateCase'")
  (( n == RATED )) || fail "$label: $n RateCase idempotency rows for $RATED ratings"
  # Given as acknowledged: on the pad (with the code) or by the enterprise's certificate.
  awk -F'\t' '{print $2 " " ($4 == "-" ? "ENTERPRISE" : "CODE")}' "$WORK/rated.log" | sort >"$WORK/acked.via"
  sql "SELECT case_number || ' ' || via FROM ratings" | sort >"$WORK/db.via"
  cmp -s "$WORK/acked.via" "$WORK/db.via" \
    || fail "$label: how ratings were given differs from what was acknowledged: $(diff "$WORK/acked.via" "$WORK/db.via" | head -n 4 | tr '\n' ' ')"
  local bad_ratings
  bad_ratings=$(awk '$2 <= 2' "$WORK/acked.ratings" | wc -l)
  n=$(sql "SELECT count(*) FROM rectifications r JOIN ratings g ON g.case_id = r.case_id WHERE g.level <= 2")
  local all
  all=$(sql "SELECT count(*) FROM rectifications")
  (( n == bad_ratings && all == bad_ratings )) || fail "$label: $all rectifications ($n for 差评) for $bad_ratings acknowledged 差评"

  # Demands: each acknowledged number once; visits with the demand they raised.
  cut -f4 "$WORK/demanded.log" | sort >"$WORK/acked.demands"
  DEMANDED=$(wc -l <"$WORK/acked.demands")
  bad=$(uniq -d "$WORK/acked.demands" | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: demand number(s) acknowledged for two keys: $bad"
  sql "SELECT number FROM demands" | sort >"$WORK/db.demands" || fail "$label: cannot read demands"
  bad=$(comm -23 "$WORK/acked.demands" "$WORK/db.demands" | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: acknowledged demand(s) missing from the database: $bad"
  bad=$(comm -13 "$WORK/acked.demands" "$WORK/db.demands" | head -n 3 | tr '\n' ' ')
  [[ -z $bad ]] || fail "$label: demand(s) in the database that no client was acknowledged for (a retried key applied twice?): $bad"
  n=$(sql "SELECT count(*) FROM audit_log WHERE action = 'demand.raise'")
  (( n == DEMANDED )) || fail "$label: $n demand.raise audit rows for $DEMANDED demands"
  n=$(sql "SELECT count(*) FROM idempotency WHERE method = 'RaiseDemand'")
  local raised
  raised=$(awk -F'\t' '$2 == "raise"' "$WORK/demanded.log" | wc -l)
  (( n == raised )) || fail "$label: $n RaiseDemand idempotency rows for $raised demands raised directly"
  awk -F'\t' '$2 == "visit" {print $3 " " $4}' "$WORK/demanded.log" | sort >"$WORK/acked.visits"
  VISITED=$(wc -l <"$WORK/acked.visits")
  sql "SELECT visit_id || ' ' || number FROM demands WHERE visit_id IS NOT NULL" | sort >"$WORK/db.visits"
  cmp -s "$WORK/acked.visits" "$WORK/db.visits" \
    || fail "$label: visits and their demands differ from what was acknowledged: $(diff "$WORK/acked.visits" "$WORK/db.visits" | head -n 4 | tr '\n' ' ')"
  n=$(sql "SELECT count(*) FROM visits")
  (( n == VISITED )) || fail "$label: $n visits in the database for $VISITED acknowledged"
  n=$(sql "SELECT count(*) FROM audit_log WHERE action = 'visit.record'")
  (( n == VISITED )) || fail "$label: $n visit.record audit rows for $VISITED visits"
  n=$(sql "SELECT count(*) FROM idempotency WHERE method = 'RecordVisit'")
  (( n == VISITED )) || fail "$label: $n RecordVisit idempotency rows for $VISITED visits"

  # 容缺 acceptances: each acknowledged case ACCEPTED with exactly one pending material, once; the
  # hall client's cases belong to the housing bureau and were received at Z01.
  touch "$WORK/pending.log"
  sort "$WORK/pending.log" >"$WORK/acked.pending"
  PENDING=$(wc -l <"$WORK/acked.pending")
  sql "SELECT c.number FROM case_pending_materials p JOIN cases c ON c.id = p.case_id WHERE p.material = '施工合同' AND p.state = 'PENDING'" \
    | sort >"$WORK/db.pending"
  cmp -s "$WORK/acked.pending" "$WORK/db.pending" \
    || fail "$label: 容缺 acceptances differ from what was acknowledged: $(diff "$WORK/acked.pending" "$WORK/db.pending" | head -n 4 | tr '\n' ' ')"
  n=$(sql "SELECT count(*) FROM cases WHERE number IN ($(sed "s/.*/'&'/" "$WORK/acked.pending" | paste -sd, - | sed 's/^$/NULL/')) AND state = 'ACCEPTED' AND department_code = 'ZJJ' AND window = 'Z01'")
  (( n == PENDING )) || fail "$label: $n of $PENDING 容缺 cases are ACCEPTED housing-bureau cases received at Z01"
  n=$(sql "SELECT count(*) FROM case_readers WHERE department_code = 'SCJGJ' AND reason = 'RECEIVING'")
  local hall_cases
  hall_cases=$(cat "$WORK/acked-hall.log" 2>/dev/null | wc -l)
  (( n == hall_cases )) || fail "$label: $n receiving-window readers for $hall_cases cases received at the comprehensive window"

  # Countersigns: every acknowledged draft once, every acknowledged answer recorded (and the draft
  # COMPLETE); nothing the clients were not told of.
  touch "$WORK/countersigned.log"
  awk -F'\t' '$2 == "registered" {print $1}' "$WORK/countersigned.log" | sort >"$WORK/acked.drafts"
  COUNTERSIGNED=$(wc -l <"$WORK/acked.drafts")
  sql "SELECT number FROM countersign_documents" | sort >"$WORK/db.drafts"
  cmp -s "$WORK/acked.drafts" "$WORK/db.drafts" \
    || fail "$label: countersign drafts differ from what was acknowledged: $(diff "$WORK/acked.drafts" "$WORK/db.drafts" | head -n 4 | tr '\n' ' ')"
  awk -F'\t' '$2 == "answered" {print $1}' "$WORK/countersigned.log" | sort >"$WORK/acked.answers"
  sql "SELECT d.number FROM countersign_units u JOIN countersign_documents d ON d.id = u.document_id WHERE u.answered_at IS NOT NULL AND d.state = 'COMPLETE'" \
    | sort >"$WORK/db.answers"
  cmp -s "$WORK/acked.answers" "$WORK/db.answers" \
    || fail "$label: countersign answers differ from what was acknowledged: $(diff "$WORK/acked.answers" "$WORK/db.answers" | head -n 4 | tr '\n' ' ')"
  n=$(sql "SELECT count(*) FROM audit_log WHERE action = 'countersign.answer'")
  (( n == $(wc -l <"$WORK/acked.answers") )) || fail "$label: $n countersign.answer audit rows for $(wc -l <"$WORK/acked.answers") answers"

  # Appeals (群众诉求): every acknowledged appeal once, and each acknowledged step recorded once, in
  # the state it leads to; nothing the clients were not told of.
  touch "$WORK/appealed.log"
  local step action
  for step in registered contacted resolved closed; do
    awk -F'\t' -v s=$step '$2 == s {print $1}' "$WORK/appealed.log" | sort >"$WORK/acked.appeals-$step"
  done
  APPEALED=$(wc -l <"$WORK/acked.appeals-registered")
  sql "SELECT number FROM appeals" | sort >"$WORK/db.appeals"
  cmp -s "$WORK/acked.appeals-registered" "$WORK/db.appeals" \
    || fail "$label: appeals differ from what was acknowledged: $(diff "$WORK/acked.appeals-registered" "$WORK/db.appeals" | head -n 4 | tr '\n' ' ')"
  sql "SELECT number FROM appeals WHERE contacted_at IS NOT NULL" | sort >"$WORK/db.appeals-contacted"
  sql "SELECT a.number FROM appeals a JOIN appeal_rounds r ON r.appeal_id = a.id WHERE r.round = 1 AND r.resolved_at IS NOT NULL" \
    | sort >"$WORK/db.appeals-resolved"
  sql "SELECT number FROM appeals WHERE state = 'CLOSED' AND satisfaction = 'SATISFIED'" | sort >"$WORK/db.appeals-closed"
  for step in contacted resolved closed; do
    cmp -s "$WORK/acked.appeals-$step" "$WORK/db.appeals-$step" \
      || fail "$label: appeals $step differ from what was acknowledged: $(diff "$WORK/acked.appeals-$step" "$WORK/db.appeals-$step" | head -n 4 | tr '\n' ' ')"
  done
  for action in register:registered contact:contacted resolve:resolved call_back:closed; do
    n=$(sql "SELECT count(*) FROM audit_log WHERE action = 'appeal.${action%%:*}'")
    (( n == $(wc -l <"$WORK/acked.appeals-${action##*:}") )) \
      || fail "$label: $n appeal.${action%%:*} audit rows for $(wc -l <"$WORK/acked.appeals-${action##*:}") acknowledged"
  done
  return 0
}

# A few ratings, demands and visits acknowledged before the kill, sent again with their keys:
# the very same answer, byte for byte, and nothing new (check_mixed runs afterwards).
check_replay_mixed() { # check_replay_mixed LABEL
  local label=$1 key number level json kind id again
  local -a rate
  while IFS=$'\t' read -r key number level code json; do
    if [[ $code == - ]]; then
      rate=(rate "${FIRM[@]}" "$number" --level "$level" --tag 压测)
    else
      rate=(rate "${PAD[@]}" "$number" --code "$code" --level "$level" --tag 压测)
    fi
    (( level <= 2 )) && rate+=(--comment "压测差评 replay")
    again=$("$BANJIE" "${rate[@]}" --timeout 10 --idempotency-key "$key" --json 2>&1) || fail "$label: replaying rating key $key failed: $again"
    [[ $again == "$json" ]] || fail "$label: rating key $key answered $json before the crash but now $again"
  done <"$WORK/replay.rated"
  while IFS=$'\t' read -r key kind id number json; do
    if [[ $kind == raise ]]; then
      again=$("$BANJIE" demand raise "${FIRM[@]}" --category financing --department SCJGJ --description "压测诉求 replay" \
        --timeout 10 --idempotency-key "$key" --json 2>&1) || fail "$label: replaying demand key $key failed: $again"
    else
      again=$("$BANJIE" visit record "$USCC" "${LIAISON[@]}" --notes "压测走访 replay" --demand "land:ZRZYJ:压测用地 replay" \
        --timeout 10 --idempotency-key "$key" --json 2>&1) || fail "$label: replaying visit key $key failed: $again"
    fi
    [[ $again == "$json" ]] || fail "$label: $kind key $key answered $json before the crash but now $again"
  done <"$WORK/replay.demanded"
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
  acked_clerk | shuf -n 5 >"$WORK/replay.pairs" 2>/dev/null || acked_clerk | tail -n 5 >"$WORK/replay.pairs"
  touch "$WORK/rated.log" "$WORK/demanded.log"
  shuf -n 3 "$WORK/rated.log" >"$WORK/replay.rated" 2>/dev/null || tail -n 3 "$WORK/rated.log" >"$WORK/replay.rated"
  shuf -n 4 "$WORK/demanded.log" >"$WORK/replay.demanded" 2>/dev/null || tail -n 4 "$WORK/demanded.log" >"$WORK/replay.demanded"
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
  check_mixed "$label"
  check_audit "$label"
  check_replay "$label" "$WORK/replay.pairs"
  check_replay_mixed "$label"
  check "$label (after replay)"
  check_mixed "$label (after replay)"
  replayed=$(( $(wc -l <"$WORK/replay.pairs") + $(wc -l <"$WORK/replay.rated") + $(wc -l <"$WORK/replay.demanded") ))
  log "round $round: restarted; acknowledged in all: $ACKED cases, $RATED ratings, $DEMANDED demands ($VISITED through visits), $PENDING 容缺 acceptances, $COUNTERSIGNED countersigns, $APPEALED appeals, all present once; $AUDIT; integrity ok; $replayed replayed keys gave the same answers"
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
check_mixed "after the final stop"
retried=$(cat "$WORK"/client-*.err 2>/dev/null | grep -c ' attempt ')
# "Connection refused": the server was down when the client came; anything else (reset by peer,
# closed) cut a call off after it was sent, which is what the kill is for.
cut=$(cat "$WORK"/client-*.err 2>/dev/null | grep '^banjie:' | grep -vc 'Connection refused')
log "$retried failed attempts were retried with their keys, $cut of them calls cut off mid-flight by a kill"
echo "crash test: $ROUNDS rounds in $((SECONDS - T0)) s; acknowledged $ACKED cases, $RATED ratings ($(awk -F'\t' '$4 != "-"' "$WORK/rated.log" | wc -l) with a rating code on the pad), $DEMANDED demands ($VISITED through visits), $PENDING 容缺 acceptances, $COUNTERSIGNED countersigns ($(awk -F'\t' '$2 == "answered"' "$WORK/countersigned.log" | wc -l) answered), $APPEALED appeals ($(awk -F'\t' '$2 == "closed"' "$WORK/appealed.log" | wc -l) closed after the call-back); $LOST lost, $DUPLICATED duplicated"
