import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// `banjie dashboard`: the SLA dashboard of a period (office: the county or one department;
/// clerk: its own department). Chinese labels when LANG starts with zh.
struct DashboardCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dashboard", abstract: "The SLA dashboard of a period: volumes, on-time and one-day rates, open cases by colour.",
    discussion: """
      The period is --period YYYY-MM (a month) or --from/--to (days, Asia/Shanghai, at most 366).
      Without either: this month so far. Prints "no data" when no case falls in the period.
      """)

  typealias Client = Banjie_V1_DashboardService.Client<BanjieClientTransport>

  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: "A month, YYYY-MM.") var period: String?
  @Option(name: .long, help: "First day, YYYY-MM-DD.") var from: String?
  @Option(name: .long, help: "Last day, YYYY-MM-DD, inclusive.") var to: String?
  @Option(name: .long, help: "Only this department (office; a clerk always sees its own).") var department: String = ""
  @Option(name: .long, help: "Break down by department, item, window or township.") var by: String = ""
  @Flag(name: .long, help: "Print JSON.") var json = false
  @Flag(name: .long, help: "Print CSV (the breakdown rows, or the summary).") var csv = false
  @Flag(name: .long, help: "Keep the view current: redraw whenever the figures change, until interrupted.") var watch = false

  func validate() throws {
    if self.json && self.csv { throw ValidationError("--json and --csv exclude each other") }
    if self.period != nil && (self.from != nil || self.to != nil) { throw ValidationError("use --period or --from/--to, not both") }
    if (self.from == nil) != (self.to == nil) { throw ValidationError("--from and --to go together") }
    if !self.by.isEmpty && !["department", "item", "window", "township"].contains(self.by) {
      throw ValidationError("--by must be department, item, window or township")
    }
  }

  /// The period's first and last day.
  func days() throws -> (String, String) {
    if let from = self.from, let to = self.to { return (from, to) }
    let month: (Int, Int)
    if let period = self.period {
      let parts = period.split(separator: "-")
      guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m), (1...9999).contains(y) else {
        throw ValidationError("--period must be YYYY-MM, not \(period)")
      }
      month = (y, m)
    } else {
      var calendar = Calendar(identifier: .gregorian)
      calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
      let c = calendar.dateComponents([.year, .month], from: Date())
      month = (c.year ?? 2026, c.month ?? 1)
    }
    let first = try LocalDate(year: month.0, month: month.1, day: 1)
    let last = try LocalDate(year: month.0, month: month.1, day: LocalDate.daysIn(month: month.1, year: month.0))
    return (first.description, last.description)
  }

  func run() async throws {
    let (from, to) = try self.days()
    let request = Banjie_V1_DashboardRequest.with {
      $0.from = from
      $0.to = to
      $0.departmentCode = self.department
      $0.by = self.by
    }
    if self.watch {
      var options = self.connection.callOptions
      options.timeout = nil
      let json = self.json
      let csv = self.csv
      try await self.connection.withClient { client, _, _ in
        try await Client(wrapping: client).watchDashboard(request, options: options) { response in
          for try await dashboard in response.messages {
            // One write per update, straight to the descriptor: a watcher is often piped.
            let text: String
            if json {
              text = try dashboard.jsonString(options: CaseOutput.jsonOptions) + "\n"
            } else if csv {
              text = DashboardOutput.csv(dashboard) + "\n"
            } else {
              let clear = Terminal.useColour ? "\u{1B}[2J\u{1B}[H" : "\n"
              text = clear + DashboardOutput.render(dashboard, labels: DashboardLabels.current) + "\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
          }
        }
      }
      return
    }
    let result = try await self.connection.withClient { client, _, _ in
      try await Client(wrapping: client).getDashboard(request, options: self.connection.callOptions)
    }
    if self.json {
      print(try result.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    if self.csv {
      print(DashboardOutput.csv(result))
      return
    }
    print(DashboardOutput.render(result, labels: DashboardLabels.current))
  }
}

/// Labels in the caller's language.
struct DashboardLabels: Sendable {
  var chinese: Bool
  static var current: DashboardLabels { DashboardLabels(chinese: (ProcessInfo.processInfo.environment["LANG"] ?? "").hasPrefix("zh")) }
  func callAsFunction(_ english: String, _ chinese: String) -> String { self.chinese ? chinese : english }
}

enum DashboardOutput {
  static func percent(_ share: Double, of whole: UInt32) -> String {
    whole == 0 ? "—" : String(format: "%.1f%%", share * 100)
  }

  static func hours(_ value: Double, of whole: UInt32) -> String { whole == 0 ? "—" : String(format: "%.1f", value) }

  /// A bar of `width` cells for a share 0–1.
  static func bar(_ share: Double, width: Int = 20) -> String {
    let filled = max(0, min(width, Int((share * Double(width)).rounded())))
    return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
  }

  static func colour(onTime share: Double) -> String {
    share >= 0.95 ? Terminal.green : share >= 0.8 ? Terminal.yellow : Terminal.red
  }

  static func render(_ d: Banjie_V1_Dashboard, labels l: DashboardLabels) -> String {
    let scope = d.departmentCode.isEmpty ? l("all departments", "全部部门") : d.departmentCode
    var out = [Terminal.bold(l("SLA dashboard", "办件时效看板") + "  \(d.from) – \(d.to)  \(scope)")]
    guard d.hasData_p else {
      out.append(l("no data", "无数据"))
      return out.joined(separator: "\n")
    }
    let s = d.summary
    var summary = TextTable(l("measure", "指标"), l("value", "数值"))
    summary.add([l("received", "收件"), String(s.received)])
    summary.add([l("accepted", "受理"), String(s.accepted)])
    summary.add([l("completed", "办结"), String(s.completed)])
    summary.add(
      [l("on time", "按时办结率"), percent(s.onTimeRate, of: s.completed) + "  " + bar(s.onTimeRate)],
      colour: s.completed == 0 ? nil : colour(onTime: s.onTimeRate))
    summary.add([l("one day", "一日办结率"), percent(s.oneDayRate, of: s.completed)])
    summary.add([l("open green", "在办·绿"), String(s.openGreen)], colour: Terminal.green)
    summary.add([l("open yellow", "在办·黄"), String(s.openYellow)], colour: s.openYellow > 0 ? Terminal.yellow : nil)
    summary.add([l("open red", "在办·红"), String(s.openRed)], colour: s.openRed > 0 ? Terminal.red : nil)
    summary.add([
      l("working hours mean / p50 / p90", "办理工时 均值/中位/P90"),
      "\(hours(s.handlingHoursMean, of: s.completed)) / \(hours(s.handlingHoursP50, of: s.completed)) / \(hours(s.handlingHoursP90, of: s.completed))",
    ])
    summary.add([l("good ratings", "好评率"), percent(d.goodShare, of: s.rated) + (s.rated == 0 ? "" : "  (\(s.good)/\(s.rated))")])
    summary.add([l("unrated", "未评价率"), percent(d.unratedShare, of: s.completed)])
    summary.add(
      [l("rectifications open / overdue", "整改 在办/逾期"), "\(d.openRectifications) / \(d.overdueRectifications)"],
      colour: d.overdueRectifications > 0 ? Terminal.red : nil)
    summary.add(
      [l("demands open / overdue", "诉求 在办/逾期"), "\(d.openDemands) / \(d.overdueDemands)"],
      colour: d.overdueDemands > 0 ? Terminal.red : nil)
    summary.add([
      l("enterprises visited", "走访覆盖率"),
      percent(d.visitCoverage, of: d.enterprises) + (d.enterprises == 0 ? "" : "  (\(d.visitedEnterprises)/\(d.enterprises))"),
    ])
    out.append(summary.render())
    if d.trend.count > 1 {
      out.append("")
      out.append(Terminal.bold(l("daily trend", "每日趋势")) + "  \(d.trend.first?.day ?? "") … \(d.trend.last?.day ?? "")")
      out.append(
        l("received ", "收件 ") + " " + sparkline(d.trend.map { Double($0.received) }) + "  max \(d.trend.map(\.received).max() ?? 0)")
      out.append(
        l("completed", "办结 ") + " " + sparkline(d.trend.map { Double($0.completed) }) + "  max \(d.trend.map(\.completed).max() ?? 0)")
      out.append(l("on time  ", "按时率") + " " + sparkline(d.trend.map { $0.completed == 0 ? nil : $0.onTimeRate }, floor: 0))
    }
    if !d.overdue.isEmpty {
      out.append("")
      out.append(Terminal.paint(l("most overdue open cases", "逾期最久的在办件"), Terminal.red))
      var table = TextTable(
        l("case", "办件编号"), l("item", "事项"), l("department", "部门"), l("window", "窗口"), l("due", "时限"), l("overdue (working h)", "超时(工时)"))
      for c in d.overdue {
        table.add([
          c.number, c.itemName, c.departmentCode, c.window, CaseOutput.shortTime(c.dueAt),
          String(format: "%.1f", c.overdueHours) + (c.suspended ? l(" (suspended)", "（中止）") : ""),
        ])
      }
      out.append(table.render())
    }
    if !d.by.isEmpty {
      let byLabel =
        ["department": l("department", "部门"), "item": l("item", "事项"), "window": l("window", "窗口"), "township": l("township", "乡镇")][d.by]
        ?? d.by
      var table = TextTable(
        byLabel, l("name", "名称"), l("received", "收件"), l("completed", "办结"), l("on time", "按时率"),
        l("one day", "一日率"), l("good", "好评率"), l("open G/Y/R", "在办 绿/黄/红"), "")
      for r in d.rows {
        table.add(
          [
            r.key.isEmpty ? "—" : r.key, r.name, String(r.received), String(r.completed), percent(r.onTimeRate, of: r.completed),
            percent(r.oneDayRate, of: r.completed), percent(r.goodShare, of: r.rated), "\(r.openGreen)/\(r.openYellow)/\(r.openRed)",
            r.completed == 0 ? "" : bar(r.onTimeRate),
          ],
          colour: r.completed == 0 ? nil : colour(onTime: r.onTimeRate))
      }
      out.append("")
      // The bar column may be empty: no trailing blanks on such lines.
      out.append(
        table.render().split(separator: "\n", omittingEmptySubsequences: false)
          .map { line in String(line.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n"))
    }
    out.append(Terminal.paint(l("open cases and open rectifications/demands are as of now", "在办件、在办整改与诉求为当前状态"), Terminal.dim))
    return out.joined(separator: "\n")
  }

  /// One cell per value, ▁ to █, scaled from `floor` (default: the smallest value) to the
  /// largest; a missing value is a blank.
  static func sparkline(_ values: [Double?], floor: Double? = nil) -> String {
    let present = values.compactMap { $0 }
    guard let high = present.max() else { return "" }
    let low = floor ?? present.min() ?? 0
    let ticks = Array("▁▂▃▄▅▆▇█")
    return String(
      values.map { value -> Character in
        guard let value else { return " " }
        guard high > low else { return ticks[ticks.count / 2] }
        return ticks[min(ticks.count - 1, max(0, Int((value - low) / (high - low) * Double(ticks.count - 1) + 0.5)))]
      })
  }

  static func csvField(_ text: String) -> String {
    text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
      ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
  }

  static func csv(_ d: Banjie_V1_Dashboard) -> String {
    var lines = [
      "key,name,received,accepted,completed,on_time,one_day,on_time_rate,one_day_rate,open_green,open_yellow,open_red,"
        + "handling_hours_mean,handling_hours_p50,handling_hours_p90,rated,good,good_share,unrated_share"
    ]
    let rows = d.hasData_p ? (d.rows.isEmpty ? [d.summary] : d.rows + [d.summary]) : []
    for r in rows {
      let cells: [String] = [
        r.key.isEmpty ? "total" : r.key, r.name, String(r.received), String(r.accepted), String(r.completed),
        String(r.onTime), String(r.oneDay), String(format: "%.4f", r.onTimeRate), String(format: "%.4f", r.oneDayRate),
        String(r.openGreen), String(r.openYellow), String(r.openRed), String(format: "%.2f", r.handlingHoursMean),
        String(format: "%.2f", r.handlingHoursP50), String(format: "%.2f", r.handlingHoursP90), String(r.rated), String(r.good),
        String(format: "%.4f", r.goodShare), String(format: "%.4f", r.unratedShare),
      ]
      lines.append(cells.map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n")
  }
}
