import BanjieCore
import BanjieProto
import BanjieServer
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import Testing

@testable import BanjieStore

/// One case as the database file holds it, read with plain SQL: the independent side of the
/// comparisons below.
struct DashboardRawCase {
  var number: String
  var department: String
  var item: String
  var window: String
  var township: String
  var state: String
  var colour: String?
  var receivedAt: Date
  var acceptedAt: Date?
  var completedAt: Date?
  var dueAt: Date?
  var rating: Int?
  var excluded: Bool
  /// 受理渠道, and 零跑腿: in online or by post and delivered online or by post (docs/DOMAIN.md §22).
  var channel = "WINDOW"
  var zeroTrip = false
  /// Of a completed case, by the SLA clock from the raw timestamps: within one day, working seconds.
  var oneDay = false
  var handling: Int64 = 0

  func key(_ by: String) -> String {
    switch by {
    case "item": self.item
    case "window": self.window
    case "township": self.township
    case "channel": self.channel
    default: self.department
    }
  }
}

/// The figures of one group, computed from DashboardRawCase rows alone.
struct DashboardExpectedFigures: Equatable, CustomStringConvertible {
  var received = 0, accepted = 0, completed = 0, onTime = 0, oneDay = 0
  var green = 0, yellow = 0, red = 0, rated = 0, good = 0
  var handlingSeconds: [Int64] = []

  var description: String {
    "r\(received) a\(accepted) c\(completed) ot\(onTime) od\(oneDay) g\(green)/y\(yellow)/r\(red) rated\(rated) good\(good) n\(handlingSeconds.count)"
  }

  /// The documented percentile: nearest rank over the exact values, reported as the upper edge
  /// of the histogram bucket that value falls in.
  func percentile(_ p: Int) -> Double {
    guard !handlingSeconds.isEmpty else { return 0 }
    let sorted = handlingSeconds.sorted()
    let value = sorted[max(1, (p * sorted.count + 99) / 100) - 1]
    let edges = HandlingHistogram.upperEdgesMinutes
    let edge = edges.first { $0 * 60 >= value } ?? edges[edges.count - 1]
    return Double(edge) / 60
  }
}

@Suite("Dashboard aggregates at scale (issue 7)", .timeLimit(.minutes(10)))
struct DashboardAggregateTests {
  /// Working seconds from `start` to `end` less those inside the suspensions: how long the
  /// case's clock ran (the suspensions as the database holds them).
  static func handling(_ calendar: WorkingCalendar, from start: Date, to end: Date, suspensions: [(Date, Date?)]) -> Int64 {
    var total = calendar.workingSeconds(from: start, to: end)
    for (s, e) in suspensions where s < end {
      total -= calendar.workingSeconds(from: max(s, start), to: min(e ?? end, end))
    }
    return total
  }

  static func suspensions(_ db: Database) throws -> [String: [(Date, Date?)]] {
    var out: [String: [(Date, Date?)]] = [:]
    for row in try Row.fetchAll(db, sql: "SELECT c.number, s.start_at, s.end_at FROM case_suspensions s JOIN cases c ON c.id = s.case_id") {
      out[row["number"], default: []].append((row["start_at"], row["end_at"]))
    }
    return out
  }

