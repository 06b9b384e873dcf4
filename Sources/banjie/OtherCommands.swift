import ArgumentParser
import BanjieProto
import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization

struct CatalogCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "catalog",
    abstract: t("catalog.abstract"),
    subcommands: [Departments.self, Items.self, Import.self]
  )

  struct Departments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("catalog.departments.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CatalogService.Client(wrapping: client).listDepartments(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.departments(result.departments).print()
        return
      }
      var table = TextTable(t("catalog.col.code"), t("catalog.col.name"))
      for d in result.departments { table.add([d.code, d.name]) }
      print(table.render())
    }
  }

  struct Items: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("catalog.items.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("catalog.help.department")), transform: Normalize.code) var department: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CatalogService.Client(wrapping: client).listServiceItems(
          .with { $0.departmentCode = self.department ?? "" }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.serviceItems(result.items).print()
        return
      }
      var table = TextTable(
        t("catalog.col.code"), t("catalog.col.name"), t("catalog.col.department"), t("catalog.col.kind"), t("catalog.col.promised"),
        t("catalog.col.legal"), t("catalog.col.minorPending"))
      for i in result.items {
        let promised = t(i.limitUnit == .workingHours ? "catalog.limit.hours" : "catalog.limit.days", i.promisedLimit)
        table.add([
          i.code, i.name, i.departmentCode, t(i.kind == .instant ? "catalog.kind.instant" : "catalog.kind.promised"), promised,
          t("catalog.limit.days", i.legalLimitDays), t(i.allowsMinorPending ? "common.yes" : "common.no"),
        ])
      }
      print(table.render())
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("catalog.import.abstract"),
      discussion: t("catalog.import.discussion")
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("catalog.help.file"))) var file: String
    func run() async throws {
      let request: Banjie_V1_ImportCatalogRequest
      do {
        let text = try String(contentsOfFile: self.file, encoding: .utf8)
        request = try Banjie_V1_ImportCatalogRequest(jsonString: text)
      } catch {
        throw CLIError(exitCode: 64, message: t("catalog.error.read", self.file, "\(error)"))
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CatalogService.Client(wrapping: client).importCatalog(
          request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("catalog.imported", result.departmentsWritten, result.itemsWritten))
    }
  }
}

