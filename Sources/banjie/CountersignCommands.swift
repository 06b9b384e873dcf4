import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 部门会签: `banjie countersign register|answer|extend|show|list` (docs/DOMAIN.md §23).
struct CountersignCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "countersign", abstract: t("countersign.abstract"), discussion: t("countersign.discussion"),
    subcommands: [Register.self, Answer.self, Extend.self, Show.self, List.self])

  typealias Client = Banjie_V1_CountersignService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("countersign.register.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.title")), transform: Normalize.text) var title: String
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.documentNumber")), transform: Normalize.text) var documentNumber: String =
      ""
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.length"))) var length: UInt32
    @Flag(name: .long, help: ArgumentHelp(t("countersign.help.policy"))) var policy = false
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.overLengthReason")), transform: Normalize.text) var overLengthReason:
      String = ""
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.unit")), transform: Normalize.code) var unit: [String]

    func run() async throws {
      let request = Banjie_V1_RegisterCountersignRequest.with {
        $0.title = self.title
        $0.documentNumber = self.documentNumber
        $0.lengthCharacters = self.length
        $0.policy = self.policy
        $0.overLengthReason = self.overLengthReason
        $0.units = self.unit
      }
      let result = try await CountersignCommand.call(self.connection) {
        try await $0.registerCountersign(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try CountersignOutput.print(result, json: self.mutation.json)
    }
  }

  /// The draft an action applies to: its number and, optionally, the version it must be at.
  struct Target: ParsableArguments {
    @Argument(help: ArgumentHelp(t("countersign.help.number")), transform: Normalize.number) var number: String
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.ifVersion"))) var ifVersion: Int64?
  }

  struct Answer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("countersign.answer.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Flag(name: .long, help: ArgumentHelp(t("countersign.help.agree"))) var agree = false
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.comments")), transform: Normalize.text) var comments: String?
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.disagree")), transform: Normalize.text) var disagree: String?

    func validate() throws {
      guard [self.agree, self.comments != nil, self.disagree != nil].filter({ $0 }).count == 1 else {
        throw ValidationError(t("countersign.error.oneAnswer"))
      }
    }

    func run() async throws {
      let request = Banjie_V1_AnswerCountersignRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        if let comments = self.comments {
          $0.answer = .agreeWithComments
          $0.text = comments
        } else if let reasons = self.disagree {
          $0.answer = .disagree
          $0.text = reasons
        } else {
          $0.answer = .agree
        }
      }
      let result = try await CountersignCommand.call(self.connection) {
        try await $0.answerCountersign(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try CountersignOutput.print(result, json: self.mutation.json)
    }
  }

  struct Extend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("countersign.extend.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: Target
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.extendUnit")), transform: Normalize.code) var unit: String
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.workingDays"))) var workingDays: UInt32
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.reason")), transform: Normalize.text) var reason: String

    func run() async throws {
      let request = Banjie_V1_ExtendCountersignRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.unit = self.unit
        $0.workingDays = self.workingDays
        $0.reason = self.reason
      }
      let result = try await CountersignCommand.call(self.connection) {
        try await $0.extendCountersign(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try CountersignOutput.print(result, json: self.mutation.json)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("countersign.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("countersign.help.number")), transform: Normalize.number) var number: String
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func run() async throws {
      let result = try await CountersignCommand.call(self.connection) {
        try await $0.getCountersign(.with { $0.number = self.number }, options: self.connection.callOptions)
      }
      try CountersignOutput.print(result, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("countersign.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.waitingOn")), transform: Normalize.code) var waitingOn: String?
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.lead")), transform: Normalize.code) var lead: String?
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.state"))) var state: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("countersign.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func validate() throws {
      for s in self.state where CountersignOutput.parseState(s) == nil { throw ValidationError(t("countersign.error.state", s)) }
    }

    func run() async throws {
      let request = Banjie_V1_ListCountersignsRequest.with {
        $0.waitingOn = self.waitingOn ?? ""
        $0.leadUnit = self.lead ?? ""
        $0.states = self.state.compactMap(CountersignOutput.parseState)
        $0.page = .with {
          $0.pageSize = self.pageSize
          $0.pageToken = self.pageToken ?? ""
        }
      }
      let result = try await CountersignCommand.call(self.connection) {
        try await $0.listCountersigns(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable(
        t("countersign.col.number"), t("countersign.col.title"), t("countersign.col.lead"), t("countersign.col.state"),
        t("countersign.col.waiting"))
      for c in result.countersigns {
        let waiting = c.units.filter { !$0.hasAnsweredAt }
        let worst = waiting.map(\.sla.colour).max { $0.rawValue < $1.rawValue }
        table.add(
          [
            c.number, c.title, c.leadUnit, CountersignOutput.stateLabel(c.state),
            waiting.map { "\($0.unit) (\(EnterpriseOutput.colourName($0.sla.colour)))" }.joined(separator: ", "),
          ], colour: worst.flatMap(CaseOutput.ansi))
      }
      print(table.render())
      print(
        Terminal.paint(
          t("countersign.list.count", result.countersigns.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }
}

enum CountersignOutput {
  /// "OPEN" or "COMPLETE" as people read it (会签中, 已办结).
  static func stateLabel(_ state: String) -> String { EnterpriseOutput.label("countersign.state.\(state)", or: state) }

  /// A state as typed: open, complete (any case) or its name in either language.
  static func parseState(_ text: String) -> String? {
    let names = ["OPEN", "COMPLETE"]
    if let name = names.first(where: { $0 == text.uppercased() }) { return name }
    return names.first { name in Language.allCases.contains { Catalogue.text("countersign.state.\(name)", [], language: $0) == text } }
  }

  static func answerLabel(_ answer: Banjie_V1_CountersignAnswer) -> String {
    switch answer {
    case .agree: t("countersign.answer.AGREE")
    case .agreeWithComments: t("countersign.answer.AGREE_WITH_COMMENTS")
    case .disagree: t("countersign.answer.DISAGREE")
    default: "-"
    }
  }

  static func print(_ c: Banjie_V1_Countersign, json: Bool) throws {
    if json {
      Swift.print(try c.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("countersign.field.number"), c.number),
      (t("countersign.field.title"), c.title + (c.documentNumber.isEmpty ? "" : " · \(c.documentNumber)")),
      (t("countersign.field.lead"), "\(c.leadUnitName) (\(c.leadUnit))"),
      (
        t("countersign.field.length"),
        t("countersign.lengthValue", c.lengthCharacters) + (c.policy ? t("countersign.policy") : "")
      ),
    ]
    if c.overLength { lines.append((t("countersign.field.overLength"), Terminal.paint(c.overLengthReason, Terminal.yellow))) }
    lines.append((t("countersign.field.registered"), "\(CaseOutput.shortTime(c.registeredAt)) · \(HumanText.by(c.registeredBy))"))
    lines.append(
      (
        t("countersign.field.state"),
        stateLabel(c.state) + (c.hasCompletedAt ? " · \(CaseOutput.shortTime(c.completedAt))" : "")
      ))
    for (index, u) in c.units.enumerated() {
      let label = index == 0 ? t("countersign.field.units") : ""
      var text = "\(u.unitName) (\(u.unit)) · "
      if u.hasAnsweredAt {
        text += t(
          "countersign.answeredValue", answerLabel(u.answer), CaseOutput.shortTime(u.answeredAt),
          u.onTime ? t("countersign.onTime") : t("countersign.late"))
        if !u.answerText.isEmpty { text += " · \(u.answerText)" }
        lines.append((label, text))
      } else {
        let used = Int((u.sla.fractionUsed * 100).rounded())
        text += t("countersign.waitingValue", CaseOutput.shortTime(u.sla.dueAt), EnterpriseOutput.colourName(u.sla.colour), used)
        if u.extendedDays > 0 { text += t("countersign.extendedValue", u.extendedDays, u.extensionReason) }
        lines.append((label, Terminal.paint(text, CaseOutput.ansi(u.sla.colour))))
      }
    }
    lines.append((t("countersign.field.version"), String(c.version)))
    EnterpriseOutput.printLabelled(lines, width: 11)
  }
}
