public import BanjieCore
public import Foundation

/// One yearly target as stored: table `annual_targets` (migration v15-targets).
public struct AnnualTargetRecord: Codable, Sendable, Hashable {
  public var year: Int
  /// A department code; a liaison unit's name for TargetMeasure.visitCoverage.
  public var unit: String
  public var measure: TargetMeasure
  /// A percentage (0–100] or a score (1–5), as the measure says.
  public var target: Double
  public var setBy: String
  public var setAt: Date
  /// The warning the sweeper last raised (nil: none yet, or no data).
  public var colour: SLAColour?
  public var colourAt: Date?
}

/// A target against the year so far: the year-to-date value with what it was computed from.
public struct TargetProgressRow: Codable, Sendable, Hashable {
  public var record: AnnualTargetRecord
  public var unitName: String
  /// The value's numerator and denominator: e.g. on-time and completed cases, visited and
  /// looked-after enterprises, the weighted score sum (hundredths) and the reviews.
  public var count: Int
  public var base: Int
  public var evaluation: TargetEvaluation
}

/// 年度目标与预警 (docs/DOMAIN.md §26): the office sets targets, everyone in scope reads them
/// against the time progress, the sweeper warns.
extension BanjieStore {
  /// Sets (or replaces) the target of `measure` for `unit` in `year`; audited.
  public func setTarget(
    year: Int, unit rawUnit: String, measure: TargetMeasure, target rawTarget: Double, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> TargetProgressRow {
    try AnnualTargetRules.checkYear(year)
    let target = try AnnualTargetRules.checkTarget(rawTarget, measure: measure)
    let unit = String(rawUnit.trimmingWhitespace())
    guard !unit.isEmpty else { throw DomainError(kind: .invalidArgument, code: "target.unit_required", field: "department") }
    return try await self.mutate(idempotency: key, method: "SetTarget", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      try Self.checkTargetUnit(sql, unit, measure: measure)
      let previous = try AnnualTargetRecord.byKey(sql, year: year, unit: unit, measure: measure)
      let record = AnnualTargetRecord(
        year: year, unit: unit, measure: measure, target: target, setBy: Self.actorName(actor), setAt: now, colour: previous?.colour,
        colourAt: previous?.colourAt)
      try record.save(sql)
      var detail = ["year": String(year), "unit": unit, "measure": measure.rawValue, "target": AnnualTargetRules.format(target)]
      if let previous { detail["previous"] = AnnualTargetRules.format(previous.target) }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "target.set", entity: "target", entityID: "\(year)/\(unit)/\(measure.rawValue)", detail: detail)
      let today = clock.calendar.localDate(of: now)
      return try Self.targetProgressRow(
        sql, record, progress: TimeProgress.of(year: year, today: today, calendar: clock.calendar), today: today)
    }
  }

  /// The targets of `year` (of `unit` when given) against the year so far, by unit then measure.
  public func targetProgress(year: Int, unit: String?, clock: SLAClock, now: Date) async throws -> (TimeProgress, [TargetProgressRow]) {
    try AnnualTargetRules.checkYear(year)
    let today = clock.calendar.localDate(of: now)
    let progress = TimeProgress.of(year: year, today: today, calendar: clock.calendar)
    return try await self.read { sql in
      let rows: [SQLRow]
      if let unit {
        rows = try sql.fetchAll(
          "SELECT \(AnnualTargetRecord.columns) FROM annual_targets WHERE year = ? AND unit = ? ORDER BY unit, measure",
          [year.sqlValue, .text(unit)])
      } else {
        rows = try sql.fetchAll(
          "SELECT \(AnnualTargetRecord.columns) FROM annual_targets WHERE year = ? ORDER BY unit, measure", [year.sqlValue])
      }
      let records = try rows.map(AnnualTargetRecord.init(sqlRow:))
      return (progress, try records.map { try Self.targetProgressRow(sql, $0, progress: progress, today: today) })
    }
  }

