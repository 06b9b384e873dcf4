import Synchronization

/// Certificate serial numbers refused at handshake. Thread-safe; share one list between
/// contexts and revoke at run time.
///
/// Two kinds of serial are kept apart: those revoked at run time (`revoke`, only ever added)
/// and those listed in a revocation file (`replaceListed`, replaced whenever the file is read
/// again), so re-reading the file never forgets a revocation made in between.
///
/// Serials are normalised to upper-case hex without separators or leading zeros, so
/// `"0a:1B"`, `"0x0A1B"` and `"A1B"` name the same certificate.
public final class RevocationList: Sendable {
  private struct State {
    var revoked: Set<String>
    var listed: Set<String> = []
  }
  private let storage: Mutex<State>

  public init(_ serials: Set<String> = []) {
    self.storage = Mutex(State(revoked: Set(serials.compactMap(Self.normalise))))
  }

  /// Adds `serial`. A string that is not hex is ignored: it cannot match a certificate.
  public func revoke(_ serial: String) {
    guard let normalised = Self.normalise(serial) else { return }
    _ = self.storage.withLock { $0.revoked.insert(normalised) }
  }

  /// Replaces the serials that came from a revocation file. Returns the serials that are
  /// refused now and were not before (whose open connections may need closing).
  @discardableResult
  public func replaceListed(_ serials: Set<String>) -> Set<String> {
    let normalised = Set(serials.compactMap(Self.normalise))
    return self.storage.withLock { state in
      let before = state.revoked.union(state.listed)
      state.listed = normalised
      return normalised.subtracting(before)
    }
  }

  public func isRevoked(_ serial: String) -> Bool {
    guard let normalised = Self.normalise(serial) else { return false }
    return self.storage.withLock { $0.revoked.contains(normalised) || $0.listed.contains(normalised) }
  }

  /// The normalised serials, of both kinds.
  public var serials: Set<String> {
    self.storage.withLock { $0.revoked.union($0.listed) }
  }

  /// Upper-case hex, no `0x`, colons, spaces or leading zeros; nil when not hex.
  static func normalise(_ serial: String) -> String? {
    var text = Substring(serial.filter { $0 != ":" && !$0.isWhitespace })
    if text.hasPrefix("0x") || text.hasPrefix("0X") { text = text.dropFirst(2) }
    let digits = text.uppercased()
    guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
    let stripped = digits.drop { $0 == "0" }
    return stripped.isEmpty ? "0" : String(stripped)
  }
}
