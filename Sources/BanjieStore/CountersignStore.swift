public import BanjieCore
public import Foundation
public import GRDB

/// A draft document sent for countersigning (会签), as stored: table `countersign_documents`
/// (migration v11-countersign).
public struct CountersignDocumentRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "countersign_documents"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  /// e.g. HQ-370830-20261130-0001
  public var number: String
  public var title: String
  /// 文号, when the draft has one.
  public var documentNumber: String
  public var lengthCharacters: Int
  /// 政策性文件.
  public var policy: Bool
  /// A policy document over CountersignRules.policyLengthLimit characters, gone ahead with `overLengthReason`.
  public var overLength: Bool
  public var overLengthReason: String
  /// 主办单位: the department that registered it.
  public var leadUnit: String
  public var registeredAt: Date
  public var registeredBy: String
  public var state: CountersignState
  public var completedAt: Date?
  public var version: Int64
  public var updatedAt: Date

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

/// One countersigning unit (会签单位) of a draft: table `countersign_units`.
public struct CountersignUnitRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "countersign_units"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var documentId: Int64
  public var unit: String
  /// When the unit received the draft: its registration.
  public var receivedAt: Date
  /// The limit in force: the county setting at registration plus every extension.
  public var limitWorkingDays: Int
  public var extendedDays: Int
  /// The reason of the last extension (every extension is in the audit log).
  public var extensionReason: String
  public var dueAt: Date
  /// Moved forward by the sweeper while waiting; fixed at the answer.
  public var colour: SLAColour
  public var answer: CountersignAnswer?
  public var answerText: String
  public var answeredBy: String
  public var answeredAt: Date?
  /// Answered by its deadline; nil while waiting.
  public var onTime: Bool?

  public var timedWork: TimedWork {
    CountersignRules.timedWork(receivedAt: self.receivedAt, limitWorkingDays: self.limitWorkingDays, answeredAt: self.answeredAt)
  }
}

extension CountersignState: SQLValueConvertible {}
extension CountersignAnswer: SQLValueConvertible {}

extension CountersignDocumentRecord {
  /// The columns besides `id`, in the order of `storedValues`, as the Codable record names them.
  static let storedColumns = [
    "number", "title", "document_number", "length_characters", "policy", "over_length", "over_length_reason", "lead_unit",
    "registered_at", "registered_by", "state", "completed_at", "version", "updated_at",
  ]
  /// `id` and `storedColumns`, the order `init(sqlRow:)` reads.
  static let columns = "id, " + Self.storedColumns.joined(separator: ", ")
  /// `columns` of the table aliased `d`.
  static let aliasedColumns = (["id"] + Self.storedColumns).map { "d.\($0)" }.joined(separator: ", ")
  static let insertSQL =
    "INSERT INTO countersign_documents (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"
  /// Every column but the id, as GRDB's `update` wrote them.
  static let updateSQL =
    "UPDATE countersign_documents SET " + Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ?"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .text(self.number), .text(self.title), .text(self.documentNumber), self.lengthCharacters.sqlValue, self.policy.sqlValue,
      self.overLength.sqlValue, .text(self.overLengthReason), .text(self.leadUnit), StoredDate(self.registeredAt).sqlValue,
      .text(self.registeredBy), self.state.sqlValue, self.completedAt.stored.sqlValue, self.version.sqlValue,
      StoredDate(self.updatedAt).sqlValue,
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), number: try row.decode(at: 1), title: try row.decode(at: 2), documentNumber: try row.decode(at: 3),
      lengthCharacters: try row.decode(at: 4), policy: try row.decode(at: 5), overLength: try row.decode(at: 6),
      overLengthReason: try row.decode(at: 7), leadUnit: try row.decode(at: 8), registeredAt: try row.decode(StoredDate.self, at: 9).date,
      registeredBy: try row.decode(at: 10), state: try row.decode(at: 11), completedAt: try row.decode(StoredDate?.self, at: 12)?.date,
      version: try row.decode(at: 13), updatedAt: try row.decode(StoredDate.self, at: 14).date)
  }

  /// Inserts the row and takes its new id.
  mutating func insert(_ sql: any SQLConnection) throws {
    self.id = try sql.fetchOne(Int64.self, Self.insertSQL, self.storedValues)
  }

  /// Writes every column back, as GRDB's `update` did.
  func updateAll(_ sql: any SQLConnection) throws {
    guard let id = self.id else { throw DatabaseError(message: "a countersign document without an id cannot be updated") }
    try sql.execute(Self.updateSQL, self.storedValues + [.integer(id)])
  }

  static func byNumber(_ sql: any SQLConnection, _ number: String) throws -> CountersignDocumentRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM countersign_documents WHERE number = ?", [.text(number)])
      .map(CountersignDocumentRecord.init(sqlRow:))
  }
}

