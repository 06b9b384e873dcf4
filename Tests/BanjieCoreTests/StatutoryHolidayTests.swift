import Foundation
import Testing

@testable import BanjieCore

@Suite("Statutory holidays")
struct StatutoryHolidayTests {
  /// Every year `StatutoryHoliday` computes: 正月初一, 五月初五 (端午), 八月十五 (中秋) and the day of
  /// the Qingming solar term, as MM-DD. The lunar dates agree in three independent tables of the
  /// Chinese calendar; each Qingming date is the day, Beijing time, on which the Sun's apparent
  /// longitude reaches 15° by VSOP87 positions, and agrees with two published solar-term tables.
  static let table = """
      2025 01-29 05-31 10-06 04-04
      2026 02-17 06-19 09-25 04-05
      2027 02-06 06-09 09-15 04-05
      2028 01-26 05-28 10-03 04-04
      2029 02-13 06-16 09-22 04-04
      2030 02-03 06-05 09-12 04-05
      2031 01-23 06-24 10-01 04-05
      2032 02-11 06-12 09-19 04-04
      2033 01-31 06-01 09-08 04-04
      2034 02-19 06-20 09-27 04-05
      2035 02-08 06-10 09-16 04-05
      2036 01-28 05-30 10-04 04-04
      2037 02-15 06-18 09-24 04-04
      2038 02-04 06-07 09-13 04-05
      2039 01-24 05-27 10-02 04-05
      2040 02-12 06-14 09-20 04-04
      2041 02-01 06-03 09-10 04-04
      2042 01-22 06-22 09-28 04-04
      2043 02-10 06-11 09-17 04-05
      2044 01-30 05-31 10-05 04-04
      2045 02-17 06-19 09-25 04-04
      2046 02-06 06-08 09-15 04-04
      2047 01-26 05-29 10-04 04-05
      2048 02-14 06-15 09-22 04-04
      2049 02-02 06-04 09-11 04-04
      2050 01-23 06-23 09-30 04-04
      2051 02-11 06-13 09-19 04-05
      2052 02-01 06-01 09-07 04-04
      2053 02-19 06-20 09-26 04-04
      2054 02-08 06-10 09-16 04-04
      2055 01-28 05-30 10-05 04-05
      2056 02-15 06-17 09-24 04-04
      2057 02-04 06-06 09-13 04-04
      2058 01-24 06-25 10-02 04-04
      2059 02-12 06-14 09-21 04-05
      2060 02-02 06-03 09-09 04-04
      2061 01-21 06-22 09-28 04-04
      2062 02-09 06-11 09-17 04-04
      2063 01-29 06-01 10-06 04-05
      2064 02-17 06-19 09-25 04-04
      2065 02-05 06-08 09-15 04-04
      2066 01-26 05-28 10-03 04-04
      2067 02-14 06-16 09-23 04-05
      2068 02-03 06-04 09-11 04-04
      2069 01-23 06-23 09-29 04-04
      2070 02-11 06-13 09-19 04-04
      2071 01-31 06-02 09-08 04-05
      2072 02-19 06-20 09-26 04-04
      2073 02-07 06-10 09-16 04-04
      2074 01-27 05-30 10-05 04-04
      2075 02-15 06-17 09-24 04-04
      2076 02-05 06-06 09-12 04-04
      2077 01-24 06-24 10-01 04-04
      2078 02-12 06-14 09-20 04-04
      2079 02-02 06-04 09-10 04-04
      2080 01-22 06-22 09-28 04-04
      2081 02-09 06-11 09-17 04-04
      2082 01-29 06-01 10-06 04-04
      2083 02-17 06-19 09-26 04-04
      2084 02-06 06-07 09-14 04-04
      2085 01-26 05-27 10-03 04-04
      2086 02-14 06-15 09-22 04-04
      2087 02-03 06-05 09-11 04-04
      2088 01-24 06-23 09-29 04-04
      2089 02-10 06-13 09-18 04-04
      2090 01-30 06-02 09-08 04-04
      2091 02-18 06-21 09-27 04-04
      2092 02-07 06-09 09-16 04-04
      2093 01-27 05-29 10-05 04-04
      2094 02-15 06-17 09-24 04-04
      2095 02-05 06-06 09-13 04-04
      2096 01-25 06-24 09-30 04-04
      2097 02-12 06-14 09-20 04-04
      2098 02-01 06-04 09-09 04-04
      2099 01-21 06-23 09-29 04-04
      2100 02-09 06-12 09-18 04-05
    """

