import BanjieCore
import BanjieServer
import Foundation
import Testing

@testable import BanjieStore

/// The dashboard's reads and the star-service awards on the SQL layer (issue 17): a seeded year
/// moved into PostgreSQL answers every dashboard read exactly as its SQLite file does, and awards
/// computed, published and revoked on both stores are the same, byte for byte.
@Suite("Dashboard and awards on both engines", .timeLimit(.minutes(10)))
struct StoreEngineDashboardAwardTests {
  static let until = StoreMigrationTests.until
  static let office = StoreMigrationTests.office

  /// The rule set AwardTests' small rules spell over the wire.
  static func rules() throws -> AwardRuleSet {
    try AwardRuleSet(
      version: 0, name: "测试规则",
      levels: [
        StarLevel(
          stars: 5, minHandled: 4, minOnTimePercent: 100, minOneDayPercent: 50, minGoodPercent: 75, maxUnratedPercent: 25,
          maxUnrectifiedBad: 0, maxOverdueDemands: 0),
        StarLevel(
          stars: 4, minHandled: 3, minOnTimePercent: 75, minGoodPercent: 50, maxUnratedPercent: 50, maxUnrectifiedBad: 0,
          maxOverdueDemands: 1),
        StarLevel(stars: 3, minHandled: 2, minOnTimePercent: 50, maxUnrectifiedBad: 1),
        StarLevel(stars: 2, minHandled: 1),
        StarLevel(stars: 1, minHandled: 0),
      ])
  }

  /// A seeded year in a SQLite file and the same year moved into a new PostgreSQL database.
  static func withSeededPair(cases: Int, _ body: (BanjieStore, BanjieStore) async throws -> Void) async throws {
    try await StoreMigrationTests.withSeededFile(cases: cases) { path in
      let location = try await PostgresTestCluster.makeDatabase()
      defer { PostgresTestCluster.dropDatabase(location) }
      _ = try await StoreMigrationTests.migrate(path, to: location)
      let source = try BanjieStore(path: path)
      let target = try await PostgresTestCluster.openStore(location)
      defer { target.close() }
      try await body(source, target)
    }
  }

