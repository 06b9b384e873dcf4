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
# The narration speaks the language the CLI speaks (docs/OPERATIONS.md, "The language of
# error messages"): Chinese when BANJIE_LANG, or else LC_ALL, LC_MESSAGES or LANG, starts with zh.
case "${BANJIE_LANG:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}}" in zh*) zh=1 ;; *) zh=0 ;; esac
say() { if [ "$zh" = 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$2"; else printf '\n\033[1m== %s\033[0m\n' "$1"; fi; }
line() { if [ "$zh" = 1 ]; then printf '%s\n' "$2"; else printf '%s\n' "$1"; fi; }
bash scripts/setup.sh
line "building (the first build takes a few minutes)..." "正在构建（首次构建需要几分钟）……"
swift build 2>&1 | grep -E 'error|warning: |Compiling banjie|Build complete' || true
swift build >/dev/null
bin=$(swift build --show-bin-path)
export PATH="$bin:$PATH"

demo=demo
port=${BANJIE_DEMO_PORT:-7443}
rm -rf "$demo" && mkdir -p "$demo"
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
try() {
  printf '\033[2m$ %s\033[0m\n' "$*"
  set +e; "$@"; local s=$?; set -e
  if [ "$zh" = 1 ]; then printf '\033[2m（退出码 %s）\033[0m\n' "$s"; else printf '\033[2m(exit code %s)\033[0m\n' "$s"; fi
}

say "The county CA: a CA, a server certificate, and one certificate per person" "县级证书中心：一张根证书、一张服务器证书，每人一张个人证书"
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
say "Start banjied (simulated clock: Mon 2026-11-30 08:55, 600x)" "启动 banjied（模拟时钟：2026-11-30 周一 08:55，600 倍速）"
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

say "Window clerk 张伟 of the market regulation bureau checks the connection" "市场监管局窗口工作人员张伟检查连接"
run banjie health

say "The office (营商办) loads the county catalog: 8 departments, 20 service items" "营商办导入全县事项目录：8 个部门、20 个政务服务事项"
run banjie catalog import "${office[@]}" catalog/sample-county.json
run banjie catalog items --department SCJGJ

say "The office registers the hall: window A03 (market regulation), the comprehensive window Z01 (综合窗口), their staff, Z01's rating pad and the department heads" "营商办登记大厅：A03 窗口（市场监管）、Z01 综合窗口、窗口人员、Z01 的评价器和各部门负责人"
run banjie window add A03 "${office[@]}" --name 市场准入窗口 --hall 县政务服务中心一楼 --department SCJGJ
run banjie window add Z01 "${office[@]}" --name 综合受理窗口 --hall 县政务服务中心一楼 --comprehensive
banjie staff assign "${office[@]}" --org SCJGJ --person 张伟 --window A03 >/dev/null
run banjie staff assign "${office[@]}" --org SCJGJ --person 张伟 --window Z01
run banjie registry device add PAD-Z01 "${office[@]}" --window Z01
banjie registry head add "${office[@]}" --department SCJGJ --person 王芳 >/dev/null
run banjie registry head add "${office[@]}" --department ZJJ --person 钱涛

say "部门会签: 张伟's bureau sends a draft to the housing and natural-resources bureaus; each has 5 working days (the county setting countersign_limit_working_days)" "部门会签：张伟所在局把文稿送住建局和自然资源局会签，各有 5 个工作日（县级设置 countersign_limit_working_days）"
hq=$(banjie countersign register --title 关于优化食品经营许可办理流程的通知（征求意见稿） --length 2600 --policy \
  --unit ZJJ --unit ZRZYJ --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
run banjie countersign show "$hq"
say "An urgent draft: the office sets the countersign limit to 1 working day for it, then back to 5; the natural-resources bureau's clock starts now" "一份急件：营商办把会签时限临时改为 1 个工作日，登记后改回 5 天；自然资源局的计时从现在开始"
run banjie settings set countersign_limit_working_days 1 "${office[@]}"
hq2=$(banjie countersign register --title 关于做好岁末年初安全生产工作的紧急通知（征求意见稿） --length 1800 --unit ZRZYJ --json | json_get number)
banjie settings set countersign_limit_working_days 5 "${office[@]}" >/dev/null
line "countersign $hq2 registered: the natural-resources bureau (ZRZYJ) has 1 working day" "会签 $hq2 已登记：自然资源局（ZRZYJ）有 1 个工作日"

say "12345 热线: the dispatcher registers citizen 刘洋's complaint and assigns it to the market regulation bureau (first contact within 1 working day, resolution within 5 for a 投诉)" "12345 热线：话务员登记市民刘洋的投诉并交办市场监管局（1 个工作日内首次联系，投诉 5 个工作日内办结）"
qz=$(banjie appeal register "${dispatcher[@]}" --channel 12345 --category complaint --citizen 刘洋 --phone 13805371234 \
  --subject 农贸市场东门早市占道经营 --content "早市摊贩占道经营，影响通行，请求治理" --department SCJGJ --json | json_get number)
run banjie appeal show "$qz" "${dispatcher[@]}"
run banjie appeal contact "$qz" --method phone --note "已电话联系刘洋，约定现场查看"
run banjie appeal resolve "$qz" --result "会同城管劝离占道摊贩，设置临时疏导标志"
say "The dispatcher's call-back (回访): 刘洋 is not satisfied, so the appeal reopens for a second round on a fresh clock" "话务员回访：刘洋不满意，诉求重新办理第二轮，重新计时"
run banjie appeal call-back "$qz" "${dispatcher[@]}" --satisfaction dissatisfied --note "早市仍有摊贩占道"
run banjie appeal resolve "$qz" --result "划定早市临时经营区，安排专人每日巡查"
run banjie appeal call-back "$qz" "${dispatcher[@]}" --satisfaction satisfied --note "已无占道，表示满意"
run banjie appeal show "$qz"
say "The dispatcher's certificate reaches appeals only" "话务员的证书只能办理 12345 诉求"
try banjie case list "${dispatcher[@]}"

say "年度目标: the office sets this year's targets; each is held against the time progress (the share of the year's working days gone)" "年度目标：营商办设定今年的目标，每项都对照时间进度（全年工作日已过的比例）"
banjie targets set --year 2026 --department SCJGJ --measure on_time_rate --target 98 "${office[@]}" >/dev/null
banjie targets set --year 2026 --department SCJGJ --measure one_day_rate --target 80 "${office[@]}" >/dev/null
banjie targets set --year 2026 --department SCJGJ --measure good_rating_share --target 90 "${office[@]}" >/dev/null
banjie targets set --year 2026 --department SCJGJ --measure appeal_resolution_rate --target 95 "${office[@]}" >/dev/null
run banjie targets set --year 2026 --department ZRZYJ --measure countersign_on_time_rate --target 95 "${office[@]}"

say "Morning at window A03: three cases arrive" "上午，A03 窗口：收件三件"
n1=$(banjie case submit --item SCJGJ-003 --applicant 张总 --uscc 91370830000001001N --window A03 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
line "食品经营许可 (5 working days):        $n1" "食品经营许可（5 个工作日）：        $n1"
n2=$(banjie case submit --item SCJGJ-001 --applicant 刘芳 --window A03 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
line "个体工商户设立登记 (2 working hours): $n2" "个体工商户设立登记（2 个工作小时）：$n2"
n3=$(banjie case submit --item SCJGJ-002 --applicant 陈静 --uscc 91370830000001001N --window A03 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
line "企业设立登记 (1 working day):        $n3" "企业设立登记（1 个工作日）：        $n3"

say "One case is missing a material: a single complete notice (一次性告知), then the applicant supplies it" "一件缺少材料：一次性告知，随后申请人补齐"
run banjie case notice "$n1" --missing 食品安全管理制度
run banjie case supplied "$n1"

say "All three are accepted (受理): their deadlines start" "三件全部受理：开始计算办理时限"
run banjie case accept "$n1"
banjie case accept "$n2" >/dev/null
banjie case accept "$n3" >/dev/null

say "The food licence needs an on-site inspection: a special procedure stops its clock" "食品经营许可需要现场核查：进入特别程序，暂停计时"
run banjie case suspend "$n1" --reason 现场核查

say "The company registration is concluded at once: one-day completion (一日办结)" "企业设立登记当即办结：一日办结"
run banjie case complete "$n3" --outcome approved

say "A clerk of another department may not touch these cases" "其他部门的工作人员不能办理这些办件"
try banjie case accept "$n2" "${other[@]}"

say "Nobody concludes the 2-hour registration: watch the alerts as simulated time passes (about 15 s)" "两小时时限的登记无人办结：随模拟时间推进观察预警（约 15 秒）"
set +e
timeout 15 banjie alerts --watch
set -e

say "The case list, with deadline colours" "办件列表，按时限着色"
run banjie case list

say "The history of the food licence" "食品经营许可的办理过程"
run banjie case history "$n1"

say "Deadlines follow the real calendar: holidays and make-up working days" "时限按真实日历计算：节假日和调休上班日"
run banjie calendar due --from 2026-02-13T10:00:00+08:00 --working-days 1
run banjie calendar show 2026-02

say "Warm enterprises (暖企行动): the office registers an enterprise and assigns liaison official 王强" "暖企行动：营商办登记企业并指派包保干部王强"
run banjie enterprise register 91370830000001001N "${office[@]}" --name 汶上县鲁源机械有限公司 --industry C --scale small \
  --township 南旺镇 --contact 刘芳:0537-7212345:财务负责人 --liaison 南旺镇人民政府/王强

say "王强 visits the enterprise; it needs land-use planning permission for a new workshop (诉求)" "王强走访企业；企业扩建厂房需办理建设用地规划许可（诉求）"
printf '\033[2m$ banjie visit record 91370830000001001N --notes 了解四季度生产经营情况 --demand land:ZRZYJ:扩建厂房需办理建设用地规划许可\033[0m\n'
visit=$(banjie visit record 91370830000001001N "${liaison[@]}" --notes "了解四季度生产经营情况" --demand "land:ZRZYJ:扩建厂房需办理建设用地规划许可" --json)
demand=$(echo "$visit" | python3 -c 'import json,sys; print(json.load(sys.stdin)["demand_numbers"][0])')
line "visit recorded; demand $demand raised for the natural-resources bureau (ZRZYJ)" "走访已记录；诉求 $demand 已提交自然资源局（ZRZYJ）"
say "年度目标 of the liaison unit: visit every enterprise it looks after this year" "包保单位的年度目标：今年走访所包保的全部企业"
run banjie targets set --year 2026 --department 南旺镇人民政府 --measure visit_coverage --target 100 "${office[@]}"

if [ -n "$demand" ]; then
  say "The natural-resources bureau takes the demand up and answers it" "自然资源局受理诉求并答复"
  run banjie demand assign "$demand" "${land[@]}" --handler 孙丽
  run banjie demand answer "$demand" "${land[@]}" --answer "已纳入12月8日规委会议题，请准备总平面图"
  say "Only the enterprise can close its demand: the liaison official is refused, the enterprise confirms and rates it" "只有企业本身能办结诉求：包保干部被拒绝，企业确认并评价"
  try banjie demand close "$demand" "${liaison[@]}" --satisfaction 5
  run banjie demand close "$demand" "${firm[@]}" --satisfaction 5 --comment 满意
fi

say "Ratings (好差评): the enterprise rates its concluded company registration" "好差评：企业评价已办结的企业设立登记"
run banjie rate "$n3" "${firm[@]}" --level 5 --tag 高效 --tag 热情

say "The food licence is concluded too, but the enterprise is unhappy: a 差评 opens a rectification (整改)" "食品经营许可也办结了，但企业不满意：差评启动整改"
banjie case resume "$n1" >/dev/null
banjie case complete "$n1" --outcome approved >/dev/null
run banjie rate "$n1" "${firm[@]}" --level 2 --comment "现场核查两次预约未到，耽误开业"
run banjie rectification list
say "张伟 concluded the case, so he may not verify the 差评 against himself; the department head 王芳 does" "张伟是办结人，不能核实针对自己的差评；由部门负责人王芳核实"
try banjie rectification verify "ZG-$n1" --valid --evidence "调取预约记录，情况属实"
run banjie rectification verify "ZG-$n1" "${head[@]}" --valid --evidence "调取预约记录，情况属实"
run banjie rectification rectify "ZG-$n1" "${head[@]}" --measures "核查预约改为当日电话确认，建立提醒制度"
say "The enterprise holds a certificate: it confirms the rectification itself, and then the head closes it" "企业持有证书：由企业自己确认整改，然后负责人办结"
run banjie rectification confirm "ZG-$n1" "${firm[@]}" --comment "整改到位，认可"
run banjie rectification close "ZG-$n1" "${head[@]}"
run banjie rating measures "${office[@]}" --from 2026-11-01 --to 2026-11-30 --by department

say "一窗受理: at the comprehensive window Z01, 张伟 receives citizen 李娜's construction permit, an item of the housing bureau (ZJJ)" "一窗受理：张伟在 Z01 综合窗口收取市民李娜的施工许可申请，该事项属住建局（ZJJ）"
n4=$(banjie case submit --item ZJJ-001 --applicant 李娜 --window Z01 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
run banjie case show "$n4"

say "容缺受理: 赵敏 of the housing bureau accepts it while the construction contract is still to come (promised in 5 working days)" "容缺受理：住建局赵敏在施工合同尚未提交时先行受理（承诺 5 个工作日内补齐）"
run banjie case accept "$n4" "${other[@]}" --pending 施工合同
say "Approval waits for the pending material; once it is recorded as supplied, the case is approved" "容缺材料补齐前不能准予许可；登记补齐后准予许可"
try banjie case complete "$n4" "${other[@]}" --outcome approved
run banjie case supplied-materials "$n4" "${other[@]}" --material 施工合同
banjie case complete "$n4" "${other[@]}" --outcome approved >/dev/null

say "出件 back at the comprehensive window; 李娜 rates the service on Z01's rating pad (评价器) — a 差评" "回到综合窗口出件；李娜在 Z01 的评价器上评价——差评"
run banjie case deliver "$n4" --at Z01
run banjie rate "$n4" "${pad[@]}" --level 2 --comment "补交材料跑了两趟，一次性告知没有说全"
say "The pad may rate only the case its window has just served, once" "评价器只能评价本窗口刚办完的办件，且只能评一次"
try banjie rate "$n3" "${pad[@]}" --level 5

say "The rectification of 李娜's 差评: 赵敏 (the clerk rated) may not verify it; the housing bureau's head 钱涛 does" "李娜差评的整改：被评价的赵敏不能核实；由住建局负责人钱涛核实"
try banjie rectification verify "ZG-$n4" "${other[@]}" --valid --evidence "一次性告知清单漏列施工合同"
run banjie rectification verify "ZG-$n4" "${zjj_head[@]}" --valid --evidence "一次性告知清单漏列施工合同"
run banjie rectification rectify "ZG-$n4" "${zjj_head[@]}" --measures "修订一次性告知清单，综合窗口与住建局每周核对"
say "李娜 has no certificate: the follow-up call records her answer, and her confirmation lets the head close it" "李娜没有证书：回访电话记录她的答复，经她确认后负责人办结"
try banjie rectification close "ZG-$n4" "${zjj_head[@]}"
run banjie rectification follow-up "ZG-$n4" "${zjj_head[@]}" --result "电话回访李娜，认可整改措施" --satisfied
run banjie rectification close "ZG-$n4" "${zjj_head[@]}"

say "督办: the office supervises the overdue 2-hour registration; the bureau replies with evidence and the office closes it" "督办：营商办督办超期的两小时登记；部门附证据回复，营商办办结"
sup=$(banjie supervise issue "${office[@]}" --case "$n2" --action "当日办结并说明超时原因" --working-days 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
run banjie supervise show "$sup" "${office[@]}"
run banjie case complete "$n2" --outcome approved
run banjie supervise reply "$sup" --reply "已办结；超时原因为窗口人员外出培训，已调整排班" --evidence "办件 $n2 办结记录"
run banjie supervise close "$sup" "${office[@]}"

say "部门会签, hours later: the housing bureau answers with comments; the natural-resources bureau's clock still runs" "部门会签，数小时后：住建局提出意见；自然资源局仍在计时"
run banjie countersign answer "$hq" "${other[@]}" --comments "第三条建议补充容缺受理的适用范围"
run banjie countersign list --waiting-on ZRZYJ "${office[@]}"

say "一网通办: 陈静's company registration comes in online and the licence goes back by post — 零跑腿, no trip to the hall" "一网通办：陈静的企业登记网上申请、执照邮寄送达——零跑腿，无需到大厅"
n5=$(banjie case submit --channel online --item SCJGJ-002 --applicant 陈静 --uscc 91370830000001001N --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
banjie case accept "$n5" >/dev/null
banjie case complete "$n5" --outcome approved >/dev/null
run banjie case deliver "$n5" --by mail

say "The office checks the hash-chained audit log" "营商办核验哈希链审计日志"
run banjie admin audit verify "${office[@]}"

say "The next afternoon: banjied restarts with its clock at Tue 2026-12-01 13:30 (everything is on disk; nothing is lost)" "次日下午：banjied 重启，时钟为 2026-12-01 周二 13:30（数据都已落盘，不会丢失）"
kill $server; wait $server 2>/dev/null || true
start_server 2026-12-01T13:30:00+08:00
say "The urgent draft: 80 % of the natural-resources bureau's working time is gone — yellow, with an alert to that bureau" "急件：自然资源局的会签时间已用去 80%——黄色，并向该局预警"
for _ in $(seq 1 90); do
  case $(banjie countersign show "$hq2" --json | json_get units.0.sla.colour) in COLOUR_YELLOW|COLOUR_RED) break ;; esac
  sleep 1
done
run banjie countersign show "$hq2" "${office[@]}"
for _ in $(seq 1 20); do banjie alerts --department ZRZYJ --json "${office[@]}" | grep -q countersign.yellow && break; sleep 0.5; done
run banjie alerts --department ZRZYJ "${office[@]}"

say "年度目标 against the time progress: where the year so far falls short, the sweeper has warned" "年度目标对照时间进度：进度落后的指标已由巡检预警"
run banjie targets show "${office[@]}"

say "The administration office's SLA dashboard for the month" "营商办本月的办理时效看板"
run banjie dashboard --period 2026-11 --by department "${office[@]}"
say "The same month by channel (受理渠道), with 零跑腿" "同一月份按受理渠道统计，含零跑腿"
run banjie dashboard --period 2026-11 --by channel "${office[@]}"
say "The same month as one HTML page with SVG charts, to open in a browser or send by mail" "同一月份生成带 SVG 图表的 HTML 页面，可在浏览器打开或邮件发送"
run banjie report --period 2026-11 --html $demo/report-2026-11.html "${office[@]}"

say "Exemplary cases (优质案例): the department nominates its one-day company registration" "优质案例：部门推荐一日办结的企业设立登记"
run banjie exemplary nominate --case "$n3" --account "材料齐全，受理后当场办结，企业满意"

say "Star service (星级服务): the office previews this month's stars (rule set in docs/AWARDS.md)" "星级服务：营商办试算本月星级（评定规则见 docs/AWARDS.md）"
run banjie award preview 2026-11 "${office[@]}"


if [ "$wait_at_end" = 1 ] && [ -t 0 ]; then
  say "banjied is still running on 127.0.0.1:$port (log: $demo/banjied.log). Try it:" "banjied 仍在 127.0.0.1:$port 运行（日志：$demo/banjied.log）。可以试试："
  echo "  export PATH=\"$bin:\$PATH\" BANJIE_SERVER=$BANJIE_SERVER BANJIE_CA=$BANJIE_CA BANJIE_CERT=$BANJIE_CERT BANJIE_KEY=$BANJIE_KEY"
  echo "  banjie case list; banjie case show $n2; banjie --help"
  line "  curl -s http://127.0.0.1:9464/metrics    # Prometheus metrics (docs/OPERATIONS.md)" "  curl -s http://127.0.0.1:9464/metrics    # Prometheus 指标（docs/OPERATIONS.md）"
  line "Press Ctrl-C to stop the server." "按 Ctrl-C 停止服务器。"
  wait $server
fi
