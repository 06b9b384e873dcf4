import BanjieCore
import Foundation
import Testing

@Suite("Star-service awards domain")
struct AwardDomainTests {
  @Test(
    "periods: months, quarters and years in whole days",
    arguments: [
      ("2026-11", "2026-11-01", "2026-11-30"), ("2026-02", "2026-02-01", "2026-02-28"), ("2024-02", "2024-02-01", "2024-02-29"),
      ("2026-Q4", "2026-10-01", "2026-12-31"), ("2026-Q1", "2026-01-01", "2026-03-31"), ("2026", "2026-01-01", "2026-12-31"),
    ])
  func periods(text: String, from: String, to: String) throws {
    let p = try AwardPeriod(parsing: text)
    #expect(p.from.description == from && p.to.description == to && p.text == text)
  }

  @Test(
    "unknown periods are refused naming the period",
    arguments: ["2026-13", "2026-00", "2026-Q5", "2026-Q0", "garbage", "", "2026-1", "26-11", "2026-11-01", "２０２６"])
  func badPeriods(text: String) {
    do {
      _ = try AwardPeriod(parsing: text)
      Issue.record("accepted \(text)")
    } catch {
      #expect(error.kind == .invalidArgument && error.code == "award.bad_period" && error.field == "period")
    }
  }

  @Test("a period has ended once its last day is over: publishing waits for the next day")
  func periodEnded() throws {
    let november = try AwardPeriod(parsing: "2026-11")
    let lastDay = try LocalDate(parsing: "2026-11-30")
    #expect(!november.hasEnded(today: try LocalDate(parsing: "2026-11-01")))
    #expect(!november.hasEnded(today: lastDay))
    #expect(november.hasEnded(today: lastDay.adding(days: 1)))
    let error = #expect(throws: DomainError.self) { try november.checkEnded(today: lastDay) }
    #expect(error?.kind == .failedPrecondition && error?.code == "award.period_not_ended" && error?.field == "period")
    #expect(error?.arguments == ["2026-11", "2026-11-30", "2026-11-30"])
    let future = try AwardPeriod(parsing: "2027-01")
    #expect(throws: DomainError.self) { try future.checkEnded(today: try LocalDate(parsing: "2026-12-07")) }
    try future.checkEnded(today: try LocalDate(parsing: "2027-02-01"))
  }

  static func scores(
    _ unit: AwardUnit = .window, handled: Int, onTime: Int? = nil, oneDay: Int? = nil, rated: Int? = nil, good: Int? = nil,
    bad: Int = 0, rectified: Int = 0, overdue: Int = 0
  ) -> AwardScores {
    var s = AwardScores(unit: unit, key: "A01", name: "A01")
    s.handled = handled
    s.onTime = onTime ?? handled
    s.oneDay = oneDay ?? handled
    s.rated = rated ?? handled
    s.good = good ?? (s.rated - bad)
    s.bad = bad
    s.rectifiedOnTime = rectified
    s.overdueDemands = overdue
    return s
  }

  static let standardCases: [(AwardScores, Int)] = [
    // volume: 30 is the 5★ minimum; a window with three cases reaches 2★ at most
    (scores(handled: 30), 5), (scores(handled: 29), 4), (scores(handled: 15), 4), (scores(handled: 14), 3), (scores(handled: 3), 2),
    // on time: 49/50 = 98 % (5★); 48/50 = 96 % (4★)
    (scores(handled: 50, onTime: 49), 5), (scores(handled: 50, onTime: 48), 4),
    // one-day: 30/50 = 60 % (5★); 29/50 = 58 % (4★)
    (scores(handled: 50, oneDay: 30), 5), (scores(handled: 50, oneDay: 29), 4),
    // good among rated: 19/20 = 95 % (5★); 18/20 = 90 % (4★); a 差评 rectified on time still costs good share
    (scores(handled: 30, rated: 20, good: 19), 5), (scores(handled: 30, rated: 20, good: 18), 4),
    // unrated: 20/50 = 40 % (5★); 21/50 = 42 % (4★); nothing rated fails any good threshold (1★)
    (scores(handled: 50, rated: 30), 5), (scores(handled: 50, rated: 29), 4), (scores(handled: 50, rated: 0), 1),
    // 差评: rectified on time costs nothing beyond good share; one not rectified on time caps at 3★
    (scores(handled: 100, bad: 1, rectified: 1), 5), (scores(handled: 100, bad: 1), 3), (scores(handled: 100, bad: 2), 2),
    // overdue demands count for departments only
    (scores(.department, handled: 100, overdue: 1), 4), (scores(.department, handled: 100, overdue: 0), 5),
    (scores(.window, handled: 100, overdue: 9), 5),
    (scores(handled: 0, rated: 0), 1),
  ]

