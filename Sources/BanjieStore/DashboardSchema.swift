import GRDB

/// The dashboard's aggregates (issue 7): kept current by triggers in the same transaction as every
/// write to `cases` and `ratings`, so a dashboard reads a few hundred rows whatever the history.
///
/// `dashboard_daily` holds, per breakdown dimension, key, department and Asia/Shanghai day, the
/// events that fell on that day: cases received, accepted and completed; of the completed ones,
/// those on time and within one day, their working seconds of handling and a histogram of them
/// (`b00`…), and the ratings counted by RatingMeasures (rated = not excluded, good = level ≥ 4).
/// A completed case's figures sit on its completion day, its ratings too.
///
/// `dashboard_open` holds the open cases (ACCEPTED or SUSPENDED, not completed) by stored colour.
///
/// The triggers subtract a row's old contribution and add its new one whenever a column they read
/// changes, so transfers, late acceptances and appeals move the figures exactly. A case's township
/// is kept in `cases.township` (its enterprise's, '' without one), which triggers on `enterprises`
/// update whenever an enterprise is registered or moves; the case triggers then move the figures.
///
/// The tables and indexes were created by the frozen migration v6-dashboard; what stays here is
/// what runs at runtime: re-creating the triggers after a bulk load, the set-wise rebuild, and the
/// self-check. `createTriggers` must produce the triggers of the latest migration that defined
/// them (MigrationTests compares the two).
enum DashboardSchema {
  /// The breakdown dimensions and how each is keyed from a case row `r`.
  static let dimensions: [(name: String, key: @Sendable (String) -> String)] = [
    ("department", { "\($0).department_code" }),
    ("item", { "\($0).item_code" }),
    ("window", { "\($0).window" }),
    ("township", { "\($0).township" }),
    ("channel", { "\($0).channel" }),
    ("trip", { Self.tripKey(row: $0) }),
  ]

  /// The "trip" dimension's key: 'zero' for a 零跑腿 case (CaseChannel.isZeroTrip: in online or by
  /// post, and delivered online or by post), 'other' for every other case.
  static func tripKey(row r: String) -> String {
    "(CASE WHEN \(r).channel IN ('ONLINE', 'MAIL') AND \(r).delivery_channel IN ('ONLINE', 'MAIL') THEN 'zero' ELSE 'other' END)"
  }

  static let bucketColumns: [String] = (0..<HandlingHistogram.bucketCount).map { String(format: "b%02d", $0) }

  /// The columns a dashboard reads, in the order DashboardFigures.add expects them.
  static let readColumns = (["key", "day"] + Self.valueColumns + Self.bucketColumns).joined(separator: ", ")

  static let valueColumns = ["received", "accepted", "completed", "on_time", "one_day", "handling_seconds", "rated", "good"]

  static let triggerNames = [
    "dashboard_case_insert", "dashboard_case_received", "dashboard_case_accepted", "dashboard_case_completed",
    "dashboard_case_open", "dashboard_case_delete", "dashboard_rating_insert", "dashboard_rating_update", "dashboard_rating_delete",
    "dashboard_enterprise_insert", "dashboard_enterprise_township",
    "dashboard_rectification_insert", "dashboard_rectification_update", "dashboard_rectification_delete",
    "dashboard_demand_insert", "dashboard_demand_update", "dashboard_demand_delete",
  ]

  /// What makes a rectification or a demand open, for `dashboard_backlog`.
  static let backlog: [(kind: String, table: String, open: @Sendable (String) -> String)] = [
    ("rectification", "rectifications", { "(\($0).completed_at IS NULL AND \($0).closed_at IS NULL)" }),
    ("demand", "demands", { "(\($0).state IN ('OPEN', 'ASSIGNED', 'REOPENED'))" }),
  ]

  static func backlogUpsert(kind: String, row r: String, sign: Int, open: String) -> String {
    "INSERT INTO dashboard_backlog (kind, department_code, n) SELECT '\(kind)', \(r).department_code, \(sign) WHERE \(open)"
      + " ON CONFLICT (kind, department_code) DO UPDATE SET n = n + excluded.n"
  }

  /// Whether every trigger is in place (a bulk load drops them and puts them back).
  static func triggersPresent(_ db: Database) throws -> Bool {
    let present = try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'dashboard_%'")
    return Set(Self.triggerNames).isSubset(of: present)
  }

