import Foundation

/// Strict ISO 8601 instants with an explicit offset ("2026-02-13T10:00:00+08:00", "...Z"):
/// impossible dates such as February 30 are refused rather than rolled over, as Foundation's
/// formatter would.
public enum ISO8601Instant {
  public static func parse(_ text: String, field: String) throws(DomainError) -> Date {
    func bad(_ messageKey: String) -> DomainError {
      DomainError(
        kind: .invalidArgument, code: "time.invalid", messageKey: messageKey, arguments: [field, String(text.prefix(40))], field: field)
    }
    let b = Array(text.utf8)
    guard b.count >= 20, b.count <= 35 else { throw bad("time.invalid#instant_format") }
    func digits(_ range: Range<Int>) -> Int? {
      var value = 0
      for i in range {
        guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { return nil }
        value = value * 10 + Int(b[i] - 0x30)
      }
      return value
    }
    guard let year = digits(0..<4), b[4] == 0x2D, let month = digits(5..<7), b[7] == 0x2D, let day = digits(8..<10),
      b[10] == 0x54 || b[10] == 0x74, let hour = digits(11..<13), b[13] == 0x3A, let minute = digits(14..<16),
      b[16] == 0x3A, let second = digits(17..<19)
    else { throw bad("time.invalid#instant_format") }
    var index = 19
    var fraction = 0.0
    if index < b.count, b[index] == 0x2E {
      index += 1
      var scale = 0.1
      let start = index
      while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
        fraction += Double(b[index] - 0x30) * scale
        scale /= 10
        index += 1
      }
      guard index > start else { throw bad("time.invalid#instant_fraction") }
    }
    guard index < b.count else { throw bad("time.invalid#instant_no_offset") }
    var offsetSeconds = 0
    if b[index] == 0x5A || b[index] == 0x7A {
      index += 1
    } else if b[index] == 0x2B || b[index] == 0x2D {
      guard let oh = digits((index + 1)..<(index + 3)), index + 3 < b.count, b[index + 3] == 0x3A,
        let om = digits((index + 4)..<(index + 6)),
        oh <= 14, om <= 59
      else { throw bad("time.invalid#instant_offset") }
      offsetSeconds = (oh * 3600 + om * 60) * (b[index] == 0x2D ? -1 : 1)
      index += 6
    } else {
      throw bad("time.invalid#instant_no_offset")
    }
    guard index == b.count else { throw bad("time.invalid#instant_trailing") }
    guard (1...9999).contains(year), (1...12).contains(month) else { throw bad("time.invalid#instant_month") }
    guard (1...LocalDate.daysIn(month: month, year: year)).contains(day) else { throw bad("time.invalid#instant_date") }
    guard hour <= 23, minute <= 59, second <= 59 else { throw bad("time.invalid#instant_time") }
    let date: LocalDate
    do { date = try LocalDate(year: year, month: month, day: day) } catch { throw bad("time.invalid#instant_date") }
    let seconds = Double(date.dayNumber) * 86_400 + Double(hour * 3600 + minute * 60 + second) - Double(offsetSeconds) + fraction
    return Date(timeIntervalSince1970: seconds)
  }
}
