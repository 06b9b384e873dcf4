import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 好差评: `banjie rate` (an enterprise rates its own completed case) and `banjie rating measures`.
struct RateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rate", abstract: "Rate a completed case of your enterprise (好差评): 5 非常满意 … 1 非常不满意.",
    discussion: "Levels 1 and 2 are 差评: they need --comment and open a rectification for the department.")
  @OptionGroup var connection: ConnectionOptions
  @OptionGroup var mutation: MutationOptions
  @Argument(help: "Case number.") var number: String
  @Option(name: .long, help: "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.") var level: UInt32
  @Option(name: .long, help: "What went well or wrong (required for levels 1-2; at most 1,000 characters).") var comment: String = ""
  @Option(name: .long, help: "A tag, e.g. 高效 (repeatable, at most 10).") var tag: [String] = []

  func validate() throws {
    guard (1...5).contains(self.level) else { throw ValidationError("--level must be 1 to 5, not \(self.level)") }
  }

  func run() async throws {
    let request = Banjie_V1_RateCaseRequest.with {
      $0.caseNumber = self.number
      $0.level = self.level
      $0.comment = self.comment
      $0.tags = self.tag
    }
    let rating = try await RatingCommand.call(self.connection) {
      try await $0.rateCase(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
    }
    try RatingOutput.printRating(rating, json: self.mutation.json)
  }
}

struct RatingCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rating", abstract: "Ratings (好差评): a case's rating and the measures per period.", subcommands: [Show.self, Measures.self])

  typealias Client = Banjie_V1_RatingService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a case's rating.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Case number.") var number: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let rating = try await RatingCommand.call(self.connection) {
        try await $0.getRating(.with { $0.caseNumber = self.number }, options: self.connection.callOptions)
      }
      try RatingOutput.printRating(rating, json: self.json)
    }
  }

  struct Measures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Rating measures of the cases completed in a period (office).",
      discussion: """
        good % = levels 4-5 among counted ratings; unrated % = completed cases without a counted rating
        (never rated, or excluded by an upheld appeal); on time % and follow-up % are over counted 差评.
        """)
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "First day, YYYY-MM-DD (Asia/Shanghai).") var from: String
    @Option(name: .long, help: "Last day, YYYY-MM-DD, inclusive.") var to: String
    @Option(name: .long, help: "department, window or item.") var by: String = "department"
    @Flag(name: .long, help: "Print JSON.") var json = false
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
      var table = TextTable(result.by, "name", "completed", "rated", "excluded", "good %", "unrated %", "差评", "on time %", "follow-up %")
      for m in result.groups + [result.total] {
        table.add([
          m.key.isEmpty ? "total" : m.key, m.key.isEmpty ? "" : m.name, String(m.completed), String(m.rated), String(m.excluded),
          RatingOutput.percent(m.goodShare, of: m.rated), RatingOutput.percent(m.unratedShare, of: m.completed), String(m.bad),
          RatingOutput.percent(m.rectifiedOnTimeShare, of: m.bad), RatingOutput.percent(m.followUpShare, of: m.bad),
        ])
      }
      print(table.render())
      print(Terminal.paint("cases completed \(result.from) to \(result.to)", Terminal.dim))
    }
  }
}

