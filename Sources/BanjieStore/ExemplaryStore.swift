public import BanjieCore
public import Foundation

/// A nomination of an exemplary case (优质案例).
public struct NominationView: Sendable, Hashable, Codable {
  public enum State: String, Sendable, Hashable, Codable {
    case nominated = "NOMINATED"
    case selected = "SELECTED"
    case declined = "DECLINED"
  }
  public var id: Int64
  public var kind: String
  public var subject: String
  public var departmentCode: String
  public var year: Int
  public var account: String
  public var state: State
  public var nominatedBy: String
  public var nominatedAt: Date
  public var reviewNote: String
  public var reviewedBy: String
  public var reviewedAt: Date?
}

/// 优质案例: nominations by departments, selection by the office.
extension BanjieStore {
  public enum NominationSubject: Sendable, Hashable {
    case caseNumber(String)
    case demandNumber(String)
  }

  /// Nominates a completed case or a closed demand. `authorize` sees the subject's department first.
  public func nominate(
    _ subject: NominationSubject, account: String, actor: Actor, authorize: @escaping @Sendable (String) throws -> Void,
    calendar: WorkingCalendar, now: Date, key: IdempotencyKey?
  ) async throws -> NominationView {
    try await self.mutate(idempotency: key, method: "Nominate", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let kind: String
      let number: String
      let department: String
      let doneAt: Date
      switch subject {
      case .caseNumber(let n):
        guard let row = try sql.fetchOne("SELECT department_code, state, completed_at FROM cases WHERE number = ?", [.text(n)]) else {
          throw Self.caseMissing(n)
        }
        department = try row.decode("department_code")
        try authorize(department)
        let state: String = try row.decode("state")
        guard let completedAt = try row.decode(StoredDate?.self, "completed_at")?.date,
          state == CaseState.completed.rawValue || state == CaseState.delivered.rawValue
        else {
          throw DomainError.failedPrecondition("exemplary.not_completed", arguments: [n, state], field: "case_number")
        }
        (kind, number, doneAt) = ("case", n, completedAt)
      case .demandNumber(let n):
        guard let row = try sql.fetchOne("SELECT department_code, state, closed_at FROM demands WHERE number = ?", [.text(n)]) else {
          throw DomainError(kind: .notFound, code: "demand.not_found", arguments: [String(n.prefix(64))], field: "demand_number")
        }
        department = try row.decode("department_code")
        try authorize(department)
        let state: String = try row.decode("state")
        guard let closedAt = try row.decode(StoredDate?.self, "closed_at")?.date, state == DemandState.closed.rawValue else {
          throw DomainError.failedPrecondition("exemplary.not_closed", arguments: [n, state], field: "demand_number")
        }
        (kind, number, doneAt) = ("demand", n, closedAt)
      }
      if let existing = try sql.fetchOne(
        Int64.self, "SELECT id FROM exemplary_nominations WHERE kind = ? AND subject = ?", [.text(kind), .text(number)])
      {
        throw DomainError(
          kind: .alreadyExists, code: "exemplary.already_nominated", arguments: [kind, number, "\(existing)"],
          field: kind == "case" ? "case_number" : "demand_number")
      }
      let year = calendar.localDate(of: doneAt).year
      guard
        let id = try sql.fetchOne(
          Int64.self,
          """
          INSERT INTO exemplary_nominations (kind, subject, department_code, year, account, state, nominated_by, nominated_at)
          VALUES (?, ?, ?, ?, ?, 'NOMINATED', ?, ?) RETURNING id
          """,
          [.text(kind), .text(number), .text(department), year.sqlValue, .text(account), .text(actor.person), StoredDate(now).sqlValue])
      else { throw SQLDecodingError(column: "id", type: Int64.self, problem: .null) }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "exemplary.nominate", entity: "nomination", entityID: String(id),
        detail: ["kind": kind, "subject": number, "department": department])
      guard let view = try Self.nomination(sql, id: id) else { throw Self.nominationMissing(id) }
      return view
    }
  }

  public func reviewNomination(id: Int64, select: Bool, note: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> NominationView
  {
    try await self.mutate(idempotency: key, method: "ReviewNomination", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      guard let view = try Self.nomination(sql, id: id) else { throw Self.nominationMissing(id) }
      guard view.state == .nominated else {
        throw DomainError.failedPrecondition("exemplary.already_reviewed", arguments: ["\(id)", view.state.rawValue], field: "id")
      }
      let state: NominationView.State = select ? .selected : .declined
      try sql.execute(
        "UPDATE exemplary_nominations SET state = ?, review_note = ?, reviewed_by = ?, reviewed_at = ? WHERE id = ?",
        [.text(state.rawValue), .text(note), .text(actor.person), StoredDate(now).sqlValue, .integer(id)])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "exemplary.\(select ? "select" : "decline")", entity: "nomination", entityID: String(id),
        detail: ["subject": view.subject, "note": note])
      guard let reviewed = try Self.nomination(sql, id: id) else { throw Self.nominationMissing(id) }
      return reviewed
    }
  }

  public func listNominations(year: Int?, state: NominationView.State?, department: String?) async throws -> [NominationView] {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let year {
        conditions.append("year = ?")
        arguments.append(year.sqlValue)
      }
      if let state {
        conditions.append("state = ?")
        arguments.append(.text(state.rawValue))
      }
      if let department {
        conditions.append("department_code = ?")
        arguments.append(.text(department))
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      return try sql.fetchAll(
        uncached: "SELECT \(Self.nominationColumns) FROM exemplary_nominations\(whereClause) ORDER BY year, id", arguments
      ).map(Self.nominationView)
    }
  }

  /// The columns `nominationView` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let nominationColumns =
    "id, kind, subject, department_code, year, account, state, nominated_by, nominated_at, review_note, reviewed_by, reviewed_at"

  static func nomination(_ sql: some SQLConnection, id: Int64) throws -> NominationView? {
    try sql.fetchOne("SELECT \(Self.nominationColumns) FROM exemplary_nominations WHERE id = ?", [.integer(id)]).map(Self.nominationView)
  }

  /// A stored nomination; an unknown state reads as NOMINATED, as before.
  static func nominationView(_ row: SQLRow) throws -> NominationView {
    NominationView(
      id: try row.decode("id"), kind: try row.decode("kind"), subject: try row.decode("subject"),
      departmentCode: try row.decode("department_code"), year: try row.decode("year"), account: try row.decode("account"),
      state: NominationView.State(rawValue: try row.decode("state")) ?? .nominated, nominatedBy: try row.decode("nominated_by"),
      nominatedAt: try row.decode(StoredDate.self, "nominated_at").date, reviewNote: try row.decode("review_note"),
      reviewedBy: try row.decode("reviewed_by"), reviewedAt: try row.decode(StoredDate?.self, "reviewed_at")?.date)
  }

  static func nominationMissing(_ id: Int64) -> DomainError {
    DomainError(kind: .notFound, code: "exemplary.not_found", arguments: ["\(id)"], field: "id")
  }
}
