public import BanjieCore
public import Foundation
public import GRDB

/// A citizen's or an enterprise's appeal (群众诉求), as stored: table `appeals` (migration
/// v13-appeals). The response clock (assignment → first contact) lives here; the resolution clock
/// of each round in `appeal_rounds`.
public struct AppealRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "appeals"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  /// e.g. QZ-370830-20261130-0001
  public var number: String
  public var channel: AppealChannel
  public var category: AppealCategory
  public var requesterKind: AppealRequesterKind
  /// A citizen's name; an enterprise's contact person (possibly empty).
  public var requesterName: String
  /// In full: the department calls the requester back. Masked in audit rows and for the office.
  public var requesterPhone: String
  /// The enterprise's USCC when an enterprise raised it.
  public var enterpriseUscc: String?
  public var subject: String
  public var content: String
  public var registeredAt: Date
  public var registeredBy: String
  public var state: CitizenAppealState
  /// The department it is assigned to; nil while REGISTERED.
  public var department: String?
  /// The (last) assignment: the response clock and round 1 start here.
  public var assignedAt: Date?
  public var assignedBy: String
  public var reassignments: Int
  /// The reason of the last reassignment (every one is in the audit log).
  public var reassignReason: String
  /// The limits in force at the assignment: a later change of the settings does not move them.
  public var responseLimitWorkingDays: Int?
  public var resolutionLimitWorkingDays: Int?
  public var responseDueAt: Date?
  /// Moved forward by the sweeper until the first contact; fixed then.
  public var responseColour: SLAColour?
  public var contactedAt: Date?
  public var contactedBy: String
  public var contactMethod: AppealContactMethod?
  public var contactNote: String
  /// First contact by the response deadline; nil until then.
  public var responseOnTime: Bool?
  /// The current resolution round (a row of `appeal_rounds`); 0 while REGISTERED.
  public var round: Int
  /// Of the last call-back.
  public var satisfaction: AppealSatisfaction?
  public var closedAt: Date?
  public var version: Int64
  public var updatedAt: Date

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

  /// The response clock, once assigned.
  public var responseWork: TimedWork? {
    guard let assignedAt = self.assignedAt, let limit = self.responseLimitWorkingDays else { return nil }
    return AppealRules.timedWork(responseFrom: assignedAt, limitWorkingDays: limit, contactedAt: self.contactedAt)
  }
}

/// One resolution round of an appeal: table `appeal_rounds`.
public struct AppealRoundRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "appeal_rounds"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var appealId: Int64
  /// 1 from the assignment, then one more for every dissatisfied call-back.
  public var round: Int
  /// The assignment (round 1) or the call-back that reopened the appeal.
  public var startedAt: Date
  public var limitWorkingDays: Int
  public var dueAt: Date
  /// Moved forward by the sweeper while waiting; fixed at the resolution.
  public var colour: SLAColour
  public var resolvedAt: Date?
  public var resolvedBy: String
  public var resolution: String
  /// Resolved by its deadline; nil while waiting.
  public var onTime: Bool?
  public var callBackAt: Date?
  public var callBackBy: String
  public var satisfaction: AppealSatisfaction?
  public var callBackNote: String

  public var timedWork: TimedWork {
    AppealRules.timedWork(resolutionFrom: self.startedAt, limitWorkingDays: self.limitWorkingDays, resolvedAt: self.resolvedAt)
  }
}

/// An appeal with its names, its rounds and the SLA of each running clock at a moment.
public struct AppealView: Codable, Sendable, Hashable {
  public struct Round: Codable, Sendable, Hashable {
    public var record: AppealRoundRecord
    /// Absent once resolved.
    public var sla: SLAStatusSnapshot?
  }
  public var record: AppealRecord
  /// Empty while REGISTERED.
  public var departmentName: String
  /// Empty for a citizen.
  public var enterpriseName: String
  /// The response clock while the first contact is awaited; absent otherwise.
  public var responseSLA: SLAStatusSnapshot?
  /// Oldest first; the last is the current round.
  public var rounds: [Round]
}

/// What the dispatcher registers.
public struct NewAppeal: Sendable, Hashable {
  public var channel: AppealChannel
  public var category: AppealCategory
  public var requester: AppealRequester
  public var subject: String
  public var content: String
  /// Assigned at once when given.
  public var department: String?
  public init(
    channel: AppealChannel, category: AppealCategory, requester: AppealRequester, subject: String, content: String, department: String?
  ) {
    self.channel = channel
    self.category = category
    self.requester = requester
    self.subject = subject
    self.content = content
    self.department = department
  }
}

/// One department's appeals of one channel, for the dashboard (docs/DOMAIN.md §24).
public struct AppealFigures: Sendable, Hashable {
  public var department: String
  public var departmentName: String
  public var channel: AppealChannel
  /// Appeals assigned to it in the period (a reassignment counts for the new department only).
  public var assigned = 0
  /// First contacts made in the period, and of them those by the response deadline.
  public var responded = 0
  public var respondedOnTime = 0
  /// Resolution rounds resolved in the period (each round once), and of them those on time.
  public var resolved = 0
  public var resolvedOnTime = 0
  /// Appeals waiting on it now (ASSIGNED, CONTACTED, REOPENED), and of them those past a deadline now.
  public var waiting = 0
  public var overdue = 0
  /// Call-backs made in the period, and of them satisfied or basically satisfied.
  public var callBacks = 0
  public var satisfied = 0

