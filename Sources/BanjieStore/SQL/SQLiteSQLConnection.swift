import Foundation
import GRDB

/// `SQLConnection` over one GRDB `Database` (a writer or reader connection of the pool), made
/// inside the body `pool.read`, `pool.write` or GroupCommit's batch hands out and never kept
/// beyond it.
///
/// Every statement goes through `Database.cachedStatement(sql:)`, keyed by its text: compiled
/// once per connection instead of once per call, which matters on the write path where a
/// statement on `cases` compiles the dashboard triggers with it (docs/ARCHITECTURE.md and
/// docs/PERFORMANCE.md, "The write path"; CachedStatements.swift). As there, only SQL written in the source should reach
/// it; SQL built per call (a filter's conditions, an `IN` list) goes through the `uncached:`
/// methods, which prepare a statement for the one call, so that the cache does not grow with it.
///
/// Named after the engine and the protocol, as `PostgresSQLConnection` will be: GRDB already
/// exports `SQLiteConnection` (the C handle's type), and a type of that name here would make every
/// file importing both modules ambiguous.
///
/// Errors from SQLite are GRDB's `DatabaseError`s, unchanged: callers that look at result codes
/// (constraint violations, busy) see what they saw before.
final class SQLiteSQLConnection: SQLConnection {
  let database: Database

  init(_ database: Database) { self.database = database }

  var dialect: SQLDialect { .sqlite }

  /// The cached, compiled statement for `sql` (the same object for the same text on this
  /// connection).
  func statement(_ sql: String) throws -> Statement { try self.database.cachedStatement(sql: sql) }

  @discardableResult
  func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
    try self.statement(sql).execute(arguments: Self.arguments(arguments))
    return self.database.changesCount
  }

  func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
    try Self.rows(self.statement(sql), arguments)
  }

  @discardableResult
  func execute(uncached sql: String, _ arguments: [SQLValue]) throws -> Int {
    try self.database.makeStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    return self.database.changesCount
  }

  func fetchAll(uncached sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
    try Self.rows(self.database.makeStatement(sql: sql), arguments)
  }

  func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
    let statement = try self.statement(sql)
    let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
    guard let row = try cursor.next() else { return nil }
    return Self.row(row, columns: statement.columnNames)
  }

  func forEach(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
    try Self.forEach(self.statement(sql), arguments, body)
  }

  private static func forEach(_ statement: Statement, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
    let columns = statement.columnNames
    let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
    while let row = try cursor.next() { try body(Self.row(row, columns: columns)) }
  }

  private static func rows(_ statement: Statement, _ arguments: [SQLValue]) throws -> [SQLRow] {
    var rows: [SQLRow] = []
    try Self.forEach(statement, arguments) { rows.append($0) }
    return rows
  }

  /// An online copy of this connection's database into a new file at `path`. SQLite only (the
  /// backup API copies pages); run it on a reader so that it copies one snapshot while writers
  /// go on. A PostgreSQL store is backed up by the server's own tools.
  func backup(toFile path: String) throws {
    let destination = try DatabaseQueue(path: path)
    try destination.writeWithoutTransaction { try self.database.backup(to: $0) }
    try destination.close()
  }

  private static func arguments(_ values: [SQLValue]) -> StatementArguments {
    StatementArguments(values.map(\.databaseValue))
  }

  /// The cursor's row copied out (the cursor reuses its row for the next step).
  private static func row(_ row: Row, columns: [String]) -> SQLRow {
    var values: [SQLValue] = []
    values.reserveCapacity(row.count)
    for value in row.databaseValues { values.append(SQLValue(value)) }
    return SQLRow(columns: columns, values: values)
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
