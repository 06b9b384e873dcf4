#!/usr/bin/env bash
# Printable documents end to end (`banjie case print`): starts banjied on a fresh database with
# development certificates, imports catalog/sample-county.json, and moves four cases into the
# states the documents need:
#   submit → notice (一次性告知, missing materials)   → --document notice      一次性告知书
#   submit → refuse (with a reason)                   → --document refusal     不予受理决定书
#   submit → accept                                   → --document receipt     受理通知书
#   submit → accept → complete                        → --document completion  办结通知书
# Each is printed with LANG=zh_CN.UTF-8 to HTML and PDF (headless Chromium). Checked:
#   - the HTML is one self-contained page (no script, link, image or http(s) address), lang
#     zh-CN, A4 with 20 mm margins, every inserted value escaped (the refusal reason carries
#     markup);
#   - each PDF is A4 with exactly 1 page (pdfinfo) and its text (pdftotext) holds the case
#     number and 汶上县, and the document's own words;
#   - the English version (LANG=C) has lang="en", 1 page and the case number;
#   - a document that does not fit the case's state exits 65 in the user's language and leaves
#     an existing file untouched; an unwritable path exits 73; --pdf without Chromium on PATH
#     exits 72; no temporary file is left behind.
# Installs chromium, poppler-utils and a Chinese font (fonts-wqy-microhei) when missing.
# Options: --screenshots DIR (also write DIR/print-{receipt,notice,refusal,completion}.png,
# rendered at 794x1123, one A4 page at 96 dpi: how docs/print-*.png are made), --keep (keep the
# work directory). Binaries from BIN_DIR (default .build/debug). Prints "print check: ok" and
# exits 0 when every check passed, 1 on a failed check, 2 on bad usage or set-up failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN_DIR:-.build/debug}
keep=0
shots=""
while [ $# -gt 0 ]; do
  case $1 in
    --screenshots) shots=${2:?--screenshots needs a directory}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "print-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for b in banjie banjied; do
  [ -x "$bin/$b" ] || { echo "print-check: $bin/$b not found: run \`swift build\` first, or set BIN_DIR" >&2; exit 2; }
done
unset BANJIE_LANG BANJIE_PROFILE BANJIE_SERVER BANJIE_CA BANJIE_CERT BANJIE_KEY LC_ALL LC_MESSAGES
export NO_COLOR=1

# What the check needs, installed as scripts/setup.sh does.
need=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
{ command -v pdfinfo >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; } || need+=(poppler-utils)
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "print-check: installing ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "print-check: chromium is still missing (apt-get install -y chromium)" >&2; exit 2; }
command -v pdfinfo >/dev/null 2>&1 || { echo "print-check: pdfinfo is still missing (apt-get install -y poppler-utils)" >&2; exit 2; }

work=$(mktemp -d)
cleanup() {
  local pid
  pid=$(cat "$work/pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then echo "print-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "print-check: $*" >&2
  exit 1
}

"$bin/banjie" certs init --dir "$work/certs" >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role office --org YSB --name 李明 >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role clerk --org SCJGJ --name 张伟 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/banjied" serve --certs-dir "$work/certs" --listen "127.0.0.1:$port" --database "$work/banjie.sqlite" --log-level warning \
  --metrics-listen off >"$work/banjied.log" 2>&1 &
echo $! >"$work/pid"
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
conn=(--server "127.0.0.1:$port" --ca "$work/certs/ca.pem")
office=("${conn[@]}" --cert "$work/certs/office-li-ming.pem" --key "$work/certs/office-li-ming.key")
clerk=("${conn[@]}" --cert "$work/certs/clerk-zhang-wei.pem" --key "$work/certs/clerk-zhang-wei.key")

"$bin/banjie" catalog import "${office[@]}" catalog/sample-county.json >/dev/null
submit() { "$bin/banjie" case submit "${clerk[@]}" --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])'; }
act() { "$bin/banjie" case "$1" "$2" "${clerk[@]}" "${@:3}" >/dev/null; }

