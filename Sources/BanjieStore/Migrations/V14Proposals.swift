// swift-format-ignore-file
// Frozen: the literal SQL of migration "v14-proposals" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v14Proposals = #"""
-- 人大代表建议和政协提案 (docs/DOMAIN.md §25): a deputy's suggestion or a CPPCC member's proposal the
-- office registers and assigns (交办) to a lead department (主办单位) and co-handling departments
-- (协办单位). The reply is due in calendar months from the day of assignment (the county setting
-- then in force, extended with a reason up to the longest limit); a first 不满意 reopens it for a
-- second reply (round 2) due one month after the reopening.
CREATE TABLE proposals (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('DEPUTY_SUGGESTION', 'CPPCC_PROPOSAL')),
  title TEXT NOT NULL,
  proposer TEXT NOT NULL,
  proposer_contact TEXT NOT NULL DEFAULT '',
  session TEXT NOT NULL DEFAULT '',
  lead_department TEXT NOT NULL REFERENCES departments(code),
  assigned_at TEXT NOT NULL,
  assigned_by TEXT NOT NULL,
  reply_months INTEGER NOT NULL CHECK (reply_months BETWEEN 1 AND 12),
  max_months INTEGER NOT NULL CHECK (max_months BETWEEN reply_months AND 12),
  months INTEGER NOT NULL CHECK (months BETWEEN reply_months AND max_months),
  extension_reason TEXT NOT NULL DEFAULT '',
  round INTEGER NOT NULL CHECK (round IN (1, 2)),
  round_started_at TEXT NOT NULL,
  due_at TEXT NOT NULL,
  colour TEXT NOT NULL CHECK (colour IN ('green', 'yellow', 'red')),
  state TEXT NOT NULL CHECK (state IN ('ASSIGNED', 'REPLIED', 'REOPENED', 'CLOSED')),
  assessment TEXT CHECK (assessment IS NULL OR assessment IN ('SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED')),
  closed_at TEXT,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX proposals_lead ON proposals(lead_department, state);
CREATE INDEX proposals_assigned ON proposals(assigned_at);
CREATE INDEX proposals_waiting ON proposals(due_at) WHERE state IN ('ASSIGNED', 'REOPENED');
CREATE TABLE proposal_number_sequences (
  prefix TEXT NOT NULL,
  day TEXT NOT NULL,
  last INTEGER NOT NULL,
  PRIMARY KEY (prefix, day)
) WITHOUT ROWID;
-- The co-handling departments (协办单位) of each proposal.
CREATE TABLE proposal_co_departments (
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  department TEXT NOT NULL REFERENCES departments(code),
  PRIMARY KEY (proposal_id, department)
) WITHOUT ROWID;
CREATE INDEX proposal_co_departments_department ON proposal_co_departments(department);
-- 协办意见: a co-handling department's opinion to the lead, at most one per round; a reopening keeps
-- the first round's next to the second's.
CREATE TABLE proposal_co_opinions (
  proposal_id INTEGER NOT NULL,
  department TEXT NOT NULL,
  round INTEGER NOT NULL CHECK (round IN (1, 2)),
  opinion TEXT NOT NULL,
  given_at TEXT NOT NULL,
  given_by TEXT NOT NULL,
  PRIMARY KEY (proposal_id, department, round),
  FOREIGN KEY (proposal_id, department) REFERENCES proposal_co_departments(proposal_id, department)
) WITHOUT ROWID;
-- 面商: the lead department's contacts with the proposer, by round; a reply needs one in its round.
CREATE TABLE proposal_contacts (
  id INTEGER PRIMARY KEY,
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  round INTEGER NOT NULL CHECK (round IN (1, 2)),
  contacted_at TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('FACE_TO_FACE', 'PHONE', 'OTHER')),
  note TEXT NOT NULL DEFAULT '',
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX proposal_contacts_round ON proposal_contacts(proposal_id, round);
-- One reply per round, with the deadline it had, whether it came by it, and the proposer's assessment.
CREATE TABLE proposal_replies (
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  round INTEGER NOT NULL CHECK (round IN (1, 2)),
  replied_at TEXT NOT NULL,
  replied_by TEXT NOT NULL,
  due_at TEXT NOT NULL,
  on_time INTEGER NOT NULL CHECK (on_time IN (0, 1)),
  reply_text TEXT NOT NULL,
  result_class TEXT NOT NULL CHECK (result_class IN ('A', 'B', 'C')),
  assessment TEXT CHECK (assessment IS NULL OR assessment IN ('SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED')),
  assessment_note TEXT NOT NULL DEFAULT '',
  assessed_at TEXT,
  assessed_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (proposal_id, round)
) WITHOUT ROWID;
CREATE INDEX proposal_replies_replied ON proposal_replies(replied_at);
CREATE INDEX proposal_replies_assessed ON proposal_replies(assessed_at) WHERE assessed_at IS NOT NULL;
"""#
}
