public import BanjieCore
public import Foundation

/// Visits (走访) and enterprise demands (诉求): each mutation one transaction with its audit row.
extension BanjieStore {
  // MARK: Visits

  /// Records a visit and the demands raised during it, all or nothing. `authorize` sees the
  /// enterprise's liaisons inside the transaction.
  public func recordVisit(
    uscc: String, visitedOn: LocalDate, notes: String, demands: [NewDemand], regionCode: String, actor: Actor,
    authorize: @escaping @Sendable (EnterpriseAccess) throws -> Void, clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> VisitView {
    try FieldRules.text(notes, field: "notes", max: 4000)
    try Self.checkDemands(demands)
    return try await self.mutate(idempotency: key, method: "RecordVisit", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let (enterprise, access) = try Self.access(sql, uscc: uscc)
      try authorize(access)
      var visit = VisitRecord(
        id: nil, uscc: uscc, liaisonOrganization: actor.organization, liaisonPerson: actor.person,
        visitedOn: visitedOn.description, notes: notes, recordedAt: now)
      visit.id = try sql.fetchOne(
        Int64.self,
        "INSERT INTO visits (uscc, liaison_organization, liaison_person, visited_on, notes, recorded_at) VALUES (?, ?, ?, ?, ?, ?)"
          + " RETURNING id",
        [
          .text(visit.uscc), .text(visit.liaisonOrganization), .text(visit.liaisonPerson), .text(visit.visitedOn), .text(visit.notes),
          StoredDate(visit.recordedAt).sqlValue,
        ])
      var numbers: [String] = []
      for demand in demands {
        let record = try Self.insertDemand(
          sql, demand, uscc: uscc, visitID: visit.id, regionCode: regionCode, actor: actor, clock: clock, now: now)
        numbers.append(record.number)
      }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "visit.record", entity: "visit", entityID: String(visit.id ?? 0),
        detail: ["uscc": uscc, "visited_on": visitedOn.description, "demands": numbers.joined(separator: ",")])
      return VisitView(record: visit, enterpriseName: enterprise.name, demandNumbers: numbers)
    }
  }

  public struct VisitFilter: Sendable {
    public var uscc: String?
    public var from: LocalDate?
    public var to: LocalDate?
    /// Only visits of enterprises assigned to this official.
    public var assignedTo: LiaisonRef?
    public var pageSize = 50
    public var after: Int64?
    public init() {}
  }

  public func listVisits(_ filter: VisitFilter) async throws -> (views: [VisitView], total: Int, next: String?) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let u = filter.uscc {
        conditions.append("v.uscc = ?")
        arguments.append(.text(u))
      }
      if let f = filter.from {
        conditions.append("v.visited_on >= ?")
        arguments.append(.text(f.description))
      }
      if let t = filter.to {
        conditions.append("v.visited_on <= ?")
        arguments.append(.text(t.description))
      }
      if let l = filter.assignedTo {
        conditions.append("EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = v.uscc AND el.organization = ? AND el.person = ?)")
        arguments += [.text(l.organization), .text(l.person)]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      // Built per call (a variable number of conditions and placeholders): never cached.
      let total = try sql.fetchAll(uncached: "SELECT COUNT(*) FROM visits v" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("v.id < ?")
        pageArguments.append(after.sqlValue)
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(VisitRecord.columns) FROM visits v\(pageWhere) ORDER BY v.id DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(VisitRecord.init(sqlRow:))
      let views = try records.map { visit in
        VisitView(
          record: visit,
          enterpriseName: try sql.fetchOne(String.self, "SELECT name FROM enterprises WHERE uscc = ?", [.text(visit.uscc)]) ?? visit.uscc,
          demandNumbers: try sql.fetchAll(String.self, "SELECT number FROM demands WHERE visit_id = ? ORDER BY id", [visit.id.sqlValue]))
      }
      return (views, total, records.count == filter.pageSize ? records.last?.id.map(String.init) : nil)
    }
  }

  // MARK: Demands

