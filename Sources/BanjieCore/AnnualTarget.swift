import Foundation

/// 年度目标与预警 (docs/DOMAIN.md §26): the office sets yearly targets per department, the
/// dashboard sets each against the share of the year elapsed in working days (时间进度), and the
/// sweeper warns when a department falls behind, "对照年度目标和时间进度…建立预警机制"
/// (汶政发〔2022〕1号 §五).
public enum TargetMeasure: String, Sendable, Hashable, CaseIterable, Codable {
  /// 按时办结率: completed cases finished by their deadline, of the completed (percent).
  case onTimeRate = "on_time_rate"
  /// 一日办结率 (percent of the completed).
  case oneDayRate = "one_day_rate"
  /// 好评率: ratings of 4–5 of the rated (percent).
  case goodRatingShare = "good_rating_share"
  /// 会签按时率: countersign answers given by their deadline, of the answers (percent).
  case countersignOnTimeRate = "countersign_on_time_rate"
  /// 诉求按时办结率: appeal resolutions by their deadline, of the resolutions (percent).
  case appealResolutionRate = "appeal_resolution_rate"
  /// 暖企走访覆盖率: of the enterprises a liaison unit looks after, those it visited this year
  /// (percent). The only measure of a liaison unit (包保单位) rather than a department.
  case visitCoverage = "visit_coverage"
  /// 千企评议得分: the mean weighted score (1–5) of the year's reviews of the department.
  case reviewScore = "review_score"

  /// How a measure is set against the year.
  public enum Kind: Sendable, Hashable {
    /// A level to hold all year (a rate or a score): the year-to-date value is compared with
    /// the target itself.
    case level
    /// A quantity that grows through the year: the year-to-date value is compared with the
    /// target times the time progress.
    case cumulative
  }

  public var kind: Kind { self == .visitCoverage ? .cumulative : .level }

  /// Whether the measure is a percentage (0–100); otherwise a score of 1–5.
  public var isPercentage: Bool { self != .reviewScore }

  /// Whether the measure's unit is a liaison unit (包保单位) instead of a department.
  public var isLiaisonMeasure: Bool { self == .visitCoverage }

  /// The values a target may take.
  public var range: ClosedRange<Double> { self.isPercentage ? 0...100 : 1...5 }

  /// How far below the expected value a unit may be and still be yellow, not red: 5 percentage
  /// points for a rate, 0.25 for a score; for a cumulative measure a tenth of the expected value.
  public func yellowBand(expected: Double) -> Double {
    switch self.kind {
    case .cumulative: expected * 0.1
    case .level: self.isPercentage ? 5 : 0.25
    }
  }

  public var chineseName: String {
    switch self {
    case .onTimeRate: "按时办结率"
    case .oneDayRate: "一日办结率"
    case .goodRatingShare: "好评率"
    case .countersignOnTimeRate: "会签按时率"
    case .appealResolutionRate: "诉求按时办结率"
    case .visitCoverage: "走访覆盖率"
    case .reviewScore: "千企评议得分"
    }
  }

  /// A measure as typed: its key or its Chinese name; INVALID_ARGUMENT naming `field` otherwise.
  public static func parse(_ text: String, field: String = "measure") throws(DomainError) -> TargetMeasure {
    let trimmed = String(text.trimmingWhitespace())
    if let measure = TargetMeasure(rawValue: trimmed.lowercased().replacingOccurrences(of: "-", with: "_")) { return measure }
    if let measure = allCases.first(where: { $0.chineseName == trimmed }) { return measure }
    throw .invalidArgument(
      "target.unknown_measure", arguments: [String(text.prefix(40)), allCases.map(\.rawValue).joined(separator: ", ")], field: field)
  }
}

/// 时间进度: the share of a year's working days that has passed.
public struct TimeProgress: Sendable, Hashable, Codable {
  public var year: Int
  /// Working days from 1 January to the day asked (inclusive), and in the whole year.
  public var elapsedWorkingDays: Int
  public var workingDays: Int
  public var share: Double { self.workingDays == 0 ? 0 : Double(self.elapsedWorkingDays) / Double(self.workingDays) }

  public init(year: Int, elapsedWorkingDays: Int, workingDays: Int) {
    self.year = year
    self.elapsedWorkingDays = elapsedWorkingDays
    self.workingDays = workingDays
  }

  /// The progress of `year` on `today` by `calendar`: nothing before the year, all of it after.
  public static func of(year: Int, today: LocalDate, calendar: WorkingCalendar) -> TimeProgress {
    let first = LocalDate(unchecked: year, 1, 1)
    let last = LocalDate(unchecked: year, 12, 31)
    var total = 0
    var elapsed = 0
    for n in first.dayNumber...last.dayNumber where calendar.isWorkingDay(LocalDate(dayNumber: n)) {
      total += 1
      if n <= today.dayNumber { elapsed += 1 }
    }
    return TimeProgress(year: year, elapsedWorkingDays: elapsed, workingDays: total)
  }
}

/// A target set against the year so far.
public struct TargetEvaluation: Sendable, Hashable, Codable {
  /// What the unit should have reached by now: the target for a level, the target times the
  /// time progress for a cumulative measure.
  public var expected: Double
  /// The year-to-date value; nil while there is nothing to measure (no completed case, no
  /// rating, no answer…).
  public var actual: Double?
  /// green: on track; yellow: behind by less than the measure's yellow band; red: further
  /// behind; nil without data (no warning).
  public var colour: SLAColour?
}

public enum AnnualTargetRules {
  /// The years a target may be set for.
  public static let years = 2000...2100

  /// A target value checked against its measure: INVALID_ARGUMENT on `target` outside the range
  /// (a rate above 100 %, a score outside 1–5) or not a number.
  public static func checkTarget(_ value: Double, measure: TargetMeasure) throws(DomainError) -> Double {
    guard value.isFinite, measure.range.contains(value), value > 0 else {
      throw .invalidArgument(
        "target.out_of_range",
        messageKey: measure.isPercentage ? "target.out_of_range#percentage" : "target.out_of_range#score",
        arguments: [Self.format(value), measure.rawValue], field: "target")
    }
    return value
  }

  public static func checkYear(_ year: Int) throws(DomainError) {
    guard Self.years.contains(year) else {
      throw .invalidArgument(
        "target.bad_year", arguments: ["\(year)", "\(Self.years.lowerBound)", "\(Self.years.upperBound)"], field: "year")
    }
  }

  /// The target set against `actual` (nil without data) at `progress`.
  public static func evaluate(measure: TargetMeasure, target: Double, actual: Double?, progress: TimeProgress) -> TargetEvaluation {
    let expected = measure.kind == .cumulative ? target * progress.share : target
    guard let actual else { return TargetEvaluation(expected: expected, actual: nil, colour: nil) }
    // Compared in a rounding-safe way: a value equal to the expected one to 1e-9 is on track.
    let colour: SLAColour
    if actual + 1e-9 >= expected {
      colour = .green
    } else if actual + 1e-9 >= expected - measure.yellowBand(expected: expected) {
      colour = .yellow
    } else {
      colour = .red
    }
    return TargetEvaluation(expected: expected, actual: actual, colour: colour)
  }

  public static func format(_ value: Double) -> String {
    value.isFinite ? String(format: "%g", value) : "\(value)"
  }
}