  static func dropTriggers(_ db: Database) throws {
    for name in Self.triggerNames { try db.execute(sql: "DROP TRIGGER IF EXISTS \(name)") }
  }

  /// Drops and creates every trigger, so a store with some of them (or older bodies) ends with
  /// exactly these.
  static func createTriggers(_ db: Database) throws {
    try Self.dropTriggers(db)
    let keysChanged =
      "OLD.department_code IS NOT NEW.department_code OR OLD.item_code IS NOT NEW.item_code"
      + " OR OLD.window IS NOT NEW.window OR OLD.township IS NOT NEW.township"
      + " OR OLD.channel IS NOT NEW.channel OR OLD.delivery_channel IS NOT NEW.delivery_channel"
    let completionChanged =
      "(OLD.completed_at IS NOT NULL OR NEW.completed_at IS NOT NULL) AND (OLD.completed_at IS NOT NEW.completed_at"
      + " OR OLD.due_at IS NOT NEW.due_at OR OLD.one_day IS NOT NEW.one_day OR OLD.handling_seconds IS NOT NEW.handling_seconds"
      + " OR OLD.handling_bucket IS NOT NEW.handling_bucket OR \(keysChanged))"
    let openChanged =
      "OLD.state IS NOT NEW.state OR OLD.colour IS NOT NEW.colour OR OLD.completed_at IS NOT NEW.completed_at OR \(keysChanged)"
    try db.execute(
      sql: """
        CREATE TRIGGER dashboard_case_insert AFTER INSERT ON cases BEGIN
          \(Self.dailyUpsert(row: "NEW", sign: 1, events: [.received, .accepted, .completed]));
          \(Self.openUpsert(row: "NEW", sign: 1));
        END;
        CREATE TRIGGER dashboard_case_received AFTER UPDATE ON cases
        WHEN OLD.received_at IS NOT NEW.received_at OR \(keysChanged) BEGIN
          \(Self.dailyUpsert(row: "OLD", sign: -1, events: [.received]));
          \(Self.dailyUpsert(row: "NEW", sign: 1, events: [.received]));
        END;
        CREATE TRIGGER dashboard_case_accepted AFTER UPDATE ON cases
        WHEN OLD.accepted_at IS NOT NEW.accepted_at OR ((OLD.accepted_at IS NOT NULL OR NEW.accepted_at IS NOT NULL) AND (\(keysChanged))) BEGIN
          \(Self.dailyUpsert(row: "OLD", sign: -1, events: [.accepted]));
          \(Self.dailyUpsert(row: "NEW", sign: 1, events: [.accepted]));
        END;
        CREATE TRIGGER dashboard_case_completed AFTER UPDATE ON cases
        WHEN \(completionChanged) BEGIN
          \(Self.dailyUpsert(row: "OLD", sign: -1, events: [.completed]));
          \(Self.dailyUpsert(row: "NEW", sign: 1, events: [.completed]));
        END;
        CREATE TRIGGER dashboard_case_open AFTER UPDATE ON cases
        WHEN \(openChanged) BEGIN
          \(Self.openUpsert(row: "OLD", sign: -1));
          \(Self.openUpsert(row: "NEW", sign: 1));
        END;
        CREATE TRIGGER dashboard_case_delete AFTER DELETE ON cases BEGIN
          \(Self.dailyUpsert(row: "OLD", sign: -1, events: [.received, .accepted, .completed]));
          \(Self.openUpsert(row: "OLD", sign: -1));
        END;
        CREATE TRIGGER dashboard_rating_insert AFTER INSERT ON ratings BEGIN
          \(Self.ratingUpsert(rating: "NEW", sign: 1));
        END;
        CREATE TRIGGER dashboard_rating_update AFTER UPDATE ON ratings
        WHEN OLD.excluded IS NOT NEW.excluded OR OLD.level IS NOT NEW.level OR OLD.case_id IS NOT NEW.case_id BEGIN
          \(Self.ratingUpsert(rating: "OLD", sign: -1));
          \(Self.ratingUpsert(rating: "NEW", sign: 1));
        END;
        CREATE TRIGGER dashboard_rating_delete AFTER DELETE ON ratings BEGIN
          \(Self.ratingUpsert(rating: "OLD", sign: -1));
        END;
        \(Self.backlog.map { b in """
        CREATE TRIGGER dashboard_\(b.kind)_insert AFTER INSERT ON \(b.table) BEGIN
          \(Self.backlogUpsert(kind: b.kind, row: "NEW", sign: 1, open: b.open("NEW")));
        END;
        CREATE TRIGGER dashboard_\(b.kind)_update AFTER UPDATE ON \(b.table)
        WHEN \(b.open("OLD")) IS NOT \(b.open("NEW")) OR OLD.department_code IS NOT NEW.department_code BEGIN
          \(Self.backlogUpsert(kind: b.kind, row: "OLD", sign: -1, open: b.open("OLD")));
          \(Self.backlogUpsert(kind: b.kind, row: "NEW", sign: 1, open: b.open("NEW")));
        END;
        CREATE TRIGGER dashboard_\(b.kind)_delete AFTER DELETE ON \(b.table) BEGIN
          \(Self.backlogUpsert(kind: b.kind, row: "OLD", sign: -1, open: b.open("OLD")));
        END;
        """ }.joined(separator: "\n"))
        CREATE TRIGGER dashboard_enterprise_insert AFTER INSERT ON enterprises BEGIN
          UPDATE cases SET township = NEW.township WHERE enterprise_uscc = NEW.uscc AND township IS NOT NEW.township;
        END;
        CREATE TRIGGER dashboard_enterprise_township AFTER UPDATE OF township ON enterprises
        WHEN OLD.township IS NOT NEW.township BEGIN
          UPDATE cases SET township = NEW.township WHERE enterprise_uscc = NEW.uscc;
        END;
        """)
  }

