// swift-format-ignore-file
// Frozen: the literal SQL of migration "v5-awards" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v5Awards = #"""
-- Versioned rule sets; a version is never changed once stored.
CREATE TABLE award_rule_sets (
  version INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  levels TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
-- Published snapshots: the canonical JSON bytes as hashed; never updated except to revoke.
CREATE TABLE awards (
  id INTEGER PRIMARY KEY,
  period TEXT NOT NULL,
  rule_set_version INTEGER NOT NULL REFERENCES award_rule_sets(version),
  digest TEXT NOT NULL,
  snapshot BLOB NOT NULL,
  published_at TEXT NOT NULL,
  published_by TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT NOT NULL DEFAULT '',
  revoke_reason TEXT NOT NULL DEFAULT ''
);
-- At most one live (unrevoked) award per period.
CREATE UNIQUE INDEX awards_live_period ON awards(period) WHERE revoked_at IS NULL;
-- 优质案例: one nomination per case or demand.
CREATE TABLE exemplary_nominations (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('case', 'demand')),
  subject TEXT NOT NULL,
  department_code TEXT NOT NULL REFERENCES departments(code),
  year INTEGER NOT NULL,
  account TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('NOMINATED', 'SELECTED', 'DECLINED')),
  nominated_by TEXT NOT NULL,
  nominated_at TEXT NOT NULL,
  review_note TEXT NOT NULL DEFAULT '',
  reviewed_by TEXT NOT NULL DEFAULT '',
  reviewed_at TEXT,
  UNIQUE (kind, subject)
);
CREATE INDEX exemplary_year_state ON exemplary_nominations(year, state);
INSERT INTO award_rule_sets (version, name, levels, created_at, created_by) VALUES (1, '星级服务评定标准 (2026)', '[{"maxOverdueDemands":0,"maxUnratedPercent":40,"maxUnrectifiedBad":0,"minGoodPercent":95,"minHandled":30,"minOnTimePercent":98,"minOneDayPercent":60,"stars":5},{"maxOverdueDemands":1,"maxUnratedPercent":60,"maxUnrectifiedBad":0,"minGoodPercent":90,"minHandled":15,"minOnTimePercent":95,"minOneDayPercent":40,"stars":4},{"maxOverdueDemands":3,"maxUnratedPercent":80,"maxUnrectifiedBad":1,"minGoodPercent":80,"minHandled":5,"minOnTimePercent":90,"minOneDayPercent":20,"stars":3},{"maxOverdueDemands":10,"maxUnratedPercent":100,"maxUnrectifiedBad":3,"minGoodPercent":60,"minHandled":1,"minOnTimePercent":80,"minOneDayPercent":0,"stars":2},{"maxUnratedPercent":100,"minGoodPercent":0,"minHandled":0,"minOnTimePercent":0,"minOneDayPercent":0,"stars":1}]', '2026-01-01 00:00:00.000', 'system');
"""#
}
