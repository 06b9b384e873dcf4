#!/usr/bin/env python3
"""The dashboard's trigger and rebuild SQL for SQLite and PostgreSQL, from one description.

The SQLite text is what Sources/BanjieStore/DashboardSchema.swift produces (createTriggers and
rebuild), statement for statement; `--check` proves it against the frozen migrations v6-dashboard
(four dimensions) and v10-hall-workflows (six), so the PostgreSQL text made here from the same
description says the same thing in the other dialect. The PostgreSQL migrations under
Sources/BanjieStore/Postgres/Migrations/ hold this script's output, frozen like the SQLite ones.

    scripts/dashboard-sql.py --dialect postgres --dims 6 --part triggers   # PL/pgSQL functions and triggers
    scripts/dashboard-sql.py --dialect postgres --dims 4 --part triggers --fresh   # as v6-dashboard created them
    scripts/dashboard-sql.py --dialect postgres --dims 6 --part rebuild    # the set-wise rebuild
    scripts/dashboard-sql.py --check                                       # SQLite text == frozen migrations

Dialect differences, all mechanical:
  - date(X, '+8 hours')       -> banjie_day(X) (defined in the PostgreSQL v6-dashboard; same text)
  - a IS b / a IS NOT b       -> a IS NOT DISTINCT FROM b / a IS DISTINCT FROM b
  - 1 * (boolean)             -> 1 * (boolean)::int; SUM(boolean) -> COUNT(*) FILTER (WHERE boolean)
  - SUM(bigint)               -> SUM(bigint)::bigint (PostgreSQL sums bigints as numeric)
  - WHERE 1                   -> WHERE true
  - ON CONFLICT ... SET x = x + excluded.x -> SET x = table.x + excluded.x (unqualified is ambiguous)
  - a trigger body            -> a PL/pgSQL function per trigger (same name), FOR EACH ROW, WHEN (...)
  - one upsert per event: PostgreSQL refuses an INSERT ... ON CONFLICT DO UPDATE that meets the same
    key twice, which happens when a case is received, accepted and completed on the same day.
  - the bare column name window is reserved in PostgreSQL: written "window" (r.window is fine).
"""
import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# HandlingHistogram.upperEdgesMinutes: the bucket count is one more than the edges.
EDGES = (
    list(range(15, 241, 15)) + list(range(270, 481, 30)) + list(range(540, 1441, 60))
    + list(range(1680, 4801, 240)) + list(range(5280, 14401, 480)) + [19200, 28800, 48000]
)
BUCKETS = len(EDGES) + 1
BUCKET_COLUMNS = ["b%02d" % i for i in range(BUCKETS)]
VALUE_COLUMNS = ["received", "accepted", "completed", "on_time", "one_day", "handling_seconds", "rated", "good"]
INSERT_COLUMNS = ["dim", "key", "department_code", "day"] + VALUE_COLUMNS + BUCKET_COLUMNS


def trip_key(r):
    return f"(CASE WHEN {r}.channel IN ('ONLINE', 'MAIL') AND {r}.delivery_channel IN ('ONLINE', 'MAIL') THEN 'zero' ELSE 'other' END)"


ALL_DIMENSIONS = [
    ("department", lambda r: f"{r}.department_code"),
    ("item", lambda r: f"{r}.item_code"),
    ("window", lambda r: f"{r}.window"),
    ("township", lambda r: f"{r}.township"),
    ("channel", lambda r: f"{r}.channel"),
    ("trip", trip_key),
]

BACKLOG = [
    ("rectification", "rectifications", lambda r: f"({r}.completed_at IS NULL AND {r}.closed_at IS NULL)"),
    ("demand", "demands", lambda r: f"({r}.state IN ('OPEN', 'ASSIGNED', 'REOPENED'))"),
]

TRIGGER_NAMES = [
    "dashboard_case_insert", "dashboard_case_received", "dashboard_case_accepted", "dashboard_case_completed",
    "dashboard_case_open", "dashboard_case_delete", "dashboard_rating_insert", "dashboard_rating_update",
    "dashboard_rating_delete", "dashboard_enterprise_insert", "dashboard_enterprise_township",
    "dashboard_rectification_insert", "dashboard_rectification_update", "dashboard_rectification_delete",
    "dashboard_demand_insert", "dashboard_demand_update", "dashboard_demand_delete",
]


