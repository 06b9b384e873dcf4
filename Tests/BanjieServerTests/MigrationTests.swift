import BanjieCore
import BanjieCrypto
import Foundation
import GRDB
import Testing

@testable import BanjieStore

/// The schema's migrations are frozen (docs/ARCHITECTURE.md, "Migrations"): each one's SQL is pinned
/// here, and a database made at every earlier migration, with rows in it, opens with the current
/// store into the same schema a fresh database has, with the same figures.
@Suite("Migrations")
struct MigrationTests {
  /// The SHA-256 of each shipped migration's SQL. A shipped migration never changes: if this test
  /// fails, put the change in a new migration instead of editing the old one.
  static let pinned: [(id: String, sha256: String)] = [
    ("v1-foundation", "04d24f40f22984d97e31b201a607694f7b9ab22e542ccf2aef0e4781aab0a6ba"),
    ("v2-enterprises", "959b789f750ecf8f856840c91d45f22c74d4a8f3dc83b20fbc8ead6d6246fa35"),
    ("v3-ratings", "bf4f13eba4d571a1fc1d88208ca3ddb78f7c962fd5c3bba5498c9023622bc422"),
    ("v4-revocations", "ca945ef523e8b8b1de1518f6dbc37fe2131a9ac819767c95b491228751487e32"),
    ("v5-awards", "31e012fb941f52eb4b9c44254cbdc6fff21c6f55eb5efc4e66a067133d1368af"),
    ("v6-dashboard", "add0546b10e11a527e66fd46bf7c7656831034114f5b079e8e558fb3ec3f5538"),
    ("v7-registry", "2b1cbe25ea2460c020e22b1ebffed5190386fc45f224ee53a1ad60308dfc2637"),
    ("v8-supervision", "c6a114a648af51e03e256992cd0fc1b72759f84a2d7434a9d6bf2d4c21282006"),
    ("v9-minor-pending", "2837e60f6554cdabf9b2cdb0e3ba13886096c39f00263f89fdd2c0e0c43b5e38"),
    ("v10-hall-workflows", "1b69d0918777d2f5b557cce2527c917be38385fa94c468e06275c51e34feca90"),
    ("v11-countersign", "699866d118afca410568b744967660f40242573603ce44df293ec8b3ca93c7b3"),
    ("v12-townships", "d704d0a9e03c4f84257e5cd04529d467d2b7ac6e4bd8d83709f304771c19da58"),
    ("v13-appeals", "81ee9f915500a9868963e7ebabc93eabdaed54c2ccecca8a7b8042713cf2a6ab"),
    ("v14-proposals", "e7995a6646b106ff3311dad40eb36a19ee214b52d2e78ba5c6f3017f5ad1176d"),
    ("v15-targets", "8ba725d01be389180a9e968910e9b6d8431712d2566a0e6773734f234c736cd8"),
  ]

  @Test("every shipped migration's SQL is exactly as it shipped")
  func frozen() {
    #expect(Migrations.all.map(\.id).prefix(Self.pinned.count) == Self.pinned.map(\.id)[...])
    for (migration, pin) in zip(Migrations.all, Self.pinned) {
      #expect(SHA256.hex(Array(migration.sql.utf8)) == pin.sha256, "migration \(migration.id) was edited after it shipped")
    }
    // A new migration gets pinned as soon as it is added.
    #expect(Migrations.all.count == Self.pinned.count, "pin the new migration's SHA-256 here")
  }

  @Test("the runtime trigger re-creation makes exactly the triggers the migrations made")
  func triggersAgree() async throws {
    try await Self.withDirectory { dir in
      let store = try BanjieStore(path: dir + "/fresh.sqlite")
      let migrated = try await Self.schema(store.pool)
      try await store.pool.write { db in
        try DashboardSchema.dropTriggers(db)
        try DashboardSchema.createTriggers(db)
      }
      #expect(try await Self.schema(store.pool) == migrated)
    }
  }

