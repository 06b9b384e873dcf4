public import BanjieCore
public import Foundation
import GRDB

/// Policy pushes (政策推送): the office records a policy and who it is for; banjie finds the
/// eligible enterprises and records the push; enterprises acknowledge.
extension BanjieStore {
  public func createPolicy(title: String, summary: String, eligibility: PolicyEligibility, actor: Actor, now: Date, key: IdempotencyKey?)
    async throws -> PolicyView
  {
    try FieldRules.text(title, field: "title", max: 200)
    try FieldRules.text(summary, field: "summary", max: 4000, required: false)
    return try await self.mutate(idempotency: key, method: "CreatePolicy", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      for township in eligibility.townships.sorted() { try Self.requireTownship(sql, township) }
      var record = PolicyRecord(
        id: nil, title: title, summary: summary, eligibility: eligibility, createdAt: now,
        createdBy: "\(actor.person) (\(actor.organization))")
      try record.insert(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "policy.create", entity: "policy", entityID: String(record.id ?? 0),
        detail: [
          "title": title, "industries": eligibility.industries.map(\.rawValue).sorted().joined(separator: ","),
          "scales": eligibility.scales.map(\.rawValue).sorted().joined(separator: ","),
          "townships": eligibility.townships.sorted().joined(separator: ","),
        ])
      return try Self.policyView(sql, record, caller: nil)
    }
  }

  /// Pushes a policy to every eligible enterprise not pushed before; returns the count of new pushes.
  public func pushPolicy(id: Int64, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> (PolicyView, Int) {
    struct Answer: Codable, Sendable {
      var view: PolicyView
      var pushed: Int
    }
    let answer: Answer = try await self.mutate(idempotency: key, method: "PushPolicy", encode: Self.encoded, decode: Self.decoded, now: now)
    { sql in
      guard let record = try PolicyRecord.byID(sql, id) else { throw Self.policyNotFound(id) }
      let e = record.eligibility
      var conditions: [String] = []
      var arguments: [SQLValue] = [.integer(id), StoredDate(now).sqlValue]
      for (column, values) in [
        ("industry", e.industries.map(\.rawValue)), ("scale", e.scales.map(\.rawValue)), ("township", Array(e.townships)),
      ] where !values.isEmpty {
        conditions.append("\(column) IN (\(values.map { _ in "?" }.joined(separator: ",")))")
        arguments += values.map(SQLValue.text)
      }
      // Always a WHERE: in `INSERT … SELECT … FROM t ON CONFLICT` SQLite would read ON as the
      // start of a join constraint.
      let whereClause = " WHERE " + (conditions.isEmpty ? "true" : conditions.joined(separator: " AND "))
      // ON CONFLICT DO NOTHING skips the enterprises pushed before, as INSERT OR IGNORE did (the
      // primary key is the only constraint the rows can break), on both engines.
      let pushed = try sql.execute(
        uncached:
          "INSERT INTO policy_pushes (policy_id, uscc, pushed_at) SELECT ?, uscc, ? FROM enterprises\(whereClause) ON CONFLICT DO NOTHING",
        arguments)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "policy.push", entity: "policy", entityID: String(id), detail: ["newly_pushed": String(pushed)])
      return Answer(view: try Self.policyView(sql, record, caller: nil), pushed: pushed)
    }
    return (answer.view, answer.pushed)
  }

