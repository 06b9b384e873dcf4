public import BanjieCore
public import Foundation
public import GRDB

/// A supervision order (督办) as stored: table `supervision_orders` (migration v8-supervision).
public struct SupervisionRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "supervision_orders"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  /// e.g. DB-370830-20261130-0001
  public var number: String
  public var subjectKind: SupervisionSubjectKind
  public var subjectNumber: String
  /// The addressee department (承办部门).
  public var departmentCode: String
  /// What the department must do (督办事项).
  public var requiredAction: String
  public var limitWorkingDays: Int
  public var issuedAt: Date
  public var issuedBy: String
  /// The original deadline: the limit counted from the issue. Reopening does not move it.
  public var dueAt: Date
  public var colour: SLAColour
  public var state: SupervisionState
  /// The department's last reply and its evidence (佐证材料); kept when the office sends it back.
  public var reply: String
  public var evidence: String
  /// When the reply that stands was given: nil while OPEN, also after a reopening.
  public var repliedAt: Date?
  public var repliedBy: String
  /// Why the office sent the last reply back (退回重办), empty if it never did.
  public var reopenReason: String
  public var closedAt: Date?
  public var closedBy: String
  public var closeNote: String
  /// When the sweeper escalated the overdue order to the office's alert stream (once).
  public var escalatedAt: Date?
  public var version: Int64
  public var updatedAt: Date

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

  public var timedWork: TimedWork {
    SupervisionStateMachine.timedWork(issuedAt: self.issuedAt, limitWorkingDays: self.limitWorkingDays, repliedAt: self.repliedAt)
  }
}

/// An order with its department's name and its SLA computed at a moment (none once closed).
public struct SupervisionView: Codable, Sendable, Hashable {
  public var record: SupervisionRecord
  public var departmentName: String
  public var sla: SLAStatusSnapshot?
}

/// What the office orders.
public struct NewSupervision: Sendable, Hashable {
  public var subjectKind: SupervisionSubjectKind
  public var subjectNumber: String
  /// nil: the subject's own department.
  public var departmentCode: String?
  public var requiredAction: String
  public var limitWorkingDays: Int

  public init(
    subjectKind: SupervisionSubjectKind, subjectNumber: String, departmentCode: String?, requiredAction: String,
    limitWorkingDays: Int = SupervisionStateMachine.defaultLimitWorkingDays
  ) {
    self.subjectKind = subjectKind
    self.subjectNumber = subjectNumber
    self.departmentCode = departmentCode
    self.requiredAction = requiredAction
    self.limitWorkingDays = limitWorkingDays
  }
}

/// 督办: the office issues, closes and reopens; the addressee department replies; the sweeper
/// colours open orders and escalates red ones. Each mutation one transaction with its audit row.
extension BanjieStore {
  /// Issues an order on an open case, demand or rectification. Refused, with nothing written,
  /// when the subject does not exist (NOT_FOUND) or is finished (FAILED_PRECONDITION), both
  /// naming the subject's field, or when the department does not exist (INVALID_ARGUMENT).
  public func issueSupervision(
    _ new: NewSupervision, regionCode: String, actor: Actor, clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date,
    key: IdempotencyKey?
  ) async throws -> SupervisionView {
    try SupervisionStateMachine.checkLimit(new.limitWorkingDays)
    return try await self.write(idempotency: key, method: "IssueSupervision", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      // Read in the writer, after any calendar import or settings change it ran before.
      let clock = currentClock()
      let field = new.subjectKind.numberField
      let table: String
      let missing: DomainError
      let number = new.subjectNumber
      switch new.subjectKind {
      case .serviceCase:
        table = "cases"
        missing = DomainError(kind: .notFound, code: "case.not_found", arguments: [String(number.prefix(64))], field: field)
      case .demand:
        table = "demands"
        missing = DomainError(kind: .notFound, code: "demand.not_found", arguments: [String(number.prefix(64))], field: field)
      case .rectification:
        table = "rectifications"
        missing = DomainError(kind: .notFound, code: "rectification.not_found", arguments: [String(number.prefix(64))], field: field)
      }
      guard let subject = try Row.fetchOne(db, sql: "SELECT department_code, state FROM \(table) WHERE number = ?", arguments: [number])
      else { throw missing }
      let subjectState: String = subject["state"]
      let subjectDepartment: String = subject["department_code"]
      try new.subjectKind.checkOpen(state: subjectState, number: number)
      let department = new.departmentCode ?? subjectDepartment
      guard try DepartmentRecord.present(db, "code", department) else {
        throw DomainError(
          kind: .invalidArgument, code: "supervision.unknown_department", arguments: [String(department.prefix(64))],
          field: "department_code")
      }
      let orderNumber = try Self.dailyNumber(
        SQLiteSQLConnection(db), sequences: "supervision_number_sequences", prefix: "DB", regionCode: regionCode,
        day: clock.calendar.localDate(of: now))
      let status = try clock.status(clockStart: now, limit: .workingDays(new.limitWorkingDays), now: now)
      var record = SupervisionRecord(
        id: nil, number: orderNumber, subjectKind: new.subjectKind, subjectNumber: number, departmentCode: department,
        requiredAction: new.requiredAction, limitWorkingDays: new.limitWorkingDays, issuedAt: now, issuedBy: Self.actorName(actor),
        dueAt: status.due, colour: status.colour, state: .open, reply: "", evidence: "", repliedAt: nil, repliedBy: "",
        reopenReason: "", closedAt: nil, closedBy: "", closeNote: "", escalatedAt: nil, version: 1, updatedAt: now)
      try record.insert(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "supervision.issue", entity: "supervision", entityID: orderNumber,
        detail: [
          "subject_kind": new.subjectKind.rawValue, "subject": number, "department": department,
          "limit_working_days": String(new.limitWorkingDays), "required_action": new.requiredAction,
        ])
      return try Self.supervisionView(db, record, clock: clock, now: now)
    }
  }

