public import BanjieCore
public import Foundation
import GRDB

/// The caller-facing facts an authorization decision about an enterprise needs.
public struct EnterpriseAccess: Sendable, Hashable {
  public var uscc: String
  public var liaisons: [LiaisonRef]
  public init(uscc: String, liaisons: [LiaisonRef]) {
    self.uscc = uscc
    self.liaisons = liaisons
  }
}

extension NewEnterprise {
  /// Checks every field a caller sends, naming the field at fault. Townships are checked
  /// against `townships`, the county's list.
  public static func parse(
    uscc: String, name: String, industry: String, scale: String, township: String, contacts: [ContactRecord],
    liaisons: [LiaisonRef], checkOverrideReason: String?, townships: Set<String>
  ) throws(DomainError) -> NewEnterprise {
    let admission = try USCCAdmission.admit(uscc, overrideReason: checkOverrideReason)
    try FieldRules.text(name, field: "name", max: 200)
    let industry = try IndustrySection.parse(industry)
    let scale = try EnterpriseScale.parse(scale)
    let township = String(township.trimmingWhitespace())
    try FieldRules.text(township, field: "township", max: 50)
    guard townships.contains(township) else {
      throw .invalidArgument("enterprise.unknown_township", arguments: [String(township.prefix(50))], field: "township")
    }
    guard contacts.count <= 20 else { throw .invalidArgument("enterprise.too_many_contacts", field: "contacts") }
    for (i, contact) in contacts.enumerated() {
      try FieldRules.text(contact.name, field: "contacts[\(i)].name", max: 50)
      try FieldRules.text(contact.title, field: "contacts[\(i)].title", max: 50, required: false)
      guard contact.phone.count <= 30, contact.phone.allSatisfy({ $0.isASCII && ($0.isNumber || "+- ()".contains($0)) }) else {
        throw .invalidArgument(
          "enterprise.bad_phone", arguments: ["\(i)", String(contact.phone.prefix(30))], field: "contacts[\(i)].phone")
      }
    }
    guard liaisons.count <= 20 else {
      throw .invalidArgument("enterprise.too_many_liaisons", field: "liaisons")
    }
    for (i, liaison) in liaisons.enumerated() {
      try FieldRules.text(liaison.organization, field: "liaisons[\(i)].organization", max: 100)
      try FieldRules.text(liaison.person, field: "liaisons[\(i)].person", max: 50)
    }
    let reason: String? = if case .overridden(_, let reason) = admission { reason } else { nil }
    return NewEnterprise(
      uscc: admission.code, name: name, industry: industry, scale: scale, township: township,
      contacts: contacts, liaisons: Array(Set(liaisons)).sorted(), checkOverrideReason: reason)
  }
}

