import Foundation
import Synchronization

/// Working days and office hours of the county: the ruler every limit is measured with.
///
/// Time zone Asia/Shanghai. China has had no daylight saving time since 1991, so the zone is
/// a fixed UTC+8 and every conversion is integer arithmetic. Working time is counted in whole
/// seconds (instants are floored to the second).
///
/// Precondition of every method taking a `Date`: the date is finite and within years 1–9999.
public struct WorkingCalendar: Sendable, Equatable {
  /// Kept for display (clients show "Asia/Shanghai"); arithmetic uses `utcOffsetSeconds`.
  public static let timeZoneIdentifier = "Asia/Shanghai"
  public static let utcOffsetSeconds = 8 * 3600
  /// Limits in working days or working hours must lie in this range (ten years of days).
  public static let limitRange = 1...3650

  public static var timeZone: TimeZone {
    TimeZone(identifier: timeZoneIdentifier) ?? TimeZone(secondsFromGMT: utcOffsetSeconds) ?? .gmt
  }

  public let officeHours: [OfficePeriod]
  /// Office seconds in one working day (25 200 for the default 7 hours).
  public let officeSecondsPerDay: Int
  private var tables: [Int: YearTable]

  /// The default calendar: standard office hours and the shipped years.
  public static let standard = WorkingCalendar(
    validatedOfficeHours: OfficePeriod.standardDay, years: CalendarYearData.shipped)

  /// - Parameters:
  ///   - officeHours: periods of the day, ordered, not overlapping, at least one.
  ///   - years: holiday notices; a year may appear once.
  public init(
    officeHours: [OfficePeriod] = OfficePeriod.standardDay,
    years: [CalendarYearData] = CalendarYearData.shipped
  ) throws(DomainError) {
    guard !officeHours.isEmpty else {
      throw .invalidArgument("calendar.invalid_office_hours", messageKey: "calendar.invalid_office_hours#none", field: "officeHours")
    }
    for index in officeHours.indices.dropFirst() where officeHours[index].start < officeHours[index - 1].end {
      throw .invalidArgument(
        "calendar.invalid_office_hours", messageKey: "calendar.invalid_office_hours#overlap",
        arguments: ["\(officeHours[index])", "\(officeHours[index - 1])"], field: "officeHours[\(index)]")
    }
    var seen = Set<Int>()
    for (index, data) in years.enumerated() where !seen.insert(data.year).inserted {
      throw .invalidArgument("calendar.duplicate_year", arguments: ["\(data.year)"], field: "years[\(index)]")
    }
    self.init(validatedOfficeHours: officeHours, years: years)
  }

  private init(validatedOfficeHours officeHours: [OfficePeriod], years: [CalendarYearData]) {
    self.officeHours = officeHours
    officeSecondsPerDay = officeHours.reduce(0) { $0 + $1.seconds }
    tables = Dictionary(years.map { ($0.year, YearTable($0)) }, uniquingKeysWith: { $1 })
  }

  // MARK: Year data

  /// Installs (or replaces) a year's notice. Deadlines computed before are stale: callers
  /// recompute open work, as docs/DOMAIN.md §4 requires.
  public mutating func install(_ data: CalendarYearData) {
    tables[data.year] = YearTable(data)
  }

  public func installing(_ data: CalendarYearData) -> WorkingCalendar {
    var copy = self
    copy.install(data)
    return copy
  }

  public var installedYears: [Int] { tables.keys.sorted() }

  /// The same years with other office hours (a county setting, docs/DOMAIN.md §17). Deadlines
  /// computed before are stale, as after `install`.
  public func withOfficeHours(_ officeHours: [OfficePeriod]) throws(DomainError) -> WorkingCalendar {
    var copy = try WorkingCalendar(officeHours: officeHours, years: [])
    copy.tables = self.tables
    return copy
  }

  public func data(forYear year: Int) -> CalendarYearData? { tables[year]?.data }

  /// A year without a notice is provisional: it counts the statutory holidays of
  /// `StatutoryHoliday` (2025–2100) and no make-up working day, and results that depend on it are
  /// provisional until the notice is imported.
  public func isProvisional(year: Int) -> Bool { tables[year] == nil }

