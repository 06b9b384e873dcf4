#!/usr/bin/env python3
"""Compares banjie's SQLite schema with its PostgreSQL translation (issue 17), and checks that the two
engines' dashboard triggers and migration back-fills keep the same figures.

    scripts/engine-parity.py schema --postgres URL [--sqlite FILE] [--apply]
    scripts/engine-parity.py dashboard --postgres URL [--seed N]
    scripts/engine-parity.py copy --sqlite FILE --postgres URL [--through-triggers]
    scripts/engine-parity.py selfcheck --postgres URL

`schema` compares tables, columns (order, NOT NULL, type family, default), primary keys, unique
constraints, foreign keys, CHECK counts, explicit indexes and triggers. The SQLite side is FILE (an
existing banjie database, e.g. one a test or `banjied` left) or, without --sqlite, a fresh database
built from the frozen SQL of Sources/BanjieStore/Migrations/*.swift. With --apply the PostgreSQL
migrations (Sources/BanjieStore/Postgres/Migrations/*.sql) are applied first to the empty database
at URL. Exit status 1 when anything differs.

`dashboard` needs an empty PostgreSQL database. It migrates both engines in three steps (v1-v5,
v6-v9, v10-v15), and between the steps, and after, runs the same pseudo-random writes (cases
received, accepted, completed, reopened, transferred, recoloured; ratings given, changed and
withdrawn; enterprises registered and moved; demands and rectifications opened and closed; rows
deleted) on both. It then compares every table row by row across the engines, and PostgreSQL's
trigger-kept aggregates with its set-wise rebuild (what dashboardAggregateDifferences does).

`copy` is a preview of `banjied migrate-store`: every row of a banjie SQLite file into a freshly
migrated PostgreSQL database (COPY, one transaction; identities continue after the copied ids), then
every table compared, the audit chain verified on PostgreSQL (AuditLog.verify's hash, in Python),
and the aggregates checked against a rebuild. With --through-triggers the dashboard tables are not
copied but computed by the PL/pgSQL triggers as the rows arrive, and compared with SQLite's.
`selfcheck` is that last check alone.

Needs python3 (its sqlite3 module) and psql; nothing else.
"""
import argparse
import csv
import io
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = [
    ("v1-foundation", "V1Foundation"), ("v2-enterprises", "V2Enterprises"), ("v3-ratings", "V3Ratings"),
    ("v4-revocations", "V4Revocations"), ("v5-awards", "V5Awards"), ("v6-dashboard", "V6Dashboard"),
    ("v7-registry", "V7Registry"), ("v8-supervision", "V8Supervision"), ("v9-minor-pending", "V9MinorPending"),
    ("v10-hall-workflows", "V10HallWorkflows"), ("v11-countersign", "V11Countersign"), ("v12-townships", "V12Townships"),
    ("v13-appeals", "V13Appeals"), ("v14-proposals", "V14Proposals"), ("v15-targets", "V15Targets"),
]
# Tables that are the engines' bookkeeping, not banjie's schema.
IGNORED_TABLES = {"grdb_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}
# Triggers PostgreSQL has that SQLite needs no equivalent of.
POSTGRES_ONLY_TRIGGERS = {("audit_log", "audit_log_no_truncate")}
NULL = "\\N"


def die(message):
    print(f"engine-parity: {message}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- the two engines

def sqlite_migration_sql(name):
    text = (ROOT / "Sources/BanjieStore/Migrations" / f"{name}.swift").read_text()
    match = re.search(r'#"""\n(.*?)"""#', text, re.S)
    if not match:
        die(f"no SQL literal in Migrations/{name}.swift")
    return match.group(1)


def postgres_migration_path(name):
    return ROOT / "Sources/BanjieStore/Postgres/Migrations" / f"{name}.sql"


def sqlite_apply(db, names):
    for name in names:
        db.executescript("BEGIN;\n" + sqlite_migration_sql(name) + "\nCOMMIT;")


def psql(url, *args, input=None):
    try:
        result = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args], input=input,
                                capture_output=True, text=True)
    except FileNotFoundError:
        die("psql not found (apt-get install -y postgresql-client)")
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return result.stdout


def postgres_apply(url, names):
    for name in names:
        try:
            psql(url, "--single-transaction", "-f", str(postgres_migration_path(name)))
        except RuntimeError as error:
            die(f"PostgreSQL migration {name} failed: {error}")


def pg_rows(url, query):
    """Rows of `query` as tuples of strings, NULL as NULL."""
    out = psql(url, "-c", f"COPY ({query}) TO STDOUT WITH (FORMAT csv, NULL '{NULL}')")
    return [tuple(row) for row in csv.reader(io.StringIO(out))]


def pg_execute(url, sql):
    psql(url, "--single-transaction", "-f", "-", input=sql)


# ---------------------------------------------------------------- schema

