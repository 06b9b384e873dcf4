#!/usr/bin/env bash
# Runs every test: installs what is missing, checks the module rules of docs/ARCHITECTURE.md and
# the formatting (.swift-format) and the embedded PostgreSQL migrations, builds with warnings as errors, runs the Swift test suites (real TLS
# sockets, real SQLite files, a real PostgreSQL cluster started here), then the end-to-end scripts against a real banjied: the Python
# client written from docs/PROTOCOL.md, the dashboard over a seeded year, a certificate
# rotation by SIGHUP, the printable case documents (HTML and PDF), a short kill -9 crash test, and
# on PostgreSQL: two nodes failing over, a county moved from SQLite, two nodes behind HAProxy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== module rules (docs/ARCHITECTURE.md)"
bash scripts/check-architecture.sh

echo "== formatting (swift format lint --strict, .swift-format)"
swift format lint --strict --parallel $(bash scripts/swift-files.sh)

echo "== the embedded PostgreSQL migrations match Sources/BanjieStore/Postgres/*.sql"
python3 scripts/generate-postgres-migrations.py --check

echo "== build (warnings are errors: Package.swift)"
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
swift build --build-tests >/dev/null   # fails the script if the build failed

echo "== a throw-away PostgreSQL for the second storage engine's tests (scripts/postgres-cluster.sh)"
pgdir=$(mktemp -d /tmp/banjie-ci-pg.XXXXXX)
chmod 755 "$pgdir"
trap 'bash scripts/postgres-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true' EXIT
BANJIE_TEST_POSTGRES=$(bash scripts/postgres-cluster.sh start "$pgdir" | tail -n 1)
export BANJIE_TEST_POSTGRES
echo "PostgreSQL at $BANJIE_TEST_POSTGRES"

echo "== swift test"
log=$(mktemp)
set +e
swift test --skip-build 2>&1 | tee "$log" | grep -E '^(✘|✔ Test run|✘ Test run)|error:|Fatal' 
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E 'Test run with [0-9]+ tests' "$log" | tail -n 1)
total=$(echo "$summary" | sed -E 's/.*Test run with ([0-9]+) tests.*/\1/')
failed_swift=$(grep -cE '^✘ Test "' "$log" | head -n1 || true)
rm -f "$log"
if [ "$status" -ne 0 ]; then echo "swift test failed"; exit "$status"; fi

echo "== the server suites again, every test server on its own PostgreSQL database (BANJIE_TEST_SERVER_ENGINE)"
# Left out on PostgreSQL: the two dashboard tests over a year made by `banjied seed`, which writes
# SQLite files only; the dashboard over a seeded year on PostgreSQL is compared with SQLite's by
# StoreEngineDashboardAwardTests (the year moved with migrate-store), which ran above.
log=$(mktemp)
set +e
BANJIE_TEST_SERVER_ENGINE=postgres swift test --skip-build --filter BanjieServerTests \
  --skip 'DashboardAggregateTests/(seededYear|backfill)' 2>&1 | tee "$log" \
  | grep -E '^(✘|✔ Test run|✘ Test run)|error:|Fatal'
status=${PIPESTATUS[0]}
set -e
summary_pg=$(grep -E 'Test run with [0-9]+ tests' "$log" | tail -n 1)
total_pg=$(echo "$summary_pg" | sed -E 's/.*Test run with ([0-9]+) tests.*/\1/')
rm -f "$log"
if [ "$status" -ne 0 ]; then echo "swift test on PostgreSQL failed"; exit "$status"; fi

echo "== protocol client (Python, from docs/PROTOCOL.md) against a live server"
bash scripts/protocol-client-check.sh

echo "== dashboard end to end: banjied seed, the terminal view, CSV and the HTML report"
bash scripts/report-check.sh

echo "== certificate rotation with SIGHUP against a live server"
bash scripts/tls-rotation-check.sh

echo "== the CLI as a hall uses it: golden Chinese and English output, CSV, watches across a restart"
bash scripts/cli-check.sh

echo "== printable documents: banjie case print to HTML and PDF (headless Chromium), checked with pdfinfo and pdftotext"
bash scripts/print-check.sh

echo "== crash test (short; see docs/OPERATIONS.md for the long run)"
if [ -f scripts/crash-test.sh ]; then bash scripts/crash-test.sh; fi

echo "== failover: two nodes on one PostgreSQL, kill -9 of a node, pg_ctl restart -m immediate"
bash scripts/failover-check.sh

echo "== moving a county to PostgreSQL: migrate-store of a seeded year, every dashboard on both engines (10,000 cases; see the script for 100,000)"
bash scripts/migrate-check.sh

echo "== two nodes behind HAProxy with grpc.health.v1 checks, a node killed and restarted"
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  echo "installing: haproxy"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq haproxy >/dev/null \
    || { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq haproxy >/dev/null; }
fi
bash scripts/haproxy-check.sh

echo "tests: ${total:-0} passed, 0 failed; on PostgreSQL: ${total_pg:-0} passed, 0 failed"
