/// A wall-clock time in the county's time zone, to the second; 24:00 is allowed so that
/// an office period can run to midnight.
public struct TimeOfDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// Seconds since midnight, 0...86400.
  public let secondOfDay: Int

  public init(hour: Int, minute: Int = 0, second: Int = 0) throws(DomainError) {
    let valid =
      (0...23).contains(hour) && (0...59).contains(minute) && (0...59).contains(second)
      || (hour == 24 && minute == 0 && second == 0)
    guard valid else {
      throw .invalidArgument("time.invalid", messageKey: "time.invalid#time_of_day", arguments: ["\(hour)", "\(minute)", "\(second)"])
    }
    secondOfDay = hour * 3600 + minute * 60 + second
  }

  init(unchecked secondOfDay: Int) {
    self.secondOfDay = secondOfDay
  }

  /// Parses "HH:MM" or "HH:MM:SS".
  public init(parsing text: String) throws(DomainError) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
      let hour = Int(parts[0]), let minute = Int(parts[1])
    else {
      throw .invalidArgument("time.invalid", messageKey: "time.invalid#time_format", arguments: [text])
    }
    let second = parts.count == 3 ? Int(parts[2]) ?? 0 : 0
    try self.init(hour: hour, minute: minute, second: second)
  }

  public var hour: Int { secondOfDay / 3600 }
  public var minute: Int { secondOfDay % 3600 / 60 }
  public var second: Int { secondOfDay % 60 }

  public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.secondOfDay < rhs.secondOfDay }

  public var description: String {
    func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let hm = "\(pad(hour)):\(pad(minute))"
    return second == 0 ? hm : "\(hm):\(pad(second))"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
      self = try TimeOfDay(parsing: text)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// A date and wall-clock time in the county's time zone.
public struct LocalDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var date: LocalDate
  public var time: TimeOfDay

  public init(date: LocalDate, time: TimeOfDay) {
    self.date = date
    self.time = time
  }

  public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
    (lhs.date, lhs.time) < (rhs.date, rhs.time)
  }

  public var description: String { "\(date) \(time)" }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
