public import BanjieCore
public import Foundation
import GRDB

/// The county settings the office changes at run time (docs/DOMAIN.md §17), stored in `meta`:
/// the limits and the rating window in the rows the schema ships ('demands.limit_working_days',
/// 'ratings.window_days', 'rectifications.limit_working_days'), which the store reads whenever it
/// opens a demand, rates a case or opens a rectification; the yellow threshold and office hours in
/// 'sla.yellow_threshold' and 'sla.office_hours', which exist once the office has set them (until
/// then the configured threshold and the standard office day apply). Who changed a setting last,
/// and when, is kept beside it ('settings.<key>.updated_at' / '.updated_by').
public struct SettingsView: Sendable, Hashable, Codable {
  /// One setting's last change.
  public struct Change: Sendable, Hashable, Codable {
    public var at: Date
    public var by: String
  }

  public var settings: CountySettings
  /// By `CountySettings.Key.rawValue`; a setting never changed has no entry.
  public var changes: [String: Change]
}

extension BanjieStore {
  /// The settings in force: the stored values over `defaults`.
  public func settings(defaults: CountySettings) async throws -> SettingsView {
    try await self.read { sql in try Self.storedSettings(sql, defaults: defaults) }
  }

  /// Sets one setting: the value is checked first (INVALID_ARGUMENT naming the key, nothing
  /// written), then stored with its audit row (`settings.set`, from → to) in one transaction.
  ///
  /// A change of the yellow threshold or office hours is a new SLA clock, and is made like a
  /// calendar import (`importCalendarYear`): one serial step of the writer in which `clock` makes
  /// the new clock from the current one, the setting is stored and the open cases' stored timing
  /// recomputed with it in one transaction, and after the commit `install` puts the clock in force
  /// before the writer runs anything else. A replay of an idempotency key changes nothing.
  public func setSetting(
    _ key: CountySettings.Key, to text: String, defaults: CountySettings, actor: Actor, now: Date, idempotency: IdempotencyKey?,
    clock makeClock: @escaping @Sendable (CountySettings) throws -> SLAClock,
    install: @escaping @Sendable (SLAClock) -> Void
  ) async throws -> SettingsView {
    let value = try CountySettings.canonical(key, text)
    let (answer, _) = try await self.serialWrite(
      { sql -> (SettingsView, SLAClock?) in
        var newClock: SLAClock?
        let answer = try Self.idempotent(
          sql, key: idempotency, method: "SetSetting", encode: Self.encoded, decode: Self.decoded, now: now
        ) { sql throws -> SettingsView in
          let before = try Self.storedSettings(sql, defaults: defaults).settings
          var after = before
          try after.set(key, to: value)
          try after.checkConsistency(after: key)
          let old = before.text(of: key)
          try Self.putMeta(sql, key.metaKey, value)
          try Self.putMeta(sql, "settings.\(key.rawValue).updated_at", StoredDate(now))
          try Self.putMeta(sql, "settings.\(key.rawValue).updated_by", "\(actor.person) (\(actor.role.rawValue), \(actor.organization))")
          var detail = ["from": old, "to": value]
          if key.isClockSetting && old != value {
            let clock = try makeClock(after)
            detail["recomputed"] = String(try Self.recomputeOpenCases(sql, clock: clock, now: now))
            newClock = clock
            // The other nodes on the same PostgreSQL database put the new clock in force too.
            try Self.notify(sql, .clock)
          }
          try AuditLog.append(sql, at: now, actor: actor, action: "settings.set", entity: "setting", entityID: key.rawValue, detail: detail)
          return try Self.storedSettings(sql, defaults: defaults)
        }.value
        return (answer, newClock)
      },
      afterCommit: { _, clock in if let clock { install(clock) } })
    return answer
  }

  /// Brings the stored timing of open cases up to a new calendar rule (a release that changes how
  /// the calendar counts, such as statutory holidays for provisional years): once per rule, in
  /// one transaction, the intake deadlines, due times and colours of the open cases are
  /// recomputed under `clock`, as a calendar import does, and the rule is noted in `meta`
  /// ('calendar.rule'). With cases changed, an audit row `calendar.rule` says how many. Returns
  /// that number, or nil when the store already follows `rule`.
  public func adoptCalendarRule(_ rule: String, clock: SLAClock, now: Date) async throws -> Int? {
    try await self.mutate { sql in
      guard try sql.fetchOne(String.self, "SELECT value FROM meta WHERE key = 'calendar.rule'") != rule else { return nil }
      let recomputed = try Self.recomputeOpenCases(sql, clock: clock, now: now)
      try Self.putMeta(sql, "calendar.rule", rule)
      if recomputed > 0 {
        try AuditLog.append(
          sql, at: now, actor: .system, action: "calendar.rule", entity: "calendar", entityID: rule,
          detail: ["recomputed": String(recomputed)])
      }
      return recomputed
    }
  }

  static func storedSettings(_ sql: some SQLConnection, defaults: CountySettings) throws -> SettingsView {
    let select = "SELECT value FROM meta WHERE key = ?"
    var settings = defaults
    var changes: [String: SettingsView.Change] = [:]
    for key in CountySettings.Key.allCases {
      if let text = try sql.fetchOne(String.self, select, [.text(key.metaKey)]) {
        // A stored value that does not read (edited by hand) leaves the default in force.
        try? settings.set(key, to: text)
      }
      if let at = try sql.fetchOne(StoredDate.self, select, [.text("settings.\(key.rawValue).updated_at")]) {
        let by = try sql.fetchOne(String.self, select, [.text("settings.\(key.rawValue).updated_by")]) ?? ""
        changes[key.rawValue] = SettingsView.Change(at: at.date, by: by)
      }
    }
    return SettingsView(settings: settings, changes: changes)
  }

  /// Dates are stored as GRDB wrote them (`StoredDate`), so a row written before reads the same.
  private static func putMeta(_ sql: some SQLConnection, _ key: String, _ value: some SQLValueConvertible) throws {
    try sql.execute(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), value.sqlValue])
  }

  /// Recomputes what is stored of the timing of every open case under a new clock (new office
  /// hours or yellow threshold), as a calendar import does: the intake deadline of RECEIVED
  /// cases, the due time and colour of ACCEPTED and SUSPENDED ones. A running case whose colour
  /// the new clock changes keeps its stored colour with its next colour change set to `now`, so
  /// that the sweeper's quick pass (within a second) makes the change, audited and alerted like
  /// any other. Completed cases keep the figures fixed at completion. Returns how many cases'
  /// deadline or colour changed.
  static func recomputeOpenCases(_ sql: any SQLConnection, clock: SLAClock, now: Date) throws -> Int {
    var recomputed = 0
    for var record in try CaseRecord.open(sql) {
      let before = record
      if record.state == .received {
        record.intakeDueAt = try clock.intakeDeadline(receivedAt: record.receivedAt)
      }
      try Self.refreshTiming(sql, &record, clock: clock, now: now)
      let colourChanged = record.colour != before.colour
      if colourChanged && record.state == .accepted {
        record.colour = before.colour
        record.colourChangesAt = now
      }
      if record.dueAt != before.dueAt || record.intakeDueAt != before.intakeDueAt || colourChanged {
        recomputed += 1
      }
      if record != before { try record.updateTiming(sql) }
    }
    return recomputed
  }
}
