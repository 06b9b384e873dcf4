import ArgumentParser
import Foundation
import GRPCCore

/// Options every mutation shares: `--idempotency-key` and `--json`.
struct MutationOptions: ParsableArguments {
  @Option(name: .long, help: "Idempotency key: repeat a call with the same key and it is applied once (default: a new key).")
  var idempotencyKey: String?
  @Flag(name: .long, help: "Print JSON.") var json = false

  var metadata: Metadata {
    ["idempotency-key": "\(self.idempotencyKey ?? UUID().uuidString.lowercased())"]
  }
}

/// The case a transition acts on: its number and, optionally, the version it must be at.
struct CaseTarget: ParsableArguments {
  @Argument(help: "Case number.") var number: String
  @Option(name: .long, help: "Refuse to act unless the case is at this version.") var ifVersion: Int64?
}

/// The demand an action applies to: its number and, optionally, the version it must be at.
struct DemandTarget: ParsableArguments {
  @Argument(help: "Demand number.") var number: String
  @Option(name: .long, help: "Refuse to act unless the demand is at this version.") var ifVersion: Int64?
}

/// The rectification a step applies to: its number and, optionally, the version it must be at.
struct RectificationTarget: ParsableArguments {
  @Argument(help: "Rectification number.") var number: String
  @Option(name: .long, help: "Refuse unless at this version.") var ifVersion: Int64?
}
