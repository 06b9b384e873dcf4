import BanjieCore
import Foundation
import GRDB
import GRDBSQLite
import Synchronization
import Testing

@testable import BanjieStore

/// The engine-neutral SQL layer (Sources/BanjieStore/SQL) over a real SQLite store: values keep
/// their kind and bytes both ways, NULL and wrong kinds fail naming the column, and statements go
/// through GRDB's per-connection cache.
@Suite("SQL layer")
struct SQLLayerTests {
  static let probe = "CREATE TABLE sql_layer_probe (id INTEGER PRIMARY KEY, v)"

  /// Runs `body` on the store's writer with an untyped probe table (no affinity: SQLite keeps
  /// each value in the storage class it was bound with).
  static func withProbe<T: Sendable>(_ body: @escaping @Sendable (SQLiteSQLConnection) throws -> T) async throws -> T {
    let result = Mutex<T?>(nil)
    try await StoreTests.withStore { store in
      let value = try await store.pool.write { db in
        let sql = SQLiteSQLConnection(db)
        try sql.execute(Self.probe)
        return try body(sql)
      }
      result.withLock { $0 = value }
    }
    return try #require(result.withLock { $0 })
  }

  @Test("every kind of value round-trips through a real table with its storage class")
  func roundTripKinds() async throws {
    let values: [SQLValue] = [
      .null, .integer(0), .integer(Int64.min), .integer(Int64.max), .real(-0.5), .real(1e300), .text(""), .text("县政务服务中心 'a' \"b\""),
      .blob([0, 1, 254, 255]),
    ]
    let read = try await Self.withProbe { sql in
      for value in values { try sql.execute("INSERT INTO sql_layer_probe (v) VALUES (?)", [value]) }
      return try sql.fetchAll("SELECT v, typeof(v) AS kind FROM sql_layer_probe ORDER BY id").map { ($0[0], $0["kind"]) }
    }
    #expect(read.map { $0.0 } == values)
    #expect(read.map { $0.1 } == ["null", "integer", "integer", "integer", "real", "real", "text", "text", "blob"])
  }

  @Test("an empty blob stays an empty blob, not NULL")
  func emptyBlob() async throws {
    let (value, kind) = try await Self.withProbe { sql in
      try sql.execute("INSERT INTO sql_layer_probe (v) VALUES (?)", [.blob([])])
      let row = try #require(try sql.fetchOne("SELECT v, typeof(v) FROM sql_layer_probe"))
      return (row[0], row[1])
    }
    #expect(value == .blob([]) && kind == "blob", "read \(value) of kind \(kind)")
  }

  @Test("Swift values bind and decode back (numbers, flags, text, bytes, optionals, enumerations, dates)")
  func roundTripSwiftValues() async throws {
    let checks = try await Self.withProbe { sql -> [Bool] in
      func roundTrip<T: SQLValueConvertible & Equatable>(_ value: T) throws -> Bool {
        try sql.execute("DELETE FROM sql_layer_probe")
        try sql.execute("INSERT INTO sql_layer_probe (v) VALUES (?)", [value.sqlValue])
        let row = try #require(try sql.fetchOne("SELECT v FROM sql_layer_probe"))
        return try row.decode(T.self, at: 0) == value && row.decode(T.self, "v") == value
      }
      return [
        try roundTrip(42), try roundTrip(Int64(-7)), try roundTrip(true), try roundTrip(false), try roundTrip(2.5),
        try roundTrip("文本"), try roundTrip(Data([1, 2, 3])), try roundTrip([UInt8]([9, 8])), try roundTrip(Int64?.none),
        try roundTrip(Int64?.some(5)), try roundTrip(String?.none), try roundTrip(SLAColour.yellow),
        try roundTrip(ServiceItemRecord.LimitUnit.workingHours),
      ]
    }
    #expect(checks.allSatisfy { $0 })
    // Bool is stored as 0/1, as the schema's INTEGER flags.
    #expect(true.sqlValue == .integer(1) && false.sqlValue == .integer(0))
  }

