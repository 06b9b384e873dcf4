public import BanjieCore
public import Foundation
import GRDB

/// How the dashboard breaks its figures down.
public enum DashboardGrouping: String, Sendable, Hashable, CaseIterable {
  case department, item, window, township
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
  /// Working seconds from acceptance to completion of each completed case, ascending once finished.
  public var handlingSeconds: [Int64] = []

  public init(key: String, name: String) {
    self.key = key
    self.name = name
  }

  public var onTimeRate: Double { RatingMeasuresRow.share(self.onTime, self.completed) }
  public var oneDayRate: Double { RatingMeasuresRow.share(self.oneDay, self.completed) }
  public var handlingHoursMean: Double {
    self.handlingSeconds.isEmpty ? 0 : Double(self.handlingSeconds.reduce(0, +)) / Double(self.handlingSeconds.count) / 3600
  }
  public var handlingHoursP50: Double { self.percentile(50) }
  public var handlingHoursP90: Double { self.percentile(90) }

  /// Nearest rank: the smallest value with at least p% of the values at or below it.
  func percentile(_ p: Int) -> Double {
    guard !self.handlingSeconds.isEmpty else { return 0 }
    let sorted = self.handlingSeconds.sorted()
    let rank = max(1, (p * sorted.count + 99) / 100)
    return Double(sorted[rank - 1]) / 3600
  }
}

public struct DashboardReport: Sendable, Hashable {
  public var from: LocalDate
  public var to: LocalDate
  public var department: String?
  public var by: DashboardGrouping?
  public var summary: DashboardFigures
  public var goodShare: Double
  public var unratedShare: Double
  public var openRectifications: Int
  public var overdueRectifications: Int
  public var openDemands: Int
  public var overdueDemands: Int
  public var rows: [DashboardFigures]
  public var hasData: Bool { self.summary.received + self.summary.accepted + self.summary.completed > 0 }
}

/// The SLA dashboard: period figures computed from cases, ratings, rectifications and demands.
extension BanjieStore {
  /// Whether `code` names a department.
  public func departmentExists(_ code: String) throws -> Bool {
    try self.pool.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM departments WHERE code = ?)", arguments: [code]) ?? false }
  }

  /// The dashboard of `from`–`to` (Asia/Shanghai days, inclusive) for one department or all.
  public func dashboard(from: LocalDate, to: LocalDate, department: String?, by grouping: DashboardGrouping?, clock: SLAClock, now: Date) throws -> DashboardReport {
    let calendar = clock.calendar
    let midnight = try TimeOfDay(hour: 0)
    let start = calendar.date(from, at: midnight)
    let end = calendar.date(to.adding(days: 1), at: midnight)
    // The rating shares are RatingStore's measures, by department so one department can be picked.
    let measures = try self.ratingMeasures(from: from, to: to, by: .department, calendar: calendar)
    let ratingRow = department.map { code in measures.groups.first { $0.key == code } ?? RatingMeasuresRow(key: code, name: code) } ?? measures.total
    return try self.pool.read { db in
      let keyColumn: String
      let nameSQL: String
      switch grouping {
      case .department, nil:
        keyColumn = "c.department_code"
        nameSQL = "SELECT code AS key, name FROM departments"
      case .window:
        keyColumn = "c.window"
        nameSQL = "SELECT DISTINCT window AS key, window AS name FROM cases"
      case .item:
        keyColumn = "c.item_code"
        nameSQL = "SELECT code AS key, name FROM service_items"
      case .township:
        keyColumn = "COALESCE(e.township, '')"
        nameSQL = "SELECT DISTINCT township AS key, township AS name FROM enterprises"
      }
      var names: [String: String] = [:]
      for row in try Row.fetchAll(db, sql: nameSQL) { names[row["key"]] = row["name"] }
      var conditions = ["((c.received_at >= ?1 AND c.received_at < ?2) OR (c.accepted_at >= ?1 AND c.accepted_at < ?2)"
        + " OR (c.completed_at >= ?1 AND c.completed_at < ?2) OR c.state IN ('ACCEPTED', 'SUSPENDED'))"]
      var arguments: StatementArguments = [start, end]
      if let department {
        conditions.append("c.department_code = ?3")
        arguments += [department]
      }
      let rows = try Row.fetchAll(db, sql: """
        SELECT \(keyColumn) AS key, c.id, c.state, c.received_at, c.accepted_at, c.completed_at, c.due_at
        FROM cases c LEFT JOIN enterprises e ON e.uscc = c.enterprise_uscc
        WHERE \(conditions.joined(separator: " AND "))
        """, arguments: arguments)
      var summary = DashboardFigures(key: "", name: "total")
      var groups: [String: DashboardFigures] = [:]
      for row in rows {
        let key: String = row["key"]
        var group = groups[key] ?? DashboardFigures(key: key, name: names[key].flatMap { $0.isEmpty ? nil : $0 } ?? (key.isEmpty ? "—" : key))
        let state: String = row["state"]
        let receivedAt: Date = row["received_at"]
        let acceptedAt: Date? = row["accepted_at"]
        let completedAt: Date? = row["completed_at"]
        let dueAt: Date? = row["due_at"]
        var colour: SLAColour?
        if state == CaseState.accepted.rawValue || state == CaseState.suspended.rawValue, acceptedAt != nil, completedAt == nil {
          let id: Int64 = row["id"]
          if let record = try CaseRecord.fetchOne(db, key: id) { colour = try Self.status(db, record, clock: clock, now: now)?.colour }
        }
        for target in [0, 1] {
          var f = target == 0 ? summary : group
          if receivedAt >= start && receivedAt < end { f.received += 1 }
          if let acceptedAt, acceptedAt >= start && acceptedAt < end { f.accepted += 1 }
          if let completedAt, completedAt >= start && completedAt < end {
            f.completed += 1
            if let dueAt, completedAt <= dueAt { f.onTime += 1 }
            let clockStart = acceptedAt ?? receivedAt
            if clock.isOneDayCompletion(acceptedAt: clockStart, completedAt: completedAt) { f.oneDay += 1 }
            f.handlingSeconds.append(calendar.workingSeconds(from: clockStart, to: completedAt))
          }
          switch colour {
          case .green: f.openGreen += 1
          case .yellow: f.openYellow += 1
          case .red: f.openRed += 1
          case nil: break
          }
          if target == 0 { summary = f } else { group = f }
        }
        groups[key] = group
      }
      var rectificationSQL = "SELECT COUNT(*), COALESCE(SUM(due_at < ?), 0) FROM rectifications WHERE completed_at IS NULL AND closed_at IS NULL"
      var demandSQL = "SELECT COUNT(*), COALESCE(SUM(due_at < ?), 0) FROM demands WHERE state IN ('OPEN', 'ASSIGNED', 'REOPENED')"
      var openArguments: StatementArguments = [now]
      if let department {
        rectificationSQL += " AND department_code = ?"
        demandSQL += " AND department_code = ?"
        openArguments += [department]
      }
      let rectifications = try Row.fetchOne(db, sql: rectificationSQL, arguments: openArguments)
      let demands = try Row.fetchOne(db, sql: demandSQL, arguments: openArguments)
      return DashboardReport(
        from: from, to: to, department: department, by: grouping, summary: summary,
        goodShare: ratingRow.goodShare, unratedShare: ratingRow.unratedShare,
        openRectifications: rectifications?[0] ?? 0, overdueRectifications: rectifications?[1] ?? 0,
        openDemands: demands?[0] ?? 0, overdueDemands: demands?[1] ?? 0,
        rows: grouping == nil ? [] : groups.values.sorted { $0.key < $1.key })
    }
  }
}