  /// Recomputes both aggregate tables from the cases and ratings, set-wise (a bulk load's path,
  /// and the reference the triggers are checked against). `daily`/`open` name the target tables.
  static func rebuild(
    _ db: Database, daily: String = "dashboard_daily", open: String = "dashboard_open", backlog: String = "dashboard_backlog",
    dims: Set<String> = Set(Self.dimensions.map(\.name))
  ) throws {
    try db.execute(sql: "DELETE FROM \(daily); DELETE FROM \(open); DELETE FROM \(backlog)")
    for b in Self.backlog {
      try db.execute(
        sql:
          "INSERT INTO \(backlog) (kind, department_code, n) SELECT '\(b.kind)', department_code, COUNT(*) FROM \(b.table) t WHERE \(b.open("t")) GROUP BY department_code"
      )
    }
    let insertColumns = ["dim", "key", "department_code", "day"] + Self.valueColumns + Self.bucketColumns
    let from = "FROM cases c LEFT JOIN ratings g ON g.case_id = c.id"
    for (dim, keyOf) in Self.dimensions where dims.contains(dim) {
      let key = keyOf("c")
      for event in [Event.received, .accepted, .completed] {
        var values = Array(repeating: "0", count: Self.valueColumns.count)
        var buckets = Array(repeating: "0", count: HandlingHistogram.bucketCount)
        let day: String
        let condition: String
        switch event {
        case .received:
          day = "date(c.received_at, '+8 hours')"
          values[0] = "COUNT(*)"
          condition = "1"
        case .accepted:
          day = "date(c.accepted_at, '+8 hours')"
          values[1] = "COUNT(*)"
          condition = "c.accepted_at IS NOT NULL"
        case .completed:
          day = "date(c.completed_at, '+8 hours')"
          values[2] = "COUNT(*)"
          values[3] = "SUM(c.due_at IS NOT NULL AND c.completed_at <= c.due_at)"
          values[4] = "SUM(COALESCE(c.one_day, 0))"
          values[5] = "SUM(COALESCE(c.handling_seconds, 0))"
          values[6] = "SUM(g.case_id IS NOT NULL AND g.excluded = 0)"
          values[7] = "SUM(g.case_id IS NOT NULL AND g.excluded = 0 AND g.level >= 4)"
          buckets = (0..<HandlingHistogram.bucketCount).map { "SUM(c.handling_bucket IS \($0))" }
          condition = "c.completed_at IS NOT NULL"
        }
        let columns = ["'\(dim)'", key, "c.department_code", day] + values + buckets
        try db.execute(
          sql: "INSERT INTO \(daily) (\(insertColumns.joined(separator: ", "))) SELECT \(columns.joined(separator: ", ")) \(from)"
            + " WHERE \(condition) GROUP BY 2, 3, 4 " + Self.conflictClause)
      }
      try db.execute(
        sql: """
          INSERT INTO \(open) (dim, key, department_code, colour, n)
          SELECT '\(dim)', \(key), c.department_code, c.colour, COUNT(*) \(from)
          WHERE c.state IN ('ACCEPTED', 'SUSPENDED') AND c.completed_at IS NULL AND c.colour IS NOT NULL GROUP BY 2, 3, 4
          """)
    }
  }