  /// The target sweeper: evaluates the current year's targets and raises "target.yellow" /
  /// "target.red" alerts (to the unit) when a target turns yellow or red; a target back on
  /// track turns green silently. Each change is in the audit log.
  public func sweepTargets(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord] {
    try await self.mutate { sql in
      let clock = currentClock()
      let today = clock.calendar.localDate(of: now)
      guard AnnualTargetRules.years.contains(today.year) else { return [] }
      let progress = TimeProgress.of(year: today.year, today: today, calendar: clock.calendar)
      var alerts: [AlertRecord] = []
      let records = try sql.fetchAll(
        "SELECT \(AnnualTargetRecord.columns) FROM annual_targets WHERE year = ? ORDER BY unit, measure", [today.year.sqlValue]
      ).map(AnnualTargetRecord.init(sqlRow:))
      for var record in records {
        let row = try Self.targetProgressRow(sql, record, progress: progress, today: today)
        let colour = row.evaluation.colour
        guard colour != record.colour else { continue }
        let previous = record.colour
        record.colour = colour
        record.colourAt = now
        try record.updateColour(sql)
        try AuditLog.append(
          sql, at: now, actor: .system, action: "target.colour", entity: "target",
          entityID: "\(record.year)/\(record.unit)/\(record.measure.rawValue)",
          detail: ["from": previous?.rawValue ?? "", "to": colour?.rawValue ?? ""])
        guard let colour, colour != .green, let actual = row.evaluation.actual else { continue }
        let text =
          "target \(record.measure.rawValue) of \(record.unit) for \(record.year) is behind: \(AnnualTargetRules.format(Self.rounded(actual))) against \(AnnualTargetRules.format(Self.rounded(row.evaluation.expected))) expected (target \(AnnualTargetRules.format(record.target)), time progress \(Int((progress.share * 100).rounded())) %)"
        var alert = AlertRecord(
          id: nil, at: now, kind: "target.\(colour.rawValue)", subject: "target \(record.year) \(record.unit) \(record.measure.rawValue)",
          departmentCode: record.unit, colour: colour, message: text)
        try Self.insertAlert(sql, &alert)
        alerts.append(alert)
      }
      return alerts
    }
  }

  /// A value as alerts and views show it: two decimals.
  static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

  /// INVALID_ARGUMENT on `department` unless `unit` is a department (a liaison unit for visit
  /// coverage).
  static func checkTargetUnit(_ sql: some SQLConnection, _ unit: String, measure: TargetMeasure) throws {
    if measure.isLiaisonMeasure {
      let known =
        try sql.fetchOne(
          Bool.self,
          "SELECT EXISTS (SELECT 1 FROM liaison_units WHERE name = ?) OR EXISTS (SELECT 1 FROM enterprise_liaisons WHERE organization = ?)",
          [.text(unit), .text(unit)]) ?? false
      guard known else {
        throw DomainError(
          kind: .invalidArgument, code: "target.unknown_liaison_unit", arguments: [String(unit.prefix(64))], field: "department")
      }
    } else {
      guard try sql.present("departments", "code", .text(unit)) else {
        throw DomainError(
          kind: .invalidArgument, code: "target.unknown_department", arguments: [String(unit.prefix(64))], field: "department")
      }
    }
  }

