#!/usr/bin/env bash
# The main job: builds banjie, makes development certificates, starts banjied on its embedded
# SQLite database (demo/banjie.sqlite) and walks through a morning at the county service hall.
# The server's clock is simulated for the demo: it starts Monday 2026-11-30 08:55 and runs
# 600x faster than real time, so deadlines pass while you watch.
#   scripts/demo.sh            run the demo, then keep the server up for you to try commands
#   scripts/demo.sh --no-wait  run the demo and stop
set -euo pipefail
cd "$(dirname "$0")/.."
wait_at_end=1
[ "${1:-}" = "--no-wait" ] && wait_at_end=0
bash scripts/setup.sh
echo "building (the first build takes a few minutes)..."
swift build 2>&1 | grep -E 'error|warning: |Compiling banjie|Build complete' || true
swift build >/dev/null
bin=$(swift build --show-bin-path)
export PATH="$bin:$PATH"

demo=demo
port=${BANJIE_DEMO_PORT:-7443}
rm -rf "$demo" && mkdir -p "$demo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
try() { printf '\033[2m$ %s\033[0m\n' "$*"; set +e; "$@"; local s=$?; set -e; printf '\033[2m(exit code %s)\033[0m\n' "$s"; }

say "The county CA: a CA, a server certificate, and one certificate per person"
run banjie certs init --dir $demo/certs
banjie certs issue --dir $demo/certs --role office --org YSB --name 李明 >/dev/null
banjie certs issue --dir $demo/certs --role clerk --org SCJGJ --name 张伟 >/dev/null
banjie certs issue --dir $demo/certs --role clerk --org ZJJ --name 赵敏 >/dev/null
banjie certs issue --dir $demo/certs --role clerk --org ZRZYJ --name 孙丽 >/dev/null
banjie certs issue --dir $demo/certs --role liaison --org 南旺镇人民政府 --name 王强 >/dev/null
banjie certs issue --dir $demo/certs --role enterprise --org 91370830000001001N --name 张总 >/dev/null
run ls $demo/certs

say "Start banjied (simulated clock: Mon 2026-11-30 08:55, 600x)"
banjied serve --certs-dir $demo/certs --listen 127.0.0.1:$port --database $demo/banjie.sqlite \
  --sweep-interval 1 --simulate-from 2026-11-30T08:55:00+08:00 --simulate-speed 600 --log-level warning \
  > $demo/banjied.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

office=(--server 127.0.0.1:$port --ca $demo/certs/ca.pem --cert $demo/certs/office-li-ming.pem --key $demo/certs/office-li-ming.key)
export BANJIE_SERVER=127.0.0.1:$port BANJIE_CA=$demo/certs/ca.pem BANJIE_CERT=$demo/certs/clerk-zhang-wei.pem BANJIE_KEY=$demo/certs/clerk-zhang-wei.key
other=(--cert $demo/certs/clerk-zhao-min.pem --key $demo/certs/clerk-zhao-min.key)
land=(--cert $demo/certs/clerk-sun-li.pem --key $demo/certs/clerk-sun-li.key)
liaison=(--cert $demo/certs/liaison-wang-qiang.pem --key $demo/certs/liaison-wang-qiang.key)
firm=(--cert $demo/certs/enterprise-zhang-zong.pem --key $demo/certs/enterprise-zhang-zong.key)

say "Window clerk 张伟 of the market regulation bureau checks the connection"
run banjie health

say "The office (营商办) loads the county catalog: 8 departments, 20 service items"
run banjie catalog import "${office[@]}" catalog/sample-county.json
run banjie catalog items --department SCJGJ