struct CalendarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "calendar",
    abstract: t("calendar.abstract"),
    subcommands: [Due.self, Show.self, Import.self]
  )

  struct Due: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("calendar.due.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("calendar.help.from"))) var from: String
    @Option(name: .long, help: ArgumentHelp(t("calendar.help.workingDays"))) var workingDays: UInt32?
    @Option(name: .long, help: ArgumentHelp(t("calendar.help.workingHours"))) var workingHours: UInt32?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    func validate() throws {
      guard (self.workingDays == nil) != (self.workingHours == nil) else {
        throw ValidationError(t("calendar.error.oneLimit"))
      }
    }
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CalendarService.Client(wrapping: client).computeDue(
          .with {
            $0.from = self.from
            $0.workingDays = self.workingDays ?? 0
            $0.workingHours = self.workingHours ?? 0
          }, options: self.connection.callOptions)
      }
      if self.json {
        try printJSON(["due": result.dueLocal, "provisional": result.provisional ? "true" : "false"])
      } else {
        let due = result.hasDue ? CaseOutput.shortTime(result.due) : result.dueLocal
        print(due + (result.provisional ? t("calendar.due.provisional") : ""))
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("calendar.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("calendar.help.month"))) var month: String
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let parts = self.month.split(separator: "-")
      guard parts.count == 2, let y = Int32(parts[0]), let m = Int32(parts[1]) else {
        throw CLIError(exitCode: 64, message: t("calendar.error.month"))
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CalendarService.Client(wrapping: client).getMonth(
          .with {
            $0.year = y
            $0.month = m
          }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.calendarDays(result).print()
        return
      }
      CalendarRendering.print(result)
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("calendar.import.abstract"),
      discussion: t("calendar.import.discussion")
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("calendar.help.file"))) var file: String
    @Flag(name: .long, help: ArgumentHelp(t("calendar.help.force"))) var force = false
    @Option(name: .long, help: ArgumentHelp(t("calendar.help.reason")), transform: Normalize.text) var reason: String?
    func validate() throws {
      if self.force && (self.reason ?? "").isEmpty { throw ValidationError(t("calendar.error.forceNeedsReason")) }
      if !self.force && self.reason != nil { throw ValidationError(t("calendar.error.reasonNeedsForce")) }
    }
    func run() async throws {
      guard let text = try? String(contentsOfFile: self.file, encoding: .utf8) else {
        throw CLIError(exitCode: 64, message: t("calendar.error.read", self.file))
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CalendarService.Client(wrapping: client).importYear(
          .with {
            $0.json = text
            $0.force = self.force
            $0.reason = self.reason ?? ""
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      // What force overrode goes to standard error, so that --json stays one document.
      for problem in result.overridden {
        FileHandle.standardError.write(Data((t("calendar.warning.forced", problem) + "\n").utf8))
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("calendar.imported", result.year, result.recomputed))
    }
  }
}

enum CalendarRendering {
  /// Display columns of one day: the day of the month right-aligned in 3, then its mark (休 or 班,
  /// two columns wide) or nothing, padded by display width so that a mark never shifts the columns.
  static let cellWidth = 5

  static func print(_ month: Banjie_V1_CalendarMonth) {
    Swift.print(Self.render(month).joined(separator: "\n"))
  }

  /// The month view's lines: title, weekday header, one line per week (trailing blanks trimmed),
  /// the legend, and for a provisional month what it does not yet know.
  static func render(_ month: Banjie_V1_CalendarMonth, language: Language = Language.current) -> [String] {
    func text(_ key: String, _ arguments: String...) -> String { Catalogue.text(key, arguments, language: language) }
    var lines = [
      Terminal.bold("\(month.year)-\(String(format: "%02d", month.month))") + text("calendar.month.workingDays", "\(month.workingDays)")
        + (month.provisional ? text("calendar.month.provisional") : "")
    ]
    // Each weekday name right-aligned over the day numbers (a Chinese name is two columns wide).
    let names = text("calendar.month.weekdays").split(separator: " ").map(String.init)
    let header = names.map { pad(String(repeating: " ", count: max(0, 3 - displayWidth($0))) + $0, to: Self.cellWidth) }
    lines.append(Self.trimmed(header.joined()))
    guard let first = month.days.first else { return lines }
    var line = String(repeating: " ", count: Self.cellWidth * (Self.isoWeekday(first.date) - 1))
    for day in month.days {
      let number = String(format: "%3d", Int(day.date.suffix(2)) ?? 0)
      let cell: String
      switch day.kind {
      case .holiday: cell = Terminal.paint(number + "休", Terminal.red)
      case .makeUpWorkday: cell = Terminal.paint(number + "班", Terminal.yellow)
      case .weekend: cell = Terminal.paint(number, Terminal.dim)
      default: cell = number
      }
      // Padding is counted on the visible text and added outside the colour codes.
      let visible = number + (day.kind == .holiday ? "休" : day.kind == .makeUpWorkday ? "班" : "")
      line += cell + String(repeating: " ", count: max(0, Self.cellWidth - displayWidth(visible)))
      if Self.isoWeekday(day.date) == 7 {
        lines.append(Self.trimmed(line))
        line = ""
      }
    }
    if !line.isEmpty { lines.append(Self.trimmed(line)) }
    lines.append(text("calendar.legend"))
    if month.provisional { lines.append(text("calendar.month.provisionalNote")) }
    return lines
  }

  /// A line without its trailing blanks (padding after the last day of a week).
  static func trimmed(_ line: String) -> String {
    var line = line
    while line.last == " " { line.removeLast() }
    return line
  }

  static func isoWeekday(_ date: String) -> Int {
    let parts = date.split(separator: "-").compactMap { Int($0) }
    guard parts.count == 3 else { return 1 }
    var components = DateComponents()
    components.year = parts[0]
    components.month = parts[1]
    components.day = parts[2]
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
    guard let d = calendar.date(from: components) else { return 1 }
    let w = calendar.component(.weekday, from: d)
    return w == 1 ? 7 : w - 1
  }
}

struct AlertsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "alerts",
    abstract: t("alerts.abstract"),
    discussion: t("alerts.discussion")
  )
  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: ArgumentHelp(t("alerts.help.department")), transform: Normalize.code) var department: String?
  @Flag(name: .long, help: ArgumentHelp(t("alerts.help.watch"))) var watch = false
  @Flag(name: .long, help: ArgumentHelp(t("alerts.help.json"))) var json = false

  func run() async throws {
    let json = self.json
    let department = self.department ?? ""
    let progress = AlertProgress()
    let print: @Sendable (Banjie_V1_Alert) throws -> Void = { alert in
      // Written straight to the file descriptor: a follower is often piped or stopped by a
      // signal, and buffered lines would be lost.
      let line =
        json
        ? try alert.jsonString(options: CaseOutput.jsonOptions)
        : Terminal.paint(AlertText.line(alert), CaseOutput.ansi(alert.colour))
      FileHandle.standardOutput.write(Data((line + "\n").utf8))
      progress.delivered(alert.id)
    }
    guard self.watch else {
      // The last 24 hours' alerts; the server ends the stream after them (recent_only).
      try await self.connection.withClient { client, _, _ in
        // Again from the next server of a list after a lost connection: what was printed is
        // not printed twice.
        let printed = progress.lastID
        try await Banjie_V1_CaseService.Client(wrapping: client).watchAlerts(
          .with {
            $0.departmentCode = department
            $0.recentOnly = true
          }, options: self.connection.callOptions
        ) { response in
          for try await alert in response.messages where alert.id > printed { try print(alert) }
        }
      }
      if !json && progress.count == 0 { Swift.print(t("alerts.none")) }
      return
    }
    // Following: the last 24 hours first, then new alerts as they are raised. After a lost
    // connection the watch resumes after the last alert it printed, so none raised in the gap
    // is lost and none is printed twice.
    var options = self.connection.callOptions
    options.timeout = nil
    try await Reconnect.forever { reconnected in
      try await self.connection.withClient { client, _, _ in
        let last = progress.lastID
        try await Banjie_V1_CaseService.Client(wrapping: client).watchAlerts(
          .with {
            $0.departmentCode = department
            $0.includeRecent = last == 0
            $0.afterID = last
          }, options: options
        ) { response in
          if reconnected { Reconnect.announceReconnected() }
          for try await alert in response.messages { try print(alert) }
        }
      }
    }
  }
}

