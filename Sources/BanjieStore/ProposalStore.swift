public import BanjieCore
public import Foundation
public import GRDB

/// A deputy's suggestion (人大代表建议) or a CPPCC member's proposal (政协提案), as stored: table
/// `proposals` (migration v14-proposals).
public struct ProposalRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "proposals"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  /// e.g. JY-370830-20261130-0001 (建议) or TA-370830-20261130-0001 (提案).
  public var number: String
  public var kind: ProposalKind
  public var title: String
  /// The deputy (代表) or member (委员) who made it.
  public var proposer: String
  /// How to reach them, if given.
  public var proposerContact: String
  /// The session it was made at, e.g. 县十九届人大三次会议, if given.
  public var session: String
  /// 主办单位.
  public var leadDepartment: String
  /// 交办: its registration by the office.
  public var assignedAt: Date
  public var assignedBy: String
  /// The county's reply limit and longest limit when it was assigned (docs/DOMAIN.md §17).
  public var replyMonths: Int
  public var maxMonths: Int
  /// The first reply's limit in force: `replyMonths`, or more after an extension.
  public var months: Int
  /// The reason of the extension, if any (every extension is in the audit log).
  public var extensionReason: String
  /// 1, or 2 once the first reply was assessed 不满意.
  public var round: Int
  /// The clock start of the current round: the assignment, or the reopening.
  public var roundStartedAt: Date
  /// The current round's deadline: the end of its last day, Asia/Shanghai.
  public var dueAt: Date
  /// Moved forward by the sweeper while a reply is awaited; green once replied.
  public var colour: SLAColour
  public var state: ProposalState
  /// The assessment that closed it.
  public var assessment: ProposalAssessment?
  public var closedAt: Date?
  public var version: Int64
  public var updatedAt: Date

  public var stage: ProposalStage { ProposalStage(state: self.state, round: self.round) }

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

/// A co-handling department (协办单位) of a proposal: table `proposal_co_departments`.
public struct ProposalCoDepartmentRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "proposal_co_departments"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var proposalId: Int64
  public var department: String
}

/// 协办意见: a co-handling department's opinion to the lead in one round (at most one per round; a
/// reopened proposal keeps the first round's next to the second's): table `proposal_co_opinions`.
public struct ProposalCoOpinionRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "proposal_co_opinions"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var proposalId: Int64
  public var department: String
  public var round: Int
  public var opinion: String
  public var givenAt: Date
  public var givenBy: String
}

/// 面商: one contact of the lead department with the proposer: table `proposal_contacts`.
public struct ProposalContactRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "proposal_contacts"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var proposalId: Int64
  public var round: Int
  /// When the contact took place (given, or when it was recorded).
  public var contactedAt: Date
  public var method: ProposalContactMethod
  public var note: String
  public var recordedBy: String
  public var recordedAt: Date

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

/// The reply of one round, with the deadline it had and the proposer's assessment of it: table
/// `proposal_replies`.
public struct ProposalReplyRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "proposal_replies"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var proposalId: Int64
  public var round: Int
  public var repliedAt: Date
  public var repliedBy: String
  /// The round's deadline when it was replied to.
  public var dueAt: Date
  /// Replied by `dueAt`.
  public var onTime: Bool
  public var replyText: String
  public var resultClass: ProposalResultClass
  public var assessment: ProposalAssessment?
  public var assessmentNote: String
  public var assessedAt: Date?
  public var assessedBy: String
}

/// A proposal with its departments' names, contacts, replies and, while a reply is awaited, the
/// round's timing at a moment.
public struct ProposalView: Codable, Sendable, Hashable {
  public struct CoDepartment: Codable, Sendable, Hashable {
    public var record: ProposalCoDepartmentRecord
    public var name: String
    /// Its opinions (协办意见), by round.
    public var opinions: [ProposalCoOpinionRecord]
  }
  public var proposal: ProposalRecord
  public var leadDepartmentName: String
  /// By department code.
  public var coDepartments: [CoDepartment]
  /// In the order recorded.
  public var contacts: [ProposalContactRecord]
  /// By round.
  public var replies: [ProposalReplyRecord]
  /// Absent unless a reply is awaited (ASSIGNED or REOPENED).
  public var timing: ProposalTiming?
}

/// What the office registers and assigns.
public struct NewProposal: Sendable, Hashable {
  public var kind: ProposalKind
  public var title: String
  public var proposer: String
  public var proposerContact: String
  public var session: String
  public var leadDepartment: String
  public var coDepartments: [String]
  public init(
    kind: ProposalKind, title: String, proposer: String, proposerContact: String, session: String, leadDepartment: String,
    coDepartments: [String]
  ) {
    self.kind = kind
    self.title = title
    self.proposer = proposer
    self.proposerContact = proposerContact
    self.session = session
    self.leadDepartment = leadDepartment
    self.coDepartments = coDepartments
  }
}

