#!/usr/bin/env bash
# Two banjied nodes behind HAProxy (issue 17; docs/OPERATIONS.md, "Two nodes behind HAProxy"):
# the deployment that page shows, run for real. HAProxy (Debian's package) balances TCP
# connections over two nodes on one PostgreSQL database and checks each node with the
# `grpc.health.v1` Health service, through `banjie health` as its external check. Then:
#   1. keyed cases are submitted through the balancer's one address: each is acknowledged;
#   2. node A is killed with SIGKILL: HAProxy marks it DOWN, and every case submitted meanwhile
#      through the same address is acknowledged (a connection refused by A is sent to B);
#   3. node A is started again: HAProxy marks it UP, and both nodes take connections again;
#   4. every acknowledged case is stored once, with its number.
#
#   swift build                     # debug binaries in .build/debug
#   scripts/haproxy-check.sh        # about 30 s
#
# A throw-away PostgreSQL cluster is started in a temporary directory (scripts/postgres-cluster.sh)
# and stopped at the end, as are HAProxy and both nodes.
#
# Options (or environment variables): --bin-dir DIR (BIN_DIR, .build/debug), --keep (KEEP=1).
# Exit 0 when every check passed, 1 on a violation (the reason is printed and the work directory
# kept), 2 on bad usage or set-up failure (HAProxy not installed: `apt-get install haproxy`).

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${BIN_DIR:-$ROOT/.build/debug}
KEEP=${KEEP:-0}

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "haproxy-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

