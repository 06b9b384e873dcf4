-- PostgreSQL: migration "v7-registry", the translation of Sources/BanjieStore/Migrations/V7Registry.swift
-- (docs/ARCHITECTURE.md, "Migrations"). Frozen once shipped, like the SQLite one: a change to the
-- schema is a new migration on both engines. Dates and times stay TEXT as SQLite stores them.
-- The service hall's registered windows (窗口). Codes are upper-case ASCII, as NFKC, trimming and
-- upper-casing leave what a clerk typed ("Ａ０３" is "A03"). Once any window is registered, a case's
-- window must be one of them (docs/DOMAIN.md §18).
CREATE TABLE windows (
  -- SQLite: code GLOB '[A-Z0-9]*' AND code NOT GLOB '*[^A-Z0-9._-]*'
  code TEXT PRIMARY KEY NOT NULL CHECK (code ~ '^[A-Z0-9]' AND code !~ '[^A-Z0-9._-]'),
  name TEXT NOT NULL,
  hall TEXT NOT NULL,
  comprehensive BIGINT NOT NULL DEFAULT 0 CHECK (comprehensive IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version BIGINT NOT NULL
);
-- The departments a window serves; a comprehensive window (综合窗口) serves every department.
CREATE TABLE window_departments (
  window_code TEXT NOT NULL REFERENCES windows(code),
  department_code TEXT NOT NULL REFERENCES departments(code),
  PRIMARY KEY (window_code, department_code)
);
CREATE INDEX window_departments_department ON window_departments(department_code);
-- Staff (工作人员): a clerk's certificate subject (O, CN) and the windows they work at, one row per window.
CREATE TABLE staff (
  organization TEXT NOT NULL REFERENCES departments(code),
  person TEXT NOT NULL,
  window_code TEXT NOT NULL REFERENCES windows(code),
  assigned_at TEXT NOT NULL,
  PRIMARY KEY (organization, person, window_code)
);
CREATE INDEX staff_window ON staff(window_code);
-- Liaison units (包保单位): the units liaison officials' certificates name as their organisation.
CREATE TABLE liaison_units (
  name TEXT PRIMARY KEY NOT NULL,
  township TEXT NOT NULL REFERENCES townships(name),
  created_at TEXT NOT NULL
);
