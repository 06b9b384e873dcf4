import Foundation
import Testing

@testable import BanjieCore

@Suite("Working calendar")
struct WorkingCalendarTests {
  /// docs/DOMAIN.md §4's table, verbatim.
  static let designTable: [(Int, String, String)] = [
    (
      2024, "01-01; 02-12..02-16; 04-04, 04-05; 05-01..05-03; 06-10; 09-16, 09-17; 10-01..10-04, 10-07",
      "02-04, 02-18, 04-07, 04-28, 05-11, 09-14, 09-29, 10-12"
    ),
    (
      2025, "01-01; 01-28..01-31, 02-03, 02-04; 04-04; 05-01, 05-02, 05-05; 06-02; 10-01..10-03, 10-06..10-08",
      "01-26, 02-08, 04-27, 09-28, 10-11"
    ),
    (
      2026, "01-01, 01-02; 02-16..02-20, 02-23; 04-06; 05-01, 05-04, 05-05; 06-19; 09-25; 10-01, 10-02, 10-05..10-07",
      "01-04, 02-14, 02-28, 05-09, 09-20, 10-10"
    ),
  ]

  static func expand(_ year: Int, _ cell: String) -> [LocalDate] {
    cell.split(whereSeparator: { $0 == ";" || $0 == "," }).flatMap { item -> [LocalDate] in
      let bounds = item.trimmingCharacters(in: .whitespaces).components(separatedBy: "..").map { day("\(year)-\($0)") }
      return (bounds[0].dayNumber...bounds[bounds.count - 1].dayNumber).map(LocalDate.init(dayNumber:))
    }
  }

