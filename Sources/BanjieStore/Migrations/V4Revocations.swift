// swift-format-ignore-file
// Frozen: the literal SQL of migration "v4-revocations" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v4Revocations = #"""
CREATE TABLE revocations (
  serial TEXT PRIMARY KEY NOT NULL,
  reason TEXT NOT NULL,
  revoked_at TEXT NOT NULL,
  revoked_by TEXT NOT NULL
);
"""#
}
