import BanjieCore
import Foundation
import GRDB

/// Star-service rule sets and published award snapshots (migration "v5-awards"). Shipped as it
/// is here: later changes go in a new migration.
enum AwardSchema {
  static func create(_ db: Database) throws {
    try db.execute(sql: """
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
      """)
    // Version 1 as shipped; a different default is a new version, never an edit of this row.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let levels = String(decoding: try encoder.encode(AwardRuleSet.standard.levels), as: UTF8.self)
    try db.execute(sql: "INSERT INTO award_rule_sets (version, name, levels, created_at, created_by) VALUES (1, ?, ?, '2026-01-01 00:00:00.000', 'system')",
      arguments: [AwardRuleSet.standard.name, levels])
  }
}
