import BanjieCore
import Foundation
import Synchronization
import Testing

@testable import BanjieStore

/// The engine a store test runs on.
enum TestEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case sqlite
  case postgres

  var testDescription: String { self == .sqlite ? "SQLite" : "PostgreSQL" }

  /// A fresh store on this engine for `body`: a new SQLite file, or a new database on the test
  /// cluster (PostgresTestCluster); removed afterwards.
  func withStore(_ body: (BanjieStore) async throws -> Void) async throws {
    switch self {
    case .sqlite:
      try await StoreTests.withStore(body)
    case .postgres:
      let location = try await PostgresTestCluster.makeDatabase()
      defer { PostgresTestCluster.dropDatabase(location) }
      let store = try await PostgresTestCluster.openStore(location)
      defer { store.close() }
      try await body(store)
    }
  }

  /// Runs `scenario` on a fresh store of each engine; what it left on SQLite and on PostgreSQL, for
  /// comparing the two.
  static func bothEngines<T>(_ scenario: (BanjieStore) async throws -> T) async throws -> (sqlite: T, postgres: T) {
    var sqlite: T?
    var postgres: T?
    try await TestEngine.sqlite.withStore { sqlite = try await scenario($0) }
    try await TestEngine.postgres.withStore { postgres = try await scenario($0) }
    return (try #require(sqlite), try #require(postgres))
  }

  /// Every row `sql` selects, read through the store's own engine.
  static func rows(_ store: BanjieStore, _ sql: String) async throws -> [SQLRow] {
    try await store.read { connection in try connection.fetchAll(sql) }
  }

  /// `rows` without `column`'s values (a random code, a JSON whose key order may differ).
  static func without(_ column: String, _ rows: [SQLRow]) -> [SQLRow] {
    rows.map { row in
      let kept = row.columns.indices.filter { row.columns[$0] != column }
      return SQLRow(columns: kept.map { row.columns[$0] }, values: kept.map { row.values[$0] })
    }
  }
}

/// The store's methods that run on the SQL layer, on both engines (issue 17): each scenario runs
/// on SQLite and on PostgreSQL with the same expectations, and the two engines' answers, audit
/// rows and hashes included, are compared with each other.
@Suite("Store on both engines")
struct StoreEngineTests {
  static let now = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07 00:00 UTC
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")
  static let department = DepartmentRecord(code: "SCJGJ", name: "市场监管局")

  /// What the catalog scenario leaves, for comparing the engines.
  struct CatalogOutcome: Equatable {
    var departments: [DepartmentRecord]
    var items: [ServiceItemRecord]
    var audit: [AuditRowView]
    var chainRows: Int64
  }

