import BanjieCore
import BanjieProto
import BanjieStore
import Foundation
import GRPCCore
import SwiftProtobuf

/// The office's housekeeping.
struct AdminService: Banjie_V1_AdminService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func verifyAudit(request: Banjie_V1_VerifyAuditRequest, context: ServerContext) async throws -> Banjie_V1_VerifyAuditResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "verify the audit log")
    let result = try await self.env.store.verifyAudit()
    return .with {
      $0.ok = result.ok
      $0.rows = result.rows
      $0.firstBrokenID = result.firstBrokenID ?? 0
      $0.reason = result.reason
    }
  }

  // MARK: Accountability reads

  func listAuditRows(request: Banjie_V1_ListAuditRowsRequest, context: ServerContext) async throws -> Banjie_V1_ListAuditRowsResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "read the audit log")
    var filter = AuditFilter()
    filter.entity = try Self.exact(request.entity, field: "entity")
    filter.entityID = try Self.exact(request.entityID, field: "entity_id")
    filter.action = try Self.exact(request.action, field: "action")
    filter.actor = try Self.exact(request.actor.precomposedStringWithCompatibilityMapping, field: "actor")
    let calendar = self.env.sla.calendar
    let midnight = try TimeOfDay(hour: 0)
    let from = request.from.isEmpty ? nil : try Self.date(request.from, field: "from")
    let to = request.to.isEmpty ? nil : try Self.date(request.to, field: "to")
    if let from, let to, from > to {
      throw DomainError(kind: .invalidArgument, code: "audit.reversed_dates", arguments: ["\(from)", "\(to)"], field: "from")
    }
    // Asia/Shanghai days: from the start of `from` up to (not including) the start of the day after `to`.
    filter.from = from.map { calendar.date($0, at: midnight) }
    filter.before = to.map { calendar.date($0.adding(days: 1), at: midnight) }
    let size = request.page.pageSize == 0 ? 50 : Int(request.page.pageSize)
    guard (1...500).contains(size) else {
      throw DomainError(kind: .invalidArgument, code: "page.size", field: "page.page_size")
    }
    filter.pageSize = size
    if !request.page.pageToken.isEmpty {
      guard let after = Int64(request.page.pageToken), after > 0 else {
        throw DomainError(kind: .invalidArgument, code: "page.token", field: "page.page_token")
      }
      filter.afterID = after
    }
    let (rows, next) = try await self.env.store.listAuditRows(filter)
    return .with {
      $0.rows = rows.map(\.proto)
      $0.nextPageToken = next.map(String.init) ?? ""
    }
  }

  func getAuditRow(request: Banjie_V1_GetAuditRowRequest, context: ServerContext) async throws -> Banjie_V1_AuditRow {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "read the audit log")
    let id = request.id
    guard id > 0, let row = try await self.env.store.auditRow(id: id) else {
      throw DomainError(kind: .notFound, code: "audit.not_found", arguments: ["\(id)"], field: "id")
    }
    return row.proto
  }

  /// A filter value, trimmed: nil when empty, refused when too long or with control characters.
  static func exact(_ value: String, field: String) throws(DomainError) -> String? {
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { return nil }
    try FieldRules.text(trimmed, field: field, max: 200, required: false)
    return trimmed
  }

  static func date(_ text: String, field: String) throws(DomainError) -> LocalDate {
    do {
      return try LocalDate(parsing: text)
    } catch {
      throw DomainError(
        kind: .invalidArgument, code: error.code, messageKey: "field.wrapped", arguments: [field], cause: error, field: field)
    }
  }
}

extension AuditRowView {
  var proto: Banjie_V1_AuditRow {
    .with {
      $0.id = self.id
      $0.at = Google_Protobuf_Timestamp(milliseconds: self.at)
      $0.actorRole = self.actorRole
      $0.actorOrganization = self.actorOrganization
      $0.actorPerson = self.actorPerson
      $0.actorSerial = self.actorSerial
      $0.action = self.action
      $0.entity = self.entity
      $0.entityID = self.entityID
      $0.detail = self.detail
      $0.prevHash = self.prevHash
      $0.hash = self.hash
    }
  }
}
