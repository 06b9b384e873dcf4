import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 好差评: `banjie rate` (an enterprise rates its own completed case; a window's rating pad rates
/// the case it has just served; either redeems a receipt's rating code) and `banjie rating measures`.
struct RateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rate", abstract: t("rating.rate.abstract"), discussion: t("rating.rate.discussion"))
  @OptionGroup var connection: ConnectionOptions
  @OptionGroup var mutation: MutationOptions
  @Argument(help: ArgumentHelp(t("rating.help.caseNumber")), transform: Normalize.number) var number: String
  @Option(name: .long, help: ArgumentHelp(t("rating.help.level"))) var level: UInt32
  @Option(name: .long, help: ArgumentHelp(t("rating.help.comment"))) var comment: String = ""
  @Option(name: .long, help: ArgumentHelp(t("rating.help.tag"))) var tag: [String] = []
  @Option(name: .long, help: ArgumentHelp(t("rating.help.code")), transform: RatingCode.normalize) var code: String?

  func validate() throws {
    guard (1...5).contains(self.level) else { throw ValidationError(t("rating.error.level", self.level)) }
    if let code = self.code {
      guard (try? RatingCode.parse(code, field: "code")) != nil else { throw ValidationError(t("rating.error.code", code)) }
    }
  }

  func run() async throws {
    let request = Banjie_V1_RateCaseRequest.with {
      $0.caseNumber = self.number
      $0.level = self.level
      $0.comment = self.comment
      $0.tags = self.tag
      $0.ratingCode = self.code ?? ""
    }
    let rating = try await RatingCommand.call(self.connection) {
      try await $0.rateCase(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
    }
    try RatingOutput.printRating(rating, json: self.mutation.json)
  }
}

struct RatingCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rating", abstract: t("rating.abstract"), subcommands: [Show.self, Measures.self])

  typealias Client = Banjie_V1_RatingService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("rating.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("rating.help.caseNumber")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    func run() async throws {
      let rating = try await RatingCommand.call(self.connection) {
        try await $0.getRating(.with { $0.caseNumber = self.number }, options: self.connection.callOptions)
      }
      try RatingOutput.printRating(rating, json: self.json)
    }
  }

  struct Measures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("rating.measures.abstract"), discussion: t("rating.measures.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("rating.help.from")), transform: Normalize.day) var from: String
    @Option(name: .long, help: ArgumentHelp(t("rating.help.to")), transform: Normalize.day) var to: String
    @Option(name: .long, help: ArgumentHelp(t("rating.help.by"))) var by: String = "department"
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let request = Banjie_V1_RatingMeasuresRequest.with {
        $0.from = self.from
        $0.to = self.to
        $0.by = self.by
      }
      let result = try await RatingCommand.call(self.connection) {
        try await $0.getRatingMeasures(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.ratingMeasures(result).print()
        return
      }
      var table = TextTable(
        EnterpriseOutput.label("rating.by.\(result.by)", or: result.by), t("rating.col.name"), t("rating.col.completed"),
        t("rating.col.rated"), t("rating.col.excluded"), t("rating.col.good"), t("rating.col.unrated"), t("rating.col.bad"),
        t("rating.col.onTime"), t("rating.col.followUp"))
      // The summary row is the total; a group with no key (cases without a window, say) is not.
      var rows: [(String, String, Banjie_V1_RatingMeasures)] = result.groups.map { m in
        (m.key.isEmpty ? t("rating.noKey") : m.key, m.name, m)
      }
      rows.append((t("rating.total"), "", result.total))
      for (key, name, m) in rows {
        table.add([
          key, name, String(m.completed), String(m.rated), String(m.excluded), RatingOutput.percent(m.goodShare, of: m.rated),
          RatingOutput.percent(m.unratedShare, of: m.completed), String(m.bad), RatingOutput.percent(m.rectifiedOnTimeShare, of: m.bad),
          RatingOutput.percent(m.followUpShare, of: m.bad),
        ])
      }
      print(table.render())
      print(Terminal.paint(t("rating.measures.period", result.from, result.to), Terminal.dim))
    }
  }
}