/// How many alerts were printed, and the id of the last (where a resumed watch goes on).
final class AlertProgress: Sendable {
  private struct State {
    var count = 0
    var lastID: Int64 = 0
  }
  private let state = Mutex(State())

  func delivered(_ id: Int64) {
    self.state.withLock {
      $0.count += 1
      $0.lastID = max($0.lastID, id)
    }
  }

  var count: Int { self.state.withLock { $0.count } }
  var lastID: Int64 { self.state.withLock { $0.lastID } }
}

/// An alert as a person reads it: its time in Asia/Shanghai, its level, and its message in the
/// current language (rebuilt from the server's English text, whose due times are UTC).
enum AlertText {
  static func line(_ alert: Banjie_V1_Alert) -> String {
    let level: String
    switch alert.colour {
    case .yellow: level = t("alerts.level.yellow")
    case .red: level = t("alerts.level.red")
    case .green: level = t("alerts.level.green")
    default: level = "-"
    }
    return "\(CaseOutput.shortTime(alert.at))  \(level)  \(Self.message(alert))"
  }

  /// The server writes e.g. "case N is overdue (due 2026-11-30T09:00:00.000Z)", "demand N of
  /// USCC is overdue (…)", "rectification N has used 80 % of its working time (due …)", "case N was
  /// not decided within the intake limit…". Known shapes are rebuilt from the catalogue; any
  /// other text is shown as sent, with its UTC times turned into Asia/Shanghai times.
  static func message(_ alert: Banjie_V1_Alert) -> String {
    let text = alert.message
    let kind = alert.kind.split(separator: ".", maxSplits: 1).map(String.init)
    // 容缺材料: "pending material "M" of case N is overdue (promised by …)" / "… has used P % …".
    if kind.first == "pending", let material = Self.between(text, "pending material \"", "\" of case "),
      let promised = Self.between(text, "(promised by ", ")").flatMap({ HumanText.parseISO8601($0) }).map({ HumanText.time($0) })
    {
      let number = alert.subject.hasPrefix("case ") ? String(alert.subject.dropFirst(5)) : alert.subject
      if kind.last == "red" { return t("case.alert.pendingRed", number, material, promised) }
      if kind.last == "yellow", let used = Self.between(text, "has used ", " %") {
        return t("case.alert.pendingYellow", number, material, used, promised)
      }
    }
    // 会签: "countersign N awaits the answer of UNIT, overdue (due …)" / "…, P % of its working time used (due …)".
    if kind.first == "countersign", let unit = Self.between(text, "awaits the answer of ", ","),
      let due = Self.between(text, "(due ", ")").flatMap({ HumanText.parseISO8601($0) }).map({ HumanText.time($0) }),
      let number = alert.subject.split(separator: " ").dropFirst().first.map(String.init)
    {
      if kind.last == "red" { return t("alerts.text.countersignRed", number, unit, due) }
      if kind.last == "yellow", let used = Self.between(text, "\(unit), ", " %") {
        return t("alerts.text.countersignYellow", number, unit, used, due)
      }
    }
    // 建议/提案: "proposal N awaits the reply of DEPT, overdue (due …)" / "…, P % of its time used (due …)".
    if kind.first == "proposal", let department = Self.between(text, "awaits the reply of ", ","),
      let due = Self.between(text, "(due ", ")").flatMap({ HumanText.parseISO8601($0) }).map({ HumanText.time($0) }),
      let number = alert.subject.split(separator: " ").dropFirst().first.map(String.init)
    {
      if kind.last == "red" { return t("alerts.text.proposalRed", number, department, due) }
      if kind.last == "yellow", let used = Self.between(text, "\(department), ", " %") {
        return t("alerts.text.proposalYellow", number, department, used, due)
      }
    }
    // 年度目标: "target M of UNIT for YEAR is behind: A against E expected (target T, time progress P %)".
    if kind.first == "target", let measure = Self.between(text, "target ", " of "), let unit = Self.between(text, " of ", " for "),
      let year = Self.between(text, " for ", " is behind"), let actual = Self.between(text, "behind: ", " against "),
      let expected = Self.between(text, " against ", " expected"), let progress = Self.between(text, "time progress ", " %")
    {
      let name = TargetOutput.measureName(measure)
      let shown = { (v: String) in Double(v).map { TargetOutput.value($0, measure) } ?? v }
      if kind.last == "red" { return t("alerts.text.targetRed", name, unit, year, shown(actual), shown(expected), progress) }
      if kind.last == "yellow" { return t("alerts.text.targetYellow", name, unit, year, shown(actual), shown(expected), progress) }
    }
    // 群众诉求: "appeal N awaits first contact by DEPT, overdue (due …)" / "appeal N awaits resolution by DEPT, P % of its
    // working time used (due …)".
    if kind.first == "appeal", let department = Self.between(text, " by ", ","),
      let due = Self.between(text, "(due ", ")").flatMap({ HumanText.parseISO8601($0) }).map({ HumanText.time($0) }),
      let number = alert.subject.split(separator: " ").dropFirst().first.map(String.init)
    {
      let response = text.contains("awaits first contact")
      if kind.last == "red" {
        return t(response ? "alerts.text.appealResponseRed" : "alerts.text.appealResolutionRed", number, department, due)
      }
      if kind.last == "yellow", let used = Self.between(text, "\(department), ", " %") {
        return t(response ? "alerts.text.appealResponseYellow" : "alerts.text.appealResolutionYellow", number, department, used, due)
      }
    }
    guard kind.count == 2, ["case", "demand", "rectification", "supervision"].contains(kind[0]) else {
      return HumanText.localisingTimestamps(text)
    }
    let entity = t("alerts.entity.\(kind[0])")
    let number = alert.subject.hasPrefix(kind[0] + " ") ? String(alert.subject.dropFirst(kind[0].count + 1)) : alert.subject
    let due = Self.between(text, "(due ", ")").flatMap { HumanText.parseISO8601($0) }.map { HumanText.time($0) }
    switch kind[1] {
    case "red":
      guard let due else { break }
      if let uscc = Self.between(text, " of ", " is overdue") { return t("alerts.text.redOf", entity, number, uscc, due) }
      return t("alerts.text.red", entity, number, due)
    case "yellow":
      guard let due, let used = Self.between(text, "has used ", " %") else { break }
      return t("alerts.text.yellow", entity, number, used, due)
    case "deemed_accepted":
      return t("alerts.text.deemedAccepted", number)
    case "escalated":
      guard let due else { break }
      return t("alerts.text.escalated", number, alert.departmentCode, due)
    default:
      break
    }
    return HumanText.localisingTimestamps(text)
  }

