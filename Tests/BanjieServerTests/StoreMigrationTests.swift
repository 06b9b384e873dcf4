import BanjieCore
import BanjieServer
import Foundation
import GRDB
import Logging
import Prometheus
import Testing

@testable import BanjieStore

/// `banjied migrate-store` (issue 17): a seeded county year moves from its SQLite file into a new
/// PostgreSQL database with every row, the audit chain and the aggregates intact, and the
/// refusals write nothing.
@Suite("Moving a county to PostgreSQL")
struct StoreMigrationTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let until = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07 00:00 UTC
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")

  /// A seeded year in a new SQLite file, with a revocation and a policy on top.
  static func withSeededFile(cases: Int, _ body: (String) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-migrate-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/county.sqlite"
    let catalog = try String(contentsOfFile: Self.root.appendingPathComponent("catalog/sample-county.json").path, encoding: .utf8)
    _ = try await Seeding.run(databasePath: path, catalogJSON: catalog, options: SeedOptions(cases: cases, until: Self.until, seed: 3)) {
      _, _ in
    }
    let store = try BanjieStore(path: path)
    _ = try await store.revoke(serial: "C0FFEE", reason: "丢失", actor: Self.office, now: Self.until)
    _ = try await store.createPolicy(
      title: "稳岗返还", summary: "按规定返还", eligibility: PolicyEligibility(), actor: Self.office, now: Self.until, key: nil)
    try await body(path)
  }

  static func migrate(_ path: String, to location: PostgresLocation) async throws -> StoreMigrationReport {
    try await StoreMigration.migrate(fromSQLite: path, toPostgres: location.description)
  }

  @Test("a seeded year arrives whole: every table's rows, the audit chain, and the store answers the same on PostgreSQL")
  func seededYear() async throws {
    try await Self.withSeededFile(cases: 400) { path in
      let location = try await PostgresTestCluster.makeDatabase()
      defer { PostgresTestCluster.dropDatabase(location) }
      let report = try await Self.migrate(path, to: location)
      let source = try BanjieStore(path: path)
      let target = try await PostgresTestCluster.openStore(location)
      defer { target.close() }

      #expect(report.tables.first { $0.name == "cases" }?.rows == 400)
      #expect(report.tables.count == (try await source.pool.read { db in try StoreMigration.tables(db).count }))
      #expect(report.tables.contains { $0.name == "dashboard_daily" && $0.rows > 0 })
      #expect(report.auditRows == (try await source.verifyAudit().rows))
      #expect(try await target.verifyAudit().ok)

      #expect(try await target.departments() == source.departments())
      #expect(try await target.serviceItems(department: nil) == source.serviceItems(department: nil))
      #expect(try await target.revocations() == source.revocations())
      #expect(try await target.listPolicies(enterprise: nil) == source.listPolicies(enterprise: nil))
      #expect(try await target.listAuditRows(AuditFilter()).rows == source.listAuditRows(AuditFilter()).rows)
      #expect(try await target.dashboardAggregateDifferences().isEmpty)

      // Identities go on after the copied ids, and the chain after the copied head.
      _ = try await target.createPolicy(
        title: "第二项", summary: "迁移之后", eligibility: PolicyEligibility(), actor: Self.office, now: Self.until, key: nil)
      let ids = try await target.listPolicies(enterprise: nil).compactMap(\.record.id)
      #expect(ids.count == 2 && Set(ids).count == 2)
      let chain = try await target.verifyAudit()
      #expect(chain.ok && chain.rows == report.auditRows + 1, "\(chain)")
    }
  }

  @Test("the aggregate self-check runs on PostgreSQL: a copied year agrees, a figure changed by hand is named")
  func aggregateSelfCheck() async throws {
    try await Self.withSeededFile(cases: 150) { path in
      let location = try await PostgresTestCluster.makeDatabase()
      defer { PostgresTestCluster.dropDatabase(location) }
      _ = try await Self.migrate(path, to: location)
      let target = try await PostgresTestCluster.openStore(location)
      defer { target.close() }
      #expect(try await target.dashboardAggregateDifferences().isEmpty)
      _ = try await target.mutate { sql in
        try sql.execute(
          "UPDATE dashboard_daily SET received = received + 1 WHERE dim = 'department' AND received > 0 AND day = (SELECT MIN(day) FROM dashboard_daily WHERE dim = 'department' AND received > 0)"
        )
      }
      let differences = try await target.dashboardAggregateDifferences()
      #expect(differences.count == 2, "\(differences)")
      #expect(differences.first?.hasPrefix("daily kept but not rebuilt: dim=text 'department'") == true, "\(differences)")
      // The check wrote nothing: the scratch tables went with its transaction.
      #expect(try await target.dashboardAggregateDifferences().count == 2)
    }
  }

  @Test("refused, writing nothing: a target that is not empty, a missing file, a file whose chain is broken")
  func refusals() async throws {
    try await Self.withSeededFile(cases: 20) { path in
      let location = try await PostgresTestCluster.makeDatabase()
      defer { PostgresTestCluster.dropDatabase(location) }
      let first = try await Self.migrate(path, to: location)
      let again = await #expect(throws: StoreMigrationError.self) { try await Self.migrate(path, to: location) }
      guard case .targetNotEmpty = again else {
        Issue.record("expected targetNotEmpty, got \(String(describing: again))")
        return
      }
      let target = try await PostgresTestCluster.openStore(location)
      #expect(try await target.verifyAudit().rows == first.auditRows)
      target.close()

      let missing = path + ".missing"
      let none = await #expect(throws: StoreMigrationError.self) { try await Self.migrate(missing, to: location) }
      #expect(none?.description.contains("no such file") == true)
      #expect(!FileManager.default.fileExists(atPath: missing))

      // Someone with file access edits an audit row: the file is not moved.
      let store = try BanjieStore(path: path)
      try await store.pool.write { db in
        try db.execute(sql: "DROP TRIGGER audit_log_no_update")
        try db.execute(sql: "UPDATE audit_log SET entity_id = 'X' WHERE id = 2")
      }
      let fresh = try await PostgresTestCluster.makeDatabase()
      defer { PostgresTestCluster.dropDatabase(fresh) }
      let broken = await #expect(throws: StoreMigrationError.self) { try await Self.migrate(path, to: fresh) }
      guard case .sourceChainBroken = broken else {
        Issue.record("expected sourceChainBroken, got \(String(describing: broken))")
        return
      }
      let freshDatabase = PostgresDatabase(location: fresh)
      defer { freshDatabase.close() }
      let untouched = try await freshDatabase.read { sql in
        try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
      }
      #expect(untouched == 0)
    }
  }

  @Test("banjied serve on an unreachable PostgreSQL: one line that names it without its password")
  func serveUnreachablePostgres() async throws {
    var configuration = ServerConfiguration()
    // Nothing listens on port 1 of the loopback: the connection is refused at once.
    configuration.databasePath = "postgres://banjie:s3cret@127.0.0.1:1/county"
    let app = BanjieServerApp(configuration: configuration, logger: Logger(label: "test"), metricsRegistry: PrometheusCollectorRegistry())
    let error = await #expect(throws: StartupError.self) { _ = try await app.assemble() }
    let text = error?.description ?? ""
    #expect(text.hasPrefix("cannot open the database postgres://banjie@127.0.0.1:1/county: "), "\(text)")
    #expect(!text.contains("s3cret") && !text.contains("\n"))
  }

}