reason='申请事项依法不属于本部门职权范围，请向县卫生健康局申请 <script>alert(1)</script> & "A&B"'
n_notice=$(submit --item SCJGJ-003 --applicant 王小二 --window A03)
act notice "$n_notice" --missing 食品安全管理制度 --missing "与食品经营相适应的主要设备设施布局、操作流程等文件"
n_refusal=$(submit --item SCJGJ-003 --applicant 李四 --window A03)
act refuse "$n_refusal" --reason "$reason"
n_receipt=$(submit --item SCJGJ-003 --applicant 汶上县鲁源机械有限公司 --uscc 91370830000001001N --window A03)
act accept "$n_receipt"
n_completion=$(submit --item SCJGJ-002 --applicant 陈静 --window A03)
act accept "$n_completion"
act complete "$n_completion" --outcome approved
number() { case $1 in receipt) echo "$n_receipt" ;; notice) echo "$n_notice" ;; refusal) echo "$n_refusal" ;; completion) echo "$n_completion" ;; esac; }

# One self-contained page in the language asked for, A4 with 20 mm margins, values escaped.
check_html() { # FILE LANG NUMBER
  python3 - "$@" <<'EOF' || exit 1
import re, sys
from html.parser import HTMLParser
path, lang, number = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.tags = {}; self.external = []; self.lang = None
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        attrs = dict(attrs)
        if tag == "html": self.lang = attrs.get("lang")
        for k in ("src", "href"):
            if attrs.get(k): self.external.append((tag, k, attrs[k]))
        if tag in ("script", "link", "img", "iframe", "object", "embed"): self.external.append((tag, "", ""))
p = P(); p.feed(text); p.close()
problems = []
if p.lang != lang: problems.append(f"lang is {p.lang!r}, want {lang!r}")
if p.external: problems.append(f"refers outside itself: {p.external[:3]}")
if re.search(r"https?://", text): problems.append("an http(s) address")
if not re.search(r"@page\s*\{\s*size:\s*A4;\s*margin:\s*20mm", text): problems.append("no @page A4 with 20 mm margins")
if number not in text: problems.append("no case number")
if "alert(1)" in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;A&amp;B&quot;" not in text:
    problems.append("the refusal reason is not escaped")
if problems:
    print(f"print-check: {path}: " + "; ".join(problems), file=sys.stderr); sys.exit(1)
EOF
}

# A4, exactly one page; prints the text with line breaks and spaces removed.
check_pdf() { # FILE
  local info pages
  info=$(pdfinfo "$1") || fail "$1 is not a readable PDF"
  pages=$(awk '/^Pages:/ {print $2}' <<<"$info")
  [ "$pages" = 1 ] || fail "$1 has $pages pages, want exactly 1"
  grep -q '^Page size:.*(A4)' <<<"$info" || fail "$1 is not A4: $(grep '^Page size' <<<"$info")"
  pdftotext -enc UTF-8 "$1" - | tr -d ' \n\r\f'
}

out=$work/out
mkdir -p "$out"
declare -A words=(
  [receipt]="受理通知书 受理回执 汶上县鲁源机械有限公司 91370830000001001N 承诺时限 5个工作日 评价码 经办人签字 申请人签字 单位（盖章）"
  [notice]="一次性告知书 食品安全管理制度 与食品经营相适应的主要设备设施布局、操作流程等文件 A03窗口 经办人签字"
  [refusal]="不予受理决定书 申请事项依法不属于本部门职权范围 六十日内依法申请行政复议 六个月内依法提起行政诉讼"
  [completion]="办结通知书 办理结果为：准予 出件窗口 A03窗口"
)
for doc in receipt notice refusal completion; do
  n=$(number "$doc")
  LANG=zh_CN.UTF-8 "$bin/banjie" case print "$n" --document "$doc" --html "$out/$doc.html" --pdf "$out/$doc.pdf" "${clerk[@]}" \
    >"$work/print.out" 2>&1 || { cat "$work/print.out" >&2; fail "banjie case print $n --document $doc failed"; }
  grep -q "已写入" "$work/print.out" || fail "no Chinese confirmation: $(cat "$work/print.out")"
  check_html "$out/$doc.html" zh-CN "$n"
  text=$(check_pdf "$out/$doc.pdf")
  for want in "$n" 汶上县 ${words[$doc]}; do
    grep -qF -- "$want" <<<"$text" || fail "$doc.pdf lacks \"$want\": $text"
  done
  echo "print-check: $doc ($n): HTML self-contained, PDF A4, 1 page"
