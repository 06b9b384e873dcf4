/// One stretch of office hours within a day, e.g. 09:00–12:00.
public struct OfficePeriod: Sendable, Hashable, Codable, CustomStringConvertible {
  public let start: TimeOfDay
  public let end: TimeOfDay

  public init(start: TimeOfDay, end: TimeOfDay) throws(DomainError) {
    guard start < end else {
      throw .invalidArgument(
        "calendar.invalid_office_hours", messageKey: "calendar.invalid_office_hours#empty", arguments: ["\(start)", "\(end)"])
    }
    self.start = start
    self.end = end
  }

  /// Parses "09:00-12:00".
  public init(parsing text: String) throws(DomainError) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 2 else {
      throw .invalidArgument("calendar.invalid_office_hours", messageKey: "calendar.invalid_office_hours#format", arguments: [text])
    }
    try self.init(start: TimeOfDay(parsing: String(parts[0])), end: TimeOfDay(parsing: String(parts[1])))
  }

  init(uncheckedStart start: Int, end: Int) {
    self.start = TimeOfDay(unchecked: start)
    self.end = TimeOfDay(unchecked: end)
  }

  public var seconds: Int { end.secondOfDay - start.secondOfDay }

  /// The default day: 09:00–12:00 and 13:00–17:00.
  public static let standardDay: [OfficePeriod] = [
    OfficePeriod(uncheckedStart: 9 * 3600, end: 12 * 3600),
    OfficePeriod(uncheckedStart: 13 * 3600, end: 17 * 3600),
  ]

  public var description: String { "\(start)-\(end)" }

  private enum CodingKeys: String, CodingKey { case start, end }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let start = try container.decode(TimeOfDay.self, forKey: .start)
    let end = try container.decode(TimeOfDay.self, forKey: .end)
    do {
      try self.init(start: start, end: end)
    } catch {
      throw DecodingError.dataCorruptedError(forKey: .end, in: container, debugDescription: error.message)
    }
  }
}