/// One lead department's figures of 建议 and 提案 for the dashboard (docs/DOMAIN.md §25).
public struct ProposalFigures: Sendable, Hashable {
  public var department: String
  public var name: String
  /// Assigned to it in the period.
  public var assigned = 0
  /// Replies it gave in the period (each round counted), and of them those by their deadline.
  public var replied = 0
  public var repliedOnTime = 0
  /// Waiting on its reply now, and of them those past their deadline now.
  public var waiting = 0
  public var overdue = 0
  /// Assessments of its replies recorded in the period (each round counted).
  public var satisfied = 0
  public var basicallySatisfied = 0
  public var dissatisfied = 0
  public var assessed: Int { self.satisfied + self.basicallySatisfied + self.dissatisfied }
  public var onTimeRate: Double { RatingMeasuresRow.share(self.repliedOnTime, self.replied) }
  /// (满意 + 基本满意) / assessments.
  public var satisfactionRate: Double { RatingMeasuresRow.share(self.satisfied + self.basicallySatisfied, self.assessed) }
}

/// Who may take a step on a proposal, beyond the role the service requires.
private enum ProposalAuthority: Sendable {
  /// The office, or a clerk of the lead department.
  case leadOrOffice
  /// A clerk of the lead department.
  case lead
  /// A clerk of one of its co-handling departments.
  case coDepartment
  /// The office.
  case office
}

/// 人大代表建议和政协提案: the office registers and assigns and records the proposer's assessment,
/// the lead department records its contact (面商) and replies, the co-handling departments give
/// their opinions, the lead or the office extends, the sweeper colours the replies awaited. Each
/// mutation one transaction with its audit row (entity "proposal").
extension BanjieStore {
  /// Registers and assigns (交办) a proposal: the reply's clock starts now, for the county's reply
  /// limit in calendar months (docs/DOMAIN.md §25), which is stored on it with the longest limit.
  public func registerProposal(
    _ new: NewProposal, regionCode: String, actor: Actor, clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock,
    now: Date, key: IdempotencyKey?
  ) async throws -> ProposalView {
    try await self.mutate(idempotency: key, method: "RegisterProposal", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      guard try sql.present("departments", "code", .text(new.leadDepartment)) else {
        throw DomainError.invalidArgument("proposal.unknown_department", arguments: [new.leadDepartment], field: "lead_department")
      }
      let known = Set(try sql.fetchAll(String.self, "SELECT code FROM departments"))
      let coDepartments = try ProposalRules.checkCoDepartments(new.coDepartments, lead: new.leadDepartment, known: known)
      let limits = ProposalRules.limits(
        reply: try Self.setting(sql, CountySettings.Key.proposalReplyMonths.metaKey, default: ProposalRules.defaultReplyMonths),
        max: try Self.setting(sql, CountySettings.Key.proposalMaxMonths.metaKey, default: ProposalRules.defaultMaxMonths))
      let prefix = new.kind.numberPrefix
      let dayKey = ProposalRules.localDay(of: now).description.replacingOccurrences(of: "-", with: "")
      // `last` is qualified in the SET list: PostgreSQL finds a bare `last` ambiguous (the row or
      // `excluded`), SQLite accepts either.
      let sequence =
        try sql.fetchOne(
          Int.self,
          """
          INSERT INTO proposal_number_sequences (prefix, day, last) VALUES (?, ?, 1)
          ON CONFLICT(prefix, day) DO UPDATE SET last = proposal_number_sequences.last + 1 RETURNING last
          """, [.text(prefix), .text(dayKey)]) ?? 1
      let number = "\(prefix)-\(regionCode)-\(dayKey)-\(String(format: "%04d", sequence))"
      let due = ProposalRules.due(from: now, months: limits.reply)
      let timing = ProposalRules.timing(start: now, due: due, now: now, yellowThreshold: clock.yellowThreshold)
      var record = ProposalRecord(
        id: nil, number: number, kind: new.kind, title: new.title, proposer: new.proposer, proposerContact: new.proposerContact,
        session: new.session, leadDepartment: new.leadDepartment, assignedAt: now, assignedBy: Self.actorName(actor),
        replyMonths: limits.reply, maxMonths: limits.max, months: limits.reply, extensionReason: "", round: 1, roundStartedAt: now,
        dueAt: due, colour: timing.colour, state: .assigned, assessment: nil, closedAt: nil, version: 1, updatedAt: now)
      try record.insert(sql)
      guard let id = record.id else { throw DatabaseError(message: "proposal without an id") }
      for department in coDepartments {
        try ProposalCoDepartmentRecord(proposalId: id, department: department).insert(sql)
      }
      var detail = [
        "kind": new.kind.rawValue, "title": new.title, "proposer": new.proposer, "lead": new.leadDepartment,
        "co_departments": coDepartments.joined(separator: ","), "months": String(limits.reply), "max_months": String(limits.max),
        "due": AuditLog.timestamp(due),
      ]
      if !new.session.isEmpty { detail["session"] = new.session }
      if !new.proposerContact.isEmpty { detail["proposer_contact"] = new.proposerContact }
      try AuditLog.append(sql, at: now, actor: actor, action: "proposal.register", entity: "proposal", entityID: number, detail: detail)
      return try Self.proposalView(sql, record, clock: clock, now: now)
    }
  }

