#!/usr/bin/env bash
# What the dashboard's insert trigger costs per new case, measured in SQLite alone
# (docs/PERFORMANCE.md, "Where a case mutation's writer time goes"). A seeded year is copied
# three ways and 3,840 new cases are inserted into each by one INSERT … SELECT inside a
# transaction that is rolled back:
#   current  the shipped trigger (every dimension's row of dashboard_daily, 90 columns, upserted)
#   none     no insert trigger (the row and its indexes only)
#   narrow   the same six upserts of the received count into a five-column table
#   day      narrow, with the stored received_day instead of date(received_at, '+8 hours')
# The difference between the rows is the trigger's cost per case. Nothing here changes banjie.
#
#   cd Benchmarks && bash dashboard-trigger.sh            # needs sqlite3 and a built banjied
#   ROUNDS=5 bash dashboard-trigger.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { echo "dashboard-trigger.sh: needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
banjied=${BANJIED:-.build/debug/banjied}
[ -x "$banjied" ] || swift build --product banjied
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$banjied" seed --database "$work/year.sqlite" --cases 20000 --catalog catalog/sample-county.json --seed 7 >/dev/null
# The 64 source rows look like new cases (received, no clock yet); the UPDATE triggers are dropped
# so that this set-up does not count.
sqlite3 "$work/year.sqlite" "
  DROP TRIGGER dashboard_case_received; DROP TRIGGER dashboard_case_accepted;
  DROP TRIGGER dashboard_case_completed; DROP TRIGGER dashboard_case_open;
  UPDATE cases SET state = 'RECEIVED', accepted_at = NULL, completed_at = NULL, due_at = NULL, colour = NULL,
    one_day = NULL, handling_seconds = NULL, handling_bucket = NULL, outcome = NULL WHERE id <= 64;"
# The six dimensions' rows of a new case's received count, its day computed by `$1`.
received() {
  local day=$1
  echo "VALUES ('department', NEW.department_code, NEW.department_code, $day, 1),
  ('item', NEW.item_code, NEW.department_code, $day, 1), ('window', NEW.window, NEW.department_code, $day, 1),
  ('township', NEW.township, NEW.department_code, $day, 1), ('channel', NEW.channel, NEW.department_code, $day, 1),
  ('trip', 'other', NEW.department_code, $day, 1)"
}
for variant in current none narrow day; do cp "$work/year.sqlite" "$work/$variant.sqlite"; done
sqlite3 "$work/none.sqlite" "DROP TRIGGER dashboard_case_insert"
# A five-column table of received counts and an insert trigger that upserts into it: narrow DB DAY.
narrow() {
  sqlite3 "$1" "
    DROP TRIGGER dashboard_case_insert;
    CREATE TABLE narrow (dim TEXT NOT NULL, key TEXT NOT NULL, department_code TEXT NOT NULL, day TEXT NOT NULL,
      received INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (dim, day, department_code, key)) WITHOUT ROWID;
    INSERT INTO narrow SELECT dim, key, department_code, day, received FROM dashboard_daily;
    CREATE TRIGGER dashboard_case_insert AFTER INSERT ON cases BEGIN
      INSERT INTO narrow (dim, key, department_code, day, received) $(received "$2")
      ON CONFLICT (dim, day, department_code, key) DO UPDATE SET received = received + 1;
    END;"
}
narrow "$work/narrow.sqlite" "date(NEW.received_at, '+8 hours')"
narrow "$work/day.sqlite" NEW.received_day
columns=$(sqlite3 "$work/year.sqlite" "SELECT group_concat(name, ', ') FROM pragma_table_info('cases') WHERE name <> 'id'")
values=$(sqlite3 "$work/year.sqlite" "SELECT group_concat(CASE name
  WHEN 'number' THEN 'number || ''-'' || r.value' WHEN 'rating_code' THEN 'rating_code || r.value'
  WHEN 'received_at' THEN 'datetime(received_at, ''+'' || (r.value % 30) || '' days'')'
  WHEN 'received_day' THEN 'date(received_at, ''+8 hours'', ''+'' || (r.value % 30) || '' days'')' ELSE name END, ', ')
  FROM pragma_table_info('cases') WHERE name <> 'id'")
echo "variant   round  ms for 3840 cases  µs per case"
for round in $(seq "${ROUNDS:-3}"); do
  for variant in current none narrow day; do
    seconds=$({
      echo ".timer on"
      echo "BEGIN;"
      echo "INSERT INTO cases ($columns) SELECT $values FROM cases, generate_series(1, 60) r WHERE id <= 64;"
      echo "ROLLBACK;"
    } | sqlite3 "$work/$variant.sqlite" | grep -o 'real [0-9.]*' | sed -n 2p | cut -d' ' -f2)
    awk -v v="$variant" -v r="$round" -v s="$seconds" 'BEGIN { printf "%-8s  %5d  %17.0f  %11.1f\n", v, r, s * 1000, s * 1e6 / 3840 }'
  done
done
