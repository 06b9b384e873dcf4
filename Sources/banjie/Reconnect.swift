import Foundation
import GRPCCore

/// The live views (`alerts --watch`, `dashboard --watch`) outlive a server restart or a network
/// drop: a lost stream is said on one line of standard error, tried again after 1, 2, 4, 8, 16,
/// then every 30 seconds, and said again when it is back. Errors that retrying cannot mend
/// (permission, bad arguments, certificates) end the command as usual.
enum Reconnect {
  /// Whether the stream may come back by itself.
  static func isTransient(_ error: any Error) -> Bool {
    // A server that cannot be reached (exit 69) may be restarting; a refused certificate is not.
    if let cli = error as? CLIError { return cli.exitCode == 69 }
    guard let rpc = error as? RPCError else { return false }
    switch rpc.code {
    // A server bug (internal, unknown) is not waited out: the command ends with exit 70.
    case .unavailable, .deadlineExceeded, .cancelled, .resourceExhausted: return true
    default: return false
    }
  }

  /// The wait before attempt `n` (0-based) after a loss.
  static func delay(attempt: Int) -> Int { min(30, 1 << min(attempt, 5)) }

  /// Runs `session` until a non-transient error; `session(reconnected)` is told whether this is a
  /// new connection after a loss, and returns when its stream ended (a server shutting down ends
  /// streams cleanly: that is a loss too).
  static func forever(_ session: (_ reconnected: Bool) async throws -> Void) async throws {
    var attempt = 0
    var lost = false
    while true {
      let started = ContinuousClock.now
      var failure: (any Error)?
      do {
        try await session(lost)
      } catch  where Self.isTransient(error) {
        failure = error
      }
      // A stream that held for a while was a good connection: this loss starts the back-off
      // from the beginning again.
      if ContinuousClock.now - started > Self.healthySession { attempt = 0 }
      if let failure {
        Self.say(t("watch.lost", Self.reason(failure), Self.delay(attempt: attempt)))
      } else {
        Self.say(t("watch.ended", Self.delay(attempt: attempt)))
      }
      lost = true
      try await Task.sleep(for: .seconds(Self.delay(attempt: attempt)))
      attempt += 1
    }
  }

  /// How long a stream must have lasted for its loss to count as a new outage.
  static let healthySession: Duration = .seconds(60)

  /// Called by a session once its stream is open again.
  static func announceReconnected() {
    Self.say(t("watch.reconnected"))
  }

  static func reason(_ error: any Error) -> String {
    if error is CLIError { return t("watch.code.unavailable") }
    guard let rpc = error as? RPCError else { return String(describing: error) }
    // One plain line: the code's name in the user's language, not transport internals.
    return t("watch.code.\(rpc.code)")
  }

  static func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
}
