/// A lease that at most one node holds at a time (issue 17: the SLA sweeper runs on one node),
/// taken as a session-level advisory lock on a connection of its own. PostgreSQL releases the
/// lock when that connection ends, so a node that dies (kill -9 closes its sockets at once)
/// frees the lease, and another node's next attempt takes it.
///
/// Whether this node holds the lease is asked of PostgreSQL each time (pg_locks, for this
/// connection's backend): a connection that was lost and opened again holds nothing, whatever it
/// held before, and then tries again like any other node.
final class PostgresLease: Sendable {
  let key: Int64
  let worker: PostgresWorker

  init(key: Int64, location: PostgresLocation, name: String) {
    self.key = key
    self.worker = PostgresWorker(name: name, location: location, logger: .init(label: "banjie.postgres.lease"))
  }

  /// True when this node holds the lease, taking it when it is free.
  func acquire() async throws -> Bool {
    let key = self.key
    return try await self.worker.run { sql in
      // An advisory lock on a bigint key appears in pg_locks as classid (high half), objid (low
      // half) and objsubid 1.
      let held =
        try sql.fetchOne(
          Bool.self,
          """
          SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
            AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = ?)
          """, [.integer(key)]) ?? false
      if held { return true }
      return try sql.fetchOne(Bool.self, "SELECT pg_try_advisory_lock(?)", [.integer(key)]) ?? false
    }
  }

  /// Gives the lease up (the connection stays open for the next attempt).
  func release() async throws {
    let key = self.key
    _ = try await self.worker.run { sql in try sql.fetchOne(Bool.self, "SELECT pg_advisory_unlock(?)", [.integer(key)]) }
  }

  func close() { self.worker.close() }
}

extension PostgresDatabase {
  /// The SLA sweeper's lease key ("banjie" in ASCII, then 3).
  static let sweeperLeaseKey: Int64 = 0x62_616e_6a69_6503
}
