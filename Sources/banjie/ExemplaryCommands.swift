import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 优质案例: `banjie exemplary nominate|review|list`.
struct ExemplaryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exemplary", abstract: t("exemplary.abstract"),
    subcommands: [Nominate.self, Review.self, List.self])

  typealias Client = Banjie_V1_ExemplaryService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  static func stateName(_ s: Banjie_V1_NominationState) -> String {
    switch s {
    case .nominated: "nominated"
    case .selected: "selected"
    case .declined: "declined"
    default: "-"
    }
  }

  /// A nomination's state as people read it.
  static func stateLabel(_ s: Banjie_V1_NominationState) -> String {
    let name = stateName(s)
    return name == "-" ? name : t("exemplary.state.\(name)")
  }

  /// A nomination's kind ("case" or "demand") as people read it; an unknown kind as it is.
  static func kindName(_ kind: String) -> String {
    let key = "exemplary.kind.\(kind)"
    let text = t(key)
    return text == key ? kind : text
  }

  static func printNomination(_ n: Banjie_V1_Nomination, json: Bool) throws {
    if json {
      print(try n.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    print(t("exemplary.header", n.id, kindName(n.kind), n.subject, n.departmentCode, n.year, stateLabel(n.state)))
    print(t("exemplary.nominated", CaseOutput.shortTime(n.nominatedAt), HumanText.by(n.nominatedBy), n.account))
    if n.hasReviewedAt {
      print(
        n.reviewNote.isEmpty
          ? t("exemplary.reviewed", CaseOutput.shortTime(n.reviewedAt), HumanText.by(n.reviewedBy))
          : t("exemplary.reviewedNote", CaseOutput.shortTime(n.reviewedAt), HumanText.by(n.reviewedBy), n.reviewNote))
    }
  }

  struct Nominate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("exemplary.nominate.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .customLong("case"), help: ArgumentHelp(t("exemplary.help.case"))) var caseNumber: String?
    @Option(name: .long, help: ArgumentHelp(t("exemplary.help.demand"))) var demand: String?
    @Option(name: .long, help: ArgumentHelp(t("exemplary.help.account"))) var account: String

    func validate() throws {
      guard (self.caseNumber == nil) != (self.demand == nil) else { throw ValidationError(t("exemplary.error.caseOrDemand")) }
    }

    func run() async throws {
      let request = Banjie_V1_NominateRequest.with {
        $0.caseNumber = self.caseNumber ?? ""
        $0.demandNumber = self.demand ?? ""
        $0.account = self.account
      }
      let n = try await ExemplaryCommand.call(self.connection) {
        try await $0.nominate(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ExemplaryCommand.printNomination(n, json: self.mutation.json)
    }
  }

  struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("exemplary.review.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("exemplary.help.id"))) var id: Int64
    @Flag(exclusivity: .exclusive, help: ArgumentHelp(t("exemplary.help.decision"))) var decision: Decision
    @Option(name: .long, help: ArgumentHelp(t("exemplary.help.note"))) var note: String = ""

    enum Decision: String, EnumerableFlag { case select, decline }

    func run() async throws {
      let request = Banjie_V1_ReviewNominationRequest.with {
        $0.id = self.id
        $0.select = self.decision == .select
        $0.note = self.note
      }
      let n = try await ExemplaryCommand.call(self.connection) {
        try await $0.reviewNomination(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ExemplaryCommand.printNomination(n, json: self.mutation.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("exemplary.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("exemplary.help.year"))) var year: UInt32 = 0
    @Option(name: .long, help: ArgumentHelp(t("exemplary.help.state"))) var state: String?
    @Flag(name: .long, help: ArgumentHelp(t("exemplary.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let state: Banjie_V1_NominationState
      switch self.state?.lowercased() {
      case nil: state = .unspecified
      case "nominated": state = .nominated
      case "selected": state = .selected
      case "declined": state = .declined
      default: throw ValidationError(t("exemplary.error.state", self.state ?? ""))
      }
      let r = try await ExemplaryCommand.call(self.connection) {
        try await $0.listNominations(
          .with {
            $0.year = self.year
            $0.state = state
          }, options: self.connection.callOptions)
      }
      if self.json {
        print(try r.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.nominations(r.nominations).print()
        return
      }
      var table = TextTable(
        t("exemplary.col.id"), t("exemplary.col.year"), t("exemplary.col.kind"), t("exemplary.col.subject"),
        t("exemplary.col.department"), t("exemplary.col.state"), t("exemplary.col.by"), t("exemplary.col.account"))
      for n in r.nominations {
        table.add([
          String(n.id), String(n.year), ExemplaryCommand.kindName(n.kind), n.subject, n.departmentCode,
          ExemplaryCommand.stateLabel(n.state), HumanText.by(n.nominatedBy),
          String(n.account.prefix(40)),
        ])
      }
      print(table.render())
    }
  }
}
