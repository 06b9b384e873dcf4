import GRDB

/// The schema, as an append-only list of frozen migrations (docs/ARCHITECTURE.md, "Migrations").
///
/// Each migration is its literal SQL, kept in `Migrations/` exactly as it shipped: nothing in it is
/// generated from code that may change later, so a database created by any release upgrades
/// through the same statements a fresh one runs. A change to the schema is a new migration at the
/// end of `all`; a shipped one is never edited (MigrationTests pins each one's SHA-256).
///
/// What is not a migration: the dashboard triggers are also re-created at runtime by
/// `DashboardSchema.createTriggers` after a bulk load dropped them, from the same definitions the
/// latest migration that touched them used (MigrationTests checks the two agree).
enum Migrations {
  /// Every shipped migration, in order: its identifier in `grdb_migrations` and its SQL.
  static let all: [(id: String, sql: String)] = [
    ("v1-foundation", Self.v1Foundation),
    ("v2-enterprises", Self.v2Enterprises),
    ("v3-ratings", Self.v3Ratings),
    ("v4-revocations", Self.v4Revocations),
    ("v5-awards", Self.v5Awards),
    ("v6-dashboard", Self.v6Dashboard),
    ("v7-registry", Self.v7Registry),
    ("v8-supervision", Self.v8Supervision),
    ("v9-minor-pending", Self.v9MinorPending),
    ("v10-hall-workflows", Self.v10HallWorkflows),
    ("v11-countersign", Self.v11Countersign),
    ("v12-townships", Self.v12Townships),
    ("v13-appeals", Self.v13Appeals),
    ("v14-proposals", Self.v14Proposals),
    ("v15-targets", Self.v15Targets),
  ]

  /// The identifier of the newest migration: the schema this build writes.
  static var latest: String { Self.all[Self.all.count - 1].id }

  static func register(in migrator: inout DatabaseMigrator) {
    for migration in Self.all {
      let sql = migration.sql
      migrator.registerMigration(migration.id) { db in try db.execute(sql: sql) }
    }
  }
}
