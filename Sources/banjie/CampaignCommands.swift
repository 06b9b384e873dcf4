import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// Visits (走访), demands (诉求), policy pushes (政策推送) and coverage of the warm-enterprise campaign.
struct VisitCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "visit", abstract: t("visit.abstract"), subcommands: [Record.self, List.self])

  struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("visit.record.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("visit.help.uscc")), transform: Normalize.code) var uscc: String
    @Option(name: .long, help: ArgumentHelp(t("visit.help.notes"))) var notes: String
    @Option(name: .long, help: ArgumentHelp(t("visit.help.on"))) var on: String?
    @Option(name: .long, help: ArgumentHelp(t("visit.help.demand")), transform: Normalize.text) var demand: [String] = []
    func run() async throws {
      let demands = try self.demand.map { text -> Banjie_V1_DemandInput in
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { throw ValidationError(t("visit.error.demandFormat", text)) }
        return .with {
          $0.category = DemandOutput.categoryKey(parts[0])
          $0.departmentCode = parts[1]
          $0.description_p = parts[2]
        }
      }
      let request = Banjie_V1_RecordVisitRequest.with {
        $0.uscc = self.uscc
        $0.notes = self.notes
        $0.visitedOn = self.on ?? ""
        $0.demands = demands
      }
      let v = try await EnterpriseCommand.call(self.connection) {
        try await $0.recordVisit(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try v.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("visit.recorded", v.id, v.enterpriseName, v.visitedOn, v.liaison.person, v.liaison.organization))
      for number in v.demandNumbers { print(t("visit.demandLine", number)) }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("visit.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("visit.help.filterUscc")), transform: Normalize.code) var uscc: String?
    @Option(name: .long, help: ArgumentHelp(t("visit.help.from")), transform: Normalize.day) var from: String?
    @Option(name: .long, help: ArgumentHelp(t("visit.help.to")), transform: Normalize.day) var to: String?
    @Option(name: .long, help: ArgumentHelp(t("visit.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let request = Banjie_V1_ListVisitsRequest.with {
        $0.uscc = self.uscc ?? ""
        $0.from = self.from ?? ""
        $0.to = self.to ?? ""
        $0.page = .with {
          $0.pageSize = self.pageSize
          $0.pageToken = self.pageToken ?? ""
        }
      }
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listVisits(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.visits(result.visits).print()
        return
      }
      var table = TextTable(
        t("visit.col.id"), t("visit.col.date"), t("visit.col.enterprise"), t("visit.col.liaison"), t("visit.col.demands"),
        t("visit.col.notes"))
      for v in result.visits {
        table.add([
          String(v.id), v.visitedOn, v.enterpriseName, "\(v.liaison.person)(\(v.liaison.organization))", String(v.demandNumbers.count),
          v.notes,
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          t("visit.list.count", result.visits.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

struct DemandCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demand", abstract: t("demand.abstract"),
    subcommands: [Raise.self, Assign.self, Answer.self, Close.self, Reopen.self, Show.self, List.self])

  static func act(
    _ connection: ConnectionOptions, _ mutation: MutationOptions, number: String, ifVersion: Int64?,
    _ configure: (inout Banjie_V1_DemandActionRequest) -> Void,
    _ call:
      @escaping @Sendable (EnterpriseCommand.Client, Banjie_V1_DemandActionRequest, Metadata, CallOptions) async throws -> Banjie_V1_Demand
  ) async throws {
    var request = Banjie_V1_DemandActionRequest()
    request.number = number
    request.expectedVersion = ifVersion ?? 0
    configure(&request)
    let finalRequest = request
    let result = try await EnterpriseCommand.call(connection) {
      try await call($0, finalRequest, mutation.metadata, connection.callOptions)
    }
    try DemandOutput.printDemand(result, json: mutation.json)
  }

  struct Raise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("demand.raise.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("demand.help.uscc")), transform: Normalize.code) var uscc: String?
    @Option(name: .long, help: ArgumentHelp(t("demand.help.category"))) var category: String
    @Option(name: .long, help: ArgumentHelp(t("demand.help.department")), transform: Normalize.code) var department: String
    @Option(name: .long, help: ArgumentHelp(t("demand.help.description"))) var description: String
    @Option(name: .long, help: ArgumentHelp(t("demand.help.limitDays"))) var limitDays: UInt32 = 0
    func run() async throws {
      let request = Banjie_V1_RaiseDemandRequest.with {
        $0.uscc = self.uscc ?? ""
        $0.demand = .with {
          $0.category = DemandOutput.categoryKey(self.category)
          $0.departmentCode = self.department
          $0.description_p = self.description
          $0.limitWorkingDays = self.limitDays
        }
      }
      let d = try await EnterpriseCommand.call(self.connection) {
        try await $0.raiseDemand(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try DemandOutput.printDemand(d, json: self.mutation.json)
    }
  }

  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("demand.assign.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: ArgumentHelp(t("demand.help.handler"))) var handler: String
    @Option(name: .long, help: ArgumentHelp(t("demand.help.routeDepartment")), transform: Normalize.code) var department: String?
    func run() async throws {
      try await DemandCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion,
        {
          $0.handler = self.handler
          $0.departmentCode = self.department ?? ""
        }
      ) { try await $0.assignDemand($1, metadata: $2, options: $3) }
    }
  }

  struct Answer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("demand.answer.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: ArgumentHelp(t("demand.help.answer"))) var answer: String
    func run() async throws {
      try await DemandCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.answer = self.answer }
      ) {
        try await $0.answerDemand($1, metadata: $2, options: $3)
      }
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("demand.close.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: ArgumentHelp(t("demand.help.satisfaction"))) var satisfaction: UInt32
    @Option(name: .long, help: ArgumentHelp(t("demand.help.comment"))) var comment: String = ""
    func validate() throws {
      guard (1...5).contains(self.satisfaction) else { throw ValidationError(t("demand.error.satisfaction")) }
    }
    func run() async throws {
      try await DemandCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion,
        {
          $0.satisfaction = self.satisfaction
          $0.note = self.comment
        }
      ) { try await $0.closeDemand($1, metadata: $2, options: $3) }
    }
  }

  struct Reopen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("demand.reopen.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: ArgumentHelp(t("demand.help.reason"))) var reason: String
    func run() async throws {
      try await DemandCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.note = self.reason }
      ) {
        try await $0.reopenDemand($1, metadata: $2, options: $3)
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("demand.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("demand.help.number")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    func run() async throws {
      let d = try await EnterpriseCommand.call(self.connection) {
        try await $0.getDemand(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try DemandOutput.printDemand(d, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("demand.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("demand.help.filterUscc")), transform: Normalize.code) var uscc: String?
    @Option(name: .long, help: ArgumentHelp(t("demand.help.state")), transform: Normalize.text) var state: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("demand.help.colour")), transform: Normalize.text) var colour: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("demand.help.filterDepartment")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("demand.help.filterCategory")), transform: Normalize.text) var category: String?
    @Option(name: .long, help: ArgumentHelp(t("demand.help.from")), transform: Normalize.day) var from: String?
    @Option(name: .long, help: ArgumentHelp(t("demand.help.to")), transform: Normalize.day) var to: String?
    @Option(name: .long, help: ArgumentHelp(t("demand.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
      for s in self.state where DemandOutput.parseState(s) == nil { throw ValidationError(t("demand.error.unknownState", s)) }
      for c in self.colour where CaseOutput.parseColour(c) == nil { throw ValidationError(t("demand.error.unknownColour", c)) }
      if let category = self.category, DemandOutput.parseCategory(category) == nil {
        throw ValidationError(t("demand.error.unknownCategory", category))
      }
    }
    func run() async throws {
      var request = Banjie_V1_ListDemandsRequest()
      request.states = self.state.compactMap(DemandOutput.parseState)
      request.colours = self.colour.compactMap(CaseOutput.parseColour)
      request.uscc = self.uscc ?? ""
      request.departmentCode = self.department ?? ""
      request.category = self.category.flatMap(DemandOutput.parseCategory) ?? ""
      request.raisedFrom = self.from ?? ""
      request.raisedTo = self.to ?? ""
      request.page = .with {
        $0.pageSize = self.pageSize
        $0.pageToken = self.pageToken ?? ""
      }
      let finalRequest = request
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listDemands(finalRequest, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.demands(result.demands).print()
        return
      }
      var table = TextTable(
        t("demand.col.number"), t("demand.col.enterprise"), t("demand.col.category"), t("demand.col.department"), t("demand.col.state"),
        t("demand.col.due"), t("demand.col.colour"))
      for d in result.demands {
        table.add(
          [
            d.number, d.enterpriseName, DemandOutput.categoryName(d.category), d.departmentCode, DemandOutput.stateLabel(d.state),
            d.hasSla ? CaseOutput.shortTime(d.sla.dueAt) : "-", d.hasSla ? EnterpriseOutput.colourName(d.sla.colour) : "-",
          ],
          colour: d.hasSla && !d.sla.completed ? CaseOutput.ansi(d.sla.colour) : nil)
      }
      print(table.render())
      print(
        Terminal.paint(
          t("demand.list.count", result.demands.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

struct PolicyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy", abstract: t("policy.abstract"),
    subcommands: [Create.self, Push.self, Ack.self, List.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("policy.create.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("policy.help.title"))) var title: String
    @Option(name: .long, help: ArgumentHelp(t("policy.help.summary"))) var summary: String = ""
    @Option(name: .long, help: ArgumentHelp(t("policy.help.industry"))) var industry: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("policy.help.scale"))) var scale: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("policy.help.township"))) var township: [String] = []
    func run() async throws {
      let request = Banjie_V1_CreatePolicyRequest.with {
        $0.title = self.title
        $0.summary = self.summary
        $0.industries = self.industry
        $0.scales = self.scale
        $0.townships = self.township
      }
      let p = try await EnterpriseCommand.call(self.connection) {
        try await $0.createPolicy(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try p.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("policy.created", p.id, p.title))
    }
  }

  struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("policy.push.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("policy.help.id"))) var id: Int64
    func run() async throws {
      let r = try await EnterpriseCommand.call(self.connection) {
        try await $0.pushPolicy(.with { $0.policyID = self.id }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try r.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("policy.pushed", r.policy.id, r.newlyPushed, r.policy.pushed, r.policy.acknowledged))
    }
  }

  struct Ack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("policy.ack.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("policy.help.id"))) var id: Int64
    func run() async throws {
      let p = try await EnterpriseCommand.call(self.connection) {
        try await $0.acknowledgePolicy(
          .with { $0.policyID = self.id }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try p.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("policy.acknowledged", p.id, p.title))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("policy.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listPolicies(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.policies(result.policies).print()
        return
      }
      var table = TextTable(
        t("policy.col.id"), t("policy.col.title"), t("policy.col.industries"), t("policy.col.scales"), t("policy.col.townships"),
        t("policy.col.pushed"), t("policy.col.acknowledged"))
      let anyValue = t("policy.any")
      for p in result.policies {
        table.add([
          String(p.id), p.title, p.industries.joined(separator: ",").ifEmpty(anyValue),
          p.scales.map(EnterpriseOutput.scaleName).joined(separator: ",").ifEmpty(anyValue),
          p.townships.joined(separator: "、").ifEmpty(anyValue), String(p.pushed),
          String(p.acknowledged) + (p.acknowledgedByMe ? t("policy.you") : ""),
        ])
      }
      print(table.render())
    }
  }
}

struct CoverageCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "coverage", abstract: t("coverage.abstract"))
  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: ArgumentHelp(t("coverage.help.from")), transform: Normalize.day) var from: String?
  @Option(name: .long, help: ArgumentHelp(t("coverage.help.to")), transform: Normalize.day) var to: String?
  @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
  @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
  func validate() throws {
    if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
  }
  func run() async throws {
    let r = try await EnterpriseCommand.call(self.connection) {
      try await $0.getCoverage(
        .with {
          $0.from = self.from ?? ""
          $0.to = self.to ?? ""
        }, options: self.connection.callOptions)
    }
    if self.json {
      print(try r.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    if self.csv {
      LedgerCSV.coverage(r).print()
      return
    }
    func rate(_ visited: UInt32, _ assigned: UInt32) -> String {
      assigned == 0 ? "-" : "\(Int((Double(visited) * 100 / Double(assigned)).rounded())) %"
    }
    print(t("coverage.summary", r.from, r.to, r.visited, r.assigned, rate(r.visited, r.assigned)) + "\n")
    var liaisons = TextTable(
      t("coverage.col.liaison"), t("coverage.col.unit"), t("coverage.col.assigned"), t("coverage.col.visited"), t("coverage.col.rate"))
    for l in r.liaisons {
      liaisons.add([l.liaison.person, l.liaison.organization, String(l.assigned), String(l.visited), rate(l.visited, l.assigned)])
    }
    print(liaisons.render() + "\n")
    var townships = TextTable(
      t("coverage.col.township"), t("coverage.col.enterprises"), t("coverage.col.assigned"), t("coverage.col.visited"),
      t("coverage.col.rate"))
    for row in r.townships {
      townships.add([row.township, String(row.enterprises), String(row.assigned), String(row.visited), rate(row.visited, row.assigned)])
    }
    print(townships.render())
    if !r.notVisitedThisYear.isEmpty {
      print()
      print(t("coverage.notVisited", r.year))
      var quiet = TextTable(t("coverage.col.uscc"), t("coverage.col.name"), t("coverage.col.township"), t("coverage.col.liaisons"))
      for e in r.notVisitedThisYear { quiet.add([e.uscc, e.name, e.township, e.liaisons.map(\.person).joined(separator: "、")]) }
      print(quiet.render())
    }
  }
}

enum DemandOutput {
  static func stateName(_ state: Banjie_V1_DemandState) -> String {
    switch state {
    case .open: return "OPEN"
    case .assigned: return "ASSIGNED"
    case .answered: return "ANSWERED"
    case .closed: return "CLOSED"
    case .reopened: return "REOPENED"
    default: return "-"
    }
  }

  /// The state as people read it (待分派, 办理中…).
  static func stateLabel(_ state: Banjie_V1_DemandState) -> String {
    let name = stateName(state)
    return name == "-" ? name : t("demand.state.\(name)")
  }

  /// A category key (financing, land…) as people read it; an unknown one as it is.
  static func categoryName(_ category: String) -> String {
    EnterpriseOutput.label("demand.category.\(category)", or: category)
  }

  /// The Chinese category names a person may type, and the keys the server takes.
  static let chineseCategories: [String: String] = [
    "融资": "financing", "土地": "land", "用地": "land", "审批": "permits", "用工": "labour", "水电气": "utilities",
    "水电气暖": "utilities", "政策": "policy", "其他": "other",
  ]

  /// "土地" → "land": the key to send for a category given in Chinese; anything else as given.
  static func categoryKey(_ text: String) -> String {
    Self.chineseCategories[text.trimmingCharacters(in: .whitespaces)] ?? text
  }

  /// A category as typed, in English (any case; "labor" too) or Chinese, as the key the
  /// server takes; nil when it names none.
  static func parseCategory(_ text: String) -> String? {
    let keys = ["financing", "land", "permits", "labour", "utilities", "policy", "other"]
    let key = Self.categoryKey(text).lowercased()
    if key == "labor" { return "labour" }
    return keys.first { $0 == key }
      ?? keys.first { name in Language.allCases.contains { Catalogue.text("demand.category.\(name)", [], language: $0) == text } }
  }

  /// A state as typed: open, assigned… (any case) or its name in either language (待分派, 办理中…).
  static func parseState(_ text: String) -> Banjie_V1_DemandState? {
    if let state = Banjie_V1_DemandState(name: text) { return state }
    let names = ["OPEN", "ASSIGNED", "ANSWERED", "CLOSED", "REOPENED"]
    let name = names.first { name in Language.allCases.contains { Catalogue.text("demand.state.\(name)", [], language: $0) == text } }
    return name.flatMap { Banjie_V1_DemandState(name: $0) }
  }

  static func printDemand(_ d: Banjie_V1_Demand, json: Bool) throws {
    if json {
      print(try d.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("demand.field.demand"), d.number),
      (t("demand.field.enterprise"), "\(d.enterpriseName) · \(d.uscc)"),
      (t("demand.field.category"), categoryName(d.category)),
      (
        t("demand.field.department"),
        "\(d.departmentName) (\(d.departmentCode))" + (d.handler.isEmpty ? "" : t("demand.handler", d.handler))
      ),
      (t("demand.field.state"), stateLabel(d.state)),
      (t("demand.field.raised"), t("demand.raisedBy", CaseOutput.shortTime(d.raisedAt), HumanText.by(d.raisedBy))),
      (t("demand.field.limit"), t("demand.limitDays", d.limitWorkingDays)),
      (t("demand.field.request"), d.description_p),
    ]
    if d.hasSla {
      let used = Int((d.sla.fractionUsed * 100).rounded())
      lines.append(
        (
          t("demand.field.due"),
          Terminal.paint(
            t("demand.dueValue", CaseOutput.shortTime(d.sla.dueAt), EnterpriseOutput.colourName(d.sla.colour), used),
            d.sla.completed ? nil : CaseOutput.ansi(d.sla.colour))
        ))
    }
    if !d.answer.isEmpty { lines.append((t("demand.field.answer"), "\(d.answer) (\(CaseOutput.shortTime(d.answeredAt)))")) }
    if !d.reopenReason.isEmpty { lines.append((t("demand.field.reopened"), d.reopenReason)) }
    if d.satisfaction > 0 {
      lines.append(
        (
          t("demand.field.closed"),
          t("demand.closedValue", CaseOutput.shortTime(d.closedAt), d.satisfaction)
            + (d.closeComment.isEmpty ? "" : " · \(d.closeComment)")
        ))
    }
    lines.append((t("demand.field.version"), String(d.version)))
    EnterpriseOutput.printLabelled(lines, width: 11)
  }
}

extension Banjie_V1_DemandState {
  init?(name: String) {
    switch name.lowercased() {
    case "open": self = .open
    case "assigned": self = .assigned
    case "answered": self = .answered
    case "closed": self = .closed
    case "reopened": self = .reopened
    default: return nil
    }
  }
}

extension String {
  func ifEmpty(_ replacement: String) -> String { self.isEmpty ? replacement : self }
}
