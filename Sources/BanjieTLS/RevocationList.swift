import Synchronization

/// Certificate serial numbers refused at handshake. Thread-safe; share one list between
/// contexts and revoke at run time.
///
/// Serials are normalised to upper-case hex without separators or leading zeros, so
/// `"0a:1B"`, `"0x0A1B"` and `"A1B"` name the same certificate.
public final class RevocationList: Sendable {
  private let storage: Mutex<Set<String>>

  public init(_ serials: Set<String> = []) {
    self.storage = Mutex(Set(serials.compactMap(Self.normalise)))
  }

  /// Adds `serial`. A string that is not hex is ignored: it cannot match a certificate.
  public func revoke(_ serial: String) {
    guard let normalised = Self.normalise(serial) else { return }
    _ = self.storage.withLock { $0.insert(normalised) }
  }

  public func isRevoked(_ serial: String) -> Bool {
    guard let normalised = Self.normalise(serial) else { return false }
    return self.storage.withLock { $0.contains(normalised) }
  }

  /// The normalised serials.
  public var serials: Set<String> {
    self.storage.withLock { $0 }
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