  public func acknowledgePolicy(id: Int64, uscc: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> PolicyView {
    try await self.mutate(idempotency: key, method: "AcknowledgePolicy", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      guard let record = try PolicyRecord.byID(sql, id) else { throw Self.policyNotFound(id) }
      guard
        let row = try sql.fetchOne(
          "SELECT acknowledged_at FROM policy_pushes WHERE policy_id = ? AND uscc = ?", [.integer(id), .text(uscc)])
      else {
        throw DomainError(kind: .failedPrecondition, code: "policy.not_pushed", arguments: ["\(id)", uscc], field: "policy_id")
      }
      if try row.decode(StoredDate?.self, at: 0) == nil {
        try sql.execute(
          "UPDATE policy_pushes SET acknowledged_at = ? WHERE policy_id = ? AND uscc = ?",
          [StoredDate(now).sqlValue, .integer(id), .text(uscc)])
        try AuditLog.append(
          sql, at: now, actor: actor, action: "policy.acknowledge", entity: "policy", entityID: String(id), detail: ["uscc": uscc])
      }
      return try Self.policyView(sql, record, caller: uscc)
    }
  }

  /// Every policy (office), or those pushed to `enterprise`.
  public func listPolicies(enterprise: String?) async throws -> [PolicyView] {
    try await self.read { sql in
      let rows: [SQLRow]
      if let enterprise {
        rows = try sql.fetchAll(
          """
          SELECT \(PolicyRecord.qualifiedColumns) FROM policies p JOIN policy_pushes pp ON pp.policy_id = p.id
          WHERE pp.uscc = ? ORDER BY p.id DESC
          """, [.text(enterprise)])
      } else {
        rows = try sql.fetchAll("SELECT \(PolicyRecord.columns) FROM policies ORDER BY id DESC")
      }
      return try rows.map { try Self.policyView(sql, PolicyRecord(sqlRow: $0), caller: enterprise) }
    }
  }

  static func policyNotFound(_ id: Int64) -> DomainError {
    DomainError(kind: .notFound, code: "policy.not_found", arguments: ["\(id)"], field: "policy_id")
  }

  static func policyView(_ sql: some SQLConnection, _ record: PolicyRecord, caller: String?) throws -> PolicyView {
    let row = try sql.fetchOne(
      "SELECT COUNT(*) AS pushed, COUNT(acknowledged_at) AS acknowledged FROM policy_pushes WHERE policy_id = ?", [record.id.sqlValue])
    var mine = false
    if let caller {
      mine =
        try sql.fetchOne(
          Bool.self, "SELECT acknowledged_at IS NOT NULL FROM policy_pushes WHERE policy_id = ? AND uscc = ?",
          [record.id.sqlValue, .text(caller)])
        ?? false
    }
    return PolicyView(
      record: record, pushed: try row?.decode(Int.self, "pushed") ?? 0, acknowledged: try row?.decode(Int.self, "acknowledged") ?? 0,
      acknowledgedByCaller: mine)
  }
}

extension PolicyRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columnList = ["id", "title", "summary", "eligibility", "created_at", "created_by"]
  static let columns = Self.columnList.joined(separator: ", ")
  /// `columns` of the table aliased `p`.
  static let qualifiedColumns = Self.columnList.map { "p.\($0)" }.joined(separator: ", ")

  static func byID(_ sql: some SQLConnection, _ id: Int64) throws -> PolicyRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM policies WHERE id = ?", [.integer(id)]).map(PolicyRecord.init(sqlRow:))
  }

  /// Inserts the policy and takes the id the database gave it. The row is what GRDB's Codable
  /// insert stored: the eligibility as GRDB's JSON (sorted keys), the date as its text.
  mutating func insert(_ sql: some SQLConnection) throws {
    self.id = try sql.fetchOne(
      Int64.self, "INSERT INTO policies (title, summary, eligibility, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
      [
        .text(self.title), .text(self.summary), .text(String(decoding: try StoredJSON.encoder.encode(self.eligibility), as: UTF8.self)),
        StoredDate(self.createdAt).sqlValue, .text(self.createdBy),
      ])
  }

  /// Reads a row of `columns` as GRDB's Codable decoding read it (the eligibility JSON by GRDB's
  /// decoder settings, from text or bytes).
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode("id"), title: try row.decode("title"), summary: try row.decode("summary"),
      eligibility: try StoredJSON.decoder.decode(PolicyEligibility.self, from: try row.decode(Data.self, "eligibility")),
      createdAt: try row.decode(StoredDate.self, "created_at").date, createdBy: try row.decode("created_by"))
  }
}