class Dialect:
    def __init__(self, pg):
        self.pg = pg

    def day(self, x):
        return f"banjie_day({x})" if self.pg else f"date({x}, '+8 hours')"

    def is_(self, a, b):
        return f"{a} IS NOT DISTINCT FROM {b}" if self.pg else f"{a} IS {b}"

    def is_not(self, a, b):
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def times(self, sign, boolean):
        """sign × a boolean as 0 or 1."""
        return f"{sign} * ({boolean})::int" if self.pg else f"{sign} * ({boolean})"

    def count_if(self, boolean):
        return f"COUNT(*) FILTER (WHERE {boolean})" if self.pg else f"SUM({boolean})"

    def sum(self, x):
        return f"SUM({x})::bigint" if self.pg else f"SUM({x})"

    def true(self):
        return "true" if self.pg else "1"

    def conflict(self, table, columns):
        target = f"{table}." if self.pg else ""
        return ", ".join(f"{c} = {target}{c} + excluded.{c}" for c in columns)


def daily_conflict(d):
    return "ON CONFLICT (dim, day, department_code, key) DO UPDATE SET " + d.conflict("dashboard_daily", VALUE_COLUMNS + BUCKET_COLUMNS)


def keys_changed(d, dims):
    parts = [d.is_not(f"OLD.{c}", f"NEW.{c}") for c in ["department_code", "item_code", "window", "township"]]
    if len(dims) > 4:
        parts += [d.is_not(f"OLD.{c}", f"NEW.{c}") for c in ["channel", "delivery_channel"]]
    return " OR ".join(parts)


def daily_upsert(d, dims, r, sign, events, from_=None):
    """DashboardSchema.dailyUpsert: sign × case row r's contribution for each event, every dimension."""
    from_clause = f" FROM {from_}" if from_ else ""
    selects = []
    for name, key in dims:
        for event in events:
            values = ["0"] * len(VALUE_COLUMNS)
            buckets = ["0"] * BUCKETS
            if event == "received":
                day = d.day(f"{r}.received_at")
                values[0] = f"{sign}"
                condition = d.true()
            elif event == "accepted":
                day = d.day(f"{r}.accepted_at")
                values[1] = f"{sign}"
                condition = f"{r}.accepted_at IS NOT NULL"
            else:
                day = d.day(f"{r}.completed_at")
                values[2] = f"{sign}"
                values[3] = d.times(sign, f"{r}.due_at IS NOT NULL AND {r}.completed_at <= {r}.due_at")
                values[4] = f"{sign} * COALESCE({r}.one_day, 0)"
                values[5] = f"{sign} * COALESCE({r}.handling_seconds, 0)"
                values[6] = f"{sign} * (SELECT COUNT(*) FROM ratings g WHERE g.case_id = {r}.id AND g.excluded = 0)"
                values[7] = f"{sign} * (SELECT COUNT(*) FROM ratings g WHERE g.case_id = {r}.id AND g.excluded = 0 AND g.level >= 4)"
                buckets = [d.times(sign, d.is_(f"{r}.handling_bucket", i)) for i in range(BUCKETS)]
                condition = f"{r}.completed_at IS NOT NULL"
            columns = [f"'{name}'", key(r), f"{r}.department_code", day] + values + buckets
            selects.append(f"SELECT {', '.join(columns)}{from_clause} WHERE {condition}")
    return (f"INSERT INTO dashboard_daily ({', '.join(INSERT_COLUMNS)}) " + " UNION ALL ".join(selects) + " " + daily_conflict(d))


def open_upsert(d, dims, r, sign):
    condition = f"{r}.state IN ('ACCEPTED', 'SUSPENDED') AND {r}.completed_at IS NULL AND {r}.colour IS NOT NULL"
    selects = [f"SELECT '{name}', {key(r)}, {r}.department_code, {r}.colour, {sign} WHERE {condition}" for name, key in dims]
    return ("INSERT INTO dashboard_open (dim, key, department_code, colour, n) " + " UNION ALL ".join(selects)
            + " ON CONFLICT (dim, department_code, key, colour) DO UPDATE SET " + d.conflict("dashboard_open", ["n"]))


