// swift-format-ignore-file
// Frozen: the literal SQL of migration "v15-targets" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v15Targets = #"""
-- 年度目标 (docs/DOMAIN.md §26): the office's yearly target of one measure for one unit (a
-- department code, or a liaison unit's name for visit coverage). `colour` is the warning last
-- raised for it (NULL: none yet, or no data), so that the sweeper alerts once per change.
CREATE TABLE annual_targets (
  year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  unit TEXT NOT NULL,
  measure TEXT NOT NULL CHECK (measure IN ('on_time_rate', 'one_day_rate', 'good_rating_share', 'countersign_on_time_rate',
    'appeal_resolution_rate', 'visit_coverage', 'review_score')),
  target REAL NOT NULL CHECK (target > 0 AND target <= 100),
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL,
  colour TEXT CHECK (colour IS NULL OR colour IN ('green', 'yellow', 'red')),
  colour_at TEXT,
  PRIMARY KEY (year, unit, measure)
) WITHOUT ROWID;
"""#
}
