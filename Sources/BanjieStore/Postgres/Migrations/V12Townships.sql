-- PostgreSQL: migration "v12-townships", the translation of Sources/BanjieStore/Migrations/V12Townships.swift
-- (docs/ARCHITECTURE.md, "Migrations"). Frozen once shipped, like the SQLite one: a change to the
-- schema is a new migration on both engines. Dates and times stay TEXT as SQLite stores them.
-- 汶上县's current divisions: 3 subdistricts (中都街道, 汶上街道, 南站街道), 11 towns and 1 township
-- (军屯乡). 南站 is a subdistrict, not a town, and 刘楼镇 was missing. The GB/T 10114 codes shipped
-- with the list could not be checked against the official list, so every shipped code is cleared
-- (names only); the office sets the verified codes (`banjie enterprise townships --add NAME --code CODE`).
INSERT INTO townships (name, code) VALUES ('南站街道', '') ON CONFLICT DO NOTHING;
INSERT INTO townships (name, code) VALUES ('刘楼镇', '') ON CONFLICT DO NOTHING;
UPDATE enterprises SET township = '南站街道' WHERE township = '南站镇';
UPDATE liaison_units SET township = '南站街道' WHERE township = '南站镇';
UPDATE cases SET township = '南站街道' WHERE township = '南站镇';
UPDATE policies SET eligibility = replace(eligibility, '"南站镇"', '"南站街道"') WHERE eligibility LIKE '%"南站镇"%';
DELETE FROM townships WHERE name = '南站镇';
UPDATE townships SET code = '' WHERE (name, code) IN (
  ('汶上街道', '370830001'), ('中都街道', '370830002'), ('南旺镇', '370830101'), ('次丘镇', '370830102'),
  ('寅寺镇', '370830103'), ('郭楼镇', '370830104'), ('康驿镇', '370830105'), ('苑庄镇', '370830106'),
  ('义桥镇', '370830107'), ('杨店镇', '370830108'), ('郭仓镇', '370830109'), ('白石镇', '370830110'),
  ('军屯乡', '370830200'));