struct RectificationCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rectification", abstract: "Rectification (整改) of 差评: verify, rectify, follow up, close; appeal and decide.",
    subcommands: [List.self, Show.self, Verify.self, Rectify.self, FollowUp.self, Close.self, Appeal.self, Decide.self])

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
      abstract: "List rectifications (a clerk sees their department's, an enterprise its own).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Only this department (office).") var department: String?
    @Option(name: .long, help: "open, verified, rectified, followed-up or closed (repeatable).") var state: [String] = []
    @Option(name: .long, help: "green, yellow or red (repeatable).") var colour: [String] = []
    @Option(name: .long, help: "Rectifications per page (1-500).") var pageSize: UInt32 = 50
    @Option(name: .long, help: "Continue from a previous page's token.") var pageToken: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let states = try self.state.map { text -> Banjie_V1_RectificationState in
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "open": return .open
        case "verified": return .verified
        case "rectified": return .rectified
        case "followed-up": return .followedUp
        case "closed": return .closed
        default: throw ValidationError("--state is open, verified, rectified, followed-up or closed, not \"\(text)\"")
        }
      }
      let colours = try self.colour.map { text -> Banjie_V1_Colour in
        switch text.lowercased() {
        case "green": return .green
        case "yellow": return .yellow
        case "red": return .red
        default: throw ValidationError("--colour is green, yellow or red, not \"\(text)\"")
        }
      }
      let request = Banjie_V1_ListRectificationsRequest.with {
        $0.departmentCode = self.department ?? ""
        $0.states = states
        $0.colours = colours
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
      var table = TextTable("number", "department", "state", "level", "due", "colour", "appeal")
      for r in result.rectifications {
        table.add([
          r.number, r.departmentCode, RatingOutput.stateName(r.state), "\(r.rating.level) \(r.rating.levelName)",
          r.hasSla ? CaseOutput.shortTime(r.sla.dueAt) : (r.completedOnTime ? "done on time" : "done"),
          r.hasSla ? Terminal.paint(RatingOutput.colourName(r.sla.colour), CaseOutput.ansi(r.sla.colour)) : "-",
          RatingOutput.appealName(r.appealState),
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          "\(result.rectifications.count) of \(result.total) rectifications"
            + (result.nextPageToken.isEmpty ? "" : "; next page: --page-token \(result.nextPageToken)"), Terminal.dim))
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a rectification with its rating.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Rectification number (ZG-<case number>).") var number: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let r = try await RatingCommand.call(self.connection) {
        try await $0.getRectification(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try RatingOutput.printRectification(r, json: self.json)
    }
  }

  struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify a 差评 as valid or not, with evidence (clerk of the department).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Flag(name: .long, inversion: .prefixedNo, help: "Whether the 差评 is well founded.") var valid: Bool
    @Option(name: .long, help: "What the verification found.") var evidence: String
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.evidence,
        { $0.valid = self.valid }
      ) { try await $0.verifyRectification($1, metadata: $2, options: $3) }
    }
  }

  struct Rectify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record the measures taken (clerk of the department).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: "The measures taken.") var measures: String
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
      commandName: "follow-up", abstract: "Record the follow-up call (回访) and whether the enterprise is satisfied.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: "The call's result.") var result: String
    @Flag(name: .long, inversion: .prefixedNo, help: "The enterprise is satisfied.") var satisfied: Bool
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.result,
        { $0.satisfied = self.satisfied }
      ) { try await $0.followUpRectification($1, metadata: $2, options: $3) }
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Close a followed-up rectification.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: RectificationTarget
    @Option(name: .long, help: "A closing note.") var note: String = ""
    func run() async throws {
      try await RectificationCommand.act(
        self.connection, self.mutation, number: self.target.number, ifVersion: self.target.ifVersion, text: self.note
      ) {
        try await $0.closeRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct Appeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Appeal a 差评 (申诉) to the office (clerk of the department).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Rectification number.") var number: String
    @Option(name: .long, help: "Why the 差评 should not count.") var reason: String
    func run() async throws {
      try await RectificationCommand.act(self.connection, self.mutation, number: self.number, ifVersion: nil, text: self.reason) {
        try await $0.appealRectification($1, metadata: $2, options: $3)
      }
    }
  }

  struct Decide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Uphold or reject an appeal (office). Upheld: the rating leaves the statistics.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Rectification number.") var number: String
    @Flag(name: .long, help: "Uphold the appeal.") var uphold = false
    @Flag(name: .long, help: "Reject the appeal.") var reject = false
    @Option(name: .long, help: "The office's reasoning.") var note: String
    func validate() throws {
      guard self.uphold != self.reject else { throw ValidationError("give exactly one of --uphold or --reject") }
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

  static func appealName(_ state: Banjie_V1_AppealState) -> String {
    switch state {
    case .pending: "pending"
    case .upheld: "upheld"
    case .rejected: "rejected"
    default: "-"
    }
  }

  static func colourName(_ colour: Banjie_V1_Colour) -> String { CaseOutput.colourName(colour) }

  static func printRating(_ r: Banjie_V1_Rating, json: Bool) throws {
    if json {
      print(try r.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      ("case", "\(r.caseNumber) · \(r.departmentCode) · window \(r.window) · \(r.itemCode)"),
      ("rating", "\(r.level) \(r.levelName)" + (r.bad ? " (差评)" : "")),
      ("enterprise", r.uscc),
      ("rated", CaseOutput.shortTime(r.ratedAt)),
    ]
    if !r.comment.isEmpty { lines.append(("comment", r.comment)) }
    if !r.tags.isEmpty { lines.append(("tags", r.tags.joined(separator: "、"))) }
    if !r.rectificationNumber.isEmpty { lines.append(("rectification", r.rectificationNumber)) }
    if r.excluded { lines.append(("EXCLUDED", "\(r.excludedReason) (\(CaseOutput.shortTime(r.excludedAt)))")) }
    for (label, value) in lines { print(pad(label, to: 14) + value) }
  }

  static func printRectification(_ r: Banjie_V1_Rectification, json: Bool) throws {
    if json {
      print(try r.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      ("rectification", "\(r.number) · \(stateName(r.state)) · version \(r.version)"),
      ("department", "\(r.departmentCode) \(r.departmentName)"),
      ("rating", "\(r.rating.level) \(r.rating.levelName): \(r.rating.comment)"),
      ("opened", "\(CaseOutput.shortTime(r.openedAt)), \(r.limitWorkingDays) working days"),
    ]
    if r.hasSla {
      lines.append(
        ("due", Terminal.paint("\(CaseOutput.shortTime(r.sla.dueAt)) (\(colourName(r.sla.colour)))", CaseOutput.ansi(r.sla.colour))))
    } else if r.hasCompletedAt {
      lines.append(("done", "\(CaseOutput.shortTime(r.completedAt))" + (r.completedOnTime ? " on time" : " late")))
    }
    if r.hasVerifiedAt {
      lines.append(("verified", "\(r.verifiedValid ? "valid" : "not valid") by \(r.verifiedBy): \(r.verificationEvidence)"))
    }
    if r.hasRectifiedAt { lines.append(("measures", r.measures)) }
    if r.hasFollowedUpAt { lines.append(("follow-up", "\(r.followUpSatisfied ? "satisfied" : "not satisfied"): \(r.followUpResult)")) }
    if r.appealState != .none {
      lines.append(
        ("appeal", "\(appealName(r.appealState)): \(r.appealReason)" + (r.appealDecision.isEmpty ? "" : " → \(r.appealDecision)")))
    }
    if r.rating.excluded { lines.append(("EXCLUDED", r.rating.excludedReason)) }
    for (label, value) in lines { print(pad(label, to: 14) + value) }
  }
}
