import ArgumentParser
import Foundation
import GRPCCore

/// Options every mutation shares: `--idempotency-key` and `--json`.
struct MutationOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp(t("output.help.idempotencyKey")))
  var idempotencyKey: String?
  @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

  var metadata: Metadata {
    ["idempotency-key": "\(self.idempotencyKey ?? IdempotencyKeys.next())"]
  }
}

/// The case a transition acts on: its number and, optionally, the version it must be at.
struct CaseTarget: ParsableArguments {
  @Argument(help: ArgumentHelp(t("output.help.caseNumber")), transform: Normalize.number) var number: String
  @Option(name: .long, help: ArgumentHelp(t("output.help.caseIfVersion"))) var ifVersion: Int64?
}

/// The demand an action applies to: its number and, optionally, the version it must be at.
struct DemandTarget: ParsableArguments {
  @Argument(help: ArgumentHelp(t("output.help.demandNumber")), transform: Normalize.number) var number: String
  @Option(name: .long, help: ArgumentHelp(t("output.help.demandIfVersion"))) var ifVersion: Int64?
}

/// The rectification a step applies to: its number and, optionally, the version it must be at.
struct RectificationTarget: ParsableArguments {
  @Argument(help: ArgumentHelp(t("output.help.rectificationNumber")), transform: Normalize.number) var number: String
  @Option(name: .long, help: ArgumentHelp(t("output.help.rectificationIfVersion"))) var ifVersion: Int64?
}
