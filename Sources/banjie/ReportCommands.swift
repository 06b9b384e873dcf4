import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// `banjie report`: the dashboard of a period as one self-contained HTML page with SVG charts.
struct ReportCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report", abstract: t("report.abstract"),
    discussion: t("report.discussion"))

  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.period")), transform: Normalize.month) var period: String?
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.from")), transform: Normalize.day) var from: String?
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.to")), transform: Normalize.day) var to: String?
  @Option(name: .long, help: ArgumentHelp(t("dashboard.help.department")), transform: Normalize.code) var department: String = ""
  @Option(name: .long, help: ArgumentHelp(t("report.help.html"))) var html: String

  func run() async throws {
    var dashboard = DashboardCommand()
    dashboard.period = self.period
    dashboard.from = self.from
    dashboard.to = self.to
    if self.period != nil && (self.from != nil || self.to != nil) { throw ValidationError(t("dashboard.error.periodOrRange")) }
    if (self.from == nil) != (self.to == nil) { throw ValidationError(t("dashboard.error.fromTo")) }
    let (from, to) = try dashboard.days()
    let request = Banjie_V1_DashboardRequest.with {
      $0.from = from
      $0.to = to
      $0.departmentCode = self.department
      $0.by = "department"
    }
    let result = try await self.connection.withClient { client, _, _ in
      try await Banjie_V1_DashboardService.Client(wrapping: client).getDashboard(request, options: self.connection.callOptions)
    }
    let page = HTMLReport.render(result)
    // Written beside the target and renamed into place: never half a file (exit 73).
    try FileOutput.write(page, to: self.html)
    print(t("report.wrote", self.html, page.utf8.count))
  }
}