def rating_upsert(d, dims, g, sign):
    selects = [
        f"SELECT '{name}', {key('c')}, c.department_code, {d.day('c.completed_at')},"
        + f" {d.times(sign, f'{g}.excluded = 0')}, {d.times(sign, f'{g}.excluded = 0 AND {g}.level >= 4')}"
        + f" FROM cases c WHERE c.id = {g}.case_id AND c.completed_at IS NOT NULL"
        for name, key in dims
    ]
    return ("INSERT INTO dashboard_daily (dim, key, department_code, day, rated, good) " + " UNION ALL ".join(selects)
            + " " + daily_conflict(d))


def backlog_upsert(d, kind, r, sign, open_):
    return (f"INSERT INTO dashboard_backlog (kind, department_code, n) SELECT '{kind}', {r}.department_code, {sign} WHERE {open_}"
            + " ON CONFLICT (kind, department_code) DO UPDATE SET " + d.conflict("dashboard_backlog", ["n"]))


def trigger_specs(d, dims):
    """(name, timing-and-table, WHEN condition or None, statements), in createTriggers' order."""
    kc = keys_changed(d, dims)
    completion_changed = (
        "(OLD.completed_at IS NOT NULL OR NEW.completed_at IS NOT NULL) AND ("
        + " OR ".join([d.is_not(f"OLD.{c}", f"NEW.{c}") for c in ["completed_at", "due_at", "one_day", "handling_seconds", "handling_bucket"]])
        + f" OR {kc})")
    open_changed = " OR ".join(d.is_not(f"OLD.{c}", f"NEW.{c}") for c in ["state", "colour", "completed_at"]) + f" OR {kc}"
    # PostgreSQL gets one statement per event (see the module comment); SQLite one for all three.
    if d.pg:
        def daily(r, sign, events):
            return [daily_upsert(d, dims, r, sign, [e]) for e in events]
    else:
        def daily(r, sign, events):
            return [daily_upsert(d, dims, r, sign, events)]
    specs = [
        ("dashboard_case_insert", "AFTER INSERT ON cases", None,
         daily("NEW", 1, ["received", "accepted", "completed"]) + [open_upsert(d, dims, "NEW", 1)]),
        ("dashboard_case_received", "AFTER UPDATE ON cases", f"{d.is_not('OLD.received_at', 'NEW.received_at')} OR {kc}",
         daily("OLD", -1, ["received"]) + daily("NEW", 1, ["received"])),
        ("dashboard_case_accepted", "AFTER UPDATE ON cases",
         f"{d.is_not('OLD.accepted_at', 'NEW.accepted_at')} OR ((OLD.accepted_at IS NOT NULL OR NEW.accepted_at IS NOT NULL) AND ({kc}))",
         daily("OLD", -1, ["accepted"]) + daily("NEW", 1, ["accepted"])),
        ("dashboard_case_completed", "AFTER UPDATE ON cases", completion_changed,
         daily("OLD", -1, ["completed"]) + daily("NEW", 1, ["completed"])),
        ("dashboard_case_open", "AFTER UPDATE ON cases", open_changed,
         [open_upsert(d, dims, "OLD", -1), open_upsert(d, dims, "NEW", 1)]),
        ("dashboard_case_delete", "AFTER DELETE ON cases", None,
         daily("OLD", -1, ["received", "accepted", "completed"]) + [open_upsert(d, dims, "OLD", -1)]),
        ("dashboard_rating_insert", "AFTER INSERT ON ratings", None, [rating_upsert(d, dims, "NEW", 1)]),
        ("dashboard_rating_update", "AFTER UPDATE ON ratings",
         " OR ".join(d.is_not(f"OLD.{c}", f"NEW.{c}") for c in ["excluded", "level", "case_id"]),
         [rating_upsert(d, dims, "OLD", -1), rating_upsert(d, dims, "NEW", 1)]),
        ("dashboard_rating_delete", "AFTER DELETE ON ratings", None, [rating_upsert(d, dims, "OLD", -1)]),
    ]
    for kind, table, open_ in BACKLOG:
        specs += [
            (f"dashboard_{kind}_insert", f"AFTER INSERT ON {table}", None, [backlog_upsert(d, kind, "NEW", 1, open_("NEW"))]),
            (f"dashboard_{kind}_update", f"AFTER UPDATE ON {table}",
             f"{d.is_not(open_('OLD'), open_('NEW'))} OR {d.is_not('OLD.department_code', 'NEW.department_code')}",
             [backlog_upsert(d, kind, "OLD", -1, open_("OLD")), backlog_upsert(d, kind, "NEW", 1, open_("NEW"))]),
            (f"dashboard_{kind}_delete", f"AFTER DELETE ON {table}", None, [backlog_upsert(d, kind, "OLD", -1, open_("OLD"))]),
        ]
    specs += [
        ("dashboard_enterprise_insert", "AFTER INSERT ON enterprises", None,
         [f"UPDATE cases SET township = NEW.township WHERE enterprise_uscc = NEW.uscc AND {d.is_not('township', 'NEW.township')}"]),
        ("dashboard_enterprise_township", "AFTER UPDATE OF township ON enterprises", d.is_not("OLD.township", "NEW.township"),
         ["UPDATE cases SET township = NEW.township WHERE enterprise_uscc = NEW.uscc"]),
    ]
    return specs


