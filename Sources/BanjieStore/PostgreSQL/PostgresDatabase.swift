import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A PostgreSQL store's connections (issue 17; docs/ARCHITECTURE.md, "The SQL layer"): one
/// writer and a few readers, each a `PostgresWorker` with its own thread, so that the store's
/// synchronous bodies run as they do on SQLite's writer and reader queues.
///
/// Every write transaction takes one transaction-scoped advisory lock first
/// (`PostgresDatabase.writeLockKey`): with it, the writers of every banjied node on one database
/// take turns as SQLite's single writer does, so that each sees every earlier commit and the
/// store's check-then-write rules (versions, idempotency keys, daily numbers, the audit chain's
/// head) hold across nodes without SERIALIZABLE retries. Reads run in a REPEATABLE READ READ ONLY
/// transaction: one snapshot, as a WAL read transaction is.
final class PostgresDatabase: Sendable {
  /// `pg_advisory_xact_lock` key every write transaction takes ("banjie" in ASCII, then 1).
  static let writeLockKey: Int64 = 0x62_616e_6a69_6501
  /// The key the migrator takes, so that two nodes starting at once migrate one after the other.
  static let migrationLockKey: Int64 = 0x62_616e_6a69_6502

  let location: PostgresLocation
  let writer: PostgresWorker
  let readers: [PostgresWorker]
  /// The SLA sweeper's lease: held by one node of the database at a time.
  let sweeperLease: PostgresLease
  private let nextReader = Atomic<Int>(0)

  init(location: PostgresLocation, readers: Int = 2, logger: Logger = Logger(label: "banjie.postgres")) {
    self.location = location
    self.writer = PostgresWorker(name: "writer", location: location, logger: logger)
    self.readers = (0..<max(1, readers)).map { PostgresWorker(name: "reader-\($0)", location: location, logger: logger) }
    self.sweeperLease = PostgresLease(key: Self.sweeperLeaseKey, location: location, name: "sweeper-lease")
  }

  /// Runs `body` in a read-only snapshot on one of the readers.
  func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    let turn = self.nextReader.wrappingAdd(1, ordering: .relaxed).newValue & Int.max
    let reader = self.readers[turn % self.readers.count]
    return try await reader.run { sql in
      try sql.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { try body(sql) }
    }
  }

  /// Runs `body` on a reader in a transaction that is rolled back: for work that needs scratch
  /// tables (the dashboard self-check) and writes nothing that lasts.
  func scratch<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    try await self.readers[0].run { sql in
      try sql.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
      defer { _ = try? sql.execute("ROLLBACK") }
      return try body(sql)
    }
  }

  /// Runs `body` in a write transaction on the writer, after every other node's writer; then,
  /// after the commit and before this node's writer runs anything else, `afterCommit` with the
  /// answer.
  func write<T: Sendable>(
    _ body: @escaping @Sendable (any SQLConnection) throws -> T, afterCommit: (@Sendable (T) -> Void)? = nil
  ) async throws -> T {
    try await self.writer.run { sql in
      let answer = try sql.transaction("BEGIN") {
        try sql.execute("SELECT pg_advisory_xact_lock(?)", [.integer(Self.writeLockKey)])
        return try body(sql)
      }
      afterCommit?(answer)
      return answer
    }
  }

  /// Closes every connection (waiting for the work already queued on each).
  func close() {
    self.writer.close()
    for reader in self.readers { reader.close() }
    self.sweeperLease.close()
  }
}

/// One PostgreSQL connection and the serial queue every use of it runs on.
///
/// `@unchecked Sendable`: `sql` is read and written only on `queue` (every entry point hops onto
/// it first), which is the whole of its synchronisation. The connection is opened on first use
/// and opened again after it was lost, so a database that went away and came back is used again
/// by the next call; the call that found it gone fails with the connection error.
final class PostgresWorker: @unchecked Sendable {
  let name: String
  let location: PostgresLocation
  let logger: Logger
  private let queue: DispatchQueue
  private var sql: PostgresSQLConnection?

  init(name: String, location: PostgresLocation, logger: Logger) {
    self.name = name
    self.location = location
    self.logger = logger
    self.queue = DispatchQueue(label: "banjie.postgres.\(name)")
  }

  /// Runs `body` on this worker's thread with its connection.
  func run<T: Sendable>(_ body: @escaping @Sendable (PostgresSQLConnection) throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      self.queue.async { continuation.resume(with: Result { try body(self.connected()) }) }
    }
  }

  /// As `run`, blocking the calling thread: for start-up and local tools, never the cooperative
  /// pool or an event loop.
  func runBlocking<T>(_ body: (PostgresSQLConnection) throws -> T) throws -> T {
    try self.queue.sync { try body(self.connected()) }
  }

  func close() {
    self.queue.sync {
      if let sql = self.sql { try? sql.connection.close().wait() }
      self.sql = nil
    }
  }

  /// A worker released without `close()` (a store dropped on an error path) still ends its
  /// connection, without waiting: the server sees the session end and frees what it held.
  deinit {
    guard let connection = self.sql?.connection, !connection.isClosed else { return }
    // The callback holds the connection until it is closed (postgres-nio insists on that).
    connection.close().whenComplete { _ in _ = connection }
  }

  private func connected() throws -> PostgresSQLConnection {
    dispatchPrecondition(condition: .onQueue(self.queue))
    if let sql = self.sql, !sql.connection.isClosed { return sql }
    self.sql = nil
    let connection: PostgresConnection
    do {
      connection = try self.location.connect(name: self.name, id: 1, logger: self.logger, on: MultiThreadedEventLoopGroup.singleton.next())
        .wait()
    } catch {
      throw StoreUnavailable(reason: "cannot connect to \(self.location): \(Self.summary(error))")
    }
    let sql = PostgresSQLConnection(connection, logger: self.logger)
    self.sql = sql
    return sql
  }
}

extension PostgresWorker {
  /// A connection error in one line: the server's message, or the error's own description.
  static func summary(_ error: any Error) -> String {
    if let error = error as? PSQLError {
      if let message = error.serverInfo?[.message] { return message }
      if let underlying = error.underlying { return "\(error.code): \(underlying)" }
      return "\(error.code)"
    }
    return "\(error)"
  }
}

extension PostgresSQLConnection {
  /// `begin`, then `body`, then COMMIT; ROLLBACK when `body` throws. A connection lost during
  /// the COMMIT leaves the outcome unknown (StoreUnavailable.outcomeUnknown).
  func transaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
    try self.execute(begin)
    let value: T
    do {
      value = try body()
    } catch {
      if !self.connection.isClosed { _ = try? self.execute("ROLLBACK") }
      throw error
    }
    do {
      try self.execute("COMMIT")
    } catch var unavailable as StoreUnavailable {
      unavailable.outcomeUnknown = true
      throw unavailable
    }
    return value
  }
}
