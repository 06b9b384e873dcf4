/// What a calendar day is for counting working time.
public enum DayKind: String, Sendable, Hashable, CaseIterable, Codable {
  /// Monday–Friday, not a holiday.
  case workday
  /// Saturday or Sunday, not a make-up working day.
  case weekend
  /// A public holiday from the year's notice (on a weekday or, if listed, a weekend); in a
  /// provisional year, a statutory holiday (`StatutoryHoliday`), on whatever day it falls.
  case holiday
  /// A Saturday or Sunday the year's notice makes a working day (调休).
  case makeUpWorkday

  public var isWorkingDay: Bool { self == .workday || self == .makeUpWorkday }
}
