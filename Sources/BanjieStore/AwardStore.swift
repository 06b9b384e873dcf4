public import BanjieCore
import BanjieCrypto
public import Foundation
import GRDB

/// A stored rule set with who stored it.
public struct AwardRuleSetView: Sendable, Hashable, Codable {
  public var rules: AwardRuleSet
  public var createdAt: Date
  public var createdBy: String
}

/// A published award: the stored snapshot bytes exactly as hashed.
public struct AwardRecordView: Sendable, Hashable, Codable {
  public var id: Int64
  public var period: String
  public var ruleSetVersion: Int64
  public var digest: String
  public var snapshot: Data
  public var publishedAt: Date
  public var publishedBy: String
  public var revokedAt: Date?
  public var revokedBy: String
  public var revokeReason: String

  /// The snapshot's content; nil only if the stored bytes were damaged.
  public var decoded: AwardSnapshot? { try? JSONDecoder().decode(AwardSnapshot.self, from: self.snapshot) }
}

/// 星级服务: rule sets, scores computed from cases, ratings, rectifications and demands, and
/// immutable published snapshots. Each mutation one transaction with its audit row.
extension BanjieStore {
  // MARK: Rule sets

  static func ruleSet(_ db: Database, version: Int64?) throws -> AwardRuleSetView? {
    let row: Row?
    if let version {
      row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM award_rule_sets WHERE version = ?"), arguments: [version])
    } else {
      row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM award_rule_sets ORDER BY version DESC LIMIT 1"))
    }
    guard let row else { return nil }
    let levelsText: String = row["levels"]
    let levels = try JSONDecoder().decode([StarLevel].self, from: Data(levelsText.utf8))
    // Stored rule sets were checked when stored; decoding does not check again.
    let rules = try AwardRuleSet(version: row["version"], name: row["name"], levels: levels)
    return AwardRuleSetView(rules: rules, createdAt: row["created_at"], createdBy: row["created_by"])
  }

  /// The rule set of `version`, or the newest when nil.
  public func awardRules(version: Int64?) async throws -> AwardRuleSetView? {
    try await self.pool.read { try Self.ruleSet($0, version: version) }
  }

