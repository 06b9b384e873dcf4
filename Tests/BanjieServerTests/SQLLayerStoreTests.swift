import BanjieCore
import Foundation
import GRDB
import Testing

@testable import BanjieStore

// The store files converted to the SQL layer store the same bytes and read the same records as
// the GRDB code they replace. Each comparison runs the new code on a store and the replaced code,
// kept here as it was, on a byte-for-byte copy of that store, then compares the rows both left.
extension SQLLayerTests {
  static let now = GroupCommitTests.now
  /// An instant with a fraction below the millisecond, which stored dates round.
  static let later = GroupCommitTests.now.addingTimeInterval(3 * 3600 + 0.123_456)

  /// `body` with a store prepared by `setup` and a copy of it made after `setup`.
  static func withTwin(
    _ setup: (BanjieStore, SLAClock) async throws -> Void, _ body: (BanjieStore, BanjieStore, SLAClock) async throws -> Void
  ) async throws {
    try await GroupCommitTests.withCatalog { store, clock in
      try await setup(store, clock)
      let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-twin-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: dir) }
      try await store.pool.read { try SQLiteSQLConnection($0).backup(toFile: dir + "/twin.sqlite") }
      try await body(store, try BanjieStore(path: dir + "/twin.sqlite"), clock)
    }
  }

  /// Every row of `table` as its columns' storage classes and bytes (hex), sorted.
  static func dump(_ store: BanjieStore, _ table: String) async throws -> [String] {
    try await store.pool.read { db in
      let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table]).map {
        $0["name"] as String
      }
      let expression = columns.map { "typeof(\"\($0)\") || ':' || hex(\"\($0)\")" }.joined(separator: " || '|' || ")
      return try String.fetchAll(db, sql: "SELECT \(expression) FROM \(table)").sorted()
    }
  }

  static func expectSameRows(_ a: BanjieStore, _ b: BanjieStore, _ tables: [String]) async throws {
    for table in tables {
      let layer = try await Self.dump(a, table)
      let grdb = try await Self.dump(b, table)
      #expect(!layer.isEmpty, "no rows in \(table)")
      #expect(layer == grdb, "\(table) differs")
    }
  }

  /// Three cases: one RECEIVED, one ACCEPTED, one completed (not open).
  static func openCases(_ store: BanjieStore, _ clock: SLAClock) async throws {
    var numbers: [String] = []
    for _ in 0..<3 { numbers.append(try await GroupCommitTests.submit(store, clock: clock, key: nil).record.number) }
    for (number, actions) in [(numbers[1], [CaseAction.accept]), (numbers[2], [.accept, .complete(.approved)])] {
      for action in actions {
        _ = try await store.transition(
          number: number, action: action, expectedVersion: nil, actor: GroupCommitTests.clerk, authorize: { _, _ in .handler },
          clock: clock, now: Self.now, key: nil)
      }
    }
  }

  static let openStates = [CaseState.received.rawValue, CaseState.accepted.rawValue, CaseState.suspended.rawValue]

  @Test("a policy, its pushes and an acknowledgement store what GRDB's record and INSERT OR IGNORE stored")
  func policiesMatchGRDB() async throws {
    let office = Actor(role: .office, organization: "县政务服务中心", person: "李明", certificateSerial: "0B")
    let eligibility = PolicyEligibility(industries: [.c, .f], scales: [.small, .micro], townships: ["汶上街道", "南旺镇"])
    let enterprises: [(String, String, String, String)] = [
      ("91370830A", "C", "small", "汶上街道"), ("91370830B", "F", "micro", "南旺镇"), ("91370830C", "C", "large", "汶上街道"),
      ("91370830D", "A", "small", "南旺镇"), ("91370830E", "C", "micro", "中都街道"),
    ]
    try await Self.withTwin(
      { store, _ in
        try await store.pool.write { db in
          for (uscc, industry, scale, township) in enterprises {
            try db.execute(
              sql: """
                INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 1, ?)
                """, arguments: [uscc, "企业\(uscc)", industry, scale, township, Self.now, Self.now])
          }
        }
      },
      { layer, grdb, _ in
        let created = try await layer.createPolicy(
          title: "稳岗补贴", summary: "对象与条件", eligibility: eligibility, actor: office, now: Self.later, key: nil)
        let (_, first) = try await layer.pushPolicy(id: try #require(created.record.id), actor: office, now: Self.later, key: nil)
        let (view, again) = try await layer.pushPolicy(id: try #require(created.record.id), actor: office, now: Self.later, key: nil)
        let acknowledged = try await layer.acknowledgePolicy(
          id: try #require(created.record.id), uscc: "91370830A", actor: office, now: Self.later.addingTimeInterval(60), key: nil)
        // An acknowledgement again changes nothing.
        _ = try await layer.acknowledgePolicy(
          id: try #require(created.record.id), uscc: "91370830A", actor: office, now: Self.later.addingTimeInterval(120), key: nil)
        #expect(first == 2 && again == 0 && view.pushed == 2)
        #expect(acknowledged.acknowledged == 1 && acknowledged.acknowledgedByCaller)

        // The replaced statements, as they ran.
        try await grdb.pool.write { db in
          var record = PolicyRecord(
            id: nil, title: "稳岗补贴", summary: "对象与条件", eligibility: eligibility, createdAt: Self.later, createdBy: "李明 (县政务服务中心)")
          try record.insert(db)
          var arguments: StatementArguments = [record.id, Self.later]
          arguments += StatementArguments(eligibility.industries.map(\.rawValue))
          arguments += StatementArguments(eligibility.scales.map(\.rawValue))
          arguments += StatementArguments(Array(eligibility.townships))
          let sql =
            "INSERT OR IGNORE INTO policy_pushes (policy_id, uscc, pushed_at) SELECT ?, uscc, ? FROM enterprises "
            + "WHERE industry IN (?,?) AND scale IN (?,?) AND township IN (?,?)"
          try db.execute(sql: sql, arguments: arguments)
          try db.execute(sql: sql, arguments: arguments)
          try db.execute(
            sql: "UPDATE policy_pushes SET acknowledged_at = ? WHERE policy_id = ? AND uscc = ?",
            arguments: [Self.later.addingTimeInterval(60), record.id, "91370830A"])
        }
        try await Self.expectSameRows(layer, grdb, ["policies", "policy_pushes"])

        let records = try await grdb.pool.read { try PolicyRecord.order(Column("id").desc).fetchAll($0) }
        #expect(try await layer.listPolicies(enterprise: nil).map(\.record) == records)
        #expect(try await layer.listPolicies(enterprise: "91370830B").map(\.record) == records)
        #expect(try await layer.listPolicies(enterprise: "91370830D").isEmpty)
        let mine = try await layer.listPolicies(enterprise: "91370830A")
        #expect(mine.map(\.acknowledgedByCaller) == [true] && mine.map(\.pushed) == [2])

        // Eligible to everyone: the push without conditions reaches every enterprise.
        let open = try await layer.createPolicy(
          title: "营商环境", summary: "", eligibility: PolicyEligibility(), actor: office, now: Self.later, key: nil)
        let (_, all) = try await layer.pushPolicy(id: try #require(open.record.id), actor: office, now: Self.later, key: nil)
        #expect(all == enterprises.count)
        await #expect(throws: DomainError.self) {
          _ = try await layer.acknowledgePolicy(id: try #require(open.record.id), uscc: "NOPE", actor: office, now: Self.later, key: nil)
        }
        await #expect(throws: DomainError.self) { _ = try await layer.pushPolicy(id: 999, actor: office, now: Self.later, key: nil) }
      })
  }

  @Test("a setting and its change store what GRDB's statements stored; open cases are recomputed as before")
  func settingsMatchGRDB() async throws {
    let office = Actor(role: .office, organization: "县政务服务中心", person: "李明", certificateSerial: "0B")
    try await Self.withTwin(Self.openCases) { layer, grdb, clock in
      let defaults = CountySettings()
      let makeClock: @Sendable (CountySettings) throws -> SLAClock = {
        try SLAClock(calendar: clock.calendar, yellowThreshold: $0.yellowThreshold)
      }
      let changes: [(CountySettings.Key, String)] = [(.demandLimitWorkingDays, "12"), (.yellowThreshold, "0.7")]
      var view: SettingsView?
      for (key, value) in changes {
        view = try await layer.setSetting(
          key, to: value, defaults: defaults, actor: office, now: Self.later, idempotency: nil, clock: makeClock, install: { _ in })
      }

      let settings = try #require(view).settings
      // The replaced statements, as they ran.
      try await grdb.pool.write { db in
        for (key, value) in changes {
          let put = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
          try db.execute(sql: put, arguments: [key.metaKey, try CountySettings.canonical(key, value)])
          try db.execute(sql: put, arguments: ["settings.\(key.rawValue).updated_at", Self.later])
          try db.execute(sql: put, arguments: ["settings.\(key.rawValue).updated_by", "李明 (office, 县政务服务中心)"])
        }
        let clock = try makeClock(settings)
        let open = try CaseRecord.filter(Self.openStates.contains(Column("state"))).fetchAll(db)
        for var record in open {
          let before = record
          if record.state == .received { record.intakeDueAt = try clock.intakeDeadline(receivedAt: record.receivedAt) }
          try BanjieStore.refreshTiming(db, &record, clock: clock, now: Self.later)
          if record.colour != before.colour && record.state == .accepted {
            record.colour = before.colour
            record.colourChangesAt = Self.later
          }
          if record != before { try record.update(db, columns: ["due_at", "colour", "intake_due_at", "colour_changes_at"]) }
        }
      }
      let metaKeys = "key = 'demands.limit_working_days' OR key = 'sla.yellow_threshold' OR key LIKE 'settings.%'"
      let meta = { (store: BanjieStore) in
        try await store.pool.read {
          try String.fetchAll($0, sql: "SELECT key || '=' || typeof(value) || ':' || hex(value) FROM meta WHERE \(metaKeys) ORDER BY key")
        }
      }
      let layerMeta = try await meta(layer)
      #expect(layerMeta.count == 6)
      #expect(try await meta(grdb) == layerMeta)
      try await Self.expectSameRows(layer, grdb, ["cases"])

      // Read back as GRDB read it: the values over the defaults, each change's time and author.
      let read = try await layer.settings(defaults: defaults)
      #expect(read == view)
      #expect(read.settings.demandLimitWorkingDays == 12 && read.settings.yellowThreshold == 0.7)
      let at = try await grdb.pool.read {
        try Date.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'settings.yellow_threshold.updated_at'")
      }
      #expect(read.changes["yellow_threshold"] == SettingsView.Change(at: try #require(at), by: "李明 (office, 县政务服务中心)"))
      #expect(read.changes["rating_window_days"] == nil)
    }
  }

  @Test("a calendar year import stores the year and recomputes open cases as GRDB's code did; the calendar reads back the same")
  func calendarMatchesGRDB() async throws {
    // Tuesday and Wednesday after the cases were received become holidays.
    let data = try CalendarYearData(
      year: 2025, holidays: try [LocalDate(year: 2025, month: 12, day: 2), LocalDate(year: 2025, month: 12, day: 3)], makeUpWorkdays: [])
    try await Self.withTwin(Self.openCases) { layer, grdb, clock in
      let calendar = clock.calendar.installing(data)
      let result = try await layer.importCalendarYear(
        data, forceReason: "测试", actor: .system, now: Self.later, clock: { try SLAClock(calendar: calendar) }, install: { _ in })
      #expect(result.recomputed == 2)

      // The replaced statements, as they ran.
      try await grdb.pool.write { db in
        try db.execute(
          sql:
            "INSERT INTO calendar_years (year, data, imported_at) VALUES (?, ?, ?) ON CONFLICT(year) DO UPDATE SET data = excluded.data, imported_at = excluded.imported_at",
          arguments: [data.year, String(decoding: data.jsonData(), as: UTF8.self), Self.later])
        let clock = try SLAClock(calendar: calendar)
        for var record in try CaseRecord.filter(Self.openStates.contains(Column("state"))).fetchAll(db) {
          let before = (record.dueAt, record.intakeDueAt, record.colourChangesAt)
          if record.state == .received { record.intakeDueAt = try clock.intakeDeadline(receivedAt: record.receivedAt) }
          try BanjieStore.refreshTiming(db, &record, clock: clock, now: Self.later)
          if before.0 != record.dueAt || before.1 != record.intakeDueAt {
            try record.update(db, columns: ["due_at", "colour", "intake_due_at", "colour_changes_at"])
          } else if before.2 != record.colourChangesAt {
            try record.update(db, columns: ["colour_changes_at"])
          }
        }
      }
      try await Self.expectSameRows(layer, grdb, ["calendar_years", "cases"])

      let grdbCalendar = try await grdb.pool.read { db in
        var calendar = WorkingCalendar.standard
        for bytes in try Data.fetchAll(db, sql: "SELECT CAST(data AS BLOB) FROM calendar_years ORDER BY year") {
          calendar.install(try CalendarYearData(json: bytes))
        }
        return calendar
      }
      #expect(try await layer.loadCalendar() == grdbCalendar)
      #expect(try await layer.loadCalendar() == calendar)
    }
  }

  @Test("open cases read through the layer are the records GRDB's query read")
  func openCasesMatchGRDB() async throws {
    try await GroupCommitTests.withCatalog { store, clock in
      try await Self.openCases(store, clock)
      let (layer, grdb) = try await store.pool.read { db in
        (
          try CaseRecord.open(SQLiteSQLConnection(db)),
          try CaseRecord.filter(Self.openStates.contains(Column("state"))).fetchAll(db)
        )
      }
      #expect(layer.count == 2)
      #expect(layer == grdb)
    }
  }

  @Test("the audit list reads the rows GRDB read, filtered alike, and only fixed statements enter the cache")
  func auditRows() async throws {
    try await GroupCommitTests.withCatalog { store, clock in
      try await Self.openCases(store, clock)
      let all = try await store.listAuditRows(AuditFilter())
      let grdb = try await store.pool.read { db in
        try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC").map { row -> [String] in
          [String(row["id"] as Int64), row["at"], row["actor_person"], row["detail"], row["prev_hash"], row["hash"]]
        }
      }
      #expect(all.rows.map { [String($0.id), $0.atText, $0.actorPerson, $0.detail, $0.prevHash, $0.hash] } == grdb)
      #expect(all.rows.count > 4)
      #expect(all.next == nil)

      var filter = AuditFilter()
      filter.actor = "张"
      filter.pageSize = 2
      let page = try await store.listAuditRows(filter)
      #expect(page.rows.count == 2 && page.next == page.rows.last?.id)
      #expect(page.rows.allSatisfy { $0.actorPerson.contains("张") })
      filter.afterID = page.next
      let rest = try await store.listAuditRows(filter)
      #expect(rest.rows.allSatisfy { $0.id < (page.next ?? 0) })
      filter.actor = "%"
      #expect(try await store.listAuditRows(filter).rows.isEmpty)

      let first = try #require(all.rows.last)
      #expect(try await store.auditRow(id: first.id) == first)
      #expect(try await store.auditRow(id: 999_999) == nil)
    }
  }
}