  /// How the trigger-kept aggregates differ from a fresh rebuild: empty when they agree. Rows
  /// whose figures are all zero count as absent.
  /// `differences` on PostgreSQL, inside a transaction its caller rolls back: the set-wise rebuild
  /// (PostgresMigrations.dashboardRebuildIntoCheck) into temporary tables, compared with the kept
  /// aggregates the same way (rows whose figures are all zero count as absent).
  static func postgresDifferences(_ sql: any SQLConnection) throws -> [String] {
    for table in ["dashboard_daily", "dashboard_open", "dashboard_backlog"] {
      try sql.execute(uncached: "CREATE TEMP TABLE \(table)_check (LIKE \(table) INCLUDING ALL) ON COMMIT DROP", [])
    }
    for statement in PostgresMigrations.dashboardRebuildIntoCheck { try sql.execute(uncached: statement, []) }
    let all = (Self.valueColumns + Self.bucketColumns)
    let nonZero = all.map { "\($0) != 0" }.joined(separator: " OR ")
    let daily = (["dim", "key", "department_code", "day"] + all).joined(separator: ", ")
    var out: [String] = []
    let comparisons: [(String, String, String, String, String)] = [
      ("daily kept but not rebuilt", "dashboard_daily", "dashboard_daily_check", daily, nonZero),
      ("daily rebuilt but not kept", "dashboard_daily_check", "dashboard_daily", daily, nonZero),
      ("open kept but not rebuilt", "dashboard_open", "dashboard_open_check", "dim, key, department_code, colour, n", "n != 0"),
      ("open rebuilt but not kept", "dashboard_open_check", "dashboard_open", "dim, key, department_code, colour, n", "n != 0"),
      ("backlog kept but not rebuilt", "dashboard_backlog", "dashboard_backlog_check", "kind, department_code, n", "n != 0"),
      ("backlog rebuilt but not kept", "dashboard_backlog_check", "dashboard_backlog", "kind, department_code, n", "n != 0"),
    ]
    for (label, a, b, columns, condition) in comparisons {
      for row in try sql.fetchAll(
        uncached: "SELECT \(columns) FROM \(a) WHERE \(condition) EXCEPT SELECT \(columns) FROM \(b) WHERE \(condition) LIMIT 20", [])
      {
        out.append("\(label): \(zip(row.columns, row.values).map { "\($0)=\($1.summary)" }.joined(separator: " "))")
      }
    }
    return out
  }