  @Test("dates bind as GRDB writes them and read back as GRDB reads them")
  func storedDates() async throws {
    let date = Date(timeIntervalSince1970: 1_764_554_400.123)
    let (text, layer, grdb) = try await Self.withProbe { sql in
      try sql.execute("INSERT INTO sql_layer_probe (v) VALUES (?)", [StoredDate(date).sqlValue])
      let text = try sql.fetchOne(String.self, "SELECT v FROM sql_layer_probe")
      let layer = try sql.fetchOne(StoredDate.self, "SELECT v FROM sql_layer_probe")?.date
      let grdb = try Date.fetchOne(sql.database, sql: "SELECT v FROM sql_layer_probe")
      return (text, layer, grdb)
    }
    #expect(text == "2025-12-01 02:00:00.123")
    #expect(layer == grdb)
    #expect(layer != nil)
  }

  @Test("NULL reads as nil where allowed and as an error naming the column where not")
  func nulls() async throws {
    let (maxID, optional, error) = try await Self.withProbe { sql in
      let maxID = try sql.fetchOne(Int64.self, "SELECT MAX(id) FROM sql_layer_probe")
      let row = try #require(try sql.fetchOne("SELECT NULL AS department_code"))
      let optional = try row.decode(String?.self, "department_code")
      let error = #expect(throws: SQLDecodingError.self) { try row.decode(String.self, at: 0) }
      return (maxID, optional, error)
    }
    #expect(maxID == nil)
    #expect(optional == nil)
    #expect(error?.problem == .null)
    #expect(error?.description == "column department_code is NULL (expected String)")
  }

  @Test("a value of the wrong kind fails naming its column and what it held")
  func decodeErrors() async throws {
    let errors = try await Self.withProbe { sql in
      let row = try #require(try sql.fetchOne("SELECT 'abc' AS promised_limit, 'PURPLE' AS colour"))
      return [
        #expect(throws: SQLDecodingError.self) { try row.decode(Int.self, "promised_limit") },
        #expect(throws: SQLDecodingError.self) { try row.decode(SLAColour.self, at: 1) },
        #expect(throws: SQLDecodingError.self) { try row.decode(Int.self, "no_such_column") },
      ]
    }
    #expect(errors[0]?.description == "column promised_limit holds text 'abc' (expected Int)")
    #expect(errors[1]?.description == "column colour holds text 'PURPLE' (expected SLAColour)")
    #expect(errors[2]?.problem == .missingColumn)
    #expect(errors[2]?.column == "no_such_column")
  }

  @Test("rows read by index and by name (names ignore case, as GRDB's)")
  func byIndexAndName() async throws {
    let row = try await Self.withProbe { sql in try #require(try sql.fetchOne("SELECT 1 AS a, 'x' AS Code, 2.5 AS c")) }
    #expect(row.count == 3)
    #expect(row.columns == ["a", "Code", "c"])
    #expect(row[0] == .integer(1) && row[1] == .text("x") && row[2] == .real(2.5))
    #expect(row["a"] == .integer(1) && row["Code"] == .text("x") && row["code"] == .text("x"))
    #expect(row["missing"] == nil)
    #expect(try row.decode(Double.self, "c") == 2.5 && row.decode(Double.self, "a") == 1)
  }

  @Test("execute answers the rows changed; fetchAll, fetchOne and forEach read the same rows")
  func executeAndFetch() async throws {
    let (inserted, updated, all, first, visited, typed) = try await Self.withProbe { sql in
      var inserted = 0
      for value in 1...3 { inserted += try sql.execute("INSERT INTO sql_layer_probe (v) VALUES (?)", [.integer(Int64(value))]) }
      let updated = try sql.execute("UPDATE sql_layer_probe SET v = v * 10 WHERE v >= ?", [2])
      let all = try sql.fetchAll("SELECT v FROM sql_layer_probe ORDER BY id")
      let first = try sql.fetchOne("SELECT v FROM sql_layer_probe ORDER BY id")
      var visited: [SQLValue] = []
      try sql.forEach("SELECT v FROM sql_layer_probe ORDER BY id", []) { visited.append($0[0]) }
      let typed = try sql.fetchAll(Int.self, "SELECT v FROM sql_layer_probe ORDER BY id")
      return (inserted, updated, all, first, visited, typed)
    }
    #expect(inserted == 3 && updated == 2)
    #expect(all.map { $0[0] } == [1, 20, 30] && visited == [1, 20, 30] && typed == [1, 20, 30])
    #expect(first?[0] == 1)
  }

  @Test("statements come from the connection's cache: compiled once, run again")
  func statementCache() async throws {
    let (same, runs) = try await Self.withProbe { sql in
      let text = "SELECT COUNT(*) FROM sql_layer_probe WHERE v = ?"
      let statement = try sql.statement(text)
      let same = try statement === sql.statement(text) && statement === sql.database.cachedStatement(sql: text)
      for value in 0..<3 { _ = try sql.fetchOne(Int64.self, text, [.integer(Int64(value))]) }
      _ = try sql.fetchAll(text, [1])
      // SQLite counts the runs of one prepared statement: the layer's calls all ran the cached one.
      let runs = sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_RUN, 0)
      return (same, runs)
    }
    #expect(same)
    #expect(runs == 4)
  }

