// swift-format-ignore-file
// Frozen: the literal SQL of migration "v8-supervision" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v8Supervision = #"""
-- 督办: the office's supervision orders on an open case, demand or rectification, answered by a department.
CREATE TABLE supervision_number_sequences (
  day TEXT PRIMARY KEY NOT NULL,
  last INTEGER NOT NULL
);
CREATE TABLE supervision_orders (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('case', 'demand', 'rectification')),
  subject_number TEXT NOT NULL,
  department_code TEXT NOT NULL REFERENCES departments(code),
  required_action TEXT NOT NULL,
  limit_working_days INTEGER NOT NULL CHECK (limit_working_days BETWEEN 1 AND 365),
  issued_at TEXT NOT NULL,
  issued_by TEXT NOT NULL,
  due_at TEXT NOT NULL,
  colour TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('OPEN', 'REPLIED', 'CLOSED')),
  reply TEXT NOT NULL DEFAULT '',
  evidence TEXT NOT NULL DEFAULT '',
  replied_at TEXT,
  replied_by TEXT NOT NULL DEFAULT '',
  reopen_reason TEXT NOT NULL DEFAULT '',
  closed_at TEXT,
  closed_by TEXT NOT NULL DEFAULT '',
  close_note TEXT NOT NULL DEFAULT '',
  escalated_at TEXT,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX supervision_orders_open_due ON supervision_orders(due_at, department_code) WHERE state = 'OPEN';
CREATE INDEX supervision_orders_department_state ON supervision_orders(department_code, state);
CREATE INDEX supervision_orders_subject ON supervision_orders(subject_kind, subject_number);
"""#
}