  @Test("a database made at every earlier migration, with data, opens with the current store", arguments: 1...Self.pinned.count)
  func upgrade(level: Int) async throws {
    try await Self.withDirectory { dir in
      let fresh = try BanjieStore(path: dir + "/fresh.sqlite")
      let freshSchema = try await Self.schema(fresh.pool)

      // The old database: the frozen migrations up to `level`, then rows as that release wrote them.
      let path = dir + "/old.sqlite"
      do {
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for migration in Migrations.all.prefix(level) {
          let sql = migration.sql
          migrator.registerMigration(migration.id) { db in try db.execute(sql: sql) }
        }
        try migrator.migrate(queue)
        try await queue.write { db in try Self.insertRows(db, level: level) }
        try queue.close()
      }

      let store = try BanjieStore(path: path)
      let applied = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
      }
      #expect(applied == Migrations.all.map(\.id))
      #expect(try await Self.schema(store.pool) == freshSchema)
      #expect(try await store.integrityCheck() == "ok")

      // Nothing lost, and every figure as the rows say.
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      try await store.backfillCompletionFigures(clock: clock)
      #expect(try await store.dashboardAggregateDifferences() == [])
      #expect(try await store.verifyAudit().ok)
      let counts = try await store.pool.read { db in
        (
          cases: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cases") ?? -1,
          received: try Int.fetchOne(db, sql: "SELECT SUM(received) FROM dashboard_daily WHERE dim = 'department'") ?? -1,
          completed: try Int.fetchOne(db, sql: "SELECT SUM(completed) FROM dashboard_daily WHERE dim = 'department'") ?? -1,
          onTime: try Int.fetchOne(db, sql: "SELECT SUM(on_time) FROM dashboard_daily WHERE dim = 'department'") ?? -1,
          rated: try Int.fetchOne(db, sql: "SELECT SUM(rated) FROM dashboard_daily WHERE dim = 'department'") ?? -1,
          open: try Int.fetchOne(db, sql: "SELECT SUM(n) FROM dashboard_open WHERE dim = 'department'") ?? -1,
          township: try String.fetchOne(db, sql: "SELECT township FROM cases WHERE enterprise_uscc IS NOT NULL"),
          demands: try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(n), 0) FROM dashboard_backlog WHERE kind = 'demand'") ?? -1,
          rectifications: try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(n), 0) FROM dashboard_backlog WHERE kind = 'rectification'") ?? -1,
          oneDay: try Int.fetchOne(db, sql: "SELECT one_day FROM cases WHERE number = ?", arguments: [Self.completedNumber])
        )
      }
      let hall = try await store.pool.read { db in
        (
          windowReceived: try Int.fetchOne(db, sql: "SELECT SUM(received) FROM dashboard_daily WHERE dim = 'channel' AND key = 'WINDOW'"),
          notZeroTrip: try Int.fetchOne(db, sql: "SELECT SUM(received) FROM dashboard_daily WHERE dim = 'trip' AND key = 'other'"),
          responder: try String.fetchOne(
            db, sql: "SELECT first_responder_person || '/' || responsible_person || '/' || served_window FROM cases WHERE number = ?",
            arguments: [Self.completedNumber]),
          ratedPerson: try String.fetchOne(db, sql: "SELECT rated_person FROM rectifications"),
          confirmation: try String.fetchOne(db, sql: "SELECT confirmation FROM rectifications"),
          readers: try String.fetchAll(db, sql: "SELECT department_code || ':' || reason FROM case_readers"),
          townships: try String.fetchAll(db, sql: "SELECT name || ':' || code FROM townships ORDER BY name"),
          moved: try String.fetchOne(db, sql: "SELECT township FROM enterprises WHERE uscc = '91370830000001002R'"),
          policy: try String.fetchOne(db, sql: "SELECT eligibility FROM policies")
        )
      }
      let withEnterprises = level >= 2
      #expect(counts.cases == (withEnterprises ? 4 : 3))
      #expect(counts.received == counts.cases)
      #expect(counts.completed == 1)
      #expect(counts.onTime == 1)
      #expect(counts.oneDay == 1)
      #expect(counts.open == 1)
      #expect(counts.rated == (level >= 3 ? 1 : 0))
      #expect(counts.township == (withEnterprises ? "南旺镇" : nil))
      #expect(counts.demands == (withEnterprises ? 1 : 0))
      #expect(counts.rectifications == (level >= 3 ? 1 : 0))
      // v10: every case came in at a window; the first event's clerk is the first responder and
      // responsible; a completed case was served at its window; a rectification names the clerk
      // who completed the rated case.
      #expect(hall.windowReceived == counts.cases)
      #expect(hall.notZeroTrip == counts.cases)
      // (Rows written at v10 itself carry the release's defaults: nothing to fill in.)
      #expect(hall.responder == (level < 10 ? "张伟/张伟/A03" : "//"))
      let firstOrg = try await store.pool.read { db in
        try String.fetchOne(db, sql: "SELECT first_responder_org FROM cases WHERE number = ?", arguments: [Self.completedNumber])
      }
      #expect(firstOrg == (level < 10 ? "ZWFW" : ""))
      #expect(hall.ratedPerson == (level < 3 ? nil : level < 10 ? "李娜" : ""))
      // A satisfied follow-up already confirmed; the receiving clerk's department (一窗受理) reads.
      #expect(hall.confirmation == (level < 3 ? nil : level < 10 ? "FOLLOW_UP" : ""))
      #expect(hall.readers == (level < 10 ? ["ZWFW:RECEIVING"] : []))
      // v12: the county's current divisions by name, no unverified codes; 南站镇's enterprise is in 南站街道.
      #expect(hall.townships == Township.sampleCounty.map { "\($0.name):" }.sorted())
      #expect(hall.moved == (level >= 2 && level < 12 ? "南站街道" : nil))
      #expect(hall.policy == (level >= 2 && level < 12 ? #"{"industries":[],"scales":[],"townships":["南站街道"]}"# : nil))

      // And the upgraded store takes new writes that keep the aggregates exact.
      _ = try await store.importCatalog(
        departments: [DepartmentRecord(code: "D2", name: "二局")], items: [], actor: .system, now: Self.day(10, 9))
      #expect(try await store.dashboardAggregateDifferences() == [])
      #expect(try await store.verifyAudit().ok)
    }
  }

  // MARK: Helpers

  static let completedNumber = "370830-20261102-000001"

  /// 2026-11-`day` at `hour`:00 Asia/Shanghai.
  static func day(_ day: Int, _ hour: Int) -> Date {
    var components = DateComponents(year: 2026, month: 11, day: day, hour: hour)
    components.timeZone = TimeZone(identifier: "Asia/Shanghai")
    return Calendar(identifier: .gregorian).date(from: components) ?? Date(timeIntervalSince1970: 0)
  }

  /// Rows as a release at `level` wrote them, with that release's columns only.
  static func insertRows(_ db: Database, level: Int) throws {
    let at = Self.day(2, 9)
    try db.execute(sql: "INSERT INTO departments (code, name) VALUES ('SCJGJ', '市场监管局')")
    try db.execute(
      sql: """
        INSERT INTO service_items (code, name, department_code, kind, promised_limit, limit_unit, legal_limit_days, materials, allows_minor_pending)
        VALUES ('SCJGJ-003', '食品经营许可', 'SCJGJ', 'promised', 3, 'working_days', 20, '[]', 0)
        """)
    try AuditLog.append(db, at: at, actor: .system, action: "catalog.import", entity: "catalog", entityID: "sample")
    // Completed on its first day (on time, one-day), open and green, and waiting for intake.
    try Self.insertCase(
      db, id: 1, number: Self.completedNumber, state: .completed, received: Self.day(2, 9),
      accepted: Self.day(2, 9), due: Self.day(5, 9), colour: nil, completed: Self.day(2, 15))
    try Self.insertCase(
      db, id: 2, number: "370830-20261102-000002", state: .accepted, received: Self.day(2, 10),
      accepted: Self.day(2, 10), due: Self.day(5, 10), colour: .green, completed: nil)
    try Self.insertCase(
      db, id: 3, number: "370830-20261102-000003", state: .received, received: Self.day(2, 11),
      accepted: nil, due: nil, colour: nil, completed: nil)
    try AuditLog.append(db, at: at, actor: .system, action: "case.submit", entity: "case", entityID: Self.completedNumber)
    for (seq, action, from, to) in [
      (1, "receive", nil, "RECEIVED"), (2, "accept", "RECEIVED", "ACCEPTED"), (3, "complete", "ACCEPTED", "COMPLETED"),
    ] {
      try db.execute(
        sql: """
          INSERT INTO case_events (case_id, seq, at, action, from_state, to_state, actor_role, actor_organization, actor_person, note)
          VALUES (1, ?, ?, ?, ?, ?, 'clerk', ?, ?, '')
          """, arguments: [seq, at, action, from, to, seq == 1 ? "ZWFW" : "SCJGJ", seq == 3 ? "李娜" : "张伟"])
    }
    guard level >= 2 else { return }
    try db.execute(
      sql: """
        INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)
        VALUES ('91370830000001001N', '汶上县鲁源机械有限公司', 'C', 'small', '南旺镇', ?, 1, ?)
        """, arguments: [at, at])
    try Self.insertCase(
      db, id: 4, number: "370830-20261102-000004", state: .received, received: Self.day(2, 12),
      accepted: nil, due: nil, colour: nil, completed: nil, enterprise: "91370830000001001N")
    if level < 12 {
      // An enterprise of 南站镇, which v12 lists as 南站街道.
      try db.execute(
        sql: """
          INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)
          VALUES ('91370830000001002R', '汶上县南站物流有限公司', 'G', 'small', '南站镇', ?, 1, ?)
          """, arguments: [at, at])
      try db.execute(
        sql: """
          INSERT INTO policies (title, summary, eligibility, created_at, created_by)
          VALUES ('物流企业稳岗补贴', '摘要', '{"industries":[],"scales":[],"townships":["南站镇"]}', ?, 'office')
          """, arguments: [at])
    }
    if level >= 6 {
      // From v6 on, the store writes the enterprise's township on the case itself.
      try db.execute(sql: "UPDATE cases SET township = '南旺镇' WHERE id = 4")
    }
    try db.execute(
      sql: """
        INSERT INTO demands (number, uscc, category, description, department_code, limit_working_days, state, raised_by,
          raised_at, clock_start, due_at, colour, version, updated_at)
        VALUES ('SQ-370830-20261102-0001', '91370830000001001N', 'land', '扩建厂房用地', 'SCJGJ', 10, 'OPEN', 'liaison', ?, ?, ?, 'green', 1, ?)
        """, arguments: [at, at, Self.day(16, 17), at])
    guard level >= 3 else { return }
    try db.execute(
      sql: """
        INSERT INTO ratings (case_id, case_number, uscc, level, comment, rated_at, rated_by)
        VALUES (1, ?, '91370830000001001N', 5, '很满意', ?, 'enterprise')
        """, arguments: [Self.completedNumber, Self.day(3, 9)])
    try db.execute(
      sql: """
        INSERT INTO rectifications (number, case_id, case_number, department_code, state, limit_working_days, opened_at, due_at, colour,
          version, updated_at)
        VALUES ('ZG-370830-20261103-0001', 1, ?, 'SCJGJ', 'OPEN', 15, ?, ?, 'green', 1, ?)
        """, arguments: [Self.completedNumber, Self.day(3, 9), Self.day(24, 17), Self.day(3, 9)])
    if level < 10 {
      // A follow-up call in which the enterprise was satisfied (before v10 recorded confirmations).
      try db.execute(
        sql: """
          UPDATE rectifications SET state = 'FOLLOWED_UP', follow_up_result = '电话回访，满意', follow_up_satisfied = 1, followed_up_at = ?
          """, arguments: [Self.day(4, 9)])
    }
    guard level >= 4 else { return }
    try db.execute(
      sql: "INSERT INTO revocations (serial, reason, revoked_at, revoked_by) VALUES ('75E67BB7', '证书遗失', ?, 'office')", arguments: [at])
  }

  static func insertCase(
    _ db: Database, id: Int64, number: String, state: CaseState, received: Date, accepted: Date?, due: Date?, colour: SLAColour?,
    completed: Date?, enterprise: String? = nil
  ) throws {
    try db.execute(
      sql: """
        INSERT INTO cases (id, number, item_code, department_code, window, applicant, enterprise_uscc, state, outcome, version,
          received_at, received_day, accepted_at, limit_value, limit_unit, due_at, colour, completed_at, received_by, updated_at)
        VALUES (?, ?, 'SCJGJ-003', 'SCJGJ', 'A03', '王小二', ?, ?, ?, 1, ?, '2026-11-02', ?, 3, 'working_days', ?, ?, ?, 'clerk', ?)
        """,
      arguments: [
        id, number, enterprise, state.rawValue, completed == nil ? nil : CaseOutcome.approved.rawValue, received, accepted, due,
        colour?.rawValue, completed, received,
      ])
  }

  /// Every schema object but SQLite's and GRDB's own, as (type, name, SQL).
  static func schema(_ pool: DatabasePool) async throws -> [String] {
    try await pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT type, name, tbl_name, sql FROM sqlite_master
          WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY type, name
          """
      ).map {
        "\($0["type"] as String? ?? "") \($0["name"] as String? ?? "") on \($0["tbl_name"] as String? ?? ""): \($0["sql"] as String? ?? "")"
      }
    }
  }

  static func withDirectory(_ body: (String) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-migrations-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await body(dir)
  }
}