  public var responseRate: Double { RatingMeasuresRow.share(self.respondedOnTime, self.responded) }
  public var resolutionRate: Double { RatingMeasuresRow.share(self.resolvedOnTime, self.resolved) }
  public var satisfactionRate: Double { RatingMeasuresRow.share(self.satisfied, self.callBacks) }
}

/// 群众诉求: the dispatcher registers, assigns and calls back; the department's clerks contact and
/// resolve; the sweeper colours the running clocks. Each mutation one transaction with its audit row.
extension BanjieStore {
  /// Registers an appeal, assigned at once when `new.department` is given. An enterprise must be
  /// registered and the department must exist (INVALID_ARGUMENT naming the field; nothing written).
  public func registerAppeal(
    _ new: NewAppeal, regionCode: String, actor: Actor, clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date,
    key: IdempotencyKey?
  ) async throws -> AppealView {
    try AppealRules.checkMatter(subject: new.subject, content: new.content)
    return try await self.mutate(idempotency: key, method: "RegisterAppeal", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      if let uscc = new.requester.uscc {
        guard try sql.present("enterprises", "uscc", .text(uscc)) else {
          throw DomainError(kind: .invalidArgument, code: "appeal.unknown_enterprise", arguments: [uscc], field: "enterprise_uscc")
        }
      }
      if let department = new.department { try Self.checkAppealDepartment(sql, department) }
      let number = try Self.dailyNumber(
        sql, sequences: "appeal_number_sequences", prefix: "QZ", regionCode: regionCode, day: clock.calendar.localDate(of: now))
      var record = AppealRecord(
        id: nil, number: number, channel: new.channel, category: new.category, requesterKind: new.requester.kind,
        requesterName: new.requester.name, requesterPhone: new.requester.phone, enterpriseUscc: new.requester.uscc, subject: new.subject,
        content: new.content, registeredAt: now, registeredBy: Self.actorName(actor), state: .registered, department: nil, assignedAt: nil,
        assignedBy: "", reassignments: 0, reassignReason: "", responseLimitWorkingDays: nil, resolutionLimitWorkingDays: nil,
        responseDueAt: nil, responseColour: nil, contactedAt: nil, contactedBy: "", contactMethod: nil, contactNote: "",
        responseOnTime: nil, round: 0, satisfaction: nil, closedAt: nil, version: 1, updatedAt: now)
      var detail = [
        "channel": new.channel.rawValue, "category": new.category.rawValue, "requester_kind": new.requester.kind.rawValue,
        "phone": AppealRules.maskedPhone(new.requester.phone), "subject": new.subject,
      ]
      switch new.requester.kind {
      case .citizen: detail["requester"] = AppealRules.maskedName(new.requester.name)
      case .enterprise: detail["uscc"] = new.requester.uscc ?? ""
      }
      try record.insert(sql)
      if let department = new.department {
        // Assigned at registration: the clocks start now, and the appeal stays at version 1.
        try detail.merge(Self.startAssignment(sql, &record, to: department, actor: actor, clock: clock, now: now)) { $1 }
        try record.update(sql)
      }
      try AuditLog.append(sql, at: now, actor: actor, action: "appeal.register", entity: "appeal", entityID: number, detail: detail)
      return try Self.appealView(sql, record, clock: clock, now: now)
    }
  }

