import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 优质案例: `banjie exemplary nominate|review|list`.
struct ExemplaryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exemplary", abstract: "Exemplary cases (优质案例): departments nominate, the office selects.",
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

  static func printNomination(_ n: Banjie_V1_Nomination, json: Bool) throws {
    if json {
      print(try n.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    print("nomination \(n.id) · \(n.kind) \(n.subject) · \(n.departmentCode) · \(n.year) · \(stateName(n.state))")
    print("nominated \(CaseOutput.shortTime(n.nominatedAt)) by \(n.nominatedBy): \(n.account)")
    if n.hasReviewedAt {
      print("reviewed \(CaseOutput.shortTime(n.reviewedAt)) by \(n.reviewedBy)" + (n.reviewNote.isEmpty ? "" : ": \(n.reviewNote)"))
    }
  }

  struct Nominate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nominate your department's completed case or closed demand (clerk).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .customLong("case"), help: "A completed case's number.") var caseNumber: String?
    @Option(name: .long, help: "A closed demand's number.") var demand: String?
    @Option(name: .long, help: "What makes it exemplary (at most 1,000 characters).") var account: String

    func validate() throws {
      guard (self.caseNumber == nil) != (self.demand == nil) else { throw ValidationError("name exactly one of --case and --demand") }
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
    static let configuration = CommandConfiguration(abstract: "Select or decline a nomination (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Nomination id.") var id: Int64
    @Flag(exclusivity: .exclusive, help: "--select or --decline.") var decision: Decision
    @Option(name: .long, help: "A note (required when declining).") var note: String = ""

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
      abstract: "List nominations; --year 2026 --state selected gives the year's exemplary cases.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Only this year.") var year: UInt32 = 0
    @Option(name: .long, help: "nominated, selected or declined.") var state: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let state: Banjie_V1_NominationState
      switch self.state?.lowercased() {
      case nil: state = .unspecified
      case "nominated": state = .nominated
      case "selected": state = .selected
      case "declined": state = .declined
      default: throw ValidationError("--state is nominated, selected or declined, not \"\(self.state ?? "")\"")
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
      var table = TextTable("id", "year", "kind", "subject", "department", "state", "by", "account")
      for n in r.nominations {
        table.add([
          String(n.id), String(n.year), n.kind, n.subject, n.departmentCode, ExemplaryCommand.stateName(n.state), n.nominatedBy,
          String(n.account.prefix(40)),
        ])
      }
      print(table.render())
    }
  }
}