BANJIE=$BIN_DIR/banjie
BANJIED=$BIN_DIR/banjied
for b in "$BANJIE" "$BANJIED"; do
  [[ -x $b ]] || { echo "haproxy-check: $b not found: run \`swift build\` first, or give --bin-dir / BIN_DIR" >&2; exit 2; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[[ -x $HAPROXY ]] || { echo "haproxy-check: HAProxy is not installed (apt-get install haproxy)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/banjie-haproxy.XXXXXX")
chmod 755 "$WORK"
CLUSTER=$WORK/pg
PID_A=
PID_B=
PID_LB=
FAILED=0
T0=$SECONDS

log() { printf 'haproxy check [%3ds] %s\n' $((SECONDS - T0)) "$*"; }
cleanup() {
  for pid in $PID_LB $PID_A $PID_B; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  bash "$ROOT/scripts/postgres-cluster.sh" stop "$CLUSTER" >/dev/null 2>&1
  if [[ $FAILED == 0 && $KEEP != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "haproxy check: work directory kept: $WORK (haproxy.cfg, haproxy.log, node-a.log, node-b.log)" >&2
  fi
}
trap cleanup EXIT
trap 'FAILED=1; echo "haproxy check: interrupted" >&2; exit 130' INT TERM
fail() { FAILED=1; echo "haproxy check: FAILED: $*" >&2; exit 1; }
setup_fail() { FAILED=1; echo "haproxy check: set-up failed: $*" >&2; exit 2; }

# pick_port, json_field, client_tls, cluster_database
source "$ROOT/scripts/check-lib.sh"

# --- PostgreSQL, certificates, nodes -------------------------------------------------------------

cluster_database county   # sets ADMIN_URL, PSQL, DB_URL

"$BANJIE" certs init --dir "$WORK/certs" --json >"$WORK/certs.json" 2>&1 || setup_fail "certs init: $(cat "$WORK/certs.json")"
OFFICE_JSON=$("$BANJIE" certs issue --dir "$WORK/certs" --role office --org YSB --name 李明 --json 2>&1) || setup_fail "office: $OFFICE_JSON"
CLERK_JSON=$("$BANJIE" certs issue --dir "$WORK/certs" --role clerk --org SCJGJ --name 张伟 \
  --catalog "$ROOT/catalog/sample-county.json" --json 2>&1) || setup_fail "clerk: $CLERK_JSON"
# The balancer's own certificate: a monitor, which may do nothing but ask for health (docs/DOMAIN.md §11).
LB_JSON=$("$BANJIE" certs issue --dir "$WORK/certs" --role monitor --org LB01 --name haproxy-lb01 --json 2>&1) || setup_fail "balancer: $LB_JSON"
read -r -a OFFICE_TLS <<<"$(client_tls "$WORK/certs/ca.pem" "$OFFICE_JSON")"
read -r -a CLERK_TLS <<<"$(client_tls "$WORK/certs/ca.pem" "$CLERK_JSON")"
NODE_A_PORT=$(pick_port)
NODE_B_PORT=$(pick_port)
LB_PORT=$(pick_port)
LB=127.0.0.1:$LB_PORT

start_node() { # start_node NAME PORT: sets PID_A or PID_B
  local name=$1 port=$2 pid
  "$BANJIED" serve --certs-dir "$WORK/certs" --listen "127.0.0.1:$port" --metrics-listen off --database "$DB_URL" \
    --log-level info >>"$WORK/node-$name.log" 2>&1 &
  pid=$!
  if [[ $name == a ]]; then PID_A=$pid; else PID_B=$pid; fi
  local deadline=$((SECONDS + 60))
  until "$BANJIE" health --server "127.0.0.1:$port" "${CLERK_TLS[@]}" --timeout 2 >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || setup_fail "node $name exited at start-up: $(tail -n 5 "$WORK/node-$name.log")"
    (( SECONDS < deadline )) || setup_fail "node $name did not answer health checks within 60 s"
    sleep 0.2
  done
}
start_node a "$NODE_A_PORT"
start_node b "$NODE_B_PORT"
"$BANJIE" catalog import --server "127.0.0.1:$NODE_A_PORT" "${OFFICE_TLS[@]}" "$ROOT/catalog/sample-county.json" >"$WORK/catalog.out" 2>&1 \
  || setup_fail "catalog import: $(cat "$WORK/catalog.out")"

# --- HAProxy, as docs/OPERATIONS.md shows it -----------------------------------------------------

# The external check: HAProxy runs it with PROXY_ADDRESS PROXY_PORT SERVER_ADDRESS SERVER_PORT in
# a cleared environment; `banjie health` exits 0 only when the node answers SERVING.
cat >"$WORK/banjie-health-check" <<EOF
#!/bin/sh
exec "$BANJIE" health --server "\$3:\$4" --ca "$WORK/certs/ca.pem" \\
  --cert "$(json_field certificate <<<"$LB_JSON")" --key "$(json_field key <<<"$LB_JSON")" --timeout 2 >/dev/null 2>&1
EOF
chmod 755 "$WORK/banjie-health-check"
cat >"$WORK/haproxy.cfg" <<EOF
global
    log stdout format raw local0 info
    external-check
    insecure-fork-wanted

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 5s
    retries 2
    option redispatch 1

frontend banjie
    bind 127.0.0.1:$LB_PORT
    default_backend banjied

backend banjied
    balance roundrobin
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $WORK/banjie-health-check
    default-server inter 2s fall 2 rise 2 on-marked-down shutdown-sessions
    server a 127.0.0.1:$NODE_A_PORT check
    server b 127.0.0.1:$NODE_B_PORT check
EOF
"$HAPROXY" -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy-config-check.out" 2>&1 || setup_fail "haproxy -c: $(tail -n 5 "$WORK/haproxy-config-check.out")"
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PID_LB=$!
deadline=$((SECONDS + 30))
until "$BANJIE" health --server "$LB" "${CLERK_TLS[@]}" --timeout 2 >/dev/null 2>&1; do
  kill -0 "$PID_LB" 2>/dev/null || setup_fail "haproxy exited: $(tail -n 5 "$WORK/haproxy.log")"
  (( SECONDS < deadline )) || setup_fail "no answer through haproxy within 30 s: $(tail -n 5 "$WORK/haproxy.log")"
  sleep 0.2
done
log "haproxy on $LB in front of nodes a (:$NODE_A_PORT) and b (:$NODE_B_PORT), on $DB_URL"

# --- load through the balancer -------------------------------------------------------------------

submit() { # submit LABEL COUNT: keyed cases through the balancer, each retried until acknowledged
  local label=$1 count=$2 i key out number tries
  for i in $(seq 1 "$count"); do
    key=haproxy-$label-$i-$RANDOM$RANDOM
    tries=0
    until out=$("$BANJIE" case submit --server "$LB" "${CLERK_TLS[@]}" --timeout 10 --item SCJGJ-002 --applicant "客户$i" \
      --window A01 --idempotency-key "$key" --json 2>>"$WORK/client.err"); do
      tries=$((tries + 1))
      (( tries < 20 )) || fail "case $key ($label) was not acknowledged through haproxy after $tries attempts: $(tail -n 2 "$WORK/client.err")"
      sleep 0.3
    done
    number=$(json_field number <<<"$out")
    [[ -n $number ]] || fail "case $key ($label): success without a case number: $out"
    echo "$key $number" >>"$WORK/acked.txt"
  done
}
# Connections per node as HAProxy's log shows them (option tcplog: "banjie banjied/a ...", written
# when a connection ends).
served() { grep -c "banjied/$1 " "$WORK/haproxy.log" || true; }
# wait_served NODE AT_LEAST: until HAProxy has logged that many connections to NODE (5 s at most).
wait_served() {
  local deadline=$((SECONDS + 5))
  while (( $(served "$1") < $2 && SECONDS < deadline )); do sleep 0.1; done
  (( $(served "$1") >= $2 ))
}
# State changes of a node HAProxy has logged ("Server banjied/a is DOWN").
marked() { grep -c "Server banjied/$1 is $2" "$WORK/haproxy.log" || true; }

submit up 10
wait_served a 1 && wait_served b 1 || fail "haproxy did not spread connections over both nodes (a: $(served a), b: $(served b))"
log "phase 1: 10 cases through haproxy with both nodes up (connections logged: a $(served a), b $(served b))"

downs=$(marked a DOWN)
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
PID_A=
submit a-killed 10
deadline=$((SECONDS + 15))
until (( $(marked a DOWN) > downs )); do
  (( SECONDS < deadline )) || fail "haproxy did not mark node a DOWN within 15 s of its death: $(grep "banjied/a" "$WORK/haproxy.log" | tail -n 3)"
  sleep 0.2
done
log "phase 2: node a killed; haproxy marked it DOWN; 10 cases through haproxy all acknowledged"
before=$(served b)
submit a-down 6
wait_served b $((before + 6)) || fail "with a DOWN, haproxy did not send every connection to b"

ups=$(marked a UP)
start_node a "$NODE_A_PORT"
deadline=$((SECONDS + 15))
until (( $(marked a UP) > ups )); do
  (( SECONDS < deadline )) || fail "haproxy did not mark node a UP within 15 s of its restart"
  sleep 0.2
done
before=$(served a)
submit a-back 6
wait_served a $((before + 1)) || fail "node a is UP again but haproxy sent it no connection"
log "phase 3: node a restarted; haproxy marked it UP and sends it connections again"

# --- checks --------------------------------------------------------------------------------------

keys=$(wc -l <"$WORK/acked.txt")
stored=$("$PSQL" -X -q -A -t "$DB_URL" -c "SELECT COUNT(*) FROM cases") || fail "cannot count cases"
[[ $stored == "$keys" ]] || fail "$keys cases acknowledged, $stored stored"
"$PSQL" -X -q -A -t "$DB_URL" -c "SELECT number FROM cases ORDER BY number" >"$WORK/stored.txt" || fail "cannot list cases"
cut -d' ' -f2 "$WORK/acked.txt" | LC_ALL=C sort | diff -q - "$WORK/stored.txt" >/dev/null || fail "the stored case numbers differ from the acknowledged ones"
out=$("$BANJIE" admin audit verify --server "$LB" "${OFFICE_TLS[@]}" 2>&1) || fail "audit verify through haproxy: $out"
log "passed: $keys cases acknowledged through haproxy, each stored once with its number; audit chain verifies"