done

# English: the same receipt in English.
LANG=C "$bin/banjie" case print "$n_receipt" --document receipt --html "$out/receipt-en.html" --pdf "$out/receipt-en.pdf" "${clerk[@]}" \
  >"$work/print.out" 2>&1 || { cat "$work/print.out" >&2; fail "the English receipt failed"; }
check_html "$out/receipt-en.html" en "$n_receipt"
text=$(check_pdf "$out/receipt-en.pdf")
for want in "$n_receipt" AcceptanceNotice; do grep -qF -- "$want" <<<"$text" || fail "receipt-en.pdf lacks \"$want\": $text"; done
echo "print-check: English receipt: 1 page with the case number"

# Wrong state: exit 65 in the user's language, the existing file left as it was.
echo old >"$out/keep.html"
code=0
LANG=zh_CN.UTF-8 "$bin/banjie" case print "$n_receipt" --document refusal --html "$out/keep.html" "${clerk[@]}" >/dev/null 2>"$work/err" || code=$?
[ "$code" = 65 ] || fail "a refusal for an accepted case exited $code, want 65: $(cat "$work/err")"
grep -q "不予受理决定书" "$work/err" || fail "the wrong-state error is not in Chinese: $(cat "$work/err")"
[ "$(cat "$out/keep.html")" = old ] || fail "a refused print changed an existing file"
code=0
LANG=C "$bin/banjie" case print "$n_notice" --document completion --html "$out/keep.html" "${clerk[@]}" >/dev/null 2>"$work/err" || code=$?
[ "$code" = 65 ] || fail "a completion notice for an open case exited $code, want 65"
grep -q "completion notice" "$work/err" || fail "the wrong-state error is not in English: $(cat "$work/err")"

# An unwritable path: exit 73, one line.
code=0
LANG=zh_CN.UTF-8 "$bin/banjie" case print "$n_receipt" --document receipt --html "$work/no/such/dir/x.html" "${clerk[@]}" \
  >/dev/null 2>"$work/err" || code=$?
[ "$code" = 73 ] || fail "an unwritable path exited $code, want 73: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" = 1 ] && grep -q "无法写入" "$work/err" || fail "the unwritable-path error: $(cat "$work/err")"

# --pdf without Chromium on PATH: exit 72, nothing written.
code=0
env PATH=/nonexistent LANG=zh_CN.UTF-8 "$bin/banjie" case print "$n_receipt" --document receipt --html "$out/none.html" --pdf "$out/none.pdf" \
  "${clerk[@]}" >/dev/null 2>"$work/err" || code=$?
[ "$code" = 72 ] || fail "--pdf without Chromium exited $code, want 72: $(cat "$work/err")"
grep -q "未安装 Chromium" "$work/err" || fail "the missing-Chromium error: $(cat "$work/err")"
[ ! -e "$out/none.html" ] && [ ! -e "$out/none.pdf" ] || fail "files were written although the PDF could not be made"

# No --html nor --pdf: a usage error.
code=0
"$bin/banjie" case print "$n_receipt" --document receipt "${clerk[@]}" >/dev/null 2>&1 || code=$?
[ "$code" = 64 ] || fail "no output file exited $code, want 64"

leftovers=$(find "$out" -name '.*.tmp')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"

if [ -n "$shots" ]; then
  mkdir -p "$shots"
  for doc in receipt notice refusal completion; do
    target=$(realpath -m "$shots/print-$doc.png")
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/chromium" --window-size=794,1123 \
      --screenshot="$target" "file://$out/$doc.html" >/dev/null 2>&1 || true
    [ -s "$target" ] || fail "no screenshot written to $target"
    echo "print-check: screenshot $target ($(stat -c %s "$target") bytes)"
  done
fi
echo "print check: ok"
