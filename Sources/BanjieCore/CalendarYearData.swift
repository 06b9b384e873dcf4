import Foundation

/// One year's State Council holiday notice: the weekday holidays and the weekend make-up
/// working days. Everything else follows the plain Monday–Friday rule.
///
/// Its JSON form is what the office imports:
/// `{"year":2027,"holidays":["2027-01-01",...],"workdays":["2027-02-07",...]}`.
public struct CalendarYearData: Sendable, Hashable, Codable {
  public let year: Int
  /// Days off, sorted. Weekend days may be listed (notices sometimes do); they change nothing.
  public let holidays: [LocalDate]
  /// Weekend days that are working days (调休), sorted. JSON key: `workdays`.
  public let makeUpWorkdays: [LocalDate]

  /// Validates as an import does; errors name the offending field (`holidays[2]`, ...).
  public init(year: Int, holidays: [LocalDate], makeUpWorkdays: [LocalDate]) throws(DomainError) {
    try Self.validate(year: year, holidays: holidays, makeUpWorkdays: makeUpWorkdays)
    self.year = year
    self.holidays = holidays.sorted()
    self.makeUpWorkdays = makeUpWorkdays.sorted()
  }

  /// For the data shipped in source: (month, [days]) pairs; tests prove it valid.
  init(shippedYear year: Int, holidays: [(Int, [Int])], makeUpWorkdays: [(Int, [Int])]) {
    func expand(_ list: [(Int, [Int])]) -> [LocalDate] {
      list.flatMap { month, days in days.map { LocalDate(unchecked: year, month, $0) } }.sorted()
    }
    self.year = year
    self.holidays = expand(holidays)
    self.makeUpWorkdays = expand(makeUpWorkdays)
  }

  /// Imports the office's JSON document, with errors a clerk can fix.
  public init(json: Data) throws(DomainError) {
    do {
      self = try JSONDecoder().decode(CalendarYearData.self, from: json)
    } catch let error as DomainError {
      throw error
    } catch let error as DecodingError {
      throw Self.importError(error)
    } catch {
      throw .invalidArgument("calendar.import.malformed", "the calendar document could not be read")
    }
  }

  /// The JSON document, dates sorted, keys in a stable order.
  public func jsonData() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding plain strings and integers cannot fail.
    return (try? encoder.encode(self)) ?? Data()
  }

  // MARK: Validation

  static func validate(year: Int, holidays: [LocalDate], makeUpWorkdays: [LocalDate]) throws(DomainError) {
    guard LocalDate.yearRange.contains(year) else {
      throw .invalidArgument("calendar.import.invalid_year", "year \(year) is out of range (1–9999)", field: "year")
    }
    var seenHolidays = Set<LocalDate>()
    for (index, date) in holidays.enumerated() {
      let field = "holidays[\(index)]"
      try requireInYear(date, year, field: field)
      guard seenHolidays.insert(date).inserted else {
        throw .invalidArgument("calendar.import.duplicate_date", "\(date) is listed twice in holidays", field: field)
      }
    }
    var seenWorkdays = Set<LocalDate>()
    for (index, date) in makeUpWorkdays.enumerated() {
      let field = "workdays[\(index)]"
      try requireInYear(date, year, field: field)
      guard seenWorkdays.insert(date).inserted else {
        throw .invalidArgument("calendar.import.duplicate_date", "\(date) is listed twice in workdays", field: field)
      }
      guard date.weekday.isWeekend else {
        throw .invalidArgument(
          "calendar.import.workday_not_weekend",
          "\(date) is a \(date.weekday); make-up working days must fall on a Saturday or Sunday", field: field)
      }
      guard !seenHolidays.contains(date) else {
        throw .invalidArgument(
          "calendar.import.date_in_both_lists",
          "\(date) is listed both as a holiday and as a make-up working day", field: field)
      }
    }
  }

  private static func requireInYear(_ date: LocalDate, _ year: Int, field: String) throws(DomainError) {
    guard date.year == year else {
      throw .invalidArgument(
        "calendar.import.date_outside_year", "\(date) is not in \(year); list only dates of that year", field: field)
    }
  }

  // MARK: Codable

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    static let year = Key("year")
    static let holidays = Key("holidays")
    static let workdays = Key("workdays")
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: Key.self)
    // A misspelt key ("workday") would otherwise silently drop a whole list.
    let known: Set<String> = ["year", "holidays", "workdays"]
    if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
      throw DomainError.invalidArgument(
        "calendar.import.unknown_field",
        "unknown field \"\(unknown)\"; a calendar document has only year, holidays and workdays", field: unknown)
    }
    for key in [Key.year, .holidays, .workdays] where !container.contains(key) {
      throw DomainError.invalidArgument(
        "calendar.import.missing_field", "the field \"\(key.stringValue)\" is missing", field: key.stringValue)
    }
    // Read as a number first: Foundation reports 2027.5 for an Int as "not valid JSON".
    let number = try container.decode(Double.self, forKey: .year)
    guard number.rounded() == number, abs(number) < 1e9 else {
      throw DomainError.invalidArgument("calendar.import.wrong_type", "year must be a whole number", field: "year")
    }
    let year = Int(number)
    func dates(_ key: Key) throws -> [LocalDate] {
      var dates: [LocalDate] = []
      for (index, text) in try container.decode([String].self, forKey: key).enumerated() {
        do {
          dates.append(try LocalDate(parsing: text))
        } catch {
          throw DomainError.invalidArgument(error.code, error.message, field: "\(key.stringValue)[\(index)]")
        }
      }
      return dates
    }
    try self.init(year: year, holidays: dates(.holidays), makeUpWorkdays: dates(.workdays))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: Key.self)
    try container.encode(year, forKey: .year)
    try container.encode(holidays, forKey: .holidays)
    try container.encode(makeUpWorkdays, forKey: .workdays)
  }

  private static func importError(_ error: DecodingError) -> DomainError {
    func path(_ codingPath: [any CodingKey]) -> String? {
      var text = ""
      for key in codingPath {
        if let index = key.intValue {
          text += "[\(index)]"
        } else {
          text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
      }
      return text.isEmpty ? nil : text
    }
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      guard let field = path(context.codingPath) else {
        return .invalidArgument("calendar.import.malformed", "the calendar document must be a JSON object")
      }
      let expected =
        field == "year" ? "a whole number" : field.contains("[") ? "a date string" : "a list of date strings"
      return .invalidArgument("calendar.import.wrong_type", "\(field) must be \(expected)", field: field)
    case .dataCorrupted(let context):
      if let field = path(context.codingPath) {
        return .invalidArgument("calendar.import.wrong_type", "\(field) has an unreadable value", field: field)
      }
      return .invalidArgument("calendar.import.malformed", "the calendar document is not valid JSON")
    case .keyNotFound(let key, _):
      return .invalidArgument(
        "calendar.import.missing_field", "the field \"\(key.stringValue)\" is missing", field: key.stringValue)
    @unknown default:
      return .invalidArgument("calendar.import.malformed", "the calendar document could not be read")
    }
  }
}
