import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `SQLConnection` over one PostgreSQL connection (postgres-nio), for the second storage engine
/// (issue 17; docs/ARCHITECTURE.md, "The SQL layer").
///
/// The store's bodies are synchronous and run on the engine's own thread, never on an event loop
/// or the cooperative pool (see `SQLConnection`): each call here sends one statement and waits for
/// its whole result on that thread. `EventLoopFuture.wait()` refuses to run on an event loop, so a
/// mistake there traps at once instead of deadlocking.
///
/// The SQL is the store's own, written with `?` (and `?NNN`) placeholders as SQLite takes them;
/// it is rewritten once per text into PostgreSQL's `$n` and the rewrite is cached per connection.
/// Values are bound in binary with the types SQLite's storage classes name (int8, float8, text,
/// bytea; NULL untyped), and read back into the same five kinds: int2/int4/int8 and booleans as
/// integers, an integral numeric (what `SUM` of a bigint gives) as an integer, float4/float8 as
/// reals, text as text, bytea as a blob.
final class PostgresSQLConnection: SQLConnection {
  let connection: PostgresConnection
  let logger: Logger
  private var rewritten: [String: String] = [:]
  /// Cursors declared on this connection, for their names.
  private var cursors = 0

  init(_ connection: PostgresConnection, logger: Logger) {
    self.connection = connection
    self.logger = logger
  }

  var dialect: SQLDialect { .postgres }

  @discardableResult
  func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
    try self.run(self.placeholders(sql), arguments).metadata.rows ?? 0
  }

  func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
    try Self.rows(self.run(self.placeholders(sql), arguments).rows)
  }

  func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
    try self.fetchAll(sql, arguments).first
  }

  /// Rows fetched per round trip by `forEach`.
  static let cursorBatch = 1_000

  /// Streams the rows through a cursor, `cursorBatch` at a time, so that a large result (every
  /// audit row, every case of a county) never sits in memory whole. A cursor lives in a
  /// transaction: outside one (PostgreSQL says so, SQLSTATE 25P01, before anything ran) the rows
  /// are read in a transaction of their own.
  func forEach(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
    self.cursors += 1
    let name = "banjie_rows_\(self.cursors)"
    let declare = "DECLARE \(name) NO SCROLL CURSOR FOR " + self.placeholders(sql)
    do {
      _ = try self.run(declare, arguments)
    } catch let error as PostgresStatementError where error.sqlState == "25P01" {
      // Not in a transaction: nothing ran, and the rows are read in a transaction of their own.
      try self.execute(uncached: "BEGIN", [])
      do {
        _ = try self.run(declare, arguments)
        try self.stream(name, body)
        try self.execute(uncached: "COMMIT", [])
      } catch {
        if !self.connection.isClosed { _ = try? self.execute(uncached: "ROLLBACK", []) }
        throw error
      }
      return
    }
    try self.stream(name, body)
  }

  /// The rows of the open cursor `name`, `cursorBatch` at a time; the cursor is closed after.
  private func stream(_ name: String, _ body: (SQLRow) throws -> Void) throws {
    var open = true
    defer { if open, !self.connection.isClosed { _ = try? self.run("CLOSE \(name)", []) } }
    while true {
      let rows = try Self.rows(self.run("FETCH FORWARD \(Self.cursorBatch) FROM \(name)", []).rows)
      for row in rows { try body(row) }
      if rows.count < Self.cursorBatch { break }
    }
    _ = try self.run("CLOSE \(name)", [])
    open = false
  }

  @discardableResult
  func execute(uncached sql: String, _ arguments: [SQLValue]) throws -> Int {
    try self.run(PostgresPlaceholders.rewrite(sql), arguments).metadata.rows ?? 0
  }

  func fetchAll(uncached sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
    try Self.rows(self.run(PostgresPlaceholders.rewrite(sql), arguments).rows)
  }

  /// `sql` with `$n` placeholders, rewritten once per text on this connection.
  private func placeholders(_ sql: String) -> String {
    if let known = self.rewritten[sql] { return known }
    let text = PostgresPlaceholders.rewrite(sql)
    self.rewritten[sql] = text
    return text
  }

  private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
    var bindings = PostgresBindings(capacity: arguments.count)
    for argument in arguments {
      switch argument {
      case .null: bindings.appendNull()
      case .integer(let value): bindings.append(value)
      case .real(let value): bindings.append(value)
      case .text(let value): bindings.append(value)
      case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
      }
    }
    do {
      return try self.connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger).wait()
    } catch {
      if let unavailable = StoreUnavailable.classify(error) { throw unavailable }
      if let error = error as? PSQLError, error.code == .server { throw PostgresStatementError(error) }
      throw error
    }
  }

  private static func rows(_ rows: [PostgresRow]) throws -> [SQLRow] {
    guard let first = rows.first else { return [] }
    let columns = first.map(\.columnName)
    return try rows.map { row in SQLRow(columns: columns, values: try row.map(Self.value(of:))) }
  }

  /// One cell as one of SQLite's storage classes.
  static func value(of cell: PostgresCell) throws -> SQLValue {
    guard cell.bytes != nil else { return .null }
    switch cell.dataType {
    case .int2, .int4, .int8, .oid:
      return .integer(try cell.decode(Int64.self))
    case .bool:
      return .integer(try cell.decode(Bool.self) ? 1 : 0)
    case .float4, .float8:
      return .real(try cell.decode(Double.self))
    case .numeric:
      // SUM of a bigint column is numeric on PostgreSQL; SQLite's is an integer.
      let decimal = try cell.decode(Decimal.self)
      let number = NSDecimalNumber(decimal: decimal)
      let integer = number.int64Value
      return Decimal(integer) == decimal ? .integer(integer) : .real(number.doubleValue)
    case .bytea:
      var buffer = cell.bytes ?? ByteBuffer()
      return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
    default:
      return .text(try cell.decode(String.self))
    }
  }
}