  /// Whether the calendar knows a year: it has the year's notice, or it computes the year's
  /// statutory holidays. Deadlines and month views refuse a year it does not know rather than
  /// count it on plain Monday–Friday; measuring elapsed working time, which cannot refuse, counts
  /// such a year (before 2025 without a notice, or after 2100) on plain Monday–Friday.
  /// Years before the statutory range without a notice (history: cases received years ago) count
  /// plain Monday–Friday, as they always did; only years after it are refused.
  public func knows(year: Int) -> Bool {
    tables[year] != nil || StatutoryHoliday.years.contains(year) || year < StatutoryHoliday.years.lowerBound
  }

  /// Refuses a span of days (day numbers, both ends included) that touches a year the calendar
  /// does not know (`knows(year:)`): a deadline there would be a guess.
  func requireKnown(from first: Int, through last: Int) throws(DomainError) {
    guard first <= last else { return }
    for year in LocalDate(dayNumber: first).year...LocalDate(dayNumber: last).year where !knows(year: year) {
      throw StatutoryHoliday.unknownYear(year)
    }
  }

  /// Whether any local year touched by the span between two instants is provisional.
  public func isProvisional(from start: Date, through end: Date) -> Bool {
    let first = localDate(of: min(start, end)).year
    let last = localDate(of: max(start, end)).year
    return (first...last).contains { isProvisional(year: $0) }
  }

  // MARK: Days

  public func kind(of day: LocalDate) -> DayKind { kind(dayNumber: day.dayNumber) }

  public func isWorkingDay(_ day: LocalDate) -> Bool { kind(of: day).isWorkingDay }

  /// The first working day strictly after `day`.
  public func nextWorkingDay(after day: LocalDate) -> LocalDate {
    LocalDate(dayNumber: nthWorkingDay(after: day.dayNumber, 1))
  }

  /// A month with each day's kind, for the calendar view; refused for a year the calendar does
  /// not know (`knows(year:)`).
  public func month(_ year: Int, _ month: Int) throws(DomainError) -> CalendarMonth {
    let first = try LocalDate(year: year, month: month, day: 1)
    guard knows(year: year) else { throw StatutoryHoliday.unknownYear(year) }
    let start = first.dayNumber
    let days = (0..<LocalDate.daysIn(month: month, year: year)).map { offset in
      CalendarDay(date: LocalDate(unchecked: year, month, offset + 1), kind: kind(dayNumber: start + offset))
    }
    return CalendarMonth(year: year, month: month, isProvisional: isProvisional(year: year), days: days)
  }

  func kind(dayNumber: Int) -> DayKind {
    let date = LocalDate(dayNumber: dayNumber)
    if let table = yearTable(date.year) {
      return table.kinds[dayNumber - table.firstDay]
    }
    return Weekday(dayNumber: dayNumber).isWeekend ? .weekend : .workday
  }

  /// The year's notice or, for a provisional year, its statutory holidays; nil for a year the
  /// calendar does not know, which counts plain Monday–Friday where nothing can refuse.
  private func yearTable(_ year: Int) -> YearTable? {
    tables[year] ?? StatutoryTables.table(forYear: year)
  }

  /// Working days in the day-number range [from, to).
  func workingDayCount(from: Int, to: Int) -> Int {
    var count = 0
    var day = from
    while day < to {
      let year = LocalDate(dayNumber: day).year
      let end = min(to, LocalDate(unchecked: year + 1, 1, 1).dayNumber)
      if let table = yearTable(year) {
        count += table.workingBefore[end - table.firstDay] - table.workingBefore[day - table.firstDay]
      } else {
        count += Self.weekdayCount(from: day, to: end)
      }
      day = end
    }
    return count
  }

  /// The n-th working day strictly after `day` (n >= 1).
  func nthWorkingDay(after day: Int, _ n: Int) -> Int {
    var found = 0
    var candidate = day
    // Terminates: a year without a notice has weekdays (13 statutory holidays at most remove a
    // few), and a notice can only remove a year's weekdays.
    while found < n {
      candidate += 1
      if kind(dayNumber: candidate).isWorkingDay { found += 1 }
    }
    return candidate
  }

  static func weekdayCount(from: Int, to: Int) -> Int {
    guard to > from else { return 0 }
    let length = to - from
    var count = length / 7 * 5
    var weekday = Weekday(dayNumber: from).rawValue
    for _ in 0..<(length % 7) {
      if weekday <= 5 { count += 1 }
      weekday = weekday % 7 + 1
    }
    return count
  }

  // MARK: Local time

