import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 群众诉求: `banjie appeal register|assign|contact|resolve|call-back|show|list` (docs/DOMAIN.md §24).
struct AppealCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "appeal", abstract: t("appeal.abstract"), discussion: t("appeal.discussion"),
    subcommands: [Register.self, Assign.self, Contact.self, Resolve.self, CallBack.self, Show.self, List.self])

  typealias Client = Banjie_V1_AppealService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("appeal.register.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.channel")), transform: Normalize.text) var channel: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.category")), transform: Normalize.text) var category: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.citizen")), transform: Normalize.text) var citizen: String?
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.enterprise")), transform: Normalize.code) var enterprise: String?
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.contact")), transform: Normalize.text) var contact: String = ""
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.phone")), transform: Normalize.text) var phone: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.subject")), transform: Normalize.text) var subject: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.content")), transform: Normalize.text) var content: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.department")), transform: Normalize.code) var department: String?

    func validate() throws {
      guard (self.citizen == nil) != (self.enterprise == nil) else { throw ValidationError(t("appeal.error.oneRequester")) }
      if self.citizen != nil && !self.contact.isEmpty { throw ValidationError(t("appeal.error.contactForEnterprise")) }
      guard AppealOutput.parseChannel(self.channel) != nil else { throw ValidationError(t("appeal.error.channel", self.channel)) }
      guard AppealOutput.parseCategory(self.category) != nil else { throw ValidationError(t("appeal.error.category", self.category)) }
    }

    func run() async throws {
      let request = Banjie_V1_RegisterAppealRequest.with {
        $0.channel = AppealOutput.parseChannel(self.channel) ?? .unspecified
        $0.category = AppealOutput.parseCategory(self.category) ?? .unspecified
        if let uscc = self.enterprise {
          $0.requesterKind = .enterprise
          $0.enterpriseUscc = uscc
          $0.requesterName = self.contact
        } else {
          $0.requesterKind = .citizen
          $0.requesterName = self.citizen ?? ""
        }
        $0.requesterPhone = self.phone
        $0.subject = self.subject
        $0.content = self.content
        $0.department = self.department ?? ""
      }
      let result = try await AppealCommand.call(self.connection) {
        try await $0.registerAppeal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AppealOutput.print(result, json: self.mutation.json)
    }
  }

  /// The appeal an action applies to: its number and, optionally, the version it must be at.
  struct Target: ParsableArguments {
    @Argument(help: ArgumentHelp(t("appeal.help.number")), transform: Normalize.number) var number: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.ifVersion"))) var ifVersion: Int64?
  }

  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("appeal.assign.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.assignDepartment")), transform: Normalize.code) var department: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.reason")), transform: Normalize.text) var reason: String = ""

    func run() async throws {
      let request = Banjie_V1_AssignAppealRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.department = self.department
        $0.reason = self.reason
      }
      let result = try await AppealCommand.call(self.connection) {
        try await $0.assignAppeal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AppealOutput.print(result, json: self.mutation.json)
    }
  }

  struct Contact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("appeal.contact.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.method")), transform: Normalize.text) var method: String = "phone"
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.contactNote")), transform: Normalize.text) var note: String

    func validate() throws {
      guard AppealOutput.parseMethod(self.method) != nil else { throw ValidationError(t("appeal.error.method", self.method)) }
    }

    func run() async throws {
      let request = Banjie_V1_ContactAppealRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.method = AppealOutput.parseMethod(self.method) ?? .unspecified
        $0.note = self.note
      }
      let result = try await AppealCommand.call(self.connection) {
        try await $0.contactAppeal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AppealOutput.print(result, json: self.mutation.json)
    }
  }

  struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("appeal.resolve.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.result")), transform: Normalize.text) var result: String

    func run() async throws {
      let request = Banjie_V1_ResolveAppealRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.resolution = self.result
      }
      let appeal = try await AppealCommand.call(self.connection) {
        try await $0.resolveAppeal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AppealOutput.print(appeal, json: self.mutation.json)
    }
  }

  struct CallBack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "call-back", abstract: t("appeal.callBack.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.satisfaction")), transform: Normalize.text) var satisfaction: String
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.callBackNote")), transform: Normalize.text) var note: String = ""

    func validate() throws {
      guard AppealOutput.parseSatisfaction(self.satisfaction) != nil else {
        throw ValidationError(t("appeal.error.satisfaction", self.satisfaction))
      }
    }

    func run() async throws {
      let request = Banjie_V1_AppealCallBackRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.satisfaction = AppealOutput.parseSatisfaction(self.satisfaction) ?? .unspecified
        $0.note = self.note
      }
      let result = try await AppealCommand.call(self.connection) {
        try await $0.recordCallBack(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AppealOutput.print(result, json: self.mutation.json)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("appeal.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("appeal.help.number")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func run() async throws {
      let result = try await AppealCommand.call(self.connection) {
        try await $0.getAppeal(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try AppealOutput.print(result, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("appeal.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.filterDepartment")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.filterChannel")), transform: Normalize.text) var channel: String?
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.state")), transform: Normalize.text) var state: [String] = []
    @Flag(name: .long, help: ArgumentHelp(t("appeal.help.waiting"))) var waiting = false
    @Flag(name: .long, help: ArgumentHelp(t("appeal.help.overdue"))) var overdue = false
    @Option(name: .long, help: ArgumentHelp(t("appeal.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func validate() throws {
      if let channel = self.channel, AppealOutput.parseChannel(channel) == nil {
        throw ValidationError(t("appeal.error.channel", channel))
      }
      for s in self.state where AppealOutput.parseState(s) == nil { throw ValidationError(t("appeal.error.state", s)) }
    }

    func run() async throws {
      let request = Banjie_V1_ListAppealsRequest.with {
        $0.department = self.department ?? ""
        $0.channel = self.channel.flatMap(AppealOutput.parseChannel) ?? .unspecified
        $0.states = self.state.compactMap(AppealOutput.parseState)
        $0.waiting = self.waiting
        $0.overdue = self.overdue
        $0.page = .with {
          $0.pageSize = self.pageSize
          $0.pageToken = self.pageToken ?? ""
        }
      }
      let result = try await AppealCommand.call(self.connection) {
        try await $0.listAppeals(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable(
        t("appeal.col.number"), t("appeal.col.channel"), t("appeal.col.category"), t("appeal.col.requester"), t("appeal.col.subject"),
        t("appeal.col.department"), t("appeal.col.state"), t("appeal.col.due"))
      for a in result.appeals {
        let sla = AppealOutput.runningSLA(a)
        table.add(
          [
            a.number, AppealOutput.channelLabel(a.channel), AppealOutput.categoryLabel(a.category), AppealOutput.requesterLabel(a),
            a.subject, a.department.isEmpty ? "-" : a.department, AppealOutput.stateLabel(a.state),
            sla.map { "\(CaseOutput.shortTime($0.dueAt)) (\(EnterpriseOutput.colourName($0.colour)))" } ?? "-",
          ], colour: sla.flatMap { CaseOutput.ansi($0.colour) })
      }
      print(table.render())
      print(
        Terminal.paint(
          t("appeal.list.count", result.appeals.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

enum AppealOutput {
  static let stateNames = ["REGISTERED", "ASSIGNED", "CONTACTED", "RESOLVED", "CLOSED", "REOPENED"]

  /// A name as typed: its code in any case with '-' for '_', or its name in either language.
  static func match(_ text: String, _ names: [String], key: String) -> String? {
    let typed = text.uppercased().replacingOccurrences(of: "-", with: "_")
    if let name = names.first(where: { $0 == typed }) { return name }
    return names.first { name in Language.allCases.contains { Catalogue.text("\(key).\(name)", [], language: $0) == text } }
  }

  /// 12345, hotline, 12345热线; minyi, 民意“5”来听; portal, 网站留言; letter, 来信.
  static func parseChannel(_ text: String) -> Banjie_V1_AppealChannel? {
    let aliases: [String: Banjie_V1_AppealChannel] = [
      "12345": .hotline12345, "HOTLINE": .hotline12345, "MINYI": .minyi5, "民意5来听": .minyi5, "民意\"5\"来听": .minyi5,
    ]
    if let found = aliases[text.uppercased().replacingOccurrences(of: "-", with: "_")] { return found }
    guard let name = Self.match(text, ["HOTLINE_12345", "MINYI_5", "PORTAL", "LETTER"], key: "appeal.channel") else { return nil }
    switch name {
    case "HOTLINE_12345": return .hotline12345
    case "MINYI_5": return .minyi5
    case "PORTAL": return .portal
    case "LETTER": return .letter
    default: return nil
    }
  }

  static func parseCategory(_ text: String) -> Banjie_V1_AppealCategory? {
    guard let name = Self.match(text, ["CONSULTATION", "HELP", "COMPLAINT", "REPORT", "SUGGESTION"], key: "appeal.category") else {
      return nil
    }
    return switch name {
    case "CONSULTATION": .consultation
    case "HELP": .help
    case "COMPLAINT": .complaint
    case "REPORT": .report
    case "SUGGESTION": .suggestion
    default: nil
    }
  }

  static func parseMethod(_ text: String) -> Banjie_V1_AppealContactMethod? {
    guard let name = Self.match(text, ["PHONE", "VISIT", "OTHER"], key: "appeal.method") else { return nil }
    return switch name {
    case "PHONE": .phone
    case "VISIT": .visit
    case "OTHER": .other
    default: nil
    }
  }

  static func parseSatisfaction(_ text: String) -> Banjie_V1_AppealSatisfaction? {
    guard let name = Self.match(text, ["SATISFIED", "BASICALLY_SATISFIED", "DISSATISFIED"], key: "appeal.satisfaction") else {
      return nil
    }
    return switch name {
    case "SATISFIED": .satisfied
    case "BASICALLY_SATISFIED": .basicallySatisfied
    case "DISSATISFIED": .dissatisfied
    default: nil
    }
  }

  /// A state as typed: its code in any case, or its name in either language.
  static func parseState(_ text: String) -> String? { Self.match(text, Self.stateNames, key: "appeal.state") }

  static func stateLabel(_ state: String) -> String { EnterpriseOutput.label("appeal.state.\(state)", or: state) }

  static func channelLabel(_ channel: Banjie_V1_AppealChannel) -> String {
    switch channel {
    case .hotline12345: t("appeal.channel.HOTLINE_12345")
    case .minyi5: t("appeal.channel.MINYI_5")
    case .portal: t("appeal.channel.PORTAL")
    case .letter: t("appeal.channel.LETTER")
    default: "-"
    }
  }

  /// A channel as the dashboard names it ("HOTLINE_12345").
  static func channelLabel(_ name: String) -> String { EnterpriseOutput.label("appeal.channel.\(name)", or: name) }

  static func categoryLabel(_ category: Banjie_V1_AppealCategory) -> String {
    switch category {
    case .consultation: t("appeal.category.CONSULTATION")
    case .help: t("appeal.category.HELP")
    case .complaint: t("appeal.category.COMPLAINT")
    case .report: t("appeal.category.REPORT")
    case .suggestion: t("appeal.category.SUGGESTION")
    default: "-"
    }
  }

  static func methodLabel(_ method: Banjie_V1_AppealContactMethod) -> String {
    switch method {
    case .phone: t("appeal.method.PHONE")
    case .visit: t("appeal.method.VISIT")
    case .other: t("appeal.method.OTHER")
    default: "-"
    }
  }

  static func satisfactionLabel(_ satisfaction: Banjie_V1_AppealSatisfaction) -> String {
    switch satisfaction {
    case .satisfied: t("appeal.satisfaction.SATISFIED")
    case .basicallySatisfied: t("appeal.satisfaction.BASICALLY_SATISFIED")
    case .dissatisfied: t("appeal.satisfaction.DISSATISFIED")
    default: "-"
    }
  }

  /// "王小二" or the enterprise's name, as a list shows the requester.
  static func requesterLabel(_ a: Banjie_V1_Appeal) -> String {
    switch a.requesterKind {
    case .enterprise: a.enterpriseName.isEmpty ? a.enterpriseUscc : a.enterpriseName
    default: a.requesterName
    }
  }

  /// The clock that runs now: the first contact's while it is awaited, else the current round's.
  static func runningSLA(_ a: Banjie_V1_Appeal) -> Banjie_V1_SLA? {
    if a.hasResponseSla { return a.responseSla }
    return a.rounds.last.flatMap { $0.hasSla ? $0.sla : nil }
  }

  static func waiting(_ sla: Banjie_V1_SLA) -> String {
    let used = Int((sla.fractionUsed * 100).rounded())
    return t("appeal.waitingValue", CaseOutput.shortTime(sla.dueAt), EnterpriseOutput.colourName(sla.colour), used)
  }

  static func print(_ a: Banjie_V1_Appeal, json: Bool) throws {
    if json {
      Swift.print(try a.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    let requester: String
    switch a.requesterKind {
    case .enterprise:
      requester =
        "\(a.enterpriseName.isEmpty ? "-" : a.enterpriseName) (\(a.enterpriseUscc))"
        + (a.requesterName.isEmpty ? "" : " · \(a.requesterName)") + " · \(a.requesterPhone)"
    default: requester = "\(a.requesterName) · \(a.requesterPhone)"
    }
    var lines: [(String, String)] = [
      (t("appeal.field.number"), a.number),
      (t("appeal.field.channel"), "\(channelLabel(a.channel)) · \(categoryLabel(a.category))"),
      (t("appeal.field.requester"), requester),
      (t("appeal.field.subject"), a.subject),
      (t("appeal.field.content"), a.content),
      (t("appeal.field.registered"), "\(CaseOutput.shortTime(a.registeredAt)) · \(HumanText.by(a.registeredBy))"),
      (t("appeal.field.state"), stateLabel(a.state) + (a.hasClosedAt ? " · \(CaseOutput.shortTime(a.closedAt))" : "")),
    ]
    if !a.department.isEmpty {
      var text = "\(a.departmentName) (\(a.department)) · \(CaseOutput.shortTime(a.assignedAt)) · \(HumanText.by(a.assignedBy))"
      if a.reassignments > 0 { text += t("appeal.reassignedValue", a.reassignments, a.reassignReason) }
      lines.append((t("appeal.field.department"), text))
      lines.append(
        (t("appeal.field.limits"), t("appeal.limitsValue", a.responseLimitWorkingDays, a.resolutionLimitWorkingDays)))
      if a.hasContactedAt {
        lines.append(
          (
            t("appeal.field.contact"),
            t(
              "appeal.contactValue", CaseOutput.shortTime(a.contactedAt), methodLabel(a.contactMethod),
              a.responseOnTime ? t("appeal.onTime") : t("appeal.late"), a.contactNote)
          ))
      } else if a.hasResponseSla {
        lines.append((t("appeal.field.contact"), Terminal.paint(waiting(a.responseSla), CaseOutput.ansi(a.responseSla.colour))))
      }
    }
    for r in a.rounds {
      var text = t("appeal.roundValue", r.round, CaseOutput.shortTime(r.startedAt))
      if r.hasResolvedAt {
        text += t(
          "appeal.resolvedValue", CaseOutput.shortTime(r.resolvedAt), r.onTime ? t("appeal.onTime") : t("appeal.late"), r.resolution)
        lines.append((t("appeal.field.round"), text))
      } else if r.hasSla {
        lines.append((t("appeal.field.round"), Terminal.paint(text + " · " + waiting(r.sla), CaseOutput.ansi(r.sla.colour))))
      } else {
        lines.append((t("appeal.field.round"), text))
      }
      if r.hasCallBackAt {
        lines.append(
          (
            t("appeal.field.callBack"),
            t("appeal.callBackValue", CaseOutput.shortTime(r.callBackAt), satisfactionLabel(r.satisfaction))
              + (r.callBackNote.isEmpty ? "" : " · \(r.callBackNote)")
          ))
      }
    }
    lines.append((t("appeal.field.version"), String(a.version)))
    EnterpriseOutput.printLabelled(lines, width: 11)
  }
}