  public func raiseDemand(
    uscc: String, demand: NewDemand, regionCode: String, actor: Actor, authorize: @escaping @Sendable (EnterpriseAccess) throws -> Void,
    clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> DemandView {
    try Self.checkDemands([demand])
    return try await self.mutate(idempotency: key, method: "RaiseDemand", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let (_, access) = try Self.access(sql, uscc: uscc)
      try authorize(access)
      let record = try Self.insertDemand(
        sql, demand, uscc: uscc, visitID: nil, regionCode: regionCode, actor: actor, clock: clock, now: now)
      return try Self.demandView(sql, record, clock: clock, now: now)
    }
  }

  /// What a transition carries besides the action itself.
  public struct DemandChange: Sendable {
    public var department: String?
    public var handler: String = ""
    public var answer: String = ""
    public var note: String = ""
    public init() {}
  }

  /// Applies one transition: authorizes against the stored demand, checks the version, lets
  /// the state machine decide, and audits, in one transaction.
  public func transitionDemand(
    number: String, action: DemandAction, change: DemandChange, expectedVersion: Int64?, actor: Actor,
    authorize: @escaping @Sendable (DemandRecord, EnterpriseAccess) throws -> Void, clock: SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> DemandView {
    try await self.mutate(idempotency: key, method: "demand.\(action.name)", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      guard var record = try DemandRecord.byNumber(sql, number) else { throw Self.demandNotFound(number) }
      let (_, access) = try Self.access(sql, uscc: record.uscc)
      try authorize(record, access)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "demand.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      let from = record.state
      record.state = try DemandStateMachine.apply(action, to: record.state, number: number)
      var detail = ["from": from.rawValue, "to": record.state.rawValue]
      switch action {
      case .assign:
        if let department = change.department, department != record.departmentCode {
          guard try sql.present("departments", "code", .text(department)) else {
            throw DomainError(kind: .invalidArgument, code: "demand.unknown_department", arguments: [department], field: "department_code")
          }
          detail["department"] = "\(record.departmentCode) → \(department)"
          record.departmentCode = department
        }
        record.handler = change.handler
        detail["handler"] = change.handler
      case .answer:
        record.answer = change.answer
        record.answeredAt = now
        detail["answer"] = change.answer
      case .close(let satisfaction):
        record.satisfaction = satisfaction
        record.closeComment = change.note
        record.closedAt = now
        detail["satisfaction"] = String(satisfaction)
      case .reopen:
        record.reopenReason = change.note
        record.answeredAt = nil
        record.clockStart = now
        detail["reason"] = change.note
      }
      let status = try clock.status(of: record.timedWork, now: now)
      record.dueAt = status.due
      record.colour = status.colour
      record.version += 1
      record.updatedAt = now
      _ = try sql.execute(DemandRecord.updateSQL, record.storedValues + [record.id.sqlValue])
      try AuditLog.append(sql, at: now, actor: actor, action: "demand.\(action.name)", entity: "demand", entityID: number, detail: detail)
      return try Self.demandView(sql, record, clock: clock, now: now)
    }
  }

  public func demand(number: String, clock: SLAClock, now: Date) async throws -> (DemandView, EnterpriseAccess)? {
    try await self.read { sql in
      guard let record = try DemandRecord.byNumber(sql, number) else { return nil }
      let (_, access) = try Self.access(sql, uscc: record.uscc)
      return (try Self.demandView(sql, record, clock: clock, now: now), access)
    }
  }

  public struct DemandFilter: Sendable {
    public var uscc: String?
    public var states: [DemandState] = []
    public var colours: [SLAColour] = []
    public var department: String?
    public var assignedTo: LiaisonRef?
    /// Raised on or after this Asia/Shanghai day.
    public var raisedFrom: LocalDate?
    /// Raised on or before this Asia/Shanghai day.
    public var raisedTo: LocalDate?
    public var category: DemandCategory?
    public var pageSize = 50
    public var after: String?
    public init() {}
  }

  /// A page of demands, newest first.
  public func listDemands(_ filter: DemandFilter, clock: SLAClock, now: Date) async throws -> (
    views: [DemandView], total: Int, next: String?
  ) {
    // A day D runs from D 00:00 to D+1 00:00 local time; the stored instants are compared with those.
    let midnight = try TimeOfDay(hour: 0)
    let raisedFrom = filter.raisedFrom.map { clock.calendar.date($0, at: midnight) }
    let raisedBefore = filter.raisedTo.map { clock.calendar.date($0.adding(days: 1), at: midnight) }
    return try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let u = filter.uscc {
        conditions.append("d.uscc = ?")
        arguments.append(.text(u))
      }
      if let raisedFrom {
        conditions.append("d.raised_at >= ?")
        arguments.append(StoredDate(raisedFrom).sqlValue)
      }
      if let raisedBefore {
        conditions.append("d.raised_at < ?")
        arguments.append(StoredDate(raisedBefore).sqlValue)
      }
      if let category = filter.category {
        conditions.append("d.category = ?")
        arguments.append(category.sqlValue)
      }
      if let dep = filter.department {
        conditions.append("d.department_code = ?")
        arguments.append(.text(dep))
      }
      if !filter.states.isEmpty {
        conditions.append("d.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.states.map(\.sqlValue)
      }
      if !filter.colours.isEmpty {
        conditions.append("d.colour IN (\(filter.colours.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.colours.map(\.sqlValue)
      }
      if let l = filter.assignedTo {
        conditions.append("EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = d.uscc AND el.organization = ? AND el.person = ?)")
        arguments += [.text(l.organization), .text(l.person)]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      // Built per call (a variable number of conditions and placeholders): never cached.
      let total = try sql.fetchAll(uncached: "SELECT COUNT(*) FROM demands d" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("d.number < ?")
        pageArguments.append(.text(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(DemandRecord.columns) FROM demands d\(pageWhere) ORDER BY d.number DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(DemandRecord.init(sqlRow:))
      let views = try records.map { try Self.demandView(sql, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.number : nil)
    }
  }

  /// The demand sweeper: moves the colours of demands waiting on a department forward and
  /// raises "demand.yellow" / "demand.red" alerts (stored, returned for publishing).
  public func sweepDemands(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord] {
    try await self.mutate { sql in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let waiting = [DemandState.open, .assigned, .reopened].map(\.rawValue)
      // Ordered by id, so that both engines raise the alerts in the same order.
      let open = try sql.fetchAll(
        "SELECT \(DemandRecord.columns) FROM demands WHERE state IN (?, ?, ?) AND colour != ? ORDER BY id",
        waiting.map(SQLValue.text) + [SLAColour.red.sqlValue]
      ).map(DemandRecord.init(sqlRow:))
      for var record in open {
        let status = try clock.status(of: record.timedWork, now: now)
        guard status.colour != record.colour else { continue }
        let previous = record.colour
        record.colour = status.colour
        record.dueAt = status.due
        _ = try sql.execute(
          "UPDATE demands SET colour = ?, due_at = ? WHERE id = ?",
          [record.colour.sqlValue, StoredDate(record.dueAt).sqlValue, record.id.sqlValue])
        try AuditLog.append(
          sql, at: now, actor: .system, action: "demand.colour", entity: "demand", entityID: record.number,
          detail: ["from": previous.rawValue, "to": status.colour.rawValue])
        let text: String
        switch status.colour {
        case .red: text = "demand \(record.number) of \(record.uscc) is overdue (due \(AuditLog.timestamp(status.due)))"
        case .yellow:
          text =
            "demand \(record.number) has used \(Int(status.fractionUsed * 100)) % of its working time (due \(AuditLog.timestamp(status.due)))"
        case .green: continue
        }
        var alert = AlertRecord(
          id: nil, at: now, kind: "demand.\(status.colour.rawValue)", subject: "demand \(record.number)",
          departmentCode: record.departmentCode, colour: status.colour, message: text)
        alert.id = try sql.fetchOne(
          Int64.self,
          "INSERT INTO alerts (at, kind, subject, department_code, colour, message) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
          [
            StoredDate(alert.at).sqlValue, .text(alert.kind), .text(alert.subject), .text(alert.departmentCode), alert.colour.sqlValue,
            .text(alert.message),
          ])
        alerts.append(alert)
      }
      return alerts
    }
  }

  // MARK: Helpers

  static func demandNotFound(_ number: String) -> DomainError {
    DomainError(kind: .notFound, code: "demand.not_found", arguments: [String(number.prefix(64))], field: "number")
  }

  static func checkDemands(_ demands: [NewDemand]) throws(DomainError) {
    guard demands.count <= 50 else {
      throw DomainError(kind: .invalidArgument, code: "demand.too_many", field: "demands")
    }
    for demand in demands {
      try FieldRules.text(demand.description, field: "description", max: 4000)
      try FieldRules.code(demand.departmentCode, field: "department_code")
      if let limit = demand.limitWorkingDays { try DemandStateMachine.checkLimit(limit) }
    }
  }

  static func insertDemand(
    _ sql: any SQLConnection, _ demand: NewDemand, uscc: String, visitID: Int64?, regionCode: String, actor: Actor, clock: SLAClock,
    now: Date
  ) throws -> DemandRecord {
    guard try sql.present("departments", "code", .text(demand.departmentCode)) else {
      throw DomainError(
        kind: .invalidArgument, code: "demand.unknown_department", messageKey: "demand.unknown_department#see_catalog",
        arguments: [demand.departmentCode], field: "department_code")
    }
    let limit =
      try demand.limitWorkingDays
      ?? sql.fetchOne(Int.self, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'demands.limit_working_days'") ?? 10
    let number = try Self.dailyNumber(
      sql, sequences: "demand_number_sequences", prefix: "SQ", regionCode: regionCode,
      day: clock.calendar.localDate(of: now))
    let status = try clock.status(clockStart: now, limit: .workingDays(limit), now: now)
    var record = DemandRecord(
      id: nil, number: number, uscc: uscc, category: demand.category, description: demand.description,
      departmentCode: demand.departmentCode, limitWorkingDays: limit, state: .open, handler: "", answer: "", reopenReason: "",
      satisfaction: nil, closeComment: "", raisedBy: "\(actor.person) (\(actor.role.rawValue), \(actor.organization))", visitId: visitID,
      raisedAt: now, clockStart: now, answeredAt: nil, closedAt: nil, dueAt: status.due, colour: status.colour, version: 1, updatedAt: now)
    record.id = try sql.fetchOne(Int64.self, DemandRecord.insertSQL, record.storedValues)
    try AuditLog.append(
      sql, at: now, actor: actor, action: "demand.raise", entity: "demand", entityID: number,
      detail: [
        "uscc": uscc, "category": demand.category.rawValue, "department": demand.departmentCode, "limit_working_days": String(limit),
      ])
    return record
  }

  static func demandView(_ sql: any SQLConnection, _ record: DemandRecord, clock: SLAClock, now: Date) throws -> DemandView {
    let enterpriseName = try sql.fetchOne(String.self, "SELECT name FROM enterprises WHERE uscc = ?", [.text(record.uscc)]) ?? record.uscc
    let departmentName =
      try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(record.departmentCode)]) ?? record.departmentCode
    let sla: SLAStatusSnapshot? =
      record.state == .closed ? nil : SLAStatusSnapshot(try clock.status(of: record.timedWork, now: now), at: now)
    return DemandView(record: record, enterpriseName: enterpriseName, departmentName: departmentName, sla: sla)
  }
}

extension DemandCategory: SQLValueConvertible {}
extension DemandState: SQLValueConvertible {}

extension VisitRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columns = "id, uscc, liaison_organization, liaison_person, visited_on, notes, recorded_at"

  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode("id"), uscc: try row.decode("uscc"), liaisonOrganization: try row.decode("liaison_organization"),
      liaisonPerson: try row.decode("liaison_person"), visitedOn: try row.decode("visited_on"), notes: try row.decode("notes"),
      recordedAt: try row.decode(StoredDate.self, "recorded_at").date)
  }
}

extension DemandRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columns = "id, " + Self.storedColumns.joined(separator: ", ")

  /// The columns besides `id`, in the order of `storedValues`: the one list the INSERT and the
  /// UPDATE are made from.
  static let storedColumns = [
    "number", "uscc", "category", "description", "department_code", "limit_working_days", "state", "handler", "answer", "reopen_reason",
    "satisfaction", "close_comment", "raised_by", "visit_id", "raised_at", "clock_start", "answered_at", "closed_at", "due_at", "colour",
    "version", "updated_at",
  ]

  static let insertSQL =
    "INSERT INTO demands (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"

  static let updateSQL = "UPDATE demands SET \(Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"

  /// The values of `storedColumns`, as they are stored (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .text(self.number), .text(self.uscc), self.category.sqlValue, .text(self.description), .text(self.departmentCode),
      self.limitWorkingDays.sqlValue, self.state.sqlValue, .text(self.handler), .text(self.answer), .text(self.reopenReason),
      self.satisfaction.sqlValue, .text(self.closeComment), .text(self.raisedBy), self.visitId.sqlValue, StoredDate(self.raisedAt).sqlValue,
      StoredDate(self.clockStart).sqlValue, self.answeredAt.stored.sqlValue, self.closedAt.stored.sqlValue, StoredDate(self.dueAt).sqlValue,
      self.colour.sqlValue, self.version.sqlValue, StoredDate(self.updatedAt).sqlValue,
    ]
  }

  static func byNumber(_ sql: any SQLConnection, _ number: String) throws -> DemandRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM demands WHERE number = ?", [.text(number)]).map(DemandRecord.init(sqlRow:))
  }

  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode("id"), number: try row.decode("number"), uscc: try row.decode("uscc"), category: try row.decode("category"),
      description: try row.decode("description"), departmentCode: try row.decode("department_code"),
      limitWorkingDays: try row.decode("limit_working_days"), state: try row.decode("state"), handler: try row.decode("handler"),
      answer: try row.decode("answer"), reopenReason: try row.decode("reopen_reason"), satisfaction: try row.decode("satisfaction"),
      closeComment: try row.decode("close_comment"), raisedBy: try row.decode("raised_by"), visitId: try row.decode("visit_id"),
      raisedAt: try row.decode(StoredDate.self, "raised_at").date, clockStart: try row.decode(StoredDate.self, "clock_start").date,
      answeredAt: try row.decode(StoredDate?.self, "answered_at")?.date, closedAt: try row.decode(StoredDate?.self, "closed_at")?.date,
      dueAt: try row.decode(StoredDate.self, "due_at").date, colour: try row.decode("colour"), version: try row.decode("version"),
      updatedAt: try row.decode(StoredDate.self, "updated_at").date)
  }
}
