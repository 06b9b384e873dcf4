import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 人大代表建议和政协提案: `banjie proposal register|extend|consult|co-opinion|reply|assess|show|list`
/// (docs/DOMAIN.md §25).
struct ProposalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "proposal", abstract: t("proposal.abstract"), discussion: t("proposal.discussion"),
    subcommands: [Register.self, Extend.self, Consult.self, CoOpinion.self, Reply.self, Assess.self, Show.self, List.self])

  typealias Client = Banjie_V1_ProposalService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.register.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.kind"))) var kind: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.title")), transform: Normalize.text) var title: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.proposer")), transform: Normalize.text) var proposer: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.contact")), transform: Normalize.text) var contact: String = ""
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.session")), transform: Normalize.text) var session: String = ""
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.lead")), transform: Normalize.code) var lead: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.co")), transform: Normalize.code) var co: [String] = []

    func validate() throws {
      guard ProposalOutput.parseKind(self.kind) != nil else { throw ValidationError(t("proposal.error.kind", self.kind)) }
    }

    func run() async throws {
      let request = Banjie_V1_RegisterProposalRequest.with {
        $0.kind = ProposalOutput.parseKind(self.kind) ?? .unspecified
        $0.title = self.title
        $0.proposer = self.proposer
        $0.proposerContact = self.contact
        $0.session = self.session
        $0.leadDepartment = self.lead
        $0.coDepartments = self.co
      }
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.registerProposal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ProposalOutput.print(result, json: self.mutation.json)
    }
  }

  /// The proposal an action applies to: its number and, optionally, the version it must be at.
  struct Target: ParsableArguments {
    @Argument(help: ArgumentHelp(t("proposal.help.number")), transform: Normalize.number) var number: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.ifVersion"))) var ifVersion: Int64?
  }

  struct Extend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.extend.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.months"))) var months: UInt32
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.reason")), transform: Normalize.text) var reason: String

    func run() async throws {
      let request = Banjie_V1_ExtendProposalRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.months = self.months
        $0.reason = self.reason
      }
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.extendProposal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ProposalOutput.print(result, json: self.mutation.json)
    }
  }

  struct Consult: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.consult.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.method"))) var method: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.note")), transform: Normalize.text) var note: String = ""
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.at"))) var at: String?

    func validate() throws {
      guard ProposalOutput.parseMethod(self.method) != nil else { throw ValidationError(t("proposal.error.method", self.method)) }
      if let at = self.at, ProposalOutput.parseTime(at) == nil { throw ValidationError(t("proposal.error.at", at)) }
    }

    func run() async throws {
      let request = Banjie_V1_RecordConsultationRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.method = ProposalOutput.parseMethod(self.method) ?? .unspecified
        $0.note = self.note
        if let at = self.at.flatMap(ProposalOutput.parseTime) { $0.contactedAt = Google_Protobuf_Timestamp(date: at) }
      }
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.recordConsultation(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ProposalOutput.print(result, json: self.mutation.json)
    }
  }

  struct CoOpinion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "co-opinion", abstract: t("proposal.coOpinion.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.opinion")), transform: Normalize.text) var opinion: String

    func run() async throws {
      let request = Banjie_V1_RecordCoOpinionRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.opinion = self.opinion
      }
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.recordCoOpinion(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ProposalOutput.print(result, json: self.mutation.json)
    }
  }

  struct Reply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.reply.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .customLong("class"), help: ArgumentHelp(t("proposal.help.class"))) var resultClass: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.text")), transform: Normalize.text) var text: String

    func validate() throws {
      guard ProposalOutput.parseClass(self.resultClass) != nil else { throw ValidationError(t("proposal.error.class", self.resultClass)) }
    }

    func run() async throws {
      let request = Banjie_V1_ReplyProposalRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.resultClass = ProposalOutput.parseClass(self.resultClass) ?? .unspecified
        $0.text = self.text
      }
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.replyProposal(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ProposalOutput.print(result, json: self.mutation.json)
    }
  }

  struct Assess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.assess.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.result"))) var result: String
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.assessmentNote")), transform: Normalize.text) var note: String = ""

    func validate() throws {
      guard ProposalOutput.parseAssessment(self.result) != nil else { throw ValidationError(t("proposal.error.result", self.result)) }
    }

    func run() async throws {
      let request = Banjie_V1_RecordAssessmentRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.assessment = ProposalOutput.parseAssessment(self.result) ?? .unspecified
        $0.note = self.note
      }
      let proposal = try await ProposalCommand.call(self.connection) {
        try await $0.recordAssessment(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ProposalOutput.print(proposal, json: self.mutation.json)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("proposal.help.number")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func run() async throws {
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.getProposal(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try ProposalOutput.print(result, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("proposal.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.department")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.kindFilter"))) var kind: String?
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.state"))) var state: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("proposal.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func validate() throws {
      if let kind = self.kind, ProposalOutput.parseKind(kind) == nil { throw ValidationError(t("proposal.error.kind", kind)) }
      for s in self.state where ProposalOutput.parseState(s) == nil { throw ValidationError(t("proposal.error.state", s)) }
    }

    func run() async throws {
      let request = Banjie_V1_ListProposalsRequest.with {
        $0.department = self.department ?? ""
        $0.kind = self.kind.flatMap(ProposalOutput.parseKind) ?? .unspecified
        $0.states = self.state.compactMap(ProposalOutput.parseState)
        $0.page = .with {
          $0.pageSize = self.pageSize
          $0.pageToken = self.pageToken ?? ""
        }
      }
      let result = try await ProposalCommand.call(self.connection) {
        try await $0.listProposals(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable(
        t("proposal.col.number"), t("proposal.col.kind"), t("proposal.col.title"), t("proposal.col.proposer"), t("proposal.col.lead"),
        t("proposal.col.state"), t("proposal.col.due"))
      for p in result.proposals {
        let waiting = p.state == "ASSIGNED" || p.state == "REOPENED"
        table.add(
          [
            p.number, ProposalOutput.kindLabel(p.kind), p.title, p.proposer, p.leadDepartment, ProposalOutput.stateLabel(p.state),
            waiting ? "\(CaseOutput.shortTime(p.dueAt)) (\(EnterpriseOutput.colourName(p.colour)))" : "-",
          ], colour: waiting ? CaseOutput.ansi(p.colour) : nil)
      }
      print(table.render())
      print(
        Terminal.paint(
          t("proposal.list.count", result.proposals.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

enum ProposalOutput {
  /// A value as typed: its name (any case, `-` for `_`), a short English word, or its label in
  /// either language.
  static func parse<T>(_ text: String, family: String, _ choices: Choices<T>) -> T? {
    let typed = Normalize.text(text)
    let name = typed.uppercased().replacingOccurrences(of: "-", with: "_")
    for choice in choices {
      if choice.name == name || choice.words.contains(typed.lowercased()) { return choice.value }
      if Language.allCases.contains(where: { Catalogue.text("\(family).\(choice.name)", [], language: $0) == typed }) {
        return choice.value
      }
    }
    return nil
  }

  typealias Choices<T> = [(name: String, words: [String], value: T)]

  /// suggestion (建议) or proposal (提案).
  static func parseKind(_ text: String) -> Banjie_V1_ProposalKind? {
    let choices: Choices<Banjie_V1_ProposalKind> = [
      ("DEPUTY_SUGGESTION", ["suggestion", "deputy", "建议"], .deputySuggestion),
      ("CPPCC_PROPOSAL", ["proposal", "cppcc", "提案"], .cppccProposal),
    ]
    return parse(text, family: "proposal.kind", choices)
  }

  /// face-to-face (当面), phone (电话) or other (其他).
  static func parseMethod(_ text: String) -> Banjie_V1_ProposalContactMethod? {
    let choices: Choices<Banjie_V1_ProposalContactMethod> = [
      ("FACE_TO_FACE", ["face", "当面", "面谈"], .faceToFace), ("PHONE", ["电话"], .phone), ("OTHER", ["其他"], .other),
    ]
    return parse(text, family: "proposal.method", choices)
  }

  /// A, B or C (A类…).
  static func parseClass(_ text: String) -> Banjie_V1_ProposalResultClass? {
    let choices: Choices<Banjie_V1_ProposalResultClass> = [("A", ["a类"], .a), ("B", ["b类"], .b), ("C", ["c类"], .c)]
    return parse(text, family: "proposal.class", choices)
  }

  /// satisfied (满意), basically-satisfied (基本满意) or dissatisfied (不满意).
  static func parseAssessment(_ text: String) -> Banjie_V1_ProposalAssessment? {
    let choices: Choices<Banjie_V1_ProposalAssessment> = [
      ("SATISFIED", ["满意"], .satisfied), ("BASICALLY_SATISFIED", ["basically", "基本满意"], .basicallySatisfied),
      ("DISSATISFIED", ["不满意"], .dissatisfied),
    ]
    return parse(text, family: "proposal.assessment", choices)
  }

  /// A state as typed: assigned, replied, reopened, closed (any case) or its name in either language.
  static func parseState(_ text: String) -> String? {
    let choices: Choices<String> = ["ASSIGNED", "REPLIED", "REOPENED", "CLOSED"].map { (name: $0, words: [String](), value: $0) }
    return parse(text, family: "proposal.state", choices)
  }

  /// An instant as typed: ISO 8601 with its offset, or "YYYY-MM-DD HH:MM" in Asia/Shanghai.
  static func parseTime(_ text: String) -> Date? {
    let typed = Normalize.text(text)
    if let date = HumanText.parseISO8601(typed) { return date }
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.date(from: typed)
  }

  static func stateLabel(_ state: String) -> String { EnterpriseOutput.label("proposal.state.\(state)", or: state) }

  static func kindLabel(_ kind: Banjie_V1_ProposalKind) -> String {
    switch kind {
    case .deputySuggestion: t("proposal.kind.DEPUTY_SUGGESTION")
    case .cppccProposal: t("proposal.kind.CPPCC_PROPOSAL")
    default: "-"
    }
  }

  static func methodLabel(_ method: Banjie_V1_ProposalContactMethod) -> String {
    switch method {
    case .faceToFace: t("proposal.method.FACE_TO_FACE")
    case .phone: t("proposal.method.PHONE")
    case .other: t("proposal.method.OTHER")
    default: "-"
    }
  }

  static func classLabel(_ resultClass: Banjie_V1_ProposalResultClass) -> String {
    switch resultClass {
    case .a: t("proposal.class.A")
    case .b: t("proposal.class.B")
    case .c: t("proposal.class.C")
    default: "-"
    }
  }

  static func assessmentLabel(_ assessment: Banjie_V1_ProposalAssessment) -> String {
    switch assessment {
    case .satisfied: t("proposal.assessment.SATISFIED")
    case .basicallySatisfied: t("proposal.assessment.BASICALLY_SATISFIED")
    case .dissatisfied: t("proposal.assessment.DISSATISFIED")
    default: "-"
    }
  }

  static func print(_ p: Banjie_V1_Proposal, json: Bool) throws {
    if json {
      Swift.print(try p.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var proposer = p.proposer
    if !p.proposerContact.isEmpty { proposer += " · \(p.proposerContact)" }
    if !p.session.isEmpty { proposer += " · \(p.session)" }
    var lines: [(String, String)] = [
      (t("proposal.field.number"), "\(p.number) · \(kindLabel(p.kind))"),
      (t("proposal.field.title"), p.title),
      (t("proposal.field.proposer"), proposer),
      (t("proposal.field.lead"), "\(p.leadDepartmentName) (\(p.leadDepartment))"),
    ]
    // Each co-handling department with every opinion it gave (协办意见), one line a round.
    let coLines = p.coDepartments.flatMap { co -> [String] in
      let department = "\(co.name) (\(co.department))"
      guard !co.opinions.isEmpty else { return ["\(department) · \(t("proposal.noOpinion"))"] }
      return co.opinions.map {
        "\(department) · \(t("proposal.opinionValue", $0.round, CaseOutput.shortTime($0.givenAt), HumanText.by($0.givenBy), $0.text))"
      }
    }
    for (index, text) in coLines.enumerated() {
      lines.append((index == 0 ? t("proposal.field.co") : "", text))
    }
    lines.append((t("proposal.field.assigned"), "\(CaseOutput.shortTime(p.assignedAt)) · \(HumanText.by(p.assignedBy))"))
    var limit = t("proposal.limitValue", p.months, p.maxMonths)
    if p.months > p.replyMonths { limit += t("proposal.extendedValue", p.replyMonths, p.extensionReason) }
    lines.append((t("proposal.field.limit"), limit))
    var state = stateLabel(p.state) + t("proposal.roundValue", p.round)
    if p.hasClosedAt { state += " · \(CaseOutput.shortTime(p.closedAt)) · \(assessmentLabel(p.assessment))" }
    lines.append((t("proposal.field.state"), state))
    if p.state == "ASSIGNED" || p.state == "REOPENED" {
      let used = Int((p.fractionUsed * 100).rounded())
      lines.append(
        (
          t("proposal.field.due"),
          Terminal.paint(
            t("proposal.dueValue", CaseOutput.shortTime(p.dueAt), EnterpriseOutput.colourName(p.colour), used), CaseOutput.ansi(p.colour))
        ))
    }
    for (index, c) in p.contacts.enumerated() {
      var text = t("proposal.contactValue", c.round, CaseOutput.shortTime(c.contactedAt), methodLabel(c.method), HumanText.by(c.recordedBy))
      if !c.note.isEmpty { text += " · \(c.note)" }
      lines.append((index == 0 ? t("proposal.field.contacts") : "", text))
    }
    for (index, r) in p.replies.enumerated() {
      var text = t(
        "proposal.replyValue", r.round, CaseOutput.shortTime(r.repliedAt), classLabel(r.resultClass),
        r.onTime ? t("proposal.onTime") : t("proposal.late"))
      if r.assessment != .unspecified {
        text += t("proposal.assessedValue", assessmentLabel(r.assessment), r.assessmentNote.isEmpty ? "" : " · \(r.assessmentNote)")
      }
      lines.append((index == 0 ? t("proposal.field.replies") : "", text))
      lines.append(("", r.text))
    }
    lines.append((t("proposal.field.version"), String(p.version)))
    EnterpriseOutput.printLabelled(lines, width: 11)
  }
}
