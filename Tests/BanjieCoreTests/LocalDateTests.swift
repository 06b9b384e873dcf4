import Foundation
import Testing

@testable import BanjieCore

@Suite("Local dates and times")
struct LocalDateTests {
  @Test(
    "parses and prints YYYY-MM-DD", arguments: ["2026-02-14", "2024-02-29", "0001-01-01", "9999-12-31", "1970-01-01"])
  func roundTrip(_ text: String) throws {
    let date = try LocalDate(parsing: text)
    #expect(date.description == text)
    #expect(LocalDate(text) == date)
  }

  @Test(
    "rejects what is not a date",
    arguments: [
      ("2026-2-14", "\"2026-2-14\" is not a date; write dates as YYYY-MM-DD"),
      ("20260214", "\"20260214\" is not a date; write dates as YYYY-MM-DD"),
      ("2026-02-14 ", "\"2026-02-14 \" is not a date; write dates as YYYY-MM-DD"),
      ("abcd-ef-gh", "\"abcd-ef-gh\" is not a date; write dates as YYYY-MM-DD"),
      ("２０２６-02-14", "\"２０２６-02-14\" is not a date; write dates as YYYY-MM-DD"),
      ("", "\"\" is not a date; write dates as YYYY-MM-DD"),
      ("2026-02-29", "\"2026-02-29\" is not a valid date: day 29 is out of range: February 2026 has 28 days"),
      ("2026-04-31", "\"2026-04-31\" is not a valid date: day 31 is out of range: April 2026 has 30 days"),
      ("2026-13-01", "\"2026-13-01\" is not a valid date: month 13 is out of range (1–12)"),
      ("2026-00-10", "\"2026-00-10\" is not a valid date: month 0 is out of range (1–12)"),
      ("0000-01-01", "\"0000-01-01\" is not a valid date: year 0 is out of range (1–9999)"),
    ])
  func rejects(_ row: (String, String)) {
    let error = #expect(throws: DomainError.self) { try LocalDate(parsing: row.0) }
    #expect(error?.kind == .invalidArgument)
    #expect(error?.code == "date.invalid")
    #expect(error?.message == row.1)
    #expect(LocalDate(row.0) == nil)
  }

  @Test("weekdays")
  func weekdays() {
    #expect(day("1970-01-01").weekday == .thursday)
    #expect(day("2000-03-01").weekday == .wednesday)
    #expect(day("2026-02-14").weekday == .saturday)
    #expect(day("2024-02-04").weekday == .sunday)
    #expect(day("1969-12-31").weekday == .wednesday)
  }

  @Test("day numbers agree with Foundation's Gregorian calendar")
  func dayNumbersAgreeWithFoundation() throws {
    var gregorian = Calendar(identifier: .gregorian)
    gregorian.timeZone = try #require(TimeZone(secondsFromGMT: 0))
    // Every 17th day from 1900 to 2100, both directions of the conversion.
    for dayNumber in stride(from: -25_567, through: 47_482, by: 17) {
      let date = LocalDate(dayNumber: dayNumber)
      let components = gregorian.dateComponents(
        [.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: Double(dayNumber) * 86_400))
      #expect(date.year == components.year && date.month == components.month && date.day == components.day)
      #expect(date.dayNumber == dayNumber)
      // Foundation: Sunday is 1; ISO: Monday is 1.
      #expect(date.weekday.rawValue == (components.weekday! + 5) % 7 + 1)
    }
  }

  @Test("ordering, adding days, leap years")
  func ordering() {
    #expect(day("2026-02-14") < day("2026-02-15"))
    #expect(day("2025-12-31") < day("2026-01-01"))
    #expect(day("2024-02-28").adding(days: 1) == day("2024-02-29"))
    #expect(day("2025-02-28").adding(days: 1) == day("2025-03-01"))
    #expect(day("2026-01-01").adding(days: -1) == day("2025-12-31"))
    #expect(LocalDate.isLeapYear(2000) && !LocalDate.isLeapYear(1900) && LocalDate.isLeapYear(2024))
  }

  @Test("Codable as a YYYY-MM-DD string")
  func codable() throws {
    let data = try JSONEncoder().encode([day("2026-02-14")])
    #expect(String(decoding: data, as: UTF8.self) == #"["2026-02-14"]"#)
    #expect(try JSONDecoder().decode([LocalDate].self, from: data) == [day("2026-02-14")])
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode([LocalDate].self, from: Data(#"["2026-02-30"]"#.utf8))
    }
  }

  @Test("times of day")
  func timesOfDay() throws {
    #expect(try TimeOfDay(parsing: "09:00").secondOfDay == 32_400)
    #expect(try TimeOfDay(parsing: "17:30:15").description == "17:30:15")
    #expect(try TimeOfDay(parsing: "24:00").secondOfDay == 86_400)
    for bad in ["24:01", "9:00", "12:60", "noon", "12-00", ""] {
      let error = #expect(throws: DomainError.self) { try TimeOfDay(parsing: bad) }
      #expect(error?.code == "time.invalid")
    }
  }

  @Test("instants convert to Asia/Shanghai local time as Foundation's time zone database does")
  func conversionsAgreeWithTimeZoneDatabase() throws {
    var shanghai = Calendar(identifier: .gregorian)
    shanghai.timeZone = try #require(TimeZone(identifier: "Asia/Shanghai"))
    // From 1992 (China's last daylight saving time was 1991) to 2100, about every 9 hours 13 minutes.
    let first = shanghai.date(from: DateComponents(year: 1992, month: 1, day: 1))!.timeIntervalSince1970
    let last = shanghai.date(from: DateComponents(year: 2100, month: 1, day: 1))!.timeIntervalSince1970
    for seconds in stride(from: first, to: last, by: 33_180) {
      let instant = Date(timeIntervalSince1970: seconds)
      let c = shanghai.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
      let local = calendar.localDateTime(of: instant)
      #expect(
        local.date.year == c.year && local.date.month == c.month && local.date.day == c.day
          && local.time.hour == c.hour && local.time.minute == c.minute && local.time.second == c.second)
      #expect(calendar.date(of: local) == instant)
    }
  }

  @Test("conversions floor to the second and handle instants before 1970")
  func conversionEdges() throws {
    let instant = at("2026-02-13 10:00:00").addingTimeInterval(0.75)
    #expect(calendar.localDateTime(of: instant).description == "2026-02-13 10:00")
    #expect(calendar.localDateTime(of: Date(timeIntervalSince1970: -1)).description == "1970-01-01 07:59:59")
    #expect(calendar.localDate(of: Date(timeIntervalSince1970: -28_801)) == day("1969-12-31"))
    #expect(calendar.localDate(of: at("2026-02-14 00:00")) == day("2026-02-14"))
    #expect(calendar.localDate(of: at("2026-02-13 23:59:59")) == day("2026-02-13"))
    #expect(calendar.date(day("2026-02-14"), at: try TimeOfDay(hour: 17)) == at("2026-02-14 17:00"))
    #expect(calendar.closeOfOfficeHours(on: day("2026-02-14")) == at("2026-02-14 17:00"))
    #expect(WorkingCalendar.timeZone.identifier == "Asia/Shanghai")
  }
}