  @Test("uncached statements run without entering the connection's statement cache")
  func uncached() async throws {
    let (rows, changed, runs) = try await Self.withProbe { sql in
      let insert = "INSERT INTO sql_layer_probe (v) VALUES (?)"
      let select = "SELECT v FROM sql_layer_probe ORDER BY id"
      var changed = 0
      for value in 1...2 { changed += try sql.execute(uncached: insert, [.integer(Int64(value))]) }
      let rows = try sql.fetchAll(uncached: select, []).map { $0[0] }
      // Compiled now for the first time: the uncached runs did not use (or fill) the cache.
      let runs = [
        sqlite3_stmt_status(try sql.statement(insert).sqliteStatement, SQLITE_STMTSTATUS_RUN, 0),
        sqlite3_stmt_status(try sql.statement(select).sqliteStatement, SQLITE_STMTSTATUS_RUN, 0),
      ]
      return (rows, changed, runs)
    }
    #expect(rows == [1, 2] && changed == 2)
    #expect(runs == [0, 0])
  }

  @Test("the dialect's fragments")
  func dialect() {
    #expect(SQLDialect.sqlite.day("c.received_at") == "date(c.received_at, '+8 hours')")
    #expect(SQLDialect.postgres.day("c.received_at") == "banjie_day(c.received_at)")
    #expect(SQLDialect.sqlite.contains("a", "?") == "instr(a, ?) > 0")
  }

  // The converted store files write and read exactly what GRDB's record API did.

  @Test("daily numbers count per day in one upsert, the sequence row as before")
  func dailyNumbers() async throws {
    try await StoreTests.withStore { store in
      let (numbers, rows) = try await store.pool.write { db in
        let sql = SQLiteSQLConnection(db)
        let day = try LocalDate(year: 2025, month: 12, day: 1)
        var numbers: [String] = []
        let calls: [(String, String?, LocalDate, Int)] = [
          ("case_number_sequences", nil, day, 6), ("case_number_sequences", nil, day, 6),
          ("case_number_sequences", nil, day.adding(days: 1), 6), ("demand_number_sequences", "SQ", day, 4),
        ]
        for (table, prefix, day, digits) in calls {
          numbers.append(
            try BanjieStore.dailyNumber(sql, sequences: table, prefix: prefix, regionCode: "370830", day: day, digits: digits))
        }
        let rows = try String.fetchAll(db, sql: "SELECT day || ':' || typeof(last) || ':' || last FROM case_number_sequences ORDER BY day")
        return (numbers, rows)
      }
      #expect(numbers == ["370830-20251201-000001", "370830-20251201-000002", "370830-20251202-000001", "SQ-370830-20251201-0001"])
      #expect(rows == ["20251201:integer:2", "20251202:integer:1"])
    }
  }

