import Foundation
import GRDB
import GRDBSQLite

/// `SQLConnection` over one GRDB `Database` (a writer or reader connection of the pool), made
/// inside the body `pool.read`, `pool.write` or GroupCommit's batch hands out and never kept
/// beyond it.
///
/// Every fixed statement goes through `Database.cachedStatement(sql:)`, keyed by its text:
/// compiled once per connection instead of once per call, which matters on the write path where
/// a statement on `cases` compiles the dashboard triggers with it (docs/ARCHITECTURE.md and
/// docs/PERFORMANCE.md, "The write path"; CachedStatements.swift). As there, only SQL written in
/// the source should reach it; SQL built per call (a filter's conditions, an `IN` list) goes
/// through the `uncached:` methods, which prepare a statement for the one call, so that the
/// cache does not grow with it.
///
/// **Binding and stepping go through SQLite's C API**, not GRDB's `StatementArguments` and `Row`
/// cursors: the values are bound straight from `SQLValue`s and each row is read straight into
/// one, so a call costs SQLite's work and one array per row (docs/PERFORMANCE.md, "The SQL
/// layer on SQLite"). What GRDB's own execution adds, and why it is not needed here:
/// - *database observation* (regions, transaction observers): the store registers none;
/// - *the schema cache*: only the migrator changes the schema on SQLite, never this layer;
/// - *an aborted transaction*: when SQLite ends a transaction by itself (SQLITE_FULL,
///   SQLITE_IOERR …) GRDB refuses every later statement of it; so does this connection, when it
///   was made inside a transaction and SQLite is back in autocommit mode (`abortedCheck`);
/// - *errors*: a failed step throws GRDB's `DatabaseError` with SQLite's extended result code
///   and message, so callers that look at result codes (constraint violations, busy) see what
///   they saw before.
///
/// Named after the engine and the protocol, as `PostgresSQLConnection` is: GRDB already exports
/// `SQLiteConnection` (the C handle's type), and a type of that name here would make every file
/// importing both modules ambiguous.
final class SQLiteSQLConnection: SQLConnection {
  let database: Database
  /// Whether the body this connection was made for runs inside a transaction.
  private let madeInTransaction: Bool

  init(_ database: Database) {
    self.database = database
    self.madeInTransaction = database.isInsideTransaction
  }

  var dialect: SQLDialect { .sqlite }

  /// The cached, compiled statement for `sql` (the same object for the same text on this
  /// connection).
  func statement(_ sql: String) throws -> Statement { try self.database.cachedStatement(sql: sql) }

