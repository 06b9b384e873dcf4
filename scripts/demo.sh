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
# Department heads verify 差评 independently of the clerk rated; the rating pad (评价器) of window Z01.
issued() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["certificate"], d["key"])'; }
read -r head_cert head_key < <(banjie certs issue --dir $demo/certs --role clerk --org SCJGJ --name 王芳 --json | issued)
read -r zjj_head_cert zjj_head_key < <(banjie certs issue --dir $demo/certs --role clerk --org ZJJ --name 钱涛 --json | issued)
read -r pad_cert pad_key < <(banjie certs issue --dir $demo/certs --role pad --org Z01 --name PAD-Z01 --json | issued)
# The 12345 centre's dispatcher (话务调度, OU=dispatcher).
read -r dispatcher_cert dispatcher_key < <(banjie certs issue --dir $demo/certs --role dispatcher --org 12345 --name 刘红 --json | issued)
run ls $demo/certs

# start_server FROM: banjied on the demo database with its simulated clock starting at FROM.
start_server() {
  banjied serve --certs-dir $demo/certs --listen 127.0.0.1:$port --database $demo/banjie.sqlite \
    --sweep-interval 1 --simulate-from "$1" --simulate-speed 600 --log-level warning \
    >> $demo/banjied.log 2>&1 &
  server=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}
say "Start banjied (simulated clock: Mon 2026-11-30 08:55, 600x)"
start_server 2026-11-30T08:55:00+08:00
trap 'kill $server 2>/dev/null || true' EXIT

office=(--server 127.0.0.1:$port --ca $demo/certs/ca.pem --cert $demo/certs/office-li-ming.pem --key $demo/certs/office-li-ming.key)
export BANJIE_SERVER=127.0.0.1:$port BANJIE_CA=$demo/certs/ca.pem BANJIE_CERT=$demo/certs/clerk-zhang-wei.pem BANJIE_KEY=$demo/certs/clerk-zhang-wei.key
other=(--cert $demo/certs/clerk-zhao-min.pem --key $demo/certs/clerk-zhao-min.key)
land=(--cert $demo/certs/clerk-sun-li.pem --key $demo/certs/clerk-sun-li.key)
liaison=(--cert $demo/certs/liaison-wang-qiang.pem --key $demo/certs/liaison-wang-qiang.key)
firm=(--cert $demo/certs/enterprise-zhang-zong.pem --key $demo/certs/enterprise-zhang-zong.key)
head=(--cert "$head_cert" --key "$head_key")
zjj_head=(--cert "$zjj_head_cert" --key "$zjj_head_key")
pad=(--cert "$pad_cert" --key "$pad_key")
dispatcher=(--cert "$dispatcher_cert" --key "$dispatcher_key")
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if k.isdigit() else d.get(k, "")
print(d)' "$1"; }

say "Window clerk 张伟 of the market regulation bureau checks the connection"
run banjie health

say "The office (营商办) loads the county catalog: 8 departments, 20 service items"
run banjie catalog import "${office[@]}" catalog/sample-county.json
run banjie catalog items --department SCJGJ

say "The office registers the hall: window A03 (market regulation), the comprehensive window Z01 (综合窗口), their staff, Z01's rating pad and the department heads"
run banjie window add A03 "${office[@]}" --name 市场准入窗口 --hall 县政务服务中心一楼 --department SCJGJ
run banjie window add Z01 "${office[@]}" --name 综合受理窗口 --hall 县政务服务中心一楼 --comprehensive
banjie staff assign "${office[@]}" --org SCJGJ --person 张伟 --window A03 >/dev/null
run banjie staff assign "${office[@]}" --org SCJGJ --person 张伟 --window Z01
run banjie registry device add PAD-Z01 "${office[@]}" --window Z01
banjie registry head add "${office[@]}" --department SCJGJ --person 王芳 >/dev/null
run banjie registry head add "${office[@]}" --department ZJJ --person 钱涛

