import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

struct CaseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "case",
    abstract: t("case.abstract"),
    subcommands: [
      Submit.self, Accept.self, Notice.self, Supplied.self, Refuse.self, Suspend.self, Resume.self, Transfer.self,
      Complete.self, Deliver.self, Withdraw.self, SuppliedMaterials.self, Waive.self, HandOver.self, Helper.self, Show.self, List.self,
      History.self, Print.self,
    ]
  )
}

extension CaseCommand {
  struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.submit.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("case.help.item")), transform: Normalize.code) var item: String
    @Option(name: .long, help: ArgumentHelp(t("case.help.applicant")), transform: Normalize.text) var applicant: String
    @Option(name: .long, help: ArgumentHelp(t("case.help.uscc")), transform: Normalize.code) var uscc: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.window")), transform: Normalize.code) var window: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.note")), transform: Normalize.text) var note: String = ""
    @Option(name: .long, help: ArgumentHelp(t("case.help.channel"))) var channel: String = "window"

    func validate() throws {
      guard let channel = ChannelText.parse(self.channel) else { throw ValidationError(t("case.error.channel", self.channel)) }
      if (channel == .window || channel == .selfService) && (self.window ?? "").isEmpty {
        throw ValidationError(t("case.error.windowRequired"))
      }
    }

    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).submitCase(
          .with {
            $0.itemCode = self.item
            $0.applicant = self.applicant
            $0.enterpriseUscc = self.uscc ?? ""
            $0.window = self.window ?? ""
            $0.note = self.note
            $0.channel = ChannelText.parse(self.channel) ?? .window
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try CaseOutput.printCase(result, json: self.mutation.json)
    }
  }

  /// The shape of every transition command: a case number and what that action needs.
  struct Transition {
    static func run(
      _ connection: ConnectionOptions, _ mutation: MutationOptions, number: String, ifVersion: Int64?,
      _ configure: (inout Banjie_V1_CaseActionRequest) -> Void,
      _ call:
        @escaping @Sendable (Banjie_V1_CaseService.Client<BanjieClientTransportAlias>, Banjie_V1_CaseActionRequest, Metadata, CallOptions)
        async throws -> Banjie_V1_Case
    ) async throws {
      var request = Banjie_V1_CaseActionRequest()
      request.number = number
      request.expectedVersion = ifVersion ?? 0
      configure(&request)
      let finalRequest = request
      let result = try await connection.withClient { client, _, _ in
        try await call(Banjie_V1_CaseService.Client(wrapping: client), finalRequest, mutation.metadata, connection.callOptions)
      }
      try CaseOutput.printCase(result, json: mutation.json)
    }
  }

  struct Accept: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.accept.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.pending")), transform: Normalize.text) var pending: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("case.help.pendingDays"))) var pendingDays: UInt32?
    func validate() throws {
      if let days = self.pendingDays {
        guard !self.pending.isEmpty else { throw ValidationError(t("case.error.pendingDaysAlone")) }
        guard (1...30).contains(days) else { throw ValidationError(t("case.error.pendingDays", days)) }
      }
    }
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion,
        {
          $0.pendingMaterials = self.pending
          $0.pendingWorkingDays = self.pendingDays ?? 0
        }
      ) {
        try await $0.acceptCase($1, metadata: $2, options: $3)
      }
    }
  }

  /// 容缺受理: the pending materials arrived (已补齐); a clerk of the case's department.
  struct SuppliedMaterials: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "supplied-materials", abstract: t("case.suppliedMaterials.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.material")), transform: Normalize.text) var material: [String]
    func run() async throws {
      try await Materials.run(self.connection, self.mutation, self.target, materials: self.material, reason: "") {
        try await $0.recordMaterialsSupplied($1, metadata: $2, options: $3)
      }
    }
  }

  /// 容缺受理: the office waives pending materials (免于提交), with a reason.
  struct Waive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.waive.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.material")), transform: Normalize.text) var material: [String]
    @Option(name: .long, help: ArgumentHelp(t("case.help.waiveReason")), transform: Normalize.text) var reason: String
    func run() async throws {
      try await Materials.run(self.connection, self.mutation, self.target, materials: self.material, reason: self.reason) {
        try await $0.waiveMaterials($1, metadata: $2, options: $3)
      }
    }
  }

  /// The shape of the two 容缺 material commands.
  struct Materials {
    static func run(
      _ connection: ConnectionOptions, _ mutation: MutationOptions, _ target: CaseTarget, materials: [String], reason: String,
      _ call:
        @escaping @Sendable (Banjie_V1_CaseService.Client<BanjieClientTransportAlias>, Banjie_V1_MaterialsRequest, Metadata, CallOptions)
        async throws -> Banjie_V1_Case
    ) async throws {
      let request = Banjie_V1_MaterialsRequest.with {
        $0.number = target.number
        $0.expectedVersion = target.ifVersion ?? 0
        $0.materials = materials
        $0.reason = reason
      }
      let result = try await connection.withClient { client, _, _ in
        try await call(Banjie_V1_CaseService.Client(wrapping: client), request, mutation.metadata, connection.callOptions)
      }
      try CaseOutput.printCase(result, json: mutation.json)
    }
  }

  struct Notice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.notice.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.missing"))) var missing: [String]
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.missingMaterials = self.missing }
      ) {
        try await $0.requestSupplement($1, metadata: $2, options: $3)
      }
    }
  }

  struct Supplied: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.supplied.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    func run() async throws {
      try await Transition.run(self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { _ in }) {
        try await $0.supplementReceived($1, metadata: $2, options: $3)
      }
    }
  }

  struct Refuse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.refuse.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.refuseReason"))) var reason: String
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.note = self.reason }
      ) {
        try await $0.refuseCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.suspend.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.suspendReason"))) var reason: String
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.note = self.reason }
      ) {
        try await $0.suspendCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.resume.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    func run() async throws {
      try await Transition.run(self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { _ in }) {
        try await $0.resumeCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Transfer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.transfer.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.toDepartment"))) var to: String
    @Option(name: .long, help: ArgumentHelp(t("case.help.transferNote")), transform: Normalize.text) var note: String
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion,
        {
          $0.toDepartment = self.to
          $0.note = self.note
        }
      ) {
        try await $0.transferCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Complete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.complete.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.outcome"))) var outcome: String = "approved"
    func validate() throws {
      guard ["approved", "denied"].contains(self.outcome) else { throw ValidationError(t("case.error.outcome")) }
    }
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.outcome = self.outcome }
      ) {
        try await $0.completeCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Deliver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.deliver.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.deliverBy"))) var by: String = "window"
    @Option(name: .long, help: ArgumentHelp(t("case.help.deliverAt")), transform: Normalize.code) var at: String?
    func validate() throws {
      guard let channel = ChannelText.parse(self.by), channel != .selfService else {
        throw ValidationError(t("case.error.deliveryChannel", self.by))
      }
      if channel != .window && self.at != nil { throw ValidationError(t("case.error.deliveryWindow")) }
    }
    func run() async throws {
      let channel = ChannelText.parse(self.by) ?? .window
      let window = self.at ?? ""
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion,
        {
          $0.deliveryChannel = channel
          $0.deliveryWindow = window
        }
      ) {
        try await $0.deliverCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Withdraw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.withdraw.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    func run() async throws {
      try await Transition.run(self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { _ in }) {
        try await $0.withdrawCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("output.help.caseNumber")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).getCase(
          .with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try CaseOutput.printCase(result, json: self.json)
    }
  }

  struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.history.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("output.help.caseNumber")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).getCaseHistory(
          .with { $0.number = self.number }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.caseEvents(number: self.number, result.events).print()
        return
      }
      var table = TextTable(
        t("case.col.seq"), t("case.col.time"), t("case.col.action"), t("case.col.from"), t("case.col.to"), t("case.col.by"),
        t("case.col.note"))
      for e in result.events {
        table.add([
          String(e.seq), CaseOutput.shortTime(e.at), CaseOutput.actionText(e.action), CaseOutput.stateText(e.fromState),
          CaseOutput.stateText(e.toState), t("case.history.actor", e.actorPerson, HumanText.role(e.actorRole)),
          CaseOutput.noteText(e.note),
        ])
      }
      print(table.render())
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("case.help.state")), transform: Normalize.text) var state: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("case.help.colour")), transform: Normalize.text) var colour: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("case.help.department")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.itemFilter")), transform: Normalize.code) var item: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.applicantFilter")), transform: Normalize.text) var applicant: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.usccFilter")), transform: Normalize.code) var uscc: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.windowFilter")), transform: Normalize.code) var window: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.channelFilter"))) var channel: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.from")), transform: Normalize.day) var from: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.to")), transform: Normalize.day) var to: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("case.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false

    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
      for s in self.state where CaseOutput.parseState(s) == nil { throw ValidationError(t("case.error.unknownState", s)) }
      for c in self.colour where CaseOutput.parseColour(c) == nil { throw ValidationError(t("case.error.unknownColour", c)) }
      if let channel = self.channel, ChannelText.parse(channel) == nil { throw ValidationError(t("case.error.channel", channel)) }
    }

    func run() async throws {
      var request = Banjie_V1_ListCasesRequest()
      request.states = self.state.compactMap(CaseOutput.parseState)
      request.colours = self.colour.compactMap(CaseOutput.parseColour)
      request.departmentCode = self.department ?? ""
      request.itemCode = self.item ?? ""
      request.applicant = self.applicant ?? ""
      request.enterpriseUscc = self.uscc ?? ""
      request.window = self.window ?? ""
      request.channel = self.channel.flatMap(ChannelText.parse) ?? .unspecified
      request.receivedFrom = self.from ?? ""
      request.receivedTo = self.to ?? ""
      request.page = .with {
        $0.pageSize = self.pageSize
        $0.pageToken = self.pageToken ?? ""
      }
      let finalRequest = request
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).listCases(finalRequest, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        CaseOutput.csv(result.cases).print()
        return
      }
      var table = TextTable(
        t("case.col.number"), t("case.col.item"), t("case.col.applicant"), t("case.col.window"), t("case.col.state"), t("case.col.due"),
        t("case.col.colour"))
      for c in result.cases {
        table.add(
          [
            c.number, c.itemName, c.applicant, c.window, CaseOutput.stateText(c.state), c.hasSla ? CaseOutput.shortTime(c.sla.dueAt) : "-",
            c.hasSla ? CaseOutput.colourText(c.sla.colour) : "-",
          ], colour: c.hasSla && !c.sla.completed ? CaseOutput.ansi(c.sla.colour) : nil)
      }
      print(table.render())
      print(
        Terminal.paint(
          t("case.list.summary", result.cases.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("case.list.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

typealias BanjieClientTransportAlias = BanjieClientTransport

/// How cases look on a terminal.
enum CaseOutput {
  /// A state as typed: its proto name in any case (`accepted`, `ACCEPTED`) or its name in either
  /// language (`已受理`).
  static func parseState(_ text: String) -> Banjie_V1_CaseState? {
    let names = ["RECEIVED", "SUPPLEMENT_REQUESTED", "ACCEPTED", "NOT_ACCEPTED", "SUSPENDED", "COMPLETED", "DELIVERED", "WITHDRAWN"]
    let wanted = text.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
    let name =
      names.first { $0 == wanted }
      ?? names.first { name in Language.allCases.contains { Catalogue.text("state.\(name)", [], language: $0) == text } }
    return name.flatMap { Banjie_V1_CaseState(name: $0) }
  }

  /// A colour as typed: green/yellow/red or 绿/黄/红 (also 绿色, 黄色, 红色).
  static func parseColour(_ text: String) -> Banjie_V1_Colour? {
    let value = text.lowercased().hasSuffix("色") ? String(text.dropLast()) : text.lowercased()
    for name in ["green", "yellow", "red"]
    where value == name || Language.allCases.contains(where: { Catalogue.text("colour.\(name)", [], language: $0) == value }) {
      return Banjie_V1_Colour(name: name.uppercased()) ?? Banjie_V1_Colour(name: name)
    }
    return nil
  }

  /// The case ledger (台账) as CSV: stable English column keys, times in Asia/Shanghai with offset.
  static func csv(_ cases: [Banjie_V1_Case]) -> CSVTable {
    var table = CSVTable([
      "number", "item_code", "item_name", "department_code", "department_name", "applicant", "enterprise_uscc", "window", "state",
      "outcome", "received_at", "accepted_at", "due_at", "colour", "completed_at", "on_time", "one_day",
    ])
    func time(_ present: Bool, _ timestamp: Google_Protobuf_Timestamp) -> String { present ? isoShanghai(timestamp.date) : "" }
    for c in cases {
      table.add([
        c.number, c.itemCode, c.itemName, c.departmentCode, c.departmentName, c.applicant, c.enterpriseUscc, c.window, stateName(c.state),
        c.outcome, time(c.hasReceivedAt, c.receivedAt), time(c.hasAcceptedAt, c.acceptedAt), time(c.hasSla, c.sla.dueAt),
        c.hasSla ? colourName(c.sla.colour) : "", time(c.hasCompletedAt, c.completedAt),
        c.hasCompletedAt ? (c.sla.completedOnTime ? "1" : "0") : "", c.hasCompletedAt ? (c.sla.oneDayCompletion ? "1" : "0") : "",
      ])
    }
    return table
  }

  static let jsonOptions: JSONEncodingOptions = {
    var options = JSONEncodingOptions()
    options.preserveProtoFieldNames = true
    return options
  }()

  static func stateName(_ state: Banjie_V1_CaseState) -> String {
    switch state {
    case .received: return "RECEIVED"
    case .supplementRequested: return "SUPPLEMENT_REQUESTED"
    case .accepted: return "ACCEPTED"
    case .notAccepted: return "NOT_ACCEPTED"
    case .suspended: return "SUSPENDED"
    case .completed: return "COMPLETED"
    case .delivered: return "DELIVERED"
    case .withdrawn: return "WITHDRAWN"
    default: return "-"
    }
  }

  static func colourName(_ colour: Banjie_V1_Colour) -> String {
    switch colour {
    case .green: return "green"
    case .yellow: return "yellow"
    case .red: return "red"
    default: return "-"
    }
  }

  static func ansi(_ colour: Banjie_V1_Colour) -> String? {
    switch colour {
    case .green: return Terminal.green
    case .yellow: return Terminal.yellow
    case .red: return Terminal.red
    default: return nil
    }
  }

  /// A state as people call it (已受理 / accepted); "-" when unset.
  static func stateText(_ state: Banjie_V1_CaseState) -> String {
    let name = Self.stateName(state)
    return name == "-" ? "-" : t("state.\(name)")
  }

  /// A colour as people call it (黄 / yellow); "-" when unset.
  static func colourText(_ colour: Banjie_V1_Colour) -> String {
    let name = Self.colourName(colour)
    return name == "-" ? "-" : t("colour.\(name)")
  }

  /// A 容缺 material's state ("PENDING", "SUPPLIED", "WAIVED") as people call it (待补齐, 已补齐, 免于提交).
  static func pendingStateText(_ state: String) -> String {
    HumanText.known("case.pendingState.\(state)", or: state)
  }

  /// A case outcome as the server sends it ("approved") as people call it (准予).
  static func outcomeText(_ outcome: String) -> String {
    HumanText.known("outcome.\(outcome.uppercased())", or: outcome)
  }

  /// A history action (the server's name, e.g. "requestSupplement") as people call it.
  static func actionText(_ action: String) -> String {
    HumanText.known("action.\(action)", or: HumanText.known("case.action.\(action)", or: action))
  }

  /// A history note or a case's last note: the notes the server itself writes (in English,
  /// as data; Sources/BanjieStore/CaseStore.swift) are said in the reader's language, people's
  /// notes kept as they were typed.
  static func noteText(_ note: String, language: Language = Language.current) -> String {
    func text(_ key: String, _ arguments: String...) -> String { Catalogue.text(key, arguments, language: language) }
    // 帮办代办: the server appends who the helper acted for.
    let onBehalf = " (on behalf of "
    if note.hasSuffix(")"), let range = note.range(of: onBehalf, options: .backwards) {
      let applicant = String(note[range.upperBound..<note.index(before: note.endIndex)])
      return text("case.note.withOnBehalf", noteText(String(note[..<range.lowerBound]), language: language), applicant)
    }
    if note.hasPrefix("on behalf of ") { return text("case.note.onBehalf", String(note.dropFirst("on behalf of ".count))) }
    if note.hasPrefix("pending: ") { return text("case.note.pending", String(note.dropFirst("pending: ".count))) }
    if note.hasPrefix("missing: ") { return text("case.note.missing", String(note.dropFirst("missing: ".count))) }
    switch note {
    case "intake limit passed": return text("case.note.intakeLimitPassed")
    case "materials supplied": return text("case.note.supplied")
    case "withdrawn": return text("case.note.withdrawn")
    case "APPROVED", "DENIED": return text("case.note.outcome", text("outcome.\(note)"))
    default: break
    }
    // A delivery: its channel, and its window for a window delivery ("WINDOW A03", "MAIL").
    let parts = note.split(separator: " ", maxSplits: 1).map(String.init)
    if let channel = parts.first, ["WINDOW", "ONLINE", "MAIL"].contains(channel) {
      let name = text("channel.\(channel.lowercased())")
      return parts.count == 2 ? text("case.note.deliveredAt", name, parts[1]) : text("case.note.delivered", name)
    }
    // A transfer: "from SCJGJ to ZJJ: the clerk's note".
    if note.hasPrefix("from "), let to = note.range(of: " to "), let colon = note.range(of: ": ", range: to.upperBound..<note.endIndex) {
      let from = String(note[note.index(note.startIndex, offsetBy: 5)..<to.lowerBound])
      let target = String(note[to.upperBound..<colon.lowerBound])
      if !from.contains(" "), !target.contains(" ") {
        return text("case.note.transfer", from, target, String(note[colon.upperBound...]))
      }
    }
    return note
  }

  /// A limit as the server writes it ("3 working days", "1 working hour") in the current language.
  static func limitText(_ limit: String) -> String {
    let words = limit.split(separator: " ")
    guard words.count == 3, let n = Int(words[0]), words[1] == "working" else { return limit }
    switch words[2] {
    case "day", "days": return t(n == 1 ? "case.limit.day" : "case.limit.days", n)
    case "hour", "hours": return t(n == 1 ? "case.limit.hour" : "case.limit.hours", n)
    default: return limit
    }
  }

  /// A time as people read it: Asia/Shanghai, "yyyy-MM-dd HH:mm".
  static func shortTime(_ timestamp: Google_Protobuf_Timestamp) -> String {
    HumanText.time(timestamp.date)
  }

  static func printCase(_ c: Banjie_V1_Case, json: Bool) throws {
    if json {
      print(try c.jsonString(options: jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("case.field.case"), c.number),
      (t("case.field.item"), t("case.value.nameCode", c.itemName, c.itemCode)),
      (t("case.field.department"), t("case.value.nameCode", c.departmentName, c.departmentCode)),
      (t("case.field.applicant"), c.applicant + (c.enterpriseUscc.isEmpty ? "" : " · \(c.enterpriseUscc)")),
      (t("case.field.window"), c.window.isEmpty ? "—" : c.window),
      (t("case.field.channel"), ChannelText.name(c.channel)),
      (
        t("case.field.state"),
        stateText(c.state) + (c.outcome.isEmpty ? "" : t("case.value.outcome", outcomeText(c.outcome)))
          + (c.deemedAccepted ? t("case.value.deemedAccepted") : "")
      ),
      (t("case.field.version"), String(c.version)),
      (t("case.field.received"), t("case.value.receivedBy", shortTime(c.receivedAt), c.receivedBy)),
      (t("case.field.limit"), limitText(c.limit)),
    ]
    if c.hasIntakeDueAt && c.state == .received { lines.append((t("case.field.intakeDue"), shortTime(c.intakeDueAt))) }
    if c.hasAcceptedAt { lines.append((t("case.field.accepted"), shortTime(c.acceptedAt))) }
    if c.hasSla {
      let used = Int((c.sla.fractionUsed * 100).rounded())
      var text = t("case.value.due", shortTime(c.sla.dueAt), colourText(c.sla.colour), used)
      if c.sla.suspended { text += t("case.value.clockStopped") }
      if c.sla.provisional { text += t("case.value.provisional") }
      lines.append((t("case.field.due"), Terminal.paint(text, c.sla.completed ? nil : ansi(c.sla.colour))))
    }
    if c.hasCompletedAt {
      lines.append(
        (
          t("case.field.completed"),
          shortTime(c.completedAt) + (c.sla.completedOnTime ? t("case.value.onTime") : t("case.value.late"))
            + (c.sla.oneDayCompletion ? t("case.value.oneDay") : "")
        ))
    }
    if c.hasDeliveredAt {
      let how = ChannelText.name(c.deliveryChannel) + (c.deliveryWindow.isEmpty ? "" : " · \(c.deliveryWindow)")
      lines.append((t("case.field.delivered"), shortTime(c.deliveredAt) + " · " + how + (c.zeroTrip ? t("case.value.zeroTrip") : "")))
    }
    if c.hasFirstResponder && !c.firstResponder.person.isEmpty {
      let first = t("case.value.person", c.firstResponder.person, c.firstResponder.organization)
      let now = t("case.value.person", c.responsible.person, c.responsible.organization)
      lines.append((t("case.field.firstResponder"), first == now ? first : t("case.value.handedOver", first, now)))
    }
    if c.hasHelper { lines.append((t("case.field.helper"), t("case.value.person", c.helper.person, c.helper.organization))) }
    if !c.readers.isEmpty {
      let readers = c.readers.map { t("case.value.reader", $0.departmentCode, t("case.reader.\($0.reason)")) }
      lines.append((t("case.field.readers"), readers.joined(separator: "、")))
    }
    if !c.ratingCode.isEmpty { lines.append((t("case.field.ratingCode"), c.ratingCode)) }
    if !c.missingMaterials.isEmpty { lines.append((t("case.field.missing"), c.missingMaterials.joined(separator: "、"))) }
    // 容缺材料: one line each, "material · promised by … · colour · state" (nothing without them).
    for (index, p) in c.pending.enumerated() {
      let open = p.state == "PENDING"
      let text = t("case.value.pending", p.material, shortTime(p.promisedBy), colourText(p.colour), pendingStateText(p.state))
      lines.append((index == 0 ? t("case.field.pending") : "", Terminal.paint(text, open ? ansi(p.colour) : nil)))
    }
    if !c.lastNote.isEmpty { lines.append((t("case.field.note"), CaseOutput.noteText(c.lastNote))) }
    // English labels line up at column 11 as before; longer labels push the values right.
    let width = max(11, (lines.map { displayWidth($0.0) }.max() ?? 0) + 1)
    for (label, value) in lines { print(pad(label, to: width) + value) }
  }
}

extension Banjie_V1_CaseState {
  init?(name: String) {
    switch name.lowercased() {
    case "received": self = .received
    case "supplement_requested", "notice": self = .supplementRequested
    case "accepted": self = .accepted
    case "not_accepted", "refused": self = .notAccepted
    case "suspended": self = .suspended
    case "completed": self = .completed
    case "delivered": self = .delivered
    case "withdrawn": self = .withdrawn
    default: return nil
    }
  }
}

extension Banjie_V1_Colour {
  init?(name: String) {
    switch name.lowercased() {
    case "green": self = .green
    case "yellow": self = .yellow
    case "red": self = .red
    default: return nil
    }
  }
}
