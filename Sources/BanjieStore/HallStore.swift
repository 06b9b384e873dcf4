public import BanjieCore
public import Foundation
import GRDB

/// How a result goes back to the applicant (出件), docs/DOMAIN.md §22.
public struct Delivery: Sendable, Hashable {
  /// WINDOW, MAIL or ONLINE.
  public var channel: CaseChannel
  /// A window delivery's window as typed ('' for the receiving window); empty otherwise.
  public var window: String
  public init(channel: CaseChannel = .window, window: String = "") {
    self.channel = channel
    self.window = window
  }
}

/// The hall's workflows on a case (docs/DOMAIN.md §22): read access beyond the handling
/// department (一窗受理, transfers), delivery windows, 首问负责 hand-overs and 帮办代办 helpers.
extension BanjieStore {
  static func addReader(_ sql: any SQLConnection, caseID: Int64, department: String, reason: CaseReaderReason, at: Date) throws {
    try sql.execute(
      "INSERT INTO case_readers (case_id, department_code, reason, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [.integer(caseID), .text(department), .text(reason.rawValue), StoredDate(at).sqlValue])
  }

  static func readers(_ sql: any SQLConnection, caseID: Int64) throws -> [String: CaseReaderReason] {
    var readers: [String: CaseReaderReason] = [:]
    for row in try sql.fetchAll("SELECT department_code, reason FROM case_readers WHERE case_id = ?", [.integer(caseID)]) {
      if let reason = CaseReaderReason(rawValue: try row.decode(String.self, at: 1)) {
        readers[try row.decode(String.self, at: 0)] = reason
      }
    }
    return readers
  }

  /// The case's hall-workflow columns.
  static func hall(_ sql: any SQLConnection, caseID: Int64) throws -> CaseHall {
    var hall = CaseHall()
    guard
      let row = try sql.fetchOne(
        """
        SELECT channel, delivery_channel, delivery_window, served_window, served_at, first_responder_org, first_responder_person,
          responsible_org, responsible_person, helper_org, helper_person, rating_code FROM cases WHERE id = ?
        """, [.integer(caseID)])
    else { return hall }
    // By position, in the SELECT's order: a lookup by name compares every column's name.
    hall.channel = CaseChannel(rawValue: try row.decode(String.self, at: 0)) ?? .window
    hall.deliveryChannel = try row.decode(String?.self, at: 1).flatMap(CaseChannel.init(rawValue:))
    hall.deliveryWindow = try row.decode(at: 2)
    hall.servedWindow = try row.decode(at: 3)
    hall.servedAt = try row.decode(StoredDate?.self, at: 4)?.date
    hall.firstResponder = StaffRef(organization: try row.decode(at: 5), person: try row.decode(at: 6))
    hall.responsible = StaffRef(organization: try row.decode(at: 7), person: try row.decode(at: 8))
    let helper = StaffRef(organization: try row.decode(at: 9), person: try row.decode(at: 10))
    hall.helper = helper.isEmpty ? nil : helper
    hall.ratingCode = try row.decode(at: 11)
    hall.readers = try Self.readers(sql, caseID: caseID)
    return hall
  }

  /// Who besides the handling department takes part in the case, for authorization.
  static func parties(_ sql: any SQLConnection, record: CaseRecord) throws -> CaseParties {
    try Self.partiesAndHall(sql, record: record).parties
  }

  /// The parties and the hall they were read from: a transition answers with that hall, changed
  /// as it changed it, instead of reading it again.
  static func partiesAndHall(_ sql: any SQLConnection, record: CaseRecord) throws -> (parties: CaseParties, hall: CaseHall?) {
    guard let id = record.id else {
      return (CaseParties(department: record.departmentCode, readers: [:], helper: nil, proxySteps: []), nil)
    }
    let hall = try Self.hall(sql, caseID: id)
    // Read as every service item's JSON array is (StoredJSON); a step this build does not know
    // leaves the item with none, as before.
    let raw =
      try sql.fetchOne(String.self, "SELECT proxy_steps FROM service_items WHERE code = ?", [.text(record.itemCode)])
      .flatMap { try? ItemArrays.strings(.text($0)) } ?? []
    let known = raw.compactMap(ProxyStep.init(rawValue:))
    let steps = known.count == raw.count ? known : []
    return (
      CaseParties(
        department: record.departmentCode, readers: hall.readers, helper: hall.helper, proxySteps: Set(steps), responsible: hall.responsible
      ),
      hall
    )
  }

  /// The window a delivery happens at: a window delivery at a registered window (the receiving
  /// window when none is named), nothing for mail and online deliveries.
  static func deliveryWindow(_ sql: any SQLConnection, record: CaseRecord, delivery: Delivery, actor: Actor) throws -> String {
    guard delivery.channel == .window else {
      guard delivery.window.isEmpty else {
        throw DomainError(
          kind: .invalidArgument, code: "case.delivery_window_not_window", arguments: [delivery.channel.rawValue],
          field: "delivery_window")
      }
      return ""
    }
    let typed = delivery.window.isEmpty ? record.window : delivery.window
    guard try sql.fetchOne(Bool.self, "SELECT EXISTS (SELECT 1 FROM windows)") ?? false else { return typed }
    let code = WindowCode.normalize(typed)
    guard try Self.window(sql, code: code) != nil else {
      throw DomainError(
        kind: .invalidArgument, code: "case.unknown_window", arguments: [String(code.prefix(50))], field: "delivery_window")
    }
    return code
  }

  /// A case's rating code for its receipt, with an audit row naming who read it.
  public func revealRatingCode(
    number: String, actor: Actor, authorize: @escaping @Sendable (CaseRecord, CaseParties) throws -> Void, now: Date
  ) async throws -> String {
    try await self.mutate { sql in
      guard let record = try CaseRecord.byNumber(sql, number), let caseID = record.id else {
        throw DomainError(kind: .notFound, code: "case.not_found", arguments: [number], field: "number")
      }
      try authorize(record, try Self.parties(sql, record: record))
      let code = try sql.fetchOne(String.self, "SELECT rating_code FROM cases WHERE id = ?", [.integer(caseID)]) ?? ""
      try AuditLog.append(sql, at: now, actor: actor, action: "case.rating_code_shown", entity: "case", entityID: number)
      return code
    }
  }

  static func isRegisteredStaff(_ sql: any SQLConnection, _ staff: StaffRef) throws -> Bool {
    try sql.fetchOne(
      Bool.self, "SELECT EXISTS (SELECT 1 FROM staff WHERE organization = ? AND person = ?)",
      [.text(staff.organization), .text(staff.person)]) ?? false
  }

  /// 首问负责: hands the matter over to another registered staff member. `authorize` sees the
  /// case and who is responsible now.
  public func handOver(
    number: String, to target: StaffRef, note: String, expectedVersion: Int64?, actor: Actor,
    authorize: @escaping @Sendable (CaseRecord, CaseHall) throws -> Void, clock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date,
    key: IdempotencyKey?
  ) async throws -> CaseView {
    try await self.mutate(idempotency: key, method: "case.hand_over", encode: Self.encodeView, decode: Self.decodeView, now: now) { sql in
      let step = try Self.hallStep(sql, number: number, expectedVersion: expectedVersion, authorize: authorize)
      var record = step.record
      let hall = step.hall
      let caseID = step.caseID
      guard try Self.isRegisteredStaff(sql, target) else {
        throw DomainError(
          kind: .invalidArgument, code: "case.unknown_staff", arguments: [target.person, target.organization], field: "to")
      }
      guard target != hall.responsible else {
        throw DomainError(kind: .invalidArgument, code: "case.hand_over_same", arguments: [target.person, number], field: "to")
      }
      try sql.execute(
        "UPDATE cases SET responsible_org = ?, responsible_person = ? WHERE id = ?",
        [.text(target.organization), .text(target.person), .integer(caseID)])
      let from = "\(hall.responsible.person) (\(hall.responsible.organization))"
      let to = "\(target.person) (\(target.organization))"
      try Self.recordHallStep(
        sql, &record, action: "hand_over", note: "\(from) → \(to): \(note)", actor: actor, now: now,
        detail: ["from": from, "to": to, "note": note])
      return try self.view(sql, record, clock: clock(), now: now)
    }
  }

  /// 帮办代办: assigns (or, with nil, removes) the registered staff member helping an enterprise
  /// applicant.
  public func assignHelper(
    number: String, helper: StaffRef?, note: String, expectedVersion: Int64?, actor: Actor,
    authorize: @escaping @Sendable (CaseRecord, CaseHall) throws -> Void, clock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date,
    key: IdempotencyKey?
  ) async throws -> CaseView {
    try await self.mutate(idempotency: key, method: "case.assign_helper", encode: Self.encodeView, decode: Self.decodeView, now: now) {
      sql in
      let step = try Self.hallStep(sql, number: number, expectedVersion: expectedVersion, authorize: authorize)
      var record = step.record
      let hall = step.hall
      let caseID = step.caseID
      guard record.enterpriseUscc != nil else {
        throw DomainError(kind: .failedPrecondition, code: "case.helper_enterprise_only", arguments: [number], field: "number")
      }
      if let helper {
        guard try Self.isRegisteredStaff(sql, helper) else {
          throw DomainError(
            kind: .invalidArgument, code: "case.unknown_staff", arguments: [helper.person, helper.organization], field: "helper")
        }
      } else if hall.helper == nil {
        throw DomainError(kind: .failedPrecondition, code: "case.no_helper", arguments: [number], field: "helper")
      }
      try sql.execute(
        "UPDATE cases SET helper_org = ?, helper_person = ? WHERE id = ?",
        [.text(helper?.organization ?? ""), .text(helper?.person ?? ""), .integer(caseID)])
      let named = helper.map { "\($0.person) (\($0.organization))" } ?? ""
      try Self.recordHallStep(
        sql, &record, action: helper == nil ? "remove_helper" : "assign_helper", note: note.isEmpty ? named : "\(named): \(note)",
        actor: actor, now: now, detail: ["helper": named, "note": note])
      return try self.view(sql, record, clock: clock(), now: now)
    }
  }

  /// The common start of a hall step: the case exists, is not finished, passes `authorize` and
  /// has the expected version.
  private static func hallStep(
    _ sql: any SQLConnection, number: String, expectedVersion: Int64?, authorize: (CaseRecord, CaseHall) throws -> Void
  ) throws -> (record: CaseRecord, hall: CaseHall, caseID: Int64) {
    guard let record = try CaseRecord.byNumber(sql, number), let caseID = record.id else {
      throw DomainError(kind: .notFound, code: "case.not_found", arguments: [number], field: "number")
    }
    let hall = try Self.hall(sql, caseID: caseID)
    try authorize(record, hall)
    if let expectedVersion, expectedVersion != record.version {
      throw DomainError(
        kind: .aborted, code: "case.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
        field: "expected_version")
    }
    guard !record.state.isFinal else {
      throw DomainError(kind: .failedPrecondition, code: "case.finished", arguments: [number, record.state.rawValue], field: "number")
    }
    return (record, hall, caseID)
  }

  /// Bumps the version and records the event and audit row of a hall step (the state is unchanged).
  private static func recordHallStep(
    _ sql: any SQLConnection, _ record: inout CaseRecord, action: String, note: String, actor: Actor, now: Date,
    detail: [String: String]
  ) throws {
    record.version += 1
    record.updatedAt = now
    try record.updateVersion(sql)
    try Self.appendEvent(sql, record: record, action: action, from: record.state, actor: actor, note: note, at: now)
    try AuditLog.append(
      sql, at: now, actor: actor, action: "case.\(action)", entity: "case", entityID: record.number,
      detail: detail.merging(["version": String(record.version)]) { current, _ in current })
  }
}

extension CaseRecord {
  /// Writes back the version and update time, the two columns a step that leaves the state as it
  /// was changes (as GRDB's `update(db, columns:)` named them).
  func updateVersion(_ sql: any SQLConnection) throws {
    try sql.execute(
      "UPDATE cases SET version = ?, updated_at = ? WHERE id = ?",
      [.integer(self.version), StoredDate(self.updatedAt).sqlValue, self.id.sqlValue])
  }
}
