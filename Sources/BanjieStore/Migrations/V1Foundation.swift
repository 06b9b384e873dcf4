// swift-format-ignore-file
// Frozen: the literal SQL of migration "v1-foundation" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v1Foundation = #"""
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
-- Every mutation appends one row. Each row carries the SHA-256 of its predecessor and of
-- itself; triggers refuse UPDATE and DELETE, so the chain can only grow.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organization TEXT NOT NULL,
  actor_person TEXT NOT NULL,
  actor_serial TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- A retried mutation with the same key returns the first answer.
CREATE TABLE idempotency (
  caller TEXT NOT NULL,
  key TEXT NOT NULL,
  method TEXT NOT NULL,
  response BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (caller, key)
);
CREATE TABLE departments (
  code TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL
);
CREATE TABLE service_items (
  code TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  department_code TEXT NOT NULL REFERENCES departments(code),
  kind TEXT NOT NULL CHECK (kind IN ('instant', 'promised')),
  promised_limit INTEGER NOT NULL CHECK (promised_limit BETWEEN 1 AND 3650),
  limit_unit TEXT NOT NULL CHECK (limit_unit IN ('working_days', 'working_hours')),
  legal_limit_days INTEGER NOT NULL CHECK (legal_limit_days BETWEEN 0 AND 3650),
  materials TEXT NOT NULL,
  allows_minor_pending INTEGER NOT NULL
);
CREATE INDEX service_items_department ON service_items(department_code);
CREATE TABLE calendar_years (
  year INTEGER PRIMARY KEY NOT NULL,
  data TEXT NOT NULL,
  imported_at TEXT NOT NULL
);
CREATE TABLE case_number_sequences (
  day TEXT PRIMARY KEY NOT NULL,
  last INTEGER NOT NULL
);
CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  item_code TEXT NOT NULL REFERENCES service_items(code),
  department_code TEXT NOT NULL REFERENCES departments(code),
  window TEXT NOT NULL,
  applicant TEXT NOT NULL,
  enterprise_uscc TEXT,
  state TEXT NOT NULL,
  outcome TEXT,
  version INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  received_day TEXT NOT NULL,
  intake_due_at TEXT,
  accepted_at TEXT,
  deemed_accepted INTEGER NOT NULL DEFAULT 0,
  limit_value INTEGER NOT NULL,
  limit_unit TEXT NOT NULL,
  due_at TEXT,
  colour TEXT,
  suspended_since TEXT,
  completed_at TEXT,
  delivered_at TEXT,
  missing_materials TEXT NOT NULL DEFAULT '[]',
  last_note TEXT NOT NULL DEFAULT '',
  received_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX cases_department_state ON cases(department_code, state);
CREATE INDEX cases_state_due ON cases(state, due_at);
CREATE INDEX cases_received_day ON cases(received_day);
CREATE INDEX cases_enterprise ON cases(enterprise_uscc) WHERE enterprise_uscc IS NOT NULL;
CREATE TABLE case_events (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organization TEXT NOT NULL,
  actor_person TEXT NOT NULL,
  note TEXT NOT NULL,
  UNIQUE (case_id, seq)
);
CREATE TABLE case_suspensions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  start_at TEXT NOT NULL,
  end_at TEXT,
  reason TEXT NOT NULL
);
CREATE INDEX case_suspensions_case ON case_suspensions(case_id);
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  department_code TEXT NOT NULL,
  colour TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX alerts_at ON alerts(at);
"""#
}
