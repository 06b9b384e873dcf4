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
    try await self.pool.read { db in
      try Row.fetchAll(db.cachedStatement(sql: "SELECT name, code FROM townships ORDER BY code, name")).map {
        Township(name: $0["name"], code: $0["code"])
      }
    }
  }

  public func addTownship(_ township: Township, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> Township {
    try FieldRules.text(township.name, field: "name", max: 50)
    try FieldRules.code(township.code, field: "code")
    return try await self.write(idempotency: key, method: "AddTownship", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      if let code = try String.fetchOne(db.cachedStatement(sql: "SELECT code FROM townships WHERE name = ?"), arguments: [township.name]) {
        // A township listed by name only (migration v12) takes the code the office has verified.
        guard code.isEmpty else {
          throw DomainError(kind: .alreadyExists, code: "township.exists", arguments: [township.name], field: "name")
        }
        try db.cachedStatement(sql: "UPDATE townships SET code = ? WHERE name = ?").execute(arguments: [township.code, township.name])
        try AuditLog.append(
          db, at: now, actor: actor, action: "township.code", entity: "township", entityID: township.name,
          detail: ["code": township.code])
        return township
      }
      try db.cachedStatement(sql: "INSERT INTO townships (name, code) VALUES (?, ?)").execute(arguments: [township.name, township.code])
      try AuditLog.append(
        db, at: now, actor: actor, action: "township.add", entity: "township", entityID: township.name, detail: ["code": township.code])
      return township
    }
  }

  // MARK: Registry

  public func registerEnterprise(_ new: NewEnterprise, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> EnterpriseView {
    try await self.write(idempotency: key, method: "RegisterEnterprise", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      if try EnterpriseRecord.present(db, "uscc", new.uscc) {
        throw DomainError(kind: .alreadyExists, code: "enterprise.exists", arguments: [new.uscc], field: "uscc")
      }
      try Self.requireTownship(db, new.township)
      let record = EnterpriseRecord(
        uscc: new.uscc, name: new.name, industry: new.industry, scale: new.scale, township: new.township,
        contacts: new.contacts, checkOverrideReason: new.checkOverrideReason, registeredAt: now, version: 1, updatedAt: now)
      try record.insert(db)
      for liaison in new.liaisons { try Self.insertLiaison(db, uscc: new.uscc, liaison, now: now) }
      var detail = ["name": new.name, "industry": new.industry.rawValue, "scale": new.scale.rawValue, "township": new.township]
      if let reason = new.checkOverrideReason { detail["check_override_reason"] = reason }
      try AuditLog.append(
        db, at: now, actor: actor, action: new.checkOverrideReason == nil ? "enterprise.register" : "enterprise.register_check_override",
        entity: "enterprise", entityID: new.uscc, detail: detail)
      return try Self.enterpriseView(db, record)
    }
  }

  public func assignLiaison(uscc: String, liaison: LiaisonRef, remove: Bool, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> EnterpriseView
  {
    try await self.write(
      idempotency: key, method: remove ? "UnassignLiaison" : "AssignLiaison", encode: Self.encoded, decode: Self.decoded, now: now
    ) { db in
      guard var record = try EnterpriseRecord.one(db, "uscc", uscc) else { throw Self.enterpriseNotFound(uscc) }
      let assigned = try Self.liaisons(db, uscc: uscc).contains(liaison)
      if remove {
        guard assigned else {
          throw DomainError(
            kind: .failedPrecondition, code: "enterprise.not_assigned", messageKey: "enterprise.not_assigned#remove",
            arguments: [liaison.person, liaison.organization, uscc], field: "liaison")
        }
        try db.cachedStatement(sql: "DELETE FROM enterprise_liaisons WHERE uscc = ? AND organization = ? AND person = ?").execute(
          arguments: [uscc, liaison.organization, liaison.person])
      } else {
        guard !assigned else {
          throw DomainError(
            kind: .alreadyExists, code: "enterprise.already_assigned", arguments: [liaison.person, liaison.organization, uscc],
            field: "liaison")
        }
        try Self.insertLiaison(db, uscc: uscc, liaison, now: now)
      }
      record.version += 1
      record.updatedAt = now
      try record.update(db, columns: ["version", "updated_at"])
      try AuditLog.append(
        db, at: now, actor: actor, action: remove ? "enterprise.unassign" : "enterprise.assign", entity: "enterprise", entityID: uscc,
        detail: ["organization": liaison.organization, "person": liaison.person])
      return try Self.enterpriseView(db, record)
    }
  }

  /// Writes one batch of import rows in one transaction; rows identical to what is stored
  /// write nothing. Liaisons in a row are added to those already assigned.
  public func importEnterprises(_ rows: [NewEnterprise], actor: Actor, now: Date) async throws -> [ImportOutcome] {
    try await self.commits.write { db in
      var outcomes: [ImportOutcome] = []
      outcomes.reserveCapacity(rows.count)
      for new in rows {
        guard var record = try EnterpriseRecord.one(db, "uscc", new.uscc) else {
          let record = EnterpriseRecord(
            uscc: new.uscc, name: new.name, industry: new.industry, scale: new.scale, township: new.township,
            contacts: new.contacts, checkOverrideReason: nil, registeredAt: now, version: 1, updatedAt: now)
          try record.insert(db)
          for liaison in new.liaisons { try Self.insertLiaison(db, uscc: new.uscc, liaison, now: now) }
          try AuditLog.append(
            db, at: now, actor: actor, action: "enterprise.import", entity: "enterprise", entityID: new.uscc,
            detail: ["outcome": "created", "name": new.name, "township": new.township])
          outcomes.append(.created)
          continue
        }
        let existing = Set(try Self.liaisons(db, uscc: new.uscc))
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
        try record.update(db)
        for liaison in missing { try Self.insertLiaison(db, uscc: new.uscc, liaison, now: now) }
        try AuditLog.append(
          db, at: now, actor: actor, action: "enterprise.import", entity: "enterprise", entityID: new.uscc,
          detail: ["outcome": "updated", "name": new.name, "township": new.township])
        outcomes.append(.updated)
      }
      return outcomes
    }
  }

  public func enterprise(uscc: String) async throws -> EnterpriseView? {
    try await self.pool.read { db in
      guard let record = try EnterpriseRecord.one(db, "uscc", uscc) else { return nil }
      return try Self.enterpriseView(db, record)
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
    try await self.pool.read { db in
      var conditions: [String] = []
      var arguments: StatementArguments = []
      if let t = filter.township {
        conditions.append("township = ?")
        arguments += [t]
      }
      if let i = filter.industry {
        conditions.append("industry = ?")
        arguments += [i.rawValue]
      }
      if let s = filter.scale {
        conditions.append("scale = ?")
        arguments += [s.rawValue]
      }
      if let u = filter.uscc {
        conditions.append("uscc = ?")
        arguments += [u]
      }
      if let l = filter.liaison {
        conditions.append(
          "EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = enterprises.uscc AND el.organization = ? AND el.person = ?)")
        arguments += [l.organization, l.person]
      }
      let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
      let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM enterprises" + whereClause, arguments: arguments) ?? 0
      var pageConditions = conditions
      var pageArguments = arguments
      if let after = filter.after {
        pageConditions.append("uscc > ?")
        pageArguments += [after]
      }
      let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
      let records = try EnterpriseRecord.fetchAll(
        db, sql: "SELECT * FROM enterprises\(pageWhere) ORDER BY uscc LIMIT ?",
        arguments: pageArguments + [filter.pageSize])
      let views = try records.map { try Self.enterpriseView(db, $0) }
      return (views, total, records.count == filter.pageSize ? records.last?.uscc : nil)
    }
  }

  // MARK: Coverage

  /// Visited out of assigned, per liaison official and per township, for `from...to`; and the
  /// enterprises with no visit in the year of `to` (at most `limit` of them).
  public func coverage(from: LocalDate, to: LocalDate, limit: Int = 1000) async throws -> CoverageReport {
    try await self.pool.read { db in
      let f = from.description
      let t = to.description
      let liaisons = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT el.organization, el.person, COUNT(*) AS assigned,
              SUM(EXISTS (SELECT 1 FROM visits v WHERE v.uscc = el.uscc AND v.liaison_organization = el.organization
                AND v.liaison_person = el.person AND v.visited_on BETWEEN ? AND ?)) AS visited
            FROM enterprise_liaisons el GROUP BY el.organization, el.person ORDER BY el.organization, el.person
            """), arguments: [f, t]
      ).map {
        LiaisonCoverageRow(
          liaison: LiaisonRef(organization: $0["organization"], person: $0["person"]), assigned: $0["assigned"], visited: $0["visited"])
      }
      let assignedSQL = "EXISTS (SELECT 1 FROM enterprise_liaisons el WHERE el.uscc = e.uscc)"
      let visitedSQL = "EXISTS (SELECT 1 FROM visits v WHERE v.uscc = e.uscc AND v.visited_on BETWEEN ? AND ?)"
      let townships = try Row.fetchAll(
        db,
        sql: """
          SELECT tw.name AS township, COUNT(e.uscc) AS enterprises,
            COALESCE(SUM(\(assignedSQL)), 0) AS assigned,
            COALESCE(SUM(\(assignedSQL) AND \(visitedSQL)), 0) AS visited
          FROM townships tw LEFT JOIN enterprises e ON e.township = tw.name
          GROUP BY tw.name ORDER BY tw.code, tw.name
          """, arguments: [f, t]
      ).map {
        TownshipCoverageRow(township: $0["township"], enterprises: $0["enterprises"], assigned: $0["assigned"], visited: $0["visited"])
      }
      let assigned = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM enterprises e WHERE \(assignedSQL)") ?? 0
      let visited =
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM enterprises e WHERE \(assignedSQL) AND \(visitedSQL)", arguments: [f, t]) ?? 0
      let yearStart = "\(String(format: "%04d", to.year))-01-01"
      let yearEnd = "\(String(format: "%04d", to.year))-12-31"
      let quiet = try EnterpriseRecord.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT * FROM enterprises e WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.uscc = e.uscc AND v.visited_on BETWEEN ? AND ?)
            ORDER BY e.township, e.uscc LIMIT ?
            """), arguments: [yearStart, yearEnd, limit])
      return CoverageReport(
        from: from, to: to, assigned: assigned, visited: visited, liaisons: liaisons, townships: townships,
        notVisitedThisYear: try quiet.map { try Self.enterpriseView(db, $0) })
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

  static func insertLiaison(_ db: Database, uscc: String, _ liaison: LiaisonRef, now: Date) throws {
    try db.cachedStatement(sql: "INSERT OR IGNORE INTO enterprise_liaisons (uscc, organization, person, assigned_at) VALUES (?, ?, ?, ?)")
      .execute(arguments: [uscc, liaison.organization, liaison.person, StoredDate(now)])
  }

  static func liaisons(_ db: Database, uscc: String) throws -> [LiaisonRef] {
    try Row.fetchAll(
      db.cachedStatement(sql: "SELECT organization, person FROM enterprise_liaisons WHERE uscc = ? ORDER BY organization, person"),
      arguments: [uscc]
    )
    .map { LiaisonRef(organization: $0["organization"], person: $0["person"]) }
  }

  static func access(_ db: Database, uscc: String) throws -> (EnterpriseRecord, EnterpriseAccess) {
    guard let record = try EnterpriseRecord.one(db, "uscc", uscc) else { throw Self.enterpriseNotFound(uscc) }
    return (record, EnterpriseAccess(uscc: uscc, liaisons: try Self.liaisons(db, uscc: uscc)))
  }

  /// The access facts of an enterprise, for authorizing reads.
  public func enterpriseAccess(uscc: String) async throws -> EnterpriseAccess? {
    try await self.pool.read { db in
      guard try EnterpriseRecord.present(db, "uscc", uscc) else { return nil }
      return EnterpriseAccess(uscc: uscc, liaisons: try Self.liaisons(db, uscc: uscc))
    }
  }

  static func enterpriseView(_ db: Database, _ record: EnterpriseRecord) throws -> EnterpriseView {
    let last = try String.fetchOne(db.cachedStatement(sql: "SELECT MAX(visited_on) FROM visits WHERE uscc = ?"), arguments: [record.uscc])
    return EnterpriseView(record: record, liaisons: try Self.liaisons(db, uscc: record.uscc), lastVisitedOn: last)
  }
}
