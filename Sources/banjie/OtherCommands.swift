import ArgumentParser
import BanjieProto
import Foundation
import GRPCCore
import SwiftProtobuf

struct CatalogCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "catalog",
    abstract: "Departments and service items (事项).",
    subcommands: [Departments.self, Items.self, Import.self]
  )

  struct Departments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List departments.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CatalogService.Client(wrapping: client).listDepartments(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("code", "name")
      for d in result.departments { table.add([d.code, d.name]) }
      print(table.render())
    }
  }

  struct Items: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List service items with their promised limits.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Only this department's items.") var department: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CatalogService.Client(wrapping: client).listServiceItems(
          .with { $0.departmentCode = self.department ?? "" }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("code", "name", "department", "kind", "promised", "legal", "容缺")
      for i in result.items {
        let unit = i.limitUnit == .workingHours ? "h" : "d"
        table.add([
          i.code, i.name, i.departmentCode, i.kind == .instant ? "即办" : "承诺", "\(i.promisedLimit) \(unit)", "\(i.legalLimitDays) d",
          i.allowsMinorPending ? "yes" : "no",
        ])
      }
      print(table.render())
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import departments and items from a JSON file (office). All or nothing.",
      discussion:
        "Format: {\"departments\":[{\"code\":\"SCJGJ\",\"name\":\"…\"}],\"items\":[{\"code\":…,\"name\":…,\"department_code\":…,\"kind\":\"ITEM_KIND_PROMISED\",\"promised_limit\":3,\"limit_unit\":\"LIMIT_UNIT_WORKING_DAYS\",\"legal_limit_days\":20,\"materials\":[…],\"allows_minor_pending\":true}]}. See catalog/sample-county.json."
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "JSON file.") var file: String
    func run() async throws {
      let request: Banjie_V1_ImportCatalogRequest
      do {
        let text = try String(contentsOfFile: self.file, encoding: .utf8)
        request = try Banjie_V1_ImportCatalogRequest(jsonString: text)
      } catch {
        throw CLIError(exitCode: 64, message: "cannot read catalog \(self.file): \(error)")
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CatalogService.Client(wrapping: client).importCatalog(
          request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print("imported \(result.departmentsWritten) departments and \(result.itemsWritten) service items")
    }
  }
}

struct CalendarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "calendar",
    abstract: "The working-day calendar: deadlines, months, yearly notices.",
    subcommands: [Due.self, Show.self, Import.self]
  )

  struct Due: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "When a limit ends, by the server's calendar (the starting day is not counted).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Start, ISO 8601 with offset, e.g. 2026-02-13T10:00:00+08:00.") var from: String
    @Option(name: .long, help: "Limit in working days.") var workingDays: UInt32?
    @Option(name: .long, help: "Limit in working hours.") var workingHours: UInt32?
    @Flag(name: .long, help: "Print JSON.") var json = false
    func validate() throws {
      guard (self.workingDays == nil) != (self.workingHours == nil) else {
        throw ValidationError("give exactly one of --working-days and --working-hours")
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
        print(result.dueLocal + (result.provisional ? "  (provisional: no calendar data for a year on the way)" : ""))
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a month with holidays (休) and make-up working days (班) marked.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "YYYY-MM") var month: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let parts = self.month.split(separator: "-")
      guard parts.count == 2, let y = Int32(parts[0]), let m = Int32(parts[1]) else {
        throw CLIError(exitCode: 64, message: "month must be YYYY-MM")
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
      CalendarRendering.print(result)
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import a year's State Council holiday notice (office); open deadlines are recomputed.",
      discussion: "File: {\"year\":2027,\"holidays\":[\"2027-01-01\",…],\"workdays\":[\"2027-02-07\",…]}"
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "JSON file.") var file: String
    func run() async throws {
      guard let text = try? String(contentsOfFile: self.file, encoding: .utf8) else {
        throw CLIError(exitCode: 64, message: "cannot read \(self.file)")
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CalendarService.Client(wrapping: client).importYear(
          .with { $0.json = text }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print("imported \(result.year); recomputed the deadlines of \(result.recomputed) open cases")
    }
  }
}

enum CalendarRendering {
  static func print(_ month: Banjie_V1_CalendarMonth) {
    Swift.print(
      Terminal.bold("\(month.year)-\(String(format: "%02d", month.month))") + "  \(month.workingDays) working days"
        + (month.provisional ? "  (provisional)" : ""))
    Swift.print(" Mo  Tu  We  Th  Fr  Sa  Su")
    guard let first = month.days.first else { return }
    let weekday = Self.isoWeekday(first.date)
    var line = String(repeating: "    ", count: weekday - 1)
    for day in month.days {
      let number = String(format: "%3d", Int(day.date.suffix(2)) ?? 0)
      let cell: String
      switch day.kind {
      case .holiday: cell = Terminal.paint(number + "休", Terminal.red)
      case .makeUpWorkday: cell = Terminal.paint(number + "班", Terminal.yellow)
      case .weekend: cell = Terminal.paint(number + " ", Terminal.dim)
      default: cell = number + " "
      }
      line += cell
      if Self.isoWeekday(day.date) == 7 {
        Swift.print(line)
        line = ""
      }
    }
    if !line.isEmpty { Swift.print(line) }
    Swift.print("休 holiday · 班 make-up working day")
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
    abstract: "Yellow and red warnings as the SLA sweeper raises them."
  )
  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: "Only this department (the office only; clerks see their own).") var department: String?
  @Flag(name: .long, help: "Keep following new alerts until interrupted.") var watch = false
  @Flag(name: .long, help: "Print JSON lines.") var json = false

  func run() async throws {
    var options = self.connection.callOptions
    if self.watch { options.timeout = nil }
    let follow = self.watch
    let json = self.json
    try await self.connection.withClient { client, _, _ in
      try await Banjie_V1_CaseService.Client(wrapping: client).watchAlerts(
        .with {
          $0.departmentCode = self.department ?? ""
          $0.includeRecent = true
        }, options: options
      ) { response in
        var count = 0
        for try await alert in response.messages {
          count += 1
          // Written straight to the file descriptor: a follower is often piped or stopped by a
          // signal, and buffered lines would be lost.
          let line =
            json
            ? try alert.jsonString(options: CaseOutput.jsonOptions)
            : Terminal.paint(
              "\(CaseOutput.shortTime(alert.at))  \(CaseOutput.colourName(alert.colour).uppercased())  \(alert.message)",
              CaseOutput.ansi(alert.colour))
          FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        _ = count
        _ = follow
      }
    }
  }
}

struct AdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "admin",
    abstract: "The office's housekeeping.",
    subcommands: [Audit.self, Revoke.self, Revocations.self, Backup.self, ReloadTLS.self]
  )

  struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The hash-chained audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
      static let configuration = CommandConfiguration(abstract: "Recompute the chain and name the first broken row (exit 65 if broken).")
      @OptionGroup var connection: ConnectionOptions
      @Flag(name: .long, help: "Print JSON.") var json = false
      func run() async throws {
        let result = try await self.connection.withClient { client, _, _ in
          try await Banjie_V1_AdminService.Client(wrapping: client).verifyAudit(.init(), options: self.connection.callOptions)
        }
        if self.json {
          print(try result.jsonString(options: CaseOutput.jsonOptions))
        } else if result.ok {
          print("audit log intact: \(result.rows) rows")
        } else {
          print("audit log BROKEN at row \(result.firstBrokenID): \(result.reason)")
        }
        if !result.ok { throw CLIError(exitCode: 65, message: "audit chain broken at row \(result.firstBrokenID)") }
      }
    }
  }
}
