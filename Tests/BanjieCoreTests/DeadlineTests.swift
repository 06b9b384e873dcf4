import Foundation
import Testing

@testable import BanjieCore

/// One row of a deadline table: start (local), limit, expected due (local).
struct DeadlineCase: CustomTestStringConvertible, Sendable {
  let note: String
  let start: String
  let limit: Int
  let due: String
  var testDescription: String { "\(note): \(start) + \(limit) → \(due)" }

  init(_ note: String, _ start: String, _ limit: Int, _ due: String) {
    self.note = note
    self.start = start
    self.limit = limit
    self.due = due
  }
}

@Suite("Deadlines")
struct DeadlineTests {
  static let workingDayCases: [DeadlineCase] = [
    // docs/DOMAIN.md §6 examples.
    .init("DOMAIN §6: Friday before Spring Festival, due on make-up Saturday", "2026-02-13 10:00", 1, "2026-02-14 17:00"),
    .init("DOMAIN §6: Thursday before Mid-Autumn holiday", "2026-09-24 10:00", 1, "2026-09-28 17:00"),
    // Make-up working days.
    .init("make-up Saturday 2026-02-28", "2026-02-27 09:30", 1, "2026-02-28 17:00"),
    .init("make-up Sunday 2024-02-04", "2024-02-02 15:00", 1, "2024-02-04 17:00"),
    .init("make-up Sunday 2026-01-04 after New Year", "2025-12-31 10:00", 1, "2026-01-04 17:00"),
    .init("make-up Sunday 2024-09-29 from the Saturday before", "2024-09-28 10:00", 1, "2024-09-29 17:00"),
    .init("make-up Saturday 2026-10-10 after National Day", "2026-09-30 10:00", 3, "2026-10-10 17:00"),
    // Spring Festival spans.
    .init("2024 Spring Festival: eve to make-up Sunday", "2024-02-09 10:00", 1, "2024-02-18 17:00"),
    .init("2024 Spring Festival: 3 days", "2024-02-09 10:00", 3, "2024-02-20 17:00"),
    .init("2025 Spring Festival: Monday before", "2025-01-27 16:00", 1, "2025-02-05 17:00"),
    .init("2025 Spring Festival: weekend start, make-up Sunday", "2025-01-25 10:00", 1, "2025-01-26 17:00"),
    .init("2025 Spring Festival: 3 days from make-up Sunday", "2025-01-26 09:00", 3, "2025-02-06 17:00"),
    .init("2026 Spring Festival: from make-up Saturday", "2026-02-14 11:00", 1, "2026-02-24 17:00"),
    .init("2026 Spring Festival: 5 days", "2026-02-13 10:00", 5, "2026-02-27 17:00"),
    .init("2026 Spring Festival: 6 days ends on make-up Saturday", "2026-02-13 10:00", 6, "2026-02-28 17:00"),
    // National Day spans.
    .init("2024 National Day", "2024-09-30 10:00", 1, "2024-10-08 17:00"),
    .init("2025 National Day and Mid-Autumn", "2025-09-30 14:00", 1, "2025-10-09 17:00"),
    .init("2026 National Day", "2026-09-30 10:00", 1, "2026-10-08 17:00"),
    .init("2026 National Day, 2 days", "2026-09-30 10:00", 2, "2026-10-09 17:00"),
    // Acceptance on a holiday, a weekend, outside office hours.
    .init("accepted on a holiday", "2026-02-18 10:00", 1, "2026-02-24 17:00"),
    .init("accepted on National Day", "2024-10-01 09:00", 1, "2024-10-08 17:00"),
    .init("accepted on a Sunday", "2026-03-01 15:00", 1, "2026-03-02 17:00"),
    .init("accepted on a Saturday", "2026-03-07 10:00", 2, "2026-03-10 17:00"),
    .init("accepted after hours", "2026-03-02 18:30", 1, "2026-03-03 17:00"),
    .init("accepted before hours: the start day still does not count", "2026-03-02 07:00", 1, "2026-03-03 17:00"),
    .init("accepted at midnight", "2026-03-02 00:00", 1, "2026-03-03 17:00"),
    .init("accepted one second before midnight", "2026-03-02 23:59:59", 1, "2026-03-03 17:00"),
    .init("accepted at the close", "2026-03-02 17:00", 1, "2026-03-03 17:00"),
    .init("20 working days in a plain month", "2026-03-02 10:00", 20, "2026-03-30 17:00"),
    .init("all of 2024's 251 working days", "2023-12-31 12:00", 251, "2024-12-31 17:00"),
    // A year without a notice: the statutory holidays, no make-up working day.
    .init("provisional 2027: statutory National Day (1 October) skipped", "2027-09-30 10:00", 1, "2027-10-04 17:00"),
    .init("from 2026 into provisional 2027: New Year's Day skipped", "2026-12-31 10:00", 1, "2027-01-04 17:00"),
    .init("provisional 2027 weekend", "2027-01-08 10:00", 1, "2027-01-11 17:00"),
    .init("provisional 2027 Spring Festival: 除夕 to 正月初三 skipped", "2027-02-04 10:00", 1, "2027-02-09 17:00"),
    .init("provisional 2027 Qingming on a Monday", "2027-04-02 10:00", 1, "2027-04-06 17:00"),
  ]

