import BanjieCore
import Foundation
public import GRDB

/// banjie's storage: one `DatabasePool` over the system SQLite (WAL, foreign keys, synchronous
/// FULL so that an acknowledged write survives a crash). Every mutation runs in its own savepoint
/// of a transaction it may share with mutations that arrived at the same time (GroupCommit), and
/// appends to the hash-chained audit log; its caller is answered after that transaction commits. All SQL lives in this module, and the pool never
/// leaves it: callers use the store's methods, which are `async` and run on GRDB's own reader and
/// writer queues (never on the cooperative pool's threads), so a waiting request holds no thread.
public final class BanjieStore: Sendable {
  /// The engine the store runs on (docs/ARCHITECTURE.md, "The SQL layer").
  enum Engine: Sendable {
    /// The embedded default: a GRDB pool over one file, and the group commit on its writer.
    case sqlite(DatabasePool, GroupCommit)
    /// The second engine (issue 17), being built: the store's bodies that speak `SQLConnection`
    /// run on it; the rest answer `StoreEngineError.notOnThisEngine` until they are converted.
    case postgres(PostgresDatabase)
  }

  let engine: Engine

  /// The SQLite pool. Internal on purpose: the store boundary is closed (docs/ARCHITECTURE.md).
  /// Tests reach it with `@testable import`. Throws on a PostgreSQL store: a body still written
  /// for GRDB cannot run there.
  var pool: DatabasePool {
    get throws {
      guard case .sqlite(let pool, _) = self.engine else { throw StoreEngineError.notOnThisEngine }
      return pool
    }
  }

  /// Every SQLite mutation's way to the writer: shared transactions (GroupCommit).
  var commits: GroupCommit {
    get throws {
      guard case .sqlite(_, let commits) = self.engine else { throw StoreEngineError.notOnThisEngine }
      return commits
    }
  }

  /// The SQLite file, or the PostgreSQL URL without its password.
  public let path: String

