import Foundation
import Testing

@testable import BanjieCore

@Suite("Calendar import")
struct CalendarImportTests {
  /// The 2027 notice as the office might type it (dates invented for the test).
  static let document = #"""
    {"year": 2027,
     "holidays": ["2027-01-01", "2027-10-01", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07", "2027-10-02"],
     "workdays": ["2027-09-26", "2027-10-09"]}
    """#

  @Test("a valid document imports, and deadlines are recomputed from it")
  func importsYear() throws {
    let data = try CalendarYearData(json: Data(Self.document.utf8))
    #expect(data.year == 2027)
    #expect(data.holidays.first == day("2027-01-01"))
    #expect(data.holidays.count == 7)
    #expect(data.makeUpWorkdays == [day("2027-09-26"), day("2027-10-09")])

    let start = at("2027-09-30 10:00")
    // Provisional: statutory 1 October (Friday) skipped.
    #expect(try calendar.due(after: start, workingDays: 1) == at("2027-10-04 17:00"))
    #expect(calendar.isProvisional(year: 2027))
    let updated = calendar.installing(data)
    #expect(!updated.isProvisional(year: 2027))
    #expect(updated.installedYears == [2024, 2025, 2026, 2027])
    #expect(try updated.due(after: start, workingDays: 1) == at("2027-10-08 17:00"))
    #expect(updated.kind(of: day("2027-10-02")) == .holiday, "a weekend holiday may be listed")
    #expect(updated.kind(of: day("2027-10-09")) == .makeUpWorkday)
    #expect(updated.data(forYear: 2027) == data)
  }

  @Test("installing again replaces a year")
  func replacesYear() throws {
    var updated = calendar
    updated.install(try CalendarYearData(year: 2026, holidays: [], makeUpWorkdays: []))
    #expect(updated.kind(of: day("2026-02-16")) == .workday)
    #expect(updated.kind(of: day("2026-02-14")) == .weekend)
    #expect(calendar.kind(of: day("2026-02-16")) == .holiday, "values do not share state")
  }

  @Test("the JSON form round-trips")
  func roundTrip() throws {
    for shipped in CalendarYearData.shipped {
      let json = shipped.jsonData()
      #expect(try CalendarYearData(json: json) == shipped)
    }
    let json = String(decoding: CalendarYearData.shipped[2].jsonData(), as: UTF8.self)
    #expect(json.hasPrefix(#"{"holidays":["2026-01-01","2026-01-02","2026-02-16""#))
    #expect(
      json.contains(#""workdays":["2026-01-04","2026-02-14","2026-02-28","2026-05-09","2026-09-20","2026-10-10"]"#))
    #expect(json.hasSuffix(#""year":2026}"#))
  }

  struct Rejection: Sendable, CustomTestStringConvertible {
    let json: String
    let code: String
    let field: String?
    let message: String
    var testDescription: String { code + " " + (field ?? "-") }
  }

  static let rejections: [Rejection] = [
    .init(
      json: "not json", code: "calendar.import.malformed", field: nil,
      message: "the calendar document is not valid JSON"),
    .init(
      json: "[]", code: "calendar.import.malformed", field: nil, message: "the calendar document must be a JSON object"),
    .init(
      json: #"{"year":2027,"holidays":[]}"#, code: "calendar.import.missing_field", field: "workdays",
      message: #"the field "workdays" is missing"#),
    .init(
      json: #"{"holidays":[],"workdays":[]}"#, code: "calendar.import.missing_field", field: "year",
      message: #"the field "year" is missing"#),
    .init(
      json: #"{"year":2027,"holidays":[],"workday":[]}"#, code: "calendar.import.unknown_field", field: "workday",
      message: #"unknown field "workday"; a calendar document has only year, holidays and workdays"#),
    .init(
      json: #"{"year":"2027","holidays":[],"workdays":[]}"#, code: "calendar.import.wrong_type", field: "year",
      message: "year must be a whole number"),
    .init(
      json: #"{"year":2027.5,"holidays":[],"workdays":[]}"#, code: "calendar.import.wrong_type", field: "year",
      message: "year must be a whole number"),
    .init(
      json: #"{"year":2027,"holidays":"2027-01-01","workdays":[]}"#, code: "calendar.import.wrong_type",
      field: "holidays", message: "holidays must be a list of date strings"),
    .init(
      json: #"{"year":2027,"holidays":[20270101],"workdays":[]}"#, code: "calendar.import.wrong_type",
      field: "holidays[0]", message: "holidays[0] must be a date string"),
    .init(
      json: #"{"year":2027,"holidays":["2027-01-01","2027-1-2"],"workdays":[]}"#, code: "date.invalid",
      field: "holidays[1]", message: #""2027-1-2" is not a date; write dates as YYYY-MM-DD"#),
    .init(
      json: #"{"year":2027,"holidays":[],"workdays":["2027-02-30"]}"#, code: "date.invalid", field: "workdays[0]",
      message: #""2027-02-30" is not a valid date: day 30 is out of range: February 2027 has 28 days"#),
    .init(
      json: #"{"year":0,"holidays":[],"workdays":[]}"#, code: "calendar.import.invalid_year", field: "year",
      message: "year 0 is out of range (1–9999)"),
    .init(
      json: #"{"year":2027,"holidays":["2026-12-31"],"workdays":[]}"#, code: "calendar.import.date_outside_year",
      field: "holidays[0]", message: "2026-12-31 is not in 2027; list only dates of that year"),
    .init(
      json: #"{"year":2027,"holidays":[],"workdays":["2027-02-07","2028-01-01"]}"#,
      code: "calendar.import.date_outside_year", field: "workdays[1]",
      message: "2028-01-01 is not in 2027; list only dates of that year"),
    .init(
      json: #"{"year":2027,"holidays":[],"workdays":["2027-02-08"]}"#, code: "calendar.import.workday_not_weekend",
      field: "workdays[0]",
      message: "2027-02-08 is a Monday; make-up working days must fall on a Saturday or Sunday"),
    .init(
      json: #"{"year":2027,"holidays":["2027-02-07"],"workdays":["2027-02-06","2027-02-07"]}"#,
      code: "calendar.import.date_in_both_lists", field: "workdays[1]",
      message: "2027-02-07 is listed both as a holiday and as a make-up working day"),
    .init(
      json: #"{"year":2027,"holidays":["2027-01-01","2027-10-01","2027-01-01"],"workdays":[]}"#,
      code: "calendar.import.duplicate_date", field: "holidays[2]", message: "2027-01-01 is listed twice in holidays"),
    .init(
      json: #"{"year":2027,"holidays":[],"workdays":["2027-02-06","2027-02-06"]}"#,
      code: "calendar.import.duplicate_date", field: "workdays[1]", message: "2027-02-06 is listed twice in workdays"),
  ]

  @Test("invalid documents are refused with the field named", arguments: rejections)
  func rejects(_ row: Rejection) {
    let error = #expect(throws: DomainError.self) { try CalendarYearData(json: Data(row.json.utf8)) }
    #expect(error?.kind == .invalidArgument)
    #expect(error?.code == row.code)
    #expect(error?.field == row.field)
    #expect(error?.message == row.message)
  }

  @Test("empty lists are a valid year (plain weekdays, but no longer provisional)")
  func emptyLists() throws {
    let data = try CalendarYearData(json: Data(#"{"year":2028,"holidays":[],"workdays":[]}"#.utf8))
    #expect(!calendar.installing(data).isProvisional(year: 2028))
    // Valid, but not plausible: the import refuses it unless forced.
    #expect(data.implausibilities().map(\.messageKey).contains("calendar.import.implausible#holiday_count"))
  }

  // MARK: Plausibility (docs/DOMAIN.md §4)

  /// A plausible 2027 notice: the statutory weekdays, bridge days and make-up weekends (invented).
  static let plausible2027 = #"""
    {"year": 2027,
     "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12",
                  "2027-04-05", "2027-05-03", "2027-05-04", "2027-05-05", "2027-06-09", "2027-09-15", "2027-10-01",
                  "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07"],
     "workdays": ["2027-02-20", "2027-04-24", "2027-09-26", "2027-10-09"]}
    """#

  @Test("the shipped notices and a plausible one pass the checks")
  func plausible() throws {
    for shipped in CalendarYearData.shipped {
      #expect(shipped.implausibilities() == [], "\(shipped.year)")
      try shipped.checkPlausible()
    }
    let data = try CalendarYearData(json: Data(Self.plausible2027.utf8))
    #expect(data.implausibilities() == [])
    // A statutory day on a weekend need not be listed (6 and 7 February, 1 and 2 May, 2 and 3 October 2027).
    #expect(!data.holidays.contains(day("2027-02-06")))
  }

  @Test("a notice that makes a statutory holiday a working day is refused, every problem listed")
  func statutoryDayWorked() throws {
    let data = try CalendarYearData(json: Data(Self.document.utf8))
    let problems = data.implausibilities()
    // The 7-holiday test document lacks Spring Festival, Qingming, Dragon Boat and Mid-Autumn, and is too short.
    #expect(
      problems.map(\.message) == [
        "2027-02-05 (Spring Festival) is a statutory holiday but is not listed in holidays",
        "2027-02-08 (Spring Festival) is a statutory holiday but is not listed in holidays",
        "2027-04-05 (Qingming) is a statutory holiday but is not listed in holidays",
        "2027-06-09 (Dragon Boat Festival) is a statutory holiday but is not listed in holidays",
        "2027-09-15 (Mid-Autumn Festival) is a statutory holiday but is not listed in holidays",
        "holidays lists 7 days, where a notice lists 11 to 40",
      ])
    #expect(problems.allSatisfy { $0.kind == .failedPrecondition && $0.code == "calendar.import.implausible" })
    let error = #expect(throws: DomainError.self) { try data.checkPlausible() }
    #expect(error?.kind == .failedPrecondition)
    #expect(error?.code == "calendar.import.implausible")
    #expect(error?.field == "holidays")
    #expect(error?.reasons == problems)
    let english = error?.message ?? ""
    #expect(english.hasPrefix("the 2027 calendar does not look like the State Council's notice: 2027-02-05 (Spring Festival)"))
    #expect(english.contains("; holidays lists 7 days, where a notice lists 11 to 40. Correct the document"))
    #expect(
      error?.localizedMessage(.zh).hasPrefix(
        "2027 年日历数据与国务院办公厅放假安排通知不符：2027-02-05（春节）是法定节假日，但未列入 holidays（节假日）；2027-02-08（春节）") == true)
    #expect(error?.localizedMessage(.zh).contains("2027-09-15（中秋节）") == true)

    // A statutory weekend day listed as a make-up working day.
    let worked = try CalendarYearData(
      json: Data(Self.plausible2027.replacingOccurrences(of: #""2027-02-20""#, with: #""2027-02-06""#).utf8))
    #expect(worked.implausibilities().map(\.message) == ["2027-02-06 (Spring Festival) is a statutory holiday but is listed in workdays"])
    #expect(worked.implausibilities().first?.field == "workdays")
    #expect(worked.implausibilities().first?.localizedMessage(.zh) == "2027-02-06（春节）是法定节假日，却列入了 workdays（调休上班日）")
  }

  @Test("implausible counts are refused")
  func implausibleCounts() throws {
    // 49 holidays: the first 41 days of 2027 and the statutory days after them.
    let later = try StatutoryHoliday.days(in: 2027).map(\.date).filter { $0 > day("2027-02-10") }
    let firstDays = (0..<41).map { day("2027-01-01").adding(days: $0) }
    let many = try CalendarYearData(year: 2027, holidays: firstDays + later, makeUpWorkdays: [])
    #expect(many.implausibilities().map(\.message) == ["holidays lists 49 days, where a notice lists 11 to 40"])
    #expect(many.implausibilities().first?.field == "holidays")
    // 13 make-up working days: every Sunday from 4 July to 26 September 2027.
    let sundays = (0..<13).map { day("2027-07-04").adding(days: 7 * $0) }
    let plausible = try CalendarYearData(json: Data(Self.plausible2027.utf8))
    let busy = try CalendarYearData(year: 2027, holidays: plausible.holidays, makeUpWorkdays: sundays)
    #expect(busy.implausibilities().map(\.message) == ["workdays lists 13 days, where a notice lists at most 12"])
    #expect(busy.implausibilities().first?.field == "workdays")
    // A year without computed statutory holidays is checked for its counts only.
    let year2101 = try CalendarYearData(year: 2101, holidays: (0..<11).map { day("2101-01-03").adding(days: $0) }, makeUpWorkdays: [])
    #expect(year2101.implausibilities() == [])
  }
}
