public import BanjieCore
public import Foundation
import GRDB

/// How the dashboard breaks its figures down.
public enum DashboardGrouping: String, Sendable, Hashable, CaseIterable {
  case department, item, window, township, channel
}

/// One set of dashboard figures: the summary (empty key) or one breakdown row.
public struct DashboardFigures: Sendable, Hashable {
  public var key: String
  public var name: String
  public var received = 0
  public var accepted = 0
  public var completed = 0
  public var onTime = 0
  public var oneDay = 0
  public var openGreen = 0
  public var openYellow = 0
  public var openRed = 0
  /// Working seconds from acceptance to completion, summed over the completed cases.
  public var handlingSeconds: Int64 = 0
  /// Completed cases per HandlingHistogram bucket.
  public var histogram = [Int](repeating: 0, count: HandlingHistogram.bucketCount)
  /// Of the completed cases: rated (rating not excluded by an upheld appeal) and rated good (4–5).
  public var rated = 0
  public var good = 0

  public init(key: String, name: String) {
    self.key = key
    self.name = name
  }

  public var onTimeRate: Double { RatingMeasuresRow.share(self.onTime, self.completed) }
  public var oneDayRate: Double { RatingMeasuresRow.share(self.oneDay, self.completed) }
  public var goodShare: Double { RatingMeasuresRow.share(self.good, self.rated) }
  public var unratedShare: Double { RatingMeasuresRow.share(self.completed - self.rated, self.completed) }
  public var handlingHoursMean: Double {
    self.completed == 0 ? 0 : Double(self.handlingSeconds) / Double(self.completed) / 3600
  }
  public var handlingHoursP50: Double { HandlingHistogram.percentile(50, counts: self.histogram) }
  public var handlingHoursP90: Double { HandlingHistogram.percentile(90, counts: self.histogram) }
  public var openTotal: Int { self.openGreen + self.openYellow + self.openRed }

  /// Adds one dashboard_daily row read with DashboardSchema.readColumns (key, day, the values
  /// in DashboardSchema.valueColumns' order, then the buckets).
  mutating func add(_ row: SQLRow) throws {
    self.received += try row.decode(Int.self, at: 2)
    self.accepted += try row.decode(Int.self, at: 3)
    self.completed += try row.decode(Int.self, at: 4)
    self.onTime += try row.decode(Int.self, at: 5)
    self.oneDay += try row.decode(Int.self, at: 6)
    self.handlingSeconds += try row.decode(Int64.self, at: 7)
    self.rated += try row.decode(Int.self, at: 8)
    self.good += try row.decode(Int.self, at: 9)
    for index in self.histogram.indices { self.histogram[index] += try row.decode(Int.self, at: 10 + index) }
  }

  mutating func addOpen(colour: String, _ n: Int) {
    switch SLAColour(rawValue: colour) {
    case .green: self.openGreen += n
    case .yellow: self.openYellow += n
    case .red: self.openRed += n
    case nil: break
    }
  }
}

/// One day of the trend.
public struct DashboardDay: Sendable, Hashable {
  public var day: LocalDate
  public var received = 0
  public var accepted = 0
  public var completed = 0
  public var onTime = 0
  public var oneDay = 0
  public var onTimeRate: Double { RatingMeasuresRow.share(self.onTime, self.completed) }
}

/// An open case past its deadline, for the "most overdue" list.
public struct OverdueCase: Sendable, Hashable {
  public var number: String
  public var itemCode: String
  public var itemName: String
  public var departmentCode: String
  public var window: String
  public var suspended: Bool
  public var dueAt: Date
  /// Working seconds from the deadline to now (to the suspension, for a suspended case).
  public var overdueSeconds: Int64
}