  static func differences(_ db: Database) throws -> [String] {
    try db.execute(
      sql: """
        DROP TABLE IF EXISTS temp.dashboard_daily_check; DROP TABLE IF EXISTS temp.dashboard_open_check;
        DROP TABLE IF EXISTS temp.dashboard_backlog_check;
        CREATE TEMP TABLE dashboard_backlog_check AS SELECT * FROM dashboard_backlog WHERE 0;
        CREATE TEMP TABLE dashboard_daily_check AS SELECT * FROM dashboard_daily WHERE 0;
        CREATE UNIQUE INDEX temp.dashboard_daily_check_key ON dashboard_daily_check(dim, day, department_code, key);
        CREATE TEMP TABLE dashboard_open_check AS SELECT * FROM dashboard_open WHERE 0;
        CREATE UNIQUE INDEX temp.dashboard_open_check_key ON dashboard_open_check(dim, department_code, key, colour);
        """)
    try Self.rebuild(db, daily: "temp.dashboard_daily_check", open: "temp.dashboard_open_check", backlog: "temp.dashboard_backlog_check")
    let all = (Self.valueColumns + Self.bucketColumns)
    let nonZero = all.map { "\($0) != 0" }.joined(separator: " OR ")
    let columns = (["dim", "key", "department_code", "day"] + all).joined(separator: ", ")
    var out: [String] = []
    for (a, b, label) in [
      ("main.dashboard_daily", "temp.dashboard_daily_check", "kept but not rebuilt"),
      ("temp.dashboard_daily_check", "main.dashboard_daily", "rebuilt but not kept"),
    ] {
      for row in try Row.fetchAll(
        db, sql: "SELECT \(columns) FROM \(a) WHERE \(nonZero) EXCEPT SELECT \(columns) FROM \(b) WHERE \(nonZero) LIMIT 20")
      {
        out.append("daily \(label): \(row)")
      }
    }
    for (a, b, label) in [
      ("main.dashboard_open", "temp.dashboard_open_check", "kept but not rebuilt"),
      ("temp.dashboard_open_check", "main.dashboard_open", "rebuilt but not kept"),
    ] {
      for row in try Row.fetchAll(
        db,
        sql:
          "SELECT dim, key, department_code, colour, n FROM \(a) WHERE n != 0 EXCEPT SELECT dim, key, department_code, colour, n FROM \(b) WHERE n != 0 LIMIT 20"
      ) {
        out.append("open \(label): \(row)")
      }
    }
    for (a, b, label) in [
      ("main.dashboard_backlog", "temp.dashboard_backlog_check", "kept but not rebuilt"),
      ("temp.dashboard_backlog_check", "main.dashboard_backlog", "rebuilt but not kept"),
    ] {
      for row in try Row.fetchAll(
        db,
        sql: "SELECT kind, department_code, n FROM \(a) WHERE n != 0 EXCEPT SELECT kind, department_code, n FROM \(b) WHERE n != 0 LIMIT 20"
      ) {
        out.append("backlog \(label): \(row)")
      }
    }
    try db.execute(
      sql: "DROP TABLE temp.dashboard_daily_check; DROP TABLE temp.dashboard_open_check; DROP TABLE temp.dashboard_backlog_check")
    return out
  }

  enum Event { case received, accepted, completed }

  static var conflictClause: String {
    "ON CONFLICT (dim, day, department_code, key) DO UPDATE SET "
      + (Self.valueColumns + Self.bucketColumns).map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
  }

  /// One upsert adding `sign` × the contribution of case row `row` (NEW, OLD, or an alias of
  /// `from`) for each of `events`, to every dimension.
  static func dailyUpsert(row r: String, sign: Int, events: [Event], from: String? = nil) -> String {
    let fromClause = from.map { " FROM \($0)" } ?? ""
    var selects: [String] = []
    for dimension in Self.dimensions {
      for event in events {
        let day: String
        var values = Array(repeating: "0", count: Self.valueColumns.count)
        var buckets = Array(repeating: "0", count: HandlingHistogram.bucketCount)
        let condition: String
        switch event {
        case .received:
          day = "date(\(r).received_at, '+8 hours')"
          values[0] = "\(sign)"
          condition = "1"
        case .accepted:
          day = "date(\(r).accepted_at, '+8 hours')"
          values[1] = "\(sign)"
          condition = "\(r).accepted_at IS NOT NULL"
        case .completed:
          day = "date(\(r).completed_at, '+8 hours')"
          values[2] = "\(sign)"
          values[3] = "\(sign) * (\(r).due_at IS NOT NULL AND \(r).completed_at <= \(r).due_at)"
          values[4] = "\(sign) * COALESCE(\(r).one_day, 0)"
          values[5] = "\(sign) * COALESCE(\(r).handling_seconds, 0)"
          values[6] = "\(sign) * (SELECT COUNT(*) FROM ratings g WHERE g.case_id = \(r).id AND g.excluded = 0)"
          values[7] = "\(sign) * (SELECT COUNT(*) FROM ratings g WHERE g.case_id = \(r).id AND g.excluded = 0 AND g.level >= 4)"
          buckets = (0..<HandlingHistogram.bucketCount).map { "\(sign) * (\(r).handling_bucket IS \($0))" }
          condition = "\(r).completed_at IS NOT NULL"
        }
        let columns = ["'\(dimension.name)'", dimension.key(r), "\(r).department_code", day] + values + buckets
        selects.append("SELECT \(columns.joined(separator: ", "))\(fromClause) WHERE \(condition)")
      }
    }
    let insertColumns = ["dim", "key", "department_code", "day"] + Self.valueColumns + Self.bucketColumns
    return "INSERT INTO dashboard_daily (\(insertColumns.joined(separator: ", "))) "
      + selects.joined(separator: " UNION ALL ") + " " + Self.conflictClause
  }