  /// Stores `rules` (already checked) as the next version.
  public func setAwardRules(_ rules: AwardRuleSet, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> AwardRuleSetView {
    try await self.write(idempotency: key, method: "SetAwardRules", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      let version = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(version) FROM award_rule_sets")) ?? 0) + 1
      var stored = rules
      stored.version = version
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let levels = String(decoding: try encoder.encode(stored.levels), as: UTF8.self)
      try db.cachedStatement(sql: "INSERT INTO award_rule_sets (version, name, levels, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
        .execute(arguments: [version, stored.name, levels, now, actor.person])
      try AuditLog.append(
        db, at: now, actor: actor, action: "award.rules_set", entity: "award_rule_set", entityID: String(version),
        detail: ["name": stored.name, "levels": levels])
      return AwardRuleSetView(rules: stored, createdAt: now, createdBy: actor.person)
    }
  }

  // MARK: Scores

  /// Scores of every window, staff member and department with work in `period`.
  static func awardScores(_ db: Database, period: AwardPeriod, clock: SLAClock, now: Date) throws -> [AwardScores] {
    let calendar = clock.calendar
    let midnight = try TimeOfDay(hour: 0)
    let start = calendar.date(period.from, at: midnight)
    let end = calendar.date(period.to.adding(days: 1), at: midnight)
    var departmentNames: [String: String] = [:]
    for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT code, name FROM departments")) {
      departmentNames[row["code"]] = row["name"]
    }
    // A registered window is named as registered (docs/DOMAIN.md §18); others by their text.
    var windowNames: [String: String] = [:]
    for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT code, name FROM windows")) { windowNames[row["code"]] = row["name"] }
    var units: [String: AwardScores] = [:]
    func bump(_ unit: AwardUnit, _ key: String, _ name: String, _ change: (inout AwardScores) -> Void) {
      let id = "\(unit.rawValue)|\(key)"
      var s = units[id] ?? AwardScores(unit: unit, key: key, name: name)
      change(&s)
      units[id] = s
    }
    // The staff member is the person who recorded the completion (the 'complete' event).
    let rows = try Row.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT c.department_code, c.window, c.received_by, c.received_at, c.accepted_at, c.completed_at, c.due_at,
            (SELECT e.actor_person FROM case_events e WHERE e.case_id = c.id AND e.action = 'complete' ORDER BY e.seq DESC LIMIT 1) AS staff,
            g.level, g.excluded, r.completed_at AS rectified_at, r.due_at AS rectification_due
          FROM cases c
          LEFT JOIN ratings g ON g.case_id = c.id
          LEFT JOIN rectifications r ON r.case_id = c.id
          WHERE c.completed_at >= ? AND c.completed_at < ?
          """), arguments: [start, end])
    for row in rows {
      let department: String = row["department_code"]
      let window: String = row["window"]
      let staff: String = row["staff"] ?? row["received_by"]
      let completedAt: Date = row["completed_at"]
      let dueAt: Date? = row["due_at"]
      let acceptedAt: Date = row["accepted_at"] ?? row["received_at"]
      let level: Int? = row["level"]
      let excluded: Bool = row["excluded"] ?? false
      let rectifiedAt: Date? = row["rectified_at"]
      let rectificationDue: Date? = row["rectification_due"]
      let change: (inout AwardScores) -> Void = { s in
        s.handled += 1
        if let dueAt, completedAt <= dueAt { s.onTime += 1 }
        if clock.isOneDayCompletion(acceptedAt: acceptedAt, completedAt: completedAt, dueAt: dueAt) { s.oneDay += 1 }
        if let level, !excluded {
          s.rated += 1
          if level >= 4 { s.good += 1 }
          if level <= 2 {
            s.bad += 1
            if let rectifiedAt, let rectificationDue, rectifiedAt <= rectificationDue { s.rectifiedOnTime += 1 }
          }
        }
      }
      bump(.window, window, windowNames[window] ?? window, change)
      bump(.staff, "\(department)/\(staff)", staff, change)
      bump(.department, department, departmentNames[department] ?? department, change)
    }
    // Demands due in the period (and already due) that the department did not answer in time.
    let demandEnd = min(end, now)
    if start < demandEnd {
      for row in try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT department_code, COUNT(*) AS n FROM demands
            WHERE due_at >= ? AND due_at < ? AND (answered_at IS NULL OR answered_at > due_at)
            GROUP BY department_code
            """), arguments: [start, demandEnd])
      {
        let department: String = row["department_code"]
        let n: Int = row["n"]
        bump(.department, department, departmentNames[department] ?? department) { $0.overdueDemands += n }
      }
    }
    return Array(units.values)
  }

  /// The stars of `period` under the current rule set, computed and not stored.
  public func previewAwards(period: AwardPeriod, clock: SLAClock, now: Date) async throws -> AwardSnapshot {
    try await self.pool.read { db in try Self.snapshot(db, period: period, clock: clock, now: now) }
  }

  static func snapshot(_ db: Database, period: AwardPeriod, clock: SLAClock, now: Date) throws -> AwardSnapshot {
    guard let rules = try Self.ruleSet(db, version: nil) else {
      throw DomainError.failedPrecondition("award.no_rules")
    }
    let scores = try Self.awardScores(db, period: period, clock: clock, now: now)
    return AwardSnapshot(period: period, computedAt: AuditLog.timestamp(now), rules: rules.rules, scores: scores)
  }

  // MARK: Published awards

  /// Publishes `period`: computes, serializes canonically, hashes and stores the bytes.
  public func publishAwards(period: AwardPeriod, actor: Actor, clock: SLAClock, now: Date, key: IdempotencyKey?) async throws
    -> AwardRecordView
  {
    try await self.write(idempotency: key, method: "PublishAwards", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      if let live = try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT id FROM awards WHERE period = ? AND revoked_at IS NULL"), arguments: [period.text])
      {
        throw DomainError.failedPrecondition("award.already_published", arguments: [period.text, "\(live)"], field: "period")
      }
      let snapshot = try Self.snapshot(db, period: period, clock: clock, now: now)
      let bytes = try snapshot.canonicalBytes()
      let digest = SHA256.hex(bytes)
      try db.cachedStatement(
        sql: """
          INSERT INTO awards (period, rule_set_version, digest, snapshot, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)
          """
      ).execute(arguments: [period.text, snapshot.rules.version, digest, bytes, now, actor.person])
      let id = db.lastInsertedRowID
      try AuditLog.append(
        db, at: now, actor: actor, action: "award.publish", entity: "award", entityID: String(id),
        detail: [
          "period": period.text, "digest": digest, "rule_set_version": String(snapshot.rules.version),
          "entries": String(snapshot.entries.count),
        ])
      return AwardRecordView(
        id: id, period: period.text, ruleSetVersion: snapshot.rules.version, digest: digest, snapshot: bytes,
        publishedAt: now, publishedBy: actor.person, revokedAt: nil, revokedBy: "", revokeReason: "")
    }
  }

  public func revokeAward(id: Int64, reason: String, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> AwardRecordView {
    try await self.write(idempotency: key, method: "RevokeAward", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      guard let award = try Self.awardRow(db, id: id) else { throw Self.awardMissing(id) }
      guard award.revokedAt == nil else {
        throw DomainError.failedPrecondition("award.already_revoked", arguments: ["\(id)", award.revokeReason], field: "id")
      }
      try db.cachedStatement(sql: "UPDATE awards SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?").execute(arguments: [
        now, actor.person, reason, id,
      ])
      try AuditLog.append(
        db, at: now, actor: actor, action: "award.revoke", entity: "award", entityID: String(id),
        detail: ["period": award.period, "digest": award.digest, "reason": reason])
      guard let revoked = try Self.awardRow(db, id: id) else { throw Self.awardMissing(id) }
      return revoked
    }
  }

  public func award(id: Int64) async throws -> AwardRecordView? {
    try await self.pool.read { try Self.awardRow($0, id: id) }
  }

  /// Every published award, newest first.
  public func listAwards() async throws -> [AwardRecordView] {
    try await self.pool.read { db in try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM awards ORDER BY id DESC")).map(Self.awardView)
    }
  }

  static func awardRow(_ db: Database, id: Int64) throws -> AwardRecordView? {
    try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM awards WHERE id = ?"), arguments: [id]).map(Self.awardView)
  }

  static func awardView(_ row: Row) -> AwardRecordView {
    AwardRecordView(
      id: row["id"], period: row["period"], ruleSetVersion: row["rule_set_version"], digest: row["digest"], snapshot: row["snapshot"],
      publishedAt: row["published_at"], publishedBy: row["published_by"], revokedAt: row["revoked_at"], revokedBy: row["revoked_by"],
      revokeReason: row["revoke_reason"])
  }

  static func awardMissing(_ id: Int64) -> DomainError {
    DomainError(kind: .notFound, code: "award.not_found", arguments: ["\(id)"], field: "id")
  }
}