  /// Extends the first reply's limit to a new total of `months` (more than now, at most the
  /// longest limit stored on the proposal), with a reason, before the deadline: the office or the
  /// lead department.
  public func extendProposal(
    number: String, months: Int, reason: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> ProposalView {
    try await self.changeProposal(
      "ExtendProposal", number: number, step: .extend, authority: .leadOrOffice, expectedVersion: expectedVersion, actor: actor,
      clock: currentClock, now: now, key: key
    ) { _, record, _, clock in
      try ProposalRules.checkExtension(
        number: number, current: record.months, requested: months, max: record.maxMonths, reason: reason, due: record.dueAt, now: now)
      let from = record.months
      record.months = months
      record.extensionReason = reason
      record.dueAt = ProposalRules.due(from: record.assignedAt, months: months)
      record.colour =
        ProposalRules.timing(start: record.roundStartedAt, due: record.dueAt, now: now, yellowThreshold: clock.yellowThreshold).colour
      return ["from_months": String(from), "months": String(months), "reason": reason, "due": AuditLog.timestamp(record.dueAt)]
    }
  }

  /// 面商: the lead department records a contact with the proposer in the current round, at
  /// `contactedAt` (now when nil; never before the round's start nor after now).
  public func recordProposalConsultation(
    number: String, method: ProposalContactMethod, note: String, contactedAt: Date?, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> ProposalView {
    try ProposalRules.checkContact(method: method, note: note)
    return try await self.changeProposal(
      "RecordConsultation", number: number, step: .consult, authority: .lead, expectedVersion: expectedVersion, actor: actor,
      clock: currentClock, now: now, key: key
    ) { sql, record, _, _ in
      let at = contactedAt ?? now
      guard at >= record.roundStartedAt, at <= now else {
        throw DomainError.invalidArgument(
          "proposal.contacted_at_out_of_range", arguments: [number, String(record.round)], field: "contacted_at")
      }
      guard let id = record.id else { throw DatabaseError(message: "proposal without an id") }
      var contact = ProposalContactRecord(
        id: nil, proposalId: id, round: record.round, contactedAt: at, method: method, note: note, recordedBy: Self.actorName(actor),
        recordedAt: now)
      try contact.insert(sql)
      var detail = ["round": String(record.round), "method": method.rawValue, "contacted_at": AuditLog.timestamp(at)]
      if !note.isEmpty { detail["note"] = note }
      return detail
    }
  }

  /// 协办意见: a co-handling department gives the lead its opinion, once in each round, while a
  /// reply is awaited; each round's is kept (`proposal_co_opinions`).
  public func recordProposalCoOpinion(
    number: String, opinion: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> ProposalView {
    try await self.changeProposal(
      "RecordCoOpinion", number: number, step: .coOpinion, authority: .coDepartment, expectedVersion: expectedVersion, actor: actor,
      clock: currentClock, now: now, key: key
    ) { sql, record, coDepartments, _ in
      guard let id = record.id, let co = coDepartments.first(where: { $0.department == actor.organization }) else {
        throw DatabaseError(message: "co-handling department vanished")
      }
      let given =
        try sql.fetchOne(
          Int.self, "SELECT COUNT(*) FROM proposal_co_opinions WHERE proposal_id = ? AND department = ? AND round = ?",
          [.integer(id), .text(co.department), record.round.sqlValue]) ?? 0
      guard given == 0 else {
        throw DomainError.failedPrecondition(
          "proposal.co_opinion_given", arguments: [number, co.department, String(record.round)], field: "number")
      }
      try ProposalCoOpinionRecord(
        proposalId: id, department: co.department, round: record.round, opinion: opinion, givenAt: now, givenBy: Self.actorName(actor)
      ).insert(sql)
      return ["department": co.department, "round": String(record.round), "opinion": opinion]
    }
  }

  /// The lead department's reply in the current round: only after a contact with the proposer
  /// (面商) in that round, else FAILED_PRECONDITION on `consultation` and nothing written.
  public func replyProposal(
    number: String, text: String, resultClass: ProposalResultClass, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> ProposalView {
    try await self.changeProposal(
      "ReplyProposal", number: number, step: .reply, authority: .lead, expectedVersion: expectedVersion, actor: actor,
      clock: currentClock, now: now, key: key
    ) { sql, record, _, _ in
      guard let id = record.id else { throw DatabaseError(message: "proposal without an id") }
      let contacts =
        try sql.fetchOne(
          Int.self, "SELECT COUNT(*) FROM proposal_contacts WHERE proposal_id = ? AND round = ?", [.integer(id), record.round.sqlValue])
        ?? 0
      try ProposalRules.checkConsultation(number: number, round: record.round, consultations: contacts)
      let onTime = now <= record.dueAt
      try ProposalReplyRecord(
        proposalId: id, round: record.round, repliedAt: now, repliedBy: Self.actorName(actor), dueAt: record.dueAt, onTime: onTime,
        replyText: text, resultClass: resultClass, assessment: nil, assessmentNote: "", assessedAt: nil, assessedBy: ""
      ).insert(sql)
      record.colour = .green
      return [
        "round": String(record.round), "result_class": resultClass.rawValue, "on_time": onTime ? "1" : "0",
        "due": AuditLog.timestamp(record.dueAt),
      ]
    }
  }

  /// The proposer's assessment of the current round's reply, recorded by the office: 满意 and
  /// 基本满意 close the proposal, and so does any assessment of a second reply; the first 不满意
  /// reopens it for a second reply due `ProposalRules.secondReplyMonths` after now.
  public func assessProposal(
    number: String, assessment: ProposalAssessment, note: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> ProposalView {
    try await self.changeProposal(
      "RecordAssessment", number: number, step: .assess(assessment), authority: .office, expectedVersion: expectedVersion, actor: actor,
      clock: currentClock, now: now, key: key
    ) { sql, record, _, clock in
      guard let id = record.id,
        let row = try sql.fetchOne(
          "SELECT \(ProposalReplyRecord.columns) FROM proposal_replies WHERE proposal_id = ? AND round = ?",
          [.integer(id), record.round.sqlValue])
      else { throw DatabaseError(message: "replied proposal without its reply") }
      var reply = try ProposalReplyRecord(sqlRow: row)
      reply.assessment = assessment
      reply.assessmentNote = note
      reply.assessedAt = now
      reply.assessedBy = Self.actorName(actor)
      try reply.update(sql)
      var detail = ["round": String(record.round), "assessment": assessment.rawValue]
      if !note.isEmpty { detail["note"] = note }
      if record.state == .reopened {
        record.round = 2
        record.roundStartedAt = now
        record.dueAt = ProposalRules.due(from: now, months: ProposalRules.secondReplyMonths)
        record.colour = ProposalRules.timing(start: now, due: record.dueAt, now: now, yellowThreshold: clock.yellowThreshold).colour
        detail["reopened"] = "1"
        detail["due"] = AuditLog.timestamp(record.dueAt)
      } else {
        record.assessment = assessment
        record.closedAt = now
      }
      return detail
    }
  }

  public func proposal(number: String, clock: SLAClock, now: Date) async throws -> ProposalView? {
    try await self.read { sql in
      guard let record = try ProposalRecord.byNumber(sql, number) else { return nil }
      return try Self.proposalView(sql, record, clock: clock, now: now)
    }
  }

  public struct ProposalFilter: Sendable {
    /// Proposals this department leads or co-handles (a clerk's scope).
    public var involving: String?
    /// Proposals this department leads or co-handles (a filter the caller asked for).
    public var department: String?
    public var kind: ProposalKind?
    public var states: [ProposalState] = []
    public var pageSize = 50
    /// The id of the last proposal of the previous page.
    public var after: Int64?
    public init() {}
  }

  /// A page of proposals, newest first.
  public func listProposals(_ filter: ProposalFilter, clock: SLAClock, now: Date) async throws -> (
    views: [ProposalView], total: Int, next: String?
  ) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      for department in [filter.involving, filter.department].compactMap({ $0 }) {
        conditions.append(
          "(p.lead_department = ? OR p.id IN (SELECT proposal_id FROM proposal_co_departments WHERE department = ?))")
        arguments += [.text(department), .text(department)]
      }
      if let kind = filter.kind {
        conditions.append("p.kind = ?")
        arguments.append(kind.sqlValue)
      }
      if !filter.states.isEmpty {
        conditions.append("p.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.states.map(\.sqlValue)
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total =
        try sql.fetchAll(uncached: "SELECT COUNT(*) FROM proposals p" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("p.id < ?")
        pageArguments.append(.integer(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(ProposalRecord.aliasedColumns) FROM proposals p\(pageWhere) ORDER BY p.id DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(ProposalRecord.init(sqlRow:))
      let views = try records.map { try Self.proposalView(sql, $0, clock: clock, now: now) }
      return (views, total, records.count == filter.pageSize ? records.last?.id.map { String($0) } : nil)
    }
  }

  /// The proposal sweeper: moves the colours of the replies awaited forward on the calendar clock,
  /// with "proposal.yellow" / "proposal.red" alerts to the lead department (and the office).
  public func sweepProposals(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord] {
    try await self.mutate { sql in
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let waiting = try sql.fetchAll(
        "SELECT \(ProposalRecord.columns) FROM proposals WHERE state IN (?, ?) AND colour != ? ORDER BY id",
        [ProposalState.assigned.sqlValue, ProposalState.reopened.sqlValue, SLAColour.red.sqlValue]
      ).map(ProposalRecord.init(sqlRow:))
      for var record in waiting {
        let timing = ProposalRules.timing(start: record.roundStartedAt, due: record.dueAt, now: now, yellowThreshold: clock.yellowThreshold)
        guard timing.colour != record.colour, let id = record.id else { continue }
        let previous = record.colour
        record.colour = timing.colour
        try sql.execute("UPDATE proposals SET colour = ? WHERE id = ?", [timing.colour.sqlValue, .integer(id)])
        try AuditLog.append(
          sql, at: now, actor: .system, action: "proposal.colour", entity: "proposal", entityID: record.number,
          detail: ["round": String(record.round), "from": previous.rawValue, "to": timing.colour.rawValue])
        let number = record.number
        let lead = record.leadDepartment
        let due = "(due \(AuditLog.timestamp(timing.due)))"
        let text: String
        switch timing.colour {
        case .red: text = "proposal \(number) awaits the reply of \(lead), overdue \(due)"
        case .yellow: text = "proposal \(number) awaits the reply of \(lead), \(Int(timing.fractionUsed * 100)) % of its time used \(due)"
        case .green: continue
        }
        var alert = AlertRecord(
          id: nil, at: now, kind: "proposal.\(timing.colour.rawValue)", subject: "proposal \(number)", departmentCode: lead,
          colour: timing.colour, message: text)
        alert.id = try AlertRecord.insert(sql, alert)
        alerts.append(alert)
      }
      return alerts
    }
  }

  /// Each lead department's figures of 建议 and 提案 from `from` to `to` (Asia/Shanghai days):
  /// assigned in the period, replies given in the period (each round counted) and of them those on
  /// time, assessments recorded in the period by kind, and the replies awaited now and of them those
  /// past their deadline now; one department's when `department` is given. Read from the tables
  /// (a county handles a few hundred a year) by indexed queries.
  static func proposalFigures(_ sql: any SQLConnection, from: LocalDate, to: LocalDate, department: String?, now: Date) throws
    -> [ProposalFigures]
  {
    var figures: [String: ProposalFigures] = [:]
    let scope = department == nil ? "" : " AND p.lead_department = ?"
    let scopeArguments: [SQLValue] = department.map { [.text($0)] } ?? []
    let period: [SQLValue] = [.text(from.description), .text(to.description)]
    func accumulate(_ text: String, _ arguments: [SQLValue], _ apply: (inout ProposalFigures, SQLRow) throws -> Void) throws {
      for row in try sql.fetchAll(text, arguments) {
        let code = try row.decode(String.self, "department")
        var f = figures[code] ?? ProposalFigures(department: code, name: code)
        try apply(&f, row)
        figures[code] = f
      }
    }
    try accumulate(
      """
      SELECT p.lead_department AS department, COUNT(*) AS n FROM proposals p
      WHERE \(sql.dialect.day("p.assigned_at")) BETWEEN ? AND ?\(scope) GROUP BY p.lead_department
      """, period + scopeArguments
    ) { f, row in f.assigned = try row.decode("n") }
    try accumulate(
      """
      SELECT p.lead_department AS department, COUNT(*) AS n, SUM(r.on_time) AS on_time
      FROM proposal_replies r JOIN proposals p ON p.id = r.proposal_id
      WHERE \(sql.dialect.day("r.replied_at")) BETWEEN ? AND ?\(scope) GROUP BY p.lead_department
      """, period + scopeArguments
    ) { f, row in
      f.replied = try row.decode("n")
      f.repliedOnTime = try row.decode(Int?.self, "on_time") ?? 0
    }
    try accumulate(
      """
      SELECT p.lead_department AS department, COUNT(*) FILTER (WHERE r.assessment = 'SATISFIED') AS satisfied,
        COUNT(*) FILTER (WHERE r.assessment = 'BASICALLY_SATISFIED') AS basically,
        COUNT(*) FILTER (WHERE r.assessment = 'DISSATISFIED') AS dissatisfied
      FROM proposal_replies r JOIN proposals p ON p.id = r.proposal_id
      WHERE r.assessed_at IS NOT NULL AND \(sql.dialect.day("r.assessed_at")) BETWEEN ? AND ?\(scope) GROUP BY p.lead_department
      """, period + scopeArguments
    ) { f, row in
      f.satisfied = try row.decode(Int?.self, "satisfied") ?? 0
      f.basicallySatisfied = try row.decode(Int?.self, "basically") ?? 0
      f.dissatisfied = try row.decode(Int?.self, "dissatisfied") ?? 0
    }
    try accumulate(
      """
      SELECT p.lead_department AS department, COUNT(*) AS n, COUNT(*) FILTER (WHERE p.due_at < ?) AS overdue FROM proposals p
      WHERE p.state IN ('ASSIGNED', 'REOPENED')\(scope) GROUP BY p.lead_department
      """, [StoredDate(now).sqlValue] + scopeArguments
    ) { f, row in
      f.waiting = try row.decode("n")
      f.overdue = try row.decode(Int?.self, "overdue") ?? 0
    }
    let names = Dictionary(
      uniqueKeysWithValues: try sql.fetchAll("SELECT code, name FROM departments").map {
        (try $0.decode(String.self, "code"), try $0.decode(String.self, "name"))
      })
    return figures.values.map { f in
      var f = f
      f.name = names[f.department] ?? f.department
      return f
    }.sorted { $0.department < $1.department }
  }

  /// One step on an existing proposal in one transaction: found (NOT_FOUND), the caller allowed
  /// (PERMISSION_DENIED, before anything about the proposal is said), the version as expected
  /// (ABORTED), the state machine's step (FAILED_PRECONDITION), then `change` and the version,
  /// the row and the audit row `proposal.<step>`.
  private func changeProposal(
    _ method: String, number: String, step: ProposalStep, authority: ProposalAuthority, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?,
    _ change:
      @escaping @Sendable (any SQLConnection, inout ProposalRecord, [ProposalCoDepartmentRecord], SLAClock) throws -> [String: String]
  ) async throws -> ProposalView {
    try await self.mutate(idempotency: key, method: method, encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let clock = currentClock()
      guard var record = try ProposalRecord.byNumber(sql, number), let id = record.id else {
        throw DomainError(kind: .notFound, code: "proposal.not_found", arguments: [String(number.prefix(64))], field: "number")
      }
      let coDepartments = try ProposalCoDepartmentRecord.of(sql, proposal: id)
      try Self.authorize(authority, step: step, actor: actor, record, coDepartments)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "proposal.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      let next = try ProposalRules.after(step, from: record.stage, number: number)
      record.state = next.state
      let detail = try change(sql, &record, coDepartments, clock)
      record.round = max(record.round, next.round)
      record.version += 1
      record.updatedAt = now
      try record.update(sql)
      try AuditLog.append(sql, at: now, actor: actor, action: "proposal.\(step.name)", entity: "proposal", entityID: number, detail: detail)
      return try Self.proposalView(sql, record, clock: clock, now: now)
    }
  }

  /// PERMISSION_DENIED unless `actor` may take `step` on the proposal (the service has already
  /// required the role): the lead department's clerks, its co-handling departments' clerks, the office.
  private static func authorize(
    _ authority: ProposalAuthority, step: ProposalStep, actor: Actor, _ record: ProposalRecord,
    _ coDepartments: [ProposalCoDepartmentRecord]
  ) throws {
    let allowed: Bool
    switch authority {
    case .leadOrOffice: allowed = actor.role == .office || (actor.role == .clerk && actor.organization == record.leadDepartment)
    case .lead: allowed = actor.role == .clerk && actor.organization == record.leadDepartment
    case .coDepartment: allowed = actor.role == .clerk && coDepartments.contains { $0.department == actor.organization }
    case .office: allowed = actor.role == .office
    }
    guard !allowed else { return }
    if authority == .coDepartment {
      throw DomainError(
        kind: .permissionDenied, code: "proposal.not_co_department", arguments: [record.number, actor.organization, actor.person])
    }
    throw DomainError(
      kind: .permissionDenied, code: "proposal.not_lead", messageKey: "proposal.not_lead#\(step.name)",
      arguments: [record.number, actor.organization, actor.person])
  }

  static func proposalView(_ sql: any SQLConnection, _ record: ProposalRecord, clock: SLAClock, now: Date) throws -> ProposalView {
    let names = Dictionary(
      uniqueKeysWithValues: try sql.fetchAll("SELECT code, name FROM departments").map {
        (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1))
      })
    let id = record.id.sqlValue
    let coDepartments = try record.id.map { try ProposalCoDepartmentRecord.of(sql, proposal: $0) } ?? []
    let opinionRecords = try sql.fetchAll(
      "SELECT \(ProposalCoOpinionRecord.columns) FROM proposal_co_opinions WHERE proposal_id = ? ORDER BY department, round", [id]
    ).map(ProposalCoOpinionRecord.init(sqlRow:))
    let opinions = Dictionary(grouping: opinionRecords, by: \.department)
    let contacts = try sql.fetchAll(
      "SELECT \(ProposalContactRecord.columns) FROM proposal_contacts WHERE proposal_id = ? ORDER BY id", [id]
    ).map(ProposalContactRecord.init(sqlRow:))
    let replies = try sql.fetchAll(
      "SELECT \(ProposalReplyRecord.columns) FROM proposal_replies WHERE proposal_id = ? ORDER BY round", [id]
    ).map(ProposalReplyRecord.init(sqlRow:))
    return ProposalView(
      proposal: record, leadDepartmentName: names[record.leadDepartment] ?? record.leadDepartment,
      coDepartments: coDepartments.map {
        ProposalView.CoDepartment(record: $0, name: names[$0.department] ?? $0.department, opinions: opinions[$0.department] ?? [])
      },
      contacts: contacts, replies: replies,
      timing: record.state.awaitsReply
        ? ProposalRules.timing(start: record.roundStartedAt, due: record.dueAt, now: now, yellowThreshold: clock.yellowThreshold) : nil)
  }
}

extension ProposalKind: SQLValueConvertible {}
extension ProposalState: SQLValueConvertible {}
extension ProposalAssessment: SQLValueConvertible {}
extension ProposalContactMethod: SQLValueConvertible {}
extension ProposalResultClass: SQLValueConvertible {}

extension ProposalRecord {
  /// The columns besides `id`, in the order of `storedValues`, as the Codable record names them:
  /// the one list the INSERT, the UPDATE and the reads are made from.
  static let storedColumns = [
    "number", "kind", "title", "proposer", "proposer_contact", "session", "lead_department", "assigned_at", "assigned_by", "reply_months",
    "max_months", "months", "extension_reason", "round", "round_started_at", "due_at", "colour", "state", "assessment", "closed_at",
    "version", "updated_at",
  ]

  /// `id` and `storedColumns`, in the order `init(sqlRow:)` reads them; `aliasedColumns` the same
  /// of the table aliased `p`.
  static let columns = (["id"] + Self.storedColumns).joined(separator: ", ")
  static let aliasedColumns = (["id"] + Self.storedColumns).map { "p." + $0 }.joined(separator: ", ")

  static let insertSQL =
    "INSERT INTO proposals (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"

  static let updateSQL = "UPDATE proposals SET \(Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .text(self.number), self.kind.sqlValue, .text(self.title), .text(self.proposer), .text(self.proposerContact), .text(self.session),
      .text(self.leadDepartment), StoredDate(self.assignedAt).sqlValue, .text(self.assignedBy), self.replyMonths.sqlValue,
      self.maxMonths.sqlValue, self.months.sqlValue, .text(self.extensionReason), self.round.sqlValue,
      StoredDate(self.roundStartedAt).sqlValue, StoredDate(self.dueAt).sqlValue, self.colour.sqlValue, self.state.sqlValue,
      self.assessment.sqlValue, self.closedAt.stored.sqlValue, self.version.sqlValue, StoredDate(self.updatedAt).sqlValue,
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), number: try row.decode(at: 1), kind: try row.decode(at: 2), title: try row.decode(at: 3),
      proposer: try row.decode(at: 4), proposerContact: try row.decode(at: 5), session: try row.decode(at: 6),
      leadDepartment: try row.decode(at: 7), assignedAt: try row.decode(StoredDate.self, at: 8).date, assignedBy: try row.decode(at: 9),
      replyMonths: try row.decode(at: 10), maxMonths: try row.decode(at: 11), months: try row.decode(at: 12),
      extensionReason: try row.decode(at: 13), round: try row.decode(at: 14), roundStartedAt: try row.decode(StoredDate.self, at: 15).date,
      dueAt: try row.decode(StoredDate.self, at: 16).date, colour: try row.decode(at: 17), state: try row.decode(at: 18),
      assessment: try row.decode(at: 19), closedAt: try row.decode(StoredDate?.self, at: 20)?.date, version: try row.decode(at: 21),
      updatedAt: try row.decode(StoredDate.self, at: 22).date)
  }

  static func byNumber(_ sql: any SQLConnection, _ number: String) throws -> ProposalRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM proposals WHERE number = ? LIMIT 1", [.text(number)]).map(ProposalRecord.init(sqlRow:))
  }

  /// Inserts the row and takes its new id.
  mutating func insert(_ sql: any SQLConnection) throws {
    self.id = try sql.fetchOne(Int64.self, Self.insertSQL, self.storedValues)
  }

  /// Rewrites every column but `id`, as GRDB's `update` did.
  func update(_ sql: any SQLConnection) throws {
    guard let id = self.id else { throw DatabaseError(message: "proposal \(self.number) without an id") }
    try sql.execute(Self.updateSQL, self.storedValues + [.integer(id)])
  }
}

extension ProposalCoDepartmentRecord {
  static let columns = "proposal_id, department"

  init(sqlRow row: SQLRow) throws {
    self.init(proposalId: try row.decode(at: 0), department: try row.decode(at: 1))
  }

  /// A proposal's co-handling departments, by code.
  static func of(_ sql: any SQLConnection, proposal id: Int64) throws -> [ProposalCoDepartmentRecord] {
    try sql.fetchAll("SELECT \(Self.columns) FROM proposal_co_departments WHERE proposal_id = ? ORDER BY department", [.integer(id)])
      .map(ProposalCoDepartmentRecord.init(sqlRow:))
  }

  func insert(_ sql: any SQLConnection) throws {
    try sql.execute(
      "INSERT INTO proposal_co_departments (\(Self.columns)) VALUES (?, ?)", [.integer(self.proposalId), .text(self.department)])
  }
}

extension ProposalCoOpinionRecord {
  static let columns = "proposal_id, department, round, opinion, given_at, given_by"

  init(sqlRow row: SQLRow) throws {
    self.init(
      proposalId: try row.decode(at: 0), department: try row.decode(at: 1), round: try row.decode(at: 2), opinion: try row.decode(at: 3),
      givenAt: try row.decode(StoredDate.self, at: 4).date, givenBy: try row.decode(at: 5))
  }

  func insert(_ sql: any SQLConnection) throws {
    try sql.execute(
      "INSERT INTO proposal_co_opinions (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?)",
      [
        .integer(self.proposalId), .text(self.department), self.round.sqlValue, .text(self.opinion), StoredDate(self.givenAt).sqlValue,
        .text(self.givenBy),
      ])
  }
}

extension ProposalContactRecord {
  static let columns = "id, proposal_id, round, contacted_at, method, note, recorded_by, recorded_at"

  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), proposalId: try row.decode(at: 1), round: try row.decode(at: 2),
      contactedAt: try row.decode(StoredDate.self, at: 3).date, method: try row.decode(at: 4), note: try row.decode(at: 5),
      recordedBy: try row.decode(at: 6), recordedAt: try row.decode(StoredDate.self, at: 7).date)
  }