extension CountersignUnitRecord {
  /// The columns of `countersign_units`, in the order of `storedValues` and `init(sqlRow:)`; the
  /// key (document_id, unit) first.
  static let storedColumns = [
    "document_id", "unit", "received_at", "limit_working_days", "extended_days", "extension_reason", "due_at", "colour", "answer",
    "answer_text", "answered_by", "answered_at", "on_time",
  ]
  static let columns = Self.storedColumns.joined(separator: ", ")
  /// `columns` of the table aliased `u`.
  static let aliasedColumns = Self.storedColumns.map { "u.\($0)" }.joined(separator: ", ")
  static let insertSQL =
    "INSERT INTO countersign_units (\(Self.columns)) VALUES (" + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ")"
  /// Every column but the key, as GRDB's `update` wrote them.
  static let updateSQL =
    "UPDATE countersign_units SET " + Self.storedColumns.dropFirst(2).map { "\($0) = ?" }.joined(separator: ", ")
    + " WHERE document_id = ? AND unit = ?"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .integer(self.documentId), .text(self.unit), StoredDate(self.receivedAt).sqlValue, self.limitWorkingDays.sqlValue,
      self.extendedDays.sqlValue, .text(self.extensionReason), StoredDate(self.dueAt).sqlValue, self.colour.sqlValue,
      self.answer.sqlValue, .text(self.answerText), .text(self.answeredBy), self.answeredAt.stored.sqlValue, self.onTime.sqlValue,
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      documentId: try row.decode(at: 0), unit: try row.decode(at: 1), receivedAt: try row.decode(StoredDate.self, at: 2).date,
      limitWorkingDays: try row.decode(at: 3), extendedDays: try row.decode(at: 4), extensionReason: try row.decode(at: 5),
      dueAt: try row.decode(StoredDate.self, at: 6).date, colour: try row.decode(at: 7), answer: try row.decode(at: 8),
      answerText: try row.decode(at: 9), answeredBy: try row.decode(at: 10), answeredAt: try row.decode(StoredDate?.self, at: 11)?.date,
      onTime: try row.decode(at: 12))
  }

  func insert(_ sql: any SQLConnection) throws {
    try sql.execute(Self.insertSQL, self.storedValues)
  }

  /// Writes every column but the key back, as GRDB's `update` did.
  func updateAll(_ sql: any SQLConnection) throws {
    let values = self.storedValues
    try sql.execute(Self.updateSQL, Array(values.dropFirst(2)) + [.integer(self.documentId), .text(self.unit)])
  }

  /// A document's units, by unit.
  static func ofDocument(_ sql: any SQLConnection, _ documentID: Int64?) throws -> [CountersignUnitRecord] {
    try sql.fetchAll("SELECT \(Self.columns) FROM countersign_units WHERE document_id = ? ORDER BY unit", [documentID.sqlValue])
      .map(CountersignUnitRecord.init(sqlRow:))
  }
}

/// A draft with its units, their names and each waiting unit's SLA at a moment.
public struct CountersignView: Codable, Sendable, Hashable {
  public struct Unit: Codable, Sendable, Hashable {
    public var record: CountersignUnitRecord
    public var unitName: String
    /// Absent once the unit has answered.
    public var sla: SLAStatusSnapshot?
  }
  public var document: CountersignDocumentRecord
  public var leadUnitName: String
  public var units: [Unit]
}

/// What a lead unit registers.
public struct NewCountersign: Sendable, Hashable {
  public var title: String
  public var documentNumber: String
  public var lengthCharacters: Int
  public var policy: Bool
  public var overLengthReason: String
  public var units: [String]
  public init(title: String, documentNumber: String, lengthCharacters: Int, policy: Bool, overLengthReason: String, units: [String]) {
    self.title = title
    self.documentNumber = documentNumber
    self.lengthCharacters = lengthCharacters
    self.policy = policy
    self.overLengthReason = overLengthReason
    self.units = units
  }
}