/// The report page: inline CSS and SVG only.
enum HTMLReport {
  static func escape(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(c)
      }
    }
    return out
  }

  static func pct(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
  static func num(_ x: Double) -> String { String(format: "%.1f", x) }

  static let green = "#2e7d32", yellow = "#f9a825", red = "#c62828", blue = "#1565c0", grey = "#9e9e9e"

  /// The page, its texts in the user's language (`Language.current`).
  static func render(_ d: Banjie_V1_Dashboard) -> String {
    let s = d.summary
    let scope = d.departmentCode.isEmpty ? t("dashboard.allDepartments") : d.departmentCode
    let title = t("dashboard.title") + " · \(d.from) – \(d.to) · \(scope)"
    var body: [String] = []
    body.append("<h1>\(escape(title))</h1>")
    body.append(
      "<p class=\"meta\">\(escape(t("report.computed"))) \(escape(CaseOutput.shortTime(d.computedAt))) · \(escape(t("report.asOf")))</p>")
    if !d.hasData_p {
      body.append("<p class=\"nodata\">\(escape(t("report.noData")))</p>")
      return page(title: title, body: body)
    }
    func tile(_ label: String, _ value: String, _ note: String = "", colour: String? = nil) -> String {
      "<div class=\"tile\"><div class=\"label\">\(escape(label))</div><div class=\"value\"\(colour.map { " style=\"color:\($0)\"" } ?? "")>\(escape(value))</div>"
        + "<div class=\"note\">\(escape(note))</div></div>"
    }
    let na = t("dashboard.noData")
    body.append("<div class=\"tiles\">")
    body.append(tile(t("dashboard.received"), String(s.received), t("dashboard.accepted") + " \(s.accepted)"))
    body.append(tile(t("dashboard.completed"), String(s.completed)))
    body.append(
      tile(
        t("dashboard.onTime"), s.completed == 0 ? na : pct(s.onTimeRate), "\(s.onTime)/\(s.completed)",
        colour: s.completed == 0 ? nil : s.onTimeRate >= 0.95 ? green : s.onTimeRate >= 0.8 ? yellow : red))
    body.append(tile(t("report.oneDay"), s.completed == 0 ? na : pct(s.oneDayRate), "\(s.oneDay)/\(s.completed)"))
    body.append(
      tile(
        t("dashboard.hours"),
        s.completed == 0 ? na : "\(num(s.handlingHoursMean)) / \(num(s.handlingHoursP50)) / \(num(s.handlingHoursP90))"))
    body.append(
      tile(
        t("dashboard.goodRatings"), s.rated == 0 ? na : pct(s.goodShare),
        "\(s.good)/\(s.rated) · " + t("report.unrated") + " " + (s.completed == 0 ? na : pct(s.unratedShare))))
    body.append(
      tile(
        t("dashboard.rectifications"), "\(d.openRectifications) / \(d.overdueRectifications)",
        colour: d.overdueRectifications > 0 ? red : nil))
    body.append(
      tile(t("dashboard.demands"), "\(d.openDemands) / \(d.overdueDemands)", colour: d.overdueDemands > 0 ? red : nil))
    body.append(
      tile(t("dashboard.visited"), d.enterprises == 0 ? na : pct(d.visitCoverage), "\(d.visitedEnterprises)/\(d.enterprises)"))
    body.append("</div>")

    body.append("<section><h2>\(escape(t("report.h.trend")))</h2>\(trendChart(d.trend))</section>")
    body.append("<div class=\"row\">")
    body.append(
      "<section><h2>\(escape(t("report.h.onTime")))</h2>"
        + barChart(
          d.rows.filter { $0.completed > 0 }.map { ($0.name, $0.onTimeRate, "\($0.onTime)/\($0.completed)") },
          colourFor: { $0 >= 0.95 ? green : $0 >= 0.8 ? yellow : red }, empty: na) + "</section>")
    body.append("<section><h2>\(escape(t("report.h.colours")))</h2>\(colourSplit(s, empty: na))</section>")
    body.append("</div>")
    body.append(
      "<section><h2>\(escape(t("report.h.good")))</h2>"
        + barChart(
          d.rows.filter { $0.rated > 0 }.map { ($0.name, $0.goodShare, "\($0.good)/\($0.rated)") }, colourFor: { _ in blue }, empty: na)
        + "</section>")
    if !d.overdue.isEmpty {
      var rows =
        "<tr><th>\(escape(t("dashboard.col.case")))</th><th>\(escape(t("dashboard.item")))</th><th>\(escape(t("dashboard.department")))</th>"
        + "<th>\(escape(t("dashboard.window")))</th><th>\(escape(t("dashboard.col.due")))</th><th>\(escape(t("report.col.overdue")))</th></tr>"
      for c in d.overdue {
        rows +=
          "<tr><td>\(escape(c.number))</td><td>\(escape(c.itemName))</td><td>\(escape(c.departmentCode))</td><td>\(escape(c.window))</td>"
          + "<td>\(escape(CaseOutput.shortTime(c.dueAt)))</td><td class=\"num\">\(num(c.overdueHours))\(c.suspended ? escape(t("dashboard.suspended")) : "")</td></tr>"
      }
      body.append("<section><h2>\(escape(t("report.h.overdue")))</h2><table>\(rows)</table></section>")
    }
    return page(title: title, body: body)
  }

  static func page(title: String, body: [String]) -> String {
    """
    <!DOCTYPE html>
    <html lang="\(Language.current == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(escape(title))</title>
    <style>
    body{font-family:"Noto Sans CJK SC","Noto Sans SC","WenQuanYi Micro Hei","PingFang SC",sans-serif;margin:24px;color:#212121;background:#fafafa}
    h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:0 0 8px} .meta{color:#757575;margin:0 0 16px;font-size:13px}
    .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin-bottom:16px}
    .tile{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px}
    .label{font-size:12px;color:#616161} .value{font-size:22px;font-weight:600;margin:2px 0} .note{font-size:12px;color:#9e9e9e}
    section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:12px;margin-bottom:16px}
    .row{display:grid;grid-template-columns:2fr 1fr;gap:16px} .row section{margin-bottom:16px}
    table{border-collapse:collapse;width:100%;font-size:13px} th,td{border-bottom:1px solid #eee;padding:4px 6px;text-align:left} td.num{text-align:right}
    .nodata{font-size:18px;color:#757575} svg text{font-size:11px;fill:#424242}
    </style></head><body>
    \(body.joined(separator: "\n"))
    </body></html>
    """
  }

  /// Received and completed per day as bars, the on-time rate as a line on its own 0–100 % axis;
  /// a day with nothing completed has no rate point.
  static func trendChart(_ trend: [Banjie_V1_DashboardDay]) -> String {
    guard !trend.isEmpty else { return "<p>\(escape(t("dashboard.noData")))</p>" }
    let width = 900.0
    let height = 240.0
    let left = 40.0
    let right = 40.0
    let top = 10.0
    let bottom = 40.0
    let plotW = width - left - right
    let plotH = height - top - bottom
    let maxCount = Double(max(1, trend.map { max($0.received, $0.completed) }.max() ?? 1))
    let slot = plotW / Double(trend.count)
    let barW = max(1, slot * 0.4)
    var svg =
      "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-label=\"\(escape(t("dashboard.dailyTrend")))\">"
    for k in 0...4 {
      let y = top + plotH * Double(k) / 4
      svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" stroke=\"#eee\"/>"
      svg += "<text x=\"\(left - 4)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int((maxCount * Double(4 - k) / 4).rounded()))</text>"
      svg += "<text x=\"\(width - right + 4)\" y=\"\(y + 4)\">\(100 - 25 * k)%</text>"
    }
    var points: [String] = []
    for (i, day) in trend.enumerated() {
      let x = left + slot * Double(i)
      let hr = plotH * Double(day.received) / maxCount
      let hc = plotH * Double(day.completed) / maxCount
      svg +=
        "<rect x=\"\(num(x + slot * 0.1))\" y=\"\(num(top + plotH - hr))\" width=\"\(num(barW))\" height=\"\(num(hr))\" fill=\"#90caf9\"><title>\(escape(day.day)) \(escape(t("dashboard.received"))) \(day.received)</title></rect>"
      svg +=
        "<rect x=\"\(num(x + slot * 0.1 + barW))\" y=\"\(num(top + plotH - hc))\" width=\"\(num(barW))\" height=\"\(num(hc))\" fill=\"\(blue)\"><title>\(escape(day.day)) \(escape(t("dashboard.completed"))) \(day.completed)</title></rect>"
      if day.completed > 0 { points.append("\(num(x + slot / 2)),\(num(top + plotH * (1 - day.onTimeRate)))") }
      if trend.count <= 16 || i % max(1, trend.count / 8) == 0 {
        svg +=
          "<text x=\"\(num(x + slot / 2))\" y=\"\(height - bottom + 14)\" text-anchor=\"middle\">\(escape(String(day.day.suffix(5))))</text>"
      }
    }
    if points.count > 1 {
      svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(green)\" stroke-width=\"2\"/>"
    }
    for p in points {
      svg += "<circle cx=\"\(p.split(separator: ",")[0])\" cy=\"\(p.split(separator: ",")[1])\" r=\"2.5\" fill=\"\(green)\"/>"
    }
    let ly = height - 10
    svg +=
      "<rect x=\"\(left)\" y=\"\(ly - 9)\" width=\"10\" height=\"10\" fill=\"#90caf9\"/><text x=\"\(left + 14)\" y=\"\(ly)\">\(escape(t("dashboard.received")))</text>"
    svg +=
      "<rect x=\"\(left + 90)\" y=\"\(ly - 9)\" width=\"10\" height=\"10\" fill=\"\(blue)\"/><text x=\"\(left + 104)\" y=\"\(ly)\">\(escape(t("dashboard.completed")))</text>"
    svg +=
      "<line x1=\"\(left + 180)\" y1=\"\(ly - 4)\" x2=\"\(left + 196)\" y2=\"\(ly - 4)\" stroke=\"\(green)\" stroke-width=\"2\"/><text x=\"\(left + 200)\" y=\"\(ly)\">\(escape(t("report.rightAxis")))</text>"
    return svg + "</svg>"
  }

  /// Horizontal bars, one per (label, share 0–1, note).
  static func barChart(_ rows: [(String, Double, String)], colourFor: (Double) -> String, empty: String) -> String {
    guard !rows.isEmpty else { return "<p>\(escape(empty))</p>" }
    let width = 600.0
    let rowH = 24.0
    let labelW = 170.0
    let valueW = 110.0
    let plotW = width - labelW - valueW
    var svg =
      "<svg viewBox=\"0 0 \(Int(width)) \(Int(rowH * Double(rows.count) + 8))\" width=\"100%\" style=\"max-width:\(Int(width * 1.25))px\" role=\"img\">"
    for (i, row) in rows.enumerated() {
      let y = 4 + rowH * Double(i)
      svg += "<text x=\"\(labelW - 6)\" y=\"\(num(y + 15))\" text-anchor=\"end\">\(escape(row.0))</text>"
      svg += "<rect x=\"\(labelW)\" y=\"\(num(y + 3))\" width=\"\(num(plotW))\" height=\"16\" fill=\"#f0f0f0\"/>"
      svg +=
        "<rect x=\"\(labelW)\" y=\"\(num(y + 3))\" width=\"\(num(plotW * max(0, min(1, row.1))))\" height=\"16\" fill=\"\(colourFor(row.1))\"/>"
      svg += "<text x=\"\(num(labelW + plotW + 6))\" y=\"\(num(y + 15))\">\(pct(row.1)) (\(escape(row.2)))</text>"
    }
    return svg + "</svg>"
  }

  /// The open cases as one stacked bar and a legend with counts.
  static func colourSplit(_ s: Banjie_V1_DashboardFigures, empty: String) -> String {
    let parts: [(String, UInt32, String)] = [
      (t("colour.green"), s.openGreen, green), (t("colour.yellow"), s.openYellow, yellow), (t("colour.red"), s.openRed, red),
    ]
    let total = parts.map { Double($0.1) }.reduce(0, +)
    guard total > 0 else { return "<p>\(escape(t("report.noOpenCases")))</p>" }
    let width = 300.0
    var svg = "<svg viewBox=\"0 0 \(Int(width)) 110\" width=\"100%\" role=\"img\">"
    var x = 0.0
    for part in parts where part.1 > 0 {
      let w = width * Double(part.1) / total
      svg +=
        "<rect x=\"\(num(x))\" y=\"10\" width=\"\(num(w))\" height=\"36\" fill=\"\(part.2)\"><title>\(escape(part.0)) \(part.1)</title></rect>"
      x += w
    }
    for (i, part) in parts.enumerated() {
      let y = 66.0 + 16 * Double(i)
      svg += "<rect x=\"0\" y=\"\(y - 10)\" width=\"10\" height=\"10\" fill=\"\(part.2)\"/>"
      svg += "<text x=\"16\" y=\"\(y)\">\(escape(part.0)) \(part.1) (\(pct(Double(part.1) / total)))</text>"
    }
    return svg + "</svg>"
  }
}