say "部门会签: 张伟's bureau sends a draft to the housing and natural-resources bureaus; each has 5 working days (the county setting countersign_limit_working_days)"
hq=$(banjie countersign register --title 关于优化食品经营许可办理流程的通知（征求意见稿） --length 2600 --policy \
  --unit ZJJ --unit ZRZYJ --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
run banjie countersign show "$hq"
say "An urgent draft: the office sets the countersign limit to 1 working day for it, then back to 5; the natural-resources bureau's clock starts now"
run banjie settings set countersign_limit_working_days 1 "${office[@]}"
hq2=$(banjie countersign register --title 关于做好岁末年初安全生产工作的紧急通知（征求意见稿） --length 1800 --unit ZRZYJ --json | json_get number)
banjie settings set countersign_limit_working_days 5 "${office[@]}" >/dev/null
echo "countersign $hq2 registered: the natural-resources bureau (ZRZYJ) has 1 working day"

say "12345 热线: the dispatcher registers citizen 刘洋's complaint and assigns it to the market regulation bureau (first contact within 1 working day, resolution within 5 for a 投诉)"
qz=$(banjie appeal register "${dispatcher[@]}" --channel 12345 --category complaint --citizen 刘洋 --phone 13805371234 \
  --subject 农贸市场东门早市占道经营 --content "早市摊贩占道经营，影响通行，请求治理" --department SCJGJ --json | json_get number)
run banjie appeal show "$qz" "${dispatcher[@]}"
run banjie appeal contact "$qz" --method phone --note "已电话联系刘洋，约定现场查看"
run banjie appeal resolve "$qz" --result "会同城管劝离占道摊贩，设置临时疏导标志"
say "The dispatcher's call-back (回访): 刘洋 is not satisfied, so the appeal reopens for a second round on a fresh clock"
run banjie appeal call-back "$qz" "${dispatcher[@]}" --satisfaction dissatisfied --note "早市仍有摊贩占道"
run banjie appeal resolve "$qz" --result "划定早市临时经营区，安排专人每日巡查"
run banjie appeal call-back "$qz" "${dispatcher[@]}" --satisfaction satisfied --note "已无占道，表示满意"
run banjie appeal show "$qz"
say "The dispatcher's certificate reaches appeals only"
try banjie case list "${dispatcher[@]}"

say "年度目标: the office sets this year's targets; each is held against the time progress (the share of the year's working days gone)"
banjie targets set --year 2026 --department SCJGJ --measure on_time_rate --target 98 "${office[@]}" >/dev/null
banjie targets set --year 2026 --department SCJGJ --measure one_day_rate --target 80 "${office[@]}" >/dev/null
banjie targets set --year 2026 --department SCJGJ --measure good_rating_share --target 90 "${office[@]}" >/dev/null
banjie targets set --year 2026 --department SCJGJ --measure appeal_resolution_rate --target 95 "${office[@]}" >/dev/null
run banjie targets set --year 2026 --department ZRZYJ --measure countersign_on_time_rate --target 95 "${office[@]}"

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
say "年度目标 of the liaison unit: visit every enterprise it looks after this year"
run banjie targets set --year 2026 --department 南旺镇人民政府 --measure visit_coverage --target 100 "${office[@]}"

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
say "张伟 concluded the case, so he may not verify the 差评 against himself; the department head 王芳 does"
try banjie rectification verify "ZG-$n1" --valid --evidence "调取预约记录，情况属实"
run banjie rectification verify "ZG-$n1" "${head[@]}" --valid --evidence "调取预约记录，情况属实"
run banjie rectification rectify "ZG-$n1" "${head[@]}" --measures "核查预约改为当日电话确认，建立提醒制度"
say "The enterprise holds a certificate: it confirms the rectification itself, and then the head closes it"
run banjie rectification confirm "ZG-$n1" "${firm[@]}" --comment "整改到位，认可"
run banjie rectification close "ZG-$n1" "${head[@]}"
run banjie rating measures "${office[@]}" --from 2026-11-01 --to 2026-11-30 --by department

say "一窗受理: at the comprehensive window Z01, 张伟 receives citizen 李娜's construction permit, an item of the housing bureau (ZJJ)"
n4=$(banjie case submit --item ZJJ-001 --applicant 李娜 --window Z01 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
run banjie case show "$n4"

say "容缺受理: 赵敏 of the housing bureau accepts it while the construction contract is still to come (promised in 5 working days)"
run banjie case accept "$n4" "${other[@]}" --pending 施工合同
say "Approval waits for the pending material; once it is recorded as supplied, the case is approved"
try banjie case complete "$n4" "${other[@]}" --outcome approved
run banjie case supplied-materials "$n4" "${other[@]}" --material 施工合同
banjie case complete "$n4" "${other[@]}" --outcome approved >/dev/null

say "出件 back at the comprehensive window; 李娜 rates the service on Z01's rating pad (评价器) — a 差评"
run banjie case deliver "$n4" --at Z01
run banjie rate "$n4" "${pad[@]}" --level 2 --comment "补交材料跑了两趟，一次性告知没有说全"
say "The pad may rate only the case its window has just served, once"
try banjie rate "$n3" "${pad[@]}" --level 5

say "The rectification of 李娜's 差评: 赵敏 (the clerk rated) may not verify it; the housing bureau's head 钱涛 does"
try banjie rectification verify "ZG-$n4" "${other[@]}" --valid --evidence "一次性告知清单漏列施工合同"
run banjie rectification verify "ZG-$n4" "${zjj_head[@]}" --valid --evidence "一次性告知清单漏列施工合同"
run banjie rectification rectify "ZG-$n4" "${zjj_head[@]}" --measures "修订一次性告知清单，综合窗口与住建局每周核对"
say "李娜 has no certificate: the follow-up call records her answer, and her confirmation lets the head close it"
try banjie rectification close "ZG-$n4" "${zjj_head[@]}"
run banjie rectification follow-up "ZG-$n4" "${zjj_head[@]}" --result "电话回访李娜，认可整改措施" --satisfied
run banjie rectification close "ZG-$n4" "${zjj_head[@]}"

say "督办: the office supervises the overdue 2-hour registration; the bureau replies with evidence and the office closes it"
sup=$(banjie supervise issue "${office[@]}" --case "$n2" --action "当日办结并说明超时原因" --working-days 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
run banjie supervise show "$sup" "${office[@]}"
run banjie case complete "$n2" --outcome approved
run banjie supervise reply "$sup" --reply "已办结；超时原因为窗口人员外出培训，已调整排班" --evidence "办件 $n2 办结记录"
run banjie supervise close "$sup" "${office[@]}"

say "部门会签, hours later: the housing bureau answers with comments; the natural-resources bureau's clock still runs"
run banjie countersign answer "$hq" "${other[@]}" --comments "第三条建议补充容缺受理的适用范围"
run banjie countersign list --waiting-on ZRZYJ "${office[@]}"

say "一网通办: 陈静's company registration comes in online and the licence goes back by post — 零跑腿, no trip to the hall"
n5=$(banjie case submit --channel online --item SCJGJ-002 --applicant 陈静 --uscc 91370830000001001N --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
banjie case accept "$n5" >/dev/null
banjie case complete "$n5" --outcome approved >/dev/null
run banjie case deliver "$n5" --by mail

say "The office checks the hash-chained audit log"
run banjie admin audit verify "${office[@]}"

say "The next afternoon: banjied restarts with its clock at Tue 2026-12-01 13:30 (everything is on disk; nothing is lost)"
kill $server; wait $server 2>/dev/null || true
start_server 2026-12-01T13:30:00+08:00
say "The urgent draft: 80 % of the natural-resources bureau's working time is gone — yellow, with an alert to that bureau"
for _ in $(seq 1 90); do
  case $(banjie countersign show "$hq2" --json | json_get units.0.sla.colour) in COLOUR_YELLOW|COLOUR_RED) break ;; esac
  sleep 1
done
run banjie countersign show "$hq2" "${office[@]}"
for _ in $(seq 1 20); do banjie alerts --department ZRZYJ --json "${office[@]}" | grep -q countersign.yellow && break; sleep 0.5; done
run banjie alerts --department ZRZYJ "${office[@]}"

say "年度目标 against the time progress: where the year so far falls short, the sweeper has warned"
run banjie targets show "${office[@]}"

say "The administration office's SLA dashboard for the month"
run banjie dashboard --period 2026-11 --by department "${office[@]}"
say "The same month by channel (受理渠道), with 零跑腿"
run banjie dashboard --period 2026-11 --by channel "${office[@]}"
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
