public import Foundation
import GRDB

/// One audit row as stored: `at` and `detail` are also kept as their stored text, the bytes the
/// row's hash covers.
public struct AuditRowView: Sendable, Hashable {
  public var id: Int64
  public var at: Date
  /// `at` exactly as stored (UTC, milliseconds), as the hash covers it.
  public var atText: String
  /// As stored: clerk, enterprise, liaison, office or system.
  public var actorRole: String
  public var actorOrganization: String
  public var actorPerson: String
  public var actorSerial: String
  public var action: String
  public var entity: String
  public var entityID: String
  /// The canonical JSON object of strings (sorted keys), as stored and hashed.
  public var detail: String
  public var prevHash: String
  public var hash: String
}

/// Which audit rows to list; every condition is optional.
public struct AuditFilter: Sendable {
  /// Exactly.
  public var entity: String?
  /// Exactly.
  public var entityID: String?
  /// A substring of the actor's person or organization, matched literally (ASCII letters in any case).
  public var actor: String?
  /// Exactly.
  public var action: String?
  /// Rows at or after this instant.
  public var from: Date?
  /// Rows before this instant.
  public var before: Date?
  public var pageSize = 50
  /// Rows with a smaller id than this (the previous page's last row).
  public var afterID: Int64?
  public init() {}
}

extension BanjieStore {
  /// Audit rows matching `filter`, newest first (by id); `next` is the id to continue after, nil
  /// on the last page. No total: counting would read the whole log.
  public func listAuditRows(_ filter: AuditFilter) async throws -> (rows: [AuditRowView], next: Int64?) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let entity = filter.entity {
        conditions.append("entity = ?")
        arguments.append(.text(entity))
      }
      if let entityID = filter.entityID {
        conditions.append("entity_id = ?")
        arguments.append(.text(entityID))
      }
      if let actor = filter.actor, !actor.isEmpty {
        // A substring search rather than LIKE: matched literally, % and _ included.
        let person = sql.dialect.contains("lower(actor_person)", "lower(?)")
        let organization = sql.dialect.contains("lower(actor_organization)", "lower(?)")
        conditions.append("(\(person) OR \(organization))")
        arguments += [.text(actor), .text(actor)]
      }
      if let action = filter.action {
        conditions.append("action = ?")
        arguments.append(.text(action))
      }
      // `at` is stored as fixed-width UTC text, so text order is time order.
      if let from = filter.from {
        conditions.append("at >= ?")
        arguments.append(.text(AuditLog.timestamp(from)))
      }
      if let before = filter.before {
        conditions.append("at < ?")
        arguments.append(.text(AuditLog.timestamp(before)))
      }
      if let after = filter.afterID {
        conditions.append("id < ?")
        arguments.append(.integer(after))
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      // Built per call from the filter's conditions: prepared for this call, not cached.
      let rows = try sql.fetchAll(
        uncached: "SELECT \(Self.auditColumns) FROM audit_log\(whereClause) ORDER BY id DESC LIMIT ?",
        arguments + [filter.pageSize.sqlValue])
      let views = try rows.map(Self.auditRowView)
      return (views, views.count == filter.pageSize ? views.last?.id : nil)
    }
  }

  /// One audit row, or nil if there is none with this id.
  public func auditRow(id: Int64) async throws -> AuditRowView? {
    try await self.read { sql in
      try sql.fetchOne("SELECT \(Self.auditColumns) FROM audit_log WHERE id = ?", [.integer(id)]).map(
        Self.auditRowView)
    }
  }

  /// The columns of `audit_log` `auditRowView` reads, named rather than `*`.
  static let auditColumns = [
    "id", "at", "actor_role", "actor_organization", "actor_person", "actor_serial", "action", "entity", "entity_id", "detail", "prev_hash",
    "hash",
  ].joined(separator: ", ")

  static func auditRowView(_ row: SQLRow) throws -> AuditRowView {
    let atText: String = try row.decode("at")
    return AuditRowView(
      id: try row.decode("id"), at: Self.auditInstant(atText), atText: atText, actorRole: try row.decode("actor_role"),
      actorOrganization: try row.decode("actor_organization"), actorPerson: try row.decode("actor_person"),
      actorSerial: try row.decode("actor_serial"), action: try row.decode("action"), entity: try row.decode("entity"),
      entityID: try row.decode("entity_id"), detail: try row.decode("detail"), prevHash: try row.decode("prev_hash"),
      hash: try row.decode("hash"))
  }

  /// The instant of a stored `at` (ISO 8601, UTC, with milliseconds).
  static func auditInstant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text) ?? Date(timeIntervalSince1970: 0)
  }
}
