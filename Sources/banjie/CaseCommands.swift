import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

struct CaseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "case",
    abstract: "Submit and handle government-service cases (办件).",
    subcommands: [
      Submit.self, Accept.self, Notice.self, Supplied.self, Refuse.self, Suspend.self, Resume.self, Transfer.self,
      Complete.self, Deliver.self, Withdraw.self, Show.self, List.self, History.self,
    ]
  )
}

extension CaseCommand {
  struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Receive a case at a window.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: "Service item code (see `banjie catalog items`).") var item: String
    @Option(name: .long, help: "Applicant's name.") var applicant: String
    @Option(name: .long, help: "Enterprise's unified social credit code, if the applicant is one.") var uscc: String?
    @Option(name: .long, help: "The window, e.g. \"A03\".") var window: String
    @Option(name: .long, help: "A remark.") var note: String = ""

    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).submitCase(
          .with {
            $0.itemCode = self.item
            $0.applicant = self.applicant
            $0.enterpriseUscc = self.uscc ?? ""
            $0.window = self.window
            $0.note = self.note
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
    static let configuration = CommandConfiguration(abstract: "Accept a case (受理): its deadline starts.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    func run() async throws {
      try await Transition.run(self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { _ in }) {
        try await $0.acceptCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Notice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue a supplement notice (一次性告知) listing every missing material.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: "A missing material (repeat for each).") var missing: [String]
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.missingMaterials = self.missing }
      ) {
        try await $0.requestSupplement($1, metadata: $2, options: $3)
      }
    }
  }

  struct Supplied: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record that the missing materials arrived (back to RECEIVED).")
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
    static let configuration = CommandConfiguration(abstract: "Do not accept a case (不予受理), with the reason the applicant is told.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: "The reason.") var reason: String
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.note = self.reason }
      ) {
        try await $0.refuseCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a special procedure (特别程序): the clock stops.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: "The special procedure, e.g. 专家评审.") var reason: String
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.note = self.reason }
      ) {
        try await $0.suspendCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the special procedure: the deadline moves by the working time spent.")
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
    static let configuration = CommandConfiguration(abstract: "Hand a case to another department; the clock keeps running.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: "Department code.") var to: String
    func run() async throws {
      try await Transition.run(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.toDepartment = self.to }
      ) {
        try await $0.transferCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Complete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Conclude a case (办结): approved or denied.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: "approved or denied.") var outcome: String = "approved"
    func validate() throws {
      guard ["approved", "denied"].contains(self.outcome) else { throw ValidationError("--outcome must be approved or denied") }
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
    static let configuration = CommandConfiguration(abstract: "Record delivery of the result (送达/出件).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    func run() async throws {
      try await Transition.run(self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { _ in }) {
        try await $0.deliverCase($1, metadata: $2, options: $3)
      }
    }
  }

  struct Withdraw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The applicant withdraws the case.")
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
    static let configuration = CommandConfiguration(abstract: "Show a case with its deadline and colour.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Case number.") var number: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).getCase(
          .with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try CaseOutput.printCase(result, json: self.json)
    }
  }

  struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every event of a case: who did what, when.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Case number.") var number: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).getCaseHistory(
          .with { $0.number = self.number }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("#", "time", "action", "from", "to", "by", "note")
      for e in result.events {
        table.add([
          String(e.seq), CaseOutput.shortTime(e.at), e.action, CaseOutput.stateName(e.fromState), CaseOutput.stateName(e.toState),
          "\(e.actorPerson) (\(e.actorRole))", e.note,
        ])
      }
      print(table.render())
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List cases, newest first, with filters and paging.")
    @OptionGroup var connection: ConnectionOptions
    @Option(
      name: .long,
      help: "State (repeatable): received, supplement_requested, accepted, not_accepted, suspended, completed, delivered, withdrawn.")
    var state: [String] = []
    @Option(name: .long, help: "Colour (repeatable): green, yellow, red.") var colour: [String] = []
    @Option(name: .long, help: "Department code (the office only; clerks see their own).") var department: String?
    @Option(name: .long, help: "Service item code.") var item: String?
    @Option(name: .long, help: "Received on or after YYYY-MM-DD.") var from: String?
    @Option(name: .long, help: "Received on or before YYYY-MM-DD.") var to: String?
    @Option(name: .long, help: "Cases per page (1-500).") var pageSize: UInt32 = 50
    @Option(name: .long, help: "Continue from a previous page's token.") var pageToken: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
      var request = Banjie_V1_ListCasesRequest()
      for s in self.state {
        guard let value = Banjie_V1_CaseState(name: s) else { throw CLIError(exitCode: 64, message: "unknown state \(s)") }
        request.states.append(value)
      }
      for c in self.colour {
        guard let value = Banjie_V1_Colour(name: c) else { throw CLIError(exitCode: 64, message: "unknown colour \(c)") }
        request.colours.append(value)
      }
      request.departmentCode = self.department ?? ""
      request.itemCode = self.item ?? ""
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
      var table = TextTable("number", "item", "applicant", "window", "state", "due", "colour")
      for c in result.cases {
        table.add(
          [
            c.number, c.itemName, c.applicant, c.window, CaseOutput.stateName(c.state), c.hasSla ? CaseOutput.shortTime(c.sla.dueAt) : "-",
            c.hasSla ? CaseOutput.colourName(c.sla.colour) : "-",
          ], colour: c.hasSla && !c.sla.completed ? CaseOutput.ansi(c.sla.colour) : nil)
      }
      print(table.render())
      print(
        Terminal.paint(
          "\(result.cases.count) of \(result.total) cases"
            + (result.nextPageToken.isEmpty ? "" : "; next page: --page-token \(result.nextPageToken)"), Terminal.dim))
    }
  }
}