extension BanjieStore {
  static let campaignEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .millisecondsSince1970
    return encoder
  }()
  static let campaignDecoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .millisecondsSince1970
    return decoder
  }()

  /// Encoders for idempotent replays of any Codable answer.
  static func encoded<T: Encodable>(_ value: T) throws -> Data { try campaignEncoder.encode(value) }
  static func decoded<T: Decodable>(_ data: Data) throws -> T { try campaignDecoder.decode(T.self, from: data) }

  // MARK: Townships

  public func townships() async throws -> [Township] {
    try await self.read { sql in
      try sql.fetchAll("SELECT name, code FROM townships ORDER BY code, name").map {
        Township(name: try $0.decode("name"), code: try $0.decode("code"))
      }
    }
  }

  public func addTownship(_ township: Township, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> Township {
    try FieldRules.text(township.name, field: "name", max: 50)
    try FieldRules.code(township.code, field: "code")
    return try await self.mutate(idempotency: key, method: "AddTownship", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      if let code = try sql.fetchOne(String.self, "SELECT code FROM townships WHERE name = ?", [.text(township.name)]) {
        // A township listed by name only (migration v12) takes the code the office has verified.
        guard code.isEmpty else {
          throw DomainError(kind: .alreadyExists, code: "township.exists", arguments: [township.name], field: "name")
        }
        _ = try sql.execute("UPDATE townships SET code = ? WHERE name = ?", [.text(township.code), .text(township.name)])
        try AuditLog.append(
          sql, at: now, actor: actor, action: "township.code", entity: "township", entityID: township.name,
          detail: ["code": township.code])
        return township
      }
      _ = try sql.execute("INSERT INTO townships (name, code) VALUES (?, ?)", [.text(township.name), .text(township.code)])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "township.add", entity: "township", entityID: township.name, detail: ["code": township.code])
      return township
    }
  }

  // MARK: Registry

  public func registerEnterprise(_ new: NewEnterprise, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> EnterpriseView {
    try await self.mutate(idempotency: key, method: "RegisterEnterprise", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      if try sql.present("enterprises", "uscc", .text(new.uscc)) {
        throw DomainError(kind: .alreadyExists, code: "enterprise.exists", arguments: [new.uscc], field: "uscc")
      }
      try Self.requireTownship(sql, new.township)
      let record = EnterpriseRecord(
        uscc: new.uscc, name: new.name, industry: new.industry, scale: new.scale, township: new.township,
        contacts: new.contacts, checkOverrideReason: new.checkOverrideReason, registeredAt: now, version: 1, updatedAt: now)
      try record.insert(sql)
      for liaison in new.liaisons { try Self.insertLiaison(sql, uscc: new.uscc, liaison, now: now) }
      var detail = ["name": new.name, "industry": new.industry.rawValue, "scale": new.scale.rawValue, "township": new.township]
      if let reason = new.checkOverrideReason { detail["check_override_reason"] = reason }
      try AuditLog.append(
        sql, at: now, actor: actor, action: new.checkOverrideReason == nil ? "enterprise.register" : "enterprise.register_check_override",
        entity: "enterprise", entityID: new.uscc, detail: detail)
      return try Self.enterpriseView(sql, record)
    }
  }

  public func assignLiaison(uscc: String, liaison: LiaisonRef, remove: Bool, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> EnterpriseView
  {
    try await self.mutate(
      idempotency: key, method: remove ? "UnassignLiaison" : "AssignLiaison", encode: Self.encoded, decode: Self.decoded, now: now
    ) { sql in
      guard var record = try EnterpriseRecord.byUSCC(sql, uscc) else { throw Self.enterpriseNotFound(uscc) }
      let assigned = try Self.liaisons(sql, uscc: uscc).contains(liaison)
      if remove {
        guard assigned else {
          throw DomainError(
            kind: .failedPrecondition, code: "enterprise.not_assigned", messageKey: "enterprise.not_assigned#remove",
            arguments: [liaison.person, liaison.organization, uscc], field: "liaison")
        }
        _ = try sql.execute(
          "DELETE FROM enterprise_liaisons WHERE uscc = ? AND organization = ? AND person = ?",
          [.text(uscc), .text(liaison.organization), .text(liaison.person)])
      } else {
        guard !assigned else {
          throw DomainError(
            kind: .alreadyExists, code: "enterprise.already_assigned", arguments: [liaison.person, liaison.organization, uscc],
            field: "liaison")
        }
        try Self.insertLiaison(sql, uscc: uscc, liaison, now: now)
      }
      record.version += 1
      record.updatedAt = now
      _ = try sql.execute(
        "UPDATE enterprises SET version = ?, updated_at = ? WHERE uscc = ?",
        [record.version.sqlValue, StoredDate(record.updatedAt).sqlValue, .text(uscc)])
      try AuditLog.append(
        sql, at: now, actor: actor, action: remove ? "enterprise.unassign" : "enterprise.assign", entity: "enterprise", entityID: uscc,
        detail: ["organization": liaison.organization, "person": liaison.person])
      return try Self.enterpriseView(sql, record)
    }
  }

  /// Writes one batch of import rows in one transaction; rows identical to what is stored
  /// write nothing. Liaisons in a row are added to those already assigned.
  public func importEnterprises(_ rows: [NewEnterprise], actor: Actor, now: Date) async throws -> [ImportOutcome] {
    try await self.mutate { sql in
      var outcomes: [ImportOutcome] = []
      outcomes.reserveCapacity(rows.count)
      for new in rows {
        guard var record = try EnterpriseRecord.byUSCC(sql, new.uscc) else {
          let record = EnterpriseRecord(
            uscc: new.uscc, name: new.name, industry: new.industry, scale: new.scale, township: new.township,
            contacts: new.contacts, checkOverrideReason: nil, registeredAt: now, version: 1, updatedAt: now)
          try record.insert(sql)
          for liaison in new.liaisons { try Self.insertLiaison(sql, uscc: new.uscc, liaison, now: now) }
          try AuditLog.append(
            sql, at: now, actor: actor, action: "enterprise.import", entity: "enterprise", entityID: new.uscc,
            detail: ["outcome": "created", "name": new.name, "township": new.township])
          outcomes.append(.created)
          continue
        }
        let existing = Set(try Self.liaisons(sql, uscc: new.uscc))
        let missing = new.liaisons.filter { !existing.contains($0) }
        let same =
          record.name == new.name && record.industry == new.industry && record.scale == new.scale
          && record.township == new.township && (new.contacts.isEmpty || record.contacts == new.contacts)
        if same && missing.isEmpty {
          outcomes.append(.unchanged)
          continue
        }
        record.name = new.name
        record.industry = new.industry
        record.scale = new.scale
        record.township = new.township
        if !new.contacts.isEmpty { record.contacts = new.contacts }
        record.version += 1
        record.updatedAt = now
        try record.update(sql)
        for liaison in missing { try Self.insertLiaison(sql, uscc: new.uscc, liaison, now: now) }
        try AuditLog.append(
          sql, at: now, actor: actor, action: "enterprise.import", entity: "enterprise", entityID: new.uscc,
          detail: ["outcome": "updated", "name": new.name, "township": new.township])
        outcomes.append(.updated)
      }
      return outcomes
    }
  }

  public func enterprise(uscc: String) async throws -> EnterpriseView? {
    try await self.read { sql in
      guard let record = try EnterpriseRecord.byUSCC(sql, uscc) else { return nil }
      return try Self.enterpriseView(sql, record)
    }
  }

  public struct EnterpriseFilter: Sendable {
    public var township: String?
    public var industry: IndustrySection?
    public var scale: EnterpriseScale?
    public var liaison: LiaisonRef?
    public var uscc: String?
    public var pageSize = 50
    public var after: String?
    public init() {}
  }

  public func listEnterprises(_ filter: EnterpriseFilter) async throws -> (views: [EnterpriseView], total: Int, next: String?) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      if let t = filter.township {
        conditions.append("township = ?")
        arguments.append(.text(t))
      }
      if let i = filter.industry {
        conditions.append("industry = ?")
        arguments.append(i.sqlValue)
      }
      if let s = filter.scale {
        conditions.append("scale = ?")
        arguments.append(s.sqlValue)
      }
      if let u = filter.uscc {
        conditions.append("uscc = ?")
        arguments.append(.text(u))
      }
      if let l = filter.liaison {
        conditions.append(
          "EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = enterprises.uscc AND el.organization = ? AND el.person = ?)")
        arguments += [.text(l.organization), .text(l.person)]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      // Built per call (a variable number of conditions and placeholders): never cached.
      let total =
        try sql.fetchAll(uncached: "SELECT COUNT(*) FROM enterprises" + whereClause, arguments).first?.decode(Int.self, at: 0) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("uscc > ?")
        pageArguments.append(.text(after))
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try sql.fetchAll(
        uncached: "SELECT \(EnterpriseRecord.columns) FROM enterprises\(pageWhere) ORDER BY uscc LIMIT ?",
        pageArguments + [filter.pageSize.sqlValue]
      ).map(EnterpriseRecord.init(sqlRow:))
      let views = try records.map { try Self.enterpriseView(sql, $0) }
      return (views, total, records.count == filter.pageSize ? records.last?.uscc : nil)
    }
  }

  // MARK: Coverage

  /// Visited out of assigned, per liaison official and per township, for `from...to`; and the
  /// enterprises with no visit in the year of `to` (at most `limit` of them).
  public func coverage(from: LocalDate, to: LocalDate, limit: Int = 1000) async throws -> CoverageReport {
    try await self.read { sql in
      let f = SQLValue.text(from.description)
      let t = SQLValue.text(to.description)
      let liaisons = try sql.fetchAll(
        """
        SELECT el.organization, el.person, COUNT(*) AS assigned,
          COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM visits v WHERE v.uscc = el.uscc AND v.liaison_organization = el.organization
            AND v.liaison_person = el.person AND v.visited_on BETWEEN ? AND ?)) AS visited
        FROM enterprise_liaisons el GROUP BY el.organization, el.person ORDER BY el.organization, el.person
        """, [f, t]
      ).map {
        LiaisonCoverageRow(
          liaison: LiaisonRef(organization: try $0.decode("organization"), person: try $0.decode("person")),
          assigned: try $0.decode("assigned"), visited: try $0.decode("visited"))
      }
      let assignedSQL = "EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = e.uscc)"
      let visitedSQL = "EXISTS (SELECT 1 FROM visits v WHERE v.uscc = e.uscc AND v.visited_on BETWEEN ? AND ?)"
      let townships = try sql.fetchAll(
        """
        SELECT tw.name AS township, COUNT(e.uscc) AS enterprises,
          COUNT(e.uscc) FILTER (WHERE \(assignedSQL)) AS assigned,
          COUNT(e.uscc) FILTER (WHERE \(assignedSQL) AND \(visitedSQL)) AS visited
        FROM townships tw LEFT JOIN enterprises e ON e.township = tw.name
        GROUP BY tw.name, tw.code ORDER BY tw.code, tw.name
        """, [f, t]
      ).map {
        TownshipCoverageRow(
          township: try $0.decode("township"), enterprises: try $0.decode("enterprises"), assigned: try $0.decode("assigned"),
          visited: try $0.decode("visited"))
      }
      let assigned = try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM enterprises e WHERE \(assignedSQL)") ?? 0
      let visited = try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM enterprises e WHERE \(assignedSQL) AND \(visitedSQL)", [f, t]) ?? 0
      let yearStart = "\(String(format: "%04d", to.year))-01-01"
      let yearEnd = "\(String(format: "%04d", to.year))-12-31"
      let quiet = try sql.fetchAll(
        """
        SELECT \(EnterpriseRecord.columns) FROM enterprises e
        WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.uscc = e.uscc AND v.visited_on BETWEEN ? AND ?)
        ORDER BY e.township, e.uscc LIMIT ?
        """, [.text(yearStart), .text(yearEnd), limit.sqlValue]
      ).map(EnterpriseRecord.init(sqlRow:))
      return CoverageReport(
        from: from, to: to, assigned: assigned, visited: visited, liaisons: liaisons, townships: townships,
        notVisitedThisYear: try quiet.map { try Self.enterpriseView(sql, $0) })
    }
  }

  // MARK: Helpers

  static func enterpriseNotFound(_ uscc: String) -> DomainError {
    DomainError(kind: .notFound, code: "enterprise.not_found", arguments: [String(uscc.prefix(40))], field: "uscc")
  }

  static func requireTownship(_ db: Database, _ name: String) throws {
    try Self.requireTownship(SQLiteSQLConnection(db), name)
  }

  static func requireTownship(_ sql: any SQLConnection, _ name: String) throws {
    guard try sql.fetchOne(Bool.self, "SELECT EXISTS (SELECT 1 FROM townships WHERE name = ?)", [.text(name)]) ?? false else {
      throw DomainError(kind: .invalidArgument, code: "enterprise.unknown_township", arguments: [name], field: "township")
    }
  }

  static func insertLiaison(_ sql: any SQLConnection, uscc: String, _ liaison: LiaisonRef, now: Date) throws {
    _ = try sql.execute(
      "INSERT INTO enterprise_liaisons (uscc, organization, person, assigned_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [.text(uscc), .text(liaison.organization), .text(liaison.person), StoredDate(now).sqlValue])
  }

  static func liaisons(_ sql: any SQLConnection, uscc: String) throws -> [LiaisonRef] {
    try sql.fetchAll("SELECT organization, person FROM enterprise_liaisons WHERE uscc = ? ORDER BY organization, person", [.text(uscc)])
      .map { LiaisonRef(organization: try $0.decode("organization"), person: try $0.decode("person")) }
  }

  static func access(_ sql: any SQLConnection, uscc: String) throws -> (EnterpriseRecord, EnterpriseAccess) {
    guard let record = try EnterpriseRecord.byUSCC(sql, uscc) else { throw Self.enterpriseNotFound(uscc) }
    return (record, EnterpriseAccess(uscc: uscc, liaisons: try Self.liaisons(sql, uscc: uscc)))
  }

  /// The access facts of an enterprise, for authorizing reads.
  public func enterpriseAccess(uscc: String) async throws -> EnterpriseAccess? {
    try await self.read { sql in
      guard try sql.present("enterprises", "uscc", .text(uscc)) else { return nil }
      return EnterpriseAccess(uscc: uscc, liaisons: try Self.liaisons(sql, uscc: uscc))
    }
  }

  static func enterpriseView(_ sql: any SQLConnection, _ record: EnterpriseRecord) throws -> EnterpriseView {
    let last = try sql.fetchOne(String?.self, "SELECT MAX(visited_on) FROM visits WHERE uscc = ?", [.text(record.uscc)]) ?? nil
    return EnterpriseView(record: record, liaisons: try Self.liaisons(sql, uscc: record.uscc), lastVisitedOn: last)
  }
}

extension IndustrySection: SQLValueConvertible {}
extension EnterpriseScale: SQLValueConvertible {}

extension EnterpriseRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columns = Self.storedColumns.joined(separator: ", ")

  /// In the order of `storedValues`: the one list the INSERT and the UPDATE are made from.
  static let storedColumns = [
    "uscc", "name", "industry", "scale", "township", "contacts", "check_override_reason", "registered_at", "version", "updated_at",
  ]

  static let insertSQL =
    "INSERT INTO enterprises (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ")"

  static let updateSQL =
    "UPDATE enterprises SET \(Self.storedColumns.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")) WHERE uscc = ?"

  /// The values of `storedColumns` as GRDB's Codable insert stored them: the contacts as its
  /// JSON (sorted keys), the dates as its text.
  func storedValues() throws -> [SQLValue] {
    [
      .text(self.uscc), .text(self.name), self.industry.sqlValue, self.scale.sqlValue, .text(self.township),
      .text(String(decoding: try StoredJSON.encoder.encode(self.contacts), as: UTF8.self)), self.checkOverrideReason.sqlValue,
      StoredDate(self.registeredAt).sqlValue, self.version.sqlValue, StoredDate(self.updatedAt).sqlValue,
    ]
  }

  func insert(_ sql: any SQLConnection) throws {
    _ = try sql.execute(Self.insertSQL, try self.storedValues())
  }

  /// Rewrites every column but the key.
  func update(_ sql: any SQLConnection) throws {
    _ = try sql.execute(Self.updateSQL, Array(try self.storedValues().dropFirst()) + [.text(self.uscc)])
  }

  static func byUSCC(_ sql: any SQLConnection, _ uscc: String) throws -> EnterpriseRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM enterprises WHERE uscc = ?", [.text(uscc)]).map(EnterpriseRecord.init(sqlRow:))
  }

  init(sqlRow row: SQLRow) throws {
    self.init(
      uscc: try row.decode("uscc"), name: try row.decode("name"), industry: try row.decode("industry"), scale: try row.decode("scale"),
      township: try row.decode("township"),
      contacts: try StoredJSON.decoder.decode([ContactRecord].self, from: try row.decode(Data.self, "contacts")),
      checkOverrideReason: try row.decode("check_override_reason"), registeredAt: try row.decode(StoredDate.self, "registered_at").date,
      version: try row.decode("version"), updatedAt: try row.decode(StoredDate.self, "updated_at").date)
  }
}
