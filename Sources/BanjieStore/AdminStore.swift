public import BanjieCore
public import Foundation
import GRDB

/// A revoked client certificate.
public struct RevocationRecord: Codable, Sendable, Hashable {
  public var serial: String
  public var reason: String
  public var revokedAt: Date
  public var revokedBy: String
}

extension RevocationRecord {
  static let columns = "serial, reason, revoked_at, revoked_by"

  init(sqlRow row: SQLRow) throws {
    self.init(
      serial: try row.decode("serial"), reason: try row.decode("reason"), revokedAt: try row.decode(StoredDate.self, "revoked_at").date,
      revokedBy: try row.decode("revoked_by"))
  }
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
    return try await self.mutate { sql in
      if let existing = try sql.fetchOne("SELECT \(RevocationRecord.columns) FROM revocations WHERE serial = ?", [key.sqlValue]) {
        return try RevocationRecord(sqlRow: existing)
      }
      let record = RevocationRecord(
        serial: key, reason: reason, revokedAt: now, revokedBy: "\(actor.person) (\(actor.role.rawValue), \(actor.organization))")
      try sql.execute(
        "INSERT INTO revocations (\(RevocationRecord.columns)) VALUES (?, ?, ?, ?)",
        [record.serial.sqlValue, record.reason.sqlValue, StoredDate(record.revokedAt).sqlValue, record.revokedBy.sqlValue])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "certificate.revoke", entity: "certificate", entityID: key, detail: ["reason": reason])
      try Self.notify(sql, .revocation(serial: key))
      return record
    }
  }

  public func revocations() async throws -> [RevocationRecord] {
    try await self.read { sql in
      try sql.fetchAll("SELECT \(RevocationRecord.columns) FROM revocations ORDER BY revoked_at").map(
        RevocationRecord.init(sqlRow:))
    }
  }

  /// An online backup into `path`: a consistent copy taken while writers go on. The audit row
  /// is written once the copy exists, so a failed backup is not recorded as done.
  public func backup(to path: String, actor: Actor, now: Date) async throws {
    // The copy runs on one of the pool's readers (a consistent snapshot), off the cooperative pool.
    // SQLite only: a PostgreSQL store is backed up with PostgreSQL's own tools.
    guard !self.runsOnPostgres else { throw DomainError(kind: .failedPrecondition, code: "database.backup_postgres") }
    try await self.pool.read { db in try SQLiteSQLConnection(db).backup(toFile: path) }
    try await self.mutate { sql in
      try AuditLog.append(sql, at: now, actor: actor, action: "database.backup", entity: "database", entityID: "backup")
    }
  }
}
