#!/usr/bin/env bash
# The CLI as a service hall uses it, end to end against a live banjied on a fresh database with a
# simulated clock that stands still (demo clock at 2026-12-01 09:00, speed 0.001):
#   - golden output: `case show`, `case list`, `alerts`, `calendar show`, an error and `--help`, in Chinese
#     (LANG=zh_CN.UTF-8) and in English (LANG=C), with NO_COLOR set, compared with the files in
#     Tests/golden/ (run with --update to rewrite them after a deliberate change, then review
#     the diff);
#   - NO_COLOR: no escape sequence in any of that output;
#   - the calendar: `calendar show` keeps its columns after 休 and 班 marks (golden: shipped
#     2026-02, provisional 2027-02 with its statutory Spring Festival); an import that makes a
#     statutory holiday a working day is refused (exit 65, named, nothing written) unless forced
#     with a reason, which the audit row keeps;
#   - input as typed: a full-width case number and window (Ａ０３, ３７０８３０－…) find the case;
#   - CSV: `case list --csv` opened with Python's csv module: the UTF-8 BOM, commas, quotes and
#     a line break in a Chinese applicant's name round-trip, and the rows equal `--json`'s;
#   - live views that survive a restart: `alerts --watch` and `dashboard --watch` run while
#     banjied is stopped and started again with the clock past a case's deadline; both say they
#     lost the connection, reconnect, and the red alert raised in that window arrives.
# Binaries from BIN_DIR (default .build/debug). Prints "cli check: ok" when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN_DIR:-.build/debug}
update=0
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --update) update=1; shift ;;
    --keep) keep=1; shift ;;
    *) echo "cli-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
unset BANJIE_LANG BANJIE_PROFILE BANJIE_SERVER BANJIE_CA BANJIE_CERT BANJIE_KEY LC_ALL LC_MESSAGES
export NO_COLOR=1
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null || true
  if [ "$keep" = 1 ]; then echo "cli-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "cli-check: $*" >&2; exit 1; }

"$bin/banjie" certs init --dir "$work/certs" >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role office --org YSB --name 李明 >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role clerk --org SCJGJ --name 张伟 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serve() { # simulated start
  "$bin/banjied" serve --certs-dir "$work/certs" --listen "127.0.0.1:$port" --database "$work/banjie.sqlite" \
    --log-level warning --metrics-listen off --sweep-interval 1 --simulate-from "$1" --simulate-speed 0.001 >>"$work/server.log" 2>&1 &
  echo $! >"$work/pid"
  for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && return; sleep 0.1; done
  fail "banjied did not start: $(tail -5 "$work/server.log")"
}
stop() { kill "$(cat "$work/pid")"; wait "$(cat "$work/pid")" 2>/dev/null || true; rm -f "$work/pid"; }
serve 2026-12-01T09:00:00+08:00
office=(--server "127.0.0.1:$port" --ca "$work/certs/ca.pem" --cert "$work/certs/office-li-ming.pem" --key "$work/certs/office-li-ming.key")
clerk=(--server "127.0.0.1:$port" --ca "$work/certs/ca.pem" --cert "$work/certs/clerk-zhang-wei.pem" --key "$work/certs/clerk-zhang-wei.key")
zh() { LANG=zh_CN.UTF-8 "$bin/banjie" "$@"; }
en() { LANG=C "$bin/banjie" "$@"; }

zh catalog import catalog/sample-county.json "${office[@]}" >/dev/null
# Typed as a hall's keyboard does: full-width window; a name with a comma, quotes and a line break.
zh case submit --item scjgj-002 --applicant '王小二' --window 'Ａ０３' "${clerk[@]}" >/dev/null
zh case submit --item SCJGJ-003 --applicant $'汶上县"鲁源"机械,有限公司\n第二车间' --uscc 91370830000001001N --window A03 "${clerk[@]}" >/dev/null
zh case accept '３７０８３０－２０２６１２０１－０００００１' "${clerk[@]}" >/dev/null || fail "a full-width case number was not found"

