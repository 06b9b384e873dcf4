import GRDB

// Statements the store runs on every call go through each connection's statement cache
// (`Database.cachedStatement(sql:)`): compiled once per connection instead of once per call.
// Compiling is not cheap here: a statement that writes `cases` or `ratings` compiles the
// dashboard triggers with it, and GRDB's authorizer records every column those triggers read
// (docs/PERFORMANCE.md, "The write path"). Only SQL written in the source is cached: SQL built
// from input or with a variable number of placeholders is compiled per call, so the caches stay
// as small as the source.

extension FetchableRecord where Self: TableRecord {
  /// The record whose `column` equals `value` (a unique column: the first row otherwise).
  /// `column` is a column name written in the source, never input.
  static func one(_ db: Database, _ column: String, _ value: some DatabaseValueConvertible) throws -> Self? {
    try Self.fetchOne(
      db.cachedStatement(sql: "SELECT * FROM \(Self.databaseTableName) WHERE \(column) = ? LIMIT 1"), arguments: [value])
  }
}

extension TableRecord {
  /// Whether a row's `column` equals `value`. `column` is written in the source, never input.
  static func present(_ db: Database, _ column: String, _ value: some DatabaseValueConvertible) throws -> Bool {
    try Bool.fetchOne(
      db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM \(Self.databaseTableName) WHERE \(column) = ?)"), arguments: [value])
      ?? false
  }
}