  static func catalogScenario(_ store: BanjieStore) async throws -> CatalogOutcome {
    _ = try await store.importCatalog(departments: [Self.department], items: SQLLayerTests.items, actor: Self.office, now: Self.now)
    // An item of an unknown department fails the whole import: nothing of it is written.
    let orphan = ServiceItemRecord(
      code: "ZJJ-001", name: "施工许可", departmentCode: "ZJJ", kind: .promised, promisedLimit: 5, limitUnit: .workingDays,
      legalLimitDays: 20, materials: ["申请表"], allowsMinorPending: false)
    let refused = await #expect(throws: DomainError.self) {
      try await store.importCatalog(
        departments: [DepartmentRecord(code: "GTJ", name: "自然资源局")], items: [orphan], actor: Self.office, now: Self.now)
    }
    #expect(refused?.code == "catalog.unknown_department")
    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return CatalogOutcome(
      departments: try await store.departments(), items: try await store.serviceItems(department: nil),
      audit: try await store.listAuditRows(AuditFilter()).rows, chainRows: chain.rows)
  }

  @Test("a catalog import, its audit rows and a refused import", arguments: TestEngine.allCases)
  func catalog(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let outcome = try await Self.catalogScenario(store)
      #expect(outcome.departments == [Self.department])
      #expect(Set(outcome.items.map(\.code)) == ["SCJGJ-001", "SCJGJ-002"])
      #expect(outcome.items.first { $0.code == "SCJGJ-002" } == SQLLayerTests.items[0])
      #expect(outcome.audit.map(\.action) == ["catalog.item.upsert", "catalog.item.upsert", "catalog.department.upsert"])
      #expect(outcome.chainRows == 3)
      #expect(try await store.serviceItem(code: "SCJGJ-001")?.limitUnit == .workingHours)
      #expect(try await store.auditRow(id: 1)?.entityID == "SCJGJ")
    }
  }

  @Test("both engines leave the same rows and the same audit chain, hash for hash")
  func enginesAgree() async throws {
    let (sqlite, postgres) = try await TestEngine.bothEngines(Self.catalogScenario)
    #expect(sqlite == postgres)
    #expect(sqlite.audit.count == 3)
  }

  @Test("revocations: normalised, the first kept, a bad serial refused", arguments: TestEngine.allCases)
  func revocations(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let first = try await store.revoke(serial: "0a:bc:01", reason: "丢失", actor: Self.office, now: Self.now)
      let again = try await store.revoke(serial: "ABC01", reason: "另一个原因", actor: Self.office, now: Self.now.addingTimeInterval(60))
      #expect(first.serial == "ABC01" && again == first)
      let bad = await #expect(throws: DomainError.self) {
        try await store.revoke(serial: "not hex", reason: "x", actor: Self.office, now: Self.now)
      }
      #expect(bad?.code == "revocation.bad_serial")
      #expect(try await store.revocations() == [first])
      #expect(try await store.verifyAudit().rows == 1)
    }
  }

  @Test("policies: an idempotency key replayed answers the first policy; an unknown township is refused", arguments: TestEngine.allCases)
  func policies(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let key = IdempotencyKey(caller: "YSB/李娜", key: "policy-1")
      let eligibility = PolicyEligibility(scales: [.small, .micro], townships: ["刘楼镇"])
      let created = try await store.createPolicy(
        title: "小微企业稳岗返还", summary: "按规定返还失业保险费", eligibility: eligibility, actor: Self.office, now: Self.now, key: key)
      let replayed = try await store.createPolicy(
        title: "小微企业稳岗返还", summary: "按规定返还失业保险费", eligibility: eligibility, actor: Self.office, now: Self.now, key: key)
      #expect(replayed == created)
      let unknown = await #expect(throws: DomainError.self) {
        try await store.createPolicy(
          title: "x", summary: "y", eligibility: PolicyEligibility(townships: ["不存在镇"]), actor: Self.office, now: Self.now, key: nil)
      }
      #expect(unknown?.code == "enterprise.unknown_township")
      let id = try #require(created.record.id)
      let (pushed, count) = try await store.pushPolicy(id: id, actor: Self.office, now: Self.now, key: nil)
      #expect(count == 0 && pushed.record == created.record)
      #expect(try await store.listPolicies(enterprise: nil).map(\.record.id) == [id])
      #expect(try await store.verifyAudit().rows == 2)
    }
  }

  @Test("alerts after an id, by department, and the last id", arguments: TestEngine.allCases)
  func alerts(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      #expect(try await store.lastAlertID() == 0)
      _ = try await store.mutate { sql in
        for (index, department) in ["SCJGJ", "ZJJ", "SCJGJ"].enumerated() {
          try sql.execute(
            "INSERT INTO alerts (at, kind, subject, department_code, colour, message) VALUES (?, 'sla', ?, ?, 'red', '超期')",
            [
              StoredDate(Self.now.addingTimeInterval(Double(index))).sqlValue, .text("370830-20261207-00000\(index + 1)"),
              .text(department),
            ])
        }
      }
      #expect(try await store.lastAlertID() == 3)
      let scjgj = try await store.alerts(afterID: 0, department: "SCJGJ")
      #expect(scjgj.map(\.subject) == ["370830-20261207-000001", "370830-20261207-000003"])
      #expect(try await store.alerts(afterID: 1, department: nil).map(\.id) == [2, 3])
      #expect(scjgj.first?.at == Self.now)
    }
  }

  @Test("settings and the calendar read their defaults from an empty store", arguments: TestEngine.allCases)
  func settingsAndCalendar(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let view = try await store.settings(defaults: CountySettings())
      #expect(view.settings == CountySettings())
      let calendar = try await store.loadCalendar()
      #expect(calendar == WorkingCalendar.standard)
      #expect(try await store.hasCatalog() == false)
      let described = await store.describe()
      #expect(described.hasPrefix(engine == .sqlite ? "SQLite " : "PostgreSQL "), "\(described)")
      #expect(described.hasSuffix("schema \(Migrations.all.last?.id ?? "?")"), "\(described)")
    }
  }

  @Test("two nodes on one PostgreSQL append to one audit chain, which verifies")
  func auditChainAcrossNodes() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let nodeA = try await PostgresTestCluster.openStore(location)
    let nodeB = try await PostgresTestCluster.openStore(location)
    defer {
      nodeA.close()
      nodeB.close()
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<30 {
        let node = index.isMultiple(of: 2) ? nodeA : nodeB
        group.addTask {
          _ = try await node.importCatalog(
            departments: [DepartmentRecord(code: "D\(index)", name: "局\(index)")], items: [], actor: Self.office, now: Self.now)
          _ = try await node.revoke(serial: "FF\(index % 5)", reason: "丢失", actor: Self.office, now: Self.now)
        }
      }
      try await group.waitForAll()
    }
    let chain = try await nodeA.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    // 30 departments, and the first revocation of each of the 5 serials (a repeat writes nothing).
    #expect(chain.rows == 35)
    #expect(try await nodeB.departments().count == 30)
    #expect(try await nodeB.revocations().count == 5)
  }

  /// Ends every connection banjie holds to `location`'s database, as a database restart or a
  /// network cut would.
  static func terminateConnections(to location: PostgresLocation) async throws {
    let admin = try PostgresTestCluster.url.get()
    let worker = PostgresWorker(name: "test-terminator", location: admin, logger: .init(label: "banjie.test"))
    defer { worker.close() }
    _ = try await worker.run { sql in
      try sql.fetchAll(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", [.text(location.database)])
    }
  }

  @Test("a database that cannot be reached refuses to open, naming where it looked")
  func unreachableAtStart() async throws {
    // Port 1: nothing listens there, so the connection is refused at once.
    var location = try PostgresTestCluster.url.get()
    location.port = 1
    let error = await #expect(throws: StoreUnavailable.self) { try await PostgresTestCluster.openStore(location) }
    #expect(error?.description.contains("cannot connect to \(location)") == true, "\(String(describing: error))")
    #expect(error?.outcomeUnknown == false)
  }

  @Test("connections the database dropped: the next calls fail as unavailable or reconnect, never hang, and the store recovers")
  func connectionsDropped() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let store = try await PostgresTestCluster.openStore(location)
    defer { store.close() }
    _ = try await store.importCatalog(departments: [Self.department], items: [], actor: Self.office, now: Self.now)
    try await Self.terminateConnections(to: location)
    // Each worker finds its connection gone: the call fails UNAVAILABLE, or (when the close was
    // already seen) opens a new one. Either way the store answers again within a few calls.
    var failures = 0
    var recovered = false
    for _ in 0..<6 {
      do {
        _ = try await store.revoke(serial: "AB", reason: "丢失", actor: Self.office, now: Self.now)
        _ = try await store.departments()
        recovered = true
        break
      } catch let error as StoreUnavailable {
        #expect(!error.outcomeUnknown)
        failures += 1
      }
    }
    #expect(recovered, "the store did not recover after \(failures) unavailable calls")
    #expect(try await store.revocations().map(\.serial) == ["AB"])
    let chain = try await store.verifyAudit()
    #expect(chain.ok && chain.rows == 2, "\(chain)")
  }

  @Test("a connection lost inside a mutation: UNAVAILABLE and nothing of it written")
  func lostInsideMutation() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let store = try await PostgresTestCluster.openStore(location)
    defer { store.close() }
    let error = await #expect(throws: StoreUnavailable.self) {
      try await store.mutate { sql in
        try AuditLog.append(sql, at: Self.now, actor: Self.office, action: "test.half", entity: "test", entityID: "1")
        // The server ends this very connection mid-transaction.
        try sql.execute("SELECT pg_terminate_backend(pg_backend_pid())")
      }
    }
    #expect(error?.outcomeUnknown == false)
    let chain = try await store.verifyAudit()
    #expect(chain.ok && chain.rows == 0, "\(chain)")
    _ = try await store.importCatalog(departments: [Self.department], items: [], actor: Self.office, now: Self.now)
    #expect(try await store.verifyAudit().rows == 1)
  }

  @Test("the sweeper's lease: one node at a time, taken over when the holder's connection ends")
  func sweeperLease() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let nodeA = try await PostgresTestCluster.openStore(location)
    let nodeB = try await PostgresTestCluster.openStore(location)
    defer {
      nodeA.close()
      nodeB.close()
    }
    #expect(try await nodeA.holdsSweeperLease())
    #expect(try await nodeB.holdsSweeperLease() == false)
    // Asking again neither stacks the lock nor hands it over.
    #expect(try await nodeA.holdsSweeperLease())
    #expect(try await nodeB.holdsSweeperLease() == false)

    // Node A's lease connection ends, as when its process is killed.
    guard case .postgres(let databaseA) = nodeA.engine else {
      Issue.record("node A is not on PostgreSQL")
      return
    }
    let pid = try await databaseA.sweeperLease.worker.run { sql in try sql.fetchOne(Int64.self, "SELECT pg_backend_pid()") ?? 0 }
    let admin = try PostgresTestCluster.url.get()
    let terminator = PostgresWorker(name: "test-terminator", location: admin, logger: .init(label: "banjie.test"))
    defer { terminator.close() }
    _ = try await terminator.run { sql in try sql.fetchOne(Bool.self, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", [.integer(pid)])
    }

    var tookOver = false
    for _ in 0..<50 where !tookOver {
      tookOver = (try? await nodeB.holdsSweeperLease()) ?? false
      if !tookOver { try await Task.sleep(for: .milliseconds(100)) }
    }
    #expect(tookOver, "node B did not take the lease within 5 s")
    // Node A comes back without it: its new connection holds nothing.
    var aHolds: Bool?
    for _ in 0..<3 where aHolds == nil { aHolds = try? await nodeA.holdsSweeperLease() }
    #expect(aHolds == false)
    #expect(try await nodeB.holdsSweeperLease())
    try await StoreTests.withStore { sqlite in
      let holds = try await sqlite.holdsSweeperLease()
      #expect(holds)
    }
  }

  struct Refused: Error {}

  @Test("what node A commits reaches node B's listener, in commit order; what A rolls back never does")
  func changesAcrossNodes() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let nodeA = try await PostgresTestCluster.openStore(location)
    let nodeB = try await PostgresTestCluster.openStore(location)
    defer {
      nodeA.close()
      nodeB.close()
    }
    var heard = nodeB.otherNodesChanges().makeAsyncIterator()
    #expect(await heard.next() == .resynchronize)

    _ = try await nodeA.revoke(serial: "ABC1", reason: "丢失", actor: Self.office, now: Self.now)
    #expect(await heard.next() == .revocation(serial: "ABC1"))

    // A mutation that is refused after it notified: its notification dies with its transaction.
    await #expect(throws: Refused.self) {
      try await nodeA.mutate { sql -> Int in
        try BanjieStore.notify(sql, .alert(id: 999))
        throw Refused()
      }
    }
    let alertID = try await nodeA.mutate { sql in
      try AlertRecord.insert(
        sql,
        AlertRecord(
          id: nil, at: Self.now, kind: "sla", subject: "370830-20261207-000001", departmentCode: "SCJGJ", colour: .red, message: "超期"))
    }
    _ = try await nodeA.revoke(serial: "ABC2", reason: "丢失", actor: Self.office, now: Self.now)
    #expect(await heard.next() == .alert(id: try #require(alertID)))
    #expect(await heard.next() == .revocation(serial: "ABC2"))

    try await StoreTests.withStore { sqlite in
      var none = sqlite.otherNodesChanges().makeAsyncIterator()
      let first = await none.next()
      #expect(first == nil)
    }
  }
}
