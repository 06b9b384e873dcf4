#!/usr/bin/env bash
# The server's memory with a large database open (issue 7: under 200 MB at 1,000,000 cases).
# Starts banjied on DATABASE (a copy is not made: the server only reads for this), sends it
# dashboard calls through the real CLI — each month of the year, every breakdown, a watcher —
# and prints the resident set now and its high-water mark (VmRSS, VmHWM from /proc).
#
#   banjied seed --database /tmp/year-1M.sqlite --cases 1000000    # or the benchmark's file
#   scripts/dashboard-rss.sh /tmp/year-1M.sqlite
#
# BIN_DIR picks the binaries (default .build/debug; a release build uses less). Exit 1 when
# the high-water mark reaches LIMIT_MB (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:?usage: scripts/dashboard-rss.sh DATABASE}
bin=${BIN_DIR:-.build/debug}
limit=${LIMIT_MB:-200}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; kill $(cat "$work/watch" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/banjie" certs init --dir "$work/certs" >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role office --org YSB --name 李明 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/banjied" serve --certs-dir "$work/certs" --listen "127.0.0.1:$port" --database "$db" --log-level warning --metrics-listen off &
pid=$!
echo $pid > "$work/pid"
for _ in $(seq 1 300); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
office=(--server "127.0.0.1:$port" --ca "$work/certs/ca.pem" --cert "$work/certs/office-li-ming.pem" --key "$work/certs/office-li-ming.key")
rss() { awk -v f="$1" '$1 == f":" { print int($2 / 1024) }' "/proc/$pid/status"; }
echo "dashboard-rss: $(du -h "$db" | cut -f1) database, cases: $(sqlite3 "$db" 'SELECT COUNT(*) FROM cases')"
echo "dashboard-rss: after start: VmRSS $(rss VmRSS) MB"
"$bin/banjie" dashboard --watch --json "${office[@]}" >/dev/null 2>&1 &
echo $! > "$work/watch"
start=$(date +%s.%N)
calls=0
year=$(TZ=Asia/Shanghai date +%Y)
for m in 01 02 03 04 05 06 07 08 09 10 11; do
  for by in "" department item window township; do
    "$bin/banjie" dashboard --period "$year-$m" ${by:+--by $by} --json "${office[@]}" >/dev/null
    calls=$((calls + 1))
  done
done
"$bin/banjie" dashboard --from "$((year - 1))-12-01" --to "$year-11-30" --by township --json "${office[@]}" >/dev/null
"$bin/banjie" report --period "$year-10" --html "$work/report.html" "${office[@]}" >/dev/null
calls=$((calls + 2))
end=$(date +%s.%N)
now=$(rss VmRSS)
hwm=$(rss VmHWM)
echo "dashboard-rss: $calls dashboard calls (and one watcher) in $(python3 -c "print(f'{$end-$start:.1f}')") s through the CLI"
echo "dashboard-rss: VmRSS $now MB, VmHWM $hwm MB (limit $limit MB)"
[ "$hwm" -lt "$limit" ] || { echo "dashboard-rss: the high-water mark reached the limit" >&2; exit 1; }
