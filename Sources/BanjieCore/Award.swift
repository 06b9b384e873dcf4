import Foundation

/// 星级服务: a period of whole Asia/Shanghai days — a month "2026-11", a quarter "2026-Q4" or a year "2026".
public struct AwardPeriod: Sendable, Hashable, Codable, CustomStringConvertible {
  public let text: String
  public let from: LocalDate
  public let to: LocalDate

  public init(parsing raw: String) throws(DomainError) {
    let text = String(raw.trimmingWhitespace())
    func bad(_ messageKey: String) -> DomainError {
      .invalidArgument("award.bad_period", messageKey: messageKey, arguments: [String(text.prefix(20))], field: "period")
    }
    let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    guard (1...2).contains(parts.count), parts[0].count == 4, parts[0].allSatisfy(\.isASCII), let year = Int(parts[0]),
      (2000...2100).contains(year)
    else {
      throw bad("award.bad_period#year")
    }
    if parts.count == 1 {
      self.from = try LocalDate(year: year, month: 1, day: 1)
      self.to = try LocalDate(year: year, month: 12, day: 31)
    } else if parts[1].hasPrefix("Q") {
      guard parts[1].count == 2, let q = Int(parts[1].dropFirst()), (1...4).contains(q) else { throw bad("award.bad_period#quarter") }
      self.from = try LocalDate(year: year, month: q * 3 - 2, day: 1)
      self.to = try LocalDate(year: year, month: q * 3, day: LocalDate.daysIn(month: q * 3, year: year))
    } else {
      guard parts[1].count == 2, parts[1].allSatisfy(\.isASCII), let m = Int(parts[1]), (1...12).contains(m) else {
        throw bad("award.bad_period#month")
      }
      self.from = try LocalDate(year: year, month: m, day: 1)
      self.to = try LocalDate(year: year, month: m, day: LocalDate.daysIn(month: m, year: year))
    }
    self.text = text
  }

  public var description: String { self.text }

  /// Whether the period is over on `today` (an Asia/Shanghai day): its last day is before today.
  public func hasEnded(today: LocalDate) -> Bool { self.to < today }

  /// Refuses a period that has not ended (its last day is today or later): until then cases are
  /// still being completed in it and change its stars, so it is published from the next day on.
  public func checkEnded(today: LocalDate) throws(DomainError) {
    guard self.hasEnded(today: today) else {
      throw .failedPrecondition("award.period_not_ended", arguments: [self.text, "\(self.to)", "\(today)"], field: "period")
    }
  }
}

/// Which kind of unit a score belongs to.
public enum AwardUnit: String, Sendable, Hashable, Codable, CaseIterable {
  case window, staff, department
}

/// The counts behind one unit's stars. Shares are derived, never stored, so that every
/// comparison with a threshold is exact integer arithmetic.
public struct AwardScores: Sendable, Hashable, Codable {
  public var unit: AwardUnit
  public var key: String
  public var name: String
  public var handled = 0
  public var onTime = 0
  public var oneDay = 0
  public var rated = 0
  public var good = 0
  public var bad = 0
  public var rectifiedOnTime = 0
  public var overdueDemands = 0

  public init(unit: AwardUnit, key: String, name: String) {
    self.unit = unit
    self.key = key
    self.name = name
  }

  public var unrated: Int { self.handled - self.rated }
  public var unrectifiedBad: Int { self.bad - self.rectifiedOnTime }

  static func share(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
  public var onTimeShare: Double { Self.share(self.onTime, self.handled) }
  public var oneDayShare: Double { Self.share(self.oneDay, self.handled) }
  public var goodShare: Double { Self.share(self.good, self.rated) }
  public var unratedShare: Double { Self.share(self.unrated, self.handled) }
  public var rectifiedOnTimeShare: Double { Self.share(self.rectifiedOnTime, self.bad) }
}

/// One star level's requirements. nil maxima mean "no limit".
public struct StarLevel: Sendable, Hashable, Codable {
  public var stars: Int
  public var minHandled: Int
  public var minOnTimePercent: Int
  public var minOneDayPercent: Int
  public var minGoodPercent: Int
  public var maxUnratedPercent: Int
  public var maxUnrectifiedBad: Int?
  public var maxOverdueDemands: Int?

  public init(
    stars: Int, minHandled: Int = 0, minOnTimePercent: Int = 0, minOneDayPercent: Int = 0, minGoodPercent: Int = 0,
    maxUnratedPercent: Int = 100, maxUnrectifiedBad: Int? = nil, maxOverdueDemands: Int? = nil
  ) {
    self.stars = stars
    self.minHandled = minHandled
    self.minOnTimePercent = minOnTimePercent
    self.minOneDayPercent = minOneDayPercent
    self.minGoodPercent = minGoodPercent
    self.maxUnratedPercent = maxUnratedPercent
    self.maxUnrectifiedBad = maxUnrectifiedBad
    self.maxOverdueDemands = maxOverdueDemands
  }

