import Foundation

/// Computes deadlines, budgets and warning colours of timed work at a given instant.
///
/// It never reads a clock: `now` is always an argument, so a test crosses a deadline by
/// passing a later value.
public struct SLAClock: Sendable, Equatable {
  public let calendar: WorkingCalendar
  /// Share of the budget at which work turns yellow, in (0, 1].
  public let yellowThreshold: Double
  /// Working days after receipt within which the intake decision is due.
  public let intakeLimitWorkingDays: Int

  public init(
    calendar: WorkingCalendar = .standard, yellowThreshold: Double = 0.8, intakeLimitWorkingDays: Int = 5
  ) throws(DomainError) {
    guard yellowThreshold.isFinite, yellowThreshold > 0, yellowThreshold <= 1 else {
      throw .invalidArgument("sla.threshold_out_of_range", arguments: ["\(yellowThreshold)"], field: "yellowThreshold")
    }
    try WorkingCalendar.checkLimit(intakeLimitWorkingDays, unit: "working days", field: "intakeLimitWorkingDays")
    self.calendar = calendar
    self.yellowThreshold = yellowThreshold
    self.intakeLimitWorkingDays = intakeLimitWorkingDays
  }

  public func due(of limit: WorkingLimit, after start: Date) throws(DomainError) -> Date {
    switch limit {
    case .workingDays(let n): try calendar.due(after: start, workingDays: n)
    case .workingHours(let h): try calendar.due(after: start, workingHours: h)
    }
  }

  public func status(of work: TimedWork, now: Date) throws(DomainError) -> SLAStatus {
    let suspensions = try Self.validated(work)
    let originalDue = try due(of: work.limit, after: work.clockStart)
    let budget = calendar.workingSeconds(from: work.clockStart, to: originalDue)
    // Seen from `now`: a completion or suspension later than `now` has not happened yet.
    let completedAt = work.completedAt.flatMap { $0 <= now ? $0 : nil }
    let end = max(work.clockStart, completedAt ?? now)

    var due = originalDue
    var suspended: Int64 = 0
    var isSuspended = false
    for suspension in suspensions where suspension.start < end {
      let resumed = min(suspension.end ?? end, end)
      if suspension.end.map({ $0 > end }) ?? true { isSuspended = completedAt == nil }
      let spent = calendar.workingSeconds(from: suspension.start, to: resumed)
      suspended += spent
      // Suspending work that is already overdue does not make it timely again.
      if suspension.start < due {
        due = try calendar.adding(workingSeconds: spent, to: due)
      }
    }
    let used = calendar.workingSeconds(from: work.clockStart, to: end) - suspended
    let fraction = Double(used) / Double(budget)
    let isOverdue = completedAt == nil && now > due
    let colour: SLAColour =
      if isOverdue {
        .red
      } else if completedAt == nil && fraction >= yellowThreshold {
        .yellow
      } else {
        .green
      }
    let oneDayDue = try calendar.due(after: work.clockStart, workingDays: 1)
    return SLAStatus(
      originalDue: originalDue,
      due: due,
      budgetSeconds: budget,
      usedSeconds: used,
      suspendedSeconds: suspended,
      fractionUsed: fraction,
      colour: colour,
      isSuspended: isSuspended,
      isCompleted: completedAt != nil,
      isOverdue: isOverdue,
      completedOnTime: completedAt.map { $0 <= due },
      isOneDayCompletion: completedAt.map { Self.isOneDay(completedAt: $0, oneDayDue: oneDayDue, due: due) },
      isProvisional: calendar.isProvisional(from: work.clockStart, through: due)
    )
  }

  public func status(
    clockStart: Date, limit: WorkingLimit, suspensions: [Suspension] = [], completedAt: Date? = nil, now: Date
  ) throws(DomainError) -> SLAStatus {
    try status(
      of: TimedWork(clockStart: clockStart, limit: limit, suspensions: suspensions, completedAt: completedAt),
      now: now)
  }