  static func targetProgressRow(_ sql: some SQLConnection, _ record: AnnualTargetRecord, progress: TimeProgress, today: LocalDate) throws
    -> TargetProgressRow
  {
    let (count, base) = try Self.targetActual(sql, year: record.year, unit: record.unit, measure: record.measure, through: today)
    let actual: Double? =
      base == 0 ? nil : (record.measure.isPercentage ? Double(count) * 100 / Double(base) : Double(count) / 100 / Double(base))
    let name =
      record.measure.isLiaisonMeasure
      ? record.unit
      : (try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(record.unit)]) ?? record.unit)
    return TargetProgressRow(
      record: record, unitName: name, count: count, base: base,
      evaluation: AnnualTargetRules.evaluate(measure: record.measure, target: record.target, actual: actual, progress: progress))
  }

  /// A measure's year-to-date numerator and denominator for `unit`, from 1 January of `year`
  /// through `today` (Asia/Shanghai days): read from the dashboard aggregates for cases and
  /// ratings, and from the countersign, appeal, visit and review tables.
  static func targetActual(_ sql: some SQLConnection, year: Int, unit: String, measure: TargetMeasure, through today: LocalDate) throws -> (
    count: Int, base: Int
  ) {
    let from = "\(year)-01-01"
    let to = min("\(year)-12-31", today.description)
    // The SQL of each measure is fixed for an engine (only the dialect's day differs), so the
    // statements are cached.
    func pair(_ text: String, _ arguments: [String]) throws -> (Int, Int) {
      guard let row = try sql.fetchOne(text, arguments.map(SQLValue.text)) else { return (0, 0) }
      return (try row.decode(Int?.self, at: 0) ?? 0, try row.decode(Int?.self, at: 1) ?? 0)
    }
    let daily = "FROM dashboard_daily WHERE dim = 'department' AND department_code = ? AND day BETWEEN ? AND ?"
    switch measure {
    case .onTimeRate: return try pair("SELECT SUM(on_time), SUM(completed) \(daily)", [unit, from, to])
    case .oneDayRate: return try pair("SELECT SUM(one_day), SUM(completed) \(daily)", [unit, from, to])
    case .goodRatingShare: return try pair("SELECT SUM(good), SUM(rated) \(daily)", [unit, from, to])
    case .countersignOnTimeRate:
      return try pair(
        """
        SELECT SUM(on_time), COUNT(*) FROM countersign_units
        WHERE unit = ? AND answered_at IS NOT NULL AND \(sql.dialect.day("answered_at")) BETWEEN ? AND ?
        """, [unit, from, to])
    case .appealResolutionRate:
      let figures = try Self.appealResolutionRate(sql, year: year, department: unit)
      return (figures.onTime, figures.resolved)
    case .visitCoverage:
      return try pair(
        """
        SELECT (SELECT COUNT(DISTINCT v.uscc) FROM visits v
                WHERE v.liaison_organization = ?1 AND v.visited_on BETWEEN ?2 AND ?3
                  AND v.uscc IN (SELECT uscc FROM enterprise_liaisons WHERE organization = ?1)),
               (SELECT COUNT(DISTINCT uscc) FROM enterprise_liaisons WHERE organization = ?1)
        """, [unit, from, to])
    case .reviewScore:
      return try pair(
        """
        SELECT SUM(weighted_hundredths), COUNT(*) FROM campaign_reviews
        WHERE department_code = ? AND \(sql.dialect.day("submitted_at")) BETWEEN ? AND ?
        """, [unit, from, to])
    }
  }
}

extension BanjieStore {
  /// Stores a new alert and takes the id the database gave it.
  fileprivate static func insertAlert(_ sql: some SQLConnection, _ alert: inout AlertRecord) throws {
    alert.id = try AlertRecord.insert(sql, alert)
  }
}

extension TargetMeasure: SQLValueConvertible {}

extension AnnualTargetRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columns = "year, unit, measure, target, set_by, set_at, colour, colour_at"

  static func byKey(_ sql: some SQLConnection, year: Int, unit: String, measure: TargetMeasure) throws -> AnnualTargetRecord? {
    try sql.fetchOne(
      "SELECT \(Self.columns) FROM annual_targets WHERE year = ? AND unit = ? AND measure = ?",
      [year.sqlValue, .text(unit), measure.sqlValue]
    ).map(AnnualTargetRecord.init(sqlRow:))
  }

  /// Inserts the target, or replaces every column of the one stored under the same key (what
  /// GRDB's `save` did), dates as GRDB's text.
  func save(_ sql: some SQLConnection) throws {
    try sql.execute(
      """
      INSERT INTO annual_targets (year, unit, measure, target, set_by, set_at, colour, colour_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (year, unit, measure) DO UPDATE SET target = excluded.target, set_by = excluded.set_by, set_at = excluded.set_at,
        colour = excluded.colour, colour_at = excluded.colour_at
      """,
      [
        self.year.sqlValue, .text(self.unit), self.measure.sqlValue, .real(self.target), .text(self.setBy), StoredDate(self.setAt).sqlValue,
        self.colour.sqlValue, self.colourAt.stored.sqlValue,
      ])
  }

  /// Writes the sweeper's warning and its moment, nothing else.
  func updateColour(_ sql: some SQLConnection) throws {
    try sql.execute(
      "UPDATE annual_targets SET colour = ?, colour_at = ? WHERE year = ? AND unit = ? AND measure = ?",
      [self.colour.sqlValue, self.colourAt.stored.sqlValue, self.year.sqlValue, .text(self.unit), self.measure.sqlValue])
  }

  init(sqlRow row: SQLRow) throws {
    self.init(
      year: try row.decode("year"), unit: try row.decode("unit"), measure: try row.decode("measure"), target: try row.decode("target"),
      setBy: try row.decode("set_by"), setAt: try row.decode(StoredDate.self, "set_at").date, colour: try row.decode("colour"),
      colourAt: try row.decode(StoredDate?.self, "colour_at")?.date)
  }
}
