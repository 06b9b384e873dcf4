#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests (issue 17): one data directory, one free loopback port,
# trust authentication from 127.0.0.1 only, no Unix socket, fsync on, TLS offered (a throw-away CA
# made here: DIR/ca.pem, also readable through SQL as pg_read_file('ca.pem')).
#
#   scripts/postgres-cluster.sh start DIR   # prints postgres://banjie@127.0.0.1:PORT/banjie (also in DIR/url)
#   scripts/postgres-cluster.sh stop DIR    # stops the server (pg_ctl stop -m fast) and removes DIR
#
# DIR is created when missing and must be reachable by the user the server runs as (a directory
# under /tmp is; one under /root is not). PostgreSQL refuses to run as root, so as root the server
# runs as the `postgres` user (runuser -u postgres); as any other user it runs as that user. The
# cluster's superuser and database are both `banjie`. The cluster is initialised with the C locale
# and UTF-8, so text compares and sorts byte by byte as SQLite's BINARY collation does.
#
# When no initdb is found under /usr/lib/postgresql/*/bin, `start` installs Debian's `postgresql`
# package (as root) with apt-get.
set -euo pipefail

die() { echo "postgres-cluster: $*" >&2; exit 1; }

usage() { die "usage: $0 start DIR | stop DIR"; }

[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -n "$dir" ] || usage
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
dir="${dir%/}"
case "$dir" in "" | / | /tmp | /root | /home | /usr | /var | /etc) die "refusing to use $dir as the cluster directory" ;; esac

marker=".banjie-postgres-cluster"
superuser=banjie
database=banjie

# The newest PostgreSQL's binaries, installing the package first when there are none.
find_bindir() {
  local found=""
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && found=$candidate
  done
  if [ -z "$found" ] && command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    found=$(pg_config --bindir)
  fi
  printf '%s' "$found"
}

bindir=$(find_bindir)
if [ -z "$bindir" ] && [ "$command" = start ]; then
  [ "$(id -u)" -eq 0 ] || die "initdb not found under /usr/lib/postgresql/*/bin; install it as root: apt-get install -y postgresql"
  echo "postgres-cluster: installing postgresql with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y postgresql >/dev/null 2>&1; then
    apt-get update >/dev/null 2>&1 || die "apt-get update failed"
    apt-get install -y postgresql >/dev/null 2>&1 || die "apt-get install -y postgresql failed"
  fi
  bindir=$(find_bindir)
  [ -n "$bindir" ] || die "postgresql is installed but initdb is still not under /usr/lib/postgresql/*/bin"
fi

# Runs a PostgreSQL binary as the cluster's owner: `postgres` when we are root, else ourselves.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  getent passwd "$owner" >/dev/null || die "user postgres does not exist (is the postgresql package installed?)"
  as_owner() { runuser -u "$owner" -- "$@"; }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi

# A loopback port nothing listens on: bind to port 0 and read what the kernel gave, or, without
# Python, probe random ports until a connection is refused.
free_port() {
  local python
  for python in python3 /usr/bin/python3; do
    if command -v "$python" >/dev/null 2>&1 && "$python" -c 'import socket' >/dev/null 2>&1; then
      "$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
      return
    fi
  done
  local port tries
  for tries in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "found no free loopback port"
}

start() {
  if [ -e "$dir/data/postmaster.pid" ]; then die "a server already runs in $dir (stop it first)"; fi
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && [ ! -e "$dir/$marker" ]; then
    die "$dir exists and is not empty"
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown "$owner": "$dir"; fi
  chmod 700 "$dir"
  as_owner test -w "$dir" || die "$dir is not writable by user $owner (use a directory under /tmp)"
  as_owner touch "$dir/$marker"

  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    as_owner "$bindir/initdb" -D "$dir/data" -U "$superuser" --auth=trust --encoding=UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
  fi
  # Only TCP from 127.0.0.1, without a password; no other line.
  as_owner sh -c "printf 'host all all 127.0.0.1/32 trust\n' > '$dir/data/pg_hba.conf'"
  # TLS is offered (clients may still connect in the clear): a CA of this cluster's own signs the
  # server's certificate for 127.0.0.1 and localhost (the TLS tests verify against DIR/ca.pem).
  if [ ! -f "$dir/data/server.crt" ]; then
    command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
    as_owner sh -c "cd '$dir/data' && umask 077 \
      && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj '/CN=banjie test PostgreSQL CA' \
           -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -keyout ca.key -out ca.pem \
      && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=127.0.0.1' -keyout server.key -out server.csr \
      && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext \
      && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile server.ext -out server.crt \
      && rm -f ca.key server.csr server.ext ca.srl && chmod 644 ca.pem server.crt" >"$dir/tls.log" 2>&1 \
      || die "could not make the cluster's TLS certificate; see $dir/tls.log"
  fi
  cp "$dir/data/ca.pem" "$dir/ca.pem"

  local attempt port=""
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    as_owner sh -c "cat > '$dir/data/postgresql.auto.conf'" <<EOF
# Written by scripts/postgres-cluster.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 1000
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      break
    fi
    port=""
    # Another process may have taken the port between the probe and the start: try another.
    grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null || break
  done
  [ -n "$port" ] || die "the server did not start; see $dir/server.log"

  if ! as_owner "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$superuser" -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE $database TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" >"$dir/createdb.log" 2>&1; then
    grep -q "already exists" "$dir/createdb.log" || die "could not create database $database; see $dir/createdb.log"
  fi
  local url="postgres://$superuser@127.0.0.1:$port/$database"
  as_owner sh -c "printf '%s\n' '$url' > '$dir/url'"
  echo "$url"
}

stop() {
  [ -d "$dir" ] || die "$dir does not exist"
  [ -e "$dir/$marker" ] || die "$dir was not made by $0 start; not touching it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    [ -n "$bindir" ] || die "pg_ctl not found under /usr/lib/postgresql/*/bin"
  fi
  # A server that already died leaves its pid file behind: only a running one is stopped.
  if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
      # A postmaster killed with -9 can linger as a zombie nobody reaps; pg_ctl waits for it in vain.
      local pid
      pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
      if [ -n "$pid" ] && [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; then
        die "pg_ctl stop failed; see $dir/server.log"
      fi
    fi
  fi
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