  /// What a transition carries besides the action itself.
  public struct SupervisionChange: Sendable {
    public var reply = ""
    public var evidence = ""
    /// The office's closing note, or its reason for sending the reply back.
    public var note = ""
    public init() {}
  }

  /// Applies one transition: authorizes against the stored order, checks the version, lets the
  /// state machine decide, recomputes the colour and audits, in one transaction.
  public func transitionSupervision(
    number: String, action: SupervisionAction, change: SupervisionChange, expectedVersion: Int64?, actor: Actor,
    authorize: @escaping @Sendable (SupervisionRecord) throws -> Void, clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock,
    now: Date,
    key: IdempotencyKey?
  ) async throws -> SupervisionView {
    try await self.write(
      idempotency: key, method: "supervision.\(action.rawValue)", encode: Self.encoded, decode: Self.decoded, now: now
    ) { db in
      // Read in the writer, after any calendar import or settings change it ran before.
      let clock = currentClock()
      guard var record = try SupervisionRecord.one(db, "number", number) else {
        throw Self.supervisionNotFound(number)
      }
      try authorize(record)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "supervision.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      let from = record.state
      record.state = try SupervisionStateMachine.apply(action, to: record.state, number: number)
      var detail = ["from": from.rawValue, "to": record.state.rawValue]
      switch action {
      case .reply:
        record.reply = change.reply
        record.evidence = change.evidence
        record.repliedAt = now
        record.repliedBy = Self.actorName(actor)
        detail["reply"] = change.reply
        if !change.evidence.isEmpty { detail["evidence"] = change.evidence }
      case .close:
        record.closedAt = now
        record.closedBy = Self.actorName(actor)
        record.closeNote = change.note
        if !change.note.isEmpty { detail["note"] = change.note }
      case .reopen:
        // The reply no longer stands: the clock runs again against the original deadline.
        record.repliedAt = nil
        record.reopenReason = change.note
        detail["reason"] = change.note
      }
      let status = try clock.status(of: record.timedWork, now: now)
      record.dueAt = status.due
      record.colour = status.colour
      record.version += 1
      record.updatedAt = now
      try record.update(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "supervision.\(action.rawValue)", entity: "supervision", entityID: number, detail: detail)
      return try Self.supervisionView(db, record, clock: clock, now: now)
    }
  }

  public func supervision(number: String, clock: SLAClock, now: Date) async throws -> SupervisionView? {
    try await self.pool.read { db in
      guard let record = try SupervisionRecord.one(db, "number", number) else { return nil }
      return try Self.supervisionView(db, record, clock: clock, now: now)
    }
  }

  public struct SupervisionFilter: Sendable {
    public var department: String?
    public var states: [SupervisionState] = []
    /// By the stored colour (kept by transitions and the sweeper's full pass).
    public var colours: [SLAColour] = []
    public var subjectKind: SupervisionSubjectKind?
    public var subjectNumber: String?
    public var pageSize = 50
    public var after: String?
    public init() {}
  }

