import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 千企评议: the office runs review campaigns; invited enterprises review departments.
struct ReviewCampaignCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "campaign", abstract: "Enterprise review campaigns (千企评议): create, open, review, close, results, publish.",
    subcommands: [Create.self, Open.self, Close.self, Publish.self, Review.self, Results.self, List.self])

  typealias Client = Banjie_V1_ReviewCampaignService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  /// "name=weight" or "name:weight".
  static func pair(_ text: String, option: String) throws -> (String, UInt32) {
    let parts = text.split(whereSeparator: { $0 == "=" || $0 == ":" }).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty, let value = UInt32(parts[1]) else {
      throw ValidationError("\(option) is NAME=NUMBER, e.g. efficiency=40; got \"\(text)\"")
    }
    return (parts[0], value)
  }

  static func printCampaign(_ c: Banjie_V1_Campaign, json: Bool) throws {
    if json {
      print(try c.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    let lines: [(String, String)] = [
      ("campaign", "\(c.id) · \(c.name) · \(stateName(c.state))"),
      ("period", "\(c.periodFrom) to \(c.periodTo)"),
      ("departments", c.departmentCodes.joined(separator: ", ")),
      ("dimensions", c.dimensions.map { "\($0.name) \($0.weightPercent) %" }.joined(separator: ", ")),
      ("invited", "\(c.invited.count) enterprises, \(c.reviews) reviews"),
    ]
    for (label, value) in lines { print(pad(label, to: 12) + value) }
    if !c.reviewedByMe.isEmpty { print(pad("reviewed", to: 12) + c.reviewedByMe.joined(separator: ", ")) }
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
    static let configuration = CommandConfiguration(abstract: "Create a campaign (office). Weights are whole percentages summing to 100.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: "Name, e.g. 2026年度千企评议.") var name: String
    @Option(name: .long, help: "Period start, YYYY-MM-DD.") var from: String
    @Option(name: .long, help: "Period end, YYYY-MM-DD.") var to: String
    @Option(name: .long, help: "A department reviewed (repeatable).") var department: [String] = []
    @Option(name: .long, help: "A dimension and its weight in %, e.g. efficiency=40 (repeatable).") var dimension: [String] = []
    @Option(name: .long, help: "An invited enterprise's USCC (repeatable).") var invite: [String] = []
    @Option(name: .long, help: "A file of invited USCCs, one a line.") var inviteFile: String?
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
    static let configuration = CommandConfiguration(abstract: "Open a campaign for reviews (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Campaign id.") var id: Int64
    func run() async throws {
      try await Step.run(self.connection, self.mutation, id: self.id) { try await $0.openCampaign($1, metadata: $2, options: $3) }
    }
  }

  struct Close: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Close a campaign: no more reviews (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Campaign id.") var id: Int64
    func run() async throws {
      try await Step.run(self.connection, self.mutation, id: self.id) { try await $0.closeCampaign($1, metadata: $2, options: $3) }
    }
  }

  struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish a closed campaign's results to everyone (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Campaign id.") var id: Int64
    func run() async throws {
      try await Step.run(self.connection, self.mutation, id: self.id) { try await $0.publishCampaign($1, metadata: $2, options: $3) }
    }
  }

  struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Review one department in an open campaign (invited enterprise), 1-5 per dimension.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Campaign id.") var id: Int64
    @Option(name: .long, help: "The department reviewed.") var department: String
    @Option(name: .long, help: "A dimension's score 1-5, e.g. efficiency=5 (one per dimension).") var score: [String] = []
    @Option(name: .long, help: "A comment.") var comment: String = ""
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
      print("reviewed \(r.departmentCode) in campaign \(r.campaignID): weighted score \(String(format: "%.2f", r.weightedScore))")
    }
  }

  struct Results: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Departments ranked by weighted score (office; everyone once published).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Campaign id.") var id: Int64
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await ReviewCampaignCommand.call(self.connection) {
        try await $0.getCampaignResults(.with { $0.id = self.id }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("rank", "department", "name", "score", "reviews", "response %")
      for d in result.departments {
        table.add([
          d.rank == 0 ? "-" : String(d.rank), d.departmentCode, d.departmentName, d.reviews == 0 ? "-" : String(format: "%.2f", d.score),
          String(d.reviews), String(format: "%.1f", d.responseRate * 100),
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          "\(result.campaign.name) · \(ReviewCampaignCommand.stateName(result.campaign.state)) · \(result.campaign.invited.count) invited",
          Terminal.dim))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List campaigns (an enterprise sees those it is invited to).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await ReviewCampaignCommand.call(self.connection) {
        try await $0.listCampaigns(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("id", "name", "period", "state", "departments", "invited", "reviews")
      for c in result.campaigns {
        table.add([
          String(c.id), c.name, "\(c.periodFrom)..\(c.periodTo)", ReviewCampaignCommand.stateName(c.state), String(c.departmentCodes.count),
          String(c.invited.count), String(c.reviews),
        ])
      }
      print(table.render())
    }
  }
}
