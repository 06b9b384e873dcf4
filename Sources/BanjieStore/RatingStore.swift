public import BanjieCore
public import Foundation
import GRDB

/// 好差评 and the rectification of 差评: each mutation one transaction with its audit row.
extension BanjieStore {
  // MARK: Ratings

  /// Rates a case. A 差评 opens its rectification in the same transaction. `authorize` sees the
  /// stored case (its enterprise) before anything else is checked.
  public func rateCase(
    caseNumber: String, input: RatingInput, actor: Actor, authorize: @Sendable (CaseRecord) throws -> Void,
    clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> RatingView {
    try await self.write(idempotency: key, method: "RateCase", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      guard let record = try CaseRecord.filter(Column("number") == caseNumber).fetchOne(db), let caseID = record.id else {
        throw Self.caseMissing(caseNumber)
      }
      try authorize(record)
      if try RatingRecord.fetchOne(db, key: caseID) != nil {
        throw DomainError(kind: .alreadyExists, code: "rating.already_rated", arguments: [caseNumber], field: "case_number")
      }
      guard let completedAt = record.completedAt, record.state == .completed || record.state == .delivered else {
        throw DomainError.failedPrecondition("rating.not_completed", arguments: [caseNumber, record.state.rawValue], field: "case_number")
      }
      let windowDays = try Self.setting(db, "ratings.window_days", default: 15)
      let windowEnd = RatingInput.windowEnd(completedAt: completedAt, windowDays: windowDays)
      guard now <= windowEnd else {
        throw DomainError.failedPrecondition(
          "rating.window_closed",
          arguments: [caseNumber, AuditLog.timestamp(completedAt), "\(windowDays)", AuditLog.timestamp(windowEnd)], field: "case_number")
      }
      guard let uscc = record.enterpriseUscc else {
        throw DomainError.failedPrecondition("rating.no_enterprise", arguments: [caseNumber], field: "case_number")
      }
      let rating = RatingRecord(
        caseId: caseID, caseNumber: caseNumber, uscc: uscc, level: input.level.rawValue, comment: input.comment,
        tags: input.tags, ratedAt: now, ratedBy: actor.person, excluded: false, excludedReason: "", excludedAt: nil)
      try rating.insert(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "rating.create", entity: "case", entityID: caseNumber,
        detail: ["level": String(input.level.rawValue), "uscc": uscc])
      var rectificationNumber: String?
      if input.level.isBad {
        let limit = try Self.setting(db, "rectifications.limit_working_days", default: 15)
        let status = try clock.status(clockStart: now, limit: .workingDays(limit), now: now)
        var rectification = RectificationRecord(
          id: nil, number: "ZG-\(caseNumber)", caseId: caseID, caseNumber: caseNumber,
          departmentCode: record.departmentCode, state: .open, limitWorkingDays: limit, openedAt: now, dueAt: status.due,
          colour: status.colour,
          verifiedValid: nil, verificationEvidence: "", verifiedBy: "", verifiedAt: nil, measures: "", rectifiedAt: nil, completedAt: nil,
          followUpResult: "", followUpSatisfied: nil, followedUpAt: nil, closedAt: nil, closeNote: "", appealState: .none, appealReason: "",
          appealDecision: "", appealedAt: nil, appealDecidedAt: nil, version: 1, updatedAt: now)
        try rectification.insert(db)
        try AuditLog.append(
          db, at: now, actor: actor, action: "rectification.open", entity: "rectification", entityID: rectification.number,
          detail: ["department": record.departmentCode, "limit_working_days": String(limit), "due": AuditLog.timestamp(status.due)])
        rectificationNumber = rectification.number
      }
      return RatingView(
        record: rating, departmentCode: record.departmentCode, window: record.window, itemCode: record.itemCode,
        rectificationNumber: rectificationNumber)
    }
  }

  /// A case's rating with the case, for authorization by the caller.
  public func rating(caseNumber: String) async throws -> (CaseRecord, RatingView?)? {
    try await self.pool.read { db in
      guard let record = try CaseRecord.filter(Column("number") == caseNumber).fetchOne(db), let id = record.id else { return nil }
      guard let rating = try RatingRecord.fetchOne(db, key: id) else { return (record, nil) }
      return (record, try Self.ratingView(db, rating))
    }
  }

  // MARK: Rectifications

  /// What a step carries: evidence, measures, the call's result, an appeal reason or a decision note.
  public func transitionRectification(
    number: String, action: RectificationAction, text: String, expectedVersion: Int64?, actor: Actor,
    authorize: @Sendable (RectificationRecord) throws -> Void, clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> RectificationView {
    try await self.write(idempotency: key, method: "rectification.\(action.name)", encode: Self.encoded, decode: Self.decoded, now: now) {
      db in
      guard var record = try RectificationRecord.filter(Column("number") == number).fetchOne(db) else {
        throw DomainError(kind: .notFound, code: "rectification.not_found", arguments: [String(number.prefix(64))], field: "number")
      }
      try authorize(record)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "rectification.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      let (state, appeal) = try RectificationStateMachine.apply(
        action, state: record.state, appeal: record.appealState,
        verifiedValid: record.verifiedValid, number: number)
      var detail = ["from": record.state.rawValue, "to": state.rawValue]
      let person = "\(actor.person) (\(actor.organization))"
      switch action {
      case .verify(let valid):
        record.verifiedValid = valid
        record.verificationEvidence = text
        record.verifiedBy = person
        record.verifiedAt = now
        if !valid { record.completedAt = now }
        detail["valid"] = String(valid)
      case .rectify:
        record.measures = text
        record.rectifiedAt = now
        record.completedAt = now
      case .followUp(let satisfied):
        record.followUpResult = text
        record.followUpSatisfied = satisfied
        record.followedUpAt = now
        detail["satisfied"] = String(satisfied)
      case .close:
        record.closeNote = text
        record.closedAt = now
      case .appeal:
        record.appealReason = text
        record.appealedAt = now
      case .decide(let uphold):
        record.appealDecision = text
        record.appealDecidedAt = now
        detail["appeal"] = uphold ? "upheld" : "rejected"
        if uphold {
          record.closedAt = now
          try db.execute(
            sql: "UPDATE ratings SET excluded = 1, excluded_reason = ?, excluded_at = ? WHERE case_id = ?",
            arguments: ["申诉成立: \(record.appealReason) — \(text)", now, record.caseId])
          try AuditLog.append(
            db, at: now, actor: actor, action: "rating.exclude", entity: "case", entityID: record.caseNumber,
            detail: ["rectification": number, "reason": record.appealReason, "decision": text])
        }
      }
      record.state = state
      record.appealState = appeal
      if record.completedAt == nil && record.closedAt == nil {
        let status = try clock.status(of: record.timedWork, now: now)
        record.colour = status.colour
      }
      record.version += 1
      record.updatedAt = now
      try record.update(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "rectification.\(action.name)", entity: "rectification", entityID: number, detail: detail)
      return try Self.rectificationView(db, record, clock: clock, now: now)
    }
  }

  public func rectification(number: String, clock: SLAClock, now: Date) async throws -> RectificationView? {
    try await self.pool.read { db in
      guard let record = try RectificationRecord.filter(Column("number") == number).fetchOne(db) else { return nil }
      return try Self.rectificationView(db, record, clock: clock, now: now)
    }
  }

  public struct RectificationFilter: Sendable {
    public var department: String?
    /// Only rectifications of this enterprise's cases.
    public var uscc: String?
    public var states: [RectificationState] = []
    public var colours: [SLAColour] = []
    /// Opened on or after this Asia/Shanghai day.
    public var openedFrom: LocalDate?
    /// Opened on or before this Asia/Shanghai day.
    public var openedTo: LocalDate?
    /// Only the rectification of this case.
    public var caseNumber: String?
    public var pageSize = 50
    public var after: String?
    public init() {}
  }

  /// A page of rectifications, newest case number first.
  public func listRectifications(_ filter: RectificationFilter, clock: SLAClock, now: Date) async throws -> (
    views: [RectificationView], total: Int, next: String?
  ) {
    // A day D runs from D 00:00 to D+1 00:00 local time; the stored instants are compared with those.
    let midnight = try TimeOfDay(hour: 0)
    let openedFrom = filter.openedFrom.map { clock.calendar.date($0, at: midnight) }
    let openedBefore = filter.openedTo.map { clock.calendar.date($0.adding(days: 1), at: midnight) }
    return try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let d = filter.department {
        conditions.append("r.department_code = ?")
        arguments += [d]
      }
      if let openedFrom {
        conditions.append("r.opened_at >= ?")
        arguments += [openedFrom]
      }
      if let openedBefore {
        conditions.append("r.opened_at < ?")
        arguments += [openedBefore]
      }
      if let caseNumber = filter.caseNumber {
        conditions.append("r.case_number = ?")
        arguments += [caseNumber]
      }
      if let u = filter.uscc {
        conditions.append("EXISTS (SELECT 1 FROM ratings g WHERE g.case_id = r.case_id AND g.uscc = ?)")
        arguments += [u]
      }
      if !filter.states.isEmpty {
        conditions.append("r.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(filter.states.map(\.rawValue))
      }
      if !filter.colours.isEmpty {
        conditions.append("r.colour IN (\(filter.colours.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(filter.colours.map(\.rawValue))
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rectifications r" + whereClause, arguments: arguments) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("r.number < ?")
        pageArguments += [after]
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try RectificationRecord.fetchAll(
        db, sql: "SELECT r.* FROM rectifications r\(pageWhere) ORDER BY r.number DESC LIMIT ?",
        arguments: pageArguments + [filter.pageSize])
      let views = try records.map { try Self.rectificationView(db, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.number : nil)
    }
  }

  /// The rectification sweeper: colours of rectifications whose department has not finished,
  /// with "rectification.yellow" / "rectification.red" alerts.
  public func sweepRectifications(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws
    -> [AlertRecord]
  {
    try await self.pool.write { db in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let open = try RectificationRecord.fetchAll(
        db,
        sql: """
          SELECT * FROM rectifications WHERE completed_at IS NULL AND closed_at IS NULL AND colour != ?
          """, arguments: [SLAColour.red.rawValue])
      for var record in open {
        let status = try clock.status(of: record.timedWork, now: now)
        guard status.colour != record.colour else { continue }
        let previous = record.colour
        record.colour = status.colour
        try record.update(db, columns: ["colour"])
        try AuditLog.append(
          db, at: now, actor: .system, action: "rectification.colour", entity: "rectification", entityID: record.number,
          detail: ["from": previous.rawValue, "to": status.colour.rawValue])
        let text: String
        switch status.colour {
        case .red: text = "rectification \(record.number) is overdue (due \(AuditLog.timestamp(status.due)))"
        case .yellow:
          text =
            "rectification \(record.number) has used \(Int(status.fractionUsed * 100)) % of its working time (due \(AuditLog.timestamp(status.due)))"
        case .green: continue
        }
        var alert = AlertRecord(
          id: nil, at: now, kind: "rectification.\(status.colour.rawValue)", subject: "rectification \(record.number)",
          departmentCode: record.departmentCode, colour: status.colour, message: text)
        try alert.insert(db)
        alerts.append(alert)
      }
      return alerts
    }
  }

  // MARK: Measures

  /// Measures of the cases completed from `from` to `to` (Asia/Shanghai days, inclusive).
  public func ratingMeasures(from: LocalDate, to: LocalDate, by grouping: RatingGrouping, calendar: WorkingCalendar) async throws
    -> RatingMeasuresReport
  {
    let midnight = try TimeOfDay(hour: 0)
    let start = calendar.date(from, at: midnight)
    let end = calendar.date(to.adding(days: 1), at: midnight)
    return try await self.pool.read { db in
      let keyColumn: String
      let nameSQL: String
      switch grouping {
      case .department:
        keyColumn = "c.department_code"
        nameSQL = "SELECT code AS key, name FROM departments"
      case .window:
        keyColumn = "c.window"
        nameSQL = "SELECT DISTINCT window AS key, window AS name FROM cases"
      case .item:
        keyColumn = "c.item_code"
        nameSQL = "SELECT code AS key, name FROM service_items"
      }
      var names: [String: String] = [:]
      for row in try Row.fetchAll(db, sql: nameSQL) { names[row["key"]] = row["name"] }
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT \(keyColumn) AS key, g.level, g.excluded, r.completed_at AS done_at, r.due_at, r.followed_up_at
          FROM cases c
          LEFT JOIN ratings g ON g.case_id = c.id
          LEFT JOIN rectifications r ON r.case_id = c.id
          WHERE c.completed_at >= ? AND c.completed_at < ?
          """, arguments: [start, end])
      var total = RatingMeasuresRow(key: "", name: "total")
      var groups: [String: RatingMeasuresRow] = [:]
      for row in rows {
        let key: String = row["key"]
        var group = groups[key] ?? RatingMeasuresRow(key: key, name: names[key] ?? key)
        let level: Int? = row["level"]
        let excluded: Bool = row["excluded"] ?? false
        let doneAt: Date? = row["done_at"]
        let dueAt: Date? = row["due_at"]
        let followedUpAt: Date? = row["followed_up_at"]
        for target in [0, 1] {
          var m = target == 0 ? total : group
          m.completed += 1
          if let level {
            if excluded {
              m.excluded += 1
            } else {
              m.rated += 1
              if level >= 4 { m.good += 1 }
              if level <= 2 {
                m.bad += 1
                if let doneAt, let dueAt, doneAt <= dueAt { m.rectifiedOnTime += 1 }
                if followedUpAt != nil { m.followedUp += 1 }
              }
            }
          }
          if target == 0 { total = m } else { group = m }
        }
        groups[key] = group
      }
      return RatingMeasuresReport(from: from, to: to, by: grouping, total: total, groups: groups.values.sorted { $0.key < $1.key })
    }
  }

  // MARK: Helpers

  static func setting(_ db: Database, _ key: String, default value: Int) throws -> Int {
    try Int.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", arguments: [key]) ?? value
  }

  static func caseMissing(_ number: String) -> DomainError {
    DomainError(kind: .notFound, code: "case.not_found", arguments: [String(number.prefix(64))], field: "case_number")
  }

  static func ratingView(_ db: Database, _ rating: RatingRecord) throws -> RatingView {
    let row = try Row.fetchOne(db, sql: "SELECT department_code, window, item_code FROM cases WHERE id = ?", arguments: [rating.caseId])
    let number = try String.fetchOne(db, sql: "SELECT number FROM rectifications WHERE case_id = ?", arguments: [rating.caseId])
    return RatingView(
      record: rating, departmentCode: row?["department_code"] ?? "", window: row?["window"] ?? "",
      itemCode: row?["item_code"] ?? "", rectificationNumber: number)
  }

  static func rectificationView(_ db: Database, _ record: RectificationRecord, clock: SLAClock, now: Date) throws -> RectificationView {
    let departmentName =
      try String.fetchOne(db, sql: "SELECT name FROM departments WHERE code = ?", arguments: [record.departmentCode])
      ?? record.departmentCode
    guard let rating = try RatingRecord.fetchOne(db, key: record.caseId) else {
      throw DomainError(kind: .notFound, code: "rating.not_found", messageKey: "rating.not_found#missing", arguments: [record.caseNumber])
    }
    let pending = record.completedAt == nil && record.closedAt == nil
    let sla = pending ? SLAStatusSnapshot(try clock.status(of: record.timedWork, now: now), at: now) : nil
    return RectificationView(record: record, departmentName: departmentName, sla: sla, rating: try Self.ratingView(db, rating))
  }
}
