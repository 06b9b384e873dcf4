import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// Visits (走访), demands (诉求), policy pushes (政策推送) and coverage of the warm-enterprise campaign.
struct VisitCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "visit", abstract: "Liaison officials' visits to their enterprises (走访).", subcommands: [Record.self, List.self])

  struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record a visit, with the demands raised during it (liaison).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "USCC of the enterprise visited.") var uscc: String
    @Option(name: .long, help: "What was discussed.") var notes: String
    @Option(name: .long, help: "Date of the visit, YYYY-MM-DD (default today).") var on: String?
    @Option(name: .long, help: "A demand raised, as CATEGORY:DEPARTMENT:DESCRIPTION (repeatable), e.g. land:ZRZYJ:扩建用地.") var demand:
      [String] = []
    func run() async throws {
      let demands = try self.demand.map { text -> Banjie_V1_DemandInput in
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { throw ValidationError("--demand is CATEGORY:DEPARTMENT:DESCRIPTION, got \"\(text)\"") }
        return .with {
          $0.category = parts[0]
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
      print("visit \(v.id): \(v.enterpriseName) on \(v.visitedOn) by \(v.liaison.person) (\(v.liaison.organization))")
      for number in v.demandNumbers { print("  demand \(number)") }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List visits, newest first.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Only this enterprise.") var uscc: String?
    @Option(name: .long, help: "Visited on or after YYYY-MM-DD.") var from: String?
    @Option(name: .long, help: "Visited on or before YYYY-MM-DD.") var to: String?
    @Option(name: .long, help: "Visits per page (1-500).") var pageSize: UInt32 = 50
    @Option(name: .long, help: "Continue from a previous page's token.") var pageToken: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
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
      var table = TextTable("id", "date", "enterprise", "liaison", "demands", "notes")
      for v in result.visits {
        table.add([
          String(v.id), v.visitedOn, v.enterpriseName, "\(v.liaison.person)(\(v.liaison.organization))", String(v.demandNumbers.count),
          v.notes,
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          "\(result.visits.count) of \(result.total) visits"
            + (result.nextPageToken.isEmpty ? "" : "; next page: --page-token \(result.nextPageToken)"), Terminal.dim))
    }
  }
}

struct DemandCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demand", abstract: "Enterprise demands (诉求): raise, assign, answer, close or reopen.",
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
      abstract: "Raise a demand (an enterprise for itself, a liaison for an assigned enterprise, or the office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: "USCC (an enterprise may leave it out).") var uscc: String?
    @Option(name: .long, help: "financing, land, permits, labour, utilities, policy or other.") var category: String
    @Option(name: .long, help: "Responsible department code.") var department: String
    @Option(name: .long, help: "What the enterprise needs.") var description: String
    @Option(name: .long, help: "Limit in working days (default: the county setting, 10).") var limitDays: UInt32 = 0
    func run() async throws {
      let request = Banjie_V1_RaiseDemandRequest.with {
        $0.uscc = self.uscc ?? ""
        $0.demand = .with {
          $0.category = self.category
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
      abstract: "Take a demand on and name its handler (clerk of the department), or route it (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: "Who handles it.") var handler: String
    @Option(name: .long, help: "Route to this department (office).") var department: String?
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
    static let configuration = CommandConfiguration(abstract: "Reply to a demand (clerk of the department): its clock stops.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: "The department's reply.") var answer: String
    func run() async throws {
      try await DemandCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.answer = self.answer }
      ) {
        try await $0.answerDemand($1, metadata: $2, options: $3)
      }
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Confirm an answered demand and rate it 1–5 (the enterprise only).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: "5 非常满意 … 1 非常不满意.") var satisfaction: UInt32
    @Option(name: .long, help: "A comment.") var comment: String = ""
    func validate() throws {
      guard (1...5).contains(self.satisfaction) else { throw ValidationError("--satisfaction must be 1 to 5") }
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
    static let configuration = CommandConfiguration(abstract: "Reopen an answered demand (the enterprise only): a new clock starts.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: DemandTarget
    @Option(name: .long, help: "Why the answer does not settle it.") var reason: String
    func run() async throws {
      try await DemandCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, { $0.note = self.reason }
      ) {
        try await $0.reopenDemand($1, metadata: $2, options: $3)
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a demand with its deadline and colour.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Demand number.") var number: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let d = try await EnterpriseCommand.call(self.connection) {
        try await $0.getDemand(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try DemandOutput.printDemand(d, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the demands you may see, newest first.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Only this enterprise.") var uscc: String?
    @Option(name: .long, help: "State (repeatable): open, assigned, answered, closed, reopened.") var state: [String] = []
    @Option(name: .long, help: "Colour (repeatable): green, yellow, red.") var colour: [String] = []
    @Option(name: .long, help: "Department code (office).") var department: String?
    @Option(name: .long, help: "Demands per page (1-500).") var pageSize: UInt32 = 50
    @Option(name: .long, help: "Continue from a previous page's token.") var pageToken: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      var request = Banjie_V1_ListDemandsRequest()
      for s in self.state {
        guard let value = Banjie_V1_DemandState(name: s) else { throw CLIError(exitCode: 64, message: "unknown state \(s)") }
        request.states.append(value)
      }
      for c in self.colour {
        guard let value = Banjie_V1_Colour(name: c) else { throw CLIError(exitCode: 64, message: "unknown colour \(c)") }
        request.colours.append(value)
      }
      request.uscc = self.uscc ?? ""
      request.departmentCode = self.department ?? ""
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
      var table = TextTable("number", "enterprise", "category", "department", "state", "due", "colour")
      for d in result.demands {
        table.add(
          [
            d.number, d.enterpriseName, d.category, d.departmentCode, DemandOutput.stateName(d.state),
            d.hasSla ? CaseOutput.shortTime(d.sla.dueAt) : "-", d.hasSla ? CaseOutput.colourName(d.sla.colour) : "-",
          ],
          colour: d.hasSla && !d.sla.completed ? CaseOutput.ansi(d.sla.colour) : nil)
      }
      print(table.render())
      print(
        Terminal.paint(
          "\(result.demands.count) of \(result.total) demands"
            + (result.nextPageToken.isEmpty ? "" : "; next page: --page-token \(result.nextPageToken)"), Terminal.dim))
    }
  }
}

struct PolicyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy", abstract: "Policy pushes (政策推送): record, push to eligible enterprises, acknowledge.",
    subcommands: [Create.self, Push.self, Ack.self, List.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record a policy and who is eligible (office). Empty criteria mean any.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: "Title.") var title: String
    @Option(name: .long, help: "Summary.") var summary: String = ""
    @Option(name: .long, help: "Eligible GB/T 4754 section (repeatable).") var industry: [String] = []
    @Option(name: .long, help: "Eligible scale (repeatable).") var scale: [String] = []
    @Option(name: .long, help: "Eligible township (repeatable).") var township: [String] = []
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
      print("policy \(p.id): \(p.title)")
    }
  }

  struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Push a policy to every eligible enterprise not yet reached (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Policy id.") var id: Int64
    func run() async throws {
      let r = try await EnterpriseCommand.call(self.connection) {
        try await $0.pushPolicy(.with { $0.policyID = self.id }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try r.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(
        "policy \(r.policy.id): pushed to \(r.newlyPushed) more enterprises; \(r.policy.pushed) pushed, \(r.policy.acknowledged) acknowledged"
      )
    }
  }

  struct Ack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Acknowledge a policy pushed to you (enterprise).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Policy id.") var id: Int64
    func run() async throws {
      let p = try await EnterpriseCommand.call(self.connection) {
        try await $0.acknowledgePolicy(
          .with { $0.policyID = self.id }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try p.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print("acknowledged policy \(p.id): \(p.title)")
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Policies with pushed and acknowledged counts (office), or those pushed to you (enterprise).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listPolicies(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("id", "title", "industries", "scales", "townships", "pushed", "acknowledged")
      for p in result.policies {
        table.add([
          String(p.id), p.title, p.industries.joined(separator: ",").ifEmpty("any"), p.scales.joined(separator: ",").ifEmpty("any"),
          p.townships.joined(separator: "、").ifEmpty("any"), String(p.pushed),
          String(p.acknowledged) + (p.acknowledgedByMe ? " (you)" : ""),
        ])
      }
      print(table.render())
    }
  }
}

struct CoverageCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "coverage", abstract: "Visit coverage (走访覆盖率) for a period: per liaison official and per township (office).")
  @OptionGroup var connection: ConnectionOptions
  @Option(name: .long, help: "First day, YYYY-MM-DD (default 1 January).") var from: String?
  @Option(name: .long, help: "Last day, YYYY-MM-DD (default today).") var to: String?
  @Flag(name: .long, help: "Print JSON.") var json = false
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
    func rate(_ visited: UInt32, _ assigned: UInt32) -> String {
      assigned == 0 ? "-" : "\(Int((Double(visited) * 100 / Double(assigned)).rounded())) %"
    }
    print("\(r.from) to \(r.to): \(r.visited) of \(r.assigned) assigned enterprises visited (\(rate(r.visited, r.assigned)))\n")
    var liaisons = TextTable("liaison", "unit", "assigned", "visited", "rate")
    for l in r.liaisons {
      liaisons.add([l.liaison.person, l.liaison.organization, String(l.assigned), String(l.visited), rate(l.visited, l.assigned)])
    }
    print(liaisons.render() + "\n")
    var townships = TextTable("township", "enterprises", "assigned", "visited", "rate")
    for t in r.townships {
      townships.add([t.township, String(t.enterprises), String(t.assigned), String(t.visited), rate(t.visited, t.assigned)])
    }
    print(townships.render())
    if !r.notVisitedThisYear.isEmpty {
      print("\nnot visited in \(r.year):")
      var quiet = TextTable("uscc", "name", "township", "liaisons")
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

  static func printDemand(_ d: Banjie_V1_Demand, json: Bool) throws {
    if json {
      print(try d.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      ("demand", d.number),
      ("enterprise", "\(d.enterpriseName) · \(d.uscc)"),
      ("category", d.category),
      ("department", "\(d.departmentName) (\(d.departmentCode))" + (d.handler.isEmpty ? "" : " · handler \(d.handler)")),
      ("state", stateName(d.state)),
      ("raised", "\(CaseOutput.shortTime(d.raisedAt)) by \(d.raisedBy)"),
      ("limit", "\(d.limitWorkingDays) working days"),
      ("request", d.description_p),
    ]
    if d.hasSla {
      let used = Int((d.sla.fractionUsed * 100).rounded())
      lines.append(
        (
          "due",
          Terminal.paint(
            "\(CaseOutput.shortTime(d.sla.dueAt)) · \(CaseOutput.colourName(d.sla.colour)) · \(used) % of working time used",
            d.sla.completed ? nil : CaseOutput.ansi(d.sla.colour))
        ))
    }
    if !d.answer.isEmpty { lines.append(("answer", "\(d.answer) (\(CaseOutput.shortTime(d.answeredAt)))")) }
    if !d.reopenReason.isEmpty { lines.append(("reopened", d.reopenReason)) }
    if d.satisfaction > 0 {
      lines.append(
        (
          "closed",
          "\(CaseOutput.shortTime(d.closedAt)) · satisfaction \(d.satisfaction)/5" + (d.closeComment.isEmpty ? "" : " · \(d.closeComment)")
        ))
    }
    lines.append(("version", String(d.version)))
    for (label, value) in lines { print(pad(label, to: 11) + value) }
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