  @Test("the shipped years are docs/DOMAIN.md §4's table")
  func shippedMatchesDesign() throws {
    #expect(CalendarYearData.shipped.map(\.year) == [2024, 2025, 2026])
    for (year, holidays, workdays) in Self.designTable {
      let shipped = try #require(CalendarYearData.shipped.first { $0.year == year })
      #expect(shipped.holidays == Self.expand(year, holidays))
      #expect(shipped.makeUpWorkdays == Self.expand(year, workdays))
      // The shipped source passes the import validation.
      #expect(
        try CalendarYearData(year: year, holidays: shipped.holidays, makeUpWorkdays: shipped.makeUpWorkdays)
          == shipped)
      #expect(shipped.holidays.allSatisfy { !$0.weekday.isWeekend }, "the table lists weekday holidays")
    }
    #expect(CalendarYearData.shipped.map(\.holidays.count) == [19, 18, 19])
    #expect(CalendarYearData.shipped.map(\.makeUpWorkdays.count) == [8, 5, 6])
  }

  @Test(
    "day kinds",
    arguments: [
      ("2026-02-13", DayKind.workday), ("2026-02-14", .makeUpWorkday), ("2026-02-15", .weekend),
      ("2026-02-16", .holiday), ("2026-02-23", .holiday), ("2026-02-28", .makeUpWorkday),
      ("2024-02-04", .makeUpWorkday), ("2024-02-10", .weekend), ("2024-02-12", .holiday),
      ("2025-01-26", .makeUpWorkday), ("2025-10-08", .holiday), ("2026-09-25", .holiday),
      ("2026-10-10", .makeUpWorkday), ("2023-01-02", .workday),
      // Provisional 2027: the statutory holidays (a weekend one shows as a holiday too), no make-up days.
      ("2027-10-01", .holiday), ("2027-10-02", .holiday), ("2027-10-04", .workday), ("2027-10-09", .weekend),
    ])
  func kinds(_ row: (String, DayKind)) {
    #expect(calendar.kind(of: day(row.0)) == row.1)
    #expect(calendar.isWorkingDay(day(row.0)) == row.1.isWorkingDay)
  }

  @Test("working days per shipped year")
  func workingDaysPerYear() throws {
    // Provisional 2027: 261 weekdays less 7 statutory days on weekdays.
    for (year, expected) in [(2024, 251), (2025, 248), (2026, 248), (2027, 254)] {
      let months = try (1...12).map { try calendar.month(year, $0) }
      #expect(months.reduce(0) { $0 + $1.workingDayCount } == expected, "\(year)")
    }
  }

  @Test("provisional years")
  func provisional() {
    #expect(!calendar.isProvisional(year: 2024))
    #expect(!calendar.isProvisional(year: 2026))
    #expect(calendar.isProvisional(year: 2027))
    #expect(calendar.isProvisional(year: 2023))
    #expect(calendar.knows(year: 2027) && calendar.knows(year: 2100) && calendar.knows(year: 2024))
    // Past years without a notice count Monday–Friday, as always; years after 2100 are refused.
    #expect(calendar.knows(year: 2023) && !calendar.knows(year: 2101))
    #expect(calendar.installedYears == [2024, 2025, 2026])
    #expect(!calendar.isProvisional(from: at("2024-01-01 00:00"), through: at("2026-12-31 23:59")))
    #expect(calendar.isProvisional(from: at("2026-12-31 10:00"), through: at("2027-01-01 17:00")))
  }

  @Test("month view")
  func monthView() throws {
    let february = try calendar.month(2026, 2)
    #expect(february.days.count == 28)
    #expect(!february.isProvisional)
    #expect(february.days.first?.date == day("2026-02-01"))
    #expect(february.days[13].kind == .makeUpWorkday)
    #expect(february.days[15...19].allSatisfy { $0.kind == .holiday })
    #expect(february.days[22].kind == .holiday)
    // 20 weekdays, 6 of them holidays, plus 2 make-up Saturdays.
    #expect(february.workingDayCount == 16)
    let october2027 = try calendar.month(2027, 10)
    #expect(october2027.isProvisional)
    #expect(october2027.days[0].kind == .holiday, "National Day, statutory")
    #expect(october2027.days[3].kind == .workday)
    #expect(try calendar.month(2024, 2).days.count == 29)
    let bad = #expect(throws: DomainError.self) { try calendar.month(2026, 13) }
    #expect(bad?.code == "date.invalid")
  }

  @Test("next working day")
  func nextWorkingDay() {
    #expect(calendar.nextWorkingDay(after: day("2026-02-13")) == day("2026-02-14"))
    #expect(calendar.nextWorkingDay(after: day("2026-02-14")) == day("2026-02-24"))
    #expect(calendar.nextWorkingDay(after: day("2026-09-30")) == day("2026-10-08"))
  }

  @Test("custom office hours")
  func customOfficeHours() throws {
    let summer = try WorkingCalendar(officeHours: [
      OfficePeriod(parsing: "08:30-12:00"), OfficePeriod(parsing: "14:30-18:00"),
    ])
    #expect(summer.officeSecondsPerDay == 7 * 3600)
    #expect(try summer.due(after: at("2026-02-13 10:00"), workingDays: 1) == at("2026-02-14 18:00"))
    #expect(try summer.due(after: at("2026-03-02 11:00"), workingHours: 2) == at("2026-03-02 15:30"))
    #expect(summer.workingSeconds(from: at("2026-03-02 12:00"), to: at("2026-03-02 14:30")) == 0)
    let single = try WorkingCalendar(officeHours: [OfficePeriod(parsing: "00:00-24:00")])
    #expect(try single.due(after: at("2026-03-02 11:00"), workingHours: 24) == at("2026-03-03 11:00"))
    // Touching periods are allowed; nothing overlaps.
    let touching = try WorkingCalendar(officeHours: [
      OfficePeriod(parsing: "09:00-12:00"), OfficePeriod(parsing: "12:00-13:00"),
    ])
    #expect(touching.officeSecondsPerDay == 4 * 3600)
  }

  @Test("invalid office hours are refused")
  func invalidOfficeHours() throws {
    let empty = #expect(throws: DomainError.self) { try WorkingCalendar(officeHours: []) }
    #expect(empty?.code == "calendar.invalid_office_hours")
    #expect(empty?.field == "officeHours")
    let overlapping = #expect(throws: DomainError.self) {
      try WorkingCalendar(officeHours: [OfficePeriod(parsing: "09:00-12:00"), OfficePeriod(parsing: "11:00-14:00")])
    }
    #expect(overlapping?.field == "officeHours[1]")
    #expect(overlapping?.message == "office period 11:00-14:00 must start at or after the end of 09:00-12:00")
    let unordered = #expect(throws: DomainError.self) {
      try WorkingCalendar(officeHours: [OfficePeriod(parsing: "13:00-17:00"), OfficePeriod(parsing: "09:00-12:00")])
    }
    #expect(unordered?.field == "officeHours[1]")
    let backwards = #expect(throws: DomainError.self) { try OfficePeriod(parsing: "12:00-09:00") }
    #expect(backwards?.code == "calendar.invalid_office_hours")
    let zero = #expect(throws: DomainError.self) { try OfficePeriod(parsing: "12:00-12:00") }
    #expect(zero?.message == "office period 12:00–12:00 is empty; it must end after it starts")
    let duplicate = #expect(throws: DomainError.self) {
      try WorkingCalendar(years: CalendarYearData.shipped + [CalendarYearData.shipped[0]])
    }
    #expect(duplicate?.code == "calendar.duplicate_year")
    #expect(duplicate?.field == "years[3]")
  }

  @Test("a calendar without data counts the statutory holidays only")
  func withoutData() throws {
    let plain = try WorkingCalendar(years: [])
    #expect(plain.isProvisional(year: 2026))
    // 除夕 (16 February) to 正月初三 (19 February) are statutory; no make-up Saturday 14 February.
    #expect(try plain.due(after: at("2026-02-13 10:00"), workingDays: 1) == at("2026-02-20 17:00"))
    #expect(plain.kind(of: day("2026-02-14")) == .weekend)
    #expect(plain.kind(of: day("2026-02-23")) == .workday)
    #expect(plain != calendar)
    #expect(try WorkingCalendar() == calendar)
  }
}
