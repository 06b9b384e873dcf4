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
    try await self.read { sql in try Self.windows(sql, code: nil) }
  }

  static func windows(_ db: Database, code: String?) throws -> [WindowRecord] {
    try Self.windows(SQLiteSQLConnection(db), code: code)
  }

  static func windows(_ sql: any SQLConnection, code: String?) throws -> [WindowRecord] {
    var departments: [String: [String]] = [:]
    let departmentRows: [SQLRow]
    let windowRows: [SQLRow]
    let columns = "code, name, hall, comprehensive, created_at, updated_at, version"
    if let code {
      departmentRows = try sql.fetchAll(
        "SELECT window_code, department_code FROM window_departments WHERE window_code = ? ORDER BY department_code", [.text(code)])
      windowRows = try sql.fetchAll("SELECT \(columns) FROM windows WHERE code = ? ORDER BY code", [.text(code)])
    } else {
      departmentRows = try sql.fetchAll(
        "SELECT window_code, department_code FROM window_departments ORDER BY window_code, department_code")
      windowRows = try sql.fetchAll("SELECT \(columns) FROM windows ORDER BY code")
    }
    for row in departmentRows {
      departments[try row.decode(String.self, "window_code"), default: []].append(try row.decode(String.self, "department_code"))
    }
    return try windowRows.map { row in
      let code = try row.decode(String.self, "code")
      return WindowRecord(
        code: code, name: try row.decode("name"), hall: try row.decode("hall"), comprehensive: try row.decode("comprehensive"),
        departments: departments[code] ?? [], createdAt: try row.decode(StoredDate.self, "created_at").date,
        updatedAt: try row.decode(StoredDate.self, "updated_at").date, version: try row.decode("version"))
    }
  }

  static func window(_ db: Database, code: String) throws -> WindowRecord? {
    try Self.window(SQLiteSQLConnection(db), code: code)
  }

  static func window(_ sql: any SQLConnection, code: String) throws -> WindowRecord? {
    try Self.windows(sql, code: code).first
  }

  /// Registers a window, or replaces a registered one's name, hall, kind and departments.
  public func upsertWindow(_ new: NewWindow, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> WindowRecord {
    try await self.mutate(idempotency: key, method: "UpsertWindow", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      for department in new.departments {
        guard try sql.present("departments", "code", .text(department)) else {
          throw DomainError(kind: .invalidArgument, code: "window.unknown_department", arguments: [department], field: "department_codes")
        }
      }
      let existing = try Self.window(sql, code: new.code)
      let version = (existing?.version ?? 0) + 1
      if existing == nil {
        try sql.execute(
          "INSERT INTO windows (code, name, hall, comprehensive, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
          [
            .text(new.code), .text(new.name), .text(new.hall), new.comprehensive.sqlValue, StoredDate(now).sqlValue,
            StoredDate(now).sqlValue, version.sqlValue,
          ])
      } else {
        try sql.execute(
          "UPDATE windows SET name = ?, hall = ?, comprehensive = ?, updated_at = ?, version = ? WHERE code = ?",
          [.text(new.name), .text(new.hall), new.comprehensive.sqlValue, StoredDate(now).sqlValue, version.sqlValue, .text(new.code)])
        try sql.execute("DELETE FROM window_departments WHERE window_code = ?", [.text(new.code)])
      }
      for department in new.departments {
        try sql.execute(
          "INSERT INTO window_departments (window_code, department_code) VALUES (?, ?)", [.text(new.code), .text(department)])
      }
      try AuditLog.append(
        sql, at: now, actor: actor, action: existing == nil ? "window.register" : "window.update", entity: "window", entityID: new.code,
        detail: [
          "name": new.name, "hall": new.hall, "comprehensive": new.comprehensive ? "1" : "0",
          "departments": new.departments.joined(separator: ","), "version": String(version),
        ])
      guard let stored = try Self.window(sql, code: new.code) else {
        throw DomainError(kind: .notFound, code: "window.unknown", arguments: [new.code], field: "code")
      }
      return stored
    }
  }

  // MARK: Staff

  /// Registered staff, one entry per person with their windows; optionally only those at
  /// `window` or of `organization`.
  public func staff(window: String?, organization: String?) async throws -> [StaffMemberRecord] {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let window, !window.isEmpty {
        conditions.append("(organization, person) IN (SELECT organization, person FROM staff WHERE window_code = ?)")
        arguments.append(.text(window))
      }
      if let organization, !organization.isEmpty {
        conditions.append("organization = ?")
        arguments.append(.text(organization))
      }
      let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      var members: [StaffMemberRecord] = []
      // One of four statements written here, whichever filters are given: cached like any other.
      for row in try sql.fetchAll(
        "SELECT organization, person, window_code FROM staff\(filter) ORDER BY organization, person, window_code", arguments)
      {
        let organization = try row.decode(String.self, "organization")
        let person = try row.decode(String.self, "person")
        let window = try row.decode(String.self, "window_code")
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
    try Self.staffWindows(SQLiteSQLConnection(db), organization: organization, person: person)
  }

  static func staffWindows(_ sql: any SQLConnection, organization: String, person: String) throws -> [String] {
    try sql.fetchAll(
      String.self, "SELECT window_code FROM staff WHERE organization = ? AND person = ? ORDER BY window_code",
      [.text(organization), .text(person)])
  }

  /// Adds a clerk (certificate O and CN) to a window's staff, or removes them.
  public func assignStaff(
    organization: String, person: String, window: String, remove: Bool, actor: Actor, now: Date, key: IdempotencyKey?
  ) async throws -> StaffMemberRecord {
    try FieldRules.code(organization, field: "organization")
    try FieldRules.text(person, field: "person", max: 50)
    let code = try WindowCode.parse(window, field: "window_code")
    return try await self.mutate(
      idempotency: key, method: remove ? "UnassignStaff" : "AssignStaff", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
      guard try sql.present("departments", "code", .text(organization)) else {
        throw DomainError(kind: .invalidArgument, code: "staff.unknown_department", arguments: [organization], field: "organization")
      }
      guard let registered = try Self.window(sql, code: code) else {
        throw DomainError(kind: .invalidArgument, code: "window.unknown", arguments: [code], field: "window_code")
      }
      let assigned = try Self.staffWindows(sql, organization: organization, person: person).contains(code)
      if remove {
        guard assigned else {
          throw DomainError(
            kind: .failedPrecondition, code: "staff.not_assigned", arguments: [person, organization, code], field: "window_code")
        }
        try sql.execute(
          "DELETE FROM staff WHERE organization = ? AND person = ? AND window_code = ?", [.text(organization), .text(person), .text(code)])
      } else {
        guard !assigned else {
          throw DomainError(
            kind: .alreadyExists, code: "staff.already_assigned", arguments: [person, organization, code], field: "window_code")
        }
        guard registered.serves(organization) else {
          throw DomainError(
            kind: .failedPrecondition, code: "staff.window_not_serving", arguments: [code, organization], field: "window_code")
        }
        try sql.execute(
          "INSERT INTO staff (organization, person, window_code, assigned_at) VALUES (?, ?, ?, ?)",
          [.text(organization), .text(person), .text(code), StoredDate(now).sqlValue])
      }
      try AuditLog.append(
        sql, at: now, actor: actor, action: remove ? "staff.unassign" : "staff.assign", entity: "staff",
        entityID: "\(organization)/\(person)", detail: ["window": code])
      return StaffMemberRecord(
        organization: organization, person: person, windows: try Self.staffWindows(sql, organization: organization, person: person))
    }
  }

  // MARK: Liaison units

  public func liaisonUnits() async throws -> [LiaisonUnitRecord] {
    try await self.read { sql in
      try sql.fetchAll("SELECT name, township, created_at FROM liaison_units ORDER BY township, name").map {
        LiaisonUnitRecord(
          name: try $0.decode("name"), township: try $0.decode("township"), createdAt: try $0.decode(StoredDate.self, "created_at").date)
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
    return try await self.mutate(
      idempotency: key, method: "UpsertLiaisonUnit", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
      guard try sql.present("townships", "name", .text(township)) else {
        throw DomainError(
          kind: .invalidArgument, code: "liaison_unit.unknown_township", arguments: [String(township.prefix(50))], field: "township")
      }
      let createdAt = try sql.fetchOne(StoredDate.self, "SELECT created_at FROM liaison_units WHERE name = ?", [.text(name)])?.date
      if createdAt == nil {
        try sql.execute(
          "INSERT INTO liaison_units (name, township, created_at) VALUES (?, ?, ?)",
          [.text(name), .text(township), StoredDate(now).sqlValue])
      } else {
        try sql.execute("UPDATE liaison_units SET township = ? WHERE name = ?", [.text(township), .text(name)])
      }
      try AuditLog.append(
        sql, at: now, actor: actor, action: createdAt == nil ? "liaison_unit.register" : "liaison_unit.update", entity: "liaison_unit",
        entityID: name, detail: ["township": township])
      return LiaisonUnitRecord(name: name, township: township, createdAt: createdAt ?? now)
    }
  }

  // MARK: Rating pads (docs/DOMAIN.md §21)

  /// Registered rating pads by id, optionally only those of `window`, and only those in service
  /// unless `includeRetired`.
  public func ratingDevices(window: String?, includeRetired: Bool) async throws -> [RatingDeviceRecord] {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let window, !window.isEmpty {
        conditions.append("window_code = ?")
        arguments.append(.text(window))
      }
      if !includeRetired { conditions.append("retired_at IS NULL") }
      let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      // One of four statements written here, whichever filters are given: cached like any other.
      return try sql.fetchAll("SELECT id, window_code, registered_at, retired_at FROM rating_devices\(filter) ORDER BY id", arguments)
        .map(Self.ratingDevice(sqlRow:))
    }
  }

  static func ratingDevice(sqlRow row: SQLRow) throws -> RatingDeviceRecord {
    RatingDeviceRecord(
      id: try row.decode("id"), windowCode: try row.decode("window_code"),
      registeredAt: try row.decode(StoredDate.self, "registered_at").date,
      retiredAt: try row.decode(StoredDate?.self, "retired_at")?.date)
  }

  static func ratingDevice(_ sql: any SQLConnection, id: String) throws -> RatingDeviceRecord? {
    try sql.fetchOne("SELECT id, window_code, registered_at, retired_at FROM rating_devices WHERE id = ?", [.text(id)])
      .map(Self.ratingDevice(sqlRow:))
  }

  /// Registers a rating pad at a registered window. An id is registered once: a pad moved to
  /// another window, or replaced, gets a new id (and a new certificate, whose O names the window).
  public func registerRatingDevice(id: String, window: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> RatingDeviceRecord
  {
    let id = try RatingDeviceID.parse(id, field: "device_id")
    let code = try WindowCode.parse(window, field: "window_code")
    return try await self.mutate(
      idempotency: key, method: "RegisterRatingDevice", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
      guard try sql.present("windows", "code", .text(code)) else {
        throw DomainError(kind: .invalidArgument, code: "window.unknown", arguments: [code], field: "window_code")
      }
      if let existing = try Self.ratingDevice(sql, id: id) {
        throw DomainError(
          kind: .alreadyExists, code: "device.already_registered", arguments: [id, existing.windowCode], field: "device_id")
      }
      try sql.execute(
        "INSERT INTO rating_devices (id, window_code, registered_at, retired_at) VALUES (?, ?, ?, NULL)",
        [.text(id), .text(code), StoredDate(now).sqlValue])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "rating_device.register", entity: "rating_device", entityID: id, detail: ["window": code])
      return RatingDeviceRecord(id: id, windowCode: code, registeredAt: now, retiredAt: nil)
    }
  }

  /// Takes a rating pad out of service for good: from then on it is refused (PERMISSION_DENIED).
  public func retireRatingDevice(id: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> RatingDeviceRecord {
    let id = try RatingDeviceID.parse(id, field: "device_id")
    return try await self.mutate(
      idempotency: key, method: "RetireRatingDevice", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
      guard var device = try Self.ratingDevice(sql, id: id) else {
        throw DomainError(kind: .notFound, code: "device.not_found", arguments: [id], field: "device_id")
      }
      if let retiredAt = device.retiredAt {
        throw DomainError(
          kind: .failedPrecondition, code: "device.already_retired", arguments: [id, AuditLog.timestamp(retiredAt)], field: "device_id")
      }
      try sql.execute("UPDATE rating_devices SET retired_at = ? WHERE id = ?", [StoredDate(now).sqlValue, .text(id)])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "rating_device.retire", entity: "rating_device", entityID: id,
        detail: ["window": device.windowCode])
      device.retiredAt = now
      return device
    }
  }

  /// Refuses a rating pad (PERMISSION_DENIED, naming the device) unless its device id is
  /// registered, in service, at the window its certificate names. Read before the request is
  /// looked at, and again inside the rating's transaction.
  public func checkRatingPad(device: String, window: String) async throws {
    try await self.read { sql in try Self.checkRatingPad(sql, device: device, window: window) }
  }

  static func checkRatingPad(_ db: Database, device: String, window: String) throws {
    try Self.checkRatingPad(SQLiteSQLConnection(db), device: device, window: window)
  }

  static func checkRatingPad(_ sql: any SQLConnection, device: String, window: String) throws {
    guard let registered = try Self.ratingDevice(sql, id: device) else {
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
    try await self.read { sql in
      let rows: [SQLRow]
      if let department, !department.isEmpty {
        rows = try sql.fetchAll(
          "SELECT department_code, person, assigned_at FROM department_heads WHERE department_code = ? ORDER BY department_code, person",
          [.text(department)])
      } else {
        rows = try sql.fetchAll("SELECT department_code, person, assigned_at FROM department_heads ORDER BY department_code, person")
      }
      return try rows.map {
        DepartmentHeadRecord(
          departmentCode: try $0.decode("department_code"), person: try $0.decode("person"),
          assignedAt: try $0.decode(StoredDate.self, "assigned_at").date)
      }
    }
  }

  /// Makes a clerk (certificate O and CN) a head of their department, or removes them.
  public func assignDepartmentHead(
    department: String, person: String, remove: Bool, actor: Actor, now: Date, key: IdempotencyKey?
  ) async throws -> DepartmentHeadRecord {
    try FieldRules.code(department, field: "department_code")
    try FieldRules.text(person, field: "person", max: 50)
    return try await self.mutate(
      idempotency: key, method: remove ? "RemoveDepartmentHead" : "AssignDepartmentHead", encode: Self.encoded, decode: Self.decoded,
      now: now
    ) { sql in
      guard try sql.present("departments", "code", .text(department)) else {
        throw DomainError(kind: .invalidArgument, code: "head.unknown_department", arguments: [department], field: "department_code")
      }
      let assignedAt = try sql.fetchOne(
        StoredDate.self, "SELECT assigned_at FROM department_heads WHERE department_code = ? AND person = ?",
        [.text(department), .text(person)])?.date
      if remove {
        guard let assignedAt else {
          throw DomainError(kind: .failedPrecondition, code: "head.not_assigned", arguments: [person, department], field: "person")
        }
        try sql.execute("DELETE FROM department_heads WHERE department_code = ? AND person = ?", [.text(department), .text(person)])
        try AuditLog.append(
          sql, at: now, actor: actor, action: "department_head.unassign", entity: "department_head", entityID: "\(department)/\(person)")
        return DepartmentHeadRecord(departmentCode: department, person: person, assignedAt: assignedAt)
      }
      guard assignedAt == nil else {
        throw DomainError(kind: .alreadyExists, code: "head.already_assigned", arguments: [person, department], field: "person")
      }
      try sql.execute(
        "INSERT INTO department_heads (department_code, person, assigned_at) VALUES (?, ?, ?)",
        [.text(department), .text(person), StoredDate(now).sqlValue])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "department_head.assign", entity: "department_head", entityID: "\(department)/\(person)")
      return DepartmentHeadRecord(departmentCode: department, person: person, assignedAt: now)
    }
  }

  // MARK: Submission

  /// The window rule of a submission (docs/DOMAIN.md §18), inside its transaction: while no
  /// window is registered the window stays free text; otherwise it must be registered (compared
  /// after NFKC, trimming and upper-casing), and a clerk registered as staff may submit only at
  /// one of their windows.
  static func admitWindow(_ db: Database, window text: String, actor: Actor) throws -> WindowAdmission {
    try Self.admitWindow(SQLiteSQLConnection(db), window: text, actor: actor)
  }

  static func admitWindow(_ sql: any SQLConnection, window text: String, actor: Actor) throws -> WindowAdmission {
    guard try sql.fetchOne(Bool.self, "SELECT EXISTS (SELECT 1 FROM windows)") ?? false else {
      return WindowAdmission(window: nil, callerIsStaff: false)
    }
    let code = WindowCode.normalize(text)
    guard let window = try Self.window(sql, code: code) else {
      throw DomainError(kind: .invalidArgument, code: "case.unknown_window", arguments: [String(code.prefix(50))], field: "window")
    }
    let mine = try Self.staffWindows(sql, organization: actor.organization, person: actor.person)
    guard mine.isEmpty || mine.contains(code) else {
      throw DomainError(
        kind: .permissionDenied, code: "case.not_your_window",
        arguments: [actor.person, actor.organization, mine.joined(separator: ", "), code], field: "window")
    }
    return WindowAdmission(window: window, callerIsStaff: !mine.isEmpty)
  }
}
