import Foundation

/// A statutory public holiday of 《全国年节及纪念日放假办法》 as the State Council amended it in
/// 2024 (in force from 1 January 2025): a day all citizens have off. A provisional year — one whose
/// State Council notice has not been imported — counts these as its holidays (docs/DOMAIN.md §3).
///
/// Article 2 gives 13 days a year:
///
/// | festival | days | dates |
/// |---|---|---|
/// | New Year's Day (元旦) | 1 | 1 January |
/// | Spring Festival (春节) | 4 | lunar New Year's Eve (除夕) and lunar 1/1 to 1/3 |
/// | Qingming (清明节) | 1 | the day of the Qingming solar term |
/// | Labour Day (劳动节) | 2 | 1 and 2 May |
/// | Dragon Boat Festival (端午节) | 1 | lunar 5/5 |
/// | Mid-Autumn Festival (中秋节) | 1 | lunar 8/15 |
/// | National Day (国庆节) | 3 | 1 to 3 October |
///
/// In some years Mid-Autumn falls on 1, 2 or 3 October (2028, 2031, 2039, …): both festivals are
/// listed and the year has 12 distinct statutory days. Nothing else is computed: the weekday in
/// place of a statutory day that falls on a weekend (补假), the bridge days and the make-up working
/// days (调休) are what each year's notice decides.
///
/// **Lunar dates** come from Foundation's Chinese calendar (`Calendar(identifier: .chinese)`, ICU
/// underneath) in Asia/Shanghai: the first day of the Gregorian year with that lunar month and day
/// in a month that is not a leap month (a leap month follows the month it repeats). 除夕 is the day
/// before 正月初一, so a 12th month of 29 or 30 days, or a leap 12th month, needs no rule of its
/// own. ICU versions have disagreed about new moons a few minutes from midnight — ICU 78 puts the
/// New Years of 2027 and 2030 a day off, where the ICU 76 of Swift 6.3 on Linux gets them right —
/// so `StatutoryHolidayTests` pins every lunar date of `years`, each checked against three
/// independent tables of the Chinese calendar: a toolchain that disagrees fails there instead of
/// moving a holiday.
///
/// **The Qingming solar term** is the day (Beijing time) the Sun's apparent ecliptic longitude
/// reaches 15°, by the common solar-term formula for 2001–2100 (see `qingming(year:)`).
public struct StatutoryHoliday: Sendable, Hashable, CustomStringConvertible {
  /// The festivals of Article 2 that give all citizens days off.
  public enum Festival: String, Sendable, Hashable, CaseIterable, Codable {
    case newYear
    case springFestival
    case qingming
    case labourDay
    case dragonBoat
    case midAutumn
    case nationalDay
  }

  public let date: LocalDate
  public let festival: Festival

  public var description: String { "\(self.date) \(self.festival.rawValue)" }

  /// The years whose statutory holidays are computed: the amended 办法 is in force from 2025, and
  /// the Qingming formula holds through 2100. Any other year needs its notice imported.
  public static let years = 2025...2100

  /// Statutory days a year, counting a day twice when two festivals share it.
  public static let daysPerYear = 13

  /// The statutory holidays of `year`, ordered by date (two festivals on one day come in the order
  /// of `Festival`). Refused outside `years`, rather than guessed.
  public static func days(in year: Int) throws(DomainError) -> [StatutoryHoliday] {
    guard Self.years.contains(year), let qingming = Self.qingming(year: year), let lunar = Self.lunarDates(in: year) else {
      throw Self.unknownYear(year)
    }
    var days = [StatutoryHoliday(date: LocalDate(unchecked: year, 1, 1), festival: .newYear)]
    days += (-1...2).map { StatutoryHoliday(date: lunar.newYear.adding(days: $0), festival: .springFestival) }
    days.append(StatutoryHoliday(date: qingming, festival: .qingming))
    days += [1, 2].map { StatutoryHoliday(date: LocalDate(unchecked: year, 5, $0), festival: .labourDay) }
    days.append(StatutoryHoliday(date: lunar.dragonBoat, festival: .dragonBoat))
    days.append(StatutoryHoliday(date: lunar.midAutumn, festival: .midAutumn))
    days += [1, 2, 3].map { StatutoryHoliday(date: LocalDate(unchecked: year, 10, $0), festival: .nationalDay) }
    func rank(_ festival: Festival) -> Int { Festival.allCases.firstIndex(of: festival) ?? 0 }
    return days.sorted { ($0.date, rank($0.festival)) < ($1.date, rank($1.festival)) }
  }

  /// The refusal for a year the calendar cannot know: no notice imported and outside `years`.
  static func unknownYear(_ year: Int) -> DomainError {
    .failedPrecondition(
      "calendar.year_not_computable", arguments: ["\(year)", "\(Self.years.lowerBound)", "\(Self.years.upperBound)"], field: "year")
  }

  /// The day of the Qingming solar term in `year`, Beijing time; nil outside 2001–2100.
  ///
  /// The common solar-term formula of the 21st century, in whole numbers:
  ///
  ///     day of April = ⌊Y × 0.2422 + 4.81⌋ − (⌊Y / 4⌋ − ⌊Y / 100⌋),  Y = year − 2000
  ///
  /// 0.2422 day is how far the tropical year runs past 365 days, 4.81 is Qingming's constant for
  /// 2001–2100, and the last term counts the Gregorian leap days since 2000 up to April (2100 is
  /// not a leap year). Checked for every year of 2001–2100 against the instant the Sun's apparent
  /// longitude reaches 15° (VSOP87 positions, Beijing time) and against two published solar-term
  /// tables: no exception. The closest calls are 2071 (the term at 00:02 on 5 April) and 2038
  /// (00:13 on 5 April); `StatutoryHolidayTests` pins every year.
  static func qingming(year: Int) -> LocalDate? {
    guard (2001...2100).contains(year) else { return nil }
    let y = year - 2000
    let day = (y * 2422 + 48_100) / 10_000 - (y / 4 - y / 100)
    return LocalDate(unchecked: year, 4, day)
  }

  /// 正月初一, 五月初五 and 八月十五 of the lunar year that begins in `year`, as Gregorian dates;
  /// nil if the Chinese calendar does not find them all (it always does where it works).
  static func lunarDates(in year: Int) -> (newYear: LocalDate, dragonBoat: LocalDate, midAutumn: LocalDate)? {
    var chinese = Calendar(identifier: .chinese)
    chinese.timeZone = WorkingCalendar.timeZone
    // Lunar month × 100 + day.
    let wanted: Set<Int> = [101, 505, 815]
    var found: [Int: LocalDate] = [:]
    var date = LocalDate(unchecked: year, 1, 1)
    while date.year == year, found.count < wanted.count {
      // Noon of the day in Asia/Shanghai, far from either midnight.
      let noon = Date(timeIntervalSince1970: TimeInterval(date.dayNumber * 86_400 + 12 * 3600 - WorkingCalendar.utcOffsetSeconds))
      let lunar = chinese.dateComponents([.month, .day], from: noon)
      if lunar.isLeapMonth != true, let month = lunar.month, let day = lunar.day {
        let key = month * 100 + day
        if wanted.contains(key), found[key] == nil { found[key] = date }
      }
      date = date.adding(days: 1)
    }
    guard let newYear = found[101], let dragonBoat = found[505], let midAutumn = found[815] else { return nil }
    return (newYear, dragonBoat, midAutumn)
  }
}
