import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// `banjie dashboard`: the SLA dashboard of a period (office: the county or one department;
/// clerk: its own department). Labels in the user's language (`Language.current`).
struct DashboardCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dashboard", abstract: t("dashboard.abstract"),
    discussion: t("dashboard.discussion"))

  typealias Client = Banjie_V1_DashboardService.Client<BanjieClientTransport>

  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.period")), transform: Normalize.month) var period: String?
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.from")), transform: Normalize.day) var from: String?
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.to")), transform: Normalize.day) var to: String?
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.department")), transform: Normalize.code) var department: String = ""
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.by"))) var by: String = ""
  @Flag(name: .long, help: ArgumentHelp(t("dashboard.help.json"))) var json = false
  @Flag(name: .long, help: ArgumentHelp(t("dashboard.help.csv"))) var csv = false
  @Flag(name: .long, help: ArgumentHelp(t("dashboard.help.watch"))) var watch = false

  func validate() throws {
    if self.json && self.csv { throw ValidationError(t("dashboard.error.jsonCSV")) }
    if self.period != nil && (self.from != nil || self.to != nil) { throw ValidationError(t("dashboard.error.periodOrRange")) }
    if (self.from == nil) != (self.to == nil) { throw ValidationError(t("dashboard.error.fromTo")) }
    if !self.by.isEmpty && !["department", "item", "window", "township", "channel"].contains(self.by) {
      throw ValidationError(t("dashboard.error.by"))
    }
  }

  /// The period's first and last day.
  func days() throws -> (String, String) {
    if let from = self.from, let to = self.to { return (from, to) }
    let month: (Int, Int)
    if let period = self.period {
      let parts = period.split(separator: "-")
      guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m), (1...9999).contains(y) else {
        throw ValidationError(t("dashboard.error.period", period))
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
      // A CSV watcher is one file: its byte order mark once, then a table (header and rows) per update.
      if csv { FileHandle.standardOutput.write(Data(CSVTable.byteOrderMark.utf8)) }
      // A restarted server or a dropped network is waited out (Reconnect); each new stream
      // starts with a fresh dashboard, so nothing is missed.
      try await Reconnect.forever { reconnected in
        try await self.connection.withClient { client, _, _ in
          try await Client(wrapping: client).watchDashboard(request, options: options) { response in
            if reconnected { Reconnect.announceReconnected() }
            for try await dashboard in response.messages {
              // One write per update, straight to the descriptor: a watcher is often piped.
              let text: String
              if json {
                text = try dashboard.jsonString(options: CaseOutput.jsonOptions) + "\n"
              } else if csv {
                text = DashboardOutput.csvUpdate(dashboard)
              } else {
                let clear = Terminal.useColour ? "\u{1B}[2J\u{1B}[H" : "\n"
                text = clear + DashboardOutput.render(dashboard) + "\n"
              }
              FileHandle.standardOutput.write(Data(text.utf8))
            }
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
      DashboardOutput.csv(result).print()
      return
    }
    print(DashboardOutput.render(result))
  }
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

  /// The dashboard for a terminal, its labels in the user's language.
  static func render(_ d: Banjie_V1_Dashboard) -> String {
    let scope = d.departmentCode.isEmpty ? t("dashboard.allDepartments") : d.departmentCode
    var out = [Terminal.bold(t("dashboard.title") + "  \(d.from) – \(d.to)  \(scope)")]
    guard d.hasData_p else {
      out.append(t("dashboard.noData"))
      return out.joined(separator: "\n")
    }
    let s = d.summary
    var summary = TextTable(t("dashboard.col.measure"), t("dashboard.col.value"))
    summary.add([t("dashboard.received"), String(s.received)])
    summary.add([t("dashboard.accepted"), String(s.accepted)])
    summary.add([t("dashboard.completed"), String(s.completed)])
    summary.add(
      [t("dashboard.onTime"), percent(s.onTimeRate, of: s.completed) + "  " + bar(s.onTimeRate)],
      colour: s.completed == 0 ? nil : colour(onTime: s.onTimeRate))
    summary.add([t("dashboard.oneDay"), percent(s.oneDayRate, of: s.completed)])
    summary.add([t("dashboard.openGreen"), String(s.openGreen)], colour: Terminal.green)
    summary.add([t("dashboard.openYellow"), String(s.openYellow)], colour: s.openYellow > 0 ? Terminal.yellow : nil)
    summary.add([t("dashboard.openRed"), String(s.openRed)], colour: s.openRed > 0 ? Terminal.red : nil)
    summary.add([
      t("dashboard.hours"),
      "\(hours(s.handlingHoursMean, of: s.completed)) / \(hours(s.handlingHoursP50, of: s.completed)) / \(hours(s.handlingHoursP90, of: s.completed))",
    ])
    summary.add([t("dashboard.goodRatings"), percent(d.goodShare, of: s.rated) + (s.rated == 0 ? "" : "  (\(s.good)/\(s.rated))")])
    summary.add([t("dashboard.unrated"), percent(d.unratedShare, of: s.completed)])
    summary.add(
      [t("dashboard.rectifications"), "\(d.openRectifications) / \(d.overdueRectifications)"],
      colour: d.overdueRectifications > 0 ? Terminal.red : nil)
    summary.add([t("dashboard.demands"), "\(d.openDemands) / \(d.overdueDemands)"], colour: d.overdueDemands > 0 ? Terminal.red : nil)
    summary.add(
      [t("dashboard.supervisions"), "\(d.openSupervisions) / \(d.overdueSupervisions)"],
      colour: d.overdueSupervisions > 0 ? Terminal.red : nil)
    summary.add([
      t("dashboard.zeroTrip"), percent(d.zeroTripRate, of: s.completed) + (s.completed == 0 ? "" : "  (\(d.zeroTrip)/\(s.completed))"),
    ])
    summary.add([
      t("dashboard.visited"),
      percent(d.visitCoverage, of: d.enterprises) + (d.enterprises == 0 ? "" : "  (\(d.visitedEnterprises)/\(d.enterprises))"),
    ])
    out.append(summary.render())
    if d.trend.count > 1 {
      out.append("")
      out.append(Terminal.bold(t("dashboard.dailyTrend")) + "  \(d.trend.first?.day ?? "") … \(d.trend.last?.day ?? "")")
      out.append(
        t("dashboard.trend.received") + " " + sparkline(d.trend.map { Double($0.received) }) + "  "
          + t("dashboard.trend.max", String(d.trend.map(\.received).max() ?? 0)))
      out.append(
        t("dashboard.trend.completed") + " " + sparkline(d.trend.map { Double($0.completed) }) + "  "
          + t("dashboard.trend.max", String(d.trend.map(\.completed).max() ?? 0)))
      out.append(t("dashboard.trend.onTime") + " " + sparkline(d.trend.map { $0.completed == 0 ? nil : $0.onTimeRate }, floor: 0))
    }
    if !d.overdue.isEmpty {
      out.append("")
      out.append(Terminal.paint(t("dashboard.mostOverdue"), Terminal.red))
      var table = TextTable(
        t("dashboard.col.case"), t("dashboard.item"), t("dashboard.department"), t("dashboard.window"), t("dashboard.col.due"),
        t("dashboard.col.overdue"))
      for c in d.overdue {
        table.add([
          c.number, c.itemName, c.departmentCode, c.window, CaseOutput.shortTime(c.dueAt),
          String(format: "%.1f", c.overdueHours) + (c.suspended ? t("dashboard.suspended") : ""),
        ])
      }
      out.append(table.render())
    }
    if !d.by.isEmpty {
      let byLabel =
        [
          "department": t("dashboard.department"), "item": t("dashboard.item"), "window": t("dashboard.window"),
          "township": t("dashboard.township"), "channel": t("dashboard.channel"),
        ][d.by] ?? d.by
      // A row with no key (cases without a township, say) is named as such, never "total".
      let noKey = d.by == "township" ? t("dashboard.noKey") : t("dashboard.noKeyOther")
      var table = TextTable(
        byLabel, t("dashboard.col.name"), t("dashboard.received"), t("dashboard.completed"), t("dashboard.col.onTime"),
        t("dashboard.col.oneDay"), t("dashboard.col.good"), t("dashboard.col.open"), "")
      for r in d.rows {
        table.add(
          [
            r.key.isEmpty ? noKey : r.key,
            d.by == "channel" ? t("channel.\(r.key.lowercased().replacingOccurrences(of: "_", with: "-"))") : r.name, String(r.received),
            String(r.completed), percent(r.onTimeRate, of: r.completed),
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
    if !d.countersigns.isEmpty {
      // 部门会签 (docs/DOMAIN.md §23): answers in the period and on time; drafts waiting now.
      out.append("")
      out.append(Terminal.bold(t("dashboard.countersigns")))
      var table = TextTable(
        t("dashboard.department"), t("dashboard.col.name"), t("dashboard.col.answered"), t("dashboard.col.onTime"),
        t("dashboard.col.waiting"))
      for f in d.countersigns {
        table.add(
          [f.unit, f.name, String(f.answered), percent(f.onTimeRate, of: f.answered), "\(f.waiting) / \(f.overdue)"],
          colour: f.overdue > 0 ? Terminal.red : nil)
      }
      out.append(table.render())
    }
    if d.hasTargets, !d.targets.targets.isEmpty {
      // 年度目标 (docs/DOMAIN.md §26): each target of the year against the time progress.
      out.append("")
      out.append(Terminal.bold(t("dashboard.targets")))
      out.append(contentsOf: TargetOutput.lines(d.targets))
    }
    if !d.proposals.isEmpty {
      // 建议/提案 (docs/DOMAIN.md §25): assigned and replied in the period, on time, assessments; replies awaited now.
      out.append("")
      out.append(Terminal.bold(t("dashboard.proposals")))
      var table = TextTable(
        t("dashboard.department"), t("dashboard.col.name"), t("dashboard.col.proposalAssigned"), t("dashboard.col.proposalReplied"),
        t("dashboard.col.onTime"), t("dashboard.col.proposalAssessed"), t("dashboard.col.proposalSatisfied"), t("dashboard.col.waiting"))
      for f in d.proposals {
        let assessed = f.satisfied + f.basicallySatisfied + f.dissatisfied
        table.add(
          [
            f.department, f.name, String(f.assigned), String(f.replied), percent(f.onTimeRate, of: f.replied),
            "\(f.satisfied) / \(f.basicallySatisfied) / \(f.dissatisfied)", percent(f.satisfactionRate, of: assessed),
            "\(f.waiting) / \(f.overdue)",
          ], colour: f.overdue > 0 ? Terminal.red : nil)
      }
      out.append(table.render())
    }
    if !d.appeals.isEmpty {
      // 群众诉求 (docs/DOMAIN.md §24): by department and channel — assigned, first contacts and resolutions on
      // time, satisfaction of the call-backs in the period; waiting and overdue now.
      out.append("")
      out.append(Terminal.bold(t("dashboard.appeals")))
      var table = TextTable(
        t("dashboard.department"), t("dashboard.col.name"), t("dashboard.channel"), t("dashboard.appeal.assigned"),
        t("dashboard.appeal.responseRate"), t("dashboard.appeal.resolved"), t("dashboard.appeal.resolutionRate"),
        t("dashboard.appeal.satisfaction"), t("dashboard.col.waiting"))
      for f in d.appeals {
        table.add(
          [
            f.department, f.departmentName, AppealOutput.channelLabel(f.channel), String(f.assigned),
            percent(f.responseRate, of: f.responded), String(f.resolved), percent(f.resolutionRate, of: f.resolved),
            percent(f.satisfactionRate, of: f.callBacks), "\(f.waiting) / \(f.overdue)",
          ], colour: f.overdue > 0 ? Terminal.red : nil)
      }
      out.append(table.render())
    }
    out.append(Terminal.paint(t("dashboard.asOfNow"), Terminal.dim))
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

  /// The dashboard as CSV: the breakdown rows, then the summary row, the only one keyed
  /// `total`; a breakdown row with no key (cases without a township, say) keeps its empty key
  /// and is named "(none)". No data, no rows.
  static func csv(_ d: Banjie_V1_Dashboard) -> CSVTable {
    var table = CSVTable([
      "key", "name", "received", "accepted", "completed", "on_time", "one_day", "on_time_rate", "one_day_rate", "open_green",
      "open_yellow", "open_red", "handling_hours_mean", "handling_hours_p50", "handling_hours_p90", "rated", "good", "good_share",
      "unrated_share",
    ])
    guard d.hasData_p else { return table }
    var rows: [(String, String, Banjie_V1_DashboardFigures)] = d.rows.map { r in (r.key, r.key.isEmpty ? "(none)" : r.name, r) }
    rows.append(("total", d.summary.name, d.summary))
    for (key, name, r) in rows {
      table.add([
        key, name, String(r.received), String(r.accepted), String(r.completed), String(r.onTime), String(r.oneDay),
        String(format: "%.4f", r.onTimeRate), String(format: "%.4f", r.oneDayRate), String(r.openGreen), String(r.openYellow),
        String(r.openRed), String(format: "%.2f", r.handlingHoursMean), String(format: "%.2f", r.handlingHoursP50),
        String(format: "%.2f", r.handlingHoursP90), String(r.rated), String(r.good), String(format: "%.4f", r.goodShare),
        String(format: "%.4f", r.unratedShare),
      ])
    }
    return table
  }

  /// One update of `--watch --csv`: the table without the byte order mark, which went out once
  /// before the first update.
  static func csvUpdate(_ d: Banjie_V1_Dashboard) -> String {
    String(Self.csv(d).render().unicodeScalars.dropFirst())
  }
}
