import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 督办 (supervision orders): `banjie supervise issue|reply|close|reopen|show|list`.
struct SuperviseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "supervise", abstract: t("supervise.abstract"), discussion: t("supervise.discussion"),
    subcommands: [Issue.self, Reply.self, Close.self, Reopen.self, Show.self, List.self])

  typealias Client = Banjie_V1_SupervisionService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Issue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("supervise.issue.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .customLong("case"), help: ArgumentHelp(t("supervise.help.case")), transform: Normalize.number) var caseNumber: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.demand")), transform: Normalize.number) var demand: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.rectification")), transform: Normalize.number) var rectification: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.department")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.action"))) var action: String
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.workingDays"))) var workingDays: UInt32 = 5

    func validate() throws {
      guard [self.caseNumber, self.demand, self.rectification].compactMap({ $0 }).count == 1 else {
        throw ValidationError(t("supervise.error.oneSubject"))
      }
      guard (1...365).contains(self.workingDays) else { throw ValidationError(t("supervise.error.workingDays")) }
    }

    func run() async throws {
      let request = Banjie_V1_IssueSupervisionRequest.with {
        $0.caseNumber = self.caseNumber ?? ""
        $0.demandNumber = self.demand ?? ""
        $0.rectificationNumber = self.rectification ?? ""
        $0.departmentCode = self.department ?? ""
        $0.requiredAction = self.action
        $0.limitWorkingDays = self.workingDays
      }
      let order = try await SuperviseCommand.call(self.connection) {
        try await $0.issue(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try SupervisionOutput.printOrder(order, json: self.mutation.json)
    }
  }

  /// The order an action applies to: its number and, optionally, the version it must be at.
  struct Target: ParsableArguments {
    @Argument(help: ArgumentHelp(t("supervise.help.number")), transform: Normalize.number) var number: String
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.ifVersion"))) var ifVersion: Int64?
  }

  struct Reply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("supervise.reply.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.reply"))) var reply: String
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.evidence"))) var evidence: String = ""
    func run() async throws {
      let request = Banjie_V1_ReplySupervisionRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.reply = self.reply
        $0.evidence = self.evidence
      }
      let order = try await SuperviseCommand.call(self.connection) {
        try await $0.reply(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try SupervisionOutput.printOrder(order, json: self.mutation.json)
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("supervise.close.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.note"))) var note: String = ""
    func run() async throws {
      let request = Banjie_V1_CloseSupervisionRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.note = self.note
      }
      let order = try await SuperviseCommand.call(self.connection) {
        try await $0.close(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try SupervisionOutput.printOrder(order, json: self.mutation.json)
    }
  }

  struct Reopen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("supervise.reopen.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.reason"))) var reason: String
    func run() async throws {
      let request = Banjie_V1_ReopenSupervisionRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.reason = self.reason
      }
      let order = try await SuperviseCommand.call(self.connection) {
        try await $0.reopen(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try SupervisionOutput.printOrder(order, json: self.mutation.json)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("supervise.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("supervise.help.number")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    func run() async throws {
      let order = try await SuperviseCommand.call(self.connection) {
        try await $0.get(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try SupervisionOutput.printOrder(order, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("supervise.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.filterDepartment")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.state")), transform: Normalize.text) var state: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.colour")), transform: Normalize.text) var colour: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.kind")), transform: Normalize.text) var kind: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.subject")), transform: Normalize.number) var subject: String?
    @Option(name: .long, help: ArgumentHelp(t("supervise.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false

    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
      for s in self.state where SupervisionOutput.parseState(s) == nil { throw ValidationError(t("supervise.error.unknownState", s)) }
      for c in self.colour where CaseOutput.parseColour(c) == nil { throw ValidationError(t("supervise.error.unknownColour", c)) }
      if let kind = self.kind, SupervisionOutput.parseKind(kind) == nil { throw ValidationError(t("supervise.error.unknownKind", kind)) }
    }

    func run() async throws {
      var request = Banjie_V1_ListSupervisionsRequest()
      request.departmentCode = self.department ?? ""
      request.states = self.state.compactMap(SupervisionOutput.parseState)
      request.colours = self.colour.compactMap(CaseOutput.parseColour)
      request.subjectKind = self.kind.flatMap(SupervisionOutput.parseKind) ?? ""
      request.subjectNumber = self.subject ?? ""
      request.page = .with {
        $0.pageSize = self.pageSize
        $0.pageToken = self.pageToken ?? ""
      }
      let finalRequest = request
      let result = try await SuperviseCommand.call(self.connection) {
        try await $0.list(finalRequest, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        SupervisionOutput.csv(result.orders).print()
        return
      }
      var table = TextTable(
        t("supervise.col.number"), t("supervise.col.subject"), t("supervise.col.department"), t("supervise.col.state"),
        t("supervise.col.due"), t("supervise.col.colour"))
      for o in result.orders {
        let running = o.hasSla && !o.sla.completed
        table.add(
          [
            o.number, "\(SupervisionOutput.kindName(o.subjectKind)) \(o.subjectNumber)", o.departmentCode,
            SupervisionOutput.stateLabel(o.state), o.hasDueAt ? CaseOutput.shortTime(o.dueAt) : "-",
            running ? EnterpriseOutput.colourName(o.sla.colour) : "-",
          ],
          colour: running ? CaseOutput.ansi(o.sla.colour) : nil)
      }
      print(table.render())
      print(
        Terminal.paint(
          t("supervise.list.count", result.orders.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

enum SupervisionOutput {
  static let stateNames = ["OPEN", "REPLIED", "CLOSED"]

  static func stateName(_ state: Banjie_V1_SupervisionState) -> String {
    switch state {
    case .open: "OPEN"
    case .replied: "REPLIED"
    case .closed: "CLOSED"
    default: "-"
    }
  }

  /// The state as people read it (待答复, 已答复, 已办结).
  static func stateLabel(_ state: Banjie_V1_SupervisionState) -> String {
    let name = stateName(state)
    return name == "-" ? name : t("supervise.state.\(name)")
  }

  /// A state as typed: open, replied, closed (any case) or its name in either language.
  static func parseState(_ text: String) -> Banjie_V1_SupervisionState? {
    let typed = text.uppercased()
    let found =
      Self.stateNames.first(where: { $0 == typed })
      ?? Self.stateNames.first(where: { name in
        Language.allCases.contains { Catalogue.text("supervise.state.\(name)", [], language: $0) == text }
      })
    guard let name = found else { return nil }
    switch name {
    case "OPEN": return .open
    case "REPLIED": return .replied
    case "CLOSED": return .closed
    default: return nil
    }
  }

  /// "case", "demand" or "rectification" as people read it; an unknown kind as it is.
  static func kindName(_ kind: String) -> String { EnterpriseOutput.label("supervise.kind.\(kind)", or: kind) }

  /// A subject kind as typed, in English (any case) or Chinese (办件, 诉求, 差评整改 or 整改).
  static func parseKind(_ text: String) -> String? {
    let kinds = ["case", "demand", "rectification"]
    if let kind = kinds.first(where: { $0 == text.lowercased() }) { return kind }
    if text == "整改" { return "rectification" }
    return kinds.first(where: { kind in
      Language.allCases.contains { Catalogue.text("supervise.kind.\(kind)", [], language: $0) == text }
    })
  }

  static func printOrder(_ o: Banjie_V1_SupervisionOrder, json: Bool) throws {
    if json {
      print(try o.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("supervise.field.order"), o.number),
      (t("supervise.field.subject"), "\(kindName(o.subjectKind)) \(o.subjectNumber)"),
      (t("supervise.field.department"), "\(o.departmentName) (\(o.departmentCode))"),
      (t("supervise.field.state"), stateLabel(o.state)),
      (t("supervise.field.action"), o.requiredAction),
      (t("supervise.field.limit"), t("supervise.limitDays", o.limitWorkingDays)),
      (t("supervise.field.issued"), "\(CaseOutput.shortTime(o.issuedAt)) · \(HumanText.by(o.issuedBy))"),
    ]
    if o.hasSla {
      let used = Int((o.sla.fractionUsed * 100).rounded())
      lines.append(
        (
          t("supervise.field.due"),
          Terminal.paint(
            t("supervise.dueValue", CaseOutput.shortTime(o.sla.dueAt), EnterpriseOutput.colourName(o.sla.colour), used),
            o.sla.completed ? nil : CaseOutput.ansi(o.sla.colour))
        ))
    }
    if !o.reply.isEmpty {
      let when = o.hasRepliedAt ? "\(CaseOutput.shortTime(o.repliedAt)) · \(HumanText.by(o.repliedBy))" : HumanText.by(o.repliedBy)
      lines.append(
        (t("supervise.field.reply"), "\(o.reply) (\(when))" + (o.state == .open ? " " + t("supervise.replySentBack") : "")))
      if !o.evidence.isEmpty { lines.append((t("supervise.field.evidence"), o.evidence)) }
    }
    if !o.reopenReason.isEmpty { lines.append((t("supervise.field.sentBack"), o.reopenReason)) }
    if o.hasClosedAt {
      lines.append(
        (
          t("supervise.field.closed"),
          "\(CaseOutput.shortTime(o.closedAt)) · \(HumanText.by(o.closedBy))" + (o.closeNote.isEmpty ? "" : " · \(o.closeNote)")
        ))
    }
    if o.hasEscalatedAt {
      lines.append(
        (t("supervise.field.escalated"), Terminal.paint(t("supervise.escalatedValue", CaseOutput.shortTime(o.escalatedAt)), Terminal.red)))
    }
    lines.append((t("supervise.field.version"), String(o.version)))
    EnterpriseOutput.printLabelled(lines, width: 11)
  }

  /// `supervise list --csv`: one row per order, as LedgerCSV writes the other ledgers.
  static func csv(_ orders: [Banjie_V1_SupervisionOrder]) -> CSVTable {
    var table = CSVTable([
      "number", "subject_kind", "subject_number", "department_code", "department_name", "state", "required_action",
      "limit_working_days", "issued_by", "issued_at", "due_at", "colour", "replied_at", "replied_by", "reply", "evidence",
      "reopen_reason", "closed_at", "closed_by", "close_note", "escalated_at", "on_time", "version",
    ])
    for o in orders {
      let done = o.hasSla && o.sla.completed
      table.add([
        o.number, o.subjectKind, o.subjectNumber, o.departmentCode, o.departmentName, LedgerCSV.machine(stateName(o.state)),
        o.requiredAction, String(o.limitWorkingDays), o.issuedBy, LedgerCSV.time(o.hasIssuedAt, o.issuedAt),
        LedgerCSV.time(o.hasDueAt, o.dueAt), LedgerCSV.machine(CaseOutput.colourName(o.colour)),
        LedgerCSV.time(o.hasRepliedAt, o.repliedAt), o.repliedBy, o.reply, o.evidence, o.reopenReason,
        LedgerCSV.time(o.hasClosedAt, o.closedAt), o.closedBy, o.closeNote, LedgerCSV.time(o.hasEscalatedAt, o.escalatedAt),
        done ? LedgerCSV.flag(o.sla.completedOnTime) : "", String(o.version),
      ])
    }
    return table
  }
}
