import BanjieCore
import BanjieCrypto
import Foundation
import GRDB
import Synchronization
import Testing

@testable import BanjieStore

/// The second storage engine's foundation on a real PostgreSQL (PostgresTestCluster): the SQL
/// layer's values and rows, the placeholder rewrite, the migrator and its refusals, the schema
/// against SQLite's, and the write lock that lets several nodes share one database.
@Suite("PostgreSQL engine")
struct PostgresEngineTests {
  static let probe = "CREATE TABLE probe (id BIGSERIAL PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, t TEXT, b BYTEA)"

  /// Runs `body` in a write transaction of a fresh, unmigrated database with the probe table.
  static func withProbe<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    try await PostgresTestCluster.withDatabase(migrated: false) { database in
      try await database.write { sql in
        try sql.execute(Self.probe)
        return try body(sql)
      }
    }
  }

  /// The SHA-256 of each PostgreSQL migration's statements joined by "\n;\n". Frozen like the
  /// SQLite ones (MigrationTests): a schema change is a new migration, pinned here.
  static let pinned: [(id: String, sha256: String)] = [
    ("v1-foundation", "9c6ff6aa9bdc5c8b026f8e5ffd6ee39f10960f1227b04bc70d37ccb3a46c8442"),
    ("v2-enterprises", "9d8503fe43e9e879a988675e6231a337466bc9564b91aa67c815c5244878ae4e"),
    ("v3-ratings", "361fde97fef986759391a25fc11463e8305ca441b6bc83840f606c8920a2d5f2"),
    ("v4-revocations", "190b6fc5184763d35de93abf146bcf5a6311e579a70cd20d8183b3a0b38bae2d"),
    ("v5-awards", "c69dc7d36147223b79a47b10ed14679174fe04217424155a3078df320b499c12"),
    ("v6-dashboard", "0de7129a045dff75356fbb20c77b7c99bc613699cf1eeb0d75ad8f490d99b2c0"),
    ("v7-registry", "375721381eba5830cb9db75a55bf1c8f85d06419ea31545709dd9787f0e003df"),
    ("v8-supervision", "c7c103590cca697dddc27bc8a8ea80a0941dc0ee8c7be3f4776e5c0ee16ed18a"),
    ("v9-minor-pending", "38ae98455fe0e47db954b20c02fc3b1906f128a9848320c575cf9f78e75d73b7"),
    ("v10-hall-workflows", "2198b00f7954522d742e9496b294bac5398b04d5246f1efa4294da8e77cef937"),
    ("v11-countersign", "9ef66b97c46e5b6e60c1df48ffa097bbfc10548065bf82bc47e8e96ec3af9a7b"),
    ("v12-townships", "1c3b09ca45fd1a101968cdbf4f213e3fce7aef602416d90074b81bc7785fde0f"),
    ("v13-appeals", "18df0a417ef5f7a166ada31ffa6d5ddb45f60731ce988de1ba72436581d7e1ea"),
    ("v14-proposals", "9f382bcc7b1549b435daca646501ca183f4ec3776af4ebaef0581d83b6937280"),
    ("v15-targets", "5f434a784f703252b96643c4430d1676a119b9c054e9dd7b137006ded230c7c0"),
  ]

  @Test("the PostgreSQL migrations are the pinned ones, in the SQLite migrations' order")
  func migrationsPinned() {
    #expect(PostgresMigrations.all.map(\.identifier) == Self.pinned.map(\.id))
    #expect(PostgresMigrations.all.map(\.identifier) == Migrations.all.map(\.id))
    for (migration, pin) in zip(PostgresMigrations.all, Self.pinned) {
      let text = migration.statements.joined(separator: "\n;\n")
      #expect(SHA256.hex(Array(text.utf8)) == pin.sha256, "PostgreSQL migration \(migration.identifier) was edited after it shipped")
    }
  }

  @Test("SQLite's placeholders are rewritten, leaving quoted text, names, comments and dollar bodies alone")
  func placeholders() {
    #expect(PostgresPlaceholders.rewrite("SELECT ? , ?") == "SELECT $1 , $2")
    #expect(PostgresPlaceholders.rewrite("SELECT ?2, ?1, ?2") == "SELECT $2, $1, $2")
    #expect(PostgresPlaceholders.rewrite("SELECT '?', \"a?\", ? -- ?\n, ?") == "SELECT '?', \"a?\", $1 -- ?\n, $2")
    #expect(PostgresPlaceholders.rewrite("SELECT 'it''s ?', ? /* ? */") == "SELECT 'it''s ?', $1 /* ? */")
    #expect(PostgresPlaceholders.rewrite("DO $$ SELECT '?' $$; SELECT ?") == "DO $$ SELECT '?' $$; SELECT $1")
    #expect(PostgresPlaceholders.rewrite("SELECT $body$ ? $body$, ?") == "SELECT $body$ ? $body$, $1")
    #expect(PostgresPlaceholders.rewrite("SELECT 县 = ?") == "SELECT 县 = $1")
  }

  @Test("forEach streams a result larger than a cursor batch, with parameters, inside and outside a transaction")
  func forEachStreams() async throws {
    struct Stop: Error {}
    let (outside, inside, stopped, after) = try await PostgresTestCluster.withDatabase(migrated: false) { database in
      try await database.writer.run { sql -> ([Int64], [Int64], Int, [Int64]) in
        try sql.execute("CREATE TABLE stream_probe (n BIGINT PRIMARY KEY)")
        try sql.execute("INSERT INTO stream_probe SELECT generate_series(1, 2500)")
        func numbers() throws -> [Int64] {
          var seen: [Int64] = []
          try sql.forEach("SELECT n FROM stream_probe WHERE n > ? ORDER BY n", [.integer(10)]) { row in
            if case .integer(let n) = row.values[0] { seen.append(n) }
          }
          return seen
        }
        // Outside a transaction: the cursor gets one of its own, and it is ended.
        let outside = try numbers()
        let inside = try sql.transaction("BEGIN") { try numbers() }
        // A body that throws stops the rows; the error reaches the caller and the connection
        // goes on serving.
        var stopped = 0
        do {
          try sql.forEach("SELECT n FROM stream_probe ORDER BY n", []) { _ in
            stopped += 1
            if stopped == 5 { throw Stop() }
          }
        } catch is Stop {}
        return (outside, inside, stopped, try sql.fetchAll(Int64.self, "SELECT count(*) FROM stream_probe"))
      }
    }
    #expect(outside == Array(11...2500))
    #expect(inside == outside)
    #expect(PostgresSQLConnection.cursorBatch < outside.count)
    #expect(stopped == 5)
    #expect(after == [2500])
  }

  @Test("every kind of value round-trips through a real table, NULLs included")
  func roundTripKinds() async throws {
    let rows = try await Self.withProbe { sql in
      let values: [(SQLValue, SQLValue, SQLValue, SQLValue)] = [
        (.integer(Int64.min), .real(-0.5), .text("县政务服务中心 'a' \"b\" ?"), .blob([0, 1, 254, 255])),
        (.integer(Int64.max), .real(1e300), .text(""), .blob([])),
        (.null, .null, .null, .null),
      ]
      for (i, r, t, b) in values { try sql.execute("INSERT INTO probe (i, r, t, b) VALUES (?, ?, ?, ?)", [i, r, t, b]) }
      return try sql.fetchAll("SELECT i, r, t, b FROM probe ORDER BY id").map { $0.values }
    }
    #expect(
      rows == [
        [.integer(Int64.min), .real(-0.5), .text("县政务服务中心 'a' \"b\" ?"), .blob([0, 1, 254, 255])],
        [.integer(Int64.max), .real(1e300), .text(""), .blob([])],
        [.null, .null, .null, .null],
      ])
  }

  @Test("booleans, counts and integral sums read as integers, as on SQLite; a fraction as a real")
  func aggregatesAsIntegers() async throws {
    let row = try await Self.withProbe { sql in
      for value in [1, 2, 3] { try sql.execute("INSERT INTO probe (i) VALUES (?)", [.integer(Int64(value))]) }
      return try #require(
        try sql.fetchOne(
          "SELECT EXISTS (SELECT 1 FROM probe) AS has, COUNT(*) AS n, SUM(i) AS total, AVG(i) AS mean, SUM(i) / 4.0 AS part, 1 = 0 AS no FROM probe"
        ))
    }
    #expect(row["has"] == .integer(1) && row["no"] == .integer(0))
    #expect(row["n"] == .integer(3) && row["total"] == .integer(6) && row["mean"] == .integer(2))
    #expect(row["part"] == .real(1.5))
    #expect(try row.decode(Bool.self, "has") && row.decode(Int.self, "total") == 6)
  }

  @Test("execute answers the rows changed; fetchOne answers nil for no row and for NULL")
  func executeAndFetch() async throws {
    let (inserted, updated, deleted, none, maxOfNothing, typed) = try await Self.withProbe { sql in
      var inserted = 0
      for value in 1...3 { inserted += try sql.execute("INSERT INTO probe (i) VALUES (?)", [.integer(Int64(value))]) }
      let updated = try sql.execute("UPDATE probe SET i = i * 10 WHERE i >= ?", [2])
      let deleted = try sql.execute(uncached: "DELETE FROM probe WHERE i = ?", [.integer(30)])
      let none = try sql.fetchOne("SELECT i FROM probe WHERE i = ?", [.integer(99)])
      let maxOfNothing = try sql.fetchOne(Int64.self, "SELECT MAX(i) FROM probe WHERE i > 1000")
      var typed: [Int] = []
      try sql.forEach("SELECT i FROM probe ORDER BY id", []) { typed.append(try $0.decode(Int.self, at: 0)) }
      return (inserted, updated, deleted, none, maxOfNothing, typed)
    }
    #expect(inserted == 3 && updated == 2 && deleted == 1)
    #expect(none == nil && maxOfNothing == nil)
    #expect(typed == [1, 20])
  }

  @Test("a refused statement says what PostgreSQL said: the SQLSTATE, the message and the constraint")
  func refusedStatement() async throws {
    let error = try await Self.withProbe { sql -> PostgresStatementError? in
      try sql.execute("INSERT INTO probe (id, i) VALUES (1, 1)")
      return #expect(throws: PostgresStatementError.self) { try sql.execute("INSERT INTO probe (id, i) VALUES (1, 2)") }
    }
    #expect(error?.isUniqueViolation == true)
    #expect(error?.constraint == "probe_pkey")
    #expect(
      error?.description.hasPrefix("PostgreSQL refused the statement (SQLSTATE 23505): duplicate key value") == true,
      "\(String(describing: error))")
  }

  @Test("the day of a stored timestamp is the county's day on both engines")
  func dayFragment() async throws {
    let days = try await PostgresTestCluster.withDatabase { database in
      try await database.read { sql in
        try ["2025-12-31 15:59:59.999", "2025-12-31 16:00:00.000"].map {
          try sql.fetchOne(String.self, "SELECT \(sql.dialect.day("?"))", [.text($0)])
        }
      }
    }
    #expect(days == ["2025-12-31", "2026-01-01"])
  }

  @Test("the migrations build the schema SQLite's do: the same tables with the same columns in the same order")
  func schemaMatchesSQLite() async throws {
    let postgres = try await PostgresTestCluster.withDatabase { database in
      try await database.read { sql in
        try sql.fetchAll(
          """
          SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name <> 'banjie_migrations' ORDER BY table_name, ordinal_position
          """
        ).map { "\(try $0.decode(String.self, at: 0)).\(try $0.decode(String.self, at: 1))" }
      }
    }
    let sqlite = Mutex<[String]>([])
    try await StoreTests.withStore { store in
      let columns = try await store.pool.read { db in
        try String.fetchAll(
          db,
          sql: """
            SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'grdb_%' ORDER BY m.name, p.cid
            """)
      }
      sqlite.withLock { $0 = columns }
    }
    let expected = sqlite.withLock { $0 }
    #expect(expected.count > 500)
    #expect(
      postgres == expected,
      "only on PostgreSQL: \(Set(postgres).subtracting(expected)); only on SQLite: \(Set(expected).subtracting(postgres))")
  }

  @Test("migrating twice applies nothing the second time; the latest migration is the last known")
  func migrateIsIdempotent() async throws {
    let (again, latest, count) = try await PostgresTestCluster.withDatabase { database in
      let again = try await database.writer.run { try PostgresMigrations.migrate($0) }
      let (latest, count) = try await database.read { sql in
        (try PostgresMigrations.latest(sql), try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM banjie_migrations"))
      }
      return (again, latest, count)
    }
    #expect(again.isEmpty)
    #expect(latest == PostgresMigrations.all.last?.identifier)
    #expect(count == PostgresMigrations.all.count)
  }

  @Test("a database with tables banjie did not create is refused and left as it was")
  func foreignDatabaseRefused() async throws {
    let (error, tables) = try await PostgresTestCluster.withDatabase(migrated: false) { database in
      _ = try await database.write { sql in try sql.execute("CREATE TABLE payroll (id INTEGER)") }
      let error = await #expect(throws: PostgresMigrationError.self) {
        try await database.writer.run { try PostgresMigrations.migrate($0) }
      }
      let tables = try await database.read { sql in
        try sql.fetchAll(String.self, "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
      }
      return (error, tables)
    }
    #expect(error == .notABanjieDatabase(tables: ["payroll"]))
    #expect(tables == ["payroll"])
  }

  @Test("a database migrated by a newer banjied is refused; a failing migration changes nothing")
  func newerAndFailingRefused() async throws {
    try await PostgresTestCluster.withDatabase(migrated: false) { database in
      let first = PostgresMigration(identifier: "t1", statements: ["CREATE TABLE t1 (id INTEGER)"])
      let broken = PostgresMigration(identifier: "t2", statements: ["CREATE TABLE t2 (id INTEGER)", "CREATE TABLE t1 (id INTEGER)"])
      let failure = await #expect(throws: PostgresMigrationError.self) {
        try await database.writer.run { try PostgresMigrations.migrate($0, migrations: [first, broken]) }
      }
      guard case .failed(let identifier, _) = failure else {
        Issue.record("expected a failed migration, got \(String(describing: failure))")
        return
      }
      #expect(identifier == "t2")
      let untouched = try await database.read { sql in
        try sql.fetchOne(
          Bool.self, "SELECT to_regclass('banjie_migrations') IS NULL AND to_regclass('t1') IS NULL AND to_regclass('t2') IS NULL")
      }
      #expect(untouched == true)

      _ = try await database.writer.run { try PostgresMigrations.migrate($0, migrations: [first]) }
      let newer = await #expect(throws: PostgresMigrationError.self) {
        try await database.writer.run {
          try PostgresMigrations.migrate($0, migrations: [PostgresMigration(identifier: "t0", statements: [])])
        }
      }
      #expect(newer == .newerSchema(found: "t1", latestKnown: "t0"))
    }
  }

  @Test("two nodes' writers take turns: read-then-write counters lose no update, daily numbers never repeat")
  func writeLockAcrossNodes() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let nodeA = PostgresDatabase(location: location)
    let nodeB = PostgresDatabase(location: location)
    defer {
      nodeA.close()
      nodeB.close()
    }
    _ = try await nodeA.writer.run { try PostgresMigrations.migrate($0) }
    _ = try await nodeA.write { sql in
      try sql.execute("CREATE TABLE counter (n BIGINT NOT NULL)")
      try sql.execute("INSERT INTO counter VALUES (0)")
    }
    let day = try LocalDate(year: 2026, month: 12, day: 7)
    let numbers = try await withThrowingTaskGroup(of: String.self) { group in
      for index in 0..<40 {
        let node = index.isMultiple(of: 2) ? nodeA : nodeB
        group.addTask {
          try await node.write { sql in
            // Read, then write what was read plus one: without the lock two nodes would both
            // read the same value and one increment would be lost.
            let n = try sql.fetchOne(Int64.self, "SELECT n FROM counter") ?? -1
            try sql.execute("UPDATE counter SET n = ?", [.integer(n + 1)])
            return try BanjieStore.dailyNumber(
              sql, sequences: "case_number_sequences", prefix: nil, regionCode: "370830", day: day, digits: 6)
          }
        }
      }
      var numbers: [String] = []
      for try await number in group { numbers.append(number) }
      return numbers
    }
    let counted = try await nodeB.read { sql in try sql.fetchOne(Int64.self, "SELECT n FROM counter") }
    #expect(counted == 40)
    #expect(Set(numbers).count == 40)
    #expect(numbers.sorted().first == "370830-20261207-000001" && numbers.sorted().last == "370830-20261207-000040")
  }
}
