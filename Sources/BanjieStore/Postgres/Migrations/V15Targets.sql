-- PostgreSQL: migration "v15-targets", the translation of Sources/BanjieStore/Migrations/V15Targets.swift
-- (docs/ARCHITECTURE.md, "Migrations"). Frozen once shipped, like the SQLite one: a change to the
-- schema is a new migration on both engines. Dates and times stay TEXT as SQLite stores them.
-- 年度目标 (docs/DOMAIN.md §26): the office's yearly target of one measure for one unit (a
-- department code, or a liaison unit's name for visit coverage). `colour` is the warning last
-- raised for it (NULL: none yet, or no data), so that the sweeper alerts once per change.
CREATE TABLE annual_targets (
  year BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  unit TEXT NOT NULL,
  measure TEXT NOT NULL CHECK (measure IN ('on_time_rate', 'one_day_rate', 'good_rating_share', 'countersign_on_time_rate',
    'appeal_resolution_rate', 'visit_coverage', 'review_score')),
  target DOUBLE PRECISION NOT NULL CHECK (target > 0 AND target <= 100),
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL,
  colour TEXT CHECK (colour IS NULL OR colour IN ('green', 'yellow', 'red')),
  colour_at TEXT,
  PRIMARY KEY (year, unit, measure)
);