  /// The next instant `status` (computed at `now`) changes colour if nothing else happens: when
  /// the used share reaches the yellow threshold (green work), or just past the deadline (yellow
  /// work); nil for work that is red, completed or suspended, whose colour no longer moves by
  /// itself.
  public func nextColourChange(of status: SLAStatus, now: Date) throws(DomainError) -> Date? {
    guard !status.isCompleted, !status.isSuspended else { return nil }
    switch status.colour {
    case .red:
      return nil
    case .yellow:
      return status.due.addingTimeInterval(0.001)
    case .green:
      let threshold = Int64((self.yellowThreshold * Double(status.budgetSeconds)).rounded(.up))
      let remaining = max(0, threshold - status.usedSeconds)
      return min(try calendar.adding(workingSeconds: remaining, to: now), status.due.addingTimeInterval(0.001))
    }
  }

  /// 一日办结 (docs/DOMAIN.md §8): completed **on time** — by `dueAt`, the deadline with
  /// suspensions counted — **and** by the close of office hours on the first working day after
  /// the acceptance day. Work without a deadline is not on time, so not one-day either.
  public func isOneDayCompletion(acceptedAt: Date, completedAt: Date, dueAt: Date?) -> Bool {
    // One working day is always within the limit range.
    guard let dueAt, let oneDayDue = try? calendar.due(after: acceptedAt, workingDays: 1) else { return false }
    return Self.isOneDay(completedAt: completedAt, oneDayDue: oneDayDue, due: dueAt)
  }

  /// The one rule behind both `isOneDayCompletion` and `SLAStatus.isOneDayCompletion`: a late
  /// completion is never a one-day completion, however soon after acceptance it came.
  static func isOneDay(completedAt: Date, oneDayDue: Date, due: Date) -> Bool {
    completedAt <= due && completedAt <= oneDayDue
  }

  // MARK: Intake

  /// When the intake decision (accept, supplement notice or refusal) is due for work received at `receivedAt`.
  public func intakeDeadline(receivedAt: Date) throws(DomainError) -> Date {
    try calendar.due(after: receivedAt, workingDays: intakeLimitWorkingDays)
  }

  /// The acceptance time the law imposes when the intake decision came late or not at all:
  /// the case counts as accepted at receipt. Nil while the decision is still in time, or was.
  public func deemedAcceptance(receivedAt: Date, decidedAt: Date?, now: Date) throws(DomainError) -> Date? {
    let deadline = try intakeDeadline(receivedAt: receivedAt)
    let decisionOrNow = decidedAt.flatMap { $0 <= now ? $0 : nil } ?? now
    return decisionOrNow > deadline ? receivedAt : nil
  }

  // MARK: Validation

  static func validated(_ work: TimedWork) throws(DomainError) -> [Suspension] {
    if let completedAt = work.completedAt, completedAt < work.clockStart {
      throw .invalidArgument("sla.completed_before_start", field: "completedAt")
    }
    let ordered = work.suspensions.enumerated().sorted { $0.element.start < $1.element.start }
    var previousEnd = work.clockStart
    for (position, (index, suspension)) in ordered.enumerated() {
      let field = "suspensions[\(index)]"
      guard suspension.start >= previousEnd else {
        throw .invalidArgument(
          "sla.invalid_suspension",
          messageKey: position == 0 ? "sla.invalid_suspension#before_start" : "sla.invalid_suspension#overlap", field: field)
      }
      if let completedAt = work.completedAt, suspension.start > completedAt {
        throw .invalidArgument("sla.invalid_suspension", messageKey: "sla.invalid_suspension#after_completion", field: field)
      }
      guard let end = suspension.end else {
        guard position == ordered.count - 1 else {
          throw .invalidArgument("sla.invalid_suspension", messageKey: "sla.invalid_suspension#open", field: field)
        }
        continue
      }
      guard end >= suspension.start else {
        throw .invalidArgument("sla.invalid_suspension", messageKey: "sla.invalid_suspension#reversed", field: field)
      }
      previousEnd = end
    }
    return ordered.map(\.element)
  }
}