typealias BanjieClientTransportAlias = BanjieClientTransport

/// How cases look on a terminal.
enum CaseOutput {
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

  static func shortTime(_ timestamp: Google_Protobuf_Timestamp) -> String {
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.string(from: timestamp.date)
  }

  static func printCase(_ c: Banjie_V1_Case, json: Bool) throws {
    if json {
      print(try c.jsonString(options: jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      ("case", c.number),
      ("item", "\(c.itemName) (\(c.itemCode))"),
      ("department", "\(c.departmentName) (\(c.departmentCode))"),
      ("applicant", c.applicant + (c.enterpriseUscc.isEmpty ? "" : " · \(c.enterpriseUscc)")),
      ("window", c.window),
      (
        "state",
        stateName(c.state) + (c.outcome.isEmpty ? "" : " (\(c.outcome))") + (c.deemedAccepted ? " (deemed accepted at receipt)" : "")
      ),
      ("version", String(c.version)),
      ("received", shortTime(c.receivedAt) + " by \(c.receivedBy)"),
      ("limit", c.limit),
    ]
    if c.hasIntakeDueAt && c.state == .received { lines.append(("intake due", shortTime(c.intakeDueAt))) }
    if c.hasAcceptedAt { lines.append(("accepted", shortTime(c.acceptedAt))) }
    if c.hasSla {
      let used = Int((c.sla.fractionUsed * 100).rounded())
      var text = "\(shortTime(c.sla.dueAt)) · \(colourName(c.sla.colour)) · \(used) % of working time used"
      if c.sla.suspended { text += " · clock stopped" }
      if c.sla.provisional { text += " · provisional calendar" }
      lines.append(("due", Terminal.paint(text, c.sla.completed ? nil : ansi(c.sla.colour))))
    }
    if c.hasCompletedAt {
      lines.append(
        (
          "completed",
          shortTime(c.completedAt) + (c.sla.completedOnTime ? " · on time" : " · late") + (c.sla.oneDayCompletion ? " · 一日办结" : "")
        ))
    }
    if c.hasDeliveredAt { lines.append(("delivered", shortTime(c.deliveredAt))) }
    if !c.missingMaterials.isEmpty { lines.append(("missing", c.missingMaterials.joined(separator: "、"))) }
    if !c.lastNote.isEmpty { lines.append(("note", c.lastNote)) }
    for (label, value) in lines { print(pad(label, to: 11) + value) }
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
