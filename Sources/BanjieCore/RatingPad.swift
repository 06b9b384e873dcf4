import Foundation

// 好差评 for every applicant (docs/DOMAIN.md §21): the window's rating pad (评价器) and the one-time
// rating code (评价码) printed on the receipt.

/// How a rating was given.
public enum RatingVia: String, Sendable, Hashable, CaseIterable, Codable {
  /// By the case's enterprise, with its own certificate.
  case enterprise = "ENTERPRISE"
  /// On the rating pad of the window that has just served the applicant.
  case pad = "PAD"
  /// By redeeming the case's rating code, on any rating pad or with the enterprise's certificate.
  case code = "CODE"
}

/// The one-time rating code (评价码) printed on a case's receipt: 8 characters of an alphabet
/// without the look-alikes 0/O and 1/I/L.
public enum RatingCode {
  public static let alphabet: [UInt8] = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ".utf8)
  public static let length = 8

  /// A new code from the system's cryptographically secure random source.
  public static func generate() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<Self.length).map { _ in Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &generator)] }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The code as typed: NFKC (full-width forms become ASCII), spaces and '-' dropped, upper case.
  public static func normalize(_ text: String) -> String {
    String(text.precomposedStringWithCompatibilityMapping.filter { !$0.isWhitespace && $0 != "-" }).uppercased()
  }

  /// The normalised code, checked: exactly 8 characters of the alphabet. The check looks at the
  /// text alone, so it says nothing about any case.
  public static func parse(_ text: String, field: String) throws(DomainError) -> String {
    let code = Self.normalize(text)
    guard code.utf8.count == Self.length, code.utf8.allSatisfy({ Self.alphabet.contains($0) }) else {
      throw DomainError(
        kind: .invalidArgument, code: "rating.code_malformed", arguments: [String(code.prefix(20)), "\(Self.length)"], field: field)
    }
    return code
  }

  /// Whether `given` is `stored`. Every byte of `given` is compared whatever differs first, so
  /// the time taken does not tell how much of a guess was right. An empty stored code (a case
  /// received before codes were printed) matches nothing.
  public static func matches(_ given: String, _ stored: String) -> Bool {
    let a = Array(given.utf8)
    let b = Array(stored.utf8)
    guard !b.isEmpty else { return false }
    var difference: UInt8 = a.count == b.count ? 0 : 1
    for i in 0..<a.count {
      difference |= a[i] ^ b[i % b.count]
    }
    return difference == 0
  }
}

/// A rating pad's device id, as the office registers it and the pad's certificate names it (CN).
public enum RatingDeviceID {
  /// The longest id.
  public static let maxLength = 40

  /// NFKC, trimmed, upper-cased. Not yet checked.
  public static func normalize(_ text: String) -> String {
    text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
  }

  /// The normalised id, checked: 1–40 ASCII letters, digits, '-', '_' or '.', starting with a
  /// letter or digit.
  public static func parse(_ text: String, field: String) throws(DomainError) -> String {
    let id = Self.normalize(text)
    guard !id.isEmpty else {
      throw DomainError(kind: .invalidArgument, code: "field.empty", arguments: [field], field: field)
    }
    let bytes = Array(id.utf8)
    func alphanumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) }
    guard id.count <= Self.maxLength, bytes.count == id.count, alphanumeric(bytes[0]),
      bytes.allSatisfy({ alphanumeric($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
    else {
      throw DomainError(
        kind: .invalidArgument, code: "device.bad_id", arguments: [String(id.prefix(60)), "\(Self.maxLength)"], field: field)
    }
    return id
  }
}