  /// The first requirement `s` misses, as "on-time ≥ 98 %", or nil when it meets them all.
  /// Percent thresholds compare counts: part × 100 ≥ threshold × whole.
  public func shortfall(_ s: AwardScores) -> String? {
    if s.handled < self.minHandled { return "handled ≥ \(self.minHandled)" }
    if s.onTime * 100 < self.minOnTimePercent * s.handled { return "on-time ≥ \(self.minOnTimePercent) %" }
    if s.oneDay * 100 < self.minOneDayPercent * s.handled { return "one-day ≥ \(self.minOneDayPercent) %" }
    // Good share is of counted ratings; with none, only a 0 % requirement is met.
    if self.minGoodPercent > 0 && (s.rated == 0 || s.good * 100 < self.minGoodPercent * s.rated) {
      return "good ≥ \(self.minGoodPercent) %"
    }
    if s.unrated * 100 > self.maxUnratedPercent * s.handled { return "unrated ≤ \(self.maxUnratedPercent) %" }
    if let max = self.maxUnrectifiedBad, s.unrectifiedBad > max { return "unrectified 差评 ≤ \(max)" }
    if s.unit == .department, let max = self.maxOverdueDemands, s.overdueDemands > max { return "overdue demands ≤ \(max)" }
    return nil
  }
}

/// A versioned rule set mapping scores to 1–5 stars: the highest level whose requirements are all met.
public struct AwardRuleSet: Sendable, Hashable, Codable {
  public var version: Int64
  public var name: String
  /// Five levels, 5 down to 1, once checked.
  public var levels: [StarLevel]

  public static let starRange = 1...5

  /// Checks and orders `levels`: one per star level 1–5 (a missing level is a gap, a repeated one
  /// an overlap), percentages 0–100, maxima ≥ 0 or no limit, level 1 requires nothing, and each
  /// level asks at least as much as the one below on every measure and more on at least one.
  public init(version: Int64, name: String, levels: [StarLevel]) throws(DomainError) {
    try FieldRules.text(name, field: "name", max: 80)
    var byStars: [Int: StarLevel] = [:]
    for (i, level) in levels.enumerated() {
      guard Self.starRange.contains(level.stars) else {
        throw .invalidArgument("award.bad_level", arguments: ["\(i)", "\(level.stars)"], field: "levels[\(i)].stars")
      }
      guard byStars[level.stars] == nil else {
        throw .invalidArgument("award.overlapping_levels", arguments: ["\(level.stars)"], field: "levels[\(i)].stars")
      }
      byStars[level.stars] = level
      for (name, value) in [
        ("min_on_time_percent", level.minOnTimePercent), ("min_one_day_percent", level.minOneDayPercent),
        ("min_good_percent", level.minGoodPercent), ("max_unrated_percent", level.maxUnratedPercent),
      ] where !(0...100).contains(value) {
        throw .invalidArgument(
          "award.percent_out_of_range", arguments: ["\(level.stars)", name, "\(value)"], field: "levels[\(i)].\(name)")
      }
      guard (0...1_000_000).contains(level.minHandled) else {
        throw .invalidArgument(
          "award.volume_out_of_range", arguments: ["\(level.stars)", "\(level.minHandled)"], field: "levels[\(i)].min_handled")
      }
      for (name, value) in [("max_unrectified_bad", level.maxUnrectifiedBad), ("max_overdue_demands", level.maxOverdueDemands)] {
        if let value, value < 0 {
          throw .invalidArgument(
            "award.negative_maximum", arguments: ["\(level.stars)", name, "\(value)"], field: "levels[\(i)].\(name)")
        }
      }
    }
    for stars in Self.starRange where byStars[stars] == nil {
      throw .invalidArgument("award.missing_level", arguments: ["\(stars)"], field: "levels")
    }
    let floor = StarLevel(stars: 1)
    guard let one = byStars[1], one == floor else {
      throw .invalidArgument("award.floor_level", field: "levels")
    }
    for stars in 2...5 {
      guard let upper = byStars[stars], let lower = byStars[stars - 1] else { continue }
      if let field = Self.looser(upper, than: lower) {
        throw .invalidArgument(
          "award.overlapping_levels", messageKey: "award.overlapping_levels#looser", arguments: ["\(stars)", field, "\(stars - 1)"],
          field: "level \(stars)★.\(field)")
      }
      if Self.strictness(upper) == Self.strictness(lower) {
        throw .invalidArgument(
          "award.overlapping_levels", messageKey: "award.overlapping_levels#same", arguments: ["\(stars)", "\(stars - 1)"],
          field: "level \(stars)★")
      }
    }
    self.version = version
    self.name = name
    self.levels = Self.starRange.reversed().compactMap { byStars[$0] }
  }

