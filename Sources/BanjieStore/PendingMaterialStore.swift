public import BanjieCore
public import Foundation
public import GRDB

/// 容缺受理 (docs/DOMAIN.md §20): a non-essential material a case was accepted without, with its
/// promise date (承诺补齐日期) on its own clock.
public struct PendingMaterialRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "case_pending_materials"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public enum State: String, Codable, Sendable, Hashable {
    case pending = "PENDING"
    case supplied = "SUPPLIED"
    case waived = "WAIVED"
  }

  public var id: Int64?
  public var caseId: Int64
  /// As the catalog spells it.
  public var material: String
  /// The clock's start: the acceptance.
  public var pendingSince: Date
  public var workingDays: Int
  /// 承诺补齐日期: `workingDays` working days from `pendingSince` (docs/DOMAIN.md §6).
  public var promisedBy: Date
  /// Moved forward by the sweeper while PENDING; fixed at resolution.
  public var colour: SLAColour
  public var state: State
  public var resolvedAt: Date?
  public var resolvedBy: String
  public var waiveReason: String

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

  public var timedWork: TimedWork {
    TimedWork(clockStart: self.pendingSince, limit: .workingDays(self.workingDays), completedAt: self.resolvedAt)
  }
}

extension PendingMaterialRecord.State: SQLValueConvertible {}

extension PendingMaterialRecord {
  /// The columns besides `id`, in the order of `storedValues`, as the Codable record names them.
  static let storedColumns = [
    "case_id", "material", "pending_since", "working_days", "promised_by", "colour", "state", "resolved_at", "resolved_by", "waive_reason",
  ]
  static let columns = "id, " + Self.storedColumns.joined(separator: ", ")
  static let insertSQL =
    "INSERT INTO case_pending_materials (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .integer(self.caseId), .text(self.material), StoredDate(self.pendingSince).sqlValue, self.workingDays.sqlValue,
      StoredDate(self.promisedBy).sqlValue, self.colour.sqlValue, self.state.sqlValue, self.resolvedAt.stored.sqlValue,
      .text(self.resolvedBy), .text(self.waiveReason),
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), caseId: try row.decode(at: 1), material: try row.decode(at: 2),
      pendingSince: try row.decode(StoredDate.self, at: 3).date, workingDays: try row.decode(at: 4),
      promisedBy: try row.decode(StoredDate.self, at: 5).date, colour: try row.decode(at: 6), state: try row.decode(at: 7),
      resolvedAt: try row.decode(StoredDate?.self, at: 8)?.date, resolvedBy: try row.decode(at: 9), waiveReason: try row.decode(at: 10))
  }

  static let updateSQL =
    "UPDATE case_pending_materials SET " + Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ?"

  /// Writes every column back, as GRDB's `update(db)` did.
  func update(_ sql: any SQLConnection) throws {
    guard let id = self.id else { throw DatabaseError(message: "a pending material without an id cannot be updated") }
    try sql.execute(Self.updateSQL, self.storedValues + [.integer(id)])
  }

  /// Inserts the row and takes its new id.
  mutating func insert(_ sql: any SQLConnection) throws {
    self.id = try sql.fetchOne(Int64.self, Self.insertSQL, self.storedValues)
  }
}

/// What AcceptCase carries for 容缺受理: the materials (already trimmed and NFKC-normalized) and
/// the promise in working days.
public struct PendingAcceptance: Sendable, Hashable {
  public static let defaultWorkingDays = 5
  public static let workingDaysRange = 1...30
  public var materials: [String]
  public var workingDays: Int
  public init(materials: [String], workingDays: Int = PendingAcceptance.defaultWorkingDays) {
    self.materials = materials
    self.workingDays = workingDays
  }
}

/// How pending materials are resolved.
public enum PendingResolution: Sendable, Hashable {
  /// 已补齐: the applicant supplied them (a clerk of the case's department records it).
  case supplied
  /// 免于提交: the office waives them, with a reason.
  case waived(reason: String)

  var state: PendingMaterialRecord.State {
    switch self {
    case .supplied: .supplied
    case .waived: .waived
    }
  }

  /// The case event's and audit row's action name.
  var action: String {
    switch self {
    case .supplied: "materialsSupplied"
    case .waived: "materialsWaived"
    }
  }
}

