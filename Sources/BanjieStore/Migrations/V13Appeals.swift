// swift-format-ignore-file
// Frozen: the literal SQL of migration "v13-appeals" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v13Appeals = #"""
-- 群众诉求 (docs/DOMAIN.md §24): an appeal of a citizen or an enterprise that came in by the 12345
-- hotline, 民意“5”来听, the portal or a letter; the dispatcher (12345 centre) registers and assigns it.
-- The response clock (assignment → first contact) lives on the appeal; each resolution round's clock
-- (assignment or reopening → resolution) in appeal_rounds. The limits are those in force at the
-- assignment. requester_phone is personal data kept in full, because the department must call back.
CREATE TABLE appeals (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL CHECK (channel IN ('HOTLINE_12345', 'MINYI_5', 'PORTAL', 'LETTER')),
  category TEXT NOT NULL CHECK (category IN ('CONSULTATION', 'HELP', 'COMPLAINT', 'REPORT', 'SUGGESTION')),
  requester_kind TEXT NOT NULL CHECK (requester_kind IN ('CITIZEN', 'ENTERPRISE')),
  requester_name TEXT NOT NULL DEFAULT '',
  requester_phone TEXT NOT NULL,
  enterprise_uscc TEXT REFERENCES enterprises(uscc),
  subject TEXT NOT NULL,
  content TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  registered_by TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('REGISTERED', 'ASSIGNED', 'CONTACTED', 'RESOLVED', 'CLOSED', 'REOPENED')),
  department TEXT REFERENCES departments(code),
  assigned_at TEXT,
  assigned_by TEXT NOT NULL DEFAULT '',
  reassignments INTEGER NOT NULL DEFAULT 0 CHECK (reassignments >= 0),
  reassign_reason TEXT NOT NULL DEFAULT '',
  response_limit_working_days INTEGER CHECK (response_limit_working_days IS NULL OR response_limit_working_days BETWEEN 1 AND 365),
  resolution_limit_working_days INTEGER CHECK (resolution_limit_working_days IS NULL OR resolution_limit_working_days BETWEEN 1 AND 365),
  response_due_at TEXT,
  response_colour TEXT CHECK (response_colour IS NULL OR response_colour IN ('green', 'yellow', 'red')),
  contacted_at TEXT,
  contacted_by TEXT NOT NULL DEFAULT '',
  contact_method TEXT CHECK (contact_method IS NULL OR contact_method IN ('PHONE', 'VISIT', 'OTHER')),
  contact_note TEXT NOT NULL DEFAULT '',
  response_on_time INTEGER CHECK (response_on_time IS NULL OR response_on_time IN (0, 1)),
  round INTEGER NOT NULL DEFAULT 0 CHECK (round >= 0),
  satisfaction TEXT CHECK (satisfaction IS NULL OR satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED')),
  closed_at TEXT,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK ((requester_kind = 'ENTERPRISE') = (enterprise_uscc IS NOT NULL)),
  CHECK ((state = 'REGISTERED') = (department IS NULL))
);
CREATE INDEX appeals_department ON appeals(department, state);
CREATE INDEX appeals_enterprise ON appeals(enterprise_uscc) WHERE enterprise_uscc IS NOT NULL;
CREATE INDEX appeals_awaiting_contact ON appeals(response_due_at) WHERE state = 'ASSIGNED';
CREATE INDEX appeals_assigned ON appeals(assigned_at) WHERE assigned_at IS NOT NULL;
CREATE INDEX appeals_contacted ON appeals(contacted_at) WHERE contacted_at IS NOT NULL;
CREATE TABLE appeal_number_sequences (
  day TEXT PRIMARY KEY NOT NULL,
  last INTEGER NOT NULL
) WITHOUT ROWID;
-- One row per resolution round: round 1 from the assignment (restarted by a reassignment), each
-- further round from the call-back that found the requester dissatisfied. Each round is counted
-- once, with its on_time, by the day it was resolved; its call-back by the day of the call.
CREATE TABLE appeal_rounds (
  appeal_id INTEGER NOT NULL REFERENCES appeals(id),
  round INTEGER NOT NULL CHECK (round >= 1),
  started_at TEXT NOT NULL,
  limit_working_days INTEGER NOT NULL CHECK (limit_working_days BETWEEN 1 AND 365),
  due_at TEXT NOT NULL,
  colour TEXT NOT NULL CHECK (colour IN ('green', 'yellow', 'red')),
  resolved_at TEXT,
  resolved_by TEXT NOT NULL DEFAULT '',
  resolution TEXT NOT NULL DEFAULT '',
  on_time INTEGER CHECK (on_time IS NULL OR on_time IN (0, 1)),
  call_back_at TEXT,
  call_back_by TEXT NOT NULL DEFAULT '',
  satisfaction TEXT CHECK (satisfaction IS NULL OR satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED')),
  call_back_note TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (appeal_id, round)
) WITHOUT ROWID;
CREATE INDEX appeal_rounds_waiting ON appeal_rounds(due_at) WHERE resolved_at IS NULL;
CREATE INDEX appeal_rounds_resolved ON appeal_rounds(resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX appeal_rounds_call_back ON appeal_rounds(call_back_at) WHERE call_back_at IS NOT NULL;
"""#
}
