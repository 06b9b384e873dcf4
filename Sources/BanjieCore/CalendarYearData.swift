import Foundation

/// One year's State Council holiday notice: the weekday holidays and the weekend make-up
/// working days. Everything else follows the plain Monday–Friday rule. An import is also checked
/// for plausibility (`implausibilities()`, docs/DOMAIN.md §4) before it is stored.
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

  /// Dates known to be valid and in the year (a provisional year's statutory holidays).
  init(unchecked year: Int, holidays: [LocalDate], makeUpWorkdays: [LocalDate]) {
    self.year = year
    self.holidays = holidays.sorted()
    self.makeUpWorkdays = makeUpWorkdays.sorted()
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
      throw .invalidArgument("calendar.import.malformed")
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
      throw .invalidArgument("calendar.import.invalid_year", arguments: ["\(year)"], field: "year")
    }
    var seenHolidays = Set<LocalDate>()
    for (index, date) in holidays.enumerated() {
      let field = "holidays[\(index)]"
      try requireInYear(date, year, field: field)
      guard seenHolidays.insert(date).inserted else {
        throw .invalidArgument("calendar.import.duplicate_date", arguments: ["\(date)", "holidays"], field: field)
      }
    }
    var seenWorkdays = Set<LocalDate>()
    for (index, date) in makeUpWorkdays.enumerated() {
      let field = "workdays[\(index)]"
      try requireInYear(date, year, field: field)
      guard seenWorkdays.insert(date).inserted else {
        throw .invalidArgument("calendar.import.duplicate_date", arguments: ["\(date)", "workdays"], field: field)
      }
      guard date.weekday.isWeekend else {
        throw .invalidArgument("calendar.import.workday_not_weekend", arguments: ["\(date)", "\(date.weekday)"], field: field)
      }
      guard !seenHolidays.contains(date) else {
        throw .invalidArgument("calendar.import.date_in_both_lists", arguments: ["\(date)"], field: field)
      }
    }
  }

  private static func requireInYear(_ date: LocalDate, _ year: Int, field: String) throws(DomainError) {
    guard date.year == year else {
      throw .invalidArgument("calendar.import.date_outside_year", arguments: ["\(date)", "\(year)"], field: field)
    }
  }

  // MARK: Plausibility

  /// How many holidays a notice lists. At least 11: the statutory days before 2025 (since then
  /// 13, each a weekday off or given one in its place, so a notice of weekday holidays lists 13 or
  /// more). At most 40: the breaks of recent notices come to about 33 days, weekends included.
  public static let plausibleHolidayCount = 11...40
  /// At most this many make-up working days: recent notices have had 5 to 8.
  public static let maximumMakeUpWorkdays = 12

  /// What makes this data unlike a State Council notice (docs/DOMAIN.md §4), each naming its
  /// field: a statutory holiday (`StatutoryHoliday`, for its years) that the data makes a working
  /// day — a weekday not listed in `holidays`, or a weekend day listed in `workdays` — and a number
  /// of holidays or make-up working days out of the plausible range. Empty when it looks right.
  public func implausibilities() -> [DomainError] {
    var problems: [DomainError] = []
    // Outside StatutoryHoliday.years only the counts are checked.
    if let statutory = try? StatutoryHoliday.days(in: year) {
      let holidays = Set(self.holidays)
      let workdays = Set(self.makeUpWorkdays)
      var seen = Set<LocalDate>()
      for day in statutory where seen.insert(day.date).inserted {
        let arguments = [day.date.description, day.festival.rawValue]
        if workdays.contains(day.date) {
          problems.append(
            DomainError(
              kind: .failedPrecondition, code: "calendar.import.implausible", messageKey: "calendar.import.implausible#statutory_workday",
              arguments: arguments, field: "workdays"))
        } else if !day.date.weekday.isWeekend && !holidays.contains(day.date) {
          problems.append(
            DomainError(
              kind: .failedPrecondition, code: "calendar.import.implausible", messageKey: "calendar.import.implausible#statutory_missing",
              arguments: arguments, field: "holidays"))
        }
      }
    }
    if !Self.plausibleHolidayCount.contains(holidays.count) {
      problems.append(
        DomainError(
          kind: .failedPrecondition, code: "calendar.import.implausible", messageKey: "calendar.import.implausible#holiday_count",
          arguments: ["\(holidays.count)", "\(Self.plausibleHolidayCount.lowerBound)", "\(Self.plausibleHolidayCount.upperBound)"],
          field: "holidays"))
    }
    if makeUpWorkdays.count > Self.maximumMakeUpWorkdays {
      problems.append(
        DomainError(
          kind: .failedPrecondition, code: "calendar.import.implausible", messageKey: "calendar.import.implausible#workday_count",
          arguments: ["\(makeUpWorkdays.count)", "\(Self.maximumMakeUpWorkdays)"], field: "workdays"))
    }
    return problems
  }

  /// Refuses data with `implausibilities()` (FAILED_PRECONDITION on the first one's field), listing
  /// every one; an office that has checked the notice imports it anyway with force and a reason.
  public func checkPlausible() throws(DomainError) {
    let problems = implausibilities()
    guard let first = problems.first else { return }
    throw DomainError(
      kind: .failedPrecondition, code: "calendar.import.implausible", arguments: ["\(year)"], reasons: problems, field: first.field)
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
      throw DomainError.invalidArgument("calendar.import.unknown_field", arguments: [unknown], field: unknown)
    }
    for key in [Key.year, .holidays, .workdays] where !container.contains(key) {
      throw DomainError.invalidArgument("calendar.import.missing_field", arguments: [key.stringValue], field: key.stringValue)
    }
    // Read as a number first: Foundation reports 2027.5 for an Int as "not valid JSON".
    let number = try container.decode(Double.self, forKey: .year)
    guard number.rounded() == number, abs(number) < 1e9 else {
      throw DomainError.invalidArgument("calendar.import.wrong_type", arguments: ["year"], field: "year")
    }
    let year = Int(number)
    func dates(_ key: Key) throws -> [LocalDate] {
      var dates: [LocalDate] = []
      for (index, text) in try container.decode([String].self, forKey: key).enumerated() {
        do {
          dates.append(try LocalDate(parsing: text))
        } catch {
          throw error.at(field: "\(key.stringValue)[\(index)]")
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
        return .invalidArgument("calendar.import.malformed", messageKey: "calendar.import.malformed#not_object")
      }
      let messageKey: String
      if field == "year" {
        messageKey = "calendar.import.wrong_type"
      } else if field.contains("[") {
        messageKey = "calendar.import.wrong_type#date"
      } else {
        messageKey = "calendar.import.wrong_type#dates"
      }
      return .invalidArgument("calendar.import.wrong_type", messageKey: messageKey, arguments: [field], field: field)
    case .dataCorrupted(let context):
      if let field = path(context.codingPath) {
        return .invalidArgument(
          "calendar.import.wrong_type", messageKey: "calendar.import.wrong_type#unreadable", arguments: [field], field: field)
      }
      return .invalidArgument("calendar.import.malformed", messageKey: "calendar.import.malformed#not_json")
    case .keyNotFound(let key, _):
      return .invalidArgument("calendar.import.missing_field", arguments: [key.stringValue], field: key.stringValue)
    @unknown default:
      return .invalidArgument("calendar.import.malformed")
    }
  }
}
