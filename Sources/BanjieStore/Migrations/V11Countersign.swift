// swift-format-ignore-file
// Frozen: the literal SQL of migration "v11-countersign" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v11Countersign = #"""
-- 部门会签 (docs/DOMAIN.md §23): a draft document a lead unit (主办单位) sends to the units that must
-- countersign it (会签单位).
CREATE TABLE countersign_documents (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  document_number TEXT NOT NULL DEFAULT '',
  length_characters INTEGER NOT NULL CHECK (length_characters >= 0),
  policy INTEGER NOT NULL CHECK (policy IN (0, 1)),
  over_length INTEGER NOT NULL CHECK (over_length IN (0, 1)),
  over_length_reason TEXT NOT NULL DEFAULT '',
  lead_unit TEXT NOT NULL REFERENCES departments(code),
  registered_at TEXT NOT NULL,
  registered_by TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('OPEN', 'COMPLETE')),
  completed_at TEXT,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX countersign_documents_lead ON countersign_documents(lead_unit, state);
CREATE TABLE countersign_number_sequences (
  day TEXT PRIMARY KEY NOT NULL,
  last INTEGER NOT NULL
) WITHOUT ROWID;
-- One row per countersigning unit: its clock runs from the receipt of the draft for its limit
-- (the county setting when the draft was registered, plus any extension) until it answers.
CREATE TABLE countersign_units (
  document_id INTEGER NOT NULL REFERENCES countersign_documents(id),
  unit TEXT NOT NULL REFERENCES departments(code),
  received_at TEXT NOT NULL,
  limit_working_days INTEGER NOT NULL CHECK (limit_working_days BETWEEN 1 AND 365),
  extended_days INTEGER NOT NULL DEFAULT 0 CHECK (extended_days >= 0),
  extension_reason TEXT NOT NULL DEFAULT '',
  due_at TEXT NOT NULL,
  colour TEXT NOT NULL CHECK (colour IN ('green', 'yellow', 'red')),
  answer TEXT CHECK (answer IS NULL OR answer IN ('AGREE', 'AGREE_WITH_COMMENTS', 'DISAGREE')),
  answer_text TEXT NOT NULL DEFAULT '',
  answered_by TEXT NOT NULL DEFAULT '',
  answered_at TEXT,
  on_time INTEGER CHECK (on_time IS NULL OR on_time IN (0, 1)),
  PRIMARY KEY (document_id, unit)
) WITHOUT ROWID;
CREATE INDEX countersign_units_waiting ON countersign_units(unit, due_at) WHERE answered_at IS NULL;
CREATE INDEX countersign_units_answered ON countersign_units(answered_at) WHERE answered_at IS NOT NULL;
"""#
}
