public import BanjieCore
import Foundation
import GRDB

extension BanjieStore {
  public func departments() async throws -> [DepartmentRecord] {
    try await self.pool.read { db in try DepartmentRecord.order(Column("code")).fetchAll(db) }
  }

  public func serviceItems(department: String?) async throws -> [ServiceItemRecord] {
    try await self.pool.read { db in
      var request = ServiceItemRecord.order(Column("department_code"), Column("code"))
      if let department, !department.isEmpty { request = request.filter(Column("department_code") == department) }
      return try request.fetchAll(db)
    }
  }

  public func serviceItem(code: String) async throws -> ServiceItemRecord? {
    try await self.pool.read { db in try ServiceItemRecord.one(db, "code", code) }
  }

  /// Creates or replaces departments and items, all or nothing.
  public func importCatalog(departments: [DepartmentRecord], items: [ServiceItemRecord], actor: Actor, now: Date) async throws -> (Int, Int)
  {
    try await self.commits.write { db in
      for department in departments {
        try Self.validate(department)
        try department.save(db)
        try AuditLog.append(
          db, at: now, actor: actor, action: "catalog.department.upsert", entity: "department", entityID: department.code,
          detail: ["name": department.name])
      }
      for item in items {
        try Self.validate(item)
        guard try DepartmentRecord.present(db, "code", item.departmentCode) else {
          throw DomainError(
            kind: .invalidArgument, code: "catalog.unknown_department", arguments: [item.code, item.departmentCode],
            field: "department_code")
        }
        try item.save(db)
        try AuditLog.append(
          db, at: now, actor: actor, action: "catalog.item.upsert", entity: "service_item", entityID: item.code,
          detail: ["name": item.name, "department": item.departmentCode, "limit": "\(item.promisedLimit) \(item.limitUnit.rawValue)"])
      }
      return (departments.count, items.count)
    }
  }

  static func validate(_ department: DepartmentRecord) throws {
    try FieldRules.code(department.code, field: "department.code")
    try FieldRules.text(department.name, field: "department.name", max: 100)
  }

  static func validate(_ item: ServiceItemRecord) throws {
    try FieldRules.code(item.code, field: "item.code")
    try FieldRules.text(item.name, field: "item.name", max: 200)
    try FieldRules.code(item.departmentCode, field: "item.department_code")
    guard WorkingCalendar.limitRange.contains(item.promisedLimit) else {
      throw DomainError(
        kind: .invalidArgument, code: "catalog.limit_out_of_range", arguments: ["\(item.promisedLimit)", "\(WorkingCalendar.limitRange)"],
        field: "item.promised_limit")
    }
    guard (0...3650).contains(item.legalLimitDays) else {
      throw DomainError(
        kind: .invalidArgument, code: "catalog.limit_out_of_range", messageKey: "catalog.limit_out_of_range#legal",
        arguments: ["\(item.legalLimitDays)"], field: "item.legal_limit_days")
    }
    guard item.materials.count <= 100 else {
      throw DomainError(kind: .invalidArgument, code: "catalog.too_many_materials", field: "item.materials")
    }
    for material in item.materials { try FieldRules.text(material, field: "item.materials", max: 200) }
  }
}
