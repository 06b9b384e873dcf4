import Foundation
import Testing

@testable import BanjieCore

@Suite("SLA clock")
struct SLAClockTests {
  let clock = try! SLAClock()

  /// 10 working hours from Monday 09:00: budget 36 000 s, due Tuesday 12:00.
  var tenHours: TimedWork { TimedWork(clockStart: at("2026-03-02 09:00"), limit: .workingHours(10)) }

  @Test("docs/DOMAIN.md §6 example: due on the make-up Saturday")
  func designExample() throws {
    let status = try clock.status(
      clockStart: at("2026-02-13 10:00"), limit: .workingDays(1), now: at("2026-02-13 10:00"))
    #expect(status.originalDue == at("2026-02-14 17:00"))
    #expect(status.due == status.originalDue)
    #expect(status.budgetSeconds == 13 * 3600)  // Friday 6 h, Saturday 7 h
    #expect(status.usedSeconds == 0)
    #expect(status.colour == .green)
    #expect(!status.isProvisional)
  }

  @Test(
    "colours at 79 %, 80 % and overdue",
    arguments: [
      ("2026-03-02 09:00", 0, SLAColour.green),
      ("2026-03-03 09:54", 28_440, .green),  // 79 %
      ("2026-03-03 09:59:59", 28_799, .green),
      ("2026-03-03 10:00", 28_800, .yellow),  // 80 %
      ("2026-03-03 12:00", 36_000, .yellow),  // exactly due: not yet overdue
      ("2026-03-03 12:00:01", 36_000, .red),  // lunch: no working time used, but past the due time
      ("2026-03-03 13:30", 37_800, .red),
    ])
  func colours(_ row: (String, Int64, SLAColour)) throws {
    let status = try clock.status(of: tenHours, now: at(row.0))
    #expect(status.budgetSeconds == 36_000)
    #expect(status.due == at("2026-03-03 12:00"))
    #expect(status.usedSeconds == row.1)
    #expect(status.fractionUsed == Double(row.1) / 36_000)
    #expect(status.colour == row.2)
    #expect(status.isOverdue == (row.2 == .red))
    #expect(status.remainingSeconds == 36_000 - row.1)
    #expect(status.completedOnTime == nil && status.isOneDayCompletion == nil)
  }

  @Test("the yellow threshold is configurable")
  func threshold() throws {
    let early = try SLAClock(yellowThreshold: 0.5)
    #expect(try early.status(of: tenHours, now: at("2026-03-02 14:59:59")).colour == .green)
    #expect(try early.status(of: tenHours, now: at("2026-03-02 15:00")).colour == .yellow)
    let late = try SLAClock(yellowThreshold: 1)
    #expect(try late.status(of: tenHours, now: at("2026-03-03 11:59:59")).colour == .green)
    #expect(try late.status(of: tenHours, now: at("2026-03-03 12:00")).colour == .yellow)
    for bad in [0, -0.1, 1.01, .nan, .infinity] {
      let error = #expect(throws: DomainError.self) { try SLAClock(yellowThreshold: bad) }
      #expect(error?.code == "sla.threshold_out_of_range")
      #expect(error?.field == "yellowThreshold")
    }
    let intake = #expect(throws: DomainError.self) { try SLAClock(intakeLimitWorkingDays: 0) }
    #expect(intake?.field == "intakeLimitWorkingDays")
  }

  @Test("completion")
  func completion() throws {
    var work = tenHours
    work.completedAt = at("2026-03-03 11:00")
    let onTime = try clock.status(of: work, now: at("2026-03-10 09:00"))
    #expect(onTime.isCompleted)
    #expect(onTime.completedOnTime == true)
    #expect(onTime.usedSeconds == 32_400, "frozen at completion")
    #expect(onTime.colour == .green, "warnings are for open work")
    #expect(!onTime.isOverdue)
    #expect(onTime.isOneDayCompletion == true, "by Tuesday 17:00")

    work.completedAt = at("2026-03-03 14:00")
    let late = try clock.status(of: work, now: at("2026-03-10 09:00"))
    #expect(late.completedOnTime == false)
    #expect(!late.isOverdue)
    #expect(late.colour == .green)
    #expect(late.usedSeconds == 39_600)
    #expect(late.isOneDayCompletion == false, "late: within one working day, but after the due time")

    // Seen from before the completion, the work is still open.
    let before = try clock.status(of: work, now: at("2026-03-03 13:30"))
    #expect(!before.isCompleted)
    #expect(before.colour == .red)
  }

  @Test("one-day completion: by the close of the first working day after acceptance")
  func oneDayCompletion() throws {
    let accepted = at("2026-02-13 10:00")
    let due = at("2026-02-24 17:00")  // a limit longer than a day: only the one working day binds
    #expect(clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-02-13 16:00"), dueAt: due))
    #expect(clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-02-14 17:00"), dueAt: due))
    #expect(!clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-02-14 17:00:01"), dueAt: due))
    #expect(!clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-02-24 09:00"), dueAt: due))
    let status = try clock.status(
      clockStart: accepted, limit: .workingDays(5), completedAt: at("2026-02-14 15:00"), now: at("2026-03-01 00:00"))
    #expect(status.isOneDayCompletion == true)
    #expect(status.completedOnTime == true)
  }

