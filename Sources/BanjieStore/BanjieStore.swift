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
  /// Internal on purpose: the store boundary is closed (docs/ARCHITECTURE.md). Tests reach it
  /// with `@testable import`.
  let pool: DatabasePool
  /// Every mutation's way to the writer: shared transactions (GroupCommit).
  let commits: GroupCommit
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
    self.pool = try DatabasePool(path: path, configuration: configuration)
    self.commits = GroupCommit(pool: self.pool)
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
    let synchronous = try self.pool.writeWithoutTransaction { db -> Int in
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
    try migrator.migrate(self.pool)
    // A bulk load interrupted after dropping the dashboard triggers left the aggregates stale.
    try self.pool.write { db in
      if try !DashboardSchema.triggersPresent(db) {
        try DashboardSchema.createTriggers(db)
        try DashboardSchema.rebuild(db)
      }
    }
  }

  /// "SQLite 3.40.1, schema v1-foundation" — for `banjie health`.
  public func describe() async -> String {
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
    try await self.pool.read { db in try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM service_items)")) ?? false }
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

  /// The body of `write(idempotency:…)` inside a transaction the caller runs: the stored first
  /// answer (`replayed`) when the caller already used `key`, otherwise `body`'s, stored under `key`.
  static func idempotent<T>(
    _ db: Database, key: IdempotencyKey?, method: String, encode: (T) throws -> Data, decode: (Data) throws -> T, now: Date,
    _ body: (Database) throws -> T
  ) throws -> (value: T, replayed: Bool) {
    if let key {
      if let row = try Row.fetchOne(
        db.cachedStatement(sql: "SELECT method, response FROM idempotency WHERE caller = ? AND key = ?"), arguments: [key.caller, key.key])
      {
        let firstMethod: String = row["method"]
        guard firstMethod == method else {
          throw DomainError(
            kind: .failedPrecondition, code: "idempotency.key_reused", arguments: [key.key, firstMethod, method],
            field: "idempotency-key")
        }
        return (try decode(row["response"]), true)
      }
    }
    let result = try body(db)
    if let key {
      try db.cachedStatement(sql: "INSERT INTO idempotency (caller, key, method, response, created_at) VALUES (?, ?, ?, ?, ?)").execute(
        arguments: [key.caller, key.key, method, try encode(result), StoredDate(now)]
      )
    }
    return (result, false)
  }
}
