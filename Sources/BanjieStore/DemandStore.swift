public import BanjieCore
public import Foundation
import GRDB

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
    return try await self.write(idempotency: key, method: "RecordVisit", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      let (enterprise, access) = try Self.access(db, uscc: uscc)
      try authorize(access)
      var visit = VisitRecord(
        id: nil, uscc: uscc, liaisonOrganization: actor.organization, liaisonPerson: actor.person,
        visitedOn: visitedOn.description, notes: notes, recordedAt: now)
      try visit.insert(db)
      var numbers: [String] = []
      for demand in demands {
        let record = try Self.insertDemand(
          db, demand, uscc: uscc, visitID: visit.id, regionCode: regionCode, actor: actor, clock: clock, now: now)
        numbers.append(record.number)
      }
      try AuditLog.append(
        db, at: now, actor: actor, action: "visit.record", entity: "visit", entityID: String(visit.id ?? 0),
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
    try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let u = filter.uscc {
        conditions.append("v.uscc = ?")
        arguments += [u]
      }
      if let f = filter.from {
        conditions.append("v.visited_on >= ?")
        arguments += [f.description]
      }
      if let t = filter.to {
        conditions.append("v.visited_on <= ?")
        arguments += [t.description]
      }
      if let l = filter.assignedTo {
        conditions.append("EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = v.uscc AND el.organization = ? AND el.person = ?)")
        arguments += [l.organization, l.person]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM visits v" + whereClause, arguments: arguments) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("v.id < ?")
        pageArguments += [after]
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try VisitRecord.fetchAll(
        db, sql: "SELECT v.* FROM visits v\(pageWhere) ORDER BY v.id DESC LIMIT ?",
        arguments: pageArguments + [filter.pageSize])
      let views = try records.map { visit in
        VisitView(
          record: visit,
          enterpriseName: try String.fetchOne(
            db.cachedStatement(sql: "SELECT name FROM enterprises WHERE uscc = ?"), arguments: [visit.uscc])
            ?? visit.uscc,
          demandNumbers: try String.fetchAll(
            db.cachedStatement(sql: "SELECT number FROM demands WHERE visit_id = ? ORDER BY id"), arguments: [visit.id]))
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
    return try await self.write(idempotency: key, method: "RaiseDemand", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      let (_, access) = try Self.access(db, uscc: uscc)
      try authorize(access)
      let record = try Self.insertDemand(db, demand, uscc: uscc, visitID: nil, regionCode: regionCode, actor: actor, clock: clock, now: now)
      return try Self.demandView(db, record, clock: clock, now: now)
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
    try await self.write(idempotency: key, method: "demand.\(action.name)", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      guard var record = try DemandRecord.one(db, "number", number) else { throw Self.demandNotFound(number) }
      let (_, access) = try Self.access(db, uscc: record.uscc)
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
          guard try DepartmentRecord.present(db, "code", department) else {
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
      try record.update(db)
      try AuditLog.append(db, at: now, actor: actor, action: "demand.\(action.name)", entity: "demand", entityID: number, detail: detail)
      return try Self.demandView(db, record, clock: clock, now: now)
    }
  }

  public func demand(number: String, clock: SLAClock, now: Date) async throws -> (DemandView, EnterpriseAccess)? {
    try await self.pool.read { db in
      guard let record = try DemandRecord.one(db, "number", number) else { return nil }
      let (_, access) = try Self.access(db, uscc: record.uscc)
      return (try Self.demandView(db, record, clock: clock, now: now), access)
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
    return try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let u = filter.uscc {
        conditions.append("d.uscc = ?")
        arguments += [u]
      }
      if let raisedFrom {
        conditions.append("d.raised_at >= ?")
        arguments += [raisedFrom]
      }
      if let raisedBefore {
        conditions.append("d.raised_at < ?")
        arguments += [raisedBefore]
      }
      if let category = filter.category {
        conditions.append("d.category = ?")
        arguments += [category.rawValue]
      }
      if let dep = filter.department {
        conditions.append("d.department_code = ?")
        arguments += [dep]
      }
      if !filter.states.isEmpty {
        conditions.append("d.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(filter.states.map(\.rawValue))
      }
      if !filter.colours.isEmpty {
        conditions.append("d.colour IN (\(filter.colours.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(filter.colours.map(\.rawValue))
      }
      if let l = filter.assignedTo {
        conditions.append("EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = d.uscc AND el.organization = ? AND el.person = ?)")
        arguments += [l.organization, l.person]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM demands d" + whereClause, arguments: arguments) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("d.number < ?")
        pageArguments += [after]
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try DemandRecord.fetchAll(
        db, sql: "SELECT d.* FROM demands d\(pageWhere) ORDER BY d.number DESC LIMIT ?",
        arguments: pageArguments + [filter.pageSize])
      let views = try records.map { try Self.demandView(db, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.number : nil)
    }
  }

  /// The demand sweeper: moves the colours of demands waiting on a department forward and
  /// raises "demand.yellow" / "demand.red" alerts (stored, returned for publishing).
  public func sweepDemands(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord] {
    try await self.commits.write { db in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let waiting = [DemandState.open, .assigned, .reopened].map(\.rawValue)
      let open = try DemandRecord.filter(waiting.contains(Column("state")) && Column("colour") != SLAColour.red.rawValue).fetchAll(db)
      for var record in open {
        let status = try clock.status(of: record.timedWork, now: now)
        guard status.colour != record.colour else { continue }
        let previous = record.colour
        record.colour = status.colour
        record.dueAt = status.due
        try record.update(db, columns: ["colour", "due_at"])
        try AuditLog.append(
          db, at: now, actor: .system, action: "demand.colour", entity: "demand", entityID: record.number,
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
        try alert.insert(db)
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
    _ db: Database, _ demand: NewDemand, uscc: String, visitID: Int64?, regionCode: String, actor: Actor, clock: SLAClock, now: Date
  ) throws -> DemandRecord {
    guard try DepartmentRecord.present(db, "code", demand.departmentCode) else {
      throw DomainError(
        kind: .invalidArgument, code: "demand.unknown_department", messageKey: "demand.unknown_department#see_catalog",
        arguments: [demand.departmentCode], field: "department_code")
    }
    let limit =
      try demand.limitWorkingDays
      ?? Int.fetchOne(db.cachedStatement(sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'demands.limit_working_days'")) ?? 10
    let number = try Self.dailyNumber(
      SQLiteSQLConnection(db), sequences: "demand_number_sequences", prefix: "SQ", regionCode: regionCode,
      day: clock.calendar.localDate(of: now))
    let status = try clock.status(clockStart: now, limit: .workingDays(limit), now: now)
    var record = DemandRecord(
      id: nil, number: number, uscc: uscc, category: demand.category, description: demand.description,
      departmentCode: demand.departmentCode, limitWorkingDays: limit, state: .open, handler: "", answer: "", reopenReason: "",
      satisfaction: nil, closeComment: "", raisedBy: "\(actor.person) (\(actor.role.rawValue), \(actor.organization))", visitId: visitID,
      raisedAt: now, clockStart: now, answeredAt: nil, closedAt: nil, dueAt: status.due, colour: status.colour, version: 1, updatedAt: now)
    try record.insert(db)
    try AuditLog.append(
      db, at: now, actor: actor, action: "demand.raise", entity: "demand", entityID: number,
      detail: [
        "uscc": uscc, "category": demand.category.rawValue, "department": demand.departmentCode, "limit_working_days": String(limit),
      ])
    return record
  }

  static func demandView(_ db: Database, _ record: DemandRecord, clock: SLAClock, now: Date) throws -> DemandView {
    let enterpriseName =
      try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM enterprises WHERE uscc = ?"), arguments: [record.uscc]) ?? record.uscc
    let departmentName =
      try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM departments WHERE code = ?"), arguments: [record.departmentCode])
      ?? record.departmentCode
    let sla: SLAStatusSnapshot? =
      record.state == .closed ? nil : SLAStatusSnapshot(try clock.status(of: record.timedWork, now: now), at: now)
    return DemandView(record: record, enterpriseName: enterpriseName, departmentName: departmentName, sla: sla)
  }
}