  /// `sign` × one open case `row` in `dashboard_open`, for every dimension.
  static func openUpsert(row r: String, sign: Int, from: String? = nil) -> String {
    let fromClause = from.map { " FROM \($0)" } ?? ""
    let condition = "\(r).state IN ('ACCEPTED', 'SUSPENDED') AND \(r).completed_at IS NULL AND \(r).colour IS NOT NULL"
    let selects = Self.dimensions.map { dimension in
      "SELECT '\(dimension.name)', \(dimension.key(r)), \(r).department_code, \(r).colour, \(sign)\(fromClause) WHERE \(condition)"
    }
    return "INSERT INTO dashboard_open (dim, key, department_code, colour, n) " + selects.joined(separator: " UNION ALL ")
      + " ON CONFLICT (dim, department_code, key, colour) DO UPDATE SET n = n + excluded.n"
  }

  /// `sign` × one rating row on its case's completion day, for every dimension.
  static func ratingUpsert(rating g: String, sign: Int) -> String {
    let selects = Self.dimensions.map { dimension in
      "SELECT '\(dimension.name)', \(dimension.key("c")), c.department_code, date(c.completed_at, '+8 hours'),"
        + " \(sign) * (\(g).excluded = 0), \(sign) * (\(g).excluded = 0 AND \(g).level >= 4)"
        + " FROM cases c WHERE c.id = \(g).case_id AND c.completed_at IS NOT NULL"
    }
    return "INSERT INTO dashboard_daily (dim, key, department_code, day, rated, good) " + selects.joined(separator: " UNION ALL ")
      + " " + Self.conflictClause
  }
}

/// The histogram of handling times the dashboard's percentiles are read from. A completed case
/// falls in the first bucket whose upper edge (in working minutes) is at or above its handling
/// time; the last bucket is open. p50 and p90 are the upper edge of the bucket holding the
/// nearest-rank value, so their resolution is 15 minutes below 4 hours, 30 minutes below 8,
/// an hour below 24, 4 hours below 80, 8 hours below 240, and coarser above; a value past the last
/// edge (800 working hours) reads as 800.
public enum HandlingHistogram {
  /// Upper edges in working minutes, ascending; bucket `upperEdgesMinutes.count` is open.
  public static let upperEdgesMinutes: [Int64] = {
    var edges: [Int64] = []
    edges += stride(from: 15, through: 240, by: 15).map(Int64.init)
    edges += stride(from: 270, through: 480, by: 30).map(Int64.init)
    edges += stride(from: 540, through: 1440, by: 60).map(Int64.init)
    edges += stride(from: 1680, through: 4800, by: 240).map(Int64.init)
    edges += stride(from: 5280, through: 14400, by: 480).map(Int64.init)
    edges += [19200, 28800, 48000]
    return edges
  }()

  public static var bucketCount: Int { Self.upperEdgesMinutes.count + 1 }

  /// The bucket of `seconds` of working time.
  public static func bucket(seconds: Int64) -> Int {
    var low = 0
    var high = Self.upperEdgesMinutes.count
    while low < high {
      let mid = (low + high) / 2
      if Self.upperEdgesMinutes[mid] * 60 >= seconds { high = mid } else { low = mid + 1 }
    }
    return low
  }

  /// The reported value, in hours, of bucket `index`.
  public static func hours(ofBucket index: Int) -> Double {
    let edges = Self.upperEdgesMinutes
    return Double(edges[min(index, edges.count - 1)]) / 60
  }

  /// Nearest rank over bucket counts: the bucket holding the smallest value with at least p % of
  /// the values at or below it, as hours; 0 when there are no values.
  public static func percentile(_ p: Int, counts: [Int]) -> Double {
    let total = counts.reduce(0, +)
    guard total > 0 else { return 0 }
    let rank = max(1, (p * total + 99) / 100)
    var seen = 0
    for (index, n) in counts.enumerated() {
      seen += n
      if seen >= rank { return Self.hours(ofBucket: index) }
    }
    return Self.hours(ofBucket: counts.count - 1)
  }
}