  /// The text between the first `start` and the next `end` after it.
  static func between(_ text: String, _ start: String, _ end: String) -> String? {
    guard let s = text.range(of: start), let e = text.range(of: end, range: s.upperBound..<text.endIndex) else { return nil }
    return String(text[s.upperBound..<e.lowerBound])
  }
}

struct AdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "admin",
    abstract: t("audit.admin.abstract"),
    subcommands: [Audit.self, Revoke.self, Revocations.self, Backup.self, ReloadTLS.self]
  )

  struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("audit.abstract"), subcommands: [Verify.self, List.self, Show.self])

    struct Verify: AsyncParsableCommand {
      static let configuration = CommandConfiguration(abstract: t("audit.verify.abstract"))
      @OptionGroup var connection: ConnectionOptions
      @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
      func run() async throws {
        let result = try await self.connection.withClient { client, _, _ in
          try await Banjie_V1_AdminService.Client(wrapping: client).verifyAudit(.init(), options: self.connection.callOptions)
        }
        if self.json {
          print(try result.jsonString(options: CaseOutput.jsonOptions))
        } else if result.ok {
          print(t("audit.intact", result.rows))
        } else {
          print(t("audit.broken", result.firstBrokenID, result.reason))
        }
        if !result.ok { throw CLIError(exitCode: 65, message: t("audit.error.broken", result.firstBrokenID)) }
      }
    }

    /// `banjie admin audit list`: who did what, when, newest first (office).
    struct List: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: t("admin.audit.list.abstract"), discussion: t("admin.audit.list.discussion"))
      @OptionGroup var connection: ConnectionOptions
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.entity")), transform: Normalize.text) var entity: String?
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.entityId")), transform: Normalize.text) var entityId: String?
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.actor")), transform: Normalize.text) var actor: String?
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.action")), transform: Normalize.text) var action: String?
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.from")), transform: Normalize.day) var from: String?
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.to")), transform: Normalize.day) var to: String?
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.pageSize"))) var pageSize: UInt32 = 50
      @Option(name: .long, help: ArgumentHelp(t("admin.audit.help.pageToken"))) var pageToken: String?
      @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
      @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
      func validate() throws {
        if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
      }
      func run() async throws {
        let request = Banjie_V1_ListAuditRowsRequest.with {
          $0.entity = self.entity ?? ""
          $0.entityID = self.entityId ?? ""
          $0.actor = self.actor ?? ""
          $0.action = self.action ?? ""
          $0.from = self.from ?? ""
          $0.to = self.to ?? ""
          $0.page = .with {
            $0.pageSize = self.pageSize
            $0.pageToken = self.pageToken ?? ""
          }
        }
        let result = try await self.connection.withClient { client, _, _ in
          try await Banjie_V1_AdminService.Client(wrapping: client).listAuditRows(request, options: self.connection.callOptions)
        }
        if self.json {
          print(try result.jsonString(options: CaseOutput.jsonOptions))
          return
        }
        if self.csv {
          Audit.csv(result.rows).print()
          return
        }
        if result.rows.isEmpty {
          print(t("admin.audit.list.none"))
          return
        }
        var table = TextTable(
          t("admin.audit.col.id"), t("admin.audit.col.at"), t("admin.audit.col.actor"), t("admin.audit.col.action"),
          t("admin.audit.col.entity"), t("admin.audit.col.detail"))
        for row in result.rows {
          table.add([
            String(row.id), HumanText.time(row.at.date, seconds: true), Audit.actorText(row), row.action,
            t("admin.audit.value.entity", row.entity, row.entityID), Audit.detailText(row.detail),
          ])
        }
        print(table.render())
        print(
          Terminal.paint(
            t("admin.audit.list.count", result.rows.count)
              + (result.nextPageToken.isEmpty ? "" : t("admin.audit.nextPage", result.nextPageToken)), Terminal.dim))
      }
    }

    /// `banjie admin audit show ID`: one row with its hash and its predecessor's (office).
    struct Show: AsyncParsableCommand {
      static let configuration = CommandConfiguration(abstract: t("admin.audit.show.abstract"))
      @OptionGroup var connection: ConnectionOptions
      @Argument(help: ArgumentHelp(t("admin.audit.help.id"))) var id: Int64
      @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
      func run() async throws {
        let id = self.id
        let row = try await self.connection.withClient { client, _, _ in
          try await Banjie_V1_AdminService.Client(wrapping: client).getAuditRow(.with { $0.id = id }, options: self.connection.callOptions)
        }
        if self.json {
          print(try row.jsonString(options: CaseOutput.jsonOptions))
          return
        }
        var lines: [(String, String)] = [
          (t("admin.audit.field.id"), String(row.id)),
          (t("admin.audit.field.at"), HumanText.time(row.at.date, seconds: true)),
          (t("admin.audit.field.actor"), Audit.actorText(row)),
          (
            t("admin.audit.field.serial"),
            row.actorSerial.isEmpty ? t("admin.audit.value.noSerial") : row.actorSerial
          ),
          (t("admin.audit.field.action"), row.action),
          (t("admin.audit.field.entity"), t("admin.audit.value.entity", row.entity, row.entityID)),
        ]
        let fields = Audit.detailFields(row.detail)
        if let fields, !fields.isEmpty {
          for (index, (key, value)) in fields.enumerated() {
            lines.append((index == 0 ? t("admin.audit.field.detail") : "", "\(key): \(value)"))
          }
        } else {
          lines.append((t("admin.audit.field.detail"), fields == nil ? row.detail : t("admin.audit.value.noDetail")))
        }
        lines.append((t("admin.audit.field.prevHash"), row.prevHash))
        lines.append((t("admin.audit.field.hash"), row.hash))
        let width = max(11, (lines.map { displayWidth($0.0) }.max() ?? 0) + 1)
        for (label, value) in lines { print(pad(label, to: width) + value) }
        print(Terminal.paint(t("admin.audit.show.note"), Terminal.dim))
      }
    }

    /// "营商办 李明（YSB）": the role as people call it, the person and the organisation.
    static func actorText(_ row: Banjie_V1_AuditRow) -> String {
      t("admin.audit.value.actor", HumanText.role(row.actorRole), row.actorPerson, row.actorOrganization)
    }

    /// The stored detail (a JSON object of strings) as its keys and values in key order; nil when
    /// it is not such an object.
    static func detailFields(_ detail: String) -> [(String, String)]? {
      guard let object = try? JSONDecoder().decode([String: String].self, from: Data(detail.utf8)) else { return nil }
      return object.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The detail on one line of a table: "key=value, key=value" (empty values left out).
    static func detailText(_ detail: String) -> String {
      guard let fields = detailFields(detail) else { return detail }
      return fields.filter { !$0.1.isEmpty }.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")
    }

    /// `--csv`: one row per audit row, stable English column keys, times in Asia/Shanghai with
    /// their offset, the detail as the stored JSON.
    static func csv(_ rows: [Banjie_V1_AuditRow]) -> CSVTable {
      var table = CSVTable([
        "id", "at", "actor_role", "actor_organization", "actor_person", "actor_serial", "action", "entity", "entity_id", "detail",
        "prev_hash", "hash",
      ])
      for row in rows {
        table.add([
          String(row.id), LedgerCSV.time(row.hasAt, row.at), row.actorRole, row.actorOrganization, row.actorPerson, row.actorSerial,
          row.action, row.entity, row.entityID, row.detail, row.prevHash, row.hash,
        ])
      }
      return table
    }
  }
}