# Golden output, both languages.
golden=Tests/golden
mkdir -p "$work/out"
for lang in zh en; do
  $lang case show 370830-20261201-000001 "${clerk[@]}" >"$work/out/case-show.$lang.txt"
  # The rating code (评价码) is on the receipt only, never in `case show` (docs/DOMAIN.md §21).
  if grep -qE '^(评价码|rating code)' "$work/out/case-show.$lang.txt"; then fail "case show prints the rating code"; fi
  $lang case list "${clerk[@]}" >"$work/out/case-list.$lang.txt"
  { $lang calendar show 2026-02 "${clerk[@]}"; $lang calendar show 2027-02 "${clerk[@]}"; } >"$work/out/calendar-show.$lang.txt"
  set +e
  $lang case accept 370830-20261201-000099 "${clerk[@]}" >"$work/out/error.$lang.txt" 2>&1
  code=$?
  set -e
  [ "$code" = 65 ] || fail "an unknown case exited $code, not 65"
  # The request id changes on every call.
  sed -i -E 's/(\[请求编号|\[request id) [a-z0-9]+\]/\1 …]/' "$work/out/error.$lang.txt"
  $lang case --help >"$work/out/case-help.$lang.txt"
  set +e
  $lang case list --frm x >"$work/out/usage-error.$lang.txt" 2>&1
  code=$?
  $lang case list --from 2026-13-01 >>"$work/out/usage-error.$lang.txt" 2>&1
  code2=$?
  set -e
  [ "$code" = 64 ] && [ "$code2" = 64 ] || fail "usage errors exited $code and $code2, not 64"
done
grep -q '已受理' "$work/out/case-show.zh.txt" || fail "case show in Chinese lacks 已受理"
grep -q 'accepted' "$work/out/case-show.en.txt" || fail "case show in English lacks accepted"
grep -q '用法' "$work/out/case-help.zh.txt" || fail "Chinese --help lacks 用法"
grep -q 'USAGE' "$work/out/case-help.en.txt" || fail "English --help lacks USAGE"
grep -q 'A03' "$work/out/case-list.zh.txt" || fail "the full-width window was not normalised"
# A calendar import that lacks the 2027 Spring Festival and works its first day: refused, then forced.
printf '%s' '{"year":2027,"holidays":["2027-01-01"],"workdays":["2027-02-06"]}' >"$work/2027.json"
set +e
refused=$(zh calendar import "$work/2027.json" "${office[@]}" 2>&1)
code=$?
set -e
[ "$code" = 65 ] || fail "an implausible calendar import exited $code, not 65: $refused"
echo "$refused" | grep -q '2027-02-05（春节）' || fail "the refusal does not name the missing Spring Festival day: $refused"
echo "$refused" | grep -q '2027-02-06（春节）' || fail "the refusal does not name the worked Spring Festival day: $refused"
month=$(zh calendar show 2027-02 "${clerk[@]}")
echo "$month" | grep -q '（暂定）' || fail "a refused calendar import was written: $month"
forced=$(en calendar import "$work/2027.json" --force --reason checked-against-the-notice "${office[@]}" 2>&1) || fail "a forced import failed: $forced"
echo "$forced" | grep -q '^warning: imported despite the check: 2027-02-05 (Spring Festival)' || fail "a forced import did not warn: $forced"
month=$(en calendar show 2027-02 "${clerk[@]}")
if echo "$month" | grep -q 'provisional'; then fail "a forced import was not written: $month"; fi
audit=$(en admin audit list --entity calendar_year --entity-id 2027 --json "${office[@]}")
echo "$audit" | grep -q 'checked-against-the-notice' || fail "the audit row of a forced import lacks its reason: $audit"
echo "cli-check: an implausible calendar import is refused, and a forced one warns and is audited"
# CSV as Excel opens it, against the JSON of the same call.
"$bin/banjie" case list --csv "${clerk[@]}" >"$work/cases.csv"
"$bin/banjie" case list --json "${clerk[@]}" >"$work/cases.json"
python3 - "$work/cases.csv" "$work/cases.json" <<'EOF' || fail "case list --csv"
import csv, io, json, sys
raw = open(sys.argv[1], "rb").read()
assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
cases = json.load(open(sys.argv[2], encoding="utf-8")).get("cases", [])
assert len(rows) == len(cases) == 2, (len(rows), len(cases))
assert [r["number"] for r in rows] == [c["number"] for c in cases]
assert [r["applicant"] for r in rows] == [c["applicant"] for c in cases]
assert '汶上县"鲁源"机械,有限公司\n第二车间' in [r["applicant"] for r in rows], [r["applicant"] for r in rows]
assert b"\r\n" in raw, "lines are not CRLF"
print("cli-check: CSV has a BOM, RFC 4180 quoting and the JSON's rows")
EOF