  static func rawCases(_ h: ServerHarness) throws -> [DashboardRawCase] {
    let clock = h.environment.sla
    let suspended = try h.database { try Self.suspensions($0) }
    return try h.database { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT c.number, c.department_code, c.item_code, c.window, COALESCE(e.township, '') AS township, c.state, c.colour,
                 c.received_at, c.accepted_at, c.completed_at, c.due_at, g.level, COALESCE(g.excluded, 0) AS excluded,
                 c.channel, COALESCE(c.delivery_channel, '') AS delivery_channel
          FROM cases c LEFT JOIN enterprises e ON e.uscc = c.enterprise_uscc LEFT JOIN ratings g ON g.case_id = c.id
          """
      ).map { r in
        let channel: String = r["channel"]
        let delivery: String = r["delivery_channel"]
        return DashboardRawCase(
          number: r["number"], department: r["department_code"], item: r["item_code"], window: r["window"], township: r["township"],
          state: r["state"], colour: r["colour"], receivedAt: r["received_at"], acceptedAt: r["accepted_at"],
          completedAt: r["completed_at"],
          dueAt: r["due_at"], rating: r["level"], excluded: r["excluded"], channel: channel,
          zeroTrip: ["ONLINE", "MAIL"].contains(channel) && ["ONLINE", "MAIL"].contains(delivery))
      }.map { c in
        var c = c
        if let done = c.completedAt {
          let start = c.acceptedAt ?? c.receivedAt
          c.oneDay = clock.isOneDayCompletion(acceptedAt: start, completedAt: done, dueAt: c.dueAt)
          c.handling = Self.handling(clock.calendar, from: start, to: done, suspensions: suspended[c.number] ?? [])
        }
        return c
      }
    }
  }

  /// The summary's key in `expected`'s answer: no breakdown key can be this.
  static let total = "\u{0}total"

  /// Expected figures per group key (`total` = the summary) for a period, by the rules in dashboard.proto.
  static let midnight = (try? TimeOfDay(hour: 0)) ?? { preconditionFailure("00:00 is a time of day") }()

  static func expected(_ cases: [DashboardRawCase], from: LocalDate, to: LocalDate, department: String?, by: String?, clock: SLAClock)
    -> [String: DashboardExpectedFigures]
  {
    let calendar = clock.calendar
    let midnight = (try? TimeOfDay(hour: 0)) ?? { preconditionFailure() }()
    let start = calendar.date(from, at: midnight)
    let end = calendar.date(to.adding(days: 1), at: midnight)
    func inPeriod(_ d: Date?) -> Bool { d.map { $0 >= start && $0 < end } ?? false }
    var out: [String: DashboardExpectedFigures] = [:]
    for c in cases where department == nil || c.department == department {
      for key in [Self.total] + (by.map { [c.key($0)] } ?? []) {
        var f = out[key] ?? DashboardExpectedFigures()
        if inPeriod(c.receivedAt) { f.received += 1 }
        if inPeriod(c.acceptedAt) { f.accepted += 1 }
        if let done = c.completedAt, inPeriod(done) {
          f.completed += 1
          if let due = c.dueAt, done <= due { f.onTime += 1 }
          if c.oneDay { f.oneDay += 1 }
          f.handlingSeconds.append(c.handling)
          if let level = c.rating, !c.excluded {
            f.rated += 1
            if level >= 4 { f.good += 1 }
          }
        }
        if (c.state == "ACCEPTED" || c.state == "SUSPENDED") && c.completedAt == nil {
          switch c.colour {
          case "green": f.green += 1
          case "yellow": f.yellow += 1
          case "red": f.red += 1
          default: break
          }
        }
        out[key] = f
      }
    }
    return out
  }

  static func observed(_ f: Banjie_V1_DashboardFigures, count: Int) -> DashboardExpectedFigures {
    DashboardExpectedFigures(
      received: Int(f.received), accepted: Int(f.accepted), completed: Int(f.completed), onTime: Int(f.onTime), oneDay: Int(f.oneDay),
      green: Int(f.openGreen), yellow: Int(f.openYellow), red: Int(f.openRed), rated: Int(f.rated), good: Int(f.good),
      handlingSeconds: [])
  }

  static func check(_ d: Banjie_V1_Dashboard, _ x: [String: DashboardExpectedFigures], label: String) {
    func same(_ f: Banjie_V1_DashboardFigures, _ e: DashboardExpectedFigures, _ what: String) {
      var o = Self.observed(f, count: e.handlingSeconds.count)
      o.handlingSeconds = e.handlingSeconds
      #expect(o == e, "\(label) \(what)")
      let mean = e.handlingSeconds.isEmpty ? 0 : Double(e.handlingSeconds.reduce(0, +)) / Double(e.handlingSeconds.count) / 3600
      #expect(abs(f.handlingHoursMean - mean) < 1e-6, "\(label) \(what) mean")
      #expect(f.handlingHoursP50 == e.percentile(50), "\(label) \(what) p50")
      #expect(f.handlingHoursP90 == e.percentile(90), "\(label) \(what) p90")
      #expect(f.onTimeRate == (e.completed == 0 ? 0 : Double(e.onTime) / Double(e.completed)), "\(label) \(what)")
      #expect(f.goodShare == (e.rated == 0 ? 0 : Double(e.good) / Double(e.rated)), "\(label) \(what)")
    }
    same(d.summary, x[Self.total] ?? DashboardExpectedFigures(), "summary")
    let expectedKeys = x.filter {
      $0.key != Self.total
        && ($0.value.received + $0.value.accepted + $0.value.completed + $0.value.green + $0.value.yellow + $0.value.red) > 0
    }
    #expect(Set(d.rows.map(\.key)) == Set(expectedKeys.keys), "\(label) row keys")
    for row in d.rows { same(row, x[row.key] ?? DashboardExpectedFigures(), "row \(row.key)") }
  }

  @Test("a seeded county year: every figure, the trend, the overdue list and coverage equal an independent computation")
  func seededYear() async throws {
    try await ServerHarness.run { h in
      let store = h.environment.store
      let clock = h.environment.sla
      let summary = try store.seed(SeedOptions(cases: 4000, until: h.clock.now, seed: 7), clock: clock, regionCode: "370830") { _, _ in }
      #expect(summary.cases == 4000 && summary.ratings > 0 && summary.openCases > 0 && summary.demands > 0)
      // The year has the hall's workflows: every channel, 零跑腿 deliveries, pad and code ratings.
      let hall = try h.database { db in
        (
          channels: try String.fetchAll(db, sql: "SELECT DISTINCT channel FROM cases ORDER BY 1"),
          zeroTrip: try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM cases WHERE channel IN ('ONLINE', 'MAIL') AND delivery_channel IN ('ONLINE', 'MAIL')") ?? 0,
          via: try String.fetchAll(db, sql: "SELECT DISTINCT via FROM ratings ORDER BY 1")
        )
      }
      #expect(hall.channels == ["MAIL", "ONLINE", "SELF_SERVICE", "WINDOW"])
      #expect(hall.zeroTrip > 0)
      #expect(hall.via == ["CODE", "ENTERPRISE", "PAD"])
      #expect(try await store.dashboardAggregateDifferences().isEmpty)
      let cases = try Self.rawCases(h)
      #expect(cases.count == 4000)

      // A case whose suspension spans a month's edge: its acceptance and completion fall in
      // different months, and both months must still agree.
      let straddling = try h.database { db in
        try Row.fetchOne(
          db,
          sql: """
            SELECT date(s.start_at, '+8 hours') AS a, date(s.end_at, '+8 hours') AS b FROM case_suspensions s JOIN cases c ON c.id = s.case_id
            WHERE s.end_at IS NOT NULL AND strftime('%m', s.start_at, '+8 hours') != strftime('%m', s.end_at, '+8 hours') AND c.completed_at IS NOT NULL LIMIT 1
            """)
      }
      let edgeMonths: [(String, String)]
      if let row = straddling, let a = LocalDate(row["a"] as String), let b = LocalDate(row["b"] as String) {
        let aEnd = try LocalDate(year: a.year, month: a.month, day: LocalDate.daysIn(month: a.month, year: a.year))
        let bEnd = try LocalDate(year: b.year, month: b.month, day: LocalDate.daysIn(month: b.month, year: b.year))
        edgeMonths = [
          (try LocalDate(year: a.year, month: a.month, day: 1).description, aEnd.description),
          (try LocalDate(year: b.year, month: b.month, day: 1).description, bEnd.description),
        ]
      } else {
        edgeMonths = []
      }
      #expect(!edgeMonths.isEmpty, "the seeded year has a suspension across a month's edge")

      let periods: [(String, String)] =
        [
          ("2025-12-01", "2026-11-30"),  // the whole year
          ("2026-09-28", "2026-10-12"),  // National Day holidays and the make-up Saturday
          ("2026-02-10", "2026-02-28"),  // Spring Festival
          ("2026-11-01", "2026-11-30"),  // this month, up to today
          ("2026-06-15", "2026-06-15"),  // one day
        ] + edgeMonths
      // One connection for all of them; every grouping for the county, two departments with and
      // without a breakdown.
      let combinations: [(String?, String?)] = [
        (nil, nil), (nil, "department"), (nil, "item"), (nil, "window"), (nil, "township"), (nil, "channel"),
        ("SCJGJ", nil), ("SCJGJ", "item"), ("ZJJ", "township"), ("ZJJ", "channel"),
      ]
      try await h.dashboard { client in
        for (fromText, toText) in periods {
          guard let from = LocalDate(fromText), let to = LocalDate(toText) else {
            Issue.record("bad period")
            continue
          }
          for (department, by) in combinations {
            let d = try await client.getDashboard(DashboardTests.request(fromText, toText, department: department ?? "", by: by ?? ""))
            Self.check(
              d, Self.expected(cases, from: from, to: to, department: department, by: by, clock: clock),
              label: "\(fromText)–\(toText) \(department ?? "all") by \(by ?? "-")")
            // 零跑腿: the completed cases of the period that came in and went back online or by post.
            let start = clock.calendar.date(from, at: Self.midnight)
            let end = clock.calendar.date(to.adding(days: 1), at: Self.midnight)
            let zeroTrip = cases.filter { c in
              (department == nil || c.department == department) && c.zeroTrip && c.completedAt.map { $0 >= start && $0 < end } == true
            }.count
            #expect(Int(d.zeroTrip) == zeroTrip, "\(fromText)–\(toText) \(department ?? "all"): 零跑腿")
          }
        }
      }

      // The trend: one entry per day up to today, each day's counts by SQL.
      let d = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-01", "2026-11-30")) }
      #expect(d.trend.map(\.day) == (1...30).map { String(format: "2026-11-%02d", $0) })
      let perDay = try h.database { db in
        try Dictionary(
          uniqueKeysWithValues: Row.fetchAll(
            db,
            sql: """
              SELECT date(received_at, '+8 hours') AS day, COUNT(*) AS n FROM cases WHERE received_at >= '2026-10-31 16:00' GROUP BY 1
              """
          ).map { ($0["day"] as String, $0["n"] as Int) })
      }
      let completedPerDay = try h.database { db in
        try Dictionary(
          uniqueKeysWithValues: Row.fetchAll(
            db,
            sql: """
              SELECT date(completed_at, '+8 hours') AS day, COUNT(*) AS n, SUM(completed_at <= due_at) AS t FROM cases
              WHERE completed_at >= '2026-10-31 16:00' GROUP BY 1
              """
          ).map { ($0["day"] as String, ($0["n"] as Int, $0["t"] as Int)) })
      }
      for day in d.trend {
        #expect(Int(day.received) == perDay[day.day, default: 0], "\(day.day)")
        #expect(Int(day.completed) == completedPerDay[day.day]?.0 ?? 0, "\(day.day)")
        #expect(Int(day.onTime) == completedPerDay[day.day]?.1 ?? 0, "\(day.day)")
      }
      #expect(d.trend.map(\.received).reduce(0, +) == d.summary.received)
      // Saturdays and Sundays of November 2026 have no receipts in a seeded year.
      #expect(d.trend.first { $0.day == "2026-11-07" }?.received == 0)

      // The most overdue: the red open cases, most working hours past due first.
      let red = cases.filter { ($0.state == "ACCEPTED" || $0.state == "SUSPENDED") && $0.completedAt == nil && $0.colour == "red" }
      #expect(d.overdue.count == min(red.count, BanjieStore.overdueListLength))
      #expect(Set(d.overdue.map(\.number)).isSubset(of: Set(red.map(\.number))))
      #expect(d.overdue.map(\.overdueHours) == d.overdue.map(\.overdueHours).sorted(by: >))

      // Visit coverage of the period.
      let (visited, enterprises) = try h.database { db in
        (
          try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT uscc) FROM visits WHERE visited_on BETWEEN '2026-11-01' AND '2026-11-30'") ?? 0,
          try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM enterprises") ?? 0
        )
      }
      #expect(Int(d.visitedEnterprises) == visited && Int(d.enterprises) == enterprises && enterprises == summary.enterprises)
      #expect(d.visitCoverage == Double(visited) / Double(enterprises))

      // New work after the load is kept by the triggers as it happens.
      try await h.cases(.clerk, "SCJGJ") { cases in
        let n = try await cases.submitCase(.sample(item: "SCJGJ-002")).number
        _ = try await cases.acceptCase(.number(n))
        _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
      }
      // A transfer moves the case's whole history to the receiving department.
      let open = try #require(cases.first { $0.state == "ACCEPTED" && $0.department == "SCJGJ" })
      let scjgjBefore = try await h.dashboard {
        try await $0.getDashboard(DashboardTests.request("2025-12-01", "2026-11-30", department: "SCJGJ"))
      }
      _ = try await h.cases(.clerk, "SCJGJ") {
        try await $0.transferCase(
          .number(open.number) {
            $0.toDepartment = "ZJJ"
            $0.note = "属住建职能"
          })
      }
      let scjgjAfter = try await h.dashboard {
        try await $0.getDashboard(DashboardTests.request("2025-12-01", "2026-11-30", department: "SCJGJ"))
      }
      #expect(scjgjAfter.summary.received == scjgjBefore.summary.received - 1)
      #expect(
        scjgjAfter.summary.openGreen + scjgjAfter.summary.openYellow + scjgjAfter.summary.openRed
          == scjgjBefore.summary.openGreen + scjgjBefore.summary.openYellow + scjgjBefore.summary.openRed - 1)
      #expect(try await store.dashboardAggregateDifferences().isEmpty)
      // An enterprise moves to another township: its cases' figures move with it.
      let moved = try #require(cases.first { !$0.township.isEmpty && $0.completedAt != nil })
      let (uscc, other) = try h.database { db in
        (
          try String.fetchOne(db, sql: "SELECT enterprise_uscc FROM cases WHERE number = ?", arguments: [moved.number]) ?? "",
          try String.fetchOne(db, sql: "SELECT name FROM townships WHERE name != ? ORDER BY name LIMIT 1", arguments: [moved.township])
            ?? ""
        )
      }
      try await store.pool.write { db in
        try db.execute(sql: "UPDATE enterprises SET township = ? WHERE uscc = ?", arguments: [other, uscc])
      }
      #expect(try await store.dashboardAggregateDifferences().isEmpty)
      // A case for an enterprise not registered yet counts under no township until it is.
      let unregistered = testUSCC(977)
      let early = try await h.cases(.clerk, "SCJGJ") { try await $0.submitCase(.sample(item: "SCJGJ-002", uscc: unregistered)).number }
      try await store.pool.write { db in
        try db.execute(
          sql: """
            INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)
            VALUES (?, '后登记企业', 'C', 'small', ?, '2026-11-30 01:00:00.000', 1, '2026-11-30 01:00:00.000')
            """, arguments: [unregistered, other])
      }
      #expect(try h.database { try String.fetchOne($0, sql: "SELECT township FROM cases WHERE number = ?", arguments: [early]) } == other)
      #expect(try await store.dashboardAggregateDifferences().isEmpty)
      let now = try Self.rawCases(h)
      try await h.dashboard { client in
        for by in ["township", "department"] {
          let d = try await client.getDashboard(DashboardTests.request("2025-12-01", "2026-11-30", by: by))
          Self.check(
            d,
            Self.expected(
              now, from: try LocalDate(year: 2025, month: 12, day: 1), to: try LocalDate(year: 2026, month: 11, day: 30),
              department: nil, by: by, clock: clock), label: "after the moves, by \(by)")
        }
      }
      let after = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-11-30")) }
      #expect(after.summary.completed == (d.trend.last?.completed ?? 0) + 1)
    }
  }

  @Test("completed cases stored before the aggregates get their figures filled in, and the figures do not move")
  func backfill() async throws {
    try await ServerHarness.run { h in
      let store = h.environment.store
      _ = try store.seed(SeedOptions(cases: 600, until: h.clock.now, seed: 3), clock: h.environment.sla, regionCode: "370830") { _, _ in }
      let request = DashboardTests.request("2025-12-01", "2026-11-30", by: "item")
      let before = try await h.dashboard { try await $0.getDashboard(request) }
      try await store.pool.write { db in
        try db.execute(sql: "UPDATE cases SET one_day = NULL, handling_seconds = NULL, handling_bucket = NULL")
      }
      let stripped = try await h.dashboard { try await $0.getDashboard(request) }
      #expect(stripped.summary.oneDay == 0 && stripped.summary.handlingHoursMean == 0)
      let filled = try await store.backfillCompletionFigures(clock: h.environment.sla, batch: 100)
      #expect(filled == (try h.database { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM cases WHERE completed_at IS NOT NULL") }))
      var after = try await h.dashboard { try await $0.getDashboard(request) }
      var expected = before
      after.clearComputedAt()
      expected.clearComputedAt()
      #expect(after == expected)
      #expect(try await store.dashboardAggregateDifferences().isEmpty)
      #expect(try await store.backfillCompletionFigures(clock: h.environment.sla) == 0)
    }
  }
}
