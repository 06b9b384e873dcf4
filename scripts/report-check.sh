#!/usr/bin/env bash
# The dashboard end to end (issue 7): seeds a county year into a fresh database with
# `banjied seed`, serves it with banjied, and checks what the office sees:
#   - `banjie dashboard --by department` prints the summary, the trend and a breakdown;
#   - `--csv` has a byte order mark, a header and one line per department plus the total;
#   - `banjie report --html` writes one self-contained page: it parses, has the four SVG charts
#     and refers to nothing outside itself (no http(s) address, no script or style file);
#   - with --screenshot FILE, headless Chromium renders the page to FILE (PNG); that is how
#     docs/dashboard-report.png is made (apt-get install -y chromium fonts-wqy-microhei).
# Options: --cases N (default 3000), --keep (keep the work directory), --screenshot FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN_DIR:-.build/debug}
cases=3000
keep=0
shot=""
while [ $# -gt 0 ]; do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --screenshot) shot=$2; shift 2 ;;
    *) echo "report-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
cleanup() {
  kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true
  if [ "$keep" = 1 ]; then echo "report-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

"$bin/banjied" seed --database "$work/banjie.sqlite" --cases "$cases" --seed 11 >/dev/null
"$bin/banjie" certs init --dir "$work/certs" >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role office --org YSB --name 李明 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/banjied" serve --certs-dir "$work/certs" --listen "127.0.0.1:$port" --database "$work/banjie.sqlite" --log-level warning --metrics-listen off &
echo $! > "$work/pid"
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
office=(--server "127.0.0.1:$port" --ca "$work/certs/ca.pem" --cert "$work/certs/office-li-ming.pem" --key "$work/certs/office-li-ming.key")
month=$(TZ=Asia/Shanghai date +%Y-%m)

view=$(NO_COLOR=1 LANG=C "$bin/banjie" dashboard --period "$month" --by department "${office[@]}")
for want in "SLA dashboard" "on time" "daily trend" "enterprises visited" "SCJGJ"; do
  echo "$view" | grep -q "$want" || { echo "report-check: the dashboard view lacks \"$want\":" >&2; echo "$view" >&2; exit 1; }
done
if printf '%s' "$view" | grep -q $'\x1b\['; then echo "report-check: colour codes with NO_COLOR set" >&2; exit 1; fi
zh=$(NO_COLOR=1 LANG=zh_CN.UTF-8 "$bin/banjie" dashboard --period "$month" "${office[@]}")
echo "$zh" | grep -q "按时办结率" || { echo "report-check: no Chinese labels with LANG=zh_CN.UTF-8" >&2; exit 1; }

csv=$("$bin/banjie" dashboard --period "$month" --by department --csv "${office[@]}")
departments=$(sqlite3 "$work/banjie.sqlite" "SELECT COUNT(DISTINCT department_code) FROM dashboard_daily WHERE dim = 'department' AND day LIKE '$month-%'" 2>/dev/null \
  || python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT COUNT(DISTINCT department_code) FROM dashboard_daily WHERE dim='department' AND day LIKE ?\", (sys.argv[2]+'-%',)).fetchone()[0])" "$work/banjie.sqlite" "$month")
lines=$(echo "$csv" | wc -l)
[ "$lines" -ge $((departments + 2)) ] || { echo "report-check: CSV has $lines lines for $departments departments" >&2; echo "$csv" >&2; exit 1; }
# Excel-ready: a UTF-8 byte order mark, then RFC 4180 lines ended by CRLF (wc -l counts them as
# it counts LF lines); the header is read past the mark, the summary row is the last, keyed total.
[ "$(printf '%s' "$csv" | head -c3 | od -An -tx1 | tr -d ' \n')" = "efbbbf" ] || { echo "report-check: CSV without a UTF-8 byte order mark" >&2; exit 1; }
header=$(echo "$csv" | head -n1 | sed '1s/^\xEF\xBB\xBF//; s/\r$//')
echo "$header" | grep -q "^key,name,received" || { echo "report-check: CSV header: $header" >&2; exit 1; }
echo "$csv" | tail -n1 | grep -q "^total," || { echo "report-check: CSV's last line is not the total: $(echo "$csv" | tail -n1)" >&2; exit 1; }

"$bin/banjie" report --period "$month" --html "$work/report.html" "${office[@]}" >/dev/null
python3 - "$work/report.html" <<'EOF'
import re, sys
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.tags = {}; self.external = []
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith("#"):
                self.external.append((tag, k, v))
        if tag in ("script", "link", "img", "iframe"):
            self.external.append((tag, "", ""))
p = P(); p.feed(text); p.close()
problems = []
if p.tags.get("svg", 0) < 4: problems.append(f"{p.tags.get('svg', 0)} SVG charts, want 4")
if p.external: problems.append(f"refers outside itself: {p.external[:3]}")
if re.search(r"https?://(?!www\.w3\.org/2000/svg)", text): problems.append("an http(s) address")
if "<polyline" not in text: problems.append("no trend line")
if problems:
    print("report-check: " + "; ".join(problems), file=sys.stderr); sys.exit(1)
print(f"report-check: report has {p.tags.get('svg', 0)} SVG charts, {len(text)} bytes, self-contained")
EOF

if [ -n "$shot" ]; then
  browser=$(command -v chromium || command -v chromium-browser || true)
  [ -n "$browser" ] || { echo "report-check: --screenshot needs chromium (apt-get install -y chromium fonts-wqy-microhei)" >&2; exit 2; }
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1700 \
    --screenshot="$(realpath -m "$shot")" "file://$work/report.html" 2>/dev/null
  [ -s "$shot" ] || { echo "report-check: no screenshot written" >&2; exit 1; }
  echo "report-check: screenshot $shot ($(stat -c %s "$shot") bytes)"
fi
echo "report-check: dashboard view, CSV and HTML report as expected"