# Every other list the hall keeps as a ledger: CSV rows equal the JSON list of the same call.
zh enterprise register 91370830000001001N --name '汶上县"鲁源"机械,有限公司' --industry C --scale small --township 南旺镇 "${office[@]}" >/dev/null
lists=(
  "catalog items|office" "catalog departments|office" "enterprise list|office" "enterprise townships|office"
  "case history 370830-20261201-000001|clerk" "rectification list|office" "award list|office" "demand list|office"
)
for entry in "${lists[@]}"; do
  command=${entry%|*}; who=${entry#*|}
  if [ "$who" = office ]; then creds=("${office[@]}"); else creds=("${clerk[@]}"); fi
  # shellcheck disable=SC2086
  "$bin/banjie" $command --csv "${creds[@]}" >"$work/list.csv" || fail "$command --csv exited $?"
  # shellcheck disable=SC2086
  "$bin/banjie" $command --json "${creds[@]}" >"$work/list.json" || fail "$command --json exited $?"
  python3 - "$work/list.csv" "$work/list.json" "$command" <<'EOF2' || fail "$command --csv"
import csv, io, json, sys
raw = open(sys.argv[1], "rb").read()
assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
assert rows and all(len(r) == len(rows[0]) for r in rows), "ragged rows"
doc = json.load(open(sys.argv[2], encoding="utf-8"))
lists = [v for v in doc.values() if isinstance(v, list)]
n = len(lists[0]) if len(lists) == 1 else 0
assert len(rows) - 1 == n, f"{len(rows) - 1} CSV rows, {n} in the JSON"
EOF2
done
echo "cli-check: ${#lists[@]} more lists as CSV: BOM, even rows, the JSON's counts"

# Live views across a restart. The clerk's case SCJGJ-002 (1 working day) accepted on Tue
# 2026-12-01 09:00 is due Wed 2026-12-02 17:00; banjied comes back at Thu 09:00, so its first
# sweep raises the red alert while the watchers are still waiting to reconnect.
"$bin/banjie" alerts --watch --json "${clerk[@]}" >"$work/alerts.out" 2>"$work/alerts.err" &
pids+=($!)
LANG=zh_CN.UTF-8 "$bin/banjie" dashboard --watch --json "${office[@]}" >"$work/dashboard.out" 2>"$work/dashboard.err" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/dashboard.out" ] && break; sleep 0.1; done
[ -s "$work/dashboard.out" ] || fail "dashboard --watch printed nothing"
before=$(wc -l <"$work/dashboard.out")
stop
sleep 1.5
serve 2026-12-03T09:00:00+08:00
for _ in $(seq 1 300); do
  grep -q '"case.red"' "$work/alerts.out" 2>/dev/null && [ "$(wc -l <"$work/dashboard.out")" -gt "$before" ] && break
  sleep 0.1
done
grep -q '"case.red"' "$work/alerts.out" || fail "the red alert raised during the restart did not arrive: $(cat "$work/alerts.out" "$work/alerts.err")"
[ "$(wc -l <"$work/dashboard.out")" -gt "$before" ] || fail "dashboard --watch did not come back: $(cat "$work/dashboard.err")"
grep -q 'reconnect' "$work/alerts.err" || fail "alerts --watch did not say it was reconnecting: $(cat "$work/alerts.err")"
grep -q '重新连接' "$work/dashboard.err" || fail "dashboard --watch did not say so in Chinese: $(cat "$work/dashboard.err")"
[ "$(grep -c '"case.red"' "$work/alerts.out")" = 1 ] || fail "the red alert arrived more than once"
# `alerts` without --watch: the last 24 hours, then exit 0 (golden, both languages).
for lang in zh en; do
  $lang alerts "${clerk[@]}" >"$work/out/alerts.$lang.txt" || fail "alerts without --watch exited $?"
done
grep -q '超期' "$work/out/alerts.zh.txt" || fail "alerts in Chinese lack 超期: $(cat "$work/out/alerts.zh.txt")"
if grep -lq $'\x1b\[' "$work"/out/*; then fail "escape sequences with NO_COLOR set: $(grep -l $'\x1b\[' "$work"/out/*)"; fi
if [ "$update" = 1 ]; then
  mkdir -p "$golden" && cp "$work"/out/* "$golden"/ && echo "cli-check: golden files rewritten in $golden"
else
  for f in "$work"/out/*; do
    diff -u "$golden/$(basename "$f")" "$f" >&2 || fail "$(basename "$f") differs from $golden (run scripts/cli-check.sh --update after a deliberate change)"
  done
fi

for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done

# Several servers (docs/OPERATIONS.md, "Several server addresses"): the first of the list cannot be reached,
# the second answers; the move is said on standard error, and the mutation keeps its key.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dead=$(free_port)
dead2=$(free_port)
listed=(--server "127.0.0.1:$dead,127.0.0.1:$port" --ca "$work/certs/ca.pem" --cert "$work/certs/clerk-zhang-wei.pem" --key "$work/certs/clerk-zhang-wei.key")
first=$(zh case submit --item SCJGJ-002 --applicant 故障转移 --window A03 --idempotency-key failover-check --json "${listed[@]}" 2>"$work/failover.err") \
  || fail "a submit with a dead first server failed: $(cat "$work/failover.err")"
grep -q "服务器 127.0.0.1:$dead 无法连接或连接中断，改用 127.0.0.1:$port" "$work/failover.err" || fail "the failover was not said: $(cat "$work/failover.err")"
again=$(zh case submit --item SCJGJ-002 --applicant 故障转移 --window A03 --idempotency-key failover-check --json "${clerk[@]}")
python3 - "$first" "$again" <<'EOF' || fail "the same key after a failover made a second case"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
number = lambda v: v.get("number") or v.get("case", {}).get("number")
assert number(a) and number(a) == number(b), (number(a), number(b))
EOF
set +e
alldown=$(zh health --server "127.0.0.1:$dead,127.0.0.1:$dead2" --ca "$work/certs/ca.pem" --cert "$work/certs/office-li-ming.pem" --key "$work/certs/office-li-ming.key" 2>&1); code=$?
set -e
[ "$code" = 69 ] || fail "a list of stopped servers exited $code, not 69: $alldown"
echo "$alldown" | tail -1 | grep -q "所列服务器 127.0.0.1:$dead, 127.0.0.1:$dead2 均无法连接" || fail "every server down is not said plainly: $alldown"
echo "cli-check: a dead first server is left for the next with the same idempotency key; all down exits 69 naming each"

# A server that hangs (takes the connection, never answers the handshake) is given up within
# half of --timeout when a list names another.
hung_log="$work/hung.port"
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$hung_log" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$hung_log" ] && break; sleep 0.1; done
hung=$(cat "$hung_log")
started=$(date +%s)
zh health --timeout 4 --server "127.0.0.1:$hung,127.0.0.1:$port" --ca "$work/certs/ca.pem" --cert "$work/certs/office-li-ming.pem" --key "$work/certs/office-li-ming.key" >/dev/null 2>"$work/hung.err" \
  || fail "a hung first server was not left for the next: $(cat "$work/hung.err")"
# Half of 4 s on the hung server, then the next server's own call (its own 4 s at most).
[ $(( $(date +%s) - started )) -le 7 ] || fail "leaving a hung server took longer than half of --timeout and the next call"
grep -q "服务器 127.0.0.1:$hung 无法连接或连接中断" "$work/hung.err" || fail "the move from a hung server was not said: $(cat "$work/hung.err")"
echo "cli-check: a hung first server is left within half of --timeout"

# Certificates and a server that is down, as a clerk reads them: one plain line, the right code.
serial=$(openssl x509 -in "$work/certs/clerk-zhang-wei.pem" -noout -serial | cut -d= -f2)
zh admin revoke "$serial" --reason 证书遗失 "${office[@]}" >/dev/null
set +e
revoked=$(zh health "${clerk[@]}" 2>&1); code=$?
set -e
[ "$code" = 77 ] || fail "a revoked certificate exited $code, not 77: $revoked"
echo "$revoked" | grep -q '证书已吊销' || fail "a revoked certificate is not said plainly: $revoked"
stop
set +e
down=$(zh health "${office[@]}" 2>&1); code=$?
set -e
[ "$code" = 69 ] || fail "a stopped server exited $code, not 69: $down"
[ "$(printf '%s\n' "$down" | wc -l)" = 1 ] && echo "$down" | grep -q '无法连接服务器' || fail "a stopped server is not one plain line: $down"
if echo "$down" | grep -qiE 'nio|errno|SingleConnectionFailure'; then fail "transport internals shown: $down"; fi
echo "cli-check: a revoked certificate exits 77 and a stopped server 69, each in one plain Chinese line"
echo "cli-check: both watches reconnected after a restart; the alert raised meanwhile arrived once"
echo "cli check: ok"