say "Morning at window A03: three cases arrive"
n1=$(banjie case submit --item SCJGJ-003 --applicant 张总 --uscc 91370830000001001N --window A03 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
echo "食品经营许可 (5 working days):        $n1"
n2=$(banjie case submit --item SCJGJ-001 --applicant 刘芳 --window A03 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
echo "个体工商户设立登记 (2 working hours): $n2"
n3=$(banjie case submit --item SCJGJ-002 --applicant 陈静 --uscc 91370830000001001N --window A03 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
echo "企业设立登记 (1 working day):        $n3"

say "One case is missing a material: a single complete notice (一次性告知), then the applicant supplies it"
run banjie case notice "$n1" --missing 食品安全管理制度
run banjie case supplied "$n1"

say "All three are accepted (受理): their deadlines start"
run banjie case accept "$n1"
banjie case accept "$n2" >/dev/null
banjie case accept "$n3" >/dev/null

say "The food licence needs an on-site inspection: a special procedure stops its clock"
run banjie case suspend "$n1" --reason 现场核查

say "The company registration is concluded at once: one-day completion (一日办结)"
run banjie case complete "$n3" --outcome approved

say "A clerk of another department may not touch these cases"
try banjie case accept "$n2" "${other[@]}"

say "Nobody concludes the 2-hour registration: watch the alerts as simulated time passes (about 15 s)"
set +e
timeout 15 banjie alerts --watch
set -e

say "The case list, with deadline colours"
run banjie case list

say "The history of the food licence"
run banjie case history "$n1"

say "Deadlines follow the real calendar: holidays and make-up working days"
run banjie calendar due --from 2026-02-13T10:00:00+08:00 --working-days 1
run banjie calendar show 2026-02

say "Warm enterprises (暖企行动): the office registers an enterprise and assigns liaison official 王强"
run banjie enterprise register 91370830000001001N "${office[@]}" --name 汶上县鲁源机械有限公司 --industry C --scale small \
  --township 南旺镇 --contact 刘芳:0537-7212345:财务负责人 --liaison 南旺镇人民政府/王强

say "王强 visits the enterprise; it needs land-use planning permission for a new workshop (诉求)"
printf '\033[2m$ banjie visit record 91370830000001001N --notes 了解四季度生产经营情况 --demand land:ZRZYJ:扩建厂房需办理建设用地规划许可\033[0m\n'
visit=$(banjie visit record 91370830000001001N "${liaison[@]}" --notes "了解四季度生产经营情况" --demand "land:ZRZYJ:扩建厂房需办理建设用地规划许可" --json)
demand=$(echo "$visit" | python3 -c 'import json,sys; print(json.load(sys.stdin)["demand_numbers"][0])')
echo "visit recorded; demand $demand raised for the natural-resources bureau (ZRZYJ)"

if [ -n "$demand" ]; then
  say "The natural-resources bureau takes the demand up and answers it"
  run banjie demand assign "$demand" "${land[@]}" --handler 孙丽
  run banjie demand answer "$demand" "${land[@]}" --answer "已纳入12月8日规委会议题，请准备总平面图"
  say "Only the enterprise can close its demand: the liaison official is refused, the enterprise confirms and rates it"
  try banjie demand close "$demand" "${liaison[@]}" --satisfaction 5
  run banjie demand close "$demand" "${firm[@]}" --satisfaction 5 --comment 满意
fi

say "Ratings (好差评): the enterprise rates its concluded company registration"
run banjie rate "$n3" "${firm[@]}" --level 5 --tag 高效 --tag 热情

say "The food licence is concluded too, but the enterprise is unhappy: a 差评 opens a rectification (整改)"
banjie case resume "$n1" >/dev/null
banjie case complete "$n1" --outcome approved >/dev/null
run banjie rate "$n1" "${firm[@]}" --level 2 --comment "现场核查两次预约未到，耽误开业"
run banjie rectification list
run banjie rectification verify "ZG-$n1" --valid --evidence "调取预约记录，情况属实"
run banjie rectification rectify "ZG-$n1" --measures "核查预约改为当日电话确认，建立提醒制度"
run banjie rectification follow-up "ZG-$n1" --result "电话回访，企业认可整改" --satisfied
run banjie rectification close "ZG-$n1"
run banjie rating measures "${office[@]}" --from 2026-11-01 --to 2026-11-30 --by department

say "The office checks the hash-chained audit log"
run banjie admin audit verify "${office[@]}"

say "The administration office's SLA dashboard for the month"
run banjie dashboard --period 2026-11 --by department "${office[@]}"
say "The same month as one HTML page with SVG charts, to open in a browser or send by mail"
run banjie report --period 2026-11 --html $demo/report-2026-11.html "${office[@]}"

say "Exemplary cases (优质案例): the department nominates its one-day company registration"
run banjie exemplary nominate --case "$n3" --account "材料齐全，受理后当场办结，企业满意"

say "Star service (星级服务): the office previews this month's stars (rule set in docs/AWARDS.md)"
run banjie award preview 2026-11 "${office[@]}"


if [ "$wait_at_end" = 1 ] && [ -t 0 ]; then
  say "banjied is still running on 127.0.0.1:$port (log: $demo/banjied.log). Try it:"
  echo "  export PATH=\"$bin:\$PATH\" BANJIE_SERVER=$BANJIE_SERVER BANJIE_CA=$BANJIE_CA BANJIE_CERT=$BANJIE_CERT BANJIE_KEY=$BANJIE_KEY"
  echo "  banjie case list; banjie case show $n2; banjie --help"
  echo "  curl -s http://127.0.0.1:9464/metrics    # Prometheus metrics (docs/OPERATIONS.md)"
  echo "Press Ctrl-C to stop the server."
  wait $server
fi