  public func localDate(of date: Date) -> LocalDate { LocalDate(dayNumber: split(date).day) }

  public func localDateTime(of date: Date) -> LocalDateTime {
    let (day, second) = split(date)
    return LocalDateTime(date: LocalDate(dayNumber: day), time: TimeOfDay(unchecked: second))
  }

  public func date(of local: LocalDateTime) -> Date {
    instant(day: local.date.dayNumber, second: local.time.secondOfDay)
  }

  public func date(_ day: LocalDate, at time: TimeOfDay) -> Date {
    instant(day: day.dayNumber, second: time.secondOfDay)
  }

  /// The end of the last office period of `day`: when a limit falling on that day ends.
  public func closeOfOfficeHours(on day: LocalDate) -> Date { instant(day: day.dayNumber, second: closingSecond) }

  var closingSecond: Int { officeHours[officeHours.count - 1].end.secondOfDay }

  /// Local day number and second of day of an instant.
  func split(_ date: Date) -> (day: Int, second: Int) {
    let local = Int(date.timeIntervalSince1970.rounded(.down)) + Self.utcOffsetSeconds
    let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
    return (day, local - day * 86_400)
  }

  func instant(day: Int, second: Int) -> Date {
    Date(timeIntervalSince1970: TimeInterval(day * 86_400 + second - Self.utcOffsetSeconds))
  }

  // MARK: Office hours within a day

  /// Office seconds of a working day that lie before `second`.
  func officeSeconds(before second: Int) -> Int {
    var total = 0
    for period in officeHours {
      let start = period.start.secondOfDay
      let end = period.end.secondOfDay
      if second <= start { break }
      total += min(second, end) - start
    }
    return total
  }

  /// The earliest second of a working day by which `worked` office seconds (1...perDay) have passed.
  func second(afterOfficeSeconds worked: Int) -> Int {
    var remaining = worked
    for period in officeHours {
      if remaining <= period.seconds { return period.start.secondOfDay + remaining }
      remaining -= period.seconds
    }
    return closingSecond
  }

  public static func == (lhs: WorkingCalendar, rhs: WorkingCalendar) -> Bool {
    lhs.officeHours == rhs.officeHours && lhs.tables.mapValues(\.data) == rhs.tables.mapValues(\.data)
  }
}

/// The tables of provisional years, their statutory holidays only: computed once per process and
/// year (the Chinese calendar is too slow to ask day by day), and never changed.
private enum StatutoryTables {
  static let cache = Mutex<[Int: YearTable]>([:])

  static func table(forYear year: Int) -> YearTable? {
    guard StatutoryHoliday.years.contains(year) else { return nil }
    if let table = cache.withLock({ $0[year] }) { return table }
    guard let days = try? StatutoryHoliday.days(in: year) else { return nil }
    let table = YearTable(CalendarYearData(unchecked: year, holidays: days.map(\.date), makeUpWorkdays: []))
    cache.withLock { $0[year] = table }
    return table
  }
}

/// A year's notice expanded into per-day kinds and a running count of working days, so
/// that counting working days over long spans costs two lookups per year.
private struct YearTable: Sendable {
  let data: CalendarYearData
  let firstDay: Int
  let kinds: [DayKind]
  /// `workingBefore[i]` is the number of working days among the year's first `i` days.
  let workingBefore: [Int]

  init(_ data: CalendarYearData) {
    self.data = data
    firstDay = LocalDate(unchecked: data.year, 1, 1).dayNumber
    let length = LocalDate.isLeapYear(data.year) ? 366 : 365
    let holidays = Set(data.holidays.map(\.dayNumber))
    let workdays = Set(data.makeUpWorkdays.map(\.dayNumber))
    var kinds: [DayKind] = []
    kinds.reserveCapacity(length)
    var workingBefore = [0]
    workingBefore.reserveCapacity(length + 1)
    for day in firstDay..<(firstDay + length) {
      let kind: DayKind =
        if holidays.contains(day) {
          .holiday
        } else if workdays.contains(day) {
          .makeUpWorkday
        } else {
          Weekday(dayNumber: day).isWeekend ? .weekend : .workday
        }
      kinds.append(kind)
      workingBefore.append(workingBefore[workingBefore.count - 1] + (kind.isWorkingDay ? 1 : 0))
    }
    self.kinds = kinds
    self.workingBefore = workingBefore
  }
}