  @Test("the shipped rule set: each threshold exactly met and one case short", arguments: standardCases)
  func standardStars(scores: AwardScores, stars: Int) {
    #expect(AwardRuleSet.standard.stars(for: scores).stars == stars)
  }

  @Test("below five stars the result says what the next level needs")
  func shortOfNext() {
    let (stars, why) = AwardRuleSet.standard.stars(for: Self.scores(handled: 3))
    #expect(stars == 2 && why == "3★ needs handled ≥ 5")
    #expect(AwardRuleSet.standard.stars(for: Self.scores(handled: 30)).shortOfNext == "")
  }

  static let good: [StarLevel] = AwardRuleSet.standard.levels

  static func refusal(_ levels: [StarLevel]) -> DomainError? {
    do {
      _ = try AwardRuleSet(version: 0, name: "test", levels: levels)
      return nil
    } catch {
      return error
    }
  }

  @Test("the shipped rule set is valid and in order 5 to 1")
  func standardValid() throws {
    let rules = try AwardRuleSet(version: 9, name: "copy", levels: Self.good.reversed())
    #expect(rules.levels.map(\.stars) == [5, 4, 3, 2, 1])
    #expect(rules.levels == AwardRuleSet.standard.levels)
  }

  @Test("overlapping thresholds name the level and field")
  func overlap() {
    var levels = Self.good
    levels[1].minOnTimePercent = 99  // 4★ asks more on-time than 5★
    let e = Self.refusal(levels)
    #expect(e?.kind == .invalidArgument && e?.code == "award.overlapping_levels")
    #expect(e?.field == "level 5★.min_on_time_percent")
    #expect(e?.message.contains("level 5★ min_on_time_percent asks less than level 4★") == true)

    var same = Self.good
    same[0] = same[1]
    same[0].stars = 5
    #expect(Self.refusal(same)?.message.contains("exactly what level 4★ asks") == true)

    var twice = Self.good
    twice[2].stars = 4
    #expect(Self.refusal(twice)?.field == "levels[2].stars")
  }

  @Test("gaps: a missing level, or a floor that asks something")
  func gaps() {
    let missing = Self.refusal(Self.good.filter { $0.stars != 3 })
    #expect(missing?.code == "award.missing_level" && missing?.message.contains("level 3★ is missing") == true)
    var floor = Self.good
    floor[4].minHandled = 1
    #expect(Self.refusal(floor)?.code == "award.floor_level")
  }

  @Test("percentages outside 0-100, negative maxima and bad star numbers name the field")
  func ranges() {
    var percent = Self.good
    percent[0].minGoodPercent = 101
    #expect(Self.refusal(percent)?.field == "levels[0].min_good_percent")
    var negative = Self.good
    negative[1].maxUnrectifiedBad = -2
    #expect(Self.refusal(negative)?.field == "levels[1].max_unrectified_bad")
    var six = Self.good
    six[0].stars = 6
    #expect(Self.refusal(six)?.field == "levels[0].stars")
  }

  @Test("a snapshot's canonical bytes do not depend on input order")
  func canonical() throws {
    let p = try AwardPeriod(parsing: "2026-11")
    var a = Self.scores(handled: 3)
    a.key = "B"
    let b = Self.scores(.department, handled: 30)
    let one = try AwardSnapshot(period: p, computedAt: "t", rules: .standard, scores: [a, b]).canonicalBytes()
    let two = try AwardSnapshot(period: p, computedAt: "t", rules: .standard, scores: [b, a]).canonicalBytes()
    #expect(one == two)
  }
}
