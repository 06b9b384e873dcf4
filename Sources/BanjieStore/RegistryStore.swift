public import BanjieCore
public import Foundation
import GRDB

/// A registered service window (窗口) with the departments it serves.
public struct WindowRecord: Codable, Sendable, Hashable {
  public var code: String
  public var name: String
  public var hall: String
  /// 综合窗口: receives any department's items.
  public var comprehensive: Bool
  /// Department codes, sorted.
  public var departments: [String]
  public var createdAt: Date
  public var updatedAt: Date
  public var version: Int64

  public init(
    code: String, name: String, hall: String, comprehensive: Bool, departments: [String], createdAt: Date, updatedAt: Date,
    version: Int64
  ) {
    self.code = code
    self.name = name
    self.hall = hall
    self.comprehensive = comprehensive
    self.departments = departments
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.version = version
  }

  /// Whether a case of `department`'s item may be received here.
  public func serves(_ department: String) -> Bool { self.comprehensive || self.departments.contains(department) }
}

/// What the office sends to register or change a window, checked by `parse`.
public struct NewWindow: Sendable, Hashable {
  public var code: String
  public var name: String
  public var hall: String
  public var comprehensive: Bool
  public var departments: [String]

  /// Checks every field, naming the one at fault. The code is normalised (NFKC, trimmed,
  /// upper-cased); departments are deduplicated and sorted (their existence is checked by the store).
  public static func parse(code: String, name: String, hall: String, comprehensive: Bool, departments: [String]) throws(DomainError)
    -> NewWindow
  {
    let code = try WindowCode.parse(code, field: "code")
    let name = String(name.trimmingWhitespace())
    let hall = String(hall.trimmingWhitespace())
    try FieldRules.text(name, field: "name", max: 100)
    try FieldRules.text(hall, field: "hall", max: 100)
    guard departments.count <= 100 else {
      throw .invalidArgument("window.too_many_departments", field: "department_codes")
    }
    var codes: Set<String> = []
    for (i, department) in departments.enumerated() {
      let department = String(department.trimmingWhitespace())
      try FieldRules.code(department, field: "department_codes[\(i)]")
      codes.insert(department)
    }
    guard comprehensive || !codes.isEmpty else {
      throw .invalidArgument("window.no_department", arguments: [code], field: "department_codes")
    }
    return NewWindow(code: code, name: name, hall: hall, comprehensive: comprehensive, departments: codes.sorted())
  }
}

/// A clerk registered as staff (工作人员): the certificate's organisation (O, a department code)
/// and person (CN), and the windows they work at.
public struct StaffMemberRecord: Codable, Sendable, Hashable {
  public var organization: String
  public var person: String
  /// Window codes, sorted.
  public var windows: [String]
  public init(organization: String, person: String, windows: [String]) {
    self.organization = organization
    self.person = person
    self.windows = windows
  }
}

/// A registered liaison unit (包保单位): the organisation liaison officials' certificates name.
public struct LiaisonUnitRecord: Codable, Sendable, Hashable {
  public var name: String
  public var township: String
  public var createdAt: Date
  public init(name: String, township: String, createdAt: Date) {
    self.name = name
    self.township = township
    self.createdAt = createdAt
  }
}

/// A rating pad (评价器) registered at a window (docs/DOMAIN.md §21). Its certificate names OU=pad,
/// O=the window code, CN=the device id.
public struct RatingDeviceRecord: Codable, Sendable, Hashable {
  public var id: String
  public var windowCode: String
  public var registeredAt: Date
  /// When the office took it out of service; nil while it rates.
  public var retiredAt: Date?
  public init(id: String, windowCode: String, registeredAt: Date, retiredAt: Date?) {
    self.id = id
    self.windowCode = windowCode
    self.registeredAt = registeredAt
    self.retiredAt = retiredAt
  }
}

/// A department head (科室负责人), who verifies the department's rectifications (docs/DOMAIN.md §21):
/// a clerk named as their certificate names them, the department code (O) and the person (CN).
public struct DepartmentHeadRecord: Codable, Sendable, Hashable {
  public var departmentCode: String
  public var person: String
  public var assignedAt: Date
  public init(departmentCode: String, person: String, assignedAt: Date) {
    self.departmentCode = departmentCode
    self.person = person
    self.assignedAt = assignedAt
  }
}