public struct DashboardReport: Sendable, Hashable {
  public var from: LocalDate
  public var to: LocalDate
  public var department: String?
  public var by: DashboardGrouping?
  public var summary: DashboardFigures
  public var openRectifications: Int
  public var overdueRectifications: Int
  public var openDemands: Int
  public var overdueDemands: Int
  /// 督办: OPEN supervision orders (waiting on their department), and those past their deadline now.
  public var openSupervisions = 0
  public var overdueSupervisions = 0
  /// 零跑腿: completed cases of the period that came in and went back online or by post.
  public var zeroTrip = 0
  /// 部门会签 by unit (docs/DOMAIN.md §23).
  public var countersigns: [CountersignUnitFigures] = []
  /// 群众诉求 by department and channel (docs/DOMAIN.md §24).
  public var appeals: [AppealFigures] = []
  /// 人大代表建议和政协提案 by lead department (docs/DOMAIN.md §25).
  public var proposals: [ProposalFigures] = []
  public var zeroTripRate: Double { RatingMeasuresRow.share(self.zeroTrip, self.summary.completed) }
  /// Enterprises with at least one visit in the period, and enterprises in the registry.
  public var visitedEnterprises: Int
  public var enterprises: Int
  public var rows: [DashboardFigures]
  /// One entry per day from `from` to the earlier of `to` and today.
  public var trend: [DashboardDay]
  /// The open cases furthest past their deadline, most overdue first.
  public var overdue: [OverdueCase]
  public var goodShare: Double { self.summary.goodShare }
  public var unratedShare: Double { self.summary.unratedShare }
  public var visitCoverage: Double { RatingMeasuresRow.share(self.visitedEnterprises, self.enterprises) }
  public var hasData: Bool { self.summary.received + self.summary.accepted + self.summary.completed > 0 }
}

/// The SLA dashboard, read from the aggregates DashboardSchema keeps current: the work is
/// proportional to days × departments (and breakdown keys) in the period plus the open backlog
/// shown, never to the history.
extension BanjieStore {
  /// Whether `code` names a department.
  public func departmentExists(_ code: String) async throws -> Bool {
    try await self.read { sql in try sql.present("departments", "code", .text(code)) }
  }

  /// How many open cases the "most overdue" list shows.
  public static let overdueListLength = 10