def sqlite_schema(db):
    """{table: {...}} from SQLite's catalogue."""
    schema = {}
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        if table in IGNORED_TABLES or table.startswith("sqlite_"):
            continue
        info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
        pk = [row[1] for row in sorted((r for r in info if r[5] > 0), key=lambda r: r[5])]
        columns = []
        for cid, name, decl, notnull, default, pkpos in info:
            rowid_alias = pkpos > 0 and len(pk) == 1 and decl.upper() == "INTEGER"
            columns.append({
                "name": name, "type": type_family_sqlite(decl),
                # A PRIMARY KEY column is never NULL in practice (a rowid alias cannot be; banjie
                # never writes a NULL key), and PostgreSQL makes it NOT NULL: compare it as such.
                "notnull": bool(notnull) or pkpos > 0, "declared_notnull": bool(notnull), "rowid_alias": rowid_alias,
                "default": normalise_default(default),
            })
        unique = set()
        indexes = {}
        for _, index, is_unique, origin, partial in db.execute(f'PRAGMA index_list("{table}")').fetchall():
            cols = tuple(r[2] for r in db.execute(f'PRAGMA index_info("{index}")').fetchall())
            if origin == "u":
                unique.add(cols)
            elif origin == "c":
                indexes[index] = {"columns": cols, "unique": bool(is_unique), "partial": bool(partial)}
        fks = set()
        groups = {}
        for row in db.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
            groups.setdefault(row[0], []).append(row)
        for rows in groups.values():
            rows.sort(key=lambda r: r[1])
            target = rows[0][2]
            to = tuple(r[4] if r[4] is not None else "<pk>" for r in rows)
            fks.add((tuple(r[3] for r in rows), target, to))
        sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
        triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,))}
        schema[table] = {"columns": columns, "pk": tuple(pk), "unique": unique, "indexes": indexes, "fks": fks,
                         "checks": count_checks(sql), "triggers": triggers}
    # Foreign keys naming no column refer to the target's primary key.
    for table in schema.values():
        resolved = set()
        for cols, target, to in table["fks"]:
            if "<pk>" in to and target in schema:
                to = schema[target]["pk"]
            resolved.add((cols, target, to))
        table["fks"] = resolved
    return schema


def count_checks(sql):
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return len(re.findall(r"\bCHECK\s*\(", without_comments, re.I))


def type_family_sqlite(decl):
    decl = decl.upper()
    if "INT" in decl:
        return "integer"
    if "CHAR" in decl or "TEXT" in decl or "CLOB" in decl:
        return "text"
    if decl == "" or "BLOB" in decl:
        return "bytes"
    if "REAL" in decl or "FLOA" in decl or "DOUB" in decl:
        return "real"
    return "numeric"


def type_family_postgres(data_type):
    return {
        "bigint": "integer", "integer": "integer", "smallint": "integer", "text": "text", "character varying": "text",
        "bytea": "bytes", "double precision": "real", "real": "real", "numeric": "numeric",
    }.get(data_type, data_type)


def normalise_default(default):
    if default is None:
        return None
    default = re.sub(r"::[a-z ]+$", "", default.strip())
    default = re.sub(r"^\((.*)\)$", r"\1", default)
    return default


def postgres_schema(url):
    schema = {}
    tables = [r[0] for r in pg_rows(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                                          "AND table_type = 'BASE TABLE' ORDER BY 1")]
    columns = pg_rows(url, """
        SELECT c.table_name, c.column_name, c.is_nullable, c.data_type, COALESCE(c.column_default, '\\N'), c.is_identity
        FROM information_schema.columns c WHERE c.table_schema = 'public' ORDER BY c.table_name, c.ordinal_position""")
    constraints = pg_rows(url, """
        SELECT t.relname, k.conname, k.contype,
          (SELECT string_agg(a.attname, ',' ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(n, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n),
          COALESCE(f.relname, ''),
          COALESCE((SELECT string_agg(a.attname, ',' ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(n, ord)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n), '')
        FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
        JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public'
        LEFT JOIN pg_class f ON f.oid = k.confrelid""")
    indexes = pg_rows(url, """
        SELECT t.relname, i.relname, x.indisunique::int, (x.indpred IS NOT NULL)::int,
          (SELECT string_agg(a.attname, ',' ORDER BY u.ord) FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(n, ord)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public'
        WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)""")
    triggers = pg_rows(url, """
        SELECT t.relname, g.tgname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
        JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public' WHERE NOT g.tgisinternal""")
    for table in tables:
        schema[table] = {"columns": [], "pk": (), "unique": set(), "indexes": {}, "fks": set(), "checks": 0, "triggers": set()}
    for table, name, nullable, data_type, default, identity in columns:
        if table in schema:
            schema[table]["columns"].append({
                "name": name, "type": type_family_postgres(data_type), "notnull": nullable == "NO",
                "default": None if default == NULL or identity == "YES" else normalise_default(default), "identity": identity == "YES",
            })
    for table, _, kind, cols, target, target_cols in constraints:
        if table not in schema:
            continue
        cols = tuple(cols.split(",")) if cols else ()
        if kind == "p":
            schema[table]["pk"] = cols
        elif kind == "u":
            schema[table]["unique"].add(cols)
        elif kind == "f":
            schema[table]["fks"].add((cols, target, tuple(target_cols.split(","))))
        elif kind == "c":
            schema[table]["checks"] += 1
    for table, index, unique, partial, cols in indexes:
        if table in schema:
            schema[table]["indexes"][index] = {"columns": tuple(cols.split(",")), "unique": unique == "1", "partial": partial == "1"}
    for table, trigger in triggers:
        if table in schema:
            schema[table]["triggers"].add(trigger)
    return schema