  @Test("one-day completion needs an on-time completion: within one working day but after the due time is not one-day")
  func oneDayNeedsOnTime() throws {
    // 2 working hours from Monday 2026-03-02 09:00: due 11:00. Completed 13:00 the same day —
    // well within one working day (by Tuesday 17:00), but two hours late.
    let accepted = at("2026-03-02 09:00")
    let late = try clock.status(
      clockStart: accepted, limit: .workingHours(2), completedAt: at("2026-03-02 13:00"), now: at("2026-03-02 13:00"))
    #expect(late.due == at("2026-03-02 11:00"))
    #expect(late.completedOnTime == false)
    #expect(late.isOneDayCompletion == false)
    #expect(!clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-03-02 13:00"), dueAt: late.due))
    // The same case completed by its due time is a one-day completion; exactly at the due time counts.
    let onTime = try clock.status(
      clockStart: accepted, limit: .workingHours(2), completedAt: at("2026-03-02 11:00"), now: at("2026-03-02 13:00"))
    #expect(onTime.completedOnTime == true && onTime.isOneDayCompletion == true)
    #expect(clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-03-02 11:00"), dueAt: onTime.due))
    #expect(!clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-03-02 11:00:01"), dueAt: onTime.due))
    // No deadline, no on-time completion: not one-day either.
    #expect(!clock.isOneDayCompletion(acceptedAt: accepted, completedAt: at("2026-03-02 10:00"), dueAt: nil))
  }

  @Test("frozen while suspended; the deadline moves by the working time suspended")
  func suspension() throws {
    // Accepted Friday 10:00, 1 working day: due make-up Saturday 17:00, budget 13 h.
    var work = TimedWork(
      clockStart: at("2026-02-13 10:00"), limit: .workingDays(1),
      suspensions: [Suspension(start: at("2026-02-13 15:00"))])
    let saturday = try clock.status(of: work, now: at("2026-02-14 12:00"))
    let holiday = try clock.status(of: work, now: at("2026-02-20 12:00"))
    for status in [saturday, holiday] {
      #expect(status.isSuspended)
      #expect(status.usedSeconds == 4 * 3600, "Friday 10–12 and 13–15")
      #expect(status.colour == .green)
      #expect(!status.isOverdue, "past the original due time, but the clock is stopped")
      #expect(status.originalDue == at("2026-02-14 17:00"))
    }
    // While suspended, `due` is where the deadline would be on resuming now.
    #expect(saturday.suspendedSeconds == 5 * 3600)
    #expect(saturday.due == at("2026-02-24 15:00"))
    #expect(holiday.suspendedSeconds == 9 * 3600)
    #expect(holiday.due == at("2026-02-25 11:00"))

    // Resumed Tuesday 09:00 after the festival: suspended Friday 2 h + Saturday 7 h.
    work.suspensions = [Suspension(start: at("2026-02-13 15:00"), end: at("2026-02-24 09:00"))]
    let resumed = try clock.status(of: work, now: at("2026-02-24 09:00"))
    #expect(!resumed.isSuspended)
    #expect(resumed.suspendedSeconds == 9 * 3600)
    #expect(resumed.due == at("2026-02-25 11:00"))
    #expect(resumed.usedSeconds == 4 * 3600)
    // 9 h left: Tuesday 7 h, Wednesday 2 h.
    let later = try clock.status(of: work, now: at("2026-02-25 10:00"))
    #expect(later.usedSeconds == 12 * 3600)
    #expect(later.colour == .yellow)
    #expect(try clock.status(of: work, now: at("2026-02-25 11:00:01")).colour == .red)
  }

  @Test("a suspension across National Day")
  func suspensionAcrossHoliday() throws {
    // 5 working days from Monday 28 September 2026: due make-up Saturday 10 October.
    let work = TimedWork(
      clockStart: at("2026-09-28 09:00"), limit: .workingDays(5),
      suspensions: [Suspension(start: at("2026-09-30 12:00"), end: at("2026-10-09 13:00"))])
    let status = try clock.status(of: work, now: at("2026-10-09 13:00"))
    #expect(status.originalDue == at("2026-10-10 17:00"))
    #expect(status.budgetSeconds == 42 * 3600)
    // 30 Sep 12–17 (4 h), the holiday (0), 8 Oct (7 h), 9 Oct 9–13 (3 h).
    #expect(status.suspendedSeconds == 14 * 3600)
    #expect(status.usedSeconds == 17 * 3600)
    #expect(status.due == at("2026-10-13 17:00"))
    #expect(status.completedOnTime == nil)
  }