  @Test("every dashboard read of a seeded year answers the same on SQLite and on PostgreSQL")
  func dashboardAgrees() async throws {
    try await Self.withSeededPair(cases: 400) { source, target in
      let clock = try SLAClock(calendar: try await source.loadCalendar())
      let departments = try await source.departments().map(\.code)
      #expect(!departments.isEmpty)
      let year = try LocalDate(year: 2026, month: 1, day: 1)
      let yearEnd = try LocalDate(year: 2026, month: 12, day: 31)
      let groupings: [DashboardGrouping?] = [nil] + DashboardGrouping.allCases

      // The whole year, by every breakdown, for the county and for each department.
      var reads = 0
      for department in [nil] + departments {
        for grouping in groupings {
          let sqlite = try await source.dashboard(
            from: year, to: yearEnd, department: department, by: grouping, clock: clock, now: Self.until)
          let postgres = try await target.dashboard(
            from: year, to: yearEnd, department: department, by: grouping, clock: clock, now: Self.until)
          #expect(postgres == sqlite, "year, department \(department ?? "all"), by \(grouping?.rawValue ?? "none")")
          reads += 1
        }
      }
      // Each month, by every breakdown, for the county.
      for month in 1...12 {
        let from = try LocalDate(year: 2026, month: month, day: 1)
        let to = try LocalDate(year: 2026, month: month, day: LocalDate.daysIn(month: month, year: 2026))
        for grouping in groupings {
          let sqlite = try await source.dashboard(from: from, to: to, department: nil, by: grouping, clock: clock, now: Self.until)
          let postgres = try await target.dashboard(from: from, to: to, department: nil, by: grouping, clock: clock, now: Self.until)
          #expect(postgres == sqlite, "month \(month), by \(grouping?.rawValue ?? "none")")
          reads += 1
        }
      }
      #expect(reads == (departments.count + 1) * groupings.count + 12 * groupings.count)

      // The compared reports hold data in every part the stores read, so agreeing is not vacuous.
      let county = try await target.dashboard(from: year, to: yearEnd, department: nil, by: .department, clock: clock, now: Self.until)
      #expect(county.summary.received > 300 && county.summary.received <= 400)  // some cases came in in 2025
      #expect(county.summary.completed > 0 && county.summary.rated > 0 && county.summary.handlingSeconds > 0)
      #expect(county.summary.openTotal > 0)
      #expect(county.rows.count > 1)
      #expect(county.trend.count == 341)  // 1 January to 7 December
      #expect(county.openRectifications > 0 && county.openDemands > 0)
      #expect(county.visitedEnterprises > 0 && county.enterprises > 0)
      #expect(county.zeroTrip > 0)
      #expect(
        county.overdue
          == county.overdue.sorted {
            $0.overdueSeconds > $1.overdueSeconds || ($0.overdueSeconds == $1.overdueSeconds && $0.dueAt <= $1.dueAt)
          })

      for code in departments.prefix(3) {
        #expect(try await target.departmentExists(code))
      }
      #expect(try await target.departmentExists("NOPE") == false)
      #expect(try await source.departmentExists("NOPE") == false)
      #expect(try await target.dashboardAggregateDifferences().isEmpty)
    }
  }

  @Test("awards of a seeded year: the same scores, snapshot bytes, digest, revocation and audit rows on both stores")
  func awardsAgree() async throws {
    try await Self.withSeededPair(cases: 300) { source, target in
      let clock = try SLAClock(calendar: try await source.loadCalendar())
      var outcomes: [[String]] = []
      for store in [source, target] {
        let set = try await store.setAwardRules(try Self.rules(), actor: Self.office, now: Self.until, key: nil)
        #expect(set.rules.version == 2)  // the seeded year has its rule set 1
        #expect(try await store.awardRules(version: nil) == set)
        #expect(try await store.awardRules(version: 3) == nil)
        let year = try AwardPeriod(parsing: "2026")
        let preview = try await store.previewAwards(period: year, clock: clock, now: Self.until)
        #expect(preview.entries.contains { $0.scores.unit == .window && $0.scores.handled > 0 })
        #expect(preview.entries.contains { $0.scores.unit == .department && $0.scores.overdueDemands > 0 })
        let published = try await store.publishAwards(
          period: try AwardPeriod(parsing: "2026-11"), actor: Self.office, clock: clock, now: Self.until, key: nil)
        #expect(published.id == 1)
        #expect(published.decoded?.entries.isEmpty == false)
        let again = await #expect(throws: DomainError.self) {
          try await store.publishAwards(
            period: try AwardPeriod(parsing: "2026-11"), actor: Self.office, clock: clock, now: Self.until, key: nil)
        }
        #expect(again?.code == "award.already_published")
        let revoked = try await store.revokeAward(id: 1, reason: "重算", actor: Self.office, now: Self.until, key: nil)
        #expect(revoked.revokedAt == Self.until && revoked.revokedBy == Self.office.person)
        #expect(try await store.award(id: 1) == revoked)
        #expect(try await store.award(id: 2) == nil)
        #expect(try await store.listAwards() == [revoked])
        let chain = try await store.verifyAudit()
        #expect(chain.ok, "\(chain.reason)")
        let audit = try await store.listAuditRows(AuditFilter()).rows.prefix(3).map { "\($0.action) \($0.entityID) \($0)" }
        outcomes.append(
          [
            String(decoding: try preview.canonicalBytes(), as: UTF8.self), published.digest,
            String(decoding: published.snapshot, as: UTF8.self),
          ]
            + audit)
      }
      #expect(outcomes.count == 2 && outcomes[0] == outcomes[1])
    }
  }

  @Test("award rules, an empty preview, a refused publication and an idempotent write", arguments: TestEngine.allCases)
  func awardScenario(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let period = try AwardPeriod(parsing: "2026-11")
      // A new store starts with the default rule set, version 1.
      #expect(try await store.awardRules(version: nil)?.rules.version == 1)
      #expect(try await store.awardRules(version: 1)?.createdBy == "system")
      let key = IdempotencyKey(caller: "office", key: "rules-1")
      let first = try await store.setAwardRules(try Self.rules(), actor: Self.office, now: Self.until, key: key)
      let replayed = try await store.setAwardRules(try Self.rules(), actor: Self.office, now: Self.until.addingTimeInterval(60), key: key)
      #expect(replayed == first)
      #expect(first.rules.version == 2 && first.createdBy == Self.office.person && first.createdAt == Self.until)
      let second = try await store.setAwardRules(try Self.rules(), actor: Self.office, now: Self.until, key: nil)
      #expect(second.rules.version == 3)
      #expect(try await store.awardRules(version: 2) == first)
      #expect(try await store.awardRules(version: nil) == second)
      let preview = try await store.previewAwards(period: period, clock: clock, now: Self.until)
      #expect(preview.entries.isEmpty && preview.rules == second.rules)
      let published = try await store.publishAwards(period: period, actor: Self.office, clock: clock, now: Self.until, key: nil)
      #expect(published.ruleSetVersion == 3 && published.decoded == preview)
      #expect(try await store.listAwards() == [published])
      let missing = await #expect(throws: DomainError.self) {
        try await store.revokeAward(id: 99, reason: "x", actor: Self.office, now: Self.until, key: nil)
      }
      #expect(missing?.code == "award.not_found")
      #expect(try await store.verifyAudit().rows == 3)
    }
  }
}