  /// The dashboard of `from`–`to` (Asia/Shanghai days, inclusive) for one department or all.
  public func dashboard(from: LocalDate, to: LocalDate, department: String?, by grouping: DashboardGrouping?, clock: SLAClock, now: Date)
    async throws -> DashboardReport
  {
    let calendar = clock.calendar
    let today = calendar.localDate(of: now)
    return try await self.read { sql in
      var scope = ""
      var scopeArguments: [SQLValue] = []
      if let department {
        scope = " AND department_code = ?"
        scopeArguments = [.text(department)]
      }
      // The summary and the trend: the department rows of the period.
      var summary = DashboardFigures(key: "", name: "total")
      var days: [String: DashboardDay] = [:]
      let periodArguments: [SQLValue] = [.text(from.description), .text(to.description)] + scopeArguments
      try sql.forEach(
        "SELECT \(DashboardSchema.readColumns) FROM dashboard_daily WHERE dim = 'department' AND day BETWEEN ? AND ?\(scope)",
        periodArguments
      ) { row in
        try summary.add(row)
        let dayText = try row.decode(String.self, at: 1)
        guard let date = LocalDate(dayText) else { return }
        var day = days[dayText] ?? DashboardDay(day: date)
        day.received += try row.decode(Int.self, at: 2)
        day.accepted += try row.decode(Int.self, at: 3)
        day.completed += try row.decode(Int.self, at: 4)
        day.onTime += try row.decode(Int.self, at: 5)
        day.oneDay += try row.decode(Int.self, at: 6)
        days[dayText] = day
      }
      let open = try sql.fetchAll(
        "SELECT key, colour, SUM(n) AS n FROM dashboard_open WHERE dim = ?\(scope) GROUP BY key, colour",
        [.text((grouping ?? .department).rawValue)] + scopeArguments
      ).map { row in
        (key: try row.decode(String.self, "key"), colour: try row.decode(String.self, "colour"), n: try row.decode(Int.self, "n"))
      }
      for row in open { summary.addOpen(colour: row.colour, row.n) }

      var rows: [DashboardFigures] = []
      if let grouping {
        let names = try Self.dashboardNames(sql, grouping)
        var groups: [String: DashboardFigures] = [:]
        func figures(_ key: String) -> DashboardFigures {
          groups[key] ?? DashboardFigures(key: key, name: names[key].flatMap { $0.isEmpty ? nil : $0 } ?? (key.isEmpty ? "—" : key))
        }
        try sql.forEach(
          "SELECT \(DashboardSchema.readColumns) FROM dashboard_daily WHERE dim = ? AND day BETWEEN ? AND ?\(scope)",
          [.text(grouping.rawValue)] + periodArguments
        ) { row in
          let key = try row.decode(String.self, at: 0)
          var group = figures(key)
          try group.add(row)
          groups[key] = group
        }
        for row in open {
          var group = figures(row.key)
          group.addOpen(colour: row.colour, row.n)
          groups[row.key] = group
        }
        rows = groups.values.filter { $0.received + $0.accepted + $0.completed + $0.openTotal > 0 }.sorted { $0.key < $1.key }
      }

      let lastDay = min(to, today)
      var trend: [DashboardDay] = []
      if from <= lastDay {
        for n in 0...(lastDay.dayNumber - from.dayNumber) {
          let date = from.adding(days: n)
          trend.append(days[date.description] ?? DashboardDay(day: date))
        }
      }

      // Running red cases: the earliest deadlines are the most overdue. Suspended ones stopped
      // counting at their suspension, so they are read apart and merged by overdue time. Equal
      // deadlines are taken in id order (the index's order on SQLite), so both engines list the
      // same cases; NULLS FIRST is SQLite's order of a missing deadline.
      var overdue: [OverdueCase] = []
      let departmentFilter = department == nil ? "" : " AND c.department_code = ?"
      for (state, limit) in [(CaseState.accepted, Self.overdueListLength), (CaseState.suspended, 1000)] {
        let rows = try sql.fetchAll(
          """
          SELECT c.number, c.item_code, COALESCE(i.name, c.item_code) AS item_name, c.department_code, c.window, c.due_at, c.suspended_since
          FROM cases c LEFT JOIN service_items i ON i.code = c.item_code
          WHERE c.colour = 'red' AND c.completed_at IS NULL AND c.state = ?\(departmentFilter)
          ORDER BY c.due_at NULLS FIRST, c.id LIMIT ?
          """, [state.sqlValue] + scopeArguments + [limit.sqlValue])
        for row in rows {
          guard let dueAt = try row.decode(StoredDate?.self, "due_at")?.date else { continue }
          let suspended = state == .suspended
          let until = suspended ? (try row.decode(StoredDate?.self, "suspended_since")?.date ?? now) : now
          overdue.append(
            OverdueCase(
              number: try row.decode("number"), itemCode: try row.decode("item_code"), itemName: try row.decode("item_name"),
              departmentCode: try row.decode("department_code"), window: try row.decode("window"), suspended: suspended, dueAt: dueAt,
              overdueSeconds: calendar.workingSeconds(from: dueAt, to: max(until, dueAt))))
        }
      }
      overdue.sort { ($0.overdueSeconds, $1.dueAt, $1.number) > ($1.overdueSeconds, $0.dueAt, $0.number) }
      overdue = Array(overdue.prefix(Self.overdueListLength))

      // Open: the counters the triggers keep. Overdue: the open ones past due, read from indexes
      // that hold only open rows in due order, so the cost follows what is overdue (SQLite is
      // told which; PostgreSQL's planner picks the partial index itself).
      func backlog(_ kind: String, overdueSQL: String) throws -> (Int, Int) {
        let open =
          try sql.fetchOne(
            Int.self, "SELECT COALESCE(SUM(n), 0) FROM dashboard_backlog WHERE kind = ?\(scope)", [.text(kind)] + scopeArguments) ?? 0
        let overdue =
          try sql.fetchOne(
            Int.self, overdueSQL + (department == nil ? "" : " AND department_code = ?"), [StoredDate(now).sqlValue] + scopeArguments)
          ?? 0
        return (open, overdue)
      }
      func indexed(_ index: String) -> String { sql.dialect.isPostgres ? "" : " INDEXED BY \(index)" }
      let rectifications = try backlog(
        "rectification",
        overdueSQL:
          "SELECT COUNT(*) FROM rectifications\(indexed("rectifications_open_due")) WHERE completed_at IS NULL AND closed_at IS NULL AND due_at < ?"
      )
      let demands = try backlog(
        "demand",
        overdueSQL:
          "SELECT COUNT(*) FROM demands\(indexed("demands_open_due")) WHERE state IN ('OPEN', 'ASSIGNED', 'REOPENED') AND due_at < ?")
      let visited =
        try sql.fetchOne(
          Int.self, "SELECT COUNT(DISTINCT uscc) FROM visits WHERE visited_on BETWEEN ? AND ?",
          [.text(from.description), .text(to.description)]) ?? 0
      let enterprises = try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM enterprises") ?? 0
      var report = DashboardReport(
        from: from, to: to, department: department, by: grouping, summary: summary,
        openRectifications: rectifications.0, overdueRectifications: rectifications.1,
        openDemands: demands.0, overdueDemands: demands.1,
        visitedEnterprises: visited, enterprises: enterprises,
        rows: rows, trend: trend, overdue: overdue)
      let supervisions = try Self.supervisionBacklog(sql, department: department, now: now)
      report.openSupervisions = supervisions.open
      report.overdueSupervisions = supervisions.overdue
      report.countersigns = try Self.countersignFigures(sql, from: from, to: to, department: department, now: now)
      report.appeals = try Self.appealFigures(sql, from: from, to: to, department: department, now: now)
      report.proposals = try Self.proposalFigures(sql, from: from, to: to, department: department, now: now)
      report.zeroTrip =
        try sql.fetchOne(
          Int.self,
          "SELECT COALESCE(SUM(completed), 0) FROM dashboard_daily WHERE dim = 'trip' AND key = 'zero' AND day BETWEEN ? AND ?\(scope)",
          periodArguments) ?? 0
      return report
    }
  }