  /// A page of orders, newest first.
  public func listSupervisions(_ filter: SupervisionFilter, clock: SLAClock, now: Date) async throws -> (
    views: [SupervisionView], total: Int, next: String?
  ) {
    try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let department = filter.department {
        conditions.append("s.department_code = ?")
        arguments += [department]
      }
      if !filter.states.isEmpty {
        conditions.append("s.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(filter.states.map(\.rawValue))
      }
      if !filter.colours.isEmpty {
        conditions.append("s.colour IN (\(filter.colours.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(filter.colours.map(\.rawValue))
      }
      if let kind = filter.subjectKind {
        conditions.append("s.subject_kind = ?")
        arguments += [kind.rawValue]
      }
      if let subject = filter.subjectNumber {
        conditions.append("s.subject_number = ?")
        arguments += [subject]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM supervision_orders s" + whereClause, arguments: arguments) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("s.number < ?")
        pageArguments += [after]
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try SupervisionRecord.fetchAll(
        db, sql: "SELECT s.* FROM supervision_orders s\(pageWhere) ORDER BY s.number DESC LIMIT ?",
        arguments: pageArguments + [filter.pageSize])
      let views = try records.map { try Self.supervisionView(db, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.number : nil)
    }
  }

  /// The supervision sweeper: moves the colours of OPEN orders forward with "supervision.yellow" /
  /// "supervision.red" alerts, and escalates each order the first time it is seen red with a
  /// "supervision.escalated" alert (also one that went red by being sent back after its
  /// deadline), setting `escalated_at` once. Alerts carry the addressee's department, so its
  /// clerks and the office (who sees every alert) both get them.
  public func sweepSupervision(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws
    -> [AlertRecord]
  {
    try await self.commits.write { db in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let open = try SupervisionRecord.fetchAll(
        db.cachedStatement(
          sql: "SELECT * FROM supervision_orders WHERE state = ? AND (colour != ? OR escalated_at IS NULL) ORDER BY number"),
        arguments: [SupervisionState.open.rawValue, SLAColour.red.rawValue])
      for var record in open {
        let status = try clock.status(of: record.timedWork, now: now)
        let subject = "supervision \(record.number)"
        if status.colour != record.colour {
          let previous = record.colour
          record.colour = status.colour
          record.dueAt = status.due
          try record.update(db, columns: ["colour", "due_at"])
          try AuditLog.append(
            db, at: now, actor: .system, action: "supervision.colour", entity: "supervision", entityID: record.number,
            detail: ["from": previous.rawValue, "to": status.colour.rawValue])
          var text: String?
          switch status.colour {
          case .red: text = "supervision \(record.number) is overdue (due \(AuditLog.timestamp(status.due)))"
          case .yellow:
            text =
              "supervision \(record.number) has used \(Int(status.fractionUsed * 100)) % of its working time (due \(AuditLog.timestamp(status.due)))"
          case .green: text = nil
          }
          if let text {
            var alert = AlertRecord(
              id: nil, at: now, kind: "supervision.\(status.colour.rawValue)", subject: subject, departmentCode: record.departmentCode,
              colour: status.colour, message: text)
            try alert.insert(db)
            alerts.append(alert)
          }
        }
        if status.colour == .red, record.escalatedAt == nil {
          record.escalatedAt = now
          try record.update(db, columns: ["escalated_at"])
          try AuditLog.append(
            db, at: now, actor: .system, action: "supervision.escalate", entity: "supervision", entityID: record.number,
            detail: ["department": record.departmentCode, "subject": "\(record.subjectKind.rawValue) \(record.subjectNumber)"])
          var alert = AlertRecord(
            id: nil, at: now, kind: "supervision.escalated", subject: subject, departmentCode: record.departmentCode, colour: .red,
            message: "supervision \(record.number) on \(record.subjectKind.rawValue) \(record.subjectNumber) to department "
              + "\(record.departmentCode) is overdue and escalated to the office (due \(AuditLog.timestamp(status.due)))")
          try alert.insert(db)
          alerts.append(alert)
        }
      }
      return alerts
    }
  }

  /// OPEN orders (waiting on their department) and those of them past their deadline now, for
  /// the dashboard; one department's when `department` is given.
  static func supervisionBacklog(_ db: Database, department: String?, now: Date) throws -> (open: Int, overdue: Int) {
    var scope = ""
    var scopeArguments: StatementArguments = []
    if let department {
      scope = " AND department_code = ?"
      scopeArguments = [department]
    }
    let open =
      try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM supervision_orders WHERE state = 'OPEN'" + scope, arguments: scopeArguments) ?? 0
    let overdue =
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM supervision_orders WHERE state = 'OPEN' AND due_at < ?" + scope,
        arguments: [now] + scopeArguments) ?? 0
    return (open, overdue)
  }

  // MARK: Helpers

  static func supervisionNotFound(_ number: String) -> DomainError {
    DomainError(kind: .notFound, code: "supervision.not_found", arguments: [String(number.prefix(64))], field: "number")
  }

  /// "李明 (office, YSB)", as demands name who raised them.
  static func actorName(_ actor: Actor) -> String { "\(actor.person) (\(actor.role.rawValue), \(actor.organization))" }

  static func supervisionView(_ db: Database, _ record: SupervisionRecord, clock: SLAClock, now: Date) throws -> SupervisionView {
    let departmentName =
      try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM departments WHERE code = ?"), arguments: [record.departmentCode])
      ?? record.departmentCode
    let sla: SLAStatusSnapshot? =
      record.state == .closed ? nil : SLAStatusSnapshot(try clock.status(of: record.timedWork, now: now), at: now)
    return SupervisionView(record: record, departmentName: departmentName, sla: sla)
  }
}
