import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 年度目标与预警: `banjie targets set|show` (docs/DOMAIN.md §26).
struct TargetsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "targets", abstract: t("targets.abstract"), discussion: t("targets.discussion"), subcommands: [Set.self, Show.self])

  typealias Client = Banjie_V1_TargetService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  struct Set: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("targets.set.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("targets.help.year"))) var year: UInt32
    @Option(name: .long, help: ArgumentHelp(t("targets.help.department")), transform: Normalize.text) var department: String
    @Option(name: .long, help: ArgumentHelp(t("targets.help.measure")), transform: Normalize.text) var measure: String
    @Option(name: .long, help: ArgumentHelp(t("targets.help.target"))) var target: String

    func run() async throws {
      // "98", "98%" and "98 %" all mean 98 percent.
      let text = self.target.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "％", with: "")
        .trimmingCharacters(in: .whitespaces)
      guard let value = Double(text) else { throw ValidationError(t("targets.error.target", self.target)) }
      let request = Banjie_V1_SetTargetRequest.with {
        $0.year = self.year
        $0.department = self.department
        $0.measure = self.measure
        $0.target = value
      }
      let result = try await TargetsCommand.call(self.connection) {
        try await $0.setTarget(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(
        t(
          "targets.set.done", TargetOutput.measureName(result.measure), result.unitName, result.year,
          TargetOutput.value(result.target, result.measure)))
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("targets.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("targets.help.showYear"))) var year: UInt32 = 0
    @Option(name: .long, help: ArgumentHelp(t("targets.help.showDepartment")), transform: Normalize.text) var department: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func run() async throws {
      let request = Banjie_V1_GetTargetProgressRequest.with {
        $0.year = self.year
        $0.department = self.department ?? ""
      }
      let result = try await TargetsCommand.call(self.connection) {
        try await $0.getTargetProgress(request, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      for line in TargetOutput.lines(result) { print(line) }
    }
  }
}

enum TargetOutput {
  /// A measure's name as people read it (按时办结率…), or its key when unknown.
  static func measureName(_ key: String) -> String { EnterpriseOutput.label("targets.measure.\(key)", or: key) }

  /// A value in its measure's unit: "98.0 %" or "4.50".
  static func value(_ v: Double, _ measure: String) -> String {
    measure == "review_score" ? String(format: "%.2f", v) : String(format: "%.1f %%", v)
  }

  /// The time progress line and the table of targets (also the dashboard's 年度目标 section).
  static func lines(_ p: Banjie_V1_TargetProgress) -> [String] {
    var lines = [
      Terminal.bold(t("targets.progress", p.year, p.elapsedWorkingDays, p.workingDays, String(format: "%.1f", p.timeProgress * 100)))
    ]
    guard !p.targets.isEmpty else {
      lines.append(Terminal.paint(t("targets.none", p.year), Terminal.dim))
      return lines
    }
    var table = TextTable(
      t("targets.col.unit"), t("targets.col.measure"), t("targets.col.target"), t("targets.col.expected"), t("targets.col.actual"),
      t("targets.col.basis"), t("targets.col.status"))
    for target in p.targets {
      let status: String =
        switch target.colour {
        case .green: t("targets.status.green")
        case .yellow: t("targets.status.yellow")
        case .red: t("targets.status.red")
        default: t("targets.status.noData")
        }
      table.add(
        [
          "\(target.unitName) (\(target.unit))", measureName(target.measure), value(target.target, target.measure),
          value(target.expected, target.measure), target.hasActual_p ? value(target.actual, target.measure) : "-",
          target.hasActual_p ? basis(target) : "-", status,
        ], colour: CaseOutput.ansi(target.colour))
    }
    lines.append(table.render())
    let behind = p.targets.filter { $0.colour == .yellow || $0.colour == .red }.count
    lines.append(Terminal.paint(t("targets.count", p.targets.count, behind), Terminal.dim))
    return lines
  }

  /// What the value was computed from: "47/50", or "12 reviews" for a score.
  static func basis(_ target: Banjie_V1_AnnualTarget) -> String {
    target.measure == "review_score" ? t("targets.basis.reviews", target.base) : "\(target.count)/\(target.base)"
  }
}