/// SQLite's placeholders in PostgreSQL's spelling: `?` becomes the next `$n`, `?NNN` becomes
/// `$NNN`. Question marks inside quoted text, quoted names, dollar-quoted bodies and comments are
/// left alone.
enum PostgresPlaceholders {
  static func rewrite(_ sql: String) -> String {
    let bytes = Array(sql.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + 16)
    var next = 1
    var index = 0
    func copy(until end: Int) {
      out.append(contentsOf: bytes[index..<min(end, bytes.count)])
      index = min(end, bytes.count)
    }
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        // A quoted literal or name; a doubled quote inside it is an escaped quote.
        var end = index + 1
        while end < bytes.count {
          if bytes[end] == byte {
            if end + 1 < bytes.count, bytes[end + 1] == byte {
              end += 2
              continue
            }
            break
          }
          end += 1
        }
        copy(until: end + 1)
      case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
        copy(until: end)
      case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
        var end = index + 2
        while end + 1 < bytes.count, !(bytes[end] == UInt8(ascii: "*") && bytes[end + 1] == UInt8(ascii: "/")) { end += 1 }
        copy(until: end + 2)
      case UInt8(ascii: "$"):
        // A dollar-quoted body ($$…$$ or $tag$…$tag$) is copied whole; `$1` is copied as is.
        var tagEnd = index + 1
        while tagEnd < bytes.count, bytes[tagEnd] == UInt8(ascii: "_") || Self.isLetter(bytes[tagEnd]) { tagEnd += 1 }
        if tagEnd < bytes.count, bytes[tagEnd] == UInt8(ascii: "$") {
          let tag = Array(bytes[index...tagEnd])
          var end = tagEnd + 1
          while end + tag.count <= bytes.count, Array(bytes[end..<(end + tag.count)]) != tag { end += 1 }
          copy(until: end + tag.count)
        } else {
          copy(until: index + 1)
        }
      case UInt8(ascii: "?"):
        var end = index + 1
        while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
        out.append(UInt8(ascii: "$"))
        if end > index + 1 {
          out.append(contentsOf: bytes[(index + 1)..<end])
        } else {
          out.append(contentsOf: Array(String(next).utf8))
          next += 1
        }
        index = end
      default:
        out.append(byte)
        index += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  private static func isLetter(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
  }
}

/// A statement PostgreSQL refused (a constraint, a type, a syntax error…), with what the server
/// said: postgres-nio's own error prints a fixed text so that it cannot leak data into logs, so
/// the store keeps the fields an operator needs, the SQLSTATE first.
struct PostgresStatementError: Error, CustomStringConvertible {
  var sqlState: String
  var message: String
  var detail: String?
  var constraint: String?

  init(_ error: PSQLError) {
    self.sqlState = error.serverInfo?[.sqlState] ?? "?"
    self.message = error.serverInfo?[.message] ?? "\(error.code)"
    self.detail = error.serverInfo?[.detail]
    self.constraint = error.serverInfo?[.constraintName]
  }

  /// A unique or primary-key constraint refused the row (SQLSTATE 23505).
  var isUniqueViolation: Bool { self.sqlState == "23505" }

  var description: String {
    var text = "PostgreSQL refused the statement (SQLSTATE \(self.sqlState)): \(self.message)"
    if let constraint { text += " [\(constraint)]" }
    return text
  }
}

/// The database could not be reached, or the connection to it was lost during a call: the server
/// answers UNAVAILABLE, so that a client retries (with the same idempotency key), and the next
/// call opens a new connection. Never a hang and never a partial write: the transaction the
/// connection carried is rolled back by the database, unless the connection was lost while
/// committing (`outcomeUnknown`), when the change may or may not have been saved and only the
/// idempotency key makes the retry safe.
public struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
  /// English, for the server log.
  public var reason: String
  public var outcomeUnknown: Bool

  public init(reason: String, outcomeUnknown: Bool = false) {
    self.reason = reason
    self.outcomeUnknown = outcomeUnknown
  }

  public var description: String {
    self.outcomeUnknown
      ? "the database connection was lost while committing; the change may or may not be saved: \(self.reason)"
      : "the database is unavailable: \(self.reason)"
  }

  /// `error` as a StoreUnavailable when it says the connection, not the statement, failed: the
  /// connection closed or broke, the server shutting down or not accepting connections
  /// (SQLSTATE classes 08 and 57P), a statement cancelled by its timeout (57014) or a lock wait
  /// that timed out (55P03). nil for every other error, which keeps its meaning.
  static func classify(_ error: any Error) -> StoreUnavailable? {
    if let unavailable = error as? StoreUnavailable { return unavailable }
    guard let error = error as? PSQLError else { return nil }
    switch error.code {
    case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .queryCancelled:
      return StoreUnavailable(reason: "\(error.code)")
    case .server:
      let state = error.serverInfo?[.sqlState] ?? ""
      guard state.hasPrefix("08") || state.hasPrefix("57P") || state == "57014" || state == "55P03" else { return nil }
      return StoreUnavailable(reason: "SQLSTATE \(state): \(error.serverInfo?[.message] ?? "")")
    default:
      return nil
    }
  }
}