/// How a case's window was admitted at submission (docs/DOMAIN.md §18).
public struct WindowAdmission: Sendable, Hashable {
  /// The registered window, or nil while the county has registered none (free text).
  public var window: WindowRecord?
  /// Whether the submitting clerk is registered as staff at that window.
  public var callerIsStaff: Bool
  public init(window: WindowRecord?, callerIsStaff: Bool) {
    self.window = window
    self.callerIsStaff = callerIsStaff
  }
}

extension BanjieStore {
  // MARK: Windows

  public func windows() async throws -> [WindowRecord] {
    try await self.pool.read { db in try Self.windows(db, code: nil) }
  }

  static func windows(_ db: Database, code: String?) throws -> [WindowRecord] {
    var sql = "SELECT code, name, hall, comprehensive, created_at, updated_at, version FROM windows"
    var arguments: StatementArguments = []
    if let code {
      sql += " WHERE code = ?"
      arguments = [code]
    }
    sql += " ORDER BY code"
    var departments: [String: [String]] = [:]
    let departmentSQL =
      code == nil
      ? "SELECT window_code, department_code FROM window_departments ORDER BY window_code, department_code"
      : "SELECT window_code, department_code FROM window_departments WHERE window_code = ? ORDER BY department_code"
    for row in try Row.fetchAll(db, sql: departmentSQL, arguments: arguments) {
      departments[row["window_code"], default: []].append(row["department_code"])
    }
    return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
      let code: String = row["code"]
      return WindowRecord(
        code: code, name: row["name"], hall: row["hall"], comprehensive: row["comprehensive"], departments: departments[code] ?? [],
        createdAt: row["created_at"], updatedAt: row["updated_at"], version: row["version"])
    }
  }

  static func window(_ db: Database, code: String) throws -> WindowRecord? {
    try Self.windows(db, code: code).first
  }

  /// Registers a window, or replaces a registered one's name, hall, kind and departments.
  public func upsertWindow(_ new: NewWindow, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> WindowRecord {
    try await self.write(idempotency: key, method: "UpsertWindow", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      for department in new.departments {
        guard try DepartmentRecord.present(db, "code", department) else {
          throw DomainError(kind: .invalidArgument, code: "window.unknown_department", arguments: [department], field: "department_codes")
        }
      }
      let existing = try Self.window(db, code: new.code)
      let version = (existing?.version ?? 0) + 1
      if existing == nil {
        try db.cachedStatement(
          sql: """
            INSERT INTO windows (code, name, hall, comprehensive, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)
            """
        ).execute(arguments: [new.code, new.name, new.hall, new.comprehensive, now, now, version])
      } else {
        try db.cachedStatement(sql: "UPDATE windows SET name = ?, hall = ?, comprehensive = ?, updated_at = ?, version = ? WHERE code = ?")
          .execute(arguments: [new.name, new.hall, new.comprehensive, now, version, new.code])
        try db.cachedStatement(sql: "DELETE FROM window_departments WHERE window_code = ?").execute(arguments: [new.code])
      }
      for department in new.departments {
        try db.cachedStatement(sql: "INSERT INTO window_departments (window_code, department_code) VALUES (?, ?)").execute(arguments: [
          new.code, department,
        ])
      }
      try AuditLog.append(
        db, at: now, actor: actor, action: existing == nil ? "window.register" : "window.update", entity: "window", entityID: new.code,
        detail: [
          "name": new.name, "hall": new.hall, "comprehensive": new.comprehensive ? "1" : "0",
          "departments": new.departments.joined(separator: ","), "version": String(version),
        ])
      guard let stored = try Self.window(db, code: new.code) else {
        throw DomainError(kind: .notFound, code: "window.unknown", arguments: [new.code], field: "code")
      }
      return stored
    }
  }

  // MARK: Staff

  /// Registered staff, one entry per person with their windows; optionally only those at
  /// `window` or of `organization`.
  public func staff(window: String?, organization: String?) async throws -> [StaffMemberRecord] {
    try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let window, !window.isEmpty {
        conditions.append("(organization, person) IN (SELECT organization, person FROM staff WHERE window_code = ?)")
        arguments += [window]
      }
      if let organization, !organization.isEmpty {
        conditions.append("organization = ?")
        arguments += [organization]
      }
      let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      var members: [StaffMemberRecord] = []
      for row in try Row.fetchAll(
        db, sql: "SELECT organization, person, window_code FROM staff\(filter) ORDER BY organization, person, window_code",
        arguments: arguments)
      {
        let organization: String = row["organization"]
        let person: String = row["person"]
        let window: String = row["window_code"]
        if let last = members.last, last.organization == organization, last.person == person {
          members[members.count - 1].windows.append(window)
        } else {
          members.append(StaffMemberRecord(organization: organization, person: person, windows: [window]))
        }
      }
      return members
    }
  }

  static func staffWindows(_ db: Database, organization: String, person: String) throws -> [String] {
    try String.fetchAll(
      db.cachedStatement(sql: "SELECT window_code FROM staff WHERE organization = ? AND person = ? ORDER BY window_code"),
      arguments: [organization, person])
  }

  /// Adds a clerk (certificate O and CN) to a window's staff, or removes them.
  public func assignStaff(
    organization: String, person: String, window: String, remove: Bool, actor: Actor, now: Date, key: IdempotencyKey?
  ) async throws -> StaffMemberRecord {
    try FieldRules.code(organization, field: "organization")
    try FieldRules.text(person, field: "person", max: 50)
    let code = try WindowCode.parse(window, field: "window_code")
    return try await self.write(
      idempotency: key, method: remove ? "UnassignStaff" : "AssignStaff", encode: Self.encoded, decode: Self.decoded, now: now
    ) { db in
      guard try DepartmentRecord.present(db, "code", organization) else {
        throw DomainError(kind: .invalidArgument, code: "staff.unknown_department", arguments: [organization], field: "organization")
      }
      guard let registered = try Self.window(db, code: code) else {
        throw DomainError(kind: .invalidArgument, code: "window.unknown", arguments: [code], field: "window_code")
      }
      let assigned = try Self.staffWindows(db, organization: organization, person: person).contains(code)
      if remove {
        guard assigned else {
          throw DomainError(
            kind: .failedPrecondition, code: "staff.not_assigned", arguments: [person, organization, code], field: "window_code")
        }
        try db.cachedStatement(sql: "DELETE FROM staff WHERE organization = ? AND person = ? AND window_code = ?").execute(arguments: [
          organization, person, code,
        ])
      } else {
        guard !assigned else {
          throw DomainError(
            kind: .alreadyExists, code: "staff.already_assigned", arguments: [person, organization, code], field: "window_code")
        }
        guard registered.serves(organization) else {
          throw DomainError(
            kind: .failedPrecondition, code: "staff.window_not_serving", arguments: [code, organization], field: "window_code")
        }
        try db.cachedStatement(sql: "INSERT INTO staff (organization, person, window_code, assigned_at) VALUES (?, ?, ?, ?)").execute(
          arguments: [organization, person, code, now])
      }
      try AuditLog.append(
        db, at: now, actor: actor, action: remove ? "staff.unassign" : "staff.assign", entity: "staff",
        entityID: "\(organization)/\(person)", detail: ["window": code])
      return StaffMemberRecord(
        organization: organization, person: person, windows: try Self.staffWindows(db, organization: organization, person: person))
    }
  }

  // MARK: Liaison units

  public func liaisonUnits() async throws -> [LiaisonUnitRecord] {
    try await self.pool.read { db in
      try Row.fetchAll(db.cachedStatement(sql: "SELECT name, township, created_at FROM liaison_units ORDER BY township, name")).map {
        LiaisonUnitRecord(name: $0["name"], township: $0["township"], createdAt: $0["created_at"])
      }
    }
  }

  /// Registers a liaison unit (包保单位), or moves a registered one to another township.
  public func upsertLiaisonUnit(name: String, township: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> LiaisonUnitRecord
  {
    let name = String(name.trimmingWhitespace())
    let township = String(township.trimmingWhitespace())
    try FieldRules.text(name, field: "name", max: 100)
    try FieldRules.text(township, field: "township", max: 50)
    return try await self.write(
      idempotency: key, method: "UpsertLiaisonUnit", encode: Self.encoded, decode: Self.decoded, now: now
    ) { db in
      guard
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM townships WHERE name = ?)"), arguments: [township]) ?? false
      else {
        throw DomainError(
          kind: .invalidArgument, code: "liaison_unit.unknown_township", arguments: [String(township.prefix(50))], field: "township")
      }
      let createdAt = try Date.fetchOne(db.cachedStatement(sql: "SELECT created_at FROM liaison_units WHERE name = ?"), arguments: [name])
      if createdAt == nil {
        try db.cachedStatement(sql: "INSERT INTO liaison_units (name, township, created_at) VALUES (?, ?, ?)").execute(arguments: [
          name, township, now,
        ])
      } else {
        try db.cachedStatement(sql: "UPDATE liaison_units SET township = ? WHERE name = ?").execute(arguments: [township, name])
      }
      try AuditLog.append(
        db, at: now, actor: actor, action: createdAt == nil ? "liaison_unit.register" : "liaison_unit.update", entity: "liaison_unit",
        entityID: name, detail: ["township": township])
      return LiaisonUnitRecord(name: name, township: township, createdAt: createdAt ?? now)
    }
  }

  // MARK: Rating pads (docs/DOMAIN.md §21)

  /// Registered rating pads by id, optionally only those of `window`, and only those in service
  /// unless `includeRetired`.
  public func ratingDevices(window: String?, includeRetired: Bool) async throws -> [RatingDeviceRecord] {
    try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let window, !window.isEmpty {
        conditions.append("window_code = ?")
        arguments += [window]
      }
      if !includeRetired { conditions.append("retired_at IS NULL") }
      let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      return try Row.fetchAll(
        db, sql: "SELECT id, window_code, registered_at, retired_at FROM rating_devices\(filter) ORDER BY id", arguments: arguments
      ).map(Self.ratingDevice(row:))
    }
  }

  static func ratingDevice(row: Row) -> RatingDeviceRecord {
    RatingDeviceRecord(id: row["id"], windowCode: row["window_code"], registeredAt: row["registered_at"], retiredAt: row["retired_at"])
  }

  static func ratingDevice(_ db: Database, id: String) throws -> RatingDeviceRecord? {
    try Row.fetchOne(
      db.cachedStatement(sql: "SELECT id, window_code, registered_at, retired_at FROM rating_devices WHERE id = ?"), arguments: [id]
    )
    .map(Self.ratingDevice(row:))
  }

  /// Registers a rating pad at a registered window. An id is registered once: a pad moved to
  /// another window, or replaced, gets a new id (and a new certificate, whose O names the window).
  public func registerRatingDevice(id: String, window: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> RatingDeviceRecord
  {
    let id = try RatingDeviceID.parse(id, field: "device_id")
    let code = try WindowCode.parse(window, field: "window_code")
    return try await self.write(
      idempotency: key, method: "RegisterRatingDevice", encode: Self.encoded, decode: Self.decoded, now: now
    ) { db in
      guard try Self.window(db, code: code) != nil else {
        throw DomainError(kind: .invalidArgument, code: "window.unknown", arguments: [code], field: "window_code")
      }
      if let existing = try Self.ratingDevice(db, id: id) {
        throw DomainError(
          kind: .alreadyExists, code: "device.already_registered", arguments: [id, existing.windowCode], field: "device_id")
      }
      try db.cachedStatement(sql: "INSERT INTO rating_devices (id, window_code, registered_at, retired_at) VALUES (?, ?, ?, NULL)").execute(
        arguments: [id, code, now])
      try AuditLog.append(
        db, at: now, actor: actor, action: "rating_device.register", entity: "rating_device", entityID: id, detail: ["window": code])
      return RatingDeviceRecord(id: id, windowCode: code, registeredAt: now, retiredAt: nil)
    }
  }

  /// Takes a rating pad out of service for good: from then on it is refused (PERMISSION_DENIED).
  public func retireRatingDevice(id: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> RatingDeviceRecord {
    let id = try RatingDeviceID.parse(id, field: "device_id")
    return try await self.write(
      idempotency: key, method: "RetireRatingDevice", encode: Self.encoded, decode: Self.decoded, now: now
    ) { db in
      guard var device = try Self.ratingDevice(db, id: id) else {
        throw DomainError(kind: .notFound, code: "device.not_found", arguments: [id], field: "device_id")
      }
      if let retiredAt = device.retiredAt {
        throw DomainError(
          kind: .failedPrecondition, code: "device.already_retired", arguments: [id, AuditLog.timestamp(retiredAt)], field: "device_id")
      }
      try db.cachedStatement(sql: "UPDATE rating_devices SET retired_at = ? WHERE id = ?").execute(arguments: [now, id])
      try AuditLog.append(
        db, at: now, actor: actor, action: "rating_device.retire", entity: "rating_device", entityID: id,
        detail: ["window": device.windowCode])
      device.retiredAt = now
      return device
    }
  }

  /// Refuses a rating pad (PERMISSION_DENIED, naming the device) unless its device id is
  /// registered, in service, at the window its certificate names. Read before the request is
  /// looked at, and again inside the rating's transaction.
  public func checkRatingPad(device: String, window: String) async throws {
    try await self.pool.read { db in try Self.checkRatingPad(db, device: device, window: window) }
  }

  static func checkRatingPad(_ db: Database, device: String, window: String) throws {
    guard let registered = try Self.ratingDevice(db, id: device) else {
      throw DomainError(kind: .permissionDenied, code: "pad.unregistered", arguments: [device, window])
    }
    if let retiredAt = registered.retiredAt {
      throw DomainError(kind: .permissionDenied, code: "pad.retired", arguments: [device, AuditLog.timestamp(retiredAt)])
    }
    guard registered.windowCode == window else {
      throw DomainError(kind: .permissionDenied, code: "pad.wrong_window", arguments: [device, window, registered.windowCode])
    }
  }

  // MARK: Department heads (docs/DOMAIN.md §21)

  /// Registered department heads, by department and person; optionally only `department`'s.
  public func departmentHeads(department: String?) async throws -> [DepartmentHeadRecord] {
    try await self.pool.read { db in
      var sql = "SELECT department_code, person, assigned_at FROM department_heads"
      var arguments: StatementArguments = []
      if let department, !department.isEmpty {
        sql += " WHERE department_code = ?"
        arguments = [department]
      }
      return try Row.fetchAll(db, sql: sql + " ORDER BY department_code, person", arguments: arguments).map {
        DepartmentHeadRecord(departmentCode: $0["department_code"], person: $0["person"], assignedAt: $0["assigned_at"])
      }
    }
  }

  /// Makes a clerk (certificate O and CN) a head of their department, or removes them.
  public func assignDepartmentHead(
    department: String, person: String, remove: Bool, actor: Actor, now: Date, key: IdempotencyKey?
  ) async throws -> DepartmentHeadRecord {
    try FieldRules.code(department, field: "department_code")
    try FieldRules.text(person, field: "person", max: 50)
    return try await self.write(
      idempotency: key, method: remove ? "RemoveDepartmentHead" : "AssignDepartmentHead", encode: Self.encoded, decode: Self.decoded,
      now: now
    ) { db in
      guard try DepartmentRecord.present(db, "code", department) else {
        throw DomainError(kind: .invalidArgument, code: "head.unknown_department", arguments: [department], field: "department_code")
      }
      let assignedAt = try Date.fetchOne(
        db.cachedStatement(sql: "SELECT assigned_at FROM department_heads WHERE department_code = ? AND person = ?"),
        arguments: [department, person])
      if remove {
        guard let assignedAt else {
          throw DomainError(kind: .failedPrecondition, code: "head.not_assigned", arguments: [person, department], field: "person")
        }
        try db.cachedStatement(sql: "DELETE FROM department_heads WHERE department_code = ? AND person = ?").execute(arguments: [
          department, person,
        ])
        try AuditLog.append(
          db, at: now, actor: actor, action: "department_head.unassign", entity: "department_head", entityID: "\(department)/\(person)")
        return DepartmentHeadRecord(departmentCode: department, person: person, assignedAt: assignedAt)
      }
      guard assignedAt == nil else {
        throw DomainError(kind: .alreadyExists, code: "head.already_assigned", arguments: [person, department], field: "person")
      }
      try db.cachedStatement(sql: "INSERT INTO department_heads (department_code, person, assigned_at) VALUES (?, ?, ?)").execute(
        arguments: [department, person, now])
      try AuditLog.append(
        db, at: now, actor: actor, action: "department_head.assign", entity: "department_head", entityID: "\(department)/\(person)")
      return DepartmentHeadRecord(departmentCode: department, person: person, assignedAt: now)
    }
  }

  // MARK: Submission

  /// The window rule of a submission (docs/DOMAIN.md §18), inside its transaction: while no
  /// window is registered the window stays free text; otherwise it must be registered (compared
  /// after NFKC, trimming and upper-casing), and a clerk registered as staff may submit only at
  /// one of their windows.
  static func admitWindow(_ db: Database, window text: String, actor: Actor) throws -> WindowAdmission {
    guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM windows)")) ?? false else {
      return WindowAdmission(window: nil, callerIsStaff: false)
    }
    let code = WindowCode.normalize(text)
    guard let window = try Self.window(db, code: code) else {
      throw DomainError(kind: .invalidArgument, code: "case.unknown_window", arguments: [String(code.prefix(50))], field: "window")
    }
    let mine = try Self.staffWindows(db, organization: actor.organization, person: actor.person)
    guard mine.isEmpty || mine.contains(code) else {
      throw DomainError(
        kind: .permissionDenied, code: "case.not_your_window",
        arguments: [actor.person, actor.organization, mine.joined(separator: ", "), code], field: "window")
    }
    return WindowAdmission(window: window, callerIsStaff: !mine.isEmpty)
  }
}
