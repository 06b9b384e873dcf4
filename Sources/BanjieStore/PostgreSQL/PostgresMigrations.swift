/// One PostgreSQL migration: the translation of the SQLite migration of the same identifier
/// (Sources/BanjieStore/Postgres/Migrations/*.sql, embedded by
/// scripts/generate-postgres-migrations.py). Frozen once shipped, like the SQLite ones: a change
/// to the schema is a new migration on both engines.
struct PostgresMigration: Sendable {
  var identifier: String
  var statements: [String]
}

/// Brings a PostgreSQL database to the schema this build knows (docs/ARCHITECTURE.md,
/// "Migrations").
///
/// Everything runs in one transaction under an advisory lock (PostgreSQL's DDL is
/// transactional): two nodes starting at once migrate one after the other, and a migration that
/// fails leaves the database as it found it. Refused, with nothing written:
/// - a database that holds tables but no `banjie_migrations` (not a banjie database, or one
///   created by hand);
/// - a database migrated by a newer banjied (an identifier this build does not know), or whose
///   applied migrations are not this build's first ones in order.
enum PostgresMigrations {
  /// The identifiers applied by this call, in order (empty when the schema was current).
  @discardableResult
  static func migrate(_ sql: PostgresSQLConnection, migrations: [PostgresMigration] = Self.all) throws -> [String] {
    try sql.transaction("BEGIN") {
      try sql.execute("SELECT pg_advisory_xact_lock(?)", [.integer(PostgresDatabase.migrationLockKey)])
      let tracked = try sql.fetchOne(Bool.self, "SELECT to_regclass('banjie_migrations') IS NOT NULL") ?? false
      if !tracked {
        let tables = try sql.fetchAll(
          String.self, "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename LIMIT 5")
        guard tables.isEmpty else { throw PostgresMigrationError.notABanjieDatabase(tables: tables) }
        try sql.execute(
          "CREATE TABLE banjie_migrations (position INTEGER PRIMARY KEY, identifier TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)")
      }
      let applied = try sql.fetchAll(String.self, "SELECT identifier FROM banjie_migrations ORDER BY position")
      let known = migrations.map(\.identifier)
      if let unknown = applied.first(where: { !known.contains($0) }) {
        throw PostgresMigrationError.newerSchema(found: unknown, latestKnown: known.last ?? "none")
      }
      guard Array(known.prefix(applied.count)) == applied else {
        throw PostgresMigrationError.outOfOrder(applied: applied, known: known)
      }
      var done: [String] = []
      for (position, migration) in migrations.enumerated().dropFirst(applied.count) {
        for statement in migration.statements {
          do {
            try sql.execute(uncached: statement, [])
          } catch {
            throw PostgresMigrationError.failed(identifier: migration.identifier, cause: String(describing: error))
          }
        }
        try sql.execute(
          "INSERT INTO banjie_migrations (position, identifier, applied_at) VALUES (?, ?, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'))",
          [.integer(Int64(position + 1)), .text(migration.identifier)])
        done.append(migration.identifier)
      }
      return done
    }
  }

  /// The latest applied migration's identifier ("none" before the first).
  static func latest(_ sql: some SQLConnection) throws -> String {
    try sql.fetchOne(String.self, "SELECT identifier FROM banjie_migrations ORDER BY position DESC LIMIT 1") ?? "none"
  }
}

/// Why a PostgreSQL database was not migrated. Nothing was written in any of these cases.
enum PostgresMigrationError: Error, Equatable, CustomStringConvertible {
  case notABanjieDatabase(tables: [String])
  case newerSchema(found: String, latestKnown: String)
  case outOfOrder(applied: [String], known: [String])
  case failed(identifier: String, cause: String)

  var description: String {
    switch self {
    case .notABanjieDatabase(let tables):
      return "the database already holds tables banjie did not create (\(tables.joined(separator: ", "))…): use an empty database"
    case .newerSchema(let found, let latest):
      return "the database was migrated by a newer banjied (\(found)); this one knows up to \(latest): upgrade banjied"
    case .outOfOrder(let applied, _):
      return "the database's migrations (\(applied.joined(separator: ", "))) are not this build's in order"
    case .failed(let identifier, let cause):
      return "migration \(identifier) failed, nothing was changed: \(cause)"
    }
  }
}
