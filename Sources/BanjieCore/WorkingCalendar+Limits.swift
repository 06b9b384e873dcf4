import Foundation

extension WorkingCalendar {
  /// When a limit of `n` working days started at `start` ends.
  ///
  /// Administrative law does not count the starting day: the limit ends at the close of office
  /// hours on the n-th working day after the day `start` falls on, whatever the time of day
  /// (also when `start` is on a holiday, a weekend or after hours). Refused when a counted day
  /// falls in a year the calendar does not know (`knows(year:)`).
  public func due(after start: Date, workingDays n: Int) throws(DomainError) -> Date {
    try Self.checkLimit(n, unit: "working days", field: "workingDays")
    let first = split(start).day
    let day = nthWorkingDay(after: first, n)
    try requireKnown(from: first + 1, through: day)
    return instant(day: day, second: closingSecond)
  }

  /// When a limit of `h` working hours started at `start` ends; hours count only inside
  /// office periods, and a start outside them begins at the next period.
  public func due(after start: Date, workingHours h: Int) throws(DomainError) -> Date {
    try Self.checkLimit(h, unit: "working hours", field: "workingHours")
    return try adding(workingSeconds: Int64(h) * 3600, to: start)
  }

  /// The earliest instant by which `workingSeconds` office seconds have passed since `start`.
  /// Zero returns `start` itself. At most the office time of 3650 working days. Refused when the
  /// days from `start` to the result touch a year the calendar does not know (`knows(year:)`).
  public func adding(workingSeconds: Int64, to start: Date) throws(DomainError) -> Date {
    let maximum = Int64(Self.limitRange.upperBound) * Int64(officeSecondsPerDay)
    guard (0...maximum).contains(workingSeconds) else {
      throw .invalidArgument("calendar.working_time_out_of_range", arguments: ["\(workingSeconds)", "\(maximum)"], field: "workingSeconds")
    }
    guard workingSeconds > 0 else { return start }
    var remaining = Int(workingSeconds)
    let (first, second) = split(start)
    if kind(dayNumber: first).isWorkingDay {
      let done = officeSeconds(before: second)
      if remaining <= officeSecondsPerDay - done {
        try requireKnown(from: first, through: first)
        return instant(day: first, second: self.second(afterOfficeSeconds: done + remaining))
      }
      remaining -= officeSecondsPerDay - done
    }
    // Skip whole working days, then place the rest in the last one.
    let wholeDays = (remaining - 1) / officeSecondsPerDay
    remaining -= wholeDays * officeSecondsPerDay
    let day = nthWorkingDay(after: first, wholeDays + 1)
    try requireKnown(from: first, through: day)
    return instant(day: day, second: self.second(afterOfficeSeconds: remaining))
  }

  /// Office seconds between two instants; 0 when `end <= start`.
  public func workingSeconds(from start: Date, to end: Date) -> Int64 {
    guard end > start else { return 0 }
    let (firstDay, firstSecond) = split(start)
    let (lastDay, lastSecond) = split(end)
    if firstDay == lastDay {
      guard kind(dayNumber: firstDay).isWorkingDay else { return 0 }
      return Int64(officeSeconds(before: lastSecond) - officeSeconds(before: firstSecond))
    }
    var total = 0
    if kind(dayNumber: firstDay).isWorkingDay {
      total += officeSecondsPerDay - officeSeconds(before: firstSecond)
    }
    total += workingDayCount(from: firstDay + 1, to: lastDay) * officeSecondsPerDay
    if kind(dayNumber: lastDay).isWorkingDay {
      total += officeSeconds(before: lastSecond)
    }
    return Int64(total)
  }

  static func checkLimit(_ value: Int, unit: String, field: String) throws(DomainError) {
    guard limitRange.contains(value) else {
      // `unit` is "working days" or "working hours"; each catalogue words it (`{1:unit}`).
      throw .invalidArgument(
        "calendar.limit_out_of_range", arguments: ["\(value)", unit, "\(limitRange.lowerBound)", "\(limitRange.upperBound)"],
        field: field)
    }
  }
}
