public import BanjieCore
import Foundation
import GRDB

extension BanjieStore {
  public func departments() async throws -> [DepartmentRecord] {
    try await self.read { sql in
      try sql.fetchAll("SELECT code, name FROM departments ORDER BY code").map(DepartmentRecord.init(sqlRow:))
    }
  }

  public func serviceItems(department: String?) async throws -> [ServiceItemRecord] {
    try await self.read { sql in
      let rows: [SQLRow]
      if let department, !department.isEmpty {
        rows = try sql.fetchAll(
          "SELECT \(ServiceItemRecord.columns) FROM service_items WHERE department_code = ? ORDER BY department_code, code",
          [department.sqlValue])
      } else {
        rows = try sql.fetchAll("SELECT \(ServiceItemRecord.columns) FROM service_items ORDER BY department_code, code")
      }
      return try rows.map(ServiceItemRecord.init(sqlRow:))
    }
  }

  public func serviceItem(code: String) async throws -> ServiceItemRecord? {
    try await self.read { sql in
      try sql.fetchOne("SELECT \(ServiceItemRecord.columns) FROM service_items WHERE code = ? LIMIT 1", [code.sqlValue])
        .map(ServiceItemRecord.init(sqlRow:))
    }
  }

  /// Creates or replaces departments and items, all or nothing.
  public func importCatalog(departments: [DepartmentRecord], items: [ServiceItemRecord], actor: Actor, now: Date) async throws -> (Int, Int)
  {
    try await self.mutate { sql in
      for department in departments {
        try Self.validate(department)
        try department.save(sql)
        try AuditLog.append(
          sql, at: now, actor: actor, action: "catalog.department.upsert", entity: "department", entityID: department.code,
          detail: ["name": department.name])
      }
      for item in items {
        try Self.validate(item)
        guard
          try sql.fetchOne(Bool.self, "SELECT EXISTS (SELECT 1 FROM departments WHERE code = ?)", [item.departmentCode.sqlValue]) ?? false
        else {
          throw DomainError(
            kind: .invalidArgument, code: "catalog.unknown_department", arguments: [item.code, item.departmentCode],
            field: "department_code")
        }
        try item.save(sql)
        try AuditLog.append(
          sql, at: now, actor: actor, action: "catalog.item.upsert", entity: "service_item", entityID: item.code,
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

// Upserts statement for statement as GRDB's `save` ran them: UPDATE by the primary key, and an
// INSERT only when no row was there. Both engines accept these statements as they stand, and the
// rows stored are the same bytes as before (SQLLayerTests compares them with GRDB's).

extension DepartmentRecord {
  init(sqlRow row: SQLRow) throws { self.init(code: try row.decode("code"), name: try row.decode("name")) }

  func save(_ sql: some SQLConnection) throws {
    guard try sql.execute("UPDATE departments SET name = ? WHERE code = ?", [self.name.sqlValue, self.code.sqlValue]) == 0 else { return }
    try sql.execute("INSERT INTO departments (code, name) VALUES (?, ?)", [self.code.sqlValue, self.name.sqlValue])
  }
}

extension ServiceItemRecord {
  /// Every column of `service_items`, in the order `storedValues()` gives them.
  static let columnList = [
    "code", "name", "department_code", "kind", "promised_limit", "limit_unit", "legal_limit_days", "materials", "allows_minor_pending",
    "proxy_steps",
  ]
  static let columns = Self.columnList.joined(separator: ", ")
  static let updateSQL =
    "UPDATE service_items SET " + Self.columnList.dropFirst().map { "\($0) = ?" }.joined(separator: ", ") + " WHERE code = ?"
  static let insertSQL =
    "INSERT INTO service_items (\(Self.columns)) VALUES (" + Array(repeating: "?", count: Self.columnList.count).joined(separator: ", ")
    + ")"

  /// The stored values of `columnList`: the JSON arrays as GRDB's Codable path wrote them
  /// (StoredJSON), the flag as 0/1.
  func storedValues() throws -> [SQLValue] {
    [
      self.code.sqlValue, self.name.sqlValue, self.departmentCode.sqlValue, self.kind.sqlValue, self.promisedLimit.sqlValue,
      self.limitUnit.sqlValue, self.legalLimitDays.sqlValue, try StoredJSON.text(self.materials).sqlValue,
      self.allowsMinorPending.sqlValue, try StoredJSON.text(self.proxySteps.map(\.rawValue)).sqlValue,
    ]
  }

  func save(_ sql: some SQLConnection) throws {
    let values = try self.storedValues()
    guard try sql.execute(Self.updateSQL, Array(values.dropFirst()) + [values[0]]) == 0 else { return }
    try sql.execute(Self.insertSQL, values)
  }

  /// Reads a row of `columns` as `init(row:)` reads GRDB's row.
  init(sqlRow row: SQLRow) throws {
    let steps = try StoredJSON.strings(row["proxy_steps"] ?? .null).map { raw in
      guard let step = ProxyStep(rawValue: raw) else {
        throw SQLDecodingError(column: "proxy_steps", type: ProxyStep.self, problem: .mismatch(.text(raw)))
      }
      return step
    }
    self.init(
      code: try row.decode("code"), name: try row.decode("name"), departmentCode: try row.decode("department_code"),
      kind: try row.decode("kind"), promisedLimit: try row.decode("promised_limit"), limitUnit: try row.decode("limit_unit"),
      legalLimitDays: try row.decode("legal_limit_days"), materials: try StoredJSON.strings(row["materials"] ?? .null),
      allowsMinorPending: try row.decode("allows_minor_pending"), proxySteps: steps)
  }
}