  /// The dispatcher assigns a REGISTERED appeal, or reassigns an ASSIGNED one (before the first
  /// contact) to another department with a reason: the clocks start again with the limits then in
  /// force.
  public func assignAppeal(
    number: String, department: String, reason: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> AppealView {
    try await self.mutate(idempotency: key, method: "appeal.assign", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      var record = try Self.appealForChange(sql, number: number)
      try Self.checkAppealVersion(record, expectedVersion)
      let reassigning = record.state != .registered
      _ = try AppealRules.apply(reassigning ? .reassign : .assign, to: record.state, number: number)
      try Self.checkAppealDepartment(sql, department)
      var detail: [String: String] = [:]
      if reassigning {
        let from = record.department ?? ""
        guard department != from else {
          throw DomainError(kind: .invalidArgument, code: "appeal.same_department", arguments: [number, department], field: "department")
        }
        try AppealRules.checkReassignReason(reason)
        record.reassignments += 1
        record.reassignReason = reason
        detail["from"] = from
        detail["reason"] = reason
        // Round 1 has not started for the new department: it starts again below.
        try sql.execute("DELETE FROM appeal_rounds WHERE appeal_id = ?", [record.id.sqlValue])
      }
      try detail.merge(Self.startAssignment(sql, &record, to: department, actor: actor, clock: clock, now: now)) { $1 }
      record.version += 1
      record.updatedAt = now
      try record.update(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: reassigning ? "appeal.reassign" : "appeal.assign", entity: "appeal", entityID: number,
        detail: detail)
      return try Self.appealView(sql, record, clock: clock, now: now)
    }
  }

  /// The department's first contact: `actor.organization` must be the appeal's department. Stops
  /// the response clock; the resolution clock runs on.
  public func contactAppeal(
    number: String, method: AppealContactMethod, note: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> AppealView {
    try AppealRules.checkContact(note: note)
    return try await self.mutate(idempotency: key, method: "appeal.contact", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      var record = try Self.appealForChange(sql, number: number)
      try Self.checkAppealActor(record, actor)
      try Self.checkAppealVersion(record, expectedVersion)
      record.state = try AppealRules.apply(.contact, to: record.state, number: number)
      record.contactedAt = now
      record.contactedBy = Self.actorName(actor)
      record.contactMethod = method
      record.contactNote = note
      guard let work = record.responseWork else { throw DatabaseError(message: "appeal \(number) assigned without a response clock") }
      let status = try clock.status(of: work, now: now)
      record.responseDueAt = status.due
      record.responseColour = status.colour
      record.responseOnTime = now <= status.due
      record.version += 1
      record.updatedAt = now
      try record.update(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "appeal.contact", entity: "appeal", entityID: number,
        detail: ["method": method.rawValue, "note": note, "on_time": record.responseOnTime == true ? "1" : "0"])
      return try Self.appealView(sql, record, clock: clock, now: now)
    }
  }

  /// The department's resolution of the current round: stops its clock.
  public func resolveAppeal(
    number: String, resolution: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> AppealView {
    try AppealRules.checkResolution(resolution)
    return try await self.mutate(idempotency: key, method: "appeal.resolve", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      var record = try Self.appealForChange(sql, number: number)
      try Self.checkAppealActor(record, actor)
      try Self.checkAppealVersion(record, expectedVersion)
      record.state = try AppealRules.apply(.resolve, to: record.state, number: number)
      var round = try Self.currentRound(sql, record)
      round.resolvedAt = now
      round.resolvedBy = Self.actorName(actor)
      round.resolution = resolution
      let status = try clock.status(of: round.timedWork, now: now)
      round.dueAt = status.due
      round.colour = status.colour
      round.onTime = now <= status.due
      try round.update(sql)
      record.version += 1
      record.updatedAt = now
      try record.update(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "appeal.resolve", entity: "appeal", entityID: number,
        detail: ["round": String(round.round), "resolution": resolution, "on_time": round.onTime == true ? "1" : "0"])
      return try Self.appealView(sql, record, clock: clock, now: now)
    }
  }

  /// The dispatcher's call-back (回访) after a resolution: satisfied or basically satisfied closes
  /// the appeal; dissatisfied (with the requester's reason in `note`) reopens it, and a new round
  /// starts now with the resolution limit fixed at the assignment.
  public func recordAppealCallBack(
    number: String, satisfaction: AppealSatisfaction, note: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> AppealView {
    if satisfaction == .dissatisfied && note.allSatisfy(\.isWhitespace) {
      throw DomainError(kind: .invalidArgument, code: "appeal.call_back_note_required", field: "note")
    }
    try FieldRules.text(note, field: "note", max: AppealRules.noteMax, required: false)
    return try await self.mutate(idempotency: key, method: "appeal.call_back", encode: Self.encoded, decode: Self.decoded, now: now) {
      sql in
      let clock = currentClock()
      var record = try Self.appealForChange(sql, number: number)
      try Self.checkAppealVersion(record, expectedVersion)
      record.state = try AppealRules.apply(.callBack(satisfaction), to: record.state, number: number)
      var round = try Self.currentRound(sql, record)
      round.callBackAt = now
      round.callBackBy = Self.actorName(actor)
      round.satisfaction = satisfaction
      round.callBackNote = note
      try round.update(sql)
      record.satisfaction = satisfaction
      var detail = ["round": String(round.round), "satisfaction": satisfaction.rawValue]
      if !note.isEmpty { detail["note"] = note }
      if record.state == .closed {
        record.closedAt = now
      } else {
        guard let id = record.id, let limit = record.resolutionLimitWorkingDays else {
          throw DatabaseError(message: "appeal \(number) resolved without a resolution limit")
        }
        record.round += 1
        let work = AppealRules.timedWork(resolutionFrom: now, limitWorkingDays: limit, resolvedAt: nil)
        let status = try clock.status(of: work, now: now)
        try AppealRoundRecord(
          appealId: id, round: record.round, startedAt: now, limitWorkingDays: limit, dueAt: status.due, colour: status.colour,
          resolvedAt: nil, resolvedBy: "", resolution: "", onTime: nil, callBackAt: nil, callBackBy: "", satisfaction: nil,
          callBackNote: ""
        ).insert(sql)
        detail["reopened_round"] = String(record.round)
        detail["resolution_due"] = AuditLog.timestamp(status.due)
      }
      record.version += 1
      record.updatedAt = now
      try record.update(sql)
      try AuditLog.append(sql, at: now, actor: actor, action: "appeal.call_back", entity: "appeal", entityID: number, detail: detail)
      return try Self.appealView(sql, record, clock: clock, now: now)
    }
  }

  public func appeal(number: String, clock: SLAClock, now: Date) async throws -> AppealView? {
    try await self.read { sql in
      guard let record = try AppealRecord.byNumber(sql, number) else { return nil }
      return try Self.appealView(sql, record, clock: clock, now: now)
    }
  }

  public struct AppealFilter: Sendable {
    /// A clerk's scope: its department's appeals only.
    public var scopeDepartment: String?
    /// An enterprise's scope: the appeals it raised.
    public var scopeEnterprise: String?
    public var department: String?
    public var channel: AppealChannel?
    public var states: [CitizenAppealState] = []
    /// Waiting on a department: ASSIGNED, CONTACTED or REOPENED.
    public var waiting = false
    /// Waiting and past the response deadline (not yet contacted) or the current round's deadline, at `now`.
    public var overdue = false
    public var pageSize = 50
    public var after: String?
    public init() {}
  }

  /// A page of appeals, newest first.
  public func listAppeals(_ filter: AppealFilter, clock: SLAClock, now: Date) async throws -> (
    views: [AppealView], total: Int, next: String?
  ) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      for department in [filter.scopeDepartment, filter.department].compactMap({ $0 }) {
        conditions.append("a.department = ?")
        arguments.append(.text(department))
      }
      if let enterprise = filter.scopeEnterprise {
        conditions.append("a.enterprise_uscc = ?")
        arguments.append(.text(enterprise))
      }
      if let channel = filter.channel {
        conditions.append("a.channel = ?")
        arguments.append(channel.sqlValue)
      }
      if !filter.states.isEmpty {
        conditions.append("a.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.states.map(\.sqlValue)
      }
      if filter.waiting || filter.overdue {
        conditions.append("a.state IN ('ASSIGNED', 'CONTACTED', 'REOPENED')")
      }
      if filter.overdue {
        conditions.append(
          """
          ((a.state = 'ASSIGNED' AND a.response_due_at < ?) OR EXISTS (SELECT 1 FROM appeal_rounds r
            WHERE r.appeal_id = a.id AND r.round = a.round AND r.resolved_at IS NULL AND r.due_at < ?))
          """)
        arguments += [StoredDate(now).sqlValue, StoredDate(now).sqlValue]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total = try sql.fetchAll(uncached: "SELECT COUNT(*) FROM appeals a" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("a.number < ?")
        pageArguments.append(.text(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(AppealRecord.aliasedColumns) FROM appeals a\(pageWhere) ORDER BY a.number DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(AppealRecord.init(sqlRow:))
      let views = try records.map { try Self.appealView(sql, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.number : nil)
    }
  }

  /// The appeal sweeper: moves the colours of the running clocks forward — the response clock of
  /// appeals awaiting first contact and the current round's resolution clock — each change audited
  /// (`appeal.colour`, actor system) with an "appeal.yellow" / "appeal.red" alert to the department.
  /// Alert texts carry the number and the department, never the requester.
  public func sweepAppeals(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord] {
    try await self.mutate { sql in
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let awaiting = try sql.fetchAll(
        "SELECT \(AppealRecord.columns) FROM appeals WHERE state = ? AND response_colour != ? ORDER BY number",
        [CitizenAppealState.assigned.sqlValue, SLAColour.red.sqlValue]
      ).map(AppealRecord.init(sqlRow:))
      for var record in awaiting {
        guard let work = record.responseWork, let department = record.department, let id = record.id else { continue }
        let status = try clock.status(of: work, now: now)
        guard status.colour != record.responseColour else {
          // A calendar import or new office hours moved the deadline: the stored one follows.
          if status.due != record.responseDueAt {
            record.responseDueAt = status.due
            try sql.execute("UPDATE appeals SET response_due_at = ? WHERE id = ?", [StoredDate(status.due).sqlValue, .integer(id)])
          }
          continue
        }
        let previous = record.responseColour ?? .green
        record.responseColour = status.colour
        record.responseDueAt = status.due
        try sql.execute(
          "UPDATE appeals SET response_colour = ?, response_due_at = ? WHERE id = ?",
          [status.colour.sqlValue, StoredDate(status.due).sqlValue, .integer(id)])
        if let alert = try Self.appealColourChange(
          sql, number: record.number, department: department, which: "response", from: previous, status: status, now: now)
        {
          alerts.append(alert)
        }
      }
      let rows = try sql.fetchAll(
        """
        SELECT \(AppealRoundRecord.aliasedColumns), a.number, a.department FROM appeal_rounds r
        JOIN appeals a ON a.id = r.appeal_id AND a.round = r.round
        WHERE r.resolved_at IS NULL AND r.colour != ? AND a.state IN ('ASSIGNED', 'CONTACTED', 'REOPENED') ORDER BY a.number
        """, [SLAColour.red.sqlValue])
      for row in rows {
        var round = try AppealRoundRecord(sqlRow: row)
        let number = try row.decode(String.self, at: AppealRoundRecord.storedColumns.count)
        let department = try row.decode(String.self, at: AppealRoundRecord.storedColumns.count + 1)
        let status = try clock.status(of: round.timedWork, now: now)
        guard status.colour != round.colour else {
          if status.due != round.dueAt {
            round.dueAt = status.due
            try sql.execute(
              "UPDATE appeal_rounds SET due_at = ? WHERE appeal_id = ? AND round = ?",
              [StoredDate(status.due).sqlValue, .integer(round.appealId), round.round.sqlValue])
          }
          continue
        }
        let previous = round.colour
        round.colour = status.colour
        round.dueAt = status.due
        try sql.execute(
          "UPDATE appeal_rounds SET colour = ?, due_at = ? WHERE appeal_id = ? AND round = ?",
          [status.colour.sqlValue, StoredDate(status.due).sqlValue, .integer(round.appealId), round.round.sqlValue])
        if let alert = try Self.appealColourChange(
          sql, number: number, department: department, which: "resolution", from: previous, status: status, now: now)
        {
          alerts.append(alert)
        }
      }
      return alerts
    }
  }

  /// Each department's appeal figures by channel (docs/DOMAIN.md §24): assignments, first contacts
  /// (and on time), resolved rounds (and on time) and call-backs (and satisfied) from `from` to
  /// `to` (Asia/Shanghai days), and the appeals waiting on it now and of them those overdue now;
  /// one department's when `department` is given. Read from the appeal tables by indexed queries.
  static func appealFigures(_ sql: any SQLConnection, from: LocalDate, to: LocalDate, department: String?, now: Date) throws
    -> [AppealFigures]
  {
    var figures: [String: AppealFigures] = [:]
    let scope = department == nil ? "" : " AND a.department = ?"
    let scopeArguments: [SQLValue] = department.map { [.text($0)] } ?? []
    let period: [SQLValue] = [.text(from.description), .text(to.description)]
    func add(_ text: String, _ arguments: [SQLValue], _ body: (inout AppealFigures, SQLRow) throws -> Void) throws {
      for row in try sql.fetchAll(text, arguments) {
        guard let department = try row.decode(String?.self, "department"),
          let channel = AppealChannel(rawValue: try row.decode(String.self, "channel"))
        else { continue }
        let key = "\(department)|\(channel.rawValue)"
        var f = figures[key] ?? AppealFigures(department: department, departmentName: department, channel: channel)
        try body(&f, row)
        figures[key] = f
      }
    }
    try add(
      """
      SELECT a.department, a.channel, COUNT(*) AS n FROM appeals a
      WHERE a.assigned_at IS NOT NULL AND \(sql.dialect.day("a.assigned_at")) BETWEEN ? AND ?\(scope) GROUP BY a.department, a.channel
      """, period + scopeArguments
    ) { f, row in f.assigned = try row.decode("n") }
    try add(
      """
      SELECT a.department, a.channel, COUNT(*) AS n, SUM(a.response_on_time) AS on_time FROM appeals a
      WHERE a.contacted_at IS NOT NULL AND \(sql.dialect.day("a.contacted_at")) BETWEEN ? AND ?\(scope) GROUP BY a.department, a.channel
      """, period + scopeArguments
    ) { f, row in
      f.responded = try row.decode("n")
      f.respondedOnTime = try row.decode(Int?.self, "on_time") ?? 0
    }
    try add(
      """
      SELECT a.department, a.channel, COUNT(*) AS n, SUM(r.on_time) AS on_time FROM appeal_rounds r JOIN appeals a ON a.id = r.appeal_id
      WHERE r.resolved_at IS NOT NULL AND \(sql.dialect.day("r.resolved_at")) BETWEEN ? AND ?\(scope) GROUP BY a.department, a.channel
      """, period + scopeArguments
    ) { f, row in
      f.resolved = try row.decode("n")
      f.resolvedOnTime = try row.decode(Int?.self, "on_time") ?? 0
    }
    try add(
      """
      SELECT a.department, a.channel, COUNT(*) AS n,
        COUNT(*) FILTER (WHERE r.satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED')) AS satisfied
      FROM appeal_rounds r JOIN appeals a ON a.id = r.appeal_id
      WHERE r.call_back_at IS NOT NULL AND \(sql.dialect.day("r.call_back_at")) BETWEEN ? AND ?\(scope) GROUP BY a.department, a.channel
      """, period + scopeArguments
    ) { f, row in
      f.callBacks = try row.decode("n")
      f.satisfied = try row.decode(Int?.self, "satisfied") ?? 0
    }
    try add(
      """
      SELECT a.department, a.channel, COUNT(*) AS n,
        COUNT(*) FILTER (WHERE (a.state = 'ASSIGNED' AND a.response_due_at < ?) OR (r.resolved_at IS NULL AND r.due_at < ?)) AS overdue
      FROM appeals a JOIN appeal_rounds r ON r.appeal_id = a.id AND r.round = a.round
      WHERE a.state IN ('ASSIGNED', 'CONTACTED', 'REOPENED')\(scope) GROUP BY a.department, a.channel
      """, [StoredDate(now).sqlValue, StoredDate(now).sqlValue] + scopeArguments
    ) { f, row in
      f.waiting = try row.decode("n")
      f.overdue = try row.decode(Int?.self, "overdue") ?? 0
    }
    let names = Dictionary(
      uniqueKeysWithValues: try sql.fetchAll("SELECT code, name FROM departments").map {
        (try $0.decode(String.self, "code"), try $0.decode(String.self, "name"))
      })
    let order = Dictionary(uniqueKeysWithValues: AppealChannel.allCases.enumerated().map { ($0.element, $0.offset) })
    return figures.values.map { f in
      var f = f
      f.departmentName = names[f.department] ?? f.department
      return f
    }.sorted { ($0.department, order[$0.channel] ?? 0) < ($1.department, order[$1.channel] ?? 0) }
  }

  /// A department's resolution rounds resolved in `year` (the Asia/Shanghai year of the
  /// resolution), and of them those on time: the resolution rate's parts, for annual targets.
  public static func appealResolutionRate(_ db: Database, year: Int, department: String) throws -> (resolved: Int, onTime: Int) {
    try Self.appealResolutionRate(SQLiteSQLConnection(db), year: year, department: department)
  }

  static func appealResolutionRate(_ sql: any SQLConnection, year: Int, department: String) throws -> (resolved: Int, onTime: Int) {
    guard
      let row = try sql.fetchOne(
        """
        SELECT COUNT(*) AS n, CAST(COALESCE(SUM(r.on_time), 0) AS BIGINT) AS on_time FROM appeal_rounds r JOIN appeals a ON a.id = r.appeal_id
        WHERE r.resolved_at IS NOT NULL AND \(sql.dialect.day("r.resolved_at")) BETWEEN ? AND ? AND a.department = ?
        """, [.text(String(format: "%04d-01-01", year)), .text(String(format: "%04d-12-31", year)), .text(department)])
    else { return (0, 0) }
    return (try row.decode("n"), try row.decode("on_time"))
  }

  // MARK: Helpers

  /// Names `department` on `record` now: the limits in force are fixed on it, the response clock
  /// starts, and round 1 starts with the category's resolution limit (inserted; the caller updates
  /// `record` and its version). Returns the audit detail.
  private static func startAssignment(
    _ sql: any SQLConnection, _ record: inout AppealRecord, to department: String, actor: Actor, clock: SLAClock, now: Date
  ) throws -> [String: String] {
    guard let id = record.id else { throw DatabaseError(message: "appeal \(record.number) without an id") }
    var response = try Self.setting(
      sql, CountySettings.Key.appealResponseWorkingDays.metaKey, default: AppealRules.defaultResponseWorkingDays)
    if !AppealRules.responseRange.contains(response) { response = AppealRules.defaultResponseWorkingDays }
    var limits = AppealResolutionLimits()
    if let text = try sql.fetchOne(
      String.self, "SELECT value FROM meta WHERE key = ?", [.text(CountySettings.Key.appealResolutionLimits.metaKey)])
    {
      // A stored value that does not read (edited by hand) leaves the defaults in force.
      limits = (try? AppealResolutionLimits.parse(text)) ?? AppealResolutionLimits()
    }
    let resolution = limits[record.category]
    let responseStatus = try clock.status(
      of: AppealRules.timedWork(responseFrom: now, limitWorkingDays: response, contactedAt: nil), now: now)
    let resolutionStatus = try clock.status(
      of: AppealRules.timedWork(resolutionFrom: now, limitWorkingDays: resolution, resolvedAt: nil), now: now)
    record.state = .assigned
    record.department = department
    record.assignedAt = now
    record.assignedBy = Self.actorName(actor)
    record.responseLimitWorkingDays = response
    record.resolutionLimitWorkingDays = resolution
    record.responseDueAt = responseStatus.due
    record.responseColour = responseStatus.colour
    record.round = 1
    try AppealRoundRecord(
      appealId: id, round: 1, startedAt: now, limitWorkingDays: resolution, dueAt: resolutionStatus.due, colour: resolutionStatus.colour,
      resolvedAt: nil, resolvedBy: "", resolution: "", onTime: nil, callBackAt: nil, callBackBy: "", satisfaction: nil, callBackNote: ""
    ).insert(sql)
    return [
      "department": department, "response_working_days": String(response), "resolution_working_days": String(resolution),
      "response_due": AuditLog.timestamp(responseStatus.due), "resolution_due": AuditLog.timestamp(resolutionStatus.due),
    ]
  }

  /// A colour change of one clock: its audit row and, for yellow and red, its alert.
  private static func appealColourChange(
    _ sql: any SQLConnection, number: String, department: String, which: String, from previous: SLAColour, status: SLAStatus, now: Date
  ) throws -> AlertRecord? {
    try AuditLog.append(
      sql, at: now, actor: .system, action: "appeal.colour", entity: "appeal", entityID: number,
      detail: ["clock": which, "department": department, "from": previous.rawValue, "to": status.colour.rawValue])
    let awaits = which == "response" ? "awaits first contact by \(department)" : "awaits resolution by \(department)"
    let text: String
    switch status.colour {
    case .red: text = "appeal \(number) \(awaits), overdue (due \(AuditLog.timestamp(status.due)))"
    case .yellow:
      text =
        "appeal \(number) \(awaits), \(Int(status.fractionUsed * 100)) % of its working time used (due \(AuditLog.timestamp(status.due)))"
    case .green: return nil
    }
    var alert = AlertRecord(
      id: nil, at: now, kind: "appeal.\(status.colour.rawValue)", subject: "appeal \(number)", departmentCode: department,
      colour: status.colour, message: text)
    alert.id = try AlertRecord.insert(sql, alert)
    return alert
  }

  private static func checkAppealDepartment(_ sql: any SQLConnection, _ department: String) throws {
    guard try sql.present("departments", "code", .text(department)) else {
      throw DomainError(
        kind: .invalidArgument, code: "appeal.unknown_department", arguments: [String(department.prefix(32))], field: "department")
    }
  }

  /// Only a clerk of the appeal's department contacts and resolves it; anyone else learns nothing
  /// more about it than that it is not theirs.
  private static func checkAppealActor(_ record: AppealRecord, _ actor: Actor) throws {
    guard actor.role == .clerk, let department = record.department, department == actor.organization else {
      throw DomainError(
        kind: .permissionDenied, code: "appeal.not_your_department", arguments: [record.number, actor.organization, actor.person])
    }
  }

  /// The stale-version refusal, checked after the caller is known to be allowed.
  private static func checkAppealVersion(_ record: AppealRecord, _ expectedVersion: Int64?) throws {
    if let expectedVersion, expectedVersion != record.version {
      throw DomainError(
        kind: .aborted, code: "appeal.version_conflict", arguments: [record.number, "\(record.version)", "\(expectedVersion)"],
        field: "expected_version")
    }
  }

  private static func appealForChange(_ sql: any SQLConnection, number: String) throws -> AppealRecord {
    guard let record = try AppealRecord.byNumber(sql, number) else {
      throw DomainError(kind: .notFound, code: "appeal.not_found", arguments: [String(number.prefix(64))], field: "number")
    }
    return record
  }

  private static func currentRound(_ sql: any SQLConnection, _ record: AppealRecord) throws -> AppealRoundRecord {
    guard
      let row = try sql.fetchOne(
        "SELECT \(AppealRoundRecord.columns) FROM appeal_rounds WHERE appeal_id = ? AND round = ?",
        [record.id.sqlValue, record.round.sqlValue])
    else {
      throw DatabaseError(message: "appeal \(record.number) has no round \(record.round)")
    }
    return try AppealRoundRecord(sqlRow: row)
  }

  static func appealView(_ sql: any SQLConnection, _ record: AppealRecord, clock: SLAClock, now: Date) throws -> AppealView {
    let departmentName =
      try record.department.flatMap {
        try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text($0)])
      } ?? record.department ?? ""
    let enterpriseName =
      try record.enterpriseUscc.flatMap {
        try sql.fetchOne(String.self, "SELECT name FROM enterprises WHERE uscc = ?", [.text($0)])
      } ?? ""
    let waiting = record.state.awaitsDepartment
    var responseSLA: SLAStatusSnapshot?
    if record.state == .assigned, let work = record.responseWork {
      responseSLA = SLAStatusSnapshot(try clock.status(of: work, now: now), at: now)
    }
    let rounds = try sql.fetchAll(
      "SELECT \(AppealRoundRecord.columns) FROM appeal_rounds WHERE appeal_id = ? ORDER BY round", [record.id.sqlValue]
    ).map(AppealRoundRecord.init(sqlRow:))
    return AppealView(
      record: record, departmentName: departmentName, enterpriseName: enterpriseName, responseSLA: responseSLA,
      rounds: try rounds.map { round in
        AppealView.Round(
          record: round,
          sla: waiting && round.resolvedAt == nil ? SLAStatusSnapshot(try clock.status(of: round.timedWork, now: now), at: now) : nil)
      })
  }
}

extension AppealChannel: SQLValueConvertible {}
extension AppealCategory: SQLValueConvertible {}
extension AppealRequesterKind: SQLValueConvertible {}
extension CitizenAppealState: SQLValueConvertible {}
extension AppealContactMethod: SQLValueConvertible {}
extension AppealSatisfaction: SQLValueConvertible {}

extension AppealRecord {
  /// The columns besides `id`, in the order of `storedValues`, as the Codable record names them:
  /// the one list the INSERT, the UPDATE and the reads are made from.
  static let storedColumns = [
    "number", "channel", "category", "requester_kind", "requester_name", "requester_phone", "enterprise_uscc", "subject", "content",
    "registered_at", "registered_by", "state", "department", "assigned_at", "assigned_by", "reassignments", "reassign_reason",
    "response_limit_working_days", "resolution_limit_working_days", "response_due_at", "response_colour", "contacted_at",
    "contacted_by", "contact_method", "contact_note", "response_on_time", "round", "satisfaction", "closed_at", "version", "updated_at",
  ]

  /// `id` and `storedColumns`, in the order `init(sqlRow:)` reads them; `aliasedColumns` the same
  /// of the table aliased `a`.
  static let columns = (["id"] + Self.storedColumns).joined(separator: ", ")
  static let aliasedColumns = (["id"] + Self.storedColumns).map { "a." + $0 }.joined(separator: ", ")

  static let insertSQL =
    "INSERT INTO appeals (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"

  static let updateSQL = "UPDATE appeals SET \(Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .text(self.number), self.channel.sqlValue, self.category.sqlValue, self.requesterKind.sqlValue, .text(self.requesterName),
      .text(self.requesterPhone), self.enterpriseUscc.sqlValue, .text(self.subject), .text(self.content),
      StoredDate(self.registeredAt).sqlValue, .text(self.registeredBy), self.state.sqlValue, self.department.sqlValue,
      self.assignedAt.stored.sqlValue, .text(self.assignedBy), self.reassignments.sqlValue, .text(self.reassignReason),
      self.responseLimitWorkingDays.sqlValue, self.resolutionLimitWorkingDays.sqlValue, self.responseDueAt.stored.sqlValue,
      self.responseColour.sqlValue, self.contactedAt.stored.sqlValue, .text(self.contactedBy), self.contactMethod.sqlValue,
      .text(self.contactNote), self.responseOnTime.sqlValue, self.round.sqlValue, self.satisfaction.sqlValue,
      self.closedAt.stored.sqlValue, self.version.sqlValue, StoredDate(self.updatedAt).sqlValue,
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), number: try row.decode(at: 1), channel: try row.decode(at: 2), category: try row.decode(at: 3),
      requesterKind: try row.decode(at: 4), requesterName: try row.decode(at: 5), requesterPhone: try row.decode(at: 6),
      enterpriseUscc: try row.decode(at: 7), subject: try row.decode(at: 8), content: try row.decode(at: 9),
      registeredAt: try row.decode(StoredDate.self, at: 10).date, registeredBy: try row.decode(at: 11), state: try row.decode(at: 12),
      department: try row.decode(at: 13), assignedAt: try row.decode(StoredDate?.self, at: 14)?.date, assignedBy: try row.decode(at: 15),
      reassignments: try row.decode(at: 16), reassignReason: try row.decode(at: 17), responseLimitWorkingDays: try row.decode(at: 18),
      resolutionLimitWorkingDays: try row.decode(at: 19), responseDueAt: try row.decode(StoredDate?.self, at: 20)?.date,
      responseColour: try row.decode(at: 21), contactedAt: try row.decode(StoredDate?.self, at: 22)?.date,
      contactedBy: try row.decode(at: 23), contactMethod: try row.decode(at: 24), contactNote: try row.decode(at: 25),
      responseOnTime: try row.decode(at: 26), round: try row.decode(at: 27), satisfaction: try row.decode(at: 28),
      closedAt: try row.decode(StoredDate?.self, at: 29)?.date, version: try row.decode(at: 30),
      updatedAt: try row.decode(StoredDate.self, at: 31).date)
  }

  static func byNumber(_ sql: any SQLConnection, _ number: String) throws -> AppealRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM appeals WHERE number = ? LIMIT 1", [.text(number)]).map(AppealRecord.init(sqlRow:))
  }

  /// Inserts the row and takes its new id.
  mutating func insert(_ sql: any SQLConnection) throws {
    self.id = try sql.fetchOne(Int64.self, Self.insertSQL, self.storedValues)
  }

  /// Rewrites every column but `id`, as GRDB's `update` did.
  func update(_ sql: any SQLConnection) throws {
    guard let id = self.id else { throw DatabaseError(message: "appeal \(self.number) without an id") }
    try sql.execute(Self.updateSQL, self.storedValues + [.integer(id)])
  }
}

extension AppealRoundRecord {
  /// Every column, in the order of `storedValues` and of `init(sqlRow:)`: the key first.
  static let storedColumns = [
    "appeal_id", "round", "started_at", "limit_working_days", "due_at", "colour", "resolved_at", "resolved_by", "resolution", "on_time",
    "call_back_at", "call_back_by", "satisfaction", "call_back_note",
  ]

  /// `storedColumns` as SQL text; `aliasedColumns` the same of the table aliased `r`.
  static let columns = Self.storedColumns.joined(separator: ", ")
  static let aliasedColumns = Self.storedColumns.map { "r." + $0 }.joined(separator: ", ")

  static let insertSQL =
    "INSERT INTO appeal_rounds (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ")"

  static let updateSQL =
    "UPDATE appeal_rounds SET \(Self.storedColumns.dropFirst(2).map { "\($0) = ?" }.joined(separator: ", ")) WHERE appeal_id = ? AND round = ?"

  var storedValues: [SQLValue] {
    [
      .integer(self.appealId), self.round.sqlValue, StoredDate(self.startedAt).sqlValue, self.limitWorkingDays.sqlValue,
      StoredDate(self.dueAt).sqlValue, self.colour.sqlValue, self.resolvedAt.stored.sqlValue, .text(self.resolvedBy),
      .text(self.resolution), self.onTime.sqlValue, self.callBackAt.stored.sqlValue, .text(self.callBackBy), self.satisfaction.sqlValue,
      .text(self.callBackNote),
    ]
  }

  /// A row beginning with `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      appealId: try row.decode(at: 0), round: try row.decode(at: 1), startedAt: try row.decode(StoredDate.self, at: 2).date,
      limitWorkingDays: try row.decode(at: 3), dueAt: try row.decode(StoredDate.self, at: 4).date, colour: try row.decode(at: 5),
      resolvedAt: try row.decode(StoredDate?.self, at: 6)?.date, resolvedBy: try row.decode(at: 7), resolution: try row.decode(at: 8),
      onTime: try row.decode(at: 9), callBackAt: try row.decode(StoredDate?.self, at: 10)?.date, callBackBy: try row.decode(at: 11),
      satisfaction: try row.decode(at: 12), callBackNote: try row.decode(at: 13))
  }

  func insert(_ sql: any SQLConnection) throws {
    try sql.execute(Self.insertSQL, self.storedValues)
  }

  /// Rewrites every column but the key, as GRDB's `update` did.
  func update(_ sql: any SQLConnection) throws {
    let values = self.storedValues
    try sql.execute(Self.updateSQL, Array(values.dropFirst(2)) + [values[0], values[1]])
  }
}