def triggers_sqlite(dims):
    d = Dialect(False)
    out = []
    for name, on, when, statements in trigger_specs(d, dims):
        head = f"CREATE TRIGGER {name} {on} BEGIN" if when is None else f"CREATE TRIGGER {name} {on}\nWHEN {when} BEGIN"
        out.append(head + "\n" + "".join(f"  {s};\n" for s in statements) + "END;")
    return "\n".join(out) + "\n"


def triggers_postgres(dims, fresh=False):
    """One PL/pgSQL function per trigger, named as the trigger, and the trigger itself. Dropping and
    re-creating them is what DashboardSchema.createTriggers does for SQLite after a bulk load;
    `fresh` creates them where none exist yet (v6-dashboard)."""
    d = Dialect(True)
    out = []
    for name, on, when, statements in trigger_specs(d, dims):
        body = "".join(f"  {s};\n" for s in statements)
        create = "CREATE FUNCTION" if fresh else "CREATE OR REPLACE FUNCTION"
        out.append(f"{create} {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}  RETURN NULL;\nEND;\n$$;")
        when_clause = "" if when is None else f"\nWHEN ({when})"
        if not fresh:
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {on.split(' ON ')[1]};")
        out.append(f"CREATE TRIGGER {name} {on} FOR EACH ROW{when_clause}\nEXECUTE FUNCTION {name}();")
    return "\n".join(out) + "\n"


