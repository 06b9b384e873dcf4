// swift-format-ignore-file
// Frozen: the literal SQL of migration "v9-minor-pending" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v9MinorPending = #"""
-- 容缺受理: non-essential materials a case was accepted without, each with its own promise date.
CREATE TABLE case_pending_materials (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  material TEXT NOT NULL,
  pending_since TEXT NOT NULL,
  working_days INTEGER NOT NULL CHECK (working_days BETWEEN 1 AND 30),
  promised_by TEXT NOT NULL,
  colour TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('PENDING', 'SUPPLIED', 'WAIVED')),
  resolved_at TEXT,
  resolved_by TEXT NOT NULL DEFAULT '',
  waive_reason TEXT NOT NULL DEFAULT '',
  UNIQUE (case_id, material)
);
CREATE INDEX case_pending_materials_open_due ON case_pending_materials(promised_by) WHERE state = 'PENDING';
"""#
}