  @Test("working-day limits", arguments: workingDayCases)
  func workingDays(_ row: DeadlineCase) throws {
    let due = try calendar.due(after: at(row.start), workingDays: row.limit)
    #expect(due == at(row.due), "got \(local(due))")
  }

  static let workingHourCases: [DeadlineCase] = [
    .init("within a morning", "2026-03-02 09:00", 2, "2026-03-02 11:00"),
    .init("across lunch", "2026-03-02 10:30", 2, "2026-03-02 13:30"),
    .init("starting in the lunch break", "2026-03-02 12:15", 1, "2026-03-02 14:00"),
    .init("ending exactly at lunch stays at 12:00", "2026-03-02 07:00", 3, "2026-03-02 12:00"),
    .init("whole day ends at the close", "2026-03-02 09:00", 7, "2026-03-02 17:00"),
    .init("across the evening", "2026-03-02 16:00", 2, "2026-03-03 10:00"),
    .init("starting after hours", "2026-03-02 18:00", 1, "2026-03-03 10:00"),
    .init("starting at the close", "2026-03-02 17:00", 1, "2026-03-03 10:00"),
    .init("across a weekend", "2026-03-06 16:30", 1, "2026-03-09 09:30"),
    .init("starting on a Sunday", "2026-03-08 11:00", 4, "2026-03-09 14:00"),
    .init("ending exactly at the close of a make-up Saturday", "2026-02-13 16:00", 8, "2026-02-14 17:00"),
    .init("across Spring Festival 2026", "2026-02-13 16:00", 9, "2026-02-24 10:00"),
    .init("across National Day 2026", "2026-09-30 16:00", 2, "2026-10-08 10:00"),
    .init("three full days", "2026-03-02 09:00", 21, "2026-03-04 17:00"),
  ]

  @Test("working-hour limits", arguments: workingHourCases)
  func workingHours(_ row: DeadlineCase) throws {
    let due = try calendar.due(after: at(row.start), workingHours: row.limit)
    #expect(due == at(row.due), "got \(local(due))")
  }

  @Test("limits outside 1...3650 are refused", arguments: [0, -1, 3651, Int.max, Int.min])
  func limitOutOfRange(_ n: Int) {
    let start = at("2026-03-02 10:00")
    let days = #expect(throws: DomainError.self) { try calendar.due(after: start, workingDays: n) }
    #expect(days?.kind == .invalidArgument)
    #expect(days?.code == "calendar.limit_out_of_range")
    #expect(days?.field == "workingDays")
    #expect(days?.message == "a limit of \(n) working days is out of range; use 1 to 3650")
    let hours = #expect(throws: DomainError.self) { try calendar.due(after: start, workingHours: n) }
    #expect(hours?.code == "calendar.limit_out_of_range")
    #expect(hours?.field == "workingHours")
  }

  @Test("the largest limits are computed")
  func largestLimits() throws {
    let start = at("2026-03-02 10:00")
    let days = try calendar.due(after: start, workingDays: 3650)
    #expect(calendar.workingSeconds(from: at("2026-03-03 00:00"), to: days) == 3650 * 25_200)
    let hours = try calendar.due(after: start, workingHours: 3650)
    #expect(calendar.workingSeconds(from: start, to: hours) == 3650 * 3600)
  }

