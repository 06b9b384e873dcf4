import Foundation
import GRDB

extension BanjieStore {
  /// Every stored alert with an id above `afterID` (oldest first, at most `limit`): what a watcher
  /// that lost its connection missed. Alerts are never deleted, so nothing raised while it was
  /// away is skipped.
  public func alerts(afterID: Int64, department: String?, limit: Int = 10_000) async throws -> [AlertRecord] {
    try await self.read { sql in
      let rows: [SQLRow]
      if let department, !department.isEmpty {
        rows = try sql.fetchAll(
          "SELECT \(AlertRecord.columns) FROM alerts WHERE id > ? AND department_code = ? ORDER BY id LIMIT ?",
          [afterID.sqlValue, department.sqlValue, limit.sqlValue])
      } else {
        rows = try sql.fetchAll(
          "SELECT \(AlertRecord.columns) FROM alerts WHERE id > ? ORDER BY id LIMIT ?", [afterID.sqlValue, limit.sqlValue])
      }
      return try rows.map(AlertRecord.init(sqlRow:))
    }
  }

  /// The id of the newest stored alert (0 when there is none): where a new watcher's live part
  /// starts.
  public func lastAlertID() async throws -> Int64 {
    try await self.read { sql in try sql.fetchOne(Int64.self, "SELECT MAX(id) FROM alerts") ?? 0 }
  }
}

extension AlertRecord {
  /// Stores a new alert, tells the other nodes (StoreChange.alert) and answers the id the
  /// database gave it.
  static func insert(_ sql: any SQLConnection, _ alert: AlertRecord) throws -> Int64? {
    let id = try sql.fetchOne(
      Int64.self, "INSERT INTO alerts (at, kind, subject, department_code, colour, message) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      [
        StoredDate(alert.at).sqlValue, .text(alert.kind), .text(alert.subject), .text(alert.departmentCode), alert.colour.sqlValue,
        .text(alert.message),
      ])
    if let id { try BanjieStore.notify(sql, .alert(id: id)) }
    return id
  }

  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columns = "id, at, kind, subject, department_code, colour, message"

  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(Int64?.self, "id"), at: try row.decode(StoredDate.self, "at").date, kind: try row.decode("kind"),
      subject: try row.decode("subject"), departmentCode: try row.decode("department_code"), colour: try row.decode("colour"),
      message: try row.decode("message"))
  }
}