  /// Display names of breakdown keys. A registered window is named as registered (docs/DOMAIN.md
  /// §18); other windows and townships are their own names.
  static func dashboardNames(_ sql: any SQLConnection, _ grouping: DashboardGrouping) throws -> [String: String] {
    let text: String
    switch grouping {
    case .department: text = "SELECT code AS key, name FROM departments"
    case .item: text = "SELECT code AS key, name FROM service_items"
    case .window: text = "SELECT code AS key, name FROM windows"
    case .township: return [:]
    case .channel: return Dictionary(uniqueKeysWithValues: CaseChannel.allCases.map { ($0.rawValue, $0.rawValue) })
    }
    var names: [String: String] = [:]
    for row in try sql.fetchAll(text) { names[try row.decode(String.self, "key")] = try row.decode(String.self, "name") }
    return names
  }

  /// How the dashboard aggregates kept by the triggers differ from a fresh computation over the
  /// cases and ratings; empty when they agree.
  public func dashboardAggregateDifferences() async throws -> [String] {
    if case .postgres(let database) = self.engine {
      return try await database.scratch { sql in try DashboardSchema.postgresDifferences(sql) }
    }
    return try await self.pool.write { db in try DashboardSchema.differences(db) }
  }

  /// Fills in the dashboard figures (CaseRecord.oneDay, handling time) of completed cases stored
  /// before they existed; the triggers then carry them into the aggregates. Returns how many.
  @discardableResult
  public func backfillCompletionFigures(clock: SLAClock, batch: Int = 5000) async throws -> Int {
    var total = 0
    while true {
      let done = try await self.mutate { sql -> Int in
        let records = try sql.fetchAll(
          "SELECT \(CaseRecord.selectColumns) FROM cases WHERE completed_at IS NOT NULL AND handling_seconds IS NULL ORDER BY id LIMIT ?",
          [.integer(Int64(batch))]
        ).map(CaseRecord.init(positional:))
        for var record in records {
          try BanjieStore.fixCompletionFigures(sql, &record, clock: clock)
          try sql.execute(
            "UPDATE cases SET one_day = ?, handling_seconds = ?, handling_bucket = ? WHERE id = ?",
            [record.oneDay.sqlValue, record.handlingSeconds.sqlValue, record.handlingBucket.sqlValue, record.id.sqlValue])
        }
        return records.count
      }
      total += done
      if done < batch { return total }
    }
  }
}
