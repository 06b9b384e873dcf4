import Foundation
import Testing

@testable import BanjieCore

/// An instant written as county local time, "2026-02-13 10:00" or "2026-02-13 10:00:30".
/// Parsed by Foundation with an explicit +08:00 offset, independently of the code under test.
func at(_ text: String) -> Date {
  var iso = text.replacingOccurrences(of: " ", with: "T")
  if iso.count == 16 { iso += ":00" }
  let formatter = ISO8601DateFormatter()
  formatter.formatOptions = [.withInternetDateTime]
  guard let date = formatter.date(from: iso + "+08:00") else {
    Issue.record("bad test instant \(text)")
    return Date(timeIntervalSince1970: 0)
  }
  return date
}

/// A local date from "YYYY-MM-DD"; test data is known good.
func day(_ text: String) -> LocalDate {
  try! LocalDate(parsing: text)
}

/// Renders an instant as county local time, for readable failures.
func local(_ date: Date) -> String {
  WorkingCalendar.standard.localDateTime(of: date).description
}

let calendar = WorkingCalendar.standard
