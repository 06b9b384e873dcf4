// swift-format-ignore-file
// Frozen: the literal SQL of migration "v2-enterprises" as it shipped. Never edit this file; a change to
// the schema is a new migration (docs/ARCHITECTURE.md, "Migrations"). MigrationTests pins its
// SHA-256, so an edit fails the tests.

extension Migrations {
  static let v2Enterprises = #"""
-- The county's townships; shipped with the sample county's list, extended by the office.
CREATE TABLE townships (
  name TEXT PRIMARY KEY NOT NULL,
  code TEXT NOT NULL
);
CREATE TABLE enterprises (
  uscc TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  industry TEXT NOT NULL CHECK (industry BETWEEN 'A' AND 'T' AND length(industry) = 1),
  scale TEXT NOT NULL CHECK (scale IN ('large', 'medium', 'small', 'micro')),
  township TEXT NOT NULL REFERENCES townships(name),
  contacts TEXT NOT NULL DEFAULT '[]',
  check_override_reason TEXT,
  registered_at TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX enterprises_township ON enterprises(township);
-- 包保: which liaison officials (by unit and name, as on their certificates) look after which enterprise.
CREATE TABLE enterprise_liaisons (
  uscc TEXT NOT NULL REFERENCES enterprises(uscc),
  organization TEXT NOT NULL,
  person TEXT NOT NULL,
  assigned_at TEXT NOT NULL,
  PRIMARY KEY (uscc, organization, person)
) WITHOUT ROWID;
CREATE INDEX enterprise_liaisons_official ON enterprise_liaisons(organization, person);
CREATE TABLE visits (
  id INTEGER PRIMARY KEY,
  uscc TEXT NOT NULL REFERENCES enterprises(uscc),
  liaison_organization TEXT NOT NULL,
  liaison_person TEXT NOT NULL,
  visited_on TEXT NOT NULL,
  notes TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX visits_enterprise_day ON visits(uscc, visited_on);
CREATE INDEX visits_day ON visits(visited_on);
CREATE TABLE demand_number_sequences (
  day TEXT PRIMARY KEY NOT NULL,
  last INTEGER NOT NULL
);
CREATE TABLE demands (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  uscc TEXT NOT NULL REFERENCES enterprises(uscc),
  category TEXT NOT NULL,
  description TEXT NOT NULL,
  department_code TEXT NOT NULL REFERENCES departments(code),
  limit_working_days INTEGER NOT NULL CHECK (limit_working_days BETWEEN 1 AND 365),
  state TEXT NOT NULL,
  handler TEXT NOT NULL DEFAULT '',
  answer TEXT NOT NULL DEFAULT '',
  reopen_reason TEXT NOT NULL DEFAULT '',
  satisfaction INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
  close_comment TEXT NOT NULL DEFAULT '',
  raised_by TEXT NOT NULL,
  visit_id INTEGER REFERENCES visits(id),
  raised_at TEXT NOT NULL,
  clock_start TEXT NOT NULL,
  answered_at TEXT,
  closed_at TEXT,
  due_at TEXT NOT NULL,
  colour TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX demands_enterprise ON demands(uscc);
CREATE INDEX demands_department_state ON demands(department_code, state);
CREATE INDEX demands_state_colour ON demands(state, colour);
CREATE TABLE policies (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  eligibility TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE policy_pushes (
  policy_id INTEGER NOT NULL REFERENCES policies(id),
  uscc TEXT NOT NULL REFERENCES enterprises(uscc),
  pushed_at TEXT NOT NULL,
  acknowledged_at TEXT,
  PRIMARY KEY (policy_id, uscc)
) WITHOUT ROWID;
CREATE INDEX policy_pushes_enterprise ON policy_pushes(uscc);
INSERT INTO meta (key, value) VALUES ('demands.limit_working_days', '10');
INSERT INTO townships (name, code) VALUES ('汶上街道', '370830001');
INSERT INTO townships (name, code) VALUES ('中都街道', '370830002');
INSERT INTO townships (name, code) VALUES ('南站镇', '370830100');
INSERT INTO townships (name, code) VALUES ('南旺镇', '370830101');
INSERT INTO townships (name, code) VALUES ('次丘镇', '370830102');
INSERT INTO townships (name, code) VALUES ('寅寺镇', '370830103');
INSERT INTO townships (name, code) VALUES ('郭楼镇', '370830104');
INSERT INTO townships (name, code) VALUES ('康驿镇', '370830105');
INSERT INTO townships (name, code) VALUES ('苑庄镇', '370830106');
INSERT INTO townships (name, code) VALUES ('义桥镇', '370830107');
INSERT INTO townships (name, code) VALUES ('杨店镇', '370830108');
INSERT INTO townships (name, code) VALUES ('郭仓镇', '370830109');
INSERT INTO townships (name, code) VALUES ('白石镇', '370830110');
INSERT INTO townships (name, code) VALUES ('军屯乡', '370830200');
"""#
}
