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