  /// Inserts the row and takes its new id.
  mutating func insert(_ sql: any SQLConnection) throws {
    self.id = try sql.fetchOne(
      Int64.self,
      """
      INSERT INTO proposal_contacts (proposal_id, round, contacted_at, method, note, recorded_by, recorded_at)
      VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
      """,
      [
        .integer(self.proposalId), self.round.sqlValue, StoredDate(self.contactedAt).sqlValue, self.method.sqlValue, .text(self.note),
        .text(self.recordedBy), StoredDate(self.recordedAt).sqlValue,
      ])
  }
}

extension ProposalReplyRecord {
  /// Every column, in the order of `storedValues` and of `init(sqlRow:)`: the key first.
  static let storedColumns = [
    "proposal_id", "round", "replied_at", "replied_by", "due_at", "on_time", "reply_text", "result_class", "assessment",
    "assessment_note", "assessed_at", "assessed_by",
  ]
  static let columns = Self.storedColumns.joined(separator: ", ")

  static let insertSQL =
    "INSERT INTO proposal_replies (\(Self.columns)) VALUES (" + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ")"

  static let updateSQL =
    "UPDATE proposal_replies SET \(Self.storedColumns.dropFirst(2).map { "\($0) = ?" }.joined(separator: ", "))"
    + " WHERE proposal_id = ? AND round = ?"

  var storedValues: [SQLValue] {
    [
      .integer(self.proposalId), self.round.sqlValue, StoredDate(self.repliedAt).sqlValue, .text(self.repliedBy),
      StoredDate(self.dueAt).sqlValue, self.onTime.sqlValue, .text(self.replyText), self.resultClass.sqlValue, self.assessment.sqlValue,
      .text(self.assessmentNote), self.assessedAt.stored.sqlValue, .text(self.assessedBy),
    ]
  }

  init(sqlRow row: SQLRow) throws {
    self.init(
      proposalId: try row.decode(at: 0), round: try row.decode(at: 1), repliedAt: try row.decode(StoredDate.self, at: 2).date,
      repliedBy: try row.decode(at: 3), dueAt: try row.decode(StoredDate.self, at: 4).date, onTime: try row.decode(at: 5),
      replyText: try row.decode(at: 6), resultClass: try row.decode(at: 7), assessment: try row.decode(at: 8),
      assessmentNote: try row.decode(at: 9), assessedAt: try row.decode(StoredDate?.self, at: 10)?.date, assessedBy: try row.decode(at: 11))
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
