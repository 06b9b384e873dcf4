import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// What one banjied node tells the others on the same PostgreSQL database (issue 17): sent with
/// `pg_notify` inside the writing transaction, so that it is delivered when that transaction
/// commits (never for one rolled back), in commit order.
public enum StoreChange: Sendable, Hashable {
  /// A certificate was revoked: refuse it from now on.
  case revocation(serial: String)
  /// An alert was stored: watchers show it.
  case alert(id: Int64)
  /// The SLA clock changed (a calendar year imported, the yellow threshold or office hours set):
  /// read the calendar and the settings again and put the new clock in force.
  case clock
  /// The listening connection was opened (again): what was committed while it was away was not
  /// heard, so read again what matters (alerts after the last id shown, the revocation list, the
  /// SLA clock).
  case resynchronize

  var payload: String {
    switch self {
    case .revocation(let serial): return "revocation:\(serial)"
    case .alert(let id): return "alert:\(id)"
    case .clock: return "clock"
    case .resynchronize: return "resynchronize"
    }
  }

  init?(payload: String) {
    if payload.hasPrefix("revocation:") {
      self = .revocation(serial: String(payload.dropFirst("revocation:".count)))
    } else if payload.hasPrefix("alert:"), let id = Int64(payload.dropFirst("alert:".count)) {
      self = .alert(id: id)
    } else if payload == "clock" {
      self = .clock
    } else {
      return nil
    }
  }
}

extension PostgresDatabase {
  /// The channel every node listens on.
  static let changesChannel = "banjie_changes"

  /// Every change the nodes commit, heard on a connection of its own that is opened again (with
  /// a growing pause, at most 5 s) whenever it is lost; each opening is announced with
  /// `.resynchronize`. Ends when the consumer stops iterating.
  func changes() -> AsyncStream<StoreChange> {
    let location = self.location
    let logger = self.writer.logger
    let open = OpenConnection()
    return AsyncStream { continuation in
      let task = Task {
        var pause = Duration.milliseconds(100)
        while !Task.isCancelled {
          do {
            let connection = try await location.connect(
              name: "listener", id: 2, logger: logger, on: MultiThreadedEventLoopGroup.singleton.next()
            ).get()
            open.connection.withLock { $0 = connection }
            pause = .milliseconds(100)
            try await connection.listen(on: Self.changesChannel) { notifications in
              continuation.yield(.resynchronize)
              for try await notification in notifications {
                if let change = StoreChange(payload: notification.payload) { continuation.yield(change) }
              }
            }
          } catch {
            logger.warning("listening for other nodes' changes failed; trying again", metadata: ["error": "\(error)"])
          }
          if let connection = open.connection.withLock({ value -> PostgresConnection? in
            defer { value = nil }
            return value
          }) {
            try? await connection.close()
          }
          try? await Task.sleep(for: pause)
          pause = min(pause * 2, .seconds(5))
        }
        continuation.finish()
      }
      continuation.onTermination = { _ in
        task.cancel()
        // A listen that waits for the next notification ends when its connection closes.
        if let connection = open.connection.withLock({ $0 }) {
          let closing: EventLoopFuture<Void> = connection.close()
          _ = closing
        }
      }
    }
  }
}

/// The listener's current connection, shared by its task and its termination handler.
final class OpenConnection: Sendable {
  let connection = Mutex<PostgresConnection?>(nil)
}

extension PostgresLocation {
  /// postgres-nio's configuration for a connection of this store named `name` (in
  /// pg_stat_activity's application_name), with the timeouts every connection starts with.
  func configuration(name: String) -> PostgresConnection.Configuration {
    var configuration = PostgresConnection.Configuration(
      host: self.host, port: self.port, username: self.username, password: self.password, database: self.database, tls: .disable)
    configuration.options.connectTimeout = .seconds(10)
    // A stalled database must not hold a caller forever: a statement, a lock wait and an idle
    // transaction each have a bound (docs/OPERATIONS.md).
    configuration.options.additionalStartupParameters = [
      ("application_name", "\(self.applicationName) \(name)"),
      ("statement_timeout", "60s"),
      ("lock_timeout", "30s"),
      ("idle_in_transaction_session_timeout", "60s"),
      ("TimeZone", "UTC"),
    ]
    return configuration
  }
}

extension BanjieStore {
  /// What other nodes on the same PostgreSQL database committed (revocations, alerts), for the
  /// server to apply and pass on. On SQLite there are no other nodes: the stream ends at once.
  public func otherNodesChanges() -> AsyncStream<StoreChange> {
    guard case .postgres(let database) = self.engine else { return AsyncStream { $0.finish() } }
    return database.changes()
  }

  /// Tells the other nodes about `change` when the caller's transaction commits (PostgreSQL);
  /// nothing on SQLite.
  static func notify(_ sql: any SQLConnection, _ change: StoreChange) throws {
    guard sql.dialect.isPostgres else { return }
    _ = try sql.fetchAll("SELECT pg_notify(?, ?)", [.text(PostgresDatabase.changesChannel), .text(change.payload)])
  }
}
