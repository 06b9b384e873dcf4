import Foundation

/// A service window's code (窗口编号) as the county registers it (docs/DOMAIN.md §18).
///
/// Clerks type codes on Chinese keyboards, so a code is compared after NFKC (full-width forms
/// become ASCII), trimming and upper-casing: "Ａ０３", " a03 " and "A03" are one window.
public enum WindowCode {
  /// The longest code.
  public static let maxLength = 20

  /// NFKC, trimmed, upper-cased. Not yet checked.
  public static func normalize(_ text: String) -> String {
    text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
  }

  /// The normalised code, checked: 1–20 ASCII letters, digits, '-', '_' or '.', starting with a
  /// letter or digit.
  public static func parse(_ text: String, field: String) throws(DomainError) -> String {
    let code = Self.normalize(text)
    guard !code.isEmpty else {
      throw DomainError(kind: .invalidArgument, code: "field.empty", arguments: [field], field: field)
    }
    let bytes = Array(code.utf8)
    func alphanumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) }
    guard code.count <= Self.maxLength, bytes.count == code.count, alphanumeric(bytes[0]),
      bytes.allSatisfy({ alphanumeric($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
    else {
      throw DomainError(
        kind: .invalidArgument, code: "window.bad_code", arguments: [String(code.prefix(40)), "\(Self.maxLength)"], field: field)
    }
    return code
  }
}
