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
    return try await self.write(idempotency: key, method: "CreatePolicy", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      for township in eligibility.townships.sorted() { try Self.requireTownship(db, township) }
      var record = PolicyRecord(
        id: nil, title: title, summary: summary, eligibility: eligibility, createdAt: now,
        createdBy: "\(actor.person) (\(actor.organization))")
      try record.insert(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "policy.create", entity: "policy", entityID: String(record.id ?? 0),
        detail: [
          "title": title, "industries": eligibility.industries.map(\.rawValue).sorted().joined(separator: ","),
          "scales": eligibility.scales.map(\.rawValue).sorted().joined(separator: ","),
          "townships": eligibility.townships.sorted().joined(separator: ","),
        ])
      return try Self.policyView(db, record, caller: nil)
    }
  }

  /// Pushes a policy to every eligible enterprise not pushed before; returns the count of new pushes.
  public func pushPolicy(id: Int64, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> (PolicyView, Int) {
    struct Answer: Codable, Sendable {
      var view: PolicyView
      var pushed: Int
    }
    let answer: Answer = try await self.write(idempotency: key, method: "PushPolicy", encode: Self.encoded, decode: Self.decoded, now: now)
    { db in
      guard let record = try PolicyRecord.fetchOne(db, key: id) else { throw Self.policyNotFound(id) }
      let e = record.eligibility
      var conditions: [String] = []
      var arguments: StatementArguments = []
      for (column, values) in [
        ("industry", e.industries.map(\.rawValue)), ("scale", e.scales.map(\.rawValue)), ("township", Array(e.townships)),
      ] where !values.isEmpty {
        conditions.append("\(column) IN (\(values.map { _ in "?" }.joined(separator: ",")))")
        arguments += StatementArguments(values)
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      try db.execute(
        sql: "INSERT OR IGNORE INTO policy_pushes (policy_id, uscc, pushed_at) SELECT ?, uscc, ? FROM enterprises\(whereClause)",
        arguments: [id, now] + arguments)
      let pushed = db.changesCount
      try AuditLog.append(
        db, at: now, actor: actor, action: "policy.push", entity: "policy", entityID: String(id), detail: ["newly_pushed": String(pushed)])
      return Answer(view: try Self.policyView(db, record, caller: nil), pushed: pushed)
    }
    return (answer.view, answer.pushed)
  }

  public func acknowledgePolicy(id: Int64, uscc: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> PolicyView {
    try await self.write(idempotency: key, method: "AcknowledgePolicy", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      guard let record = try PolicyRecord.fetchOne(db, key: id) else { throw Self.policyNotFound(id) }
      guard
        let row = try Row.fetchOne(
          db.cachedStatement(sql: "SELECT acknowledged_at FROM policy_pushes WHERE policy_id = ? AND uscc = ?"), arguments: [id, uscc])
      else {
        throw DomainError(kind: .failedPrecondition, code: "policy.not_pushed", arguments: ["\(id)", uscc], field: "policy_id")
      }
      let acknowledged: Date? = row["acknowledged_at"]
      if acknowledged == nil {
        try db.cachedStatement(sql: "UPDATE policy_pushes SET acknowledged_at = ? WHERE policy_id = ? AND uscc = ?").execute(arguments: [
          now, id, uscc,
        ])
        try AuditLog.append(
          db, at: now, actor: actor, action: "policy.acknowledge", entity: "policy", entityID: String(id), detail: ["uscc": uscc])
      }
      return try Self.policyView(db, record, caller: uscc)
    }
  }

  /// Every policy (office), or those pushed to `enterprise`.
  public func listPolicies(enterprise: String?) async throws -> [PolicyView] {
    try await self.pool.read { db in
      let records: [PolicyRecord]
      if let enterprise {
        records = try PolicyRecord.fetchAll(
          db.cachedStatement(
            sql: "SELECT p.* FROM policies p JOIN policy_pushes pp ON pp.policy_id = p.id WHERE pp.uscc = ? ORDER BY p.id DESC"),
          arguments: [enterprise])
      } else {
        records = try PolicyRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM policies ORDER BY id DESC"))
      }
      return try records.map { try Self.policyView(db, $0, caller: enterprise) }
    }
  }

  static func policyNotFound(_ id: Int64) -> DomainError {
    DomainError(kind: .notFound, code: "policy.not_found", arguments: ["\(id)"], field: "policy_id")
  }

  static func policyView(_ db: Database, _ record: PolicyRecord, caller: String?) throws -> PolicyView {
    let row = try Row.fetchOne(
      db.cachedStatement(sql: "SELECT COUNT(*) AS pushed, COUNT(acknowledged_at) AS acknowledged FROM policy_pushes WHERE policy_id = ?"),
      arguments: [record.id])
    var mine = false
    if let caller {
      mine =
        try Bool.fetchOne(
          db.cachedStatement(sql: "SELECT acknowledged_at IS NOT NULL FROM policy_pushes WHERE policy_id = ? AND uscc = ?"),
          arguments: [record.id, caller])
        ?? false
    }
    return PolicyView(record: record, pushed: row?["pushed"] ?? 0, acknowledged: row?["acknowledged"] ?? 0, acknowledgedByCaller: mine)
  }
}