struct RectificationCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rectification", abstract: t("rectification.abstract"),
    subcommands: [
      List.self, Show.self, Verify.self, Rectify.self, FollowUp.self, Confirm.self, SignOff.self, Close.self, Appeal.self, Decide.self,
    ])

  static func act(
    _ connection: ConnectionOptions, _ mutation: MutationOptions, number: String, ifVersion: Int64?, text: String,
    _ configure: (inout Banjie_V1_RectificationActionRequest) -> Void = { _ in },
    _ call:
      @escaping @Sendable (RatingCommand.Client, Banjie_V1_RectificationActionRequest, Metadata, CallOptions) async throws ->
      Banjie_V1_Rectification
  ) async throws {
    var request = Banjie_V1_RectificationActionRequest()
    request.number = number
    request.expectedVersion = ifVersion ?? 0
    request.text = text
    configure(&request)
    let finalRequest = request
    let result = try await RatingCommand.call(connection) { try await call($0, finalRequest, mutation.metadata, connection.callOptions) }
    try RatingOutput.printRectification(result, json: mutation.json)
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("rectification.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.department")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.state")), transform: Normalize.text) var state: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.colour")), transform: Normalize.text) var colour: [String] = []
    @Option(name: .customLong("case"), help: ArgumentHelp(t("rectification.help.caseFilter")), transform: Normalize.number)
    var caseNumber: String?
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.from")), transform: Normalize.day) var from: String?
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.to")), transform: Normalize.day) var to: String?
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
      for s in self.state where RatingOutput.parseState(s) == nil { throw ValidationError(t("rectification.error.state", s)) }
      for c in self.colour where CaseOutput.parseColour(c) == nil { throw ValidationError(t("rectification.error.colour", c)) }
    }
    func run() async throws {
      let request = Banjie_V1_ListRectificationsRequest.with {
        $0.departmentCode = self.department ?? ""
        $0.states = self.state.compactMap(RatingOutput.parseState)
        $0.colours = self.colour.compactMap(CaseOutput.parseColour)
        $0.caseNumber = self.caseNumber ?? ""
        $0.openedFrom = self.from ?? ""
        $0.openedTo = self.to ?? ""
        $0.page = .with {
          $0.pageSize = self.pageSize
          $0.pageToken = self.pageToken ?? ""
        }
      }
      let result = try await RatingCommand.call(self.connection) {
        try await $0.listRectifications(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.rectifications(result.rectifications).print()
        return
      }
      var table = TextTable(
        t("rectification.col.number"), t("rectification.col.department"), t("rectification.col.state"), t("rectification.col.level"),
        t("rectification.col.due"), t("rectification.col.colour"), t("rectification.col.appeal"))
      for r in result.rectifications {
        table.add([
          r.number, r.departmentCode, RatingOutput.stateLabel(r.state), "\(r.rating.level) \(r.rating.levelName)",
          r.hasSla ? CaseOutput.shortTime(r.sla.dueAt) : (r.completedOnTime ? t("rectification.doneOnTime") : t("rectification.done")),
          r.hasSla ? Terminal.paint(RatingOutput.colourName(r.sla.colour), CaseOutput.ansi(r.sla.colour)) : "-",
          RatingOutput.appealName(r.appealState),
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          t("rectification.list.count", result.rectifications.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("rectification.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("rectification.help.numberZG")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    func run() async throws {
      let r = try await RatingCommand.call(self.connection) {
        try await $0.getRectification(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try RatingOutput.printRectification(r, json: self.json)
    }
  }

  struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("rectification.verify.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Flag(name: .long, inversion: .prefixedNo, help: ArgumentHelp(t("rectification.help.valid"))) var valid: Bool
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.evidence"))) var evidence: String
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.evidence,
        { $0.valid = self.valid }
      ) { try await $0.verifyRectification($1, metadata: $2, options: $3) }
    }
  }

  struct Rectify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("rectification.rectify.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.measures"))) var measures: String
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.measures
      ) {
        try await $0.rectifyRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct FollowUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "follow-up", abstract: t("rectification.followUp.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.result"))) var result: String
    @Flag(name: .long, inversion: .prefixedNo, help: ArgumentHelp(t("rectification.help.satisfied"))) var satisfied: Bool
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.result,
        { $0.satisfied = self.satisfied }
      ) { try await $0.followUpRectification($1, metadata: $2, options: $3) }
    }
  }

  struct Confirm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("rectification.confirm.abstract"), discussion: t("rectification.confirm.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.confirmComment"))) var comment: String
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.comment
      ) {
        try await $0.confirmRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct SignOff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sign-off", abstract: t("rectification.signOff.abstract"), discussion: t("rectification.signOff.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.signOffReason"))) var reason: String
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.reason
      ) {
        try await $0.signOffRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("rectification.close.abstract"), discussion: t("rectification.close.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.note"))) var note: String = ""
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.note
      ) {
        try await $0.closeRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct Appeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("rectification.appeal.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("rectification.help.number")), transform: Normalize.number) var number: String
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.reason"))) var reason: String
    func run() async throws {
      try await RectificationCommand.act(self.connection, self.mutation, number: self.number, ifVersion: nil, text: self.reason) {
        try await $0.appealRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct Decide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("rectification.decide.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("rectification.help.number")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("rectification.help.uphold"))) var uphold = false
    @Flag(name: .long, help: ArgumentHelp(t("rectification.help.reject"))) var reject = false
    @Option(name: .long, help: ArgumentHelp(t("rectification.help.decisionNote"))) var note: String
    func validate() throws {
      guard self.uphold != self.reject else { throw ValidationError(t("rectification.error.upholdOrReject")) }
    }
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.number, ifVersion: nil, text: self.note,
        { $0.uphold = self.uphold }
      ) { try await $0.decideAppeal($1, metadata: $2, options: $3) }
    }
  }
}

enum RatingOutput {
  static func percent(_ share: Double, of whole: UInt32) -> String {
    whole == 0 ? "-" : String(format: "%.1f", share * 100)
  }

  static func stateName(_ state: Banjie_V1_RectificationState) -> String {
    switch state {
    case .open: "OPEN"
    case .verified: "VERIFIED"
    case .rectified: "RECTIFIED"
    case .followedUp: "FOLLOWED_UP"
    case .closed: "CLOSED"
    default: "?"
    }
  }

  /// A state as typed: open, verified, rectified, followed-up (followed_up, "followed up"), closed
  /// in any case, or its name in either language (待核实, 已整改…).
  static func parseState(_ text: String) -> Banjie_V1_RectificationState? {
    let states: [Banjie_V1_RectificationState] = [.open, .verified, .rectified, .followedUp, .closed]
    let wanted = text.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
    return states.first { stateName($0) == wanted }
      ?? states.first { state in
        Language.allCases.contains { Catalogue.text("rectification.state.\(stateName(state))", [], language: $0) == text }
      }
  }

  /// The state as people read it (待核实, 已整改…).
  static func stateLabel(_ state: Banjie_V1_RectificationState) -> String {
    let name = stateName(state)
    return name == "?" ? name : t("rectification.state.\(name)")
  }

  /// The appeal's state as people read it (申诉中…); "-" for none.
  static func appealName(_ state: Banjie_V1_AppealState) -> String {
    switch state {
    case .pending: t("appeal.PENDING")
    case .upheld: t("appeal.UPHELD")
    case .rejected: t("appeal.REJECTED")
    default: "-"
    }
  }

  static func colourName(_ colour: Banjie_V1_Colour) -> String { EnterpriseOutput.colourName(colour) }

  /// How a rating was given, as people read it: "rating pad PAD-A03-1", "rating code" …
  static func viaLabel(_ r: Banjie_V1_Rating) -> String {
    switch r.via {
    case .enterprise: t("rating.via.ENTERPRISE")
    case .pad: t("rating.via.PAD", r.device)
    case .code: r.device.isEmpty ? t("rating.via.CODE") : t("rating.via.codeAtPad", r.device)
    default: "-"
    }
  }

  /// The machine name of a rectification's confirmation, "" when not confirmed.
  static func confirmationName(_ confirmation: Banjie_V1_RectificationConfirmation) -> String {
    switch confirmation {
    case .followUp: "FOLLOW_UP"
    case .rater: "RATER"
    case .office: "OFFICE"
    default: ""
    }
  }

  /// The rater's confirmation as people read it: how, by whom, when, in what words; or what closing still needs.
  static func confirmationText(_ r: Banjie_V1_Rectification) -> String {
    let name = confirmationName(r.confirmation)
    guard !name.isEmpty else { return t("rectification.confirmation.none") }
    return t(
      "rectification.confirmationValue", t("rectification.confirmation.\(name)"), HumanText.by(r.confirmedBy),
      CaseOutput.shortTime(r.confirmedAt),
      r.confirmationNote)
  }

  static func printRating(_ r: Banjie_V1_Rating, json: Bool) throws {
    if json {
      print(try r.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("rating.field.case"), t("rating.caseValue", r.caseNumber, r.departmentCode, r.window, r.itemCode)),
      (t("rating.field.rating"), "\(r.level) \(r.levelName)" + (r.bad ? t("rating.badSuffix") : "")),
      (t("rating.field.enterprise"), r.uscc.isEmpty ? t("rating.naturalPerson") : r.uscc),
      (t("rating.field.via"), viaLabel(r)),
      (t("rating.field.rated"), CaseOutput.shortTime(r.ratedAt)),
    ]
    if !r.comment.isEmpty { lines.append((t("rating.field.comment"), r.comment)) }
    if !r.tags.isEmpty { lines.append((t("rating.field.tags"), r.tags.joined(separator: "、"))) }
    if !r.rectificationNumber.isEmpty { lines.append((t("rating.field.rectification"), r.rectificationNumber)) }
    if r.excluded {
      lines.append((t("rating.field.excluded"), "\(r.excludedReason) (\(CaseOutput.shortTime(r.excludedAt)))"))
    }
    EnterpriseOutput.printLabelled(lines, width: 14)
  }

  static func printRectification(_ r: Banjie_V1_Rectification, json: Bool) throws {
    if json {
      print(try r.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("rectification.field.rectification"), t("rectification.header", r.number, stateLabel(r.state), r.version)),
      (t("rectification.field.department"), "\(r.departmentCode) \(r.departmentName)"),
      (t("rectification.field.rating"), "\(r.rating.level) \(r.rating.levelName): \(r.rating.comment)"),
      (t("rectification.field.ratedClerk"), r.ratedPerson.isEmpty ? "-" : "\(r.ratedPerson) (\(r.ratedOrganization))"),
      (t("rectification.field.opened"), t("rectification.openedValue", CaseOutput.shortTime(r.openedAt), r.limitWorkingDays)),
    ]
    if r.hasSla {
      lines.append(
        (
          t("rectification.field.due"),
          Terminal.paint("\(CaseOutput.shortTime(r.sla.dueAt)) (\(colourName(r.sla.colour)))", CaseOutput.ansi(r.sla.colour))
        ))
    } else if r.hasCompletedAt {
      let done = CaseOutput.shortTime(r.completedAt)
      let key = r.completedOnTime ? "rectification.doneValue.onTime" : "rectification.doneValue.late"
      lines.append((t("rectification.field.done"), t(key, done)))
    }
    if r.hasVerifiedAt {
      let key = r.verifiedValid ? "rectification.verifiedValue.valid" : "rectification.verifiedValue.notValid"
      lines.append((t("rectification.field.verified"), t(key, HumanText.by(r.verifiedBy), r.verificationEvidence)))
    }
    if r.hasRectifiedAt { lines.append((t("rectification.field.measures"), r.measures)) }
    if r.hasFollowedUpAt {
      let key = r.followUpSatisfied ? "rectification.followUpValue.satisfied" : "rectification.followUpValue.notSatisfied"
      lines.append((t("rectification.field.followUp"), t(key, r.followUpResult)))
    }
    lines.append((t("rectification.field.confirmation"), confirmationText(r)))
    if r.appealState != .none {
      lines.append(
        (
          t("rectification.field.appeal"),
          "\(appealName(r.appealState)): \(r.appealReason)" + (r.appealDecision.isEmpty ? "" : " → \(r.appealDecision)")
        ))
    }
    if r.rating.excluded { lines.append((t("rectification.field.excluded"), r.rating.excludedReason)) }
    EnterpriseOutput.printLabelled(lines, width: 14)
  }
}