/// One unit's countersign figures for the dashboard.
public struct CountersignUnitFigures: Sendable, Hashable {
  public var unit: String
  public var name: String
  /// Answers given in the period, and of them those by the deadline.
  public var answered = 0
  public var onTime = 0
  /// Drafts waiting on the unit now, and of them those past their deadline now.
  public var waiting = 0
  public var overdue = 0
  public var onTimeRate: Double { RatingMeasuresRow.share(self.onTime, self.answered) }
}

/// 部门会签: the lead unit registers and extends, each unit answers, the sweeper colours the
/// units still waiting. Each mutation one transaction with its audit row.
extension BanjieStore {
  /// Registers a draft and its units: each unit's clock starts now, for the county's countersign
  /// limit (docs/DOMAIN.md §23). `actor.organization` is the lead unit.
  public func registerCountersign(
    _ new: NewCountersign, regionCode: String, actor: Actor, clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock,
    now: Date, key: IdempotencyKey?
  ) async throws -> CountersignView {
    let overLength = try CountersignRules.checkLength(policy: new.policy, length: new.lengthCharacters, reason: new.overLengthReason)
    return try await self.mutate(idempotency: key, method: "RegisterCountersign", encode: Self.encoded, decode: Self.decoded, now: now) {
      sql in
      let clock = currentClock()
      let lead = actor.organization
      guard try sql.present("departments", "code", .text(lead)) else {
        throw DomainError(kind: .permissionDenied, code: "countersign.unknown_lead", arguments: [lead])
      }
      let known = Set(try sql.fetchAll(String.self, "SELECT code FROM departments"))
      let units = try CountersignRules.checkUnits(new.units, lead: lead, known: known)
      let limit = try Self.setting(sql, CountySettings.Key.countersignLimitWorkingDays.metaKey, default: 5)
      let number = try Self.dailyNumber(
        sql, sequences: "countersign_number_sequences", prefix: "HQ", regionCode: regionCode,
        day: clock.calendar.localDate(of: now))
      var document = CountersignDocumentRecord(
        id: nil, number: number, title: new.title, documentNumber: new.documentNumber, lengthCharacters: new.lengthCharacters,
        policy: new.policy, overLength: overLength, overLengthReason: overLength ? new.overLengthReason : "", leadUnit: lead,
        registeredAt: now, registeredBy: Self.actorName(actor), state: .open, completedAt: nil, version: 1, updatedAt: now)
      try document.insert(sql)
      guard let documentID = document.id else { throw DatabaseError(message: "countersign document without an id") }
      for unit in units {
        let status = try clock.status(of: CountersignRules.timedWork(receivedAt: now, limitWorkingDays: limit, answeredAt: nil), now: now)
        try CountersignUnitRecord(
          documentId: documentID, unit: unit, receivedAt: now, limitWorkingDays: limit, extendedDays: 0, extensionReason: "",
          dueAt: status.due, colour: status.colour, answer: nil, answerText: "", answeredBy: "", answeredAt: nil, onTime: nil
        ).insert(sql)
      }
      var detail = [
        "title": new.title, "lead": lead, "units": units.joined(separator: ","), "limit_working_days": String(limit),
        "length": String(new.lengthCharacters), "policy": new.policy ? "1" : "0",
      ]
      if !new.documentNumber.isEmpty { detail["document_number"] = new.documentNumber }
      if overLength { detail["over_length_reason"] = new.overLengthReason }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "countersign.register", entity: "countersign", entityID: number, detail: detail)
      return try Self.countersignView(sql, document, clock: clock, now: now)
    }
  }

  /// A unit's answer: `actor.organization` must be one of the draft's units, still waiting, and
  /// the draft still open. The last answer completes the draft.
  public func answerCountersign(
    number: String, answer: CountersignAnswer, text: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> CountersignView {
    try CountersignRules.checkAnswer(answer, text: text)
    return try await self.mutate(idempotency: key, method: "countersign.answer", encode: Self.encoded, decode: Self.decoded, now: now) {
      sql in
      let clock = currentClock()
      var (document, units) = try Self.countersignForChange(sql, number: number, expectedVersion: expectedVersion)
      guard let index = units.firstIndex(where: { $0.unit == actor.organization }) else {
        throw DomainError(
          kind: .permissionDenied, code: "countersign.not_a_unit", arguments: [number, actor.organization, actor.person])
      }
      try Self.checkVersion(document, expectedVersion)
      guard document.state == .open else {
        throw DomainError.failedPrecondition("countersign.complete", arguments: [number], field: "number")
      }
      guard units[index].answeredAt == nil else {
        throw DomainError.failedPrecondition("countersign.already_answered", arguments: [number, actor.organization], field: "number")
      }
      var unit = units[index]
      unit.answer = answer
      unit.answerText = text
      unit.answeredBy = Self.actorName(actor)
      unit.answeredAt = now
      let status = try clock.status(of: unit.timedWork, now: now)
      unit.dueAt = status.due
      unit.colour = status.colour
      unit.onTime = now <= status.due
      try unit.updateAll(sql)
      units[index] = unit
      if units.allSatisfy({ $0.answeredAt != nil }) {
        document.state = .complete
        document.completedAt = now
      }
      document.version += 1
      document.updatedAt = now
      try document.updateAll(sql)
      var detail = ["unit": unit.unit, "answer": answer.rawValue, "on_time": unit.onTime == true ? "1" : "0"]
      if !text.isEmpty { detail["text"] = text }
      if document.state == .complete { detail["complete"] = "1" }
      try AuditLog.append(sql, at: now, actor: actor, action: "countersign.answer", entity: "countersign", entityID: number, detail: detail)
      return try Self.countersignView(sql, document, clock: clock, now: now)
    }
  }

  /// The lead unit extends one waiting unit's limit by `days` working days, with a reason.
  public func extendCountersign(
    number: String, unit unitCode: String, days: Int, reason: String, expectedVersion: Int64?, actor: Actor,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> CountersignView {
    guard CountersignRules.extensionRange.contains(days) else {
      throw DomainError(
        kind: .invalidArgument, code: "countersign.bad_extension",
        arguments: ["\(days)", "\(CountersignRules.extensionRange.lowerBound)", "\(CountersignRules.extensionRange.upperBound)"],
        field: "working_days")
    }
    guard !reason.allSatisfy(\.isWhitespace) else {
      throw DomainError(kind: .invalidArgument, code: "countersign.extension_reason_required", field: "reason")
    }
    return try await self.mutate(idempotency: key, method: "countersign.extend", encode: Self.encoded, decode: Self.decoded, now: now) {
      sql in
      let clock = currentClock()
      let (found, units) = try Self.countersignForChange(sql, number: number, expectedVersion: expectedVersion)
      var document = found
      guard document.leadUnit == actor.organization else {
        throw DomainError(
          kind: .permissionDenied, code: "countersign.not_lead", arguments: [number, document.leadUnit, actor.organization, actor.person])
      }
      try Self.checkVersion(document, expectedVersion)
      guard document.state == .open else {
        throw DomainError.failedPrecondition("countersign.complete", arguments: [number], field: "number")
      }
      guard let index = units.firstIndex(where: { $0.unit == unitCode }) else {
        throw DomainError(kind: .invalidArgument, code: "countersign.no_such_unit", arguments: [number, unitCode], field: "unit")
      }
      guard units[index].answeredAt == nil else {
        throw DomainError.failedPrecondition("countersign.already_answered", arguments: [number, unitCode], field: "unit")
      }
      var unit = units[index]
      guard unit.limitWorkingDays + days <= 365 else {
        throw DomainError(
          kind: .invalidArgument, code: "countersign.bad_extension", arguments: ["\(days)", "1", "\(365 - unit.limitWorkingDays)"],
          field: "working_days")
      }
      unit.limitWorkingDays += days
      unit.extendedDays += days
      unit.extensionReason = reason
      let status = try clock.status(of: unit.timedWork, now: now)
      unit.dueAt = status.due
      unit.colour = status.colour
      try unit.updateAll(sql)
      document.version += 1
      document.updatedAt = now
      try document.updateAll(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "countersign.extend", entity: "countersign", entityID: number,
        detail: ["unit": unitCode, "days": String(days), "reason": reason, "due": AuditLog.timestamp(status.due)])
      return try Self.countersignView(sql, document, clock: clock, now: now)
    }
  }

  public func countersign(number: String, clock: SLAClock, now: Date) async throws -> CountersignView? {
    try await self.read { sql in
      guard let document = try CountersignDocumentRecord.byNumber(sql, number) else { return nil }
      return try Self.countersignView(sql, document, clock: clock, now: now)
    }
  }

  public struct CountersignFilter: Sendable {
    /// Drafts this department leads or countersigns (a clerk's scope).
    public var involving: String?
    /// Drafts waiting on this unit's answer.
    public var waitingOn: String?
    public var lead: String?
    public var states: [CountersignState] = []
    public var pageSize = 50
    public var after: String?
    public init() {}
  }

  /// A page of drafts, newest first.
  public func listCountersigns(_ filter: CountersignFilter, clock: SLAClock, now: Date) async throws -> (
    views: [CountersignView], total: Int, next: String?
  ) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let involving = filter.involving {
        conditions.append("(d.lead_unit = ? OR d.id IN (SELECT document_id FROM countersign_units WHERE unit = ?))")
        arguments += [.text(involving), .text(involving)]
      }
      if let waiting = filter.waitingOn {
        conditions.append("d.id IN (SELECT document_id FROM countersign_units WHERE unit = ? AND answered_at IS NULL)")
        arguments.append(.text(waiting))
      }
      if let lead = filter.lead {
        conditions.append("d.lead_unit = ?")
        arguments.append(.text(lead))
      }
      if !filter.states.isEmpty {
        conditions.append("d.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
        arguments += filter.states.map(\.sqlValue)
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total =
        try sql.fetchAll(uncached: "SELECT COUNT(*) FROM countersign_documents d" + whereClause, arguments).first?.decode(Int.self, at: 0)
        ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("d.number < ?")
        pageArguments.append(.text(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let documents = try sql.fetchAll(
        uncached:
          "SELECT \(CountersignDocumentRecord.aliasedColumns) FROM countersign_documents d\(pageWhere) ORDER BY d.number DESC LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(CountersignDocumentRecord.init(sqlRow:))
      let views = try documents.map { try Self.countersignView(sql, $0, clock: clock, now: now) }
      return (views, total, documents.count == filter.pageSize ? documents.last?.number : nil)
    }
  }

  /// The countersign sweeper: moves the colours of units still waiting forward, with
  /// "countersign.yellow" / "countersign.red" alerts to the unit's department (and the office).
  public func sweepCountersign(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws -> [AlertRecord]
  {
    try await self.mutate { sql in
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let waiting = try sql.fetchAll(
        """
        SELECT \(CountersignUnitRecord.aliasedColumns), d.number FROM countersign_units u JOIN countersign_documents d ON d.id = u.document_id
        WHERE u.answered_at IS NULL AND u.colour != ? AND d.state = ? ORDER BY d.number, u.unit
        """, [SLAColour.red.sqlValue, CountersignState.open.sqlValue])
      for row in waiting {
        var unit = try CountersignUnitRecord(sqlRow: row)
        let number = try row.decode(String.self, at: CountersignUnitRecord.storedColumns.count)
        let status = try clock.status(of: unit.timedWork, now: now)
        guard status.colour != unit.colour else {
          // A calendar import or new office hours moved the deadline: the stored one follows.
          if status.due != unit.dueAt {
            unit.dueAt = status.due
            try sql.execute(
              "UPDATE countersign_units SET due_at = ? WHERE document_id = ? AND unit = ?",
              [StoredDate(unit.dueAt).sqlValue, .integer(unit.documentId), .text(unit.unit)])
          }
          continue
        }
        let previous = unit.colour
        unit.colour = status.colour
        unit.dueAt = status.due
        try sql.execute(
          "UPDATE countersign_units SET colour = ?, due_at = ? WHERE document_id = ? AND unit = ?",
          [unit.colour.sqlValue, StoredDate(unit.dueAt).sqlValue, .integer(unit.documentId), .text(unit.unit)])
        try AuditLog.append(
          sql, at: now, actor: .system, action: "countersign.colour", entity: "countersign", entityID: number,
          detail: ["unit": unit.unit, "from": previous.rawValue, "to": status.colour.rawValue])
        let text: String
        switch status.colour {
        case .red: text = "countersign \(number) awaits the answer of \(unit.unit), overdue (due \(AuditLog.timestamp(status.due)))"
        case .yellow:
          text =
            "countersign \(number) awaits the answer of \(unit.unit), \(Int(status.fractionUsed * 100)) % of its working time used (due \(AuditLog.timestamp(status.due)))"
        case .green: continue
        }
        var alert = AlertRecord(
          id: nil, at: now, kind: "countersign.\(status.colour.rawValue)", subject: "countersign \(number) \(unit.unit)",
          departmentCode: unit.unit, colour: status.colour, message: text)
        alert.id = try AlertRecord.insert(sql, alert)
        alerts.append(alert)
      }
      return alerts
    }
  }

  /// Each unit's countersign figures: answers given from `from` to `to` (Asia/Shanghai days) and
  /// of them those on time, and the drafts waiting on it now and of them those overdue now; one
  /// department's when `department` is given. Read from the tables (a county countersigns a few
  /// hundred drafts a year), by indexed queries.
  static func countersignFigures(_ sql: any SQLConnection, from: LocalDate, to: LocalDate, department: String?, now: Date) throws
    -> [CountersignUnitFigures]
  {
    var figures: [String: CountersignUnitFigures] = [:]
    let scope = department == nil ? "" : " AND u.unit = ?"
    let scopeArguments: [SQLValue] = department.map { [.text($0)] } ?? []
    let answered = try sql.fetchAll(
      """
      SELECT u.unit, COUNT(*) AS n, SUM(u.on_time) AS on_time FROM countersign_units u
      WHERE u.answered_at IS NOT NULL AND \(sql.dialect.day("u.answered_at")) BETWEEN ? AND ?\(scope) GROUP BY u.unit
      """, [.text(from.description), .text(to.description)] + scopeArguments)
    for row in answered {
      let unit = try row.decode(String.self, "unit")
      var f = figures[unit] ?? CountersignUnitFigures(unit: unit, name: unit)
      f.answered = try row.decode("n")
      f.onTime = try row.decode(Int?.self, "on_time") ?? 0
      figures[unit] = f
    }
    let waiting = try sql.fetchAll(
      """
      SELECT u.unit, COUNT(*) AS n, COUNT(*) FILTER (WHERE u.due_at < ?) AS overdue
      FROM countersign_units u JOIN countersign_documents d ON d.id = u.document_id
      WHERE u.answered_at IS NULL AND d.state = 'OPEN'\(scope) GROUP BY u.unit
      """, [StoredDate(now).sqlValue] + scopeArguments)
    for row in waiting {
      let unit = try row.decode(String.self, "unit")
      var f = figures[unit] ?? CountersignUnitFigures(unit: unit, name: unit)
      f.waiting = try row.decode("n")
      f.overdue = try row.decode(Int?.self, "overdue") ?? 0
      figures[unit] = f
    }
    let names = Dictionary(
      uniqueKeysWithValues: try sql.fetchAll("SELECT code, name FROM departments").map {
        (try $0.decode(String.self, "code"), try $0.decode(String.self, "name"))
      })
    return figures.values.map { f in
      var f = f
      f.name = names[f.unit] ?? f.unit
      return f
    }.sorted { $0.unit < $1.unit }
  }

  /// The stale-version refusal, checked after the caller is known to be allowed.
  private static func checkVersion(_ document: CountersignDocumentRecord, _ expectedVersion: Int64?) throws {
    if let expectedVersion, expectedVersion != document.version {
      throw DomainError(
        kind: .aborted, code: "countersign.version_conflict", arguments: [document.number, "\(document.version)", "\(expectedVersion)"],
        field: "expected_version")
    }
  }

  private static func countersignForChange(_ sql: any SQLConnection, number: String, expectedVersion: Int64?) throws -> (
    CountersignDocumentRecord, [CountersignUnitRecord]
  ) {
    guard let document = try CountersignDocumentRecord.byNumber(sql, number), let id = document.id else {
      throw DomainError(kind: .notFound, code: "countersign.not_found", arguments: [String(number.prefix(64))], field: "number")
    }
    let units = try CountersignUnitRecord.ofDocument(sql, id)
    return (document, units)
  }

  static func countersignView(_ sql: any SQLConnection, _ document: CountersignDocumentRecord, clock: SLAClock, now: Date) throws
    -> CountersignView
  {
    let names = Dictionary(
      uniqueKeysWithValues: try sql.fetchAll("SELECT code, name FROM departments").map {
        (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1))
      })
    let units = try CountersignUnitRecord.ofDocument(sql, document.id)
    return CountersignView(
      document: document, leadUnitName: names[document.leadUnit] ?? document.leadUnit,
      units: try units.map { unit in
        CountersignView.Unit(
          record: unit, unitName: names[unit.unit] ?? unit.unit,
          sla: unit.answeredAt == nil ? SLAStatusSnapshot(try clock.status(of: unit.timedWork, now: now), at: now) : nil)
      })
  }
}
