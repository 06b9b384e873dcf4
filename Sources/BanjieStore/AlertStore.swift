import Foundation
import GRDB

extension BanjieStore {
  /// Every stored alert with an id above `afterID` (oldest first, at most `limit`): what a watcher
  /// that lost its connection missed. Alerts are never deleted, so nothing raised while it was
  /// away is skipped.
  public func alerts(afterID: Int64, department: String?, limit: Int = 10_000) async throws -> [AlertRecord] {
    try await self.pool.read { db in
      var request = AlertRecord.filter(Column("id") > afterID)
      if let department, !department.isEmpty { request = request.filter(Column("department_code") == department) }
      return try request.order(Column("id")).limit(limit).fetchAll(db)
    }
  }

  /// The id of the newest stored alert (0 when there is none): where a new watcher's live part
  /// starts.
  public func lastAlertID() async throws -> Int64 {
    try await self.pool.read { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM alerts")) ?? 0 }
  }
}