  struct Year: Sendable, CustomTestStringConvertible {
    let year: Int
    let newYear: LocalDate
    let dragonBoat: LocalDate
    let midAutumn: LocalDate
    let qingming: LocalDate
    var testDescription: String { "\(year)" }
  }

  static let years: [Year] = table.split(separator: "\n").map { line in
    let fields = line.split(separator: " ").map(String.init)
    let year = Int(fields[0])!
    return Year(
      year: year, newYear: day("\(year)-\(fields[1])"), dragonBoat: day("\(year)-\(fields[2])"),
      midAutumn: day("\(year)-\(fields[3])"), qingming: day("\(year)-\(fields[4])"))
  }

  /// The 13 statutory days of 2025–2035 written out, MM-DD in date order (a day twice when two
  /// festivals share it: Mid-Autumn on 3 October 2028 and on 1 October 2031).
  static let written: [(Int, String)] = [
    (2025, "01-01 01-28 01-29 01-30 01-31 04-04 05-01 05-02 05-31 10-01 10-02 10-03 10-06"),
    (2026, "01-01 02-16 02-17 02-18 02-19 04-05 05-01 05-02 06-19 09-25 10-01 10-02 10-03"),
    (2027, "01-01 02-05 02-06 02-07 02-08 04-05 05-01 05-02 06-09 09-15 10-01 10-02 10-03"),
    (2028, "01-01 01-25 01-26 01-27 01-28 04-04 05-01 05-02 05-28 10-01 10-02 10-03 10-03"),
    (2029, "01-01 02-12 02-13 02-14 02-15 04-04 05-01 05-02 06-16 09-22 10-01 10-02 10-03"),
    (2030, "01-01 02-02 02-03 02-04 02-05 04-05 05-01 05-02 06-05 09-12 10-01 10-02 10-03"),
    (2031, "01-01 01-22 01-23 01-24 01-25 04-05 05-01 05-02 06-24 10-01 10-01 10-02 10-03"),
    (2032, "01-01 02-10 02-11 02-12 02-13 04-04 05-01 05-02 06-12 09-19 10-01 10-02 10-03"),
    (2033, "01-01 01-30 01-31 02-01 02-02 04-04 05-01 05-02 06-01 09-08 10-01 10-02 10-03"),
    (2034, "01-01 02-18 02-19 02-20 02-21 04-05 05-01 05-02 06-20 09-27 10-01 10-02 10-03"),
    (2035, "01-01 02-07 02-08 02-09 02-10 04-05 05-01 05-02 06-10 09-16 10-01 10-02 10-03"),
  ]

  @Test("the table covers every computed year, 2025–2100")
  func tableCoversYears() {
    #expect(Self.years.map(\.year) == Array(StatutoryHoliday.years))
    #expect(StatutoryHoliday.years == 2025...2100)
  }

  @Test("every statutory day of every computed year", arguments: years)
  func everyYear(_ row: Year) throws {
    let y = row.year
    let days = try StatutoryHoliday.days(in: y)
    var expected = [StatutoryHoliday(date: day("\(y)-01-01"), festival: .newYear)]
    expected += (-1...2).map { StatutoryHoliday(date: row.newYear.adding(days: $0), festival: .springFestival) }
    expected.append(StatutoryHoliday(date: row.qingming, festival: .qingming))
    expected += ["05-01", "05-02"].map { StatutoryHoliday(date: day("\(y)-\($0)"), festival: .labourDay) }
    expected.append(StatutoryHoliday(date: row.dragonBoat, festival: .dragonBoat))
    expected.append(StatutoryHoliday(date: row.midAutumn, festival: .midAutumn))
    expected += ["10-01", "10-02", "10-03"].map { StatutoryHoliday(date: day("\(y)-\($0)"), festival: .nationalDay) }
    #expect(days.count == StatutoryHoliday.daysPerYear)
    #expect(Set(days) == Set(expected), "got \(days)")
    #expect(days.map(\.date) == days.map(\.date).sorted())
    #expect(StatutoryHoliday.qingming(year: y) == row.qingming)
  }

  @Test("2025–2035, every statutory day written out")
  func writtenOut() throws {
    for (year, text) in Self.written {
      let expected = text.split(separator: " ").map { day("\(year)-\($0)") }
      #expect(try StatutoryHoliday.days(in: year).map(\.date) == expected, "\(year)")
    }
  }

