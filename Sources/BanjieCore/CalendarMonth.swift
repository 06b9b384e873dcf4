/// One day in a month view.
public struct CalendarDay: Sendable, Hashable, Codable {
  public let date: LocalDate
  public let kind: DayKind
  public var isWorkingDay: Bool { kind.isWorkingDay }
}

/// A month of the calendar with each day's kind.
public struct CalendarMonth: Sendable, Hashable, Codable {
  public let year: Int
  public let month: Int
  /// True when the year has no imported notice: its holidays are the statutory ones only
  /// (`StatutoryHoliday`), with no make-up working day.
  public let isProvisional: Bool
  public let days: [CalendarDay]

  public var workingDayCount: Int { days.count { $0.isWorkingDay } }
}
