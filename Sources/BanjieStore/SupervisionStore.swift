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
    return try await self.mutate(
      idempotency: key, method: "IssueSupervision", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
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
      // `table` is one of the three names above, never input.
      guard let subject = try sql.fetchOne("SELECT department_code, state FROM \(table) WHERE number = ?", [.text(number)])
      else { throw missing }
      let subjectState = try subject.decode(String.self, "state")
      let subjectDepartment = try subject.decode(String.self, "department_code")
      try new.subjectKind.checkOpen(state: subjectState, number: number)
      let department = new.departmentCode ?? subjectDepartment
      guard try sql.present("departments", "code", .text(department)) else {
        throw DomainError(
          kind: .invalidArgument, code: "supervision.unknown_department", arguments: [String(department.prefix(64))],
          field: "department_code")
      }
      let orderNumber = try Self.dailyNumber(
        sql, sequences: "supervision_number_sequences", prefix: "DB", regionCode: regionCode,
        day: clock.calendar.localDate(of: now))
      let status = try clock.status(clockStart: now, limit: .workingDays(new.limitWorkingDays), now: now)
      var record = SupervisionRecord(
        id: nil, number: orderNumber, subjectKind: new.subjectKind, subjectNumber: number, departmentCode: department,
        requiredAction: new.requiredAction, limitWorkingDays: new.limitWorkingDays, issuedAt: now, issuedBy: Self.actorName(actor),
        dueAt: status.due, colour: status.colour, state: .open, reply: "", evidence: "", repliedAt: nil, repliedBy: "",
        reopenReason: "", closedAt: nil, closedBy: "", closeNote: "", escalatedAt: nil, version: 1, updatedAt: now)
      record.id = try Self.insertSupervision(sql, record)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "supervision.issue", entity: "supervision", entityID: orderNumber,
        detail: [
          "subject_kind": new.subjectKind.rawValue, "subject": number, "department": department,
          "limit_working_days": String(new.limitWorkingDays), "required_action": new.requiredAction,
        ])
      return try Self.supervisionView(sql, record, clock: clock, now: now)
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
    try await self.mutate(
      idempotency: key, method: "supervision.\(action.rawValue)", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
      // Read in the writer, after any calendar import or settings change it ran before.
      let clock = currentClock()
      guard var record = try Self.supervision(sql, number: number) else {
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
      try Self.updateSupervision(sql, record)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "supervision.\(action.rawValue)", entity: "supervision", entityID: number, detail: detail)
      return try Self.supervisionView(sql, record, clock: clock, now: now)
    }
  }

  public func supervision(number: String, clock: SLAClock, now: Date) async throws -> SupervisionView? {
    try await self.read { sql in
      guard let record = try Self.supervision(sql, number: number) else { return nil }
      return try Self.supervisionView(sql, record, clock: clock, now: now)
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
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let department = filter.department {
        conditions.append("s.department_code = ?")
        arguments.append(.text(department))
      }
      if !filter.states.isEmpty {
        conditions.append("s.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.states.map(\.sqlValue)
      }
      if !filter.colours.isEmpty {
        conditions.append("s.colour IN (\(filter.colours.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.colours.map(\.sqlValue)
      }
      if let kind = filter.subjectKind {
        conditions.append("s.subject_kind = ?")
        arguments.append(kind.sqlValue)
      }
      if let subject = filter.subjectNumber {
        conditions.append("s.subject_number = ?")
        arguments.append(.text(subject))
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      // Built per call (a variable number of conditions and placeholders): never cached.
      let total =
        try sql.fetchAll(uncached: "SELECT COUNT(*) FROM supervision_orders s" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("s.number < ?")
        pageArguments.append(.text(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(SupervisionRecord.columns) FROM supervision_orders s\(pageWhere) ORDER BY s.number DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(SupervisionRecord.init(sqlRow:))
      let views = try records.map { try Self.supervisionView(sql, $0, clock: clock, now: now) }
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
    try await self.mutate { sql in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let open = try sql.fetchAll(
        "SELECT \(SupervisionRecord.columns) FROM supervision_orders WHERE state = ? AND (colour != ? OR escalated_at IS NULL)"
          + " ORDER BY number",
        [SupervisionState.open.sqlValue, SLAColour.red.sqlValue]
      ).map(SupervisionRecord.init(sqlRow:))
      for var record in open {
        let status = try clock.status(of: record.timedWork, now: now)
        let subject = "supervision \(record.number)"
        if status.colour != record.colour {
          let previous = record.colour
          record.colour = status.colour
          record.dueAt = status.due
          try sql.execute(
            "UPDATE supervision_orders SET colour = ?, due_at = ? WHERE id = ?",
            [record.colour.sqlValue, StoredDate(record.dueAt).sqlValue, record.id.sqlValue])
          try AuditLog.append(
            sql, at: now, actor: .system, action: "supervision.colour", entity: "supervision", entityID: record.number,
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
            alert.id = try Self.insertSupervisionAlert(sql, alert)
            alerts.append(alert)
          }
        }
        if status.colour == .red, record.escalatedAt == nil {
          record.escalatedAt = now
          try sql.execute(
            "UPDATE supervision_orders SET escalated_at = ? WHERE id = ?", [StoredDate(now).sqlValue, record.id.sqlValue])
          try AuditLog.append(
            sql, at: now, actor: .system, action: "supervision.escalate", entity: "supervision", entityID: record.number,
            detail: ["department": record.departmentCode, "subject": "\(record.subjectKind.rawValue) \(record.subjectNumber)"])
          var alert = AlertRecord(
            id: nil, at: now, kind: "supervision.escalated", subject: subject, departmentCode: record.departmentCode, colour: .red,
            message: "supervision \(record.number) on \(record.subjectKind.rawValue) \(record.subjectNumber) to department "
              + "\(record.departmentCode) is overdue and escalated to the office (due \(AuditLog.timestamp(status.due)))")
          alert.id = try Self.insertSupervisionAlert(sql, alert)
          alerts.append(alert)
        }
      }
      return alerts
    }
  }

  /// OPEN orders (waiting on their department) and those of them past their deadline now, for
  /// the dashboard; one department's when `department` is given.
  static func supervisionBacklog(_ db: Database, department: String?, now: Date) throws -> (open: Int, overdue: Int) {
    try Self.supervisionBacklog(SQLiteSQLConnection(db), department: department, now: now)
  }

  static func supervisionBacklog(_ sql: any SQLConnection, department: String?, now: Date) throws -> (open: Int, overdue: Int) {
    var scope = ""
    var scopeArguments: [SQLValue] = []
    if let department {
      scope = " AND department_code = ?"
      scopeArguments = [.text(department)]
    }
    // Two statements each, with or without the department: cached like any other.
    let open = try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM supervision_orders WHERE state = 'OPEN'" + scope, scopeArguments) ?? 0
    let overdue =
      try sql.fetchOne(
        Int.self, "SELECT COUNT(*) FROM supervision_orders WHERE state = 'OPEN' AND due_at < ?" + scope,
        [StoredDate(now).sqlValue] + scopeArguments) ?? 0
    return (open, overdue)
  }

  // MARK: Helpers

  static func supervisionNotFound(_ number: String) -> DomainError {
    DomainError(kind: .notFound, code: "supervision.not_found", arguments: [String(number.prefix(64))], field: "number")
  }

  /// "李明 (office, YSB)", as demands name who raised them.
  static func actorName(_ actor: Actor) -> String { "\(actor.person) (\(actor.role.rawValue), \(actor.organization))" }

  static func supervisionView(_ sql: any SQLConnection, _ record: SupervisionRecord, clock: SLAClock, now: Date) throws
    -> SupervisionView
  {
    let departmentName =
      try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(record.departmentCode)])
      ?? record.departmentCode
    let sla: SLAStatusSnapshot? =
      record.state == .closed ? nil : SLAStatusSnapshot(try clock.status(of: record.timedWork, now: now), at: now)
    return SupervisionView(record: record, departmentName: departmentName, sla: sla)
  }

  static func supervision(_ sql: any SQLConnection, number: String) throws -> SupervisionRecord? {
    try sql.fetchOne("SELECT \(SupervisionRecord.columns) FROM supervision_orders WHERE number = ?", [.text(number)])
      .map(SupervisionRecord.init(sqlRow:))
  }

  /// Inserts a new order; answers its id.
  static func insertSupervision(_ sql: any SQLConnection, _ record: SupervisionRecord) throws -> Int64? {
    try sql.fetchOne(Int64.self, SupervisionRecord.insertSQL, record.storedValues)
  }

  /// Writes every column of a stored order but its id.
  static func updateSupervision(_ sql: any SQLConnection, _ record: SupervisionRecord) throws {
    try sql.execute(SupervisionRecord.updateSQL, record.storedValues + [record.id.sqlValue])
  }

  /// Stores an alert the sweeper raises; answers its id.
  static func insertSupervisionAlert(_ sql: any SQLConnection, _ alert: AlertRecord) throws -> Int64? {
    try AlertRecord.insert(sql, alert)
  }
}

extension SupervisionState: SQLValueConvertible {}
extension SupervisionSubjectKind: SQLValueConvertible {}

extension SupervisionRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columns = "id, " + Self.storedColumns.joined(separator: ", ")

  /// The columns besides `id`, in the order of `storedValues`: the one list the INSERT and the
  /// UPDATE are made from.
  static let storedColumns = [
    "number", "subject_kind", "subject_number", "department_code", "required_action", "limit_working_days", "issued_at", "issued_by",
    "due_at", "colour", "state", "reply", "evidence", "replied_at", "replied_by", "reopen_reason", "closed_at", "closed_by",
    "close_note", "escalated_at", "version", "updated_at",
  ]

  static let insertSQL =
    "INSERT INTO supervision_orders (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"

  static let updateSQL = "UPDATE supervision_orders SET \(Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"

  /// The values of `storedColumns`, as they are stored (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .text(self.number), self.subjectKind.sqlValue, .text(self.subjectNumber), .text(self.departmentCode), .text(self.requiredAction),
      self.limitWorkingDays.sqlValue, StoredDate(self.issuedAt).sqlValue, .text(self.issuedBy), StoredDate(self.dueAt).sqlValue,
      self.colour.sqlValue, self.state.sqlValue, .text(self.reply), .text(self.evidence), self.repliedAt.stored.sqlValue,
      .text(self.repliedBy), .text(self.reopenReason), self.closedAt.stored.sqlValue, .text(self.closedBy), .text(self.closeNote),
      self.escalatedAt.stored.sqlValue, self.version.sqlValue, StoredDate(self.updatedAt).sqlValue,
    ]
  }

  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode("id"), number: try row.decode("number"), subjectKind: try row.decode("subject_kind"),
      subjectNumber: try row.decode("subject_number"), departmentCode: try row.decode("department_code"),
      requiredAction: try row.decode("required_action"), limitWorkingDays: try row.decode("limit_working_days"),
      issuedAt: try row.decode(StoredDate.self, "issued_at").date, issuedBy: try row.decode("issued_by"),
      dueAt: try row.decode(StoredDate.self, "due_at").date, colour: try row.decode("colour"), state: try row.decode("state"),
      reply: try row.decode("reply"), evidence: try row.decode("evidence"), repliedAt: try row.decode(StoredDate?.self, "replied_at")?.date,
      repliedBy: try row.decode("replied_by"), reopenReason: try row.decode("reopen_reason"),
      closedAt: try row.decode(StoredDate?.self, "closed_at")?.date, closedBy: try row.decode("closed_by"),
      closeNote: try row.decode("close_note"), escalatedAt: try row.decode(StoredDate?.self, "escalated_at")?.date,
      version: try row.decode("version"), updatedAt: try row.decode(StoredDate.self, "updated_at").date)
  }
}
