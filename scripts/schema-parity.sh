#!/usr/bin/env bash
# Schema parity between the two storage engines (issue 17), against a real PostgreSQL:
#
#   scripts/schema-parity.sh              # SQLite schema built from Sources/BanjieStore/Migrations/*.swift
#   scripts/schema-parity.sh FILE         # ... or read from an existing banjie SQLite database FILE,
#                                         # which is then also copied into PostgreSQL and compared
#
# Starts a throw-away cluster (scripts/postgres-cluster.sh), applies the PostgreSQL migrations in
# order with psql -v ON_ERROR_STOP=1, one transaction each, and compares tables, columns (order,
# NOT NULL, type, default), keys, foreign keys, CHECK counts, indexes and triggers with the SQLite
# schema. Then, in a second database, migrates both engines step by step with the same writes in
# between and compares every table's rows and the dashboard aggregates (scripts/engine-parity.py
# dashboard). The cluster is stopped and removed whatever happens. Exit status 1 on a difference.
#
# Needs psql, python3 and, when missing, installs postgresql (as root) through postgres-cluster.sh.
# A banjie database to compare with: any store `banjied` or the Swift tests created, e.g.
#   banjied seed --database /tmp/year.sqlite --cases 1000 (README.md), or demo/banjie.sqlite after the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

sqlite_file=""
if [ $# -gt 1 ]; then echo "usage: $0 [SQLITE_FILE]" >&2; exit 2; fi
if [ $# -eq 1 ]; then
  sqlite_file=$1
  [ -f "$sqlite_file" ] || { echo "schema-parity: $sqlite_file is not a file" >&2; exit 2; }
fi
command -v python3 >/dev/null || { echo "schema-parity: python3 is missing" >&2; exit 2; }

cluster=$(mktemp -d /tmp/banjie-parity.XXXXXX)
stop() { scripts/postgres-cluster.sh stop "$cluster" >/dev/null 2>&1 || true; rm -rf "$cluster"; }
trap stop EXIT
url=$(scripts/postgres-cluster.sh start "$cluster")
command -v psql >/dev/null || { echo "schema-parity: psql is missing" >&2; exit 2; }
echo "PostgreSQL: $url"

# Applies every PostgreSQL migration, in order, to the database at $1 (created first when $2 is "create").
migrate() {
  local target=$1
  if [ "${2:-}" = create ]; then
    psql "$url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE ${target##*/} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
  fi
  for name in V1Foundation V2Enterprises V3Ratings V4Revocations V5Awards V6Dashboard V7Registry V8Supervision \
    V9MinorPending V10HallWorkflows V11Countersign V12Townships V13Appeals V14Proposals V15Targets; do
    if ! out=$(psql "$target" -X -q -v ON_ERROR_STOP=1 --single-transaction -f "Sources/BanjieStore/Postgres/Migrations/$name.sql" 2>&1); then
      echo "schema-parity: $name.sql failed:" >&2
      echo "$out" >&2
      exit 1
    fi
    [ "${3:-}" = quiet ] || echo "  $name"
  done
}

status=0
echo "== applying Sources/BanjieStore/Postgres/Migrations/*.sql in order"
migrate "$url"

echo "== schema: SQLite against PostgreSQL"
if [ -n "$sqlite_file" ]; then
  python3 scripts/engine-parity.py schema --postgres "$url" --sqlite "$sqlite_file" || status=1
else
  python3 scripts/engine-parity.py schema --postgres "$url" || status=1
fi

echo "== the SQLite text of the dashboard triggers is the frozen migrations' (scripts/dashboard-sql.py --check)"
python3 scripts/dashboard-sql.py --check || status=1

echo "== the same writes on both engines, migrated step by step; every table and the aggregates compared"
psql "$url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE banjie_writes TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
python3 scripts/engine-parity.py dashboard --postgres "${url%/*}/banjie_writes" || status=1

if [ -n "$sqlite_file" ]; then
  echo "== $sqlite_file copied into PostgreSQL as is: every table, the audit chain, the aggregates"
  migrate "${url%/*}/banjie_copy" create quiet
  python3 scripts/engine-parity.py copy --sqlite "$sqlite_file" --postgres "${url%/*}/banjie_copy" || status=1
  echo "== $sqlite_file copied without its aggregates: PostgreSQL's triggers compute them, compared with SQLite's"
  migrate "${url%/*}/banjie_copy_triggers" create quiet
  python3 scripts/engine-parity.py copy --sqlite "$sqlite_file" --postgres "${url%/*}/banjie_copy_triggers" --through-triggers || status=1
fi

if [ "$status" -eq 0 ]; then echo "schema-parity: the engines agree"; else echo "schema-parity: the engines differ"; fi
exit "$status"
