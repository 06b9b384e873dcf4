/// A calendar date in the county's time zone, without a time: "2026-02-14".
///
/// Arithmetic goes through `dayNumber` (days since 1970-01-01) using Howard Hinnant's
/// civil-date algorithms, so no `Foundation.Calendar` is involved and it is fast.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, LosslessStringConvertible {
  public let year: Int
  public let month: Int
  public let day: Int

  /// The years this type accepts from outside: four-digit years, as the "YYYY-MM-DD" format has.
  public static let yearRange = 1...9999

  public init(year: Int, month: Int, day: Int) throws(DomainError) {
    guard Self.yearRange.contains(year) else {
      throw .invalidArgument("date.invalid", messageKey: "date.invalid#year", arguments: ["\(year)"])
    }
    guard (1...12).contains(month) else {
      throw .invalidArgument("date.invalid", messageKey: "date.invalid#month", arguments: ["\(month)"])
    }
    let length = Self.daysIn(month: month, year: year)
    guard (1...length).contains(day) else {
      throw .invalidArgument(
        "date.invalid", messageKey: "date.invalid#day", arguments: ["\(day)", Self.monthNames[month - 1], "\(year)", "\(length)"])
    }
    self.year = year
    self.month = month
    self.day = day
  }

  /// For values already known to be valid (conversions, shipped data).
  init(unchecked year: Int, _ month: Int, _ day: Int) {
    self.year = year
    self.month = month
    self.day = day
  }

  /// Parses exactly "YYYY-MM-DD".
  public init(parsing text: String) throws(DomainError) {
    let bytes = Array(text.utf8)
    func number(_ range: Range<Int>) -> Int? {
      var value = 0
      for byte in bytes[range] {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
      }
      return value
    }
    guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      let year = number(0..<4), let month = number(5..<7), let day = number(8..<10)
    else {
      throw .invalidArgument("date.invalid", messageKey: "date.invalid#format", arguments: [text])
    }
    do {
      try self.init(year: year, month: month, day: day)
    } catch {
      throw .invalidArgument("date.invalid", messageKey: "date.invalid#not_valid", arguments: [text], cause: error)
    }
  }

  public init?(_ description: String) {
    guard let date = try? LocalDate(parsing: description) else { return nil }
    self = date
  }

  /// Days since 1970-01-01 (negative before).
  public init(dayNumber: Int) {
    let z = dayNumber + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    self.init(unchecked: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  /// Days since 1970-01-01 (negative before).
  public var dayNumber: Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  public var weekday: Weekday { Weekday(dayNumber: dayNumber) }

  public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

  public static func isLeapYear(_ year: Int) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  static let monthNames = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ]

  public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
    (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
  }

  public var description: String {
    func pad(_ value: Int, _ width: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
      self = try LocalDate(parsing: text)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// ISO weekday: Monday is 1, Sunday is 7.
public enum Weekday: Int, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
  case monday = 1
  case tuesday, wednesday, thursday, friday, saturday, sunday

  init(dayNumber: Int) {
    // 1970-01-01 was a Thursday.
    let index = ((dayNumber % 7) + 7 + 3) % 7
    self = Weekday.allCases[index]
  }

  public var isWeekend: Bool { self == .saturday || self == .sunday }

  public var description: String {
    switch self {
    case .monday: "Monday"
    case .tuesday: "Tuesday"
    case .wednesday: "Wednesday"
    case .thursday: "Thursday"
    case .friday: "Friday"
    case .saturday: "Saturday"
    case .sunday: "Sunday"
    }
  }
}
