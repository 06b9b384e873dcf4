import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 千企评议: the office runs review campaigns; invited enterprises review departments.
struct ReviewCampaignCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "campaign", abstract: t("campaign.abstract"),
    subcommands: [Create.self, Open.self, Close.self, Publish.self, Review.self, Results.self, List.self])

  typealias Client = Banjie_V1_ReviewCampaignService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  /// "name=weight" or "name:weight".
  static func pair(_ text: String, option: String) throws -> (String, UInt32) {
    let parts = text.split(whereSeparator: { $0 == "=" || $0 == ":" }).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty, let value = UInt32(parts[1]) else {
      throw ValidationError(t("campaign.error.pair", option, text))
    }
    return (parts[0], value)
  }

  static func printCampaign(_ c: Banjie_V1_Campaign, json: Bool) throws {
    if json {
      print(try c.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("campaign.field.campaign"), "\(c.id) · \(c.name) · \(stateLabel(c.state))"),
      (t("campaign.field.period"), t("campaign.periodValue", c.periodFrom, c.periodTo)),
      (t("campaign.field.departments"), c.departmentCodes.joined(separator: ", ")),
      (t("campaign.field.dimensions"), c.dimensions.map { "\($0.name) \($0.weightPercent) %" }.joined(separator: ", ")),
      (t("campaign.field.invited"), t("campaign.invitedValue", c.invited.count, c.reviews)),
    ]
    if !c.reviewedByMe.isEmpty { lines.append((t("campaign.field.reviewed"), c.reviewedByMe.joined(separator: ", "))) }
    EnterpriseOutput.printLabelled(lines, width: 12)
  }

  /// The state as people read it (草稿, 进行中…).
  static func stateLabel(_ state: Banjie_V1_CampaignState) -> String {
    let name = stateName(state)
    return name == "?" ? name : t("campaign.state.\(name)")
  }

  static func stateName(_ state: Banjie_V1_CampaignState) -> String {
    switch state {
    case .draft: "DRAFT"
    case .open: "OPEN"
    case .closed: "CLOSED"
    case .published: "PUBLISHED"
    default: "?"
    }
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("campaign.create.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.name"))) var name: String
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.from")), transform: Normalize.day) var from: String
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.to")), transform: Normalize.day) var to: String
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.department"))) var department: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.dimension"))) var dimension: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.invite"))) var invite: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("campaign.help.inviteFile"))) var inviteFile: String?
    func run() async throws {
      let dimensions = try self.dimension.map { try ReviewCampaignCommand.pair($0, option: "--dimension") }
      var invited = self.invite
      if let file = self.inviteFile {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        invited += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      }
      let request = Banjie_V1_CreateCampaignRequest.with {
        $0.name = self.name
        $0.periodFrom = self.from
        $0.periodTo = self.to
        $0.departmentCodes = self.department
        $0.dimensions = dimensions.map { d in
          .with {
            $0.name = d.0
            $0.weightPercent = d.1
          }
        }
        $0.invited = invited
      }
      let c = try await ReviewCampaignCommand.call(self.connection) {
        try await $0.createCampaign(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try ReviewCampaignCommand.printCampaign(c, json: self.mutation.json)
    }
  }

  struct Step {
    static func run(
      _ connection: ConnectionOptions, _ mutation: MutationOptions, id: Int64,
      _ call: @escaping @Sendable (Client, Banjie_V1_CampaignRequest, Metadata, CallOptions) async throws -> Banjie_V1_Campaign
    ) async throws {
      let request = Banjie_V1_CampaignRequest.with { $0.id = id }
      let c = try await ReviewCampaignCommand.call(connection) { try await call($0, request, mutation.metadata, connection.callOptions) }
      try ReviewCampaignCommand.printCampaign(c, json: mutation.json)
    }
  }

  struct Open: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("campaign.open.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("campaign.help.id"))) var id: Int64
    func run() async throws {
      try await Step.run(self.connection, self.mutation, id: self.id) { try await $0.openCampaign($1, metadata: $2, options: $3) }
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("campaign.close.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("campaign.help.id"))) var id: Int64
    func run() async throws {
      try await Step.run(self.connection, self.mutation, id: self.id) { try await $0.closeCampaign($1, metadata: $2, options: $3) }
    }
  }

  struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("campaign.publish.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("campaign.help.id"))) var id: Int64
    func run() async throws {
      try await Step.run(self.connection, self.mutation, id: self.id) { try await $0.publishCampaign($1, metadata: $2, options: $3) }
    }
  }

  struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("review.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("campaign.help.id"))) var id: Int64
    @Option(name: .long, help: ArgumentHelp(t("review.help.department")), transform: Normalize.code) var department: String
    @Option(name: .long, help: ArgumentHelp(t("review.help.score"))) var score: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("review.help.comment"))) var comment: String = ""
    func run() async throws {
      let scores = try self.score.map { try ReviewCampaignCommand.pair($0, option: "--score") }
      let request = Banjie_V1_SubmitReviewRequest.with {
        $0.campaignID = self.id
        $0.departmentCode = self.department
        $0.scores = scores.map { s in
          .with {
            $0.dimension = s.0
            $0.score = s.1
          }
        }
        $0.comment = self.comment
      }
      let r = try await ReviewCampaignCommand.call(self.connection) {
        try await $0.submitReview(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try r.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("review.submitted", r.departmentCode, r.campaignID, String(format: "%.2f", r.weightedScore)))
    }
  }

  struct Results: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("campaign.results.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("campaign.help.id"))) var id: Int64
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await ReviewCampaignCommand.call(self.connection) {
        try await $0.getCampaignResults(.with { $0.id = self.id }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.campaignResults(result).print()
        return
      }
      var table = TextTable(
        t("campaign.col.rank"), t("campaign.col.department"), t("campaign.col.departmentName"), t("campaign.col.score"),
        t("campaign.col.reviews"), t("campaign.col.response"))
      for d in result.departments {
        table.add([
          d.rank == 0 ? "-" : String(d.rank), d.departmentCode, d.departmentName, d.reviews == 0 ? "-" : String(format: "%.2f", d.score),
          String(d.reviews), String(format: "%.1f", d.responseRate * 100),
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          t(
            "campaign.results.footer", result.campaign.name, ReviewCampaignCommand.stateLabel(result.campaign.state),
            result.campaign.invited.count),
          Terminal.dim))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("campaign.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await ReviewCampaignCommand.call(self.connection) {
        try await $0.listCampaigns(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.campaigns(result.campaigns).print()
        return
      }
      var table = TextTable(
        t("campaign.col.id"), t("campaign.col.name"), t("campaign.col.period"), t("campaign.col.state"), t("campaign.col.departments"),
        t("campaign.col.invited"), t("campaign.col.reviews"))
      for c in result.campaigns {
        table.add([
          String(c.id), c.name, "\(c.periodFrom)..\(c.periodTo)", ReviewCampaignCommand.stateLabel(c.state),
          String(c.departmentCodes.count), String(c.invited.count), String(c.reviews),
        ])
      }
      print(table.render())
    }
  }
}
