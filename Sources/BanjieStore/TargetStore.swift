public import BanjieCore
public import Foundation
public import GRDB

/// One yearly target as stored: table `annual_targets` (migration v15-targets).
public struct AnnualTargetRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "annual_targets"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

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
    return try await self.write(idempotency: key, method: "SetTarget", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      let clock = currentClock()
      try Self.checkTargetUnit(db, unit, measure: measure)
      let previous = try AnnualTargetRecord.fetchOne(db, key: ["year": year, "unit": unit, "measure": measure.rawValue])
      let record = AnnualTargetRecord(
        year: year, unit: unit, measure: measure, target: target, setBy: Self.actorName(actor), setAt: now, colour: previous?.colour,
        colourAt: previous?.colourAt)
      try record.save(db)
      var detail = ["year": String(year), "unit": unit, "measure": measure.rawValue, "target": AnnualTargetRules.format(target)]
      if let previous { detail["previous"] = AnnualTargetRules.format(previous.target) }
      try AuditLog.append(
        db, at: now, actor: actor, action: "target.set", entity: "target", entityID: "\(year)/\(unit)/\(measure.rawValue)", detail: detail)
      let today = clock.calendar.localDate(of: now)
      return try Self.targetProgressRow(
        db, record, progress: TimeProgress.of(year: year, today: today, calendar: clock.calendar), today: today)
    }
  }

  /// The targets of `year` (of `unit` when given) against the year so far, by unit then measure.
  public func targetProgress(year: Int, unit: String?, clock: SLAClock, now: Date) async throws -> (TimeProgress, [TargetProgressRow]) {
    try AnnualTargetRules.checkYear(year)
    let today = clock.calendar.localDate(of: now)
    let progress = TimeProgress.of(year: year, today: today, calendar: clock.calendar)
    return try await self.pool.read { db in
      var request = AnnualTargetRecord.filter(Column("year") == year)
      if let unit { request = request.filter(Column("unit") == unit) }
      let records = try request.order(Column("unit"), Column("measure")).fetchAll(db)
      return (progress, try records.map { try Self.targetProgressRow(db, $0, progress: progress, today: today) })
    }
  }

  /// The target sweeper: evaluates the current year's targets and raises "target.yellow" /
  /// "target.red" alerts (to the unit) when a target turns yellow or red; a target back on
  /// track turns green silently. Each change is in the audit log.
  public func sweepTargets(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord] {
    try await self.commits.write { db in
      let clock = currentClock()
      let today = clock.calendar.localDate(of: now)
      guard AnnualTargetRules.years.contains(today.year) else { return [] }
      let progress = TimeProgress.of(year: today.year, today: today, calendar: clock.calendar)
      var alerts: [AlertRecord] = []
      let records = try AnnualTargetRecord.filter(Column("year") == today.year).order(Column("unit"), Column("measure")).fetchAll(db)
      for var record in records {
        let row = try Self.targetProgressRow(db, record, progress: progress, today: today)
        let colour = row.evaluation.colour
        guard colour != record.colour else { continue }
        let previous = record.colour
        record.colour = colour
        record.colourAt = now
        try record.update(db, columns: ["colour", "colour_at"])
        try AuditLog.append(
          db, at: now, actor: .system, action: "target.colour", entity: "target",
          entityID: "\(record.year)/\(record.unit)/\(record.measure.rawValue)",
          detail: ["from": previous?.rawValue ?? "", "to": colour?.rawValue ?? ""])
        guard let colour, colour != .green, let actual = row.evaluation.actual else { continue }
        let text =
          "target \(record.measure.rawValue) of \(record.unit) for \(record.year) is behind: \(AnnualTargetRules.format(Self.rounded(actual))) against \(AnnualTargetRules.format(Self.rounded(row.evaluation.expected))) expected (target \(AnnualTargetRules.format(record.target)), time progress \(Int((progress.share * 100).rounded())) %)"
        var alert = AlertRecord(
          id: nil, at: now, kind: "target.\(colour.rawValue)", subject: "target \(record.year) \(record.unit) \(record.measure.rawValue)",
          departmentCode: record.unit, colour: colour, message: text)
        try alert.insert(db)
        alerts.append(alert)
      }
      return alerts
    }
  }

  /// A value as alerts and views show it: two decimals.
  static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

  /// INVALID_ARGUMENT on `department` unless `unit` is a department (a liaison unit for visit
  /// coverage).
  static func checkTargetUnit(_ db: Database, _ unit: String, measure: TargetMeasure) throws {
    if measure.isLiaisonMeasure {
      let known =
        try Bool.fetchOne(
          db.cachedStatement(
            sql:
              "SELECT EXISTS (SELECT 1 FROM liaison_units WHERE name = ?) OR EXISTS (SELECT 1 FROM enterprise_liaisons WHERE organization = ?)"
          ),
          arguments: [unit, unit]) ?? false
      guard known else {
        throw DomainError(
          kind: .invalidArgument, code: "target.unknown_liaison_unit", arguments: [String(unit.prefix(64))], field: "department")
      }
    } else {
      guard try DepartmentRecord.present(db, "code", unit) else {
        throw DomainError(
          kind: .invalidArgument, code: "target.unknown_department", arguments: [String(unit.prefix(64))], field: "department")
      }
    }
  }

  static func targetProgressRow(_ db: Database, _ record: AnnualTargetRecord, progress: TimeProgress, today: LocalDate) throws
    -> TargetProgressRow
  {
    let (count, base) = try Self.targetActual(db, year: record.year, unit: record.unit, measure: record.measure, through: today)
    let actual: Double? =
      base == 0 ? nil : (record.measure.isPercentage ? Double(count) * 100 / Double(base) : Double(count) / 100 / Double(base))
    let name =
      record.measure.isLiaisonMeasure
      ? record.unit
      : (try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM departments WHERE code = ?"), arguments: [record.unit])
        ?? record.unit)
    return TargetProgressRow(
      record: record, unitName: name, count: count, base: base,
      evaluation: AnnualTargetRules.evaluate(measure: record.measure, target: record.target, actual: actual, progress: progress))
  }

  /// A measure's year-to-date numerator and denominator for `unit`, from 1 January of `year`
  /// through `today` (Asia/Shanghai days): read from the dashboard aggregates for cases and
  /// ratings, and from the countersign, appeal, visit and review tables.
  static func targetActual(_ db: Database, year: Int, unit: String, measure: TargetMeasure, through today: LocalDate) throws -> (
    count: Int, base: Int
  ) {
    let from = "\(year)-01-01"
    let to = min("\(year)-12-31", today.description)
    func pair(_ sql: String, _ arguments: StatementArguments) throws -> (Int, Int) {
      guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments) else { return (0, 0) }
      return ((row[0] as Int?) ?? 0, (row[1] as Int?) ?? 0)
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
        WHERE unit = ? AND answered_at IS NOT NULL AND date(answered_at, '+8 hours') BETWEEN ? AND ?
        """, [unit, from, to])
    case .appealResolutionRate:
      let figures = try Self.appealResolutionRate(db, year: year, department: unit)
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
        WHERE department_code = ? AND date(submitted_at, '+8 hours') BETWEEN ? AND ?
        """, [unit, from, to])
    }
  }
}