  @Test("several suspensions, given in any order")
  func severalSuspensions() throws {
    let work = TimedWork(
      clockStart: at("2026-03-02 09:00"), limit: .workingHours(10),
      suspensions: [
        Suspension(start: at("2026-03-03 09:00"), end: at("2026-03-03 10:00")),
        Suspension(start: at("2026-03-02 11:00"), end: at("2026-03-02 14:00")),
      ])
    let status = try clock.status(of: work, now: at("2026-03-04 09:00"))
    #expect(status.suspendedSeconds == 3 * 3600)
    #expect(status.due == at("2026-03-03 16:00"))
    // Monday and Tuesday, 14 h, less 3 h suspended.
    #expect(status.usedSeconds == 11 * 3600)
    #expect(status.colour == .red)
  }

  @Test("suspending overdue work does not make it timely")
  func suspendedWhileOverdue() throws {
    let work = TimedWork(
      clockStart: at("2026-03-02 09:00"), limit: .workingDays(1),
      suspensions: [Suspension(start: at("2026-03-04 10:00"), end: at("2026-03-06 10:00"))])
    let during = try clock.status(of: work, now: at("2026-03-05 10:00"))
    #expect(during.isSuspended)
    #expect(during.due == at("2026-03-03 17:00"))
    #expect(during.colour == .red)
    let after = try clock.status(of: work, now: at("2026-03-09 10:00"))
    #expect(after.due == at("2026-03-03 17:00"))
    #expect(after.isOverdue)
  }

  @Test("a provisional span is reported")
  func provisionalSpan() throws {
    let status = try clock.status(
      clockStart: at("2026-12-30 10:00"), limit: .workingDays(3), now: at("2026-12-30 10:00"))
    // 31 December, then the statutory New Year's Day of provisional 2027 skipped: 4 and 5 January.
    #expect(status.due == at("2027-01-05 17:00"))
    #expect(status.isProvisional)
  }

  @Test("inconsistent work is refused")
  func invalidWork() {
    let start = at("2026-03-02 09:00")
    func error(_ suspensions: [Suspension], completedAt: Date? = nil) -> DomainError? {
      let work = TimedWork(
        clockStart: start, limit: .workingDays(3), suspensions: suspensions, completedAt: completedAt)
      return #expect(throws: DomainError.self) { try clock.status(of: work, now: at("2026-03-10 09:00")) }
    }
    let early = error([Suspension(start: at("2026-03-01 09:00"), end: at("2026-03-02 10:00"))])
    #expect(early?.code == "sla.invalid_suspension")
    #expect(early?.field == "suspensions[0]")
    #expect(early?.message == "a suspension starts before the clock start")
    let overlapping = error([
      Suspension(start: at("2026-03-02 10:00"), end: at("2026-03-03 10:00")),
      Suspension(start: at("2026-03-03 09:00"), end: at("2026-03-03 11:00")),
    ])
    #expect(overlapping?.field == "suspensions[1]")
    #expect(overlapping?.message == "suspensions overlap; each must end before the next starts")
    let openFirst = error([Suspension(start: at("2026-03-02 10:00")), Suspension(start: at("2026-03-03 09:00"))])
    #expect(openFirst?.field == "suspensions[0]")
    #expect(openFirst?.message == "only the last suspension may still be open")
    let backwards = error([Suspension(start: at("2026-03-03 10:00"), end: at("2026-03-03 09:00"))])
    #expect(backwards?.message == "a suspension ends before it starts")
    let afterCompletion = error(
      [Suspension(start: at("2026-03-04 10:00"), end: at("2026-03-04 11:00"))], completedAt: at("2026-03-03 10:00"))
    #expect(afterCompletion?.message == "a suspension starts after completion")
    let completedEarly = error([], completedAt: at("2026-03-01 10:00"))
    #expect(completedEarly?.code == "sla.completed_before_start")
    #expect(completedEarly?.field == "completedAt")
  }

  @Test("deemed acceptance when the intake decision is late")
  func deemedAcceptance() throws {
    // Received Monday 21 September 2026; 5 working days (25 September is a holiday): Tuesday 29th 17:00.
    let received = at("2026-09-21 10:00")
    #expect(try clock.intakeDeadline(receivedAt: received) == at("2026-09-29 17:00"))
    #expect(
      try clock.deemedAcceptance(receivedAt: received, decidedAt: at("2026-09-29 16:59"), now: at("2026-10-20 09:00"))
        == nil)
    #expect(
      try clock.deemedAcceptance(receivedAt: received, decidedAt: at("2026-09-30 09:00"), now: at("2026-10-20 09:00"))
        == received)
    #expect(try clock.deemedAcceptance(receivedAt: received, decidedAt: nil, now: at("2026-09-29 17:00")) == nil)
    #expect(
      try clock.deemedAcceptance(receivedAt: received, decidedAt: nil, now: at("2026-09-29 17:00:01")) == received)
    // A decision recorded after `now` has not happened yet.
    #expect(
      try clock.deemedAcceptance(receivedAt: received, decidedAt: at("2026-09-25 10:00"), now: at("2026-09-22 10:00"))
        == nil)
    let strict = try SLAClock(intakeLimitWorkingDays: 1)
    #expect(try strict.deemedAcceptance(receivedAt: received, decidedAt: nil, now: at("2026-09-23 09:00")) == received)
  }
}
