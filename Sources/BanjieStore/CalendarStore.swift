public import BanjieCore
import Foundation
import GRDB

/// What a calendar import did.
public struct CalendarImportResult: Sendable, Hashable {
  /// Open cases whose deadlines moved.
  public var recomputed: Int
  /// The plausibility problems that force overrode (docs/DOMAIN.md §4); empty when there were none.
  public var overridden: [DomainError]
}

extension BanjieStore {
  /// The shipped years with every imported year installed over them.
  public func loadCalendar(base: WorkingCalendar = .standard) async throws -> WorkingCalendar {
    try await self.read { sql in
      var calendar = base
      // The stored text's UTF-8 bytes, as SQLite's CAST(data AS BLOB) gave them; PostgreSQL's
      // text-to-bytea cast would read backslashes as escapes.
      for data in try sql.fetchAll(Data.self, "SELECT data FROM calendar_years ORDER BY year") {
        calendar.install(try CalendarYearData(json: data))
      }
      return calendar
    }
  }

  /// Stores a year's notice and recomputes the deadlines of open work under the new calendar.
  ///
  /// Data that fails the plausibility checks (`CalendarYearData.checkPlausible`, docs/DOMAIN.md §4)
  /// is refused with FAILED_PRECONDITION and nothing is written, unless `forceReason` is given
  /// (1–500 characters): then it is stored, and the audit row records that it was forced, the
  /// reason and what the checks found.
  ///
  /// One serial step of the writer: `clock` makes the new clock from the current one, the year is
  /// stored and open work recomputed in one transaction, and after its commit `install` puts the
  /// clock in force, all before the writer runs any other write. A sweep that reads the clock in
  /// its own write therefore sees either the old calendar and the old data or both new ones.
  public func importCalendarYear(
    _ data: CalendarYearData, forceReason: String? = nil, actor: Actor, now: Date,
    clock makeClock: @escaping @Sendable () throws -> SLAClock,
    install: @escaping @Sendable (SLAClock) -> Void
  ) async throws -> CalendarImportResult {
    let problems = data.implausibilities()
    if let forceReason {
      try FieldRules.text(forceReason, field: "reason", max: 500)
    } else {
      try data.checkPlausible()
    }
    var detail: [String: String] = [:]
    if let forceReason, !problems.isEmpty {
      detail = ["forced": "true", "reason": forceReason, "problems": problems.map(\.message).joined(separator: "; ")]
    }
    let forced = detail
    let (recomputed, _) = try await self.serialWrite(
      { sql -> (Int, SLAClock) in
        let clock = try makeClock()
        let recomputed = try Self.importCalendarYear(sql, data, actor: actor, clock: clock, now: now, detail: forced)
        // The other nodes on the same PostgreSQL database put the new calendar in force too.
        try Self.notify(sql, .clock)
        return (recomputed, clock)
      },
      afterCommit: { _, clock in install(clock) })
    return CalendarImportResult(recomputed: recomputed, overridden: problems)
  }

  private static func importCalendarYear(
    _ sql: any SQLConnection, _ data: CalendarYearData, actor: Actor, clock: SLAClock, now: Date, detail forced: [String: String]
  ) throws -> Int {
    try sql.execute(
      """
      INSERT INTO calendar_years (year, data, imported_at) VALUES (?, ?, ?)
      ON CONFLICT(year) DO UPDATE SET data = excluded.data, imported_at = excluded.imported_at
      """, [data.year.sqlValue, .text(String(decoding: data.jsonData(), as: UTF8.self)), StoredDate(now).sqlValue])
    var recomputed = 0
    for var record in try CaseRecord.open(sql) {
      let before = (record.dueAt, record.intakeDueAt, record.colourChangesAt)
      if record.state == .received {
        record.intakeDueAt = try clock.intakeDeadline(receivedAt: record.receivedAt)
      }
      try Self.refreshTiming(sql, &record, clock: clock, now: now)
      if before.0 != record.dueAt || before.1 != record.intakeDueAt {
        try record.updateTiming(sql)
        recomputed += 1
      } else if before.2 != record.colourChangesAt {
        try record.updateColourChange(sql)
      }
    }
    var detail = ["holidays": String(data.holidays.count), "workdays": String(data.makeUpWorkdays.count), "recomputed": String(recomputed)]
    detail.merge(forced) { $1 }
    try AuditLog.append(
      sql, at: now, actor: actor, action: "calendar.import", entity: "calendar_year", entityID: String(data.year), detail: detail)
    return recomputed
  }
}