  @Test("known dates")
  func knownDates() throws {
    func dates(_ year: Int, _ festival: StatutoryHoliday.Festival) throws -> [LocalDate] {
      try StatutoryHoliday.days(in: year).filter { $0.festival == festival }.map(\.date)
    }
    // 2027: lunar New Year on Saturday 6 February, so 除夕 is Friday 5 February.
    #expect(try dates(2027, .springFestival) == [day("2027-02-05"), day("2027-02-06"), day("2027-02-07"), day("2027-02-08")])
    #expect(try dates(2027, .qingming) == [day("2027-04-05")])
    #expect(try dates(2027, .dragonBoat) == [day("2027-06-09")])
    #expect(try dates(2027, .midAutumn) == [day("2027-09-15")])
    #expect(try dates(2027, .labourDay) == [day("2027-05-01"), day("2027-05-02")])
    #expect(try dates(2027, .nationalDay) == [day("2027-10-01"), day("2027-10-02"), day("2027-10-03")])
    #expect(try dates(2027, .newYear) == [day("2027-01-01")])
    // Lunar New Years; the new moons of 2027 (23:56) and 2030 (00:07) are minutes from midnight.
    for (year, newYear) in [(2028, "2028-01-26"), (2029, "2029-02-13"), (2030, "2030-02-03")] {
      #expect(try dates(year, .springFestival)[1] == day(newYear), "\(year)")
    }
    // A leap 5th month (2028) and a leap 8th month (2052) repeat the month: the festival is in the first.
    #expect(try dates(2028, .dragonBoat) == [day("2028-05-28")])
    #expect(try dates(2052, .midAutumn) == [day("2052-09-07")])
    // Mid-Autumn on National Day: both festivals, 12 distinct days.
    let days2028 = try StatutoryHoliday.days(in: 2028)
    #expect(days2028.count == 13 && Set(days2028.map(\.date)).count == 12)
    #expect(try dates(2028, .midAutumn) == [day("2028-10-03")])
  }

  @Test("the Qingming formula, 2001–2100")
  func qingming() {
    // 2001–2024; 2025–2100 are in the table.
    for (offset, digit) in Array("555455544554455445544554").enumerated() {
      let year = 2001 + offset
      #expect(StatutoryHoliday.qingming(year: year) == day("\(year)-04-0\(digit)"), "\(year)")
    }
    // 2100 is not a leap year: the term falls on 5 April, where ⌊Y / 4⌋ alone would say 4.
    #expect(StatutoryHoliday.qingming(year: 2100) == day("2100-04-05"))
    #expect(StatutoryHoliday.qingming(year: 2000) == nil)
    #expect(StatutoryHoliday.qingming(year: 2101) == nil)
  }

  @Test("2025 and 2026: every statutory day is off in the State Council's notices")
  func shippedYearsAgree() throws {
    for year in [2025, 2026] {
      let shipped = try #require(CalendarYearData.shipped.first { $0.year == year })
      for statutory in try StatutoryHoliday.days(in: year) {
        #expect(!calendar.isWorkingDay(statutory.date), "\(statutory)")
        if !statutory.date.weekday.isWeekend {
          #expect(shipped.holidays.contains(statutory.date), "\(statutory)")
        }
        #expect(!shipped.makeUpWorkdays.contains(statutory.date), "\(statutory)")
      }
      #expect(shipped.implausibilities() == [], "\(year)")
    }
    // A statutory day on a weekend stays a weekend day off; the notice gave a weekday besides.
    #expect(calendar.kind(of: day("2025-05-31")) == .weekend)
    #expect(calendar.kind(of: day("2025-06-02")) == .holiday)
    #expect(calendar.kind(of: day("2026-04-05")) == .weekend)
    #expect(calendar.kind(of: day("2026-04-06")) == .holiday)
  }