  private static func strictness(_ l: StarLevel) -> [Int] {
    // Higher is stricter: maxima enter negated, "no limit" as the loosest.
    [
      l.minHandled, l.minOnTimePercent, l.minOneDayPercent, l.minGoodPercent, -l.maxUnratedPercent,
      -(l.maxUnrectifiedBad ?? Int(Int32.max)), -(l.maxOverdueDemands ?? Int(Int32.max)),
    ]
  }

  private static let fieldNames = [
    "min_handled", "min_on_time_percent", "min_one_day_percent", "min_good_percent",
    "max_unrated_percent", "max_unrectified_bad", "max_overdue_demands",
  ]

  private static func looser(_ upper: StarLevel, than lower: StarLevel) -> String? {
    let u = strictness(upper)
    let l = strictness(lower)
    for i in u.indices where u[i] < l[i] { return fieldNames[i] }
    return nil
  }

  /// The stars of `scores` and, below five, the first requirement of the next level it misses.
  public func stars(for scores: AwardScores) -> (stars: Int, shortOfNext: String) {
    for level in self.levels where level.shortfall(scores) == nil {
      let next = self.levels.first { $0.stars == level.stars + 1 }
      let why = next.flatMap { $0.shortfall(scores) }.map { "\(level.stars + 1)★ needs \($0)" } ?? ""
      return (level.stars, why)
    }
    return (1, "")
  }

  /// Version 1, shipped with banjie (docs/AWARDS.md explains each number).
  public static let standard: AwardRuleSet = {
    do {
      return try AwardRuleSet(
        version: 1, name: "星级服务评定标准 (2026)",
        levels: [
          StarLevel(
            stars: 5, minHandled: 30, minOnTimePercent: 98, minOneDayPercent: 60, minGoodPercent: 95, maxUnratedPercent: 40,
            maxUnrectifiedBad: 0, maxOverdueDemands: 0),
          StarLevel(
            stars: 4, minHandled: 15, minOnTimePercent: 95, minOneDayPercent: 40, minGoodPercent: 90, maxUnratedPercent: 60,
            maxUnrectifiedBad: 0, maxOverdueDemands: 1),
          StarLevel(
            stars: 3, minHandled: 5, minOnTimePercent: 90, minOneDayPercent: 20, minGoodPercent: 80, maxUnratedPercent: 80,
            maxUnrectifiedBad: 1, maxOverdueDemands: 3),
          StarLevel(
            stars: 2, minHandled: 1, minOnTimePercent: 80, minOneDayPercent: 0, minGoodPercent: 60, maxUnratedPercent: 100,
            maxUnrectifiedBad: 3, maxOverdueDemands: 10),
          StarLevel(stars: 1),
        ])
    } catch {
      preconditionFailure("the shipped rule set is invalid: \(error)")
    }
  }()
}

/// What a published award holds: the inputs (scores), the rule set and the stars. Its canonical
/// JSON (sorted keys, no whitespace) is what is stored and hashed.
public struct AwardSnapshot: Sendable, Hashable, Codable {
  public struct Entry: Sendable, Hashable, Codable {
    public var scores: AwardScores
    public var stars: Int
    public var shortOfNext: String
    public init(scores: AwardScores, stars: Int, shortOfNext: String) {
      self.scores = scores
      self.stars = stars
      self.shortOfNext = shortOfNext
    }
  }

  public var period: String
  public var from: String
  public var to: String
  public var computedAt: String
  public var rules: AwardRuleSet
  public var entries: [Entry]

  public init(period: AwardPeriod, computedAt: String, rules: AwardRuleSet, scores: [AwardScores]) {
    self.period = period.text
    self.from = period.from.description
    self.to = period.to.description
    self.computedAt = computedAt
    self.rules = rules
    let order = AwardUnit.allCases
    self.entries = scores.sorted {
      ($0.unit == $1.unit) ? $0.key < $1.key : (order.firstIndex(of: $0.unit) ?? 0) < (order.firstIndex(of: $1.unit) ?? 0)
    }.map { s in
      let (stars, why) = rules.stars(for: s)
      return Entry(scores: s, stars: stars, shortOfNext: why)
    }
  }

  public func canonicalBytes() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }
}