extension BanjieStore {
  /// A material's name as compared: NFKC, trimmed.
  static func normalizedMaterial(_ text: String) -> String {
    text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Inserts the pending materials of a case being accepted; refuses an item that does not
  /// allow 容缺受理 and a material that is not among the item's materials. Inside the
  /// acceptance's transaction, so a refusal writes nothing.
  static func insertPendingMaterials(
    _ sql: any SQLConnection, record: CaseRecord, caseID: Int64, pending: PendingAcceptance, clock: SLAClock, now: Date
  ) throws -> [PendingMaterialRecord] {
    guard let item = try ServiceItemRecord.byCode(sql, record.itemCode) else {
      throw DomainError(kind: .invalidArgument, code: "case.unknown_item", arguments: [record.itemCode], field: "item_code")
    }
    guard item.allowsMinorPending else {
      throw DomainError(
        kind: .failedPrecondition, code: "case.pending_not_allowed", arguments: [item.code], field: "pending_materials")
    }
    guard PendingAcceptance.workingDaysRange.contains(pending.workingDays) else {
      throw DomainError(
        kind: .invalidArgument, code: "case.pending_bad_days", arguments: ["\(pending.workingDays)"], field: "pending_working_days")
    }
    let catalogue = Dictionary(item.materials.map { (Self.normalizedMaterial($0), $0) }, uniquingKeysWith: { first, _ in first })
    var names: [String] = []
    for material in pending.materials {
      guard let name = catalogue[Self.normalizedMaterial(material)] else {
        throw DomainError(
          kind: .invalidArgument, code: "case.pending_unknown_material", arguments: [material, item.code], field: "pending_materials")
      }
      if !names.contains(name) { names.append(name) }
    }
    let status = try clock.status(clockStart: now, limit: .workingDays(pending.workingDays), now: now)
    var inserted: [PendingMaterialRecord] = []
    for name in names {
      var row = PendingMaterialRecord(
        id: nil, caseId: caseID, material: name, pendingSince: now, workingDays: pending.workingDays, promisedBy: status.due,
        colour: status.colour, state: .pending, resolvedAt: nil, resolvedBy: "", waiveReason: "")
      try row.insert(sql)
      inserted.append(row)
    }
    return inserted
  }

  /// The names of a case's materials still PENDING.
  static func openPendingMaterials(_ sql: any SQLConnection, caseID: Int64) throws -> [String] {
    try sql.fetchAll(
      String.self, "SELECT material FROM case_pending_materials WHERE case_id = ? AND state = 'PENDING' ORDER BY id", [.integer(caseID)])
  }

  /// A case's pending materials for its view: a PENDING one's colour as of `now` (like the
  /// case's own SLA), a resolved one's as fixed at resolution.
  static func pendingMaterials(_ sql: any SQLConnection, _ record: CaseRecord, clock: SLAClock, now: Date) throws -> [PendingMaterialRecord]
  {
    guard let id = record.id else { return [] }
    var rows = try sql.fetchAll(
      "SELECT \(PendingMaterialRecord.columns) FROM case_pending_materials WHERE case_id = ? ORDER BY id", [.integer(id)]
    ).map(PendingMaterialRecord.init(sqlRow:))
    for index in rows.indices where rows[index].state == .pending {
      rows[index].colour = try clock.status(of: rows[index].timedWork, now: now).colour
    }
    return rows
  }

  /// Records pending materials of a case as supplied (已补齐) or waived (免于提交), with the case
  /// event and audit row, in one transaction. Every named material must be PENDING on the case.
  public func resolvePendingMaterials(
    number: String, materials: [String], resolution: PendingResolution, expectedVersion: Int64?, actor: Actor,
    authorize: @escaping @Sendable (CaseRecord) throws -> Void, clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock,
    now: Date,
    key: IdempotencyKey?
  ) async throws -> CaseView {
    guard !materials.isEmpty else {
      throw DomainError(kind: .invalidArgument, code: "case.pending_materials_required", field: "materials")
    }
    if case .waived(let reason) = resolution {
      guard !reason.allSatisfy(\.isWhitespace) else {
        throw DomainError(kind: .invalidArgument, code: "case.waive_reason_required", field: "reason")
      }
    }
    return try await self.mutate(
      idempotency: key, method: "case.\(resolution.action)", encode: Self.encodeView, decode: Self.decodeView, now: now
    ) { sql in
      // Read in the writer, after any calendar import or settings change it ran before.
      let clock = currentClock()
      guard var record = try CaseRecord.byNumber(sql, number), let caseID = record.id else {
        throw DomainError(kind: .notFound, code: "case.not_found", arguments: [number], field: "number")
      }
      try authorize(record)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "case.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      guard record.state == .accepted || record.state == .suspended else {
        throw DomainError(
          kind: .failedPrecondition, code: "case.pending_case_closed", arguments: [number, record.state.rawValue], field: "state")
      }
      let rows = try sql.fetchAll(
        "SELECT \(PendingMaterialRecord.columns) FROM case_pending_materials WHERE case_id = ? ORDER BY id", [.integer(caseID)]
      ).map(PendingMaterialRecord.init(sqlRow:))
      var chosen: [PendingMaterialRecord] = []
      for material in materials {
        let wanted = Self.normalizedMaterial(material)
        guard let row = rows.first(where: { Self.normalizedMaterial($0.material) == wanted }) else {
          throw DomainError(
            kind: .invalidArgument, code: "case.pending_unknown_on_case", arguments: [material, number], field: "materials")
        }
        guard row.state == .pending else {
          throw DomainError(
            kind: .failedPrecondition, code: "case.pending_already_resolved", arguments: [row.material, row.state.rawValue],
            field: "materials")
        }
        if !chosen.contains(where: { $0.id == row.id }) { chosen.append(row) }
      }
      var reason = ""
      if case .waived(let text) = resolution { reason = text }
      let by = "\(actor.person) (\(actor.role.rawValue), \(actor.organization))"
      for var row in chosen {
        row.state = resolution.state
        row.resolvedAt = now
        row.resolvedBy = by
        row.waiveReason = reason
        row.colour = try clock.status(of: row.timedWork, now: now).colour
        try row.update(sql)
      }
      let names = chosen.map(\.material).joined(separator: ", ")
      record.version += 1
      record.updatedAt = now
      try record.updateVersion(sql)
      let note = reason.isEmpty ? names : "\(names): \(reason)"
      try Self.appendEvent(sql, record: record, action: resolution.action, from: record.state, actor: actor, note: note, at: now)
      var detail = ["materials": names, "version": String(record.version)]
      if !reason.isEmpty { detail["reason"] = reason }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "case.\(resolution.action)", entity: "case", entityID: number, detail: detail)
      return try self.view(sql, record, clock: clock, now: now)
    }
  }

  /// The sweeper's full pass over 容缺 materials: moves the colours of PENDING materials of open
  /// cases (accepted or suspended) forward by their own promise date, with an audit row
  /// (`case.pendingColour`) and a "pending.yellow" / "pending.red" alert carrying the case's
  /// department.
  public func sweepPendingMaterials(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date) async throws
    -> [AlertRecord]
  {
    try await self.mutate { sql in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      let rows = try sql.fetchAll(
        """
        SELECT p.id AS pid, c.number AS number, c.department_code AS department FROM case_pending_materials p
        JOIN cases c ON c.id = p.case_id
        WHERE p.state = 'PENDING' AND p.colour != ? AND c.state IN (?, ?)
        ORDER BY p.promised_by, p.id
        """, [SLAColour.red.sqlValue, CaseState.accepted.sqlValue, CaseState.suspended.sqlValue])
      for row in rows {
        let pid: Int64 = try row.decode(at: 0)
        let number: String = try row.decode(at: 1)
        let department: String = try row.decode(at: 2)
        guard
          var material = try sql.fetchOne(
            "SELECT \(PendingMaterialRecord.columns) FROM case_pending_materials WHERE id = ?", [.integer(pid)]
          ).map(PendingMaterialRecord.init(sqlRow:))
        else { continue }
        let status = try clock.status(of: material.timedWork, now: now)
        guard status.colour != material.colour else { continue }
        let previous = material.colour
        material.colour = status.colour
        try sql.execute("UPDATE case_pending_materials SET colour = ? WHERE id = ?", [material.colour.sqlValue, .integer(pid)])
        try AuditLog.append(
          sql, at: now, actor: .system, action: "case.pendingColour", entity: "case", entityID: number,
          detail: ["material": material.material, "from": previous.rawValue, "to": status.colour.rawValue])
        let text: String
        switch status.colour {
        case .red:
          text =
            "pending material \"\(material.material)\" of case \(number) is overdue (promised by \(AuditLog.timestamp(material.promisedBy)))"
        case .yellow:
          text =
            "pending material \"\(material.material)\" of case \(number) has used \(Int(status.fractionUsed * 100)) % of its time (promised by \(AuditLog.timestamp(material.promisedBy)))"
        case .green: continue
        }
        var alert = AlertRecord(
          id: nil, at: now, kind: "pending.\(status.colour.rawValue)", subject: "case \(number)", departmentCode: department,
          colour: status.colour, message: text)
        alert.id = try AlertRecord.insert(sql, alert)
        alerts.append(alert)
      }
      return alerts
    }
  }
}
