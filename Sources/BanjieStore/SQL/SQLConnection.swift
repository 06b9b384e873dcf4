/// A connection the store's bodies run their SQL on, whichever the engine.
///
/// Synchronous on purpose: a store body runs on the engine's own thread (GRDB's writer or a
/// reader queue, and later one thread per PostgreSQL connection), never on the cooperative pool,
/// so blocking there is the design and `async` would only add suspension points inside
/// transactions.
///
/// A class-bound protocol rather than a struct wrapper: a connection has identity. Session state
/// lives on one connection (a PostgreSQL advisory lock, LISTEN, the SQL text → `$n` rewrite
/// cache; SQLite's statement cache is per connection too), so the value passed around must be
/// that connection, not a copy of some handle. A connection is only valid inside the body that
/// was given it and is not `Sendable`: it never crosses threads.
///
/// Placeholders are `?` (and `?NNN`); SQL that differs by engine goes through `dialect`.
protocol SQLConnection: AnyObject {
  var dialect: SQLDialect { get }

  /// Runs a statement; returns the number of rows it inserted, updated or deleted (rows changed
  /// by triggers not counted).
  @discardableResult
  func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int

  func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]

  /// The first row, nil when there is none. Only that row is read.
  func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow?

  /// Calls `body` with each row in turn without holding the whole result (AuditLog.verify walks
  /// the entire chain). `body` must not run SQL on this connection.
  func forEach(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws

  /// As `execute(_:_:)`, for SQL built per call (a variable number of conditions or
  /// placeholders): prepared for this call only and never cached, so that the connection's caches
  /// hold only the fixed statements written in the source.
  @discardableResult
  func execute(uncached sql: String, _ arguments: [SQLValue]) throws -> Int

  /// As `fetchAll(_:_:)`, for SQL built per call: prepared for this call only, never cached.
  func fetchAll(uncached sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
}

extension SQLConnection {
  @discardableResult
  func execute(_ sql: String) throws -> Int { try self.execute(sql, []) }

  func fetchAll(_ sql: String) throws -> [SQLRow] { try self.fetchAll(sql, []) }

  func fetchOne(_ sql: String) throws -> SQLRow? { try self.fetchOne(sql, []) }

  /// The first column of the first row; nil when there is no row or the value is NULL (as GRDB's
  /// `Int64.fetchOne`), so `SELECT MAX(id)` over an empty table answers nil.
  func fetchOne<T: SQLValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: [SQLValue] = []) throws -> T? {
    guard let row = try self.fetchOne(sql, arguments), row.count > 0, !row[0].isNull else { return nil }
    return try row.decode(T.self, at: 0)
  }

  /// The first column of every row; a NULL is an error unless `T` is optional.
  func fetchAll<T: SQLValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: [SQLValue] = []) throws -> [T] {
    try self.fetchAll(sql, arguments).map { try $0.decode(T.self, at: 0) }
  }
}

/// The few SQL fragments that differ between the engines (issue 17): everything else the store
/// writes is accepted by both as it stands, or is rewritten once into a form both accept.
struct SQLDialect: Sendable, Hashable {
  var isPostgres: Bool

  static let sqlite = SQLDialect(isPostgres: false)
  static let postgres = SQLDialect(isPostgres: true)

  /// The county's calendar day (UTC+8, no daylight saving) of a stored timestamp, as
  /// 'YYYY-MM-DD' text. PostgreSQL has no two-argument `date()`: its migration v6 defines
  /// `banjie_day(text)` with the same result, which this names.
  func day(_ expression: String) -> String {
    self.isPostgres ? "banjie_day(\(expression))" : "date(\(expression), '+8 hours')"
  }

  /// Whether `needle` occurs in `haystack` (SQLite `instr`, PostgreSQL `strpos`; both 1-based,
  /// 0 when absent).
  func contains(_ haystack: String, _ needle: String) -> String {
    self.isPostgres ? "strpos(\(haystack), \(needle)) > 0" : "instr(\(haystack), \(needle)) > 0"
  }
}

extension SQLConnection {
  /// Whether `table` holds a row whose `column` equals `value`. `table` and `column` are names
  /// written in the source, never input.
  func present(_ table: String, _ column: String, _ value: SQLValue) throws -> Bool {
    try self.fetchOne(Bool.self, "SELECT EXISTS (SELECT 1 FROM \(table) WHERE \(column) = ?)", [value]) ?? false
  }
}
