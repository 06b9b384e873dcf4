import Foundation
import Testing

@testable import BanjieCore

/// 年度目标与预警 (docs/DOMAIN.md §26): time progress on the working-day calendar, targets set
/// against it, and what a target may be.
@Suite("Annual targets and time progress")
struct AnnualTargetTests {
  /// Working days of a shipped year counted straight from the State Council's notice: Monday to
  /// Friday, less the holidays on weekdays, plus the make-up Saturdays and Sundays.
  static func officialWorkingDays(_ data: CalendarYearData, through last: LocalDate? = nil) -> Int {
    let first = LocalDate(unchecked: data.year, 1, 1).dayNumber
    let end = min(LocalDate(unchecked: data.year, 12, 31).dayNumber, last?.dayNumber ?? .max)
    guard first <= end else { return 0 }
    let holidays = Set(data.holidays.map(\.dayNumber))
    let makeUp = Set(data.makeUpWorkdays.map(\.dayNumber))
    return (first...end).filter { n in
      makeUp.contains(n) || (!LocalDate(dayNumber: n).weekday.isWeekend && !holidays.contains(n))
    }.count
  }

  @Test("the year's working days and the share elapsed equal a count from the notice, for 2024–2026", arguments: [2024, 2025, 2026])
  func progressOfShippedYears(_ year: Int) throws {
    let data = try #require(CalendarYearData.shipped.first { $0.year == year })
    let total = Self.officialWorkingDays(data)
    // Dates in the middle of a holiday, on a make-up day and at the ends of the year.
    for (month, day) in [(1, 1), (2, 17), (5, 5), (9, 28), (10, 8), (10, 11), (12, 31)] {
      let today = LocalDate(unchecked: year, month, day)
      let progress = TimeProgress.of(year: year, today: today, calendar: .standard)
      #expect(progress.workingDays == total, "\(year)")
      #expect(progress.elapsedWorkingDays == Self.officialWorkingDays(data, through: today), "\(today)")
    }
    #expect(TimeProgress.of(year: year, today: LocalDate(unchecked: year, 12, 31), calendar: .standard).share == 1)
    #expect(TimeProgress.of(year: year, today: LocalDate(unchecked: year - 1, 12, 31), calendar: .standard).share == 0)
    #expect(TimeProgress.of(year: year, today: LocalDate(unchecked: year + 3, 6, 1), calendar: .standard).share == 1)
  }

  @Test("2026 in figures: 248 working days; the National Day week does not advance the progress, its make-up Saturday does")
  func progress2026() {
    let calendar = WorkingCalendar.standard
    #expect(TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 12, 31), calendar: calendar).workingDays == 248)
    let before = TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 9, 30), calendar: calendar).elapsedWorkingDays
    // 1–7 October 2026: 1–2 and 5–7 October are holidays, 3–4 a weekend.
    #expect(TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 10, 7), calendar: calendar).elapsedWorkingDays == before)
    #expect(TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 10, 8), calendar: calendar).elapsedWorkingDays == before + 1)
    // Saturday 10 October is a make-up working day.
    let friday = TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 10, 9), calendar: calendar).elapsedWorkingDays
    #expect(TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 10, 10), calendar: calendar).elapsedWorkingDays == friday + 1)
    #expect(TimeProgress.of(year: 2026, today: LocalDate(unchecked: 2026, 10, 11), calendar: calendar).elapsedWorkingDays == friday + 1)
  }

  @Test("a provisional year's progress rests on the statutory holidays: 1 January and the Spring Festival of 2027 do not count")
  func provisionalYear() {
    let calendar = WorkingCalendar.standard
    let newYear = TimeProgress.of(year: 2027, today: LocalDate(unchecked: 2027, 1, 1), calendar: calendar)
    #expect(newYear.elapsedWorkingDays == 0)
    #expect(newYear.workingDays > 240 && newYear.workingDays < 255)
  }

  func progress(_ share: Double) -> TimeProgress { TimeProgress(year: 2026, elapsedWorkingDays: Int(share * 1000), workingDays: 1000) }

  @Test("a rate or a score is held to its target all year: green at or above, yellow within the band, red below")
  func levels() {
    let half = self.progress(0.5)
    func colour(_ measure: TargetMeasure, _ target: Double, _ actual: Double?) -> SLAColour? {
      AnnualTargetRules.evaluate(measure: measure, target: target, actual: actual, progress: half).colour
    }
    #expect(colour(.onTimeRate, 98, 98) == .green)
    #expect(colour(.onTimeRate, 98, 99.5) == .green)
    #expect(colour(.onTimeRate, 98, 93) == .yellow)
    #expect(colour(.onTimeRate, 98, 92.99) == .red)
    #expect(colour(.onTimeRate, 98, nil) == nil)
    #expect(colour(.reviewScore, 4.5, 4.25) == .yellow)
    #expect(colour(.reviewScore, 4.5, 4.2) == .red)
    #expect(AnnualTargetRules.evaluate(measure: .goodRatingShare, target: 90, actual: 80, progress: half).expected == 90)
  }

  @Test("visit coverage grows through the year: expected target × time progress, yellow within a tenth of it")
  func cumulative() {
    let evaluation = AnnualTargetRules.evaluate(measure: .visitCoverage, target: 100, actual: 45, progress: self.progress(0.5))
    #expect(evaluation.expected == 50)
    #expect(evaluation.colour == .yellow)
    #expect(AnnualTargetRules.evaluate(measure: .visitCoverage, target: 100, actual: 44.9, progress: self.progress(0.5)).colour == .red)
    #expect(AnnualTargetRules.evaluate(measure: .visitCoverage, target: 100, actual: 50, progress: self.progress(0.5)).colour == .green)
    // At the start of the year nothing is expected yet.
    #expect(AnnualTargetRules.evaluate(measure: .visitCoverage, target: 100, actual: 0, progress: self.progress(0)).colour == .green)
  }

  @Test("what a target may be: a percentage above 0 and at most 100, a score of 1–5, a known measure, a year of 2000–2100")
  func checks() throws {
    #expect(try AnnualTargetRules.checkTarget(100, measure: .onTimeRate) == 100)
    #expect(try AnnualTargetRules.checkTarget(4.5, measure: .reviewScore) == 4.5)
    for (value, measure) in [
      (100.5, TargetMeasure.onTimeRate), (0, .oneDayRate), (-3, .visitCoverage), (5.5, .reviewScore), (0.5, .reviewScore),
      (.nan, .onTimeRate), (.infinity, .goodRatingShare),
    ] {
      #expect(throws: DomainError.self, "\(value) \(measure)") { try AnnualTargetRules.checkTarget(value, measure: measure) }
      do {
        _ = try AnnualTargetRules.checkTarget(value, measure: measure)
      } catch {
        #expect(error.field == "target" && error.kind == .invalidArgument)
      }
    }
    #expect(try TargetMeasure.parse("ON-TIME_RATE") == .onTimeRate)
    #expect(try TargetMeasure.parse(" 千企评议得分 ") == .reviewScore)
    do {
      _ = try TargetMeasure.parse("speed")
      Issue.record("an unknown measure was taken")
    } catch {
      #expect(error.field == "measure")
    }
    do {
      try AnnualTargetRules.checkYear(1999)
      Issue.record("1999 was taken")
    } catch {
      #expect(error.field == "year")
    }
  }
}
