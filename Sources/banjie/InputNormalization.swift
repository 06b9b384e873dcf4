import ArgumentParser
import Foundation

/// Input as Chinese users type it: full-width digits, letters, hyphens and colons
/// (`370830－20261207－000003`, `land：ZRZYJ：…`, `Ａ０３`) and stray spaces, including the
/// ideographic space, are normalised before use. Used as ArgumentParser `transform:`s, so a
/// typing error is a usage error (exit 64) before any call is made.
enum Normalize {
  /// NFKC (full-width forms become ASCII, the ideographic space a space), then trimmed.
  static func text(_ value: String) -> String {
    value.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A code the server compares exactly (department, item, window): normalised and upper-cased.
  static func code(_ value: String) -> String {
    Self.text(value).uppercased()
  }

  /// A case, demand or rectification number: normalised, upper-cased, inner spaces removed.
  static func number(_ value: String) -> String {
    Self.text(value).uppercased().filter { !$0.isWhitespace }
  }

  /// A calendar day: `2026-12-01`, `2026/12/01`, `2026.12.01` or `20261201` (any width) →
  /// `2026-12-01`. Anything else, or a day that does not exist, is a usage error.
  static func day(_ value: String) throws -> String {
    let text = Self.text(value)
    let digits: [Substring]
    if text.count == 8, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
      digits = [text.prefix(4), text.dropFirst(4).prefix(2), text.suffix(2)]
    } else {
      digits = text.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." })
    }
    guard digits.count == 3, let year = Int(digits[0]), let month = Int(digits[1]), let day = Int(digits[2]),
      digits[0].count == 4, (1...2).contains(digits[1].count), (1...2).contains(digits[2].count),
      Self.isValid(year: year, month: month, day: day)
    else {
      throw ValidationError(t("input.badDay", value))
    }
    return String(format: "%04d-%02d-%02d", year, month, day)
  }

  /// A month: `2026-11`, `2026/11`, `2026.11` or `202611` (any width) → `2026-11`; anything
  /// else is passed on for the command to refuse in its own words.
  static func month(_ value: String) -> String {
    let text = Self.text(value)
    let parts: [Substring]
    if text.count == 6, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
      parts = [text.prefix(4), text.suffix(2)]
    } else {
      parts = text.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." })
    }
    guard parts.count == 2, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else {
      return text
    }
    return String(format: "%04d-%02d", year, month)
  }

  static func isValid(year: Int, month: Int, day: Int) -> Bool {
    guard (1900...2999).contains(year), (1...12).contains(month), day >= 1 else { return false }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return day <= days[month - 1]
  }
}
