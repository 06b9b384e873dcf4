# Shell helpers shared by the end-to-end checks (crash-test.sh, failover-check.sh,
# migrate-check.sh). Sourced, not run.

# A free TCP port on 127.0.0.1 (asked of the kernel; a random high port without python3).
pick_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    echo $((20000 + RANDOM % 30000))
  fi
}

# json_field NAME < json: the first "NAME": "value" of the CLI's JSON output.
json_field() {
  sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# client_tls CA_FILE CERTS_ISSUE_JSON: the CLI's TLS options for a certificate `banjie certs issue
# --json` made.
client_tls() {
  echo --ca "$1" --cert "$(json_field certificate <<<"$2")" --key "$(json_field key <<<"$2")"
}

# cluster_database NAME: starts a throw-away PostgreSQL cluster in $CLUSTER
# (scripts/postgres-cluster.sh) and creates database NAME there with the C collation banjie needs.
# Sets ADMIN_URL, PSQL and DB_URL; calls the script's setup_fail on any failure (output in $WORK).
cluster_database() {
  bash "$ROOT/scripts/postgres-cluster.sh" start "$CLUSTER" >"$WORK/cluster.out" 2>&1 || setup_fail "cluster: $(tail -n 5 "$WORK/cluster.out")"
  ADMIN_URL=$(cat "$CLUSTER/url")
  PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -n 1)
  [[ -n $PSQL ]] || setup_fail "psql not found"
  "$PSQL" -X -q "$ADMIN_URL" -c "CREATE DATABASE $1 TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" \
    >"$WORK/createdb.out" 2>&1 || setup_fail "create database: $(cat "$WORK/createdb.out")"
  DB_URL=${ADMIN_URL%/*}/$1
}