  static let items = [
    ServiceItemRecord(
      code: "SCJGJ-002", name: "个体工商户登记", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 1, limitUnit: .workingDays,
      legalLimitDays: 15, materials: ["身份证", "经营场所证明"], allowsMinorPending: true, proxySteps: [.supplement, .collect]),
    ServiceItemRecord(
      code: "SCJGJ-001", name: "名称查询", departmentCode: "SCJGJ", kind: .instant, promisedLimit: 2, limitUnit: .workingHours,
      legalLimitDays: 0, materials: [], allowsMinorPending: false),
  ]

  @Test("a catalog import stores the same rows as GRDB's save, and reads back as GRDB's records")
  func catalogMatchesGRDB() async throws {
    let department = DepartmentRecord(code: "SCJGJ", name: "市场监管局")
    try await StoreTests.withStore { layerStore in
      try await StoreTests.withStore { grdbStore in
        // Twice: the second import updates the rows the first inserted.
        for round in 0..<2 {
          var renamed = Self.items
          renamed[0].name += String(repeating: "改", count: round)
          let items = renamed
          _ = try await layerStore.importCatalog(departments: [department], items: items, actor: .system, now: Date())
          try await grdbStore.pool.write { db in
            try department.save(db)
            for item in items { try item.save(db) }
          }
        }
        let sql = "SELECT * FROM service_items ORDER BY code"
        let layerRows = try layerStore.pool.read { try Row.fetchAll($0, sql: sql) }
        let grdbRows = try grdbStore.pool.read { try Row.fetchAll($0, sql: sql) }
        #expect(layerRows == grdbRows)
        let grdbRecords = try await grdbStore.pool.read {
          try ServiceItemRecord.order(Column("department_code"), Column("code")).fetchAll($0)
        }
        #expect(try await layerStore.serviceItems(department: nil) == grdbRecords)
        #expect(try await layerStore.serviceItems(department: "SCJGJ") == grdbRecords)
        #expect(try await layerStore.serviceItems(department: "OTHER").isEmpty)
        #expect(try await layerStore.serviceItem(code: "SCJGJ-001") == grdbRecords.first)
        #expect(try await layerStore.serviceItem(code: "NONE") == nil)
        #expect(try await layerStore.departments() == [department])
        await #expect(throws: DomainError.self) {
          var orphan = Self.items[1]
          orphan.departmentCode = "NOPE"
          _ = try await layerStore.importCatalog(departments: [], items: [orphan], actor: .system, now: Date())
        }
      }
    }
  }

  @Test("alerts and revocations read as GRDB's records did")
  func alertsAndRevocations() async throws {
    try await StoreTests.withStore { store in
      #expect(try await store.lastAlertID() == 0)
      let at = Date(timeIntervalSince1970: 1_764_554_400.5)
      try await store.pool.write { db in
        for (index, department) in ["A", "B", "A"].enumerated() {
          var alert = AlertRecord(
            id: nil, at: at, kind: "case.colour", subject: "C\(index)", departmentCode: department, colour: .red, message: "m\(index)")
          try alert.insert(db)
        }
      }
      let grdb = try await store.pool.read { try AlertRecord.order(Column("id")).fetchAll($0) }
      #expect(try await store.alerts(afterID: 0, department: nil) == grdb)
      #expect(try await store.alerts(afterID: 1, department: "A") == [grdb[2]])
      #expect(try await store.alerts(afterID: 0, department: "", limit: 2) == Array(grdb.prefix(2)))
      #expect(try await store.lastAlertID() == 3)

      let office = Actor(role: .office, organization: "县政务服务中心", person: "张三", certificateSerial: "0A1B")
      let first = try await store.revoke(serial: "00:0a:1b", reason: "lost", actor: office, now: at)
      let again = try await store.revoke(serial: "0A1B", reason: "other", actor: office, now: at.addingTimeInterval(60))
      #expect(first.serial == "A1B" && again.reason == "lost")
      #expect(try await store.revocations() == [again])
      let stored = try await store.pool.read { try String.fetchOne($0, sql: "SELECT revoked_at FROM revocations") }
      #expect(stored == "2025-12-01 02:00:00.500")
    }
  }
}