def compare_schemas(lite, pg):
    differences, notes = [], []
    for table in sorted(set(lite) - set(pg)):
        differences.append(f"table {table}: only in SQLite")
    for table in sorted(set(pg) - set(lite)):
        differences.append(f"table {table}: only in PostgreSQL")
    for table in sorted(set(lite) & set(pg)):
        a, b = lite[table], pg[table]
        names_a = [c["name"] for c in a["columns"]]
        names_b = [c["name"] for c in b["columns"]]
        for name in names_a:
            if name not in names_b:
                differences.append(f"{table}.{name}: column only in SQLite")
        for name in names_b:
            if name not in names_a:
                differences.append(f"{table}.{name}: column only in PostgreSQL")
        common_a = [n for n in names_a if n in names_b]
        common_b = [n for n in names_b if n in names_a]
        if common_a != common_b:
            differences.append(f"{table}: columns in another order (positional reads would differ)")
        by_name = {c["name"]: c for c in b["columns"]}
        for column in a["columns"]:
            other = by_name.get(column["name"])
            if other is None:
                continue
            where = f"{table}.{column['name']}"
            if column["notnull"] != other["notnull"]:
                differences.append(f"{where}: NOT NULL in {'SQLite' if column['notnull'] else 'PostgreSQL'} only")
            elif column["notnull"] and not column["declared_notnull"]:
                notes.append(f"{where}: a PRIMARY KEY SQLite does not declare NOT NULL; NOT NULL in PostgreSQL")
            if column["type"] != other["type"]:
                differences.append(f"{where}: {column['type']} in SQLite, {other['type']} in PostgreSQL")
            if column["default"] != other["default"]:
                differences.append(f"{where}: default {column['default']!r} in SQLite, {other['default']!r} in PostgreSQL")
            if column["rowid_alias"] and not other.get("identity"):
                notes.append(f"{where}: SQLite's rowid alias; in PostgreSQL a plain BIGINT key (values always written)")
        if a["pk"] != b["pk"]:
            differences.append(f"{table}: primary key {a['pk']} in SQLite, {b['pk']} in PostgreSQL")
        if a["unique"] != b["unique"]:
            differences.append(f"{table}: UNIQUE {sorted(a['unique'])} in SQLite, {sorted(b['unique'])} in PostgreSQL")
        if a["fks"] != b["fks"]:
            differences.append(f"{table}: foreign keys {sorted(a['fks'] - b['fks'])} only in SQLite, "
                               f"{sorted(b['fks'] - a['fks'])} only in PostgreSQL")
        if a["checks"] != b["checks"]:
            differences.append(f"{table}: {a['checks']} CHECK constraints in SQLite, {b['checks']} in PostgreSQL")
        for index in sorted(set(a["indexes"]) | set(b["indexes"])):
            x, y = a["indexes"].get(index), b["indexes"].get(index)
            if x is None:
                differences.append(f"index {index} on {table}: only in PostgreSQL")
            elif y is None:
                differences.append(f"index {index} on {table}: only in SQLite")
            elif x != y:
                differences.append(f"index {index} on {table}: {x} in SQLite, {y} in PostgreSQL")
        extra = {t for t in b["triggers"] - a["triggers"] if (table, t) not in POSTGRES_ONLY_TRIGGERS}
        for trigger in sorted(a["triggers"] - b["triggers"]):
            differences.append(f"trigger {trigger} on {table}: only in SQLite")
        for trigger in sorted(extra):
            differences.append(f"trigger {trigger} on {table}: only in PostgreSQL")
    return differences, notes


def run_schema(args):
    if args.apply:
        postgres_apply(args.postgres, [name for _, name in MIGRATIONS])
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            if not Path(args.sqlite).is_file():
                die(f"{args.sqlite} is not a file")
            db = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True)
            try:
                latest = db.execute("SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1").fetchone()
                print(f"SQLite: {args.sqlite} (latest migration {latest[0] if latest else 'none'})")
            except sqlite3.DatabaseError as error:
                die(f"{args.sqlite} is not a banjie database: {error}")
        else:
            db = sqlite3.connect(str(Path(tmp) / "reference.sqlite"))
            db.execute("PRAGMA foreign_keys = ON")
            sqlite_apply(db, [name for _, name in MIGRATIONS])
            print("SQLite: a fresh database from Sources/BanjieStore/Migrations/*.swift")
        lite = sqlite_schema(db)
    pg = postgres_schema(args.postgres)
    differences, notes = compare_schemas(lite, pg)
    columns = sum(len(t["columns"]) for t in lite.values())
    indexes = sum(len(t["indexes"]) for t in lite.values())
    triggers = sum(len(t["triggers"]) for t in lite.values())
    print(f"compared {len(lite)} tables, {columns} columns, {indexes} indexes, {triggers} triggers")
    for note in notes if args.verbose else []:
        print(f"note: {note}")
    if not args.verbose and notes:
        print(f"{len(notes)} notes (rowid aliases, undeclared NOT NULL on keys); --verbose lists them")
    for difference in differences:
        print(f"DIFFERENCE: {difference}")
    print("schemas agree" if not differences else f"{len(differences)} differences")
    return 0 if not differences else 1


