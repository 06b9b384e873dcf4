public import BanjieCore
import BanjieCrypto
public import Foundation

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

  /// The columns `ruleSet` reads.
  static let ruleSetColumns = "version, name, levels, created_at, created_by"

  static func ruleSet(_ sql: any SQLConnection, version: Int64?) throws -> AwardRuleSetView? {
    let row: SQLRow?
    if let version {
      row = try sql.fetchOne("SELECT \(Self.ruleSetColumns) FROM award_rule_sets WHERE version = ?", [.integer(version)])
    } else {
      row = try sql.fetchOne("SELECT \(Self.ruleSetColumns) FROM award_rule_sets ORDER BY version DESC LIMIT 1")
    }
    guard let row else { return nil }
    let levelsText = try row.decode(String.self, "levels")
    let levels = try JSONDecoder().decode([StarLevel].self, from: Data(levelsText.utf8))
    // Stored rule sets were checked when stored; decoding does not check again.
    let rules = try AwardRuleSet(version: row.decode("version"), name: row.decode("name"), levels: levels)
    return AwardRuleSetView(
      rules: rules, createdAt: try row.decode(StoredDate.self, "created_at").date, createdBy: try row.decode("created_by"))
  }

  /// The rule set of `version`, or the newest when nil.
  public func awardRules(version: Int64?) async throws -> AwardRuleSetView? {
    try await self.read { sql in try Self.ruleSet(sql, version: version) }
  }

  /// Stores `rules` (already checked) as the next version.
  public func setAwardRules(_ rules: AwardRuleSet, actor: Actor, now: Date, key: IdempotencyKey?) async throws -> AwardRuleSetView {
    try await self.mutate(idempotency: key, method: "SetAwardRules", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let version = (try sql.fetchOne(Int64.self, "SELECT MAX(version) FROM award_rule_sets") ?? 0) + 1
      var stored = rules
      stored.version = version
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let levels = String(decoding: try encoder.encode(stored.levels), as: UTF8.self)
      try sql.execute(
        "INSERT INTO award_rule_sets (version, name, levels, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
        [.integer(version), .text(stored.name), .text(levels), StoredDate(now).sqlValue, .text(actor.person)])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "award.rules_set", entity: "award_rule_set", entityID: String(version),
        detail: ["name": stored.name, "levels": levels])
      return AwardRuleSetView(rules: stored, createdAt: now, createdBy: actor.person)
    }
  }

  // MARK: Scores

  /// Scores of every window, staff member and department with work in `period`.
  static func awardScores(_ sql: any SQLConnection, period: AwardPeriod, clock: SLAClock, now: Date) throws -> [AwardScores] {
    let calendar = clock.calendar
    let midnight = try TimeOfDay(hour: 0)
    let start = calendar.date(period.from, at: midnight)
    let end = calendar.date(period.to.adding(days: 1), at: midnight)
    var departmentNames: [String: String] = [:]
    for row in try sql.fetchAll("SELECT code, name FROM departments") {
      departmentNames[try row.decode(String.self, "code")] = try row.decode(String.self, "name")
    }
    // A registered window is named as registered (docs/DOMAIN.md §18); others by their text.
    var windowNames: [String: String] = [:]
    for row in try sql.fetchAll("SELECT code, name FROM windows") {
      windowNames[try row.decode(String.self, "code")] = try row.decode(String.self, "name")
    }
    var units: [String: AwardScores] = [:]
    func bump(_ unit: AwardUnit, _ key: String, _ name: String, _ change: (inout AwardScores) -> Void) {
      let id = "\(unit.rawValue)|\(key)"
      var s = units[id] ?? AwardScores(unit: unit, key: key, name: name)
      change(&s)
      units[id] = s
    }
    // The staff member is the person who recorded the completion (the 'complete' event).
    let rows = try sql.fetchAll(
      """
      SELECT c.department_code, c.window, c.received_by, c.received_at, c.accepted_at, c.completed_at, c.due_at,
        (SELECT e.actor_person FROM case_events e WHERE e.case_id = c.id AND e.action = 'complete' ORDER BY e.seq DESC LIMIT 1) AS staff,
        g.level, g.excluded, r.completed_at AS rectified_at, r.due_at AS rectification_due
      FROM cases c
      LEFT JOIN ratings g ON g.case_id = c.id
      LEFT JOIN rectifications r ON r.case_id = c.id
      WHERE c.completed_at >= ? AND c.completed_at < ?
      """, [StoredDate(start).sqlValue, StoredDate(end).sqlValue])
    for row in rows {
      let department = try row.decode(String.self, "department_code")
      let window = try row.decode(String.self, "window")
      let staff = try row.decode(String?.self, "staff") ?? row.decode(String.self, "received_by")
      let completedAt = try row.decode(StoredDate.self, "completed_at").date
      let dueAt = try row.decode(StoredDate?.self, "due_at")?.date
      let acceptedAt = try (row.decode(StoredDate?.self, "accepted_at") ?? row.decode(StoredDate.self, "received_at")).date
      let level = try row.decode(Int?.self, "level")
      let excluded = try row.decode(Bool?.self, "excluded") ?? false
      let rectifiedAt = try row.decode(StoredDate?.self, "rectified_at")?.date
      let rectificationDue = try row.decode(StoredDate?.self, "rectification_due")?.date
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
      for row in try sql.fetchAll(
        """
        SELECT department_code, COUNT(*) AS n FROM demands
        WHERE due_at >= ? AND due_at < ? AND (answered_at IS NULL OR answered_at > due_at)
        GROUP BY department_code
        """, [StoredDate(start).sqlValue, StoredDate(demandEnd).sqlValue])
      {
        let department = try row.decode(String.self, "department_code")
        let n = try row.decode(Int.self, "n")
        bump(.department, department, departmentNames[department] ?? department) { $0.overdueDemands += n }
      }
    }
    return Array(units.values)
  }

  /// The stars of `period` under the current rule set, computed and not stored.
  public func previewAwards(period: AwardPeriod, clock: SLAClock, now: Date) async throws -> AwardSnapshot {
    try await self.read { sql in try Self.snapshot(sql, period: period, clock: clock, now: now) }
  }

  static func snapshot(_ sql: any SQLConnection, period: AwardPeriod, clock: SLAClock, now: Date) throws -> AwardSnapshot {
    guard let rules = try Self.ruleSet(sql, version: nil) else {
      throw DomainError.failedPrecondition("award.no_rules")
    }
    let scores = try Self.awardScores(sql, period: period, clock: clock, now: now)
    return AwardSnapshot(period: period, computedAt: AuditLog.timestamp(now), rules: rules.rules, scores: scores)
  }

  // MARK: Published awards

  /// Publishes `period`: computes, serializes canonically, hashes and stores the bytes.
  public func publishAwards(period: AwardPeriod, actor: Actor, clock: SLAClock, now: Date, key: IdempotencyKey?) async throws
    -> AwardRecordView
  {
    try await self.mutate(idempotency: key, method: "PublishAwards", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      if let live = try sql.fetchOne(Int64.self, "SELECT id FROM awards WHERE period = ? AND revoked_at IS NULL", [.text(period.text)]) {
        throw DomainError.failedPrecondition("award.already_published", arguments: [period.text, "\(live)"], field: "period")
      }
      let snapshot = try Self.snapshot(sql, period: period, clock: clock, now: now)
      let bytes = try snapshot.canonicalBytes()
      let digest = SHA256.hex(bytes)
      guard
        let id = try sql.fetchOne(
          Int64.self,
          """
          INSERT INTO awards (period, rule_set_version, digest, snapshot, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)
          RETURNING id
          """,
          [
            .text(period.text), .integer(snapshot.rules.version), .text(digest), bytes.sqlValue, StoredDate(now).sqlValue,
            .text(actor.person),
          ])
      else { throw SQLDecodingError(column: "id", type: Int64.self, problem: .null) }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "award.publish", entity: "award", entityID: String(id),
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
    try await self.mutate(idempotency: key, method: "RevokeAward", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      guard let award = try Self.awardRow(sql, id: id) else { throw Self.awardMissing(id) }
      guard award.revokedAt == nil else {
        throw DomainError.failedPrecondition("award.already_revoked", arguments: ["\(id)", award.revokeReason], field: "id")
      }
      try sql.execute(
        "UPDATE awards SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?",
        [StoredDate(now).sqlValue, .text(actor.person), .text(reason), .integer(id)])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "award.revoke", entity: "award", entityID: String(id),
        detail: ["period": award.period, "digest": award.digest, "reason": reason])
      guard let revoked = try Self.awardRow(sql, id: id) else { throw Self.awardMissing(id) }
      return revoked
    }
  }

  public func award(id: Int64) async throws -> AwardRecordView? {
    try await self.read { sql in try Self.awardRow(sql, id: id) }
  }

  /// Every published award, newest first.
  public func listAwards() async throws -> [AwardRecordView] {
    try await self.read { sql in try sql.fetchAll("SELECT \(Self.awardColumns) FROM awards ORDER BY id DESC").map(Self.awardView) }
  }

  /// The columns `awardView` reads.
  static let awardColumns =
    "id, period, rule_set_version, digest, snapshot, published_at, published_by, revoked_at, revoked_by, revoke_reason"

  static func awardRow(_ sql: any SQLConnection, id: Int64) throws -> AwardRecordView? {
    try sql.fetchOne("SELECT \(Self.awardColumns) FROM awards WHERE id = ?", [.integer(id)]).map(Self.awardView)
  }

  static func awardView(_ row: SQLRow) throws -> AwardRecordView {
    AwardRecordView(
      id: try row.decode("id"), period: try row.decode("period"), ruleSetVersion: try row.decode("rule_set_version"),
      digest: try row.decode("digest"), snapshot: try row.decode("snapshot"),
      publishedAt: try row.decode(StoredDate.self, "published_at").date, publishedBy: try row.decode("published_by"),
      revokedAt: try row.decode(StoredDate?.self, "revoked_at")?.date, revokedBy: try row.decode("revoked_by"),
      revokeReason: try row.decode("revoke_reason"))
  }

  static func awardMissing(_ id: Int64) -> DomainError {
    DomainError(kind: .notFound, code: "award.not_found", arguments: ["\(id)"], field: "id")
  }
}