  @discardableResult
  func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
    try self.run(self.statement(sql), arguments) { _ in true }
    return self.database.changesCount
  }

  func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
    try self.rows(self.statement(sql), arguments)
  }

  @discardableResult
  func execute(uncached sql: String, _ arguments: [SQLValue]) throws -> Int {
    try self.run(self.database.makeStatement(sql: sql), arguments) { _ in true }
    return self.database.changesCount
  }

  func fetchAll(uncached sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
    try self.rows(self.database.makeStatement(sql: sql), arguments)
  }

  func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
    let statement = try self.statement(sql)
    var first: SQLRow?
    try self.run(statement, arguments) { handle in
      first = Self.row(handle, columns: statement.columnNames)
      return false
    }
    return first
  }

  func forEach(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
    let statement = try self.statement(sql)
    let columns = statement.columnNames
    try self.run(statement, arguments) { handle in
      try body(Self.row(handle, columns: columns))
      return true
    }
  }

  private func rows(_ statement: Statement, _ arguments: [SQLValue]) throws -> [SQLRow] {
    let columns = statement.columnNames
    var rows: [SQLRow] = []
    try self.run(statement, arguments) { handle in
      rows.append(Self.row(handle, columns: columns))
      return true
    }
    return rows
  }

  /// Binds `arguments` to `statement` by position, steps it and hands each row to `onRow`, which
  /// answers whether to go on (false after the one row `fetchOne` wants). The statement is reset
  /// and its bindings cleared on the way out, whatever happened, so that it holds no lock, no
  /// copy of the values and no half-read result when it is next taken from the cache.
  private func run(_ statement: Statement, _ arguments: [SQLValue], onRow: (OpaquePointer) throws -> Bool) throws {
    guard let connection = self.database.sqliteConnection else {
      throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed", sql: statement.sql)
    }
    try self.abortedCheck(connection, statement)
    let handle = statement.sqliteStatement
    sqlite3_reset(handle)
    defer {
      sqlite3_reset(handle)
      sqlite3_clear_bindings(handle)
    }
    let expected = Int(sqlite3_bind_parameter_count(handle))
    guard expected == arguments.count else {
      throw DatabaseError(
        resultCode: .SQLITE_MISUSE, message: "wrong number of statement arguments: \(arguments.count), expected \(expected)",
        sql: statement.sql)
    }
    for (offset, value) in arguments.enumerated() {
      let code = Self.bind(value, to: handle, at: CInt(offset + 1))
      guard code == SQLITE_OK else { throw Self.error(code, connection, statement) }
    }
    while true {
      let code = sqlite3_step(handle)
      switch code {
      case SQLITE_DONE: return
      case SQLITE_ROW: if try !onRow(handle) { return }
      default: throw Self.error(code, connection, statement)
      }
    }
  }

  /// Refuses to run a statement of a transaction SQLite has already ended by itself (as GRDB
  /// does): it would run, and commit, on its own.
  private func abortedCheck(_ connection: OpaquePointer, _ statement: Statement) throws {
    guard self.madeInTransaction, sqlite3_get_autocommit(connection) != 0 else { return }
    throw DatabaseError(resultCode: .SQLITE_ABORT, message: "Transaction was aborted", sql: statement.sql)
  }

  private static func error(_ code: CInt, _ connection: OpaquePointer, _ statement: Statement) -> DatabaseError {
    DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: statement.sql)
  }

  /// SQLite copies the bytes of a text or blob bound with it before the bind returns.
  private static var transient: sqlite3_destructor_type {
    unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
  }

  private static func bind(_ value: SQLValue, to handle: OpaquePointer, at index: CInt) -> CInt {
    switch value {
    case .null: return sqlite3_bind_null(handle, index)
    case .integer(let int): return sqlite3_bind_int64(handle, index, int)
    case .real(let double): return sqlite3_bind_double(handle, index, double)
    case .text(var text):
      return text.withUTF8 { bytes in
        // An empty text is '' (a null pointer would bind NULL).
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(handle, index, "", 0, Self.transient) }
        return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
          sqlite3_bind_text64(handle, index, $0, sqlite3_uint64(bytes.count), Self.transient, UInt8(SQLITE_UTF8))
        }
      }
    case .blob(let bytes):
      return bytes.withUnsafeBytes { raw in
        // An empty blob is X'' (a null pointer would bind NULL).
        guard let base = raw.baseAddress, !raw.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
        return sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(raw.count), Self.transient)
      }
    }
  }

  /// The current row of `handle`, copied out (the next step overwrites it).
  private static func row(_ handle: OpaquePointer, columns: [String]) -> SQLRow {
    let count = sqlite3_column_count(handle)
    var values: [SQLValue] = []
    values.reserveCapacity(Int(count))
    for index in 0..<count { values.append(Self.value(handle, index)) }
    return SQLRow(columns: columns, values: values)
  }

  private static func value(_ handle: OpaquePointer, _ index: CInt) -> SQLValue {
    switch sqlite3_column_type(handle, index) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
    case SQLITE_TEXT:
      // Text first, then its length in bytes (SQLite's documented order).
      guard let text = sqlite3_column_text(handle, index) else { return .text("") }
      let count = Int(sqlite3_column_bytes(handle, index))
      return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
    case SQLITE_BLOB:
      guard let blob = sqlite3_column_blob(handle, index) else { return .blob([]) }
      let count = Int(sqlite3_column_bytes(handle, index))
      return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
    default: return .null
    }
  }

  /// An online copy of this connection's database into a new file at `path`. SQLite only (the
  /// backup API copies pages); run it on a reader so that it copies one snapshot while writers
  /// go on. A PostgreSQL store is backed up by the server's own tools.
  func backup(toFile path: String) throws {
    let destination = try DatabaseQueue(path: path)
    try destination.writeWithoutTransaction { try self.database.backup(to: $0) }
    try destination.close()
  }
}

extension SQLValue {
  init(_ value: DatabaseValue) {
    switch value.storage {
    case .null: self = .null
    case .int64(let int): self = .integer(int)
    case .double(let double): self = .real(double)
    case .string(let text): self = .text(text)
    case .blob(let data): self = .blob(Array(data))
    }
  }

  var databaseValue: DatabaseValue {
    switch self {
    case .null: return .null
    case .integer(let int): return int.databaseValue
    case .real(let double): return double.databaseValue
    case .text(let text): return text.databaseValue
    case .blob(let bytes): return Data(bytes).databaseValue
    }
  }
}

/// Dates bind as the text GRDB writes ("yyyy-MM-dd HH:mm:ss.SSS", UTC) and read back through
/// GRDB's own parser, so that every layout GRDB accepts (and the numbers it takes as Unix
/// times) reads exactly as through a GRDB record. The one GRDB dependency left in the neutral
/// conversions: a PostgreSQL build needs its own parser for the same text.
extension StoredDate: SQLValueConvertible {
  var sqlValue: SQLValue { .text(Self.text(self.date)) }
  init?(sqlValue: SQLValue) {
    guard let date = Date.fromDatabaseValue(sqlValue.databaseValue) else { return nil }
    self.init(date)
  }
}

extension StoredJSON {
  /// A JSON array column of the SQL layer, read by the same rules as GRDB's value (NULL is the
  /// empty array, a number is an error).
  static func strings(_ value: SQLValue) throws -> [String] { try Self.strings(value.databaseValue) }
}