def rebuild(d, dims, backlog=True, daily="dashboard_daily", open_="dashboard_open", backlog_table="dashboard_backlog"):
    """DashboardSchema.rebuild's statements after its DELETEs: the backlog, then per dimension the
    received, accepted and completed upserts and the open cases."""
    out = []
    if backlog:
        for kind, table, open_of in BACKLOG:
            out.append(f"INSERT INTO {backlog_table} (kind, department_code, n) SELECT '{kind}', department_code, COUNT(*) FROM {table} t WHERE {open_of('t')} GROUP BY department_code;")
    from_ = "FROM cases c LEFT JOIN ratings g ON g.case_id = c.id"
    conflict = "ON CONFLICT (dim, day, department_code, key) DO UPDATE SET " + d.conflict(daily, VALUE_COLUMNS + BUCKET_COLUMNS)
    for name, key_of in dims:
        key = key_of("c")
        for event in ["received", "accepted", "completed"]:
            values = ["0"] * len(VALUE_COLUMNS)
            buckets = ["0"] * BUCKETS
            if event == "received":
                day = d.day("c.received_at")
                values[0] = "COUNT(*)"
                condition = d.true()
            elif event == "accepted":
                day = d.day("c.accepted_at")
                values[1] = "COUNT(*)"
                condition = "c.accepted_at IS NOT NULL"
            else:
                day = d.day("c.completed_at")
                values[2] = "COUNT(*)"
                values[3] = d.count_if("c.due_at IS NOT NULL AND c.completed_at <= c.due_at")
                values[4] = d.sum("COALESCE(c.one_day, 0)")
                values[5] = d.sum("COALESCE(c.handling_seconds, 0)")
                values[6] = d.count_if("g.case_id IS NOT NULL AND g.excluded = 0")
                values[7] = d.count_if("g.case_id IS NOT NULL AND g.excluded = 0 AND g.level >= 4")
                buckets = [d.count_if(d.is_("c.handling_bucket", i)) for i in range(BUCKETS)]
                condition = "c.completed_at IS NOT NULL"
            columns = [f"'{name}'", key, "c.department_code", day] + values + buckets
            out.append(f"INSERT INTO {daily} ({', '.join(INSERT_COLUMNS)}) SELECT {', '.join(columns)} {from_}"
                       + f" WHERE {condition} GROUP BY 2, 3, 4 {conflict};")
        out.append(f"INSERT INTO {open_} (dim, key, department_code, colour, n)\n"
                   + f"SELECT '{name}', {key}, c.department_code, c.colour, COUNT(*) {from_}\n"
                   + "WHERE c.state IN ('ACCEPTED', 'SUSPENDED') AND c.completed_at IS NULL AND c.colour IS NOT NULL GROUP BY 2, 3, 4;")
    return "\n".join(out) + "\n"


def frozen_sql(name):
    text = (ROOT / "Sources/BanjieStore/Migrations" / f"{name}.swift").read_text()
    return re.search(r'#"""\n(.*?)"""#', text, re.S).group(1)


def check():
    """The SQLite text made here is, byte for byte, what the frozen migrations hold."""
    ok = True
    v6 = frozen_sql("V6Dashboard")
    v10 = frozen_sql("V10HallWorkflows")
    d = Dialect(False)
    expectations = [
        ("v6-dashboard triggers", v6, triggers_sqlite(ALL_DIMENSIONS[:4])),
        ("v6-dashboard rebuild", v6, rebuild(d, ALL_DIMENSIONS[:4])),
        ("v10-hall-workflows triggers", v10, triggers_sqlite(ALL_DIMENSIONS)),
        ("v10-hall-workflows rebuild of channel and trip", v10, rebuild(d, ALL_DIMENSIONS[4:], backlog=False)),
    ]
    for label, frozen, made in expectations:
        if made in frozen:
            print(f"ok: {label}")
        else:
            ok = False
            print(f"DIFFERS: {label}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--dims", type=int, choices=[4, 6], default=6, help="4: as of v6-dashboard, 6: as of v10-hall-workflows")
    parser.add_argument("--part", choices=["triggers", "rebuild", "rebuild-new-dims"], default="triggers")
    parser.add_argument("--daily", default="dashboard_daily")
    parser.add_argument("--open", default="dashboard_open")
    parser.add_argument("--backlog", default="dashboard_backlog")
    parser.add_argument("--fresh", action="store_true", help="postgres triggers: CREATE only, for a schema without them")
    parser.add_argument("--check", action="store_true", help="compare the SQLite text with the frozen migrations")
    args = parser.parse_args()
    if args.check:
        sys.exit(0 if check() else 1)
    dims = ALL_DIMENSIONS[: args.dims]
    pg = args.dialect == "postgres"
    if args.part == "triggers":
        sys.stdout.write(triggers_postgres(dims, fresh=args.fresh) if pg else triggers_sqlite(dims))
    elif args.part == "rebuild":
        sys.stdout.write(rebuild(Dialect(pg), dims, daily=args.daily, open_=args.open, backlog_table=args.backlog))
    else:
        sys.stdout.write(rebuild(Dialect(pg), ALL_DIMENSIONS[4:], backlog=False))


if __name__ == "__main__":
    main()
