#!/usr/bin/env bash
# What `RETURNING` costs SQLite per statement (docs/PERFORMANCE.md, "RETURNING id on SQLite,
# an experiment not kept"): 20,000 one-row INSERTs into a table shaped like `alerts`, in one
# transaction, with and without `RETURNING id`, and 20,000 daily-number upserts with
# `RETURNING last` against the same upsert followed by a SELECT of the row. Run by the sqlite3
# shell from a script, so that each statement's parse is in every row alike. Nothing here
# changes banjie.
#
#   cd Benchmarks && bash returning.sh            # needs sqlite3
#   ROUNDS=5 N=50000 bash returning.sh
set -euo pipefail
command -v sqlite3 >/dev/null || { echo "returning.sh: needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=${N:-20000}
sqlite3 "$work/db.sqlite" "PRAGMA journal_mode = WAL;
  CREATE TABLE alerts (id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
    department_code TEXT NOT NULL, colour TEXT NOT NULL, message TEXT NOT NULL);
  CREATE INDEX alerts_at ON alerts(at);
  CREATE TABLE case_number_sequences (day TEXT PRIMARY KEY, last INTEGER NOT NULL);" >/dev/null
# script NAME TEMPLATE: a transaction of $n statements, rolled back; in TEMPLATE, @N@ is the
# statement's number and @D@ a day of 2099 (365 of them, so that most upserts update).
script() {
  awk -v n="$n" -v t="$2" 'BEGIN {
    print "BEGIN;"
    for (i = 1; i <= n; i++) { s = t; d = sprintf("2099%03d", i % 365); gsub(/@N@/, i, s); gsub(/@D@/, d, s); print s }
    print "ROLLBACK;"
  }' >"$work/$1.sql"
}
insert="INSERT INTO alerts (at, kind, subject, department_code, colour, message) VALUES ('2026-12-01 00:00:00.000', 'k', 's@N@', 'SCJGJ', 'RED', 'm')"
upsert="INSERT INTO case_number_sequences (day, last) VALUES ('@D@', 1) ON CONFLICT(day) DO UPDATE SET last = case_number_sequences.last + 1"
script insert-returning "$insert RETURNING id;"
script insert "$insert;"
script upsert-returning "$upsert RETURNING last;"
script upsert-select "$upsert; SELECT last FROM case_number_sequences WHERE day = '@D@';"
echo "statement           round  µs per statement"
for round in $(seq "${ROUNDS:-3}"); do
  for variant in insert-returning insert upsert-returning upsert-select; do
    start=$(date +%s%N)
    sqlite3 "$work/db.sqlite" <"$work/$variant.sql" >/dev/null
    end=$(date +%s%N)
    awk -v v="$variant" -v r="$round" -v ns="$((end - start))" -v n="$n" 'BEGIN { printf "%-18s  %5d  %16.1f\n", v, r, ns / 1000 / n }'
  done
done