# ---------------------------------------------------------------- dashboard

class Writes:
    """Pseudo-random writes, as SQL both engines run unchanged."""

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.cases = []          # numbers
        self.enterprises = []    # usccs registered
        self.rated = []          # case numbers with a rating
        self.demands = 0
        self.rectified = []
        self.pending_usccs = set()  # named by cases before the enterprise is registered
        self.base = datetime(2026, 3, 1, 0, 0, 0)

    def time(self):
        moment = self.base + timedelta(minutes=self.random.randrange(0, 14 * 24 * 60), milliseconds=self.random.randrange(1000))
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (moment.microsecond // 1000)

    @staticmethod
    def q(value):
        if value is None:
            return "NULL"
        if isinstance(value, int):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    def setup(self):
        sql = ["INSERT INTO departments (code, name) VALUES ('D1', '一'), ('D2', '二'), ('D3', '三');"]
        for i, (department, kind) in enumerate([("D1", "promised"), ("D1", "instant"), ("D2", "promised"), ("D3", "promised")]):
            sql.append(f"INSERT INTO service_items (code, name, department_code, kind, promised_limit, limit_unit, legal_limit_days, "
                       f"materials, allows_minor_pending) VALUES ('I{i}', 'item {i}', '{department}', '{kind}', 5, 'working_days', 20, '[]', 0);")
        return sql

    def enterprise(self, registered=True):
        uscc = "91370830MA%08d" % self.random.randrange(10 ** 8)
        township = self.random.choice(["汶上街道", "中都街道", "南旺镇", "次丘镇"])
        if registered:
            self.enterprises.append(uscc)
            return uscc, [f"INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at) "
                          f"VALUES ('{uscc}', 'E', 'C', 'small', '{township}', {self.q(self.time())}, 1, {self.q(self.time())});"]
        return uscc, []

    def case(self, stage):
        r = self.random
        number = "370830-20260301-%06d" % (len(self.cases) + 1)
        self.cases.append(number)
        item = r.randrange(4)
        department = ["D1", "D1", "D2", "D3"][item]
        received = self.time()
        accepted = received if r.random() < 0.6 else None
        completed = self.time() if accepted and r.random() < 0.5 else None
        due = self.time() if accepted and r.random() < 0.8 else None
        state = "COMPLETED" if completed else ("ACCEPTED" if accepted else r.choice(["RECEIVED", "SUSPENDED", "ACCEPTED"]))
        colour = r.choice([None, "green", "yellow", "red"])
        uscc = None
        sql = []
        if r.random() < 0.5:
            if self.enterprises and r.random() < 0.7:
                uscc = r.choice(self.enterprises)
            else:
                uscc, _ = self.enterprise(registered=False)  # registered later (or never)
                self.pending_usccs.add(uscc)
        columns = {"number": number, "item_code": f"I{item}", "department_code": department, '"window"': r.choice(["A01", "A02", "Z01"]),
                   "applicant": "申请人", "enterprise_uscc": uscc, "state": state, "version": 1, "received_at": received,
                   "received_day": received[:10], "accepted_at": accepted, "limit_value": 5, "limit_unit": "working_days",
                   "due_at": due, "colour": colour, "completed_at": completed, "received_by": "clerk", "updated_at": received}
        if stage >= 2:
            columns.update({"one_day": r.choice([None, 0, 1]), "handling_seconds": r.choice([None, r.randrange(100000)]),
                            "handling_bucket": r.choice([None] + list(range(78)))})
            if uscc:
                columns["township"] = r.choice(["", "南旺镇"])
        if stage >= 3:
            columns.update({"channel": r.choice(["WINDOW", "ONLINE", "MAIL", "SELF_SERVICE"]),
                            "delivery_channel": r.choice([None, "WINDOW", "MAIL", "ONLINE"])})
        sql.append(f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join(self.q(v) for v in columns.values())});")
        return sql

    def update_case(self, stage):
        r = self.random
        number = self.q(r.choice(self.cases))
        choices = [
            f"UPDATE cases SET state = 'ACCEPTED', accepted_at = {self.q(self.time())}, due_at = {self.q(self.time())}, colour = 'green' WHERE number = {number};",
            f"UPDATE cases SET state = 'COMPLETED', completed_at = {self.q(self.time())} WHERE number = {number} AND accepted_at IS NOT NULL;",
            f"UPDATE cases SET state = 'ACCEPTED', completed_at = NULL WHERE number = {number};",
            f"UPDATE cases SET colour = {self.q(r.choice([None, 'green', 'yellow', 'red']))} WHERE number = {number};",
            f"UPDATE cases SET department_code = {self.q(r.choice(['D1', 'D2', 'D3']))} WHERE number = {number};",
            f"UPDATE cases SET item_code = {self.q('I%d' % r.randrange(4))}, \"window\" = {self.q(r.choice(['A01', 'B07']))} WHERE number = {number};",
            f"UPDATE cases SET received_at = {self.q(self.time())} WHERE number = {number};",
            f"UPDATE cases SET state = 'SUSPENDED' WHERE number = {number} AND completed_at IS NULL;",
            f"UPDATE cases SET colour = 'red' WHERE due_at < {self.q(self.time())} AND completed_at IS NULL;",
            f"UPDATE cases SET due_at = {self.q(self.time())} WHERE number = {number};",
        ]
        if stage >= 2:
            choices += [
                f"UPDATE cases SET one_day = {r.choice([0, 1])}, handling_seconds = {r.randrange(10 ** 6)}, handling_bucket = {r.randrange(78)} WHERE number = {number};",
                f"UPDATE cases SET handling_bucket = NULL WHERE number = {number};",
            ]
        if stage >= 3:
            choices += [
                f"UPDATE cases SET channel = {self.q(r.choice(['WINDOW', 'ONLINE', 'MAIL']))} WHERE number = {number};",
                f"UPDATE cases SET delivery_channel = {self.q(r.choice([None, 'WINDOW', 'MAIL', 'ONLINE']))} WHERE number = {number};",
            ]
        return [r.choice(choices)]

    def rate(self):
        r = self.random
        number = r.choice(self.cases)
        if number in self.rated:
            return []
        self.rated.append(number)
        level = r.randrange(1, 6)
        return [f"INSERT INTO ratings (case_id, case_number, uscc, level, comment, rated_at, rated_by) "
                f"SELECT id, number, 'x', {level}, '', {self.q(self.time())}, 'p' FROM cases WHERE number = {self.q(number)};"]

    def update_rating(self):
        r = self.random
        if not self.rated:
            return []
        number = self.q(r.choice(self.rated))
        return [r.choice([
            f"UPDATE ratings SET excluded = 1 - excluded, excluded_at = {self.q(self.time())} WHERE case_number = {number};",
            f"UPDATE ratings SET level = {r.randrange(1, 6)} WHERE case_number = {number};",
        ])]

    def delete_rating(self):
        candidates = [n for n in self.rated if n not in self.rectified]
        if not candidates:
            return []
        number = self.random.choice(candidates)
        self.rated.remove(number)
        return [f"DELETE FROM ratings WHERE case_number = {self.q(number)};"]

    def rectify(self):
        candidates = [n for n in self.rated if n not in self.rectified]
        if not candidates:
            return []
        number = self.random.choice(candidates)
        self.rectified.append(number)
        return [f"INSERT INTO rectifications (number, case_id, case_number, department_code, state, limit_working_days, opened_at, due_at, colour, version, updated_at) "
                f"SELECT 'R-' || c.number, c.id, c.number, c.department_code, 'OPEN', 15, {self.q(self.time())}, {self.q(self.time())}, 'green', 1, {self.q(self.time())} "
                f"FROM cases c JOIN ratings g ON g.case_id = c.id WHERE c.number = {self.q(number)};"]

    def update_rectification(self):
        if not self.rectified:
            return []
        number = self.q("R-" + self.random.choice(self.rectified))
        return [self.random.choice([
            f"UPDATE rectifications SET completed_at = {self.q(self.time())}, state = 'COMPLETED' WHERE number = {number};",
            f"UPDATE rectifications SET closed_at = {self.q(self.time())}, state = 'CLOSED' WHERE number = {number};",
            f"UPDATE rectifications SET completed_at = NULL, closed_at = NULL, state = 'OPEN' WHERE number = {number};",
            f"UPDATE rectifications SET department_code = {self.q(self.random.choice(['D1', 'D2', 'D3']))} WHERE number = {number};",
        ])]

    def demand(self):
        if not self.enterprises:
            return self.enterprise()[1]
        self.demands += 1
        t = self.q(self.time())
        return [f"INSERT INTO demands (number, uscc, category, description, department_code, limit_working_days, state, raised_by, "
                f"raised_at, clock_start, due_at, colour, version, updated_at) VALUES ('Q-{self.demands}', {self.q(self.random.choice(self.enterprises))}, "
                f"'c', 'd', {self.q(self.random.choice(['D1', 'D2', 'D3']))}, 10, 'OPEN', 'e', {t}, {t}, {t}, 'green', 1, {t});"]

    def update_demand(self):
        if not self.demands:
            return []
        number = self.q("Q-%d" % self.random.randrange(1, self.demands + 1))
        return [self.random.choice([
            f"UPDATE demands SET state = {self.q(self.random.choice(['OPEN', 'ASSIGNED', 'ANSWERED', 'CLOSED', 'REOPENED']))} WHERE number = {number};",
            f"UPDATE demands SET department_code = {self.q(self.random.choice(['D1', 'D2', 'D3']))} WHERE number = {number};",
        ])]

    def enterprise_change(self):
        r = self.random
        unregistered = sorted(self.pending_usccs - set(self.enterprises)) if r.random() < 0.5 else []
        if unregistered:
            uscc = r.choice(unregistered)
            self.enterprises.append(uscc)
            t = self.q(self.time())
            return [f"INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at) "
                    f"VALUES ('{uscc}', 'E', 'F', 'micro', {self.q(r.choice(['郭楼镇', '康驿镇']))}, {t}, 1, {t});"]
        if self.enterprises:
            return [f"UPDATE enterprises SET township = {self.q(r.choice(['汶上街道', '南旺镇', '杨店镇']))} WHERE uscc = {self.q(r.choice(self.enterprises))};"]
        return self.enterprise()[1]

    def round(self, stage, n):
        """n writes of every kind, mixed."""
        sql = []
        for _ in range(n):
            kind = self.random.choices(
                ["case", "update", "rate", "update_rating", "delete_rating", "rectify", "update_rectification", "demand",
                 "update_demand", "enterprise"], weights=[20, 30, 10, 6, 2, 3, 4, 5, 5, 5])[0]
            if kind == "case" or not self.cases:
                sql += self.case(stage)
            elif kind == "update":
                sql += self.update_case(stage)
            elif kind == "rate":
                sql += self.rate()
            elif kind == "update_rating":
                sql += self.update_rating()
            elif kind == "delete_rating":
                sql += self.delete_rating()
            elif kind == "rectify":
                sql += self.rectify()
            elif kind == "update_rectification":
                sql += self.update_rectification()
            elif kind == "demand":
                sql += self.demand()
            elif kind == "update_demand":
                sql += self.update_demand()
            else:
                sql += self.enterprise_change()
        return sql

    def deletions(self):
        """The last writes: cases without ratings, some demands and rectifications, go."""
        unrated = [n for n in self.cases if n not in self.rated]
        doomed = self.random.sample(unrated, min(len(unrated), max(1, len(unrated) // 5)))
        sql = [f"DELETE FROM cases WHERE number IN ({', '.join(self.q(n) for n in doomed)});"]
        sql.append("DELETE FROM demands WHERE state = 'CLOSED';")
        sql.append("DELETE FROM rectifications WHERE closed_at IS NOT NULL;")
        return sql


def sqlite_rows(db, table, columns):
    order = ", ".join(f'"{c}"' for c in columns)
    rows = []
    for row in db.execute(f'SELECT {order} FROM "{table}" ORDER BY {order}'):
        rows.append(tuple(text_of(v) for v in row))
    return sorted(rows)


def text_of(value):
    if value is None:
        return NULL
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, float):
        return repr(float(value))
    return str(value)


def postgres_table_rows(url, table, columns, types):
    select = ", ".join(f'"{c}"' for c in columns)
    rows = []
    for row in pg_rows(url, f'SELECT {select} FROM "{table}"'):
        rows.append(tuple(repr(float(v)) if t == "real" and v != NULL else v for v, t in zip(row, types)))
    return sorted(rows)


def postgres_self_check(url):
    """What dashboardAggregateDifferences reports, on PostgreSQL: the trigger-kept aggregates
    against a set-wise rebuild into temporary tables (rows whose figures are all zero count as
    absent). Nothing is written: the transaction is rolled back."""
    rebuild = subprocess.run([sys.executable, str(ROOT / "scripts/dashboard-sql.py"), "--dialect", "postgres", "--part", "rebuild",
                              "--daily", "dashboard_daily_check", "--open", "dashboard_open_check", "--backlog", "dashboard_backlog_check"],
                             check=True, capture_output=True, text=True).stdout
    value_columns = ["received", "accepted", "completed", "on_time", "one_day", "handling_seconds", "rated", "good"] + ["b%02d" % i for i in range(78)]
    non_zero = " OR ".join(f"{c} != 0" for c in value_columns)
    columns = ", ".join(["dim", "key", "department_code", "day"] + value_columns)
    check = f"""
CREATE TEMP TABLE dashboard_daily_check (LIKE dashboard_daily INCLUDING ALL);
CREATE TEMP TABLE dashboard_open_check (LIKE dashboard_open INCLUDING ALL);
CREATE TEMP TABLE dashboard_backlog_check (LIKE dashboard_backlog INCLUDING ALL);
{rebuild}
COPY (
  SELECT 'daily kept, not rebuilt', * FROM (SELECT {columns} FROM dashboard_daily WHERE {non_zero}
    EXCEPT SELECT {columns} FROM dashboard_daily_check WHERE {non_zero}) x
  UNION ALL SELECT 'daily rebuilt, not kept', * FROM (SELECT {columns} FROM dashboard_daily_check WHERE {non_zero}
    EXCEPT SELECT {columns} FROM dashboard_daily WHERE {non_zero}) y
) TO STDOUT WITH (FORMAT csv);
COPY (
  SELECT 'open', * FROM ((SELECT dim, key, department_code, colour, n FROM dashboard_open WHERE n != 0
    EXCEPT SELECT dim, key, department_code, colour, n FROM dashboard_open_check WHERE n != 0)
  UNION ALL (SELECT dim, key, department_code, colour, n FROM dashboard_open_check WHERE n != 0
    EXCEPT SELECT dim, key, department_code, colour, n FROM dashboard_open WHERE n != 0)) z
) TO STDOUT WITH (FORMAT csv);
COPY (
  SELECT 'backlog', * FROM ((SELECT kind, department_code, n FROM dashboard_backlog WHERE n != 0
    EXCEPT SELECT kind, department_code, n FROM dashboard_backlog_check WHERE n != 0)
  UNION ALL (SELECT kind, department_code, n FROM dashboard_backlog_check WHERE n != 0
    EXCEPT SELECT kind, department_code, n FROM dashboard_backlog WHERE n != 0)) z
) TO STDOUT WITH (FORMAT csv);
ROLLBACK;
"""
    out = psql(url, "-f", "-", input="BEGIN;\n" + check)
    return out.strip().splitlines()


def run_dashboard(args):
    url = args.postgres
    if pg_rows(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")[0][0] != "0":
        die("the PostgreSQL database is not empty (the dashboard check migrates it itself)")
    writes = Writes(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(str(Path(tmp) / "parity.sqlite"), isolation_level=None)
        db.execute("PRAGMA foreign_keys = ON")

        def both(statements, label):
            script = "\n".join(statements) + "\n"
            try:
                db.executescript("BEGIN;\n" + script + "COMMIT;")
            except sqlite3.DatabaseError as error:
                die(f"SQLite refused the writes ({label}): {error}")
            try:
                pg_execute(url, script)
            except RuntimeError as error:
                die(f"PostgreSQL refused the writes ({label}): {error}")
            print(f"{label}: {len(statements)} statements on both engines")

        steps = [(1, [n for _, n in MIGRATIONS[:5]]), (2, [n for _, n in MIGRATIONS[5:9]]), (3, [n for _, n in MIGRATIONS[9:]])]
        for stage, names in steps:
            sqlite_apply(db, names)
            postgres_apply(url, names)
            print(f"migrated both engines through {names[-1]}")
            statements = (writes.setup() if stage == 1 else []) + writes.round(stage, args.writes)
            both(statements, f"writes after {names[-1]}")
        both(writes.round(3, args.writes), "more writes")
        both(writes.deletions(), "deletions")

        failures = 0
        lite = sqlite_schema(db)
        for table in sorted(lite):
            columns = [c["name"] for c in lite[table]["columns"]]
            types = [c["type"] for c in lite[table]["columns"]]
            a = sqlite_rows(db, table, columns)
            b = postgres_table_rows(url, table, columns, types)
            if a != b:
                failures += 1
                only_a = [r for r in a if r not in set(b)][:3]
                only_b = [r for r in b if r not in set(a)][:3]
                print(f"DIFFERENCE: {table}: {len(a)} rows in SQLite, {len(b)} in PostgreSQL; "
                      f"e.g. SQLite only {only_a}, PostgreSQL only {only_b}")
        print(f"compared the rows of {len(lite)} tables across the engines: "
              f"{'identical' if not failures else f'{failures} tables differ'}")
        counts = {t: len(sqlite_rows(db, t, ["dim"])) for t in ["dashboard_daily", "dashboard_open"]}
        print(f"  (dashboard_daily {counts['dashboard_daily']} rows, dashboard_open {counts['dashboard_open']} rows, "
              f"cases {db.execute('SELECT count(*) FROM cases').fetchone()[0]})")

    differences = postgres_self_check(url)
    if differences:
        failures += 1
        print("DIFFERENCE: PostgreSQL's trigger-kept aggregates differ from its rebuild:")
        for line in differences[:20]:
            print("  " + line[:200])
    else:
        print("PostgreSQL's trigger-kept aggregates equal its set-wise rebuild")
    return 0 if not failures else 1


# ---------------------------------------------------------------- copy (a preview of migrate-store)

def topological(schema):
    """Tables with every table they refer to first."""
    order, seen = [], set()

    def visit(table, stack):
        if table in seen:
            return
        for _, target, _ in sorted(schema[table]["fks"]):
            if target != table and target in schema and target not in stack:
                visit(target, stack | {table})
        seen.add(table)
        order.append(table)

    for table in sorted(schema):
        visit(table, frozenset())
    return order


def verify_chain(rows):
    """AuditLog.verify over rows (id, at, actor_role, actor_organization, actor_person, actor_serial,
    action, entity, entity_id, detail, prev_hash, hash) as text: None when the chain holds."""
    import hashlib
    prev, expected = "0" * 64, 1
    for row in rows:
        if int(row[0]) != expected:
            return f"row {expected} is missing (found {row[0]})"
        expected += 1
        if row[10] != prev:
            return f"row {row[0]} does not follow row {int(row[0]) - 1}"
        fields = list(row[:10]) + [prev]
        message = b"".join(str(len(f.encode())).encode() + b":" + f.encode() for f in fields)
        if hashlib.sha256(message).hexdigest() != row[11]:
            return f"row {row[0]} does not match its hash"
        prev = row[11]
    return None


CHAIN_COLUMNS = ["id", "at", "actor_role", "actor_organization", "actor_person", "actor_serial", "action", "entity",
                 "entity_id", "detail", "prev_hash", "hash"]


def run_copy(args):
    url = args.postgres
    try:
        pg_rows(url, "SELECT 1 FROM cases LIMIT 1")
    except RuntimeError:
        die("the PostgreSQL database has no banjie schema (apply Sources/BanjieStore/Postgres/Migrations first)")
    if pg_rows(url, "SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM idempotency)")[0][0] != "0":
        die("the PostgreSQL database already holds cases, audit rows or idempotency keys; copy into a freshly migrated one")
    if not Path(args.sqlite).is_file():
        die(f"{args.sqlite} is not a file")
    db = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True)
    lite = sqlite_schema(db)
    through = args.through_triggers
    order = topological(lite)
    copied = [t for t in order if not (through and t.startswith("dashboard_"))]
    # Rows the migrations inserted (settings, townships, the first award rule set) are replaced by the file's.
    script = ["BEGIN;", "SET LOCAL session_replication_role = replica;"]
    script += [f'DELETE FROM "{t}";' for t in reversed(order) if t != "audit_log"]
    if through:
        script.append("SET LOCAL session_replication_role = origin;")
    total = 0
    for table in copied:
        columns = [c["name"] for c in lite[table]["columns"]]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        n = 0
        for row in db.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}"'):
            writer.writerow([text_of(v) for v in row])
            n += 1
        total += n
        if n:
            script.append(f'COPY "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) FROM STDIN WITH (FORMAT csv, NULL \'{NULL}\');')
            script.append(buffer.getvalue() + "\\.")
    # Identities continue after the copied ids.
    for table in copied:
        for column in lite[table]["columns"]:
            if column["rowid_alias"]:
                script.append(f"SELECT setval(pg_get_serial_sequence('{table}', '{column['name']}'), COALESCE(MAX({column['name']}), 0) + 1, false) "
                              f"FROM \"{table}\" WHERE pg_get_serial_sequence('{table}', '{column['name']}') IS NOT NULL;")
    script.append("COMMIT;")
    try:
        psql(url, "-f", "-", input="\n".join(script) + "\n")
    except RuntimeError as error:
        die(f"the copy failed: {error}")
    mode = "with the dashboard triggers computing the aggregates" if through else "as is, triggers off"
    print(f"copied {total} rows of {len(copied)} tables from {args.sqlite} {mode}")

    failures = 0
    value_columns = {"dashboard_daily": 86, "dashboard_open": 1, "dashboard_backlog": 1}
    for table in order:
        columns = [c["name"] for c in lite[table]["columns"]]
        types = [c["type"] for c in lite[table]["columns"]]
        a = sqlite_rows(db, table, columns)
        b = postgres_table_rows(url, table, columns, types)
        if table in value_columns:  # rows whose figures are all zero count as absent
            k = value_columns[table]
            a = [r for r in a if any(v != "0" for v in r[-k:])]
            b = [r for r in b if any(v != "0" for v in r[-k:])]
        if a != b:
            failures += 1
            print(f"DIFFERENCE: {table}: {len(a)} rows in SQLite, {len(b)} in PostgreSQL; e.g. "
                  f"SQLite only {[r for r in a if r not in set(b)][:2]}, PostgreSQL only {[r for r in b if r not in set(a)][:2]}")
    print(f"compared the rows of {len(order)} tables: {'identical' if not failures else f'{failures} tables differ'}")
    chain = pg_rows(url, f"SELECT {', '.join(CHAIN_COLUMNS)} FROM audit_log ORDER BY id")
    broken = verify_chain(chain)
    if broken:
        failures += 1
        print(f"DIFFERENCE: the audit chain on PostgreSQL does not verify: {broken}")
    else:
        print(f"the audit chain verifies on PostgreSQL ({len(chain)} rows)")
    differences = postgres_self_check(url)
    if differences:
        failures += 1
        print("DIFFERENCE: PostgreSQL's aggregates differ from its rebuild:")
        for line in differences[:20]:
            print("  " + line[:200])
    else:
        print("PostgreSQL's aggregates equal its set-wise rebuild")
    return 0 if not failures else 1


def run_selfcheck(args):
    differences = postgres_self_check(args.postgres)
    for line in differences:
        print(line[:300])
    print("aggregates agree with a rebuild" if not differences else f"{len(differences)} rows differ")
    return 0 if not differences else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    schema = sub.add_parser("schema", help="compare the schemas")
    schema.add_argument("--postgres", required=True, metavar="URL")
    schema.add_argument("--sqlite", metavar="FILE", help="an existing banjie SQLite database (default: built from the migrations)")
    schema.add_argument("--apply", action="store_true", help="apply the PostgreSQL migrations to the empty database first")
    schema.add_argument("--verbose", action="store_true")
    dashboard = sub.add_parser("dashboard", help="the same writes on both engines, then compare every table")
    dashboard.add_argument("--postgres", required=True, metavar="URL")
    dashboard.add_argument("--seed", type=int, default=17)
    dashboard.add_argument("--writes", type=int, default=400, help="writes per step (default 400)")
    copy = sub.add_parser("copy", help="copy a SQLite database into a freshly migrated PostgreSQL one and compare")
    copy.add_argument("--sqlite", required=True, metavar="FILE")
    copy.add_argument("--postgres", required=True, metavar="URL")
    copy.add_argument("--through-triggers", action="store_true",
                      help="leave the dashboard tables out and let PostgreSQL's triggers compute them")
    selfcheck = sub.add_parser("selfcheck", help="PostgreSQL's trigger-kept aggregates against its rebuild")
    selfcheck.add_argument("--postgres", required=True, metavar="URL")
    args = parser.parse_args()
    runs = {"schema": run_schema, "dashboard": run_dashboard, "copy": run_copy, "selfcheck": run_selfcheck}
    sys.exit(runs[args.command](args))


if __name__ == "__main__":
    main()
