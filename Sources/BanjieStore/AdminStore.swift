public import BanjieCore
public import Foundation
import GRDB

/// A revoked client certificate.
public struct RevocationRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "revocations"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
  public var serial: String
  public var reason: String
  public var revokedAt: Date
  public var revokedBy: String
}

extension BanjieStore {
  /// Records a revocation (idempotent: revoking again keeps the first record).
  public func revoke(serial: String, reason: String, actor: Actor, now: Date) async throws -> RevocationRecord {
    try FieldRules.text(reason, field: "reason", max: 500)
    let normalized = serial.replacingOccurrences(of: ":", with: "").uppercased().drop { $0 == "0" }
    guard !normalized.isEmpty, normalized.count <= 64, normalized.allSatisfy(\.isHexDigit) else {
      throw DomainError(kind: .invalidArgument, code: "revocation.bad_serial", arguments: [String(serial.prefix(70))], field: "serial")
    }
    let key = String(normalized)
    return try await self.commits.write { db in
      if let existing = try RevocationRecord.fetchOne(db, key: key) { return existing }
      let record = RevocationRecord(
        serial: key, reason: reason, revokedAt: now, revokedBy: "\(actor.person) (\(actor.role.rawValue), \(actor.organization))")
      try record.insert(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "certificate.revoke", entity: "certificate", entityID: key, detail: ["reason": reason])
      return record
    }
  }

  public func revocations() async throws -> [RevocationRecord] {
    try await self.pool.read { db in try RevocationRecord.order(Column("revoked_at")).fetchAll(db) }
  }

  /// An online backup into `path`: a consistent copy taken while writers go on. The audit row
  /// is written once the copy exists, so a failed backup is not recorded as done.
  public func backup(to path: String, actor: Actor, now: Date) async throws {
    // The copy runs on one of the pool's readers (a consistent snapshot), off the cooperative pool.
    try await self.pool.read { db in
      let destination = try DatabaseQueue(path: path)
      try destination.writeWithoutTransaction { try db.backup(to: $0) }
      try destination.close()
    }
    try await self.commits.write { db in
      try AuditLog.append(db, at: now, actor: actor, action: "database.backup", entity: "database", entityID: "backup")
    }
  }
}