  @Test("adding working seconds")
  func addingWorkingSeconds() throws {
    let start = at("2026-03-02 11:59:30")
    #expect(try calendar.adding(workingSeconds: 0, to: start) == start)
    #expect(try calendar.adding(workingSeconds: 30, to: start) == at("2026-03-02 12:00"))
    #expect(try calendar.adding(workingSeconds: 31, to: start) == at("2026-03-02 13:00:01"))
    // Zero from outside office hours stays put: nothing needs to elapse.
    #expect(try calendar.adding(workingSeconds: 0, to: at("2026-03-01 10:00")) == at("2026-03-01 10:00"))
    #expect(try calendar.adding(workingSeconds: 1, to: at("2026-03-01 10:00")) == at("2026-03-02 09:00:01"))
    let negative = #expect(throws: DomainError.self) { try calendar.adding(workingSeconds: -1, to: start) }
    #expect(negative?.code == "calendar.working_time_out_of_range")
    let tooMuch = #expect(throws: DomainError.self) {
      try calendar.adding(workingSeconds: 3650 * 25_200 + 1, to: start)
    }
    #expect(tooMuch?.field == "workingSeconds")
  }

  static let workingSecondCases: [(String, String, Int64)] = [
    ("2026-03-02 10:00", "2026-03-02 11:00", 3600),
    ("2026-03-02 11:00", "2026-03-02 14:00", 7200),
    ("2026-03-02 12:10", "2026-03-02 12:50", 0),
    ("2026-03-02 07:00", "2026-03-02 20:00", 25_200),
    ("2026-03-02 16:00", "2026-03-03 10:00", 7200),
    ("2026-03-06 16:30", "2026-03-09 09:30", 3600),
    ("2026-02-13 16:00", "2026-02-24 10:00", 9 * 3600),
    ("2026-02-16 09:00", "2026-02-20 17:00", 0),
    ("2026-09-24 10:00", "2026-09-28 17:00", 13 * 3600),
    ("2026-03-02 10:00", "2026-03-02 10:00", 0),
    ("2026-03-02 11:00", "2026-03-02 10:00", 0),
    ("2024-01-01 00:00", "2025-01-01 00:00", 251 * 25_200),
    ("2025-01-01 00:00", "2026-01-01 00:00", 248 * 25_200),
    ("2026-01-01 00:00", "2027-01-01 00:00", 248 * 25_200),
    // 2027 is provisional: its 261 weekdays less the 7 statutory holidays on weekdays.
    ("2027-01-01 00:00", "2028-01-01 00:00", 254 * 25_200),
    // 2023 (unknown: plain weekdays) and provisional 2027/2028 around three years with data.
    ("2023-12-29 16:00", "2028-01-03 10:00", 3600 + (251 + 248 + 248 + 254) * 25_200 + 3600),
  ]

  @Test("working seconds between instants", arguments: workingSecondCases)
  func workingSeconds(_ row: (String, String, Int64)) {
    #expect(calendar.workingSeconds(from: at(row.0), to: at(row.1)) == row.2)
  }

  @Test(
    "working seconds agree with a day-by-day count",
    arguments: [
      ("2023-11-15 10:17", "2027-03-09 15:42"),
      ("2024-02-01 12:30", "2024-02-29 12:30"),
      ("2025-09-20 00:00", "2025-10-20 00:00"),
    ])
  func workingSecondsAgreeWithDayByDay(_ range: (String, String)) {
    let start = at(range.0)
    let end = at(range.1)
    var total: Int64 = 0
    var cursor = start
    while cursor < end {
      let midnight = calendar.date(calendar.localDate(of: cursor).adding(days: 1), at: try! TimeOfDay(hour: 0))
      let next = min(midnight, end)
      total += calendar.workingSeconds(from: cursor, to: next)
      cursor = next
    }
    #expect(calendar.workingSeconds(from: start, to: end) == total)
  }

  @Test("due and working seconds are inverse")
  func dueAndWorkingSecondsAreInverse() throws {
    let starts = ["2026-02-13 16:00", "2026-03-02 12:15", "2026-09-30 16:00", "2024-02-09 10:00", "2026-03-08 11:00"]
    for start in starts.map(at) {
      for hours in [1, 5, 7, 8, 40, 300] {
        let due = try calendar.due(after: start, workingHours: hours)
        #expect(calendar.workingSeconds(from: start, to: due) == Int64(hours) * 3600)
        // And `due` is the earliest such instant.
        #expect(calendar.workingSeconds(from: start, to: due.addingTimeInterval(-1)) == Int64(hours) * 3600 - 1)
      }
    }
  }
}
