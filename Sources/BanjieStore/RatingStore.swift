public import BanjieCore
public import Foundation
import GRDB

/// 好差评 and the rectification of 差评: each mutation one transaction with its audit row.
extension BanjieStore {
  // MARK: Ratings

  /// Who rates (docs/DOMAIN.md §21).
  public enum Rater: Sendable, Hashable {
    /// An enterprise with its certificate; `authorize` decides whether the case is its own.
    case enterprise
    /// A rating pad: its device id (certificate CN) and the window its certificate names (O),
    /// both normalised.
    case pad(device: String, window: String)
  }

  /// Rates a case. A 差评 opens its rectification in the same transaction, recording the clerk who
  /// completed the case. Without `ratingCode`, an enterprise rates a case `authorize` accepts as
  /// its own, and a pad only the case last served at its window; with it (normalised and
  /// well-formed), the code must be the case's, compared before anything else about the case is
  /// told, and the enterprise must still be the case's own.
  public func rateCase(
    caseNumber: String, input: RatingInput, ratingCode: String?, rater: Rater, actor: Actor,
    authorize: @escaping @Sendable (CaseRecord) throws -> Void, clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> RatingView {
    if let ratingCode, case .pad = rater {
      // A pad's wrong code is refused from a read, so guesses never queue for the writer; the
      // transaction below checks again.
      let stored = try await self.read { sql in
        try sql.fetchOne(String.self, "SELECT rating_code FROM cases WHERE number = ?", [.text(caseNumber)])
      }
      // Nor does a pad learn which old cases (without a code) exist.
      if stored.map({ $0.isEmpty || !RatingCode.matches(ratingCode, $0) }) ?? true {
        _ = RatingCode.matches(ratingCode, stored ?? String(repeating: "2", count: RatingCode.length))
        throw DomainError(kind: .invalidArgument, code: "rating.code_mismatch", arguments: [caseNumber], field: "rating_code")
      }
    }
    return try await self.mutate(idempotency: key, method: "RateCase", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      var device = ""
      if case .pad(let id, let window) = rater {
        try Self.checkRatingPad(sql, device: id, window: window)
        device = id
      }
      let found = try CaseRecord.byNumber(sql, caseNumber)
      let via: RatingVia
      if let ratingCode {
        if case .enterprise = rater {
          guard let found else { throw Self.caseMissing(caseNumber) }
          try authorize(found)
        }
        // A pad may see no case: a number that does not exist reads as a wrong code (nil: no case).
        let stored = try found?.id.flatMap { id in
          try sql.fetchOne(String.self, "SELECT rating_code FROM cases WHERE id = ?", [.integer(id)])
        }
        guard let stored else {
          _ = RatingCode.matches(ratingCode, String(repeating: "2", count: RatingCode.length))
          throw DomainError(kind: .invalidArgument, code: "rating.code_mismatch", arguments: [caseNumber], field: "rating_code")
        }
        guard !stored.isEmpty else {
          throw DomainError.failedPrecondition("rating.no_code", arguments: [caseNumber], field: "rating_code")
        }
        guard RatingCode.matches(ratingCode, stored) else {
          throw DomainError(kind: .invalidArgument, code: "rating.code_mismatch", arguments: [caseNumber], field: "rating_code")
        }
        via = .code
      } else {
        switch rater {
        case .enterprise:
          guard let found else { throw Self.caseMissing(caseNumber) }
          try authorize(found)
          via = .enterprise
        case .pad(let id, let window):
          // Only the case most recently served at the pad's window (docs/DOMAIN.md §21), read
          // through the partial index cases_served.
          let latest = try sql.fetchOne(
            Int64.self,
            """
            SELECT id FROM cases WHERE served_window = ? AND served_at IS NOT NULL ORDER BY served_at DESC, id DESC LIMIT 1
            """, [.text(window)])
          guard let found, let latest, found.id == latest else {
            throw DomainError(kind: .permissionDenied, code: "pad.not_served_here", arguments: [id, window, caseNumber])
          }
          via = .pad
        }
      }
      guard let record = found, let caseID = record.id else { throw Self.caseMissing(caseNumber) }
      if try RatingRecord.byCaseID(sql, caseID) != nil {
        throw DomainError(kind: .alreadyExists, code: "rating.already_rated", arguments: [caseNumber], field: "case_number")
      }
      guard let completedAt = record.completedAt, record.state == .completed || record.state == .delivered else {
        throw DomainError.failedPrecondition("rating.not_completed", arguments: [caseNumber, record.state.rawValue], field: "case_number")
      }
      let windowDays = try Self.setting(sql, "ratings.window_days", default: 15)
      let windowEnd = RatingInput.windowEnd(completedAt: completedAt, windowDays: windowDays)
      guard now <= windowEnd else {
        let arguments = [caseNumber, AuditLog.timestamp(completedAt), "\(windowDays)", AuditLog.timestamp(windowEnd)]
        if via == .code {
          throw DomainError.failedPrecondition("rating.code_expired", arguments: arguments, field: "rating_code")
        }
        throw DomainError.failedPrecondition("rating.window_closed", arguments: arguments, field: "case_number")
      }
      // A natural person's case has no enterprise: its ratings store an empty USCC.
      let uscc = record.enterpriseUscc ?? ""
      let rating = RatingRecord(
        caseId: caseID, caseNumber: caseNumber, uscc: uscc, level: input.level.rawValue, comment: input.comment,
        tags: input.tags, ratedAt: now, ratedBy: actor.person, excluded: false, excludedReason: "", excludedAt: nil, via: via,
        device: device)
      try rating.insert(sql)
      var detail = ["level": String(input.level.rawValue), "uscc": uscc, "via": via.rawValue]
      if !device.isEmpty { detail["device"] = device }
      try AuditLog.append(sql, at: now, actor: actor, action: "rating.create", entity: "case", entityID: caseNumber, detail: detail)
      var rectificationNumber: String?
      if input.level.isBad {
        let limit = try Self.setting(sql, "rectifications.limit_working_days", default: 15)
        let status = try clock.status(clockStart: now, limit: .workingDays(limit), now: now)
        // The clerk rated is whoever completed the case (its latest completion, after any reopening).
        let rated = try sql.fetchOne(
          """
          SELECT actor_organization, actor_person FROM case_events WHERE case_id = ? AND action = 'complete'
          ORDER BY seq DESC LIMIT 1
          """, [.integer(caseID)])
        let ratedOrg = try rated?.decode(String?.self, at: 0) ?? ""
        let ratedPerson = try rated?.decode(String?.self, at: 1) ?? ""
        var rectification = RectificationRecord(
          id: nil, number: "ZG-\(caseNumber)", caseId: caseID, caseNumber: caseNumber,
          departmentCode: record.departmentCode, state: .open, limitWorkingDays: limit, openedAt: now, dueAt: status.due,
          colour: status.colour,
          verifiedValid: nil, verificationEvidence: "", verifiedBy: "", verifiedAt: nil, measures: "", rectifiedAt: nil, completedAt: nil,
          followUpResult: "", followUpSatisfied: nil, followedUpAt: nil, closedAt: nil, closeNote: "", appealState: .none, appealReason: "",
          appealDecision: "", appealedAt: nil, appealDecidedAt: nil, version: 1, updatedAt: now, ratedOrg: ratedOrg,
          ratedPerson: ratedPerson, confirmation: .unconfirmed, confirmationNote: "", confirmedBy: "", confirmedAt: nil)
        try rectification.insert(sql)
        try AuditLog.append(
          sql, at: now, actor: actor, action: "rectification.open", entity: "rectification", entityID: rectification.number,
          detail: [
            "department": record.departmentCode, "limit_working_days": String(limit), "due": AuditLog.timestamp(status.due),
            "rated": ratedPerson.isEmpty ? "" : "\(ratedPerson) (\(ratedOrg))",
          ])
        rectificationNumber = rectification.number
      }
      return RatingView(
        record: rating, departmentCode: record.departmentCode, window: record.window, itemCode: record.itemCode,
        rectificationNumber: rectificationNumber)
    }
  }

  /// A case's rating with the case, for authorization by the caller.
  public func rating(caseNumber: String) async throws -> (CaseRecord, RatingView?)? {
    try await self.read { sql in
      guard let record = try CaseRecord.byNumber(sql, caseNumber), let id = record.id else { return nil }
      guard let rating = try RatingRecord.byCaseID(sql, id) else { return (record, nil) }
      return (record, try Self.ratingView(sql, rating))
    }
  }

  // MARK: Rectifications

  /// What a step carries: evidence, measures, the call's result, an appeal reason, a decision
  /// note, the rater's words or the office's reason for signing off. Who may take the step is
  /// decided inside the transaction from the rectification's parties (`RectificationParties`):
  /// its department, the clerk who was rated, the department's heads and the rater's enterprise.
  public func transitionRectification(
    number: String, action: RectificationAction, text: String, expectedVersion: Int64?, actor: Actor,
    clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> RectificationView {
    try await self.mutate(idempotency: key, method: "rectification.\(action.name)", encode: Self.encoded, decode: Self.decoded, now: now) {
      sql in
      guard var record = try RectificationRecord.byNumber(sql, number) else {
        throw DomainError(kind: .notFound, code: "rectification.not_found", arguments: [String(number.prefix(64))], field: "number")
      }
      try Self.rectificationParties(sql, record, actor: actor).authorize(action, by: actor)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "rectification.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      let confirmation = record.confirmation ?? .unconfirmed
      let (state, appeal) = try RectificationStateMachine.apply(
        action, state: record.state, appeal: record.appealState,
        verifiedValid: record.verifiedValid, confirmation: confirmation, number: number)
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
        // A satisfied rater on the call confirms, unless they already confirmed otherwise.
        if satisfied && confirmation == .unconfirmed {
          Self.confirm(&record, .followUp, text: text, by: person, at: now)
          detail["confirmation"] = RectificationConfirmation.followUp.rawValue
        }
      case .confirm:
        Self.confirm(&record, .rater, text: text, by: person, at: now)
        detail["confirmation"] = RectificationConfirmation.rater.rawValue
      case .signOff:
        Self.confirm(&record, .office, text: text, by: person, at: now)
        detail["confirmation"] = RectificationConfirmation.office.rawValue
        detail["reason"] = text
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
          try sql.execute(
            "UPDATE ratings SET excluded = 1, excluded_reason = ?, excluded_at = ? WHERE case_id = ?",
            [.text("申诉成立: \(record.appealReason) — \(text)"), StoredDate(now).sqlValue, .integer(record.caseId)])
          try AuditLog.append(
            sql, at: now, actor: actor, action: "rating.exclude", entity: "case", entityID: record.caseNumber,
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
      try record.updateAll(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "rectification.\(action.name)", entity: "rectification", entityID: number, detail: detail)
      return try Self.rectificationView(sql, record, clock: clock, now: now)
    }
  }

  static func confirm(
    _ record: inout RectificationRecord, _ confirmation: RectificationConfirmation, text: String, by person: String, at now: Date
  ) {
    record.confirmation = confirmation
    record.confirmationNote = text
    record.confirmedBy = person
    record.confirmedAt = now
  }

  /// The parties of a rectification as they stand now, for deciding whether `actor` may act on it.
  static func rectificationParties(_ sql: any SQLConnection, _ record: RectificationRecord, actor: Actor) throws
    -> RectificationParties
  {
    let uscc = try sql.fetchOne(String.self, "SELECT uscc FROM ratings WHERE case_id = ?", [.integer(record.caseId)]) ?? ""
    var isHead = false
    if actor.role == .clerk && actor.organization == record.departmentCode {
      isHead =
        try sql.fetchOne(
          Bool.self, "SELECT EXISTS (SELECT 1 FROM department_heads WHERE department_code = ? AND person = ?)",
          [.text(record.departmentCode), .text(actor.person)]) ?? false
    }
    return RectificationParties(
      number: record.number, department: record.departmentCode, ratedOrganization: record.ratedOrg ?? "",
      ratedPerson: record.ratedPerson ?? "", raterUSCC: uscc, actorIsHead: isHead)
  }

  public func rectification(number: String, clock: SLAClock, now: Date) async throws -> RectificationView? {
    try await self.read { sql in
      guard let record = try RectificationRecord.byNumber(sql, number) else { return nil }
      return try Self.rectificationView(sql, record, clock: clock, now: now)
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
    return try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let d = filter.department {
        conditions.append("r.department_code = ?")
        arguments.append(.text(d))
      }
      if let openedFrom {
        conditions.append("r.opened_at >= ?")
        arguments.append(StoredDate(openedFrom).sqlValue)
      }
      if let openedBefore {
        conditions.append("r.opened_at < ?")
        arguments.append(StoredDate(openedBefore).sqlValue)
      }
      if let caseNumber = filter.caseNumber {
        conditions.append("r.case_number = ?")
        arguments.append(.text(caseNumber))
      }
      if let u = filter.uscc {
        conditions.append("EXISTS (SELECT 1 FROM ratings g WHERE g.case_id = r.case_id AND g.uscc = ?)")
        arguments.append(.text(u))
      }
      if !filter.states.isEmpty {
        conditions.append("r.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.states.map(\.sqlValue)
      }
      if !filter.colours.isEmpty {
        conditions.append("r.colour IN (\(filter.colours.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.colours.map(\.sqlValue)
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total =
        try sql.fetchAll(uncached: "SELECT COUNT(*) FROM rectifications r" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("r.number < ?")
        pageArguments.append(.text(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(RectificationRecord.aliasedColumns) FROM rectifications r\(pageWhere) ORDER BY r.number DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(RectificationRecord.init(sqlRow:))
      let views = try records.map { try Self.rectificationView(sql, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.number : nil)
    }
  }

  /// The rectification sweeper: colours of rectifications whose department has not finished,
  /// with "rectification.yellow" / "rectification.red" alerts.
  public func sweepRectifications(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws
    -> [AlertRecord]
  {
    try await self.mutate { sql in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let open = try sql.fetchAll(
        """
        SELECT \(RectificationRecord.columns) FROM rectifications WHERE completed_at IS NULL AND closed_at IS NULL AND colour != ?
        """, [SLAColour.red.sqlValue]
      ).map(RectificationRecord.init(sqlRow:))
      for var record in open {
        let status = try clock.status(of: record.timedWork, now: now)
        guard status.colour != record.colour else { continue }
        let previous = record.colour
        record.colour = status.colour
        try sql.execute("UPDATE rectifications SET colour = ? WHERE id = ?", [record.colour.sqlValue, record.id.sqlValue])
        try AuditLog.append(
          sql, at: now, actor: .system, action: "rectification.colour", entity: "rectification", entityID: record.number,
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
        alert.id = try AlertRecord.insert(sql, alert)
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
    return try await self.read { sql in
      let keyColumn: String
      let nameSQL: String
      switch grouping {
      case .department:
        keyColumn = "c.department_code"
        nameSQL = "SELECT code AS key, name FROM departments"
      case .window:
        keyColumn = "c.\"window\""
        nameSQL = "SELECT DISTINCT \"window\" AS key, \"window\" AS name FROM cases"
      case .item:
        keyColumn = "c.item_code"
        nameSQL = "SELECT code AS key, name FROM service_items"
      }
      var names: [String: String] = [:]
      for row in try sql.fetchAll(nameSQL) { names[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
      let rows = try sql.fetchAll(
        """
        SELECT \(keyColumn) AS key, g.level, g.excluded, r.completed_at AS done_at, r.due_at, r.followed_up_at
        FROM cases c
        LEFT JOIN ratings g ON g.case_id = c.id
        LEFT JOIN rectifications r ON r.case_id = c.id
        WHERE c.completed_at >= ? AND c.completed_at < ?
        """, [StoredDate(start).sqlValue, StoredDate(end).sqlValue])
      var total = RatingMeasuresRow(key: "", name: "total")
      var groups: [String: RatingMeasuresRow] = [:]
      for row in rows {
        let key = try row.decode(String.self, at: 0)
        var group = groups[key] ?? RatingMeasuresRow(key: key, name: names[key] ?? key)
        let level = try row.decode(Int?.self, at: 1)
        let excluded = try row.decode(Bool?.self, at: 2) ?? false
        let doneAt = try row.decode(StoredDate?.self, at: 3)?.date
        let dueAt = try row.decode(StoredDate?.self, at: 4)?.date
        let followedUpAt = try row.decode(StoredDate?.self, at: 5)?.date
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
    try Self.setting(SQLiteSQLConnection(db), key, default: value)
  }

  static func setting(_ sql: any SQLConnection, _ key: String, default value: Int) throws -> Int {
    try sql.fetchOne(Int.self, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", [.text(key)]) ?? value
  }

  static func caseMissing(_ number: String) -> DomainError {
    DomainError(kind: .notFound, code: "case.not_found", arguments: [String(number.prefix(64))], field: "case_number")
  }

  static func ratingView(_ sql: any SQLConnection, _ rating: RatingRecord) throws -> RatingView {
    let row = try sql.fetchOne("SELECT department_code, \"window\", item_code FROM cases WHERE id = ?", [.integer(rating.caseId)])
    let number = try sql.fetchOne(String.self, "SELECT number FROM rectifications WHERE case_id = ?", [.integer(rating.caseId)])
    return RatingView(
      record: rating, departmentCode: try row?.decode(String?.self, at: 0) ?? "", window: try row?.decode(String?.self, at: 1) ?? "",
      itemCode: try row?.decode(String?.self, at: 2) ?? "", rectificationNumber: number)
  }

  static func rectificationView(_ sql: any SQLConnection, _ record: RectificationRecord, clock: SLAClock, now: Date) throws
    -> RectificationView
  {
    let departmentName =
      try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(record.departmentCode)])
      ?? record.departmentCode
    guard let rating = try RatingRecord.byCaseID(sql, record.caseId) else {
      throw DomainError(kind: .notFound, code: "rating.not_found", messageKey: "rating.not_found#missing", arguments: [record.caseNumber])
    }
    let pending = record.completedAt == nil && record.closedAt == nil
    let sla = pending ? SLAStatusSnapshot(try clock.status(of: record.timedWork, now: now), at: now) : nil
    return RectificationView(record: record, departmentName: departmentName, sla: sla, rating: try Self.ratingView(sql, rating))
  }
}
