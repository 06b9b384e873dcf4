// swift-format-ignore-file
// Frozen: the literal SQL of migration "v3-ratings" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v3Ratings = #"""
-- 好差评: at most one per case, by the case's enterprise.
CREATE TABLE ratings (
  case_id INTEGER PRIMARY KEY NOT NULL REFERENCES cases(id),
  case_number TEXT NOT NULL UNIQUE,
  uscc TEXT NOT NULL,
  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
  comment TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  rated_at TEXT NOT NULL,
  rated_by TEXT NOT NULL,
  -- Set by an upheld appeal: the rating leaves every measure but stays visible.
  excluded INTEGER NOT NULL DEFAULT 0,
  excluded_reason TEXT NOT NULL DEFAULT '',
  excluded_at TEXT
);
-- 整改 of a 差评, one per bad rating.
CREATE TABLE rectifications (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  case_id INTEGER NOT NULL UNIQUE REFERENCES ratings(case_id),
  case_number TEXT NOT NULL,
  department_code TEXT NOT NULL REFERENCES departments(code),
  state TEXT NOT NULL,
  limit_working_days INTEGER NOT NULL CHECK (limit_working_days BETWEEN 1 AND 365),
  opened_at TEXT NOT NULL,
  due_at TEXT NOT NULL,
  colour TEXT NOT NULL,
  verified_valid INTEGER,
  verification_evidence TEXT NOT NULL DEFAULT '',
  verified_by TEXT NOT NULL DEFAULT '',
  verified_at TEXT,
  measures TEXT NOT NULL DEFAULT '',
  rectified_at TEXT,
  completed_at TEXT,
  follow_up_result TEXT NOT NULL DEFAULT '',
  follow_up_satisfied INTEGER,
  followed_up_at TEXT,
  closed_at TEXT,
  close_note TEXT NOT NULL DEFAULT '',
  appeal_state TEXT NOT NULL DEFAULT 'NONE',
  appeal_reason TEXT NOT NULL DEFAULT '',
  appeal_decision TEXT NOT NULL DEFAULT '',
  appealed_at TEXT,
  appeal_decided_at TEXT,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX rectifications_department_state ON rectifications(department_code, state);
CREATE INDEX rectifications_open_colour ON rectifications(completed_at, colour) WHERE completed_at IS NULL;
-- 千企评议.
CREATE TABLE review_campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  period_from TEXT NOT NULL,
  period_to TEXT NOT NULL,
  departments TEXT NOT NULL,
  dimensions TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('DRAFT', 'OPEN', 'CLOSED', 'PUBLISHED')),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  opened_at TEXT,
  closed_at TEXT,
  published_at TEXT
);
CREATE TABLE campaign_invitations (
  campaign_id INTEGER NOT NULL REFERENCES review_campaigns(id),
  uscc TEXT NOT NULL,
  PRIMARY KEY (campaign_id, uscc)
) WITHOUT ROWID;
CREATE TABLE campaign_reviews (
  campaign_id INTEGER NOT NULL REFERENCES review_campaigns(id),
  uscc TEXT NOT NULL,
  department_code TEXT NOT NULL REFERENCES departments(code),
  scores TEXT NOT NULL,
  weighted_hundredths INTEGER NOT NULL CHECK (weighted_hundredths BETWEEN 100 AND 500),
  comment TEXT NOT NULL,
  submitted_at TEXT NOT NULL,
  PRIMARY KEY (campaign_id, uscc, department_code),
  FOREIGN KEY (campaign_id, uscc) REFERENCES campaign_invitations(campaign_id, uscc)
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('ratings.window_days', '15');
INSERT INTO meta (key, value) VALUES ('rectifications.limit_working_days', '15');
"""#
}
