import Dispatch
import Foundation
import GRDB
import Synchronization
import Testing

@testable import BanjieStore

/// A real PostgreSQL server for the engine's tests (issue 17): never a mock.
///
/// `scripts/test.sh` (so CI) starts a throw-away cluster with scripts/postgres-cluster.sh and
/// passes its URL in `BANJIE_TEST_POSTGRES`. A plain `swift test` without it starts one itself
/// the first time a test asks, in a temporary directory, and stops it when the test process
/// exits; when that cannot be done (no PostgreSQL installed and not root to install it) the
/// tests that need it fail with the reason, rather than being skipped.
///
/// Each test gets a database of its own (`makeDatabase()`), created from template0 with UTF-8 and
/// the C collation, so tests run in parallel without seeing each other's rows.
enum PostgresTestCluster {
  /// The maintenance URL: the cluster's superuser on its own database.
  static let url: Result<PostgresLocation, PostgresClusterUnavailable> = {
    if let given = ProcessInfo.processInfo.environment["BANJIE_TEST_POSTGRES"], !given.isEmpty {
      do { return .success(try PostgresLocation(url: given)) } catch { return .failure(PostgresClusterUnavailable(reason: "\(error)")) }
    }
    return startOwnCluster()
  }()

  /// `makeDatabase()` off the cooperative pool: CREATE DATABASE blocks its thread for a while,
  /// and tests run in parallel on a pool of as many threads as cores.
  static func makeDatabase() async throws -> PostgresLocation {
    try await Self.offPool { try Self.makeDatabase() }
  }

  /// A PostgreSQL store opened (and migrated) off the cooperative pool.
  static func openStore(_ location: PostgresLocation) async throws -> BanjieStore {
    try await Self.offPool { try BanjieStore(postgres: location) }
  }

  static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
  }

  /// A new, empty database on the cluster; dropped by `dropDatabase`.
  static func makeDatabase() throws -> PostgresLocation {
    let admin = try Self.url.get()
    let name = "banjie_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    try Self.withAdmin(admin) { sql in
      try sql.execute(uncached: "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", [])
    }
    var location = admin
    location.database = name
    return location
  }

  /// Drops the database in the background (callers are `defer` blocks, which cannot wait, and
  /// must not hold a thread of the cooperative pool for it).
  static func dropDatabase(_ location: PostgresLocation) {
    guard let admin = try? Self.url.get() else { return }
    DispatchQueue.global().async {
      try? Self.withAdmin(admin) { sql in
        try sql.execute(uncached: "DROP DATABASE IF EXISTS \(location.database) WITH (FORCE)", [])
      }
    }
  }

  /// A fresh migrated database for `body`, dropped afterwards.
  static func withDatabase<T>(migrated: Bool = true, _ body: (PostgresDatabase) async throws -> T) async throws -> T {
    let location = try await Self.makeDatabase()
    let database = PostgresDatabase(location: location)
    defer {
      database.close()
      Self.dropDatabase(location)
    }
    if migrated { _ = try await database.writer.run { try PostgresMigrations.migrate($0) } }
    return try await body(database)
  }

  private static func withAdmin(_ admin: PostgresLocation, _ body: (PostgresSQLConnection) throws -> Void) throws {
    let worker = PostgresWorker(name: "test-admin", location: admin, logger: .init(label: "banjie.test"))
    defer { worker.close() }
    try worker.runBlocking(body)
  }

  private static func startOwnCluster() -> Result<PostgresLocation, PostgresClusterUnavailable> {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.appendingPathComponent("scripts/postgres-cluster.sh").path
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-test-pg-\(getpid())").path
    // system(3), which waits with waitpid, and a log file rather than pipes: the server the script
    // starts inherits the test process's descriptors, and a pipe it held open would never reach
    // end of file.
    let logPath = directory + ".start.log"
    defer { try? FileManager.default.removeItem(atPath: logPath) }
    let status = system("/bin/bash '\(script)' start '\(directory)' > '\(logPath)' 2>&1")
    let printed = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    guard status == 0, let line = printed.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }).map(String.init) else {
      return .failure(
        PostgresClusterUnavailable(
          reason: "scripts/postgres-cluster.sh start failed (status \(status)): \(printed)"
            + " — set BANJIE_TEST_POSTGRES to a superuser URL, or run scripts/test.sh"))
    }
    ownClusterDirectory.withLock { $0 = (script, directory) }
    atexit { PostgresTestCluster.stopOwnCluster() }
    do { return .success(try PostgresLocation(url: line)) } catch { return .failure(PostgresClusterUnavailable(reason: "\(error)")) }
  }

  private static let ownClusterDirectory = Mutex<(script: String, directory: String)?>(nil)

  private static func stopOwnCluster() {
    guard let (script, directory) = ownClusterDirectory.withLock({ $0 }) else { return }
    _ = system("/bin/bash '\(script)' stop '\(directory)' > /dev/null 2>&1")
  }
}

