import Foundation

/// Prints a value as pretty, key-sorted JSON (for --json).
func printJSON(_ value: some Encodable) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  encoder.dateEncodingStrategy = .iso8601
  let data = try encoder.encode(value)
  print(String(decoding: data, as: UTF8.self))
}

/// Formats a date in Asia/Shanghai with its offset, e.g. 2026-11-30T17:00:00+08:00.
func isoShanghai(_ date: Date) -> String {
  let formatter = ISO8601DateFormatter()
  formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
  formatter.formatOptions = [.withInternetDateTime]
  return formatter.string(from: date)
}

/// Helpers for text a person reads (times in Asia/Shanghai, names the catalogue may know).
enum HumanText {
  /// A date as a person reads it: Asia/Shanghai, "yyyy-MM-dd HH:mm" (or with seconds), never UTC.
  static func time(_ date: Date, seconds: Bool = false) -> String {
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = seconds ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm"
    return formatter.string(from: date)
  }

  /// Parses an ISO 8601 date with or without fractional seconds (e.g. a server's `…T09:00:00.000Z`).
  static func parseISO8601(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
  }

  /// Replaces every UTC ISO 8601 timestamp in a text meant for a person (e.g. a server's
  /// message) by its Asia/Shanghai time.
  static func localisingTimestamps(_ text: String) -> String {
    var result = text
    let pattern = #"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"#
    while let range = result.range(of: pattern, options: .regularExpression) {
      guard let date = Self.parseISO8601(String(result[range])) else { break }
      result.replaceSubrange(range, with: Self.time(date))
    }
    return result
  }

  /// The text of `key` if the current language's table has it, otherwise `fallback` (for names
  /// the server sends that the catalogue may not know).
  static func known(_ key: String, or fallback: String) -> String {
    Catalogue.table(Language.current)[key] != nil ? t(key) : fallback
  }

  /// A role as people call it ("clerk" → 窗口工作人员).
  static func role(_ role: String) -> String {
    Self.known("output.role.\(role)", or: role)
  }

  /// Who did something, as the server records it ("刘红 (dispatcher, 12345)"), with the role as
  /// people call it ("刘红 (12345 话务调度, 12345)"). Any other text is shown as it came.
  static func by(_ text: String, language: Language = Language.current) -> String {
    guard text.hasSuffix(")"), let open = text.range(of: " (", options: .backwards) else { return text }
    let inside = text[open.upperBound..<text.index(before: text.endIndex)]
    guard let comma = inside.range(of: ", "),
      let localized = Catalogue.table(language)["output.role.\(inside[..<comma.lowerBound])"]
    else { return text }
    return "\(text[..<open.lowerBound]) (\(localized), \(inside[comma.upperBound...]))"
  }
}