  @Test("a provisional year counts its statutory holidays and no make-up working day")
  func provisionalYear() throws {
    #expect(calendar.isProvisional(year: 2027))
    #expect(calendar.knows(year: 2027))
    #expect(!calendar.isWorkingDay(day("2027-01-01")))
    #expect(calendar.kind(of: day("2027-01-01")) == .holiday)
    #expect(calendar.isWorkingDay(day("2027-01-04")))
    for text in ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-04-05", "2027-06-09", "2027-09-15", "2027-10-01"] {
      #expect(calendar.kind(of: day(text)) == .holiday, "\(text)")
    }
    #expect(calendar.kind(of: day("2027-02-09")) == .workday)
    #expect(calendar.kind(of: day("2027-10-04")) == .workday)
    let months = try (1...12).map { try calendar.month(2027, $0) }
    let provisional = months.allSatisfy(\.isProvisional)
    #expect(provisional)
    let noMakeUpDays = months.allSatisfy { $0.days.allSatisfy { $0.kind != .makeUpWorkday } }
    #expect(noMakeUpDays)
    // 261 weekdays less the 7 statutory days that fall on weekdays.
    #expect(months.reduce(0) { $0 + $1.workingDayCount } == 254)
    #expect(months[1].workingDayCount == 18)
    #expect(calendar.nextWorkingDay(after: day("2027-02-04")) == day("2027-02-09"))
  }

  @Test("deadlines across a provisional Spring Festival skip it")
  func provisionalSpringFestival() throws {
    let start = at("2027-02-04 10:00")
    #expect(try calendar.due(after: start, workingDays: 1) == at("2027-02-09 17:00"))
    #expect(try calendar.due(after: start, workingDays: 3) == at("2027-02-11 17:00"))
    #expect(try calendar.due(after: at("2027-02-04 16:00"), workingHours: 2) == at("2027-02-09 10:00"))
    #expect(calendar.workingSeconds(from: at("2027-02-04 17:00"), to: at("2027-02-09 09:00")) == 0)
    #expect(calendar.isProvisional(from: start, through: at("2027-02-09 17:00")))
    let status = try SLAClock(calendar: calendar).status(clockStart: start, limit: .workingDays(1), now: start)
    #expect(status.due == at("2027-02-09 17:00"))
    #expect(status.isProvisional)
  }

  @Test("an imported notice replaces the statutory holidays")
  func noticeReplaces() throws {
    let plain = calendar.installing(try CalendarYearData(year: 2027, holidays: [], makeUpWorkdays: []))
    #expect(plain.kind(of: day("2027-01-01")) == .workday)
    #expect(!plain.isProvisional(year: 2027))
    #expect(calendar.kind(of: day("2027-01-01")) == .holiday, "values do not share state")
  }

  @Test("years the calendar cannot know are refused, not guessed")
  func unknownYears() throws {
    for year in [2024, 2101, 1, 9999] {
      let error = #expect(throws: DomainError.self) { try StatutoryHoliday.days(in: year) }
      #expect(error?.kind == .failedPrecondition)
      #expect(error?.code == "calendar.year_not_computable")
      #expect(error?.field == "year")
    }
    let error = #expect(throws: DomainError.self) { try StatutoryHoliday.days(in: 2101) }
    #expect(
      error?.message
        == "2101 has no imported holiday notice, and statutory holidays are computed only for 2025–2100; "
        + "import the State Council's notice for 2101")
    #expect(
      error?.localizedMessage(.zh) == "2101 年尚未导入放假安排通知，而法定节假日只能推算 2025 年至 2100 年；请导入国务院办公厅 2101 年的放假安排通知")
    // 2024 is shipped; 2101 is neither shipped nor computed; a past year such as 2023 counts
    // plain Monday–Friday, as before, so open work received then keeps its clock.
    #expect(calendar.knows(year: 2024) && calendar.knows(year: 2023) && !calendar.knows(year: 2101))
    #expect(try calendar.month(2024, 2).days.count == 29)
    #expect(try calendar.month(2023, 12).workingDayCount == 21)
    let refused = #expect(throws: DomainError.self) { try calendar.month(2101, 1) }
    #expect(refused?.code == "calendar.year_not_computable")
    // A deadline that runs into 2101 is refused; one in 2023 counts Monday–Friday.
    let late = #expect(throws: DomainError.self) { try calendar.due(after: at("2100-12-30 10:00"), workingDays: 5) }
    #expect(late?.code == "calendar.year_not_computable")
    #expect(late?.arguments.first == "2101")
    #expect(try calendar.due(after: at("2100-12-28 10:00"), workingDays: 2) == at("2100-12-30 17:00"))
    #expect(try calendar.due(after: at("2023-12-31 12:00"), workingDays: 1) == at("2024-01-02 17:00"))
    #expect(try calendar.due(after: at("2023-12-29 10:00"), workingHours: 1) == at("2023-12-29 11:00"))
    #expect(try calendar.due(after: at("2023-12-27 10:00"), workingDays: 2) == at("2023-12-29 17:00"))
    // Elapsed working time cannot refuse: an unknown year counts plain Monday–Friday.
    #expect(calendar.workingSeconds(from: at("2023-12-29 16:00"), to: at("2023-12-29 17:00")) == 3600)
    // Installing the year's notice makes it known.
    let with2101 = calendar.installing(try CalendarYearData(year: 2101, holidays: [day("2101-01-03")], makeUpWorkdays: []))
    #expect(with2101.knows(year: 2101))
    #expect(try with2101.due(after: at("2100-12-30 10:00"), workingDays: 5) == at("2101-01-07 17:00"))
  }
}
