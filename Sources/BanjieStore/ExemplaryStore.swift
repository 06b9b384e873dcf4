public import BanjieCore
public import Foundation
import GRDB

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
    try await self.write(idempotency: key, method: "Nominate", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      let kind: String
      let number: String
      let department: String
      let doneAt: Date
      switch subject {
      case .caseNumber(let n):
        guard
          let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT department_code, state, completed_at FROM cases WHERE number = ?"), arguments: [n])
        else {
          throw Self.caseMissing(n)
        }
        department = row["department_code"]
        try authorize(department)
        let state: String = row["state"]
        guard let completedAt: Date = row["completed_at"], state == CaseState.completed.rawValue || state == CaseState.delivered.rawValue
        else {
          throw DomainError.failedPrecondition("exemplary.not_completed", arguments: [n, state], field: "case_number")
        }
        (kind, number, doneAt) = ("case", n, completedAt)
      case .demandNumber(let n):
        guard
          let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT department_code, state, closed_at FROM demands WHERE number = ?"), arguments: [n])
        else {
          throw DomainError(kind: .notFound, code: "demand.not_found", arguments: [String(n.prefix(64))], field: "demand_number")
        }
        department = row["department_code"]
        try authorize(department)
        let state: String = row["state"]
        guard let closedAt: Date = row["closed_at"], state == DemandState.closed.rawValue else {
          throw DomainError.failedPrecondition("exemplary.not_closed", arguments: [n, state], field: "demand_number")
        }
        (kind, number, doneAt) = ("demand", n, closedAt)
      }
      if let existing = try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT id FROM exemplary_nominations WHERE kind = ? AND subject = ?"), arguments: [kind, number])
      {
        throw DomainError(
          kind: .alreadyExists, code: "exemplary.already_nominated", arguments: [kind, number, "\(existing)"],
          field: kind == "case" ? "case_number" : "demand_number")
      }
      let year = calendar.localDate(of: doneAt).year
      try db.cachedStatement(
        sql: """
          INSERT INTO exemplary_nominations (kind, subject, department_code, year, account, state, nominated_by, nominated_at)
          VALUES (?, ?, ?, ?, ?, 'NOMINATED', ?, ?)
          """
      ).execute(arguments: [kind, number, department, year, account, actor.person, now])
      let id = db.lastInsertedRowID
      try AuditLog.append(
        db, at: now, actor: actor, action: "exemplary.nominate", entity: "nomination", entityID: String(id),
        detail: ["kind": kind, "subject": number, "department": department])
      guard let view = try Self.nomination(db, id: id) else { throw Self.nominationMissing(id) }
      return view
    }
  }

  public func reviewNomination(id: Int64, select: Bool, note: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> NominationView
  {
    try await self.write(idempotency: key, method: "ReviewNomination", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      guard let view = try Self.nomination(db, id: id) else { throw Self.nominationMissing(id) }
      guard view.state == .nominated else {
        throw DomainError.failedPrecondition("exemplary.already_reviewed", arguments: ["\(id)", view.state.rawValue], field: "id")
      }
      let state: NominationView.State = select ? .selected : .declined
      try db.cachedStatement(
        sql: "UPDATE exemplary_nominations SET state = ?, review_note = ?, reviewed_by = ?, reviewed_at = ? WHERE id = ?"
      ).execute(arguments: [state.rawValue, note, actor.person, now, id])
      try AuditLog.append(
        db, at: now, actor: actor, action: "exemplary.\(select ? "select" : "decline")", entity: "nomination", entityID: String(id),
        detail: ["subject": view.subject, "note": note])
      guard let reviewed = try Self.nomination(db, id: id) else { throw Self.nominationMissing(id) }
      return reviewed
    }
  }

  public func listNominations(year: Int?, state: NominationView.State?, department: String?) async throws -> [NominationView] {
    try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let year {
        conditions.append("year = ?")
        arguments += [year]
      }
      if let state {
        conditions.append("state = ?")
        arguments += [state.rawValue]
      }
      if let department {
        conditions.append("department_code = ?")
        arguments += [department]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      return try Row.fetchAll(db, sql: "SELECT * FROM exemplary_nominations\(whereClause) ORDER BY year, id", arguments: arguments).map(
        Self.nominationView)
    }
  }

  static func nomination(_ db: Database, id: Int64) throws -> NominationView? {
    try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM exemplary_nominations WHERE id = ?"), arguments: [id]).map(Self.nominationView)
  }

  static func nominationView(_ row: Row) -> NominationView {
    NominationView(
      id: row["id"], kind: row["kind"], subject: row["subject"], departmentCode: row["department_code"], year: row["year"],
      account: row["account"], state: NominationView.State(rawValue: row["state"]) ?? .nominated, nominatedBy: row["nominated_by"],
      nominatedAt: row["nominated_at"], reviewNote: row["review_note"], reviewedBy: row["reviewed_by"], reviewedAt: row["reviewed_at"])
  }

  static func nominationMissing(_ id: Int64) -> DomainError {
    DomainError(kind: .notFound, code: "exemplary.not_found", arguments: ["\(id)"], field: "id")
  }
}