  /// Opens (creating if needed) and migrates the database file. Blocking: call it at start-up,
  /// before serving, or from a local tool's own thread.
  public init(path: String) throws {
    var configuration = Configuration()
    configuration.foreignKeysEnabled = true
    configuration.busyMode = .timeout(10)
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = FULL")
    }
    self.path = path
    let pool = try DatabasePool(path: path, configuration: configuration)
    self.engine = .sqlite(pool, GroupCommit(pool: pool))
    // GRDB's pool sets `synchronous = NORMAL` on its writer when it switches the file to WAL,
    // after `prepareDatabase` ran: with NORMAL a commit is not flushed, and a power cut could
    // lose what was acknowledged. FULL is set again on the writer (the only connection that
    // commits) and checked.
    //
    // The writer also keeps its statement journal in memory (temp_store = MEMORY): every mutation
    // of a shared transaction runs in a SAVEPOINT, whose journal of the pages it changes outgrew
    // SQLite's 64 KiB in-memory threshold and went to a temporary file, 4 KiB write by 4 KiB
    // write; it is discarded at COMMIT and never needed after a crash, since the WAL is what makes
    // a commit durable. And it keeps 64 MiB of pages in its cache instead of SQLite's 2 MiB, so
    // that a batch's pages stay in memory until the COMMIT (docs/PERFORMANCE.md, "The write path").
    let synchronous = try pool.writeWithoutTransaction { db -> Int in
      try db.execute(sql: "PRAGMA synchronous = FULL")
      try db.execute(sql: "PRAGMA temp_store = MEMORY")
      try db.execute(sql: "PRAGMA cache_size = -65536")
      return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
    }
    guard synchronous == 2 else {
      throw DatabaseError(message: "the database writer runs with synchronous = \(synchronous), not FULL (2)")
    }
    var migrator = DatabaseMigrator()
    Migrations.register(in: &migrator)
    try migrator.migrate(pool)
    // A bulk load interrupted after dropping the dashboard triggers left the aggregates stale.
    try pool.write { db in
      if try !DashboardSchema.triggersPresent(db) {
        try DashboardSchema.createTriggers(db)
        try DashboardSchema.rebuild(db)
      }
    }
  }

  /// Opens the store `database` names: a `postgres://` URL is a PostgreSQL database, anything
  /// else a SQLite file (created when missing). Either is migrated first. Blocking: call it at
  /// start-up or from a local tool's own thread.
  public static func open(_ database: String) throws -> BanjieStore {
    guard PostgresLocation.isPostgresURL(database) else { return try BanjieStore(path: database) }
    return try BanjieStore(postgres: try PostgresLocation(url: database))
  }

  /// Opens a PostgreSQL store (issue 17) and brings its schema up to date. Blocking: call it at
  /// start-up or from a local tool's own thread. Internal while the engine is being built: only
  /// the store's converted bodies run on it (docs/ARCHITECTURE.md, "The PostgreSQL engine").
  init(postgres location: PostgresLocation, readers: Int = 2) throws {
    let database = PostgresDatabase(location: location, readers: readers)
    do {
      _ = try database.writer.runBlocking { try PostgresMigrations.migrate($0) }
    } catch {
      database.close()
      throw error
    }
    self.engine = .postgres(database)
    self.path = location.description
  }

  /// Whether the store is a PostgreSQL database (several banjied nodes may share it).
  public var runsOnPostgres: Bool {
    if case .postgres = self.engine { return true }
    return false
  }

  /// Closes a PostgreSQL store's connections (a SQLite pool closes when the store is released).
  public func close() {
    if case .postgres(let database) = self.engine { database.close() }
  }

  /// Runs `body` in a read-only snapshot on either engine (a SQLite reader, a PostgreSQL reader).
  func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    switch self.engine {
    case .sqlite(let pool, _): return try await pool.read { db in try body(SQLiteSQLConnection(db)) }
    case .postgres(let database): return try await database.read(body)
    }
  }

  /// Runs `body` as one mutation on either engine: on SQLite in the next shared transaction
  /// (GroupCommit), on PostgreSQL in its own transaction under the nodes' write lock. The caller
  /// is answered after the commit.
  func mutate<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    switch self.engine {
    case .sqlite(_, let commits): return try await commits.write { db in try body(SQLiteSQLConnection(db)) }
    case .postgres(let database): return try await database.write(body)
    }
  }

  /// One serial step of the writer on either engine: `body` in a transaction of its own (not
  /// shared with other mutations), then, after its commit and before the writer runs anything
  /// else, `afterCommit` with the answer. A new SLA clock is put in force this way (a calendar
  /// import, a clock setting), so that no write sees the new data with the old clock.
  func serialWrite<T: Sendable>(
    _ body: @escaping @Sendable (any SQLConnection) throws -> T, afterCommit: @escaping @Sendable (T) -> Void
  ) async throws -> T {
    switch self.engine {
    case .sqlite(let pool, _):
      return try await pool.writeWithoutTransaction { db in
        var answer: T?
        try db.inTransaction {
          answer = try body(SQLiteSQLConnection(db))
          return .commit
        }
        guard let answer else { throw DatabaseError(message: "a write step produced no answer") }
        afterCommit(answer)
        return answer
      }
    case .postgres(let database): return try await database.write(body, afterCommit: afterCommit)
    }
  }

  /// Whether this node may run the SLA sweeper now. Always on SQLite (one banjied per file); on
  /// PostgreSQL, true for the one node that holds the sweeper's lease, which it takes when it is
  /// free (docs/ARCHITECTURE.md, "The PostgreSQL engine"). Call it before each pass: a node that
  /// lost its connection has lost the lease with it.
  public func holdsSweeperLease() async throws -> Bool {
    guard case .postgres(let database) = self.engine else { return true }
    return try await database.sweeperLease.acquire()
  }

  /// "SQLite 3.40.1, schema v1-foundation" — for `banjie health`.
  public func describe() async -> String {
    if case .postgres = self.engine {
      let described = try? await self.read { sql -> String in
        let version = try sql.fetchOne(String.self, "SHOW server_version") ?? "?"
        return "PostgreSQL \(version), schema \(try PostgresMigrations.latest(sql))"
      }
      return described ?? "PostgreSQL ?, schema ?"
    }
    let (version, migration) =
      (try? await self.pool.read { db -> (String, String) in
        let version = try String.fetchOne(db.cachedStatement(sql: "SELECT sqlite_version()")) ?? "?"
        let migration =
          try String.fetchOne(db.cachedStatement(sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1")) ?? "none"
        return (version, migration)
      }) ?? ("?", "?")
    return "SQLite \(version), schema \(migration)"
  }

  /// Whether the catalog has any service item (a seeded year needs one).
  public func hasCatalog() async throws -> Bool {
    try await self.read { sql in try sql.fetchOne(Bool.self, "SELECT EXISTS (SELECT 1 FROM service_items)") ?? false }
  }

  /// `PRAGMA integrity_check`: "ok" when the file is sound.
  public func integrityCheck() async throws -> String {
    try await self.pool.read { db in try String.fetchAll(db.cachedStatement(sql: "PRAGMA integrity_check")).joined(separator: "; ") }
  }
}

/// A mutation's idempotency key as the caller sent it, scoped to the caller.
public struct IdempotencyKey: Sendable, Hashable {
  public var caller: String
  public var key: String
  public init(caller: String, key: String) {
    self.caller = caller
    self.key = key
  }
}

extension BanjieStore {
  /// Runs `body` in the next shared write transaction (GroupCommit), unless the same caller
  /// already used `key`: then the first answer is returned and nothing is written.
  public func write<T: Sendable>(
    idempotency key: IdempotencyKey?,
    method: String,
    encode: @escaping @Sendable (T) throws -> Data,
    decode: @escaping @Sendable (Data) throws -> T,
    now: Date,
    _ body: @escaping @Sendable (Database) throws -> T
  ) async throws -> T {
    try await self.commits.write { db in
      try Self.idempotent(db, key: key, method: method, encode: encode, decode: decode, now: now, body).value
    }
  }

  /// As `write(idempotency:…)`, for a body that speaks `SQLConnection`: runs on either engine.
  func mutate<T: Sendable>(
    idempotency key: IdempotencyKey?,
    method: String,
    encode: @escaping @Sendable (T) throws -> Data,
    decode: @escaping @Sendable (Data) throws -> T,
    now: Date,
    _ body: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    try await self.mutate { sql in
      try Self.idempotent(sql, key: key, method: method, encode: encode, decode: decode, now: now, body).value
    }
  }

  /// The body of `write(idempotency:…)` inside a transaction the caller runs: the stored first
  /// answer (`replayed`) when the caller already used `key`, otherwise `body`'s, stored under `key`.
  static func idempotent<T>(
    _ db: Database, key: IdempotencyKey?, method: String, encode: (T) throws -> Data, decode: (Data) throws -> T, now: Date,
    _ body: (Database) throws -> T
  ) throws -> (value: T, replayed: Bool) {
    try Self.idempotent(SQLiteSQLConnection(db), key: key, method: method, encode: encode, decode: decode, now: now) { _ in try body(db) }
  }

  /// `idempotent` on either engine.
  static func idempotent<T>(
    _ sql: any SQLConnection, key: IdempotencyKey?, method: String, encode: (T) throws -> Data, decode: (Data) throws -> T, now: Date,
    _ body: (any SQLConnection) throws -> T
  ) throws -> (value: T, replayed: Bool) {
    if let key {
      if let row = try sql.fetchOne(
        "SELECT method, response FROM idempotency WHERE caller = ? AND key = ?", [.text(key.caller), .text(key.key)])
      {
        let firstMethod = try row.decode(String.self, "method")
        guard firstMethod == method else {
          throw DomainError(
            kind: .failedPrecondition, code: "idempotency.key_reused", arguments: [key.key, firstMethod, method],
            field: "idempotency-key")
        }
        return (try decode(row.decode(Data.self, "response")), true)
      }
    }
    let result = try body(sql)
    if let key {
      try sql.execute(
        "INSERT INTO idempotency (caller, key, method, response, created_at) VALUES (?, ?, ?, ?, ?)",
        [.text(key.caller), .text(key.key), .text(method), try encode(result).sqlValue, StoredDate(now).sqlValue])
    }
    return (result, false)
  }
}

/// A store method whose body is still written for GRDB, called on a PostgreSQL store: the engine
/// is being built (issue 17) and that method has not moved onto the SQL layer yet.
public enum StoreEngineError: Error, CustomStringConvertible {
  case notOnThisEngine

  public var description: String { "this operation is not available on the PostgreSQL engine yet" }
}
