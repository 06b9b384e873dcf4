-- PostgreSQL: migration "v4-revocations", the translation of Sources/BanjieStore/Migrations/V4Revocations.swift
-- (docs/ARCHITECTURE.md, "Migrations"). Frozen once shipped, like the SQLite one: a change to the
-- schema is a new migration on both engines. Dates and times stay TEXT as SQLite stores them.
CREATE TABLE revocations (
  serial TEXT PRIMARY KEY NOT NULL,
  reason TEXT NOT NULL,
  revoked_at TEXT NOT NULL,
  revoked_by TEXT NOT NULL
);