struct PostgresClusterUnavailable: Error, CustomStringConvertible {
  var reason: String
  var description: String { "no PostgreSQL for the tests: \(self.reason)" }
}

/// The rows of a PostgreSQL store, copied into a new SQLite file of the same schema: the server
/// suites' direct checks of what was stored (written against SQLite and GRDB) then read what the
/// PostgreSQL database holds, value for value, when the suites run on PostgreSQL
/// (`BANJIE_TEST_SERVER_ENGINE=postgres`). Every table is read in one snapshot (REPEATABLE READ)
/// on a connection of its own; the copy has no dashboard triggers (its aggregate rows are the
/// ones PostgreSQL kept) and no foreign-key checks, and is read-only in spirit: writing to it
/// changes nothing on the server.
enum PostgresSnapshot {
  /// An empty store file at the current schema, made once per test process and copied.
  static let template: Result<String, PostgresClusterUnavailable> = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-snapshot-\(getpid())").path
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      let path = directory + "/template.sqlite"
      try? FileManager.default.removeItem(atPath: path)
      _ = try BanjieStore(path: path)
      return .success(path)
    } catch {
      return .failure(PostgresClusterUnavailable(reason: "cannot make the snapshot template: \(error)"))
    }
  }()

  /// Runs one statement on `location`'s database (in its own transaction): a test's direct write,
  /// such as a row made as an earlier release left it.
  static func execute(_ location: PostgresLocation, _ text: String, _ arguments: [DatabaseValue]) throws {
    let worker = PostgresWorker(name: "test-write", location: location, logger: .init(label: "banjie.test"))
    defer { worker.close() }
    try worker.runBlocking { sql in
      try sql.transaction("BEGIN") { _ = try sql.execute(uncached: text, arguments.map(SQLValue.init)) }
    }
  }

  /// A new SQLite file holding every row `location`'s database holds now; the caller removes it.
  static func file(of location: PostgresLocation) throws -> String {
    let template = try Self.template.get()
    let path = (template as NSString).deletingLastPathComponent + "/snapshot-\(UUID().uuidString).sqlite"
    try FileManager.default.copyItem(atPath: template, toPath: path)
    let queue = try DatabaseQueue(path: path)
    defer { try? queue.close() }
    let tables = try queue.read { db in
      try String.fetchAll(
        db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
    }
    let worker = PostgresWorker(name: "test-snapshot", location: location, logger: .init(label: "banjie.test"))
    defer { worker.close() }
    let contents = try worker.runBlocking { sql in
      try sql.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
        try tables.map { table in (table, try sql.fetchAll(uncached: "SELECT * FROM \"\(table)\"", [])) }
      }
    }
    try queue.writeWithoutTransaction { db in
      try db.execute(sql: "PRAGMA foreign_keys = OFF")
      try db.inTransaction {
        try DashboardSchema.dropTriggers(db)
        for (table, rows) in contents {
          try db.execute(sql: "DELETE FROM \"\(table)\"")
          guard let first = rows.first else { continue }
          let columns = first.columns.map { "\"\($0)\"" }.joined(separator: ", ")
          let marks = first.columns.map { _ in "?" }.joined(separator: ", ")
          let insert = try db.makeStatement(sql: "INSERT INTO \"\(table)\" (\(columns)) VALUES (\(marks))")
          for row in rows { try insert.execute(arguments: StatementArguments(row.values.map(\.databaseValue))) }
        }
        return .commit
      }
    }
    return path
  }
}
