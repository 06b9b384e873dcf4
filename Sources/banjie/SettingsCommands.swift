import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// The county settings (docs/DOMAIN.md §17): `banjie settings show|set`.
struct SettingsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "settings", abstract: t("settings.abstract"), discussion: t("settings.discussion"),
    subcommands: [Show.self, SetValue.self])

  typealias Client = Banjie_V1_SettingsService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  /// The keys, in the order they are shown.
  static let keys = [
    "demand_limit_working_days", "rating_window_days", "rectification_limit_working_days", "yellow_threshold", "office_hours",
    "countersign_limit_working_days",
    "appeal_response_working_days", "appeal_resolution_limits",
    "proposal_reply_months", "proposal_max_months",
  ]

  /// A key as people type it: case and `-` or `_` do not matter.
  static func normalizedKey(_ text: String) -> String {
    Normalize.text(text).lowercased().replacingOccurrences(of: "-", with: "_")
  }

  /// A setting's value as people read it.
  static func value(_ key: String, of s: Banjie_V1_Settings) -> String {
    switch key {
    case "demand_limit_working_days": t("settings.value.workingDays", s.demandLimitWorkingDays)
    case "rating_window_days": t("settings.value.days", s.ratingWindowDays)
    case "rectification_limit_working_days": t("settings.value.workingDays", s.rectificationLimitWorkingDays)
    case "yellow_threshold":
      t("settings.value.threshold", String(format: "%.2f", s.yellowThreshold), Int((s.yellowThreshold * 100).rounded()))
    case "office_hours": s.officeHours
    case "countersign_limit_working_days": t("settings.value.workingDays", s.countersignLimitWorkingDays)
    case "appeal_response_working_days": t("settings.value.workingDays", s.appealResponseWorkingDays)
    case "appeal_resolution_limits": s.appealResolutionLimits
    case "proposal_reply_months": t("settings.value.proposalMonths", s.proposalReplyMonths)
    case "proposal_max_months": t("settings.value.proposalMonths", s.proposalMaxMonths)
    default: "-"
    }
  }

  static func printSettings(_ s: Banjie_V1_Settings, json: Bool) throws {
    if json {
      print(try s.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var table = TextTable(
      t("settings.col.setting"), t("settings.col.key"), t("settings.col.value"), t("settings.col.changed"))
    for key in Self.keys {
      let changed =
        s.changes[key].map { t("settings.changedBy", CaseOutput.shortTime($0.updatedAt), HumanText.by($0.updatedBy)) }
        ?? t("settings.default")
      table.add([t("settings.name.\(key)"), key, Self.value(key, of: s), changed])
    }
    print(table.render())
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("settings.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

    func run() async throws {
      let s = try await SettingsCommand.call(self.connection) {
        try await $0.getSettings(.init(), options: self.connection.callOptions)
      }
      try SettingsCommand.printSettings(s, json: self.json)
    }
  }

  struct SetValue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set", abstract: t("settings.set.abstract"), discussion: t("settings.set.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("settings.help.key"))) var key: String
    @Argument(help: ArgumentHelp(t("settings.help.value"))) var value: String

    func run() async throws {
      let key = SettingsCommand.normalizedKey(self.key)
      let request = Banjie_V1_SetSettingRequest.with {
        $0.key = key
        $0.value = Normalize.text(self.value)
      }
      let s = try await SettingsCommand.call(self.connection) {
        try await $0.setSetting(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if !self.mutation.json {
        print(t("settings.set.done", HumanText.known("settings.name.\(key)", or: key), SettingsCommand.value(key, of: s)))
      }
      try SettingsCommand.printSettings(s, json: self.mutation.json)
    }
  }
}
