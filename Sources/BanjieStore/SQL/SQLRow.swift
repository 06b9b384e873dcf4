/// One result row: its values by position and its column names, read by index or by name.
///
/// The names are the statement's (one array shared by every row of a result). A lookup by name
/// compares names in order, exact first and then ignoring ASCII case as GRDB's `Row` does;
/// positional reads avoid even that on hot paths (see `CaseRecord.init(positional:)`).
struct SQLRow: Sendable, Hashable {
  let columns: [String]
  let values: [SQLValue]

  init(columns: [String], values: [SQLValue]) {
    self.columns = columns
    self.values = values
  }

  var count: Int { self.values.count }

  subscript(index: Int) -> SQLValue { self.values[index] }

  /// The value of `column`, nil when the row has no such column (NULL is `.null`).
  subscript(column: String) -> SQLValue? { self.index(of: column).map { self.values[$0] } }

  func index(of column: String) -> Int? {
    if let exact = self.columns.firstIndex(of: column) { return exact }
    let lowered = column.lowercased()
    return self.columns.firstIndex { $0.lowercased() == lowered }
  }

  /// The value at `index` as `T`, or an error naming the column.
  func decode<T: SQLValueConvertible>(_ type: T.Type, at index: Int) throws -> T {
    let name = index < self.columns.count ? self.columns[index] : "#\(index)"
    guard index >= 0, index < self.values.count else { throw SQLDecodingError(column: name, type: T.self, problem: .missingColumn) }
    let value = self.values[index]
    guard let decoded = T(sqlValue: value) else {
      throw SQLDecodingError(column: name, type: T.self, problem: value.isNull ? .null : .mismatch(value))
    }
    return decoded
  }

  /// The value of `column` as `T`, or an error naming the column (also when there is none).
  func decode<T: SQLValueConvertible>(_ type: T.Type, _ column: String) throws -> T {
    guard let index = self.index(of: column) else { throw SQLDecodingError(column: column, type: T.self, problem: .missingColumn) }
    let value = self.values[index]
    guard let decoded = T(sqlValue: value) else {
      throw SQLDecodingError(column: column, type: T.self, problem: value.isNull ? .null : .mismatch(value))
    }
    return decoded
  }

  /// `decode(T.self, at:)` with `T` inferred from the context.
  func decode<T: SQLValueConvertible>(at index: Int) throws -> T { try self.decode(T.self, at: index) }

  /// `decode(T.self, column)` with `T` inferred from the context.
  func decode<T: SQLValueConvertible>(_ column: String) throws -> T { try self.decode(T.self, column) }
}

/// A column that cannot be read as the type asked for. The message names the column, what it
/// held and what was expected: the error a damaged or foreign database shows first.
struct SQLDecodingError: Error, CustomStringConvertible, Equatable {
  enum Problem: Equatable {
    case missingColumn
    case null
    case mismatch(SQLValue)
  }

  var column: String
  var expected: String
  var problem: Problem

  init<T>(column: String, type: T.Type, problem: Problem) {
    self.column = column
    self.expected = String(describing: T.self)
    self.problem = problem
  }

  var description: String {
    switch self.problem {
    case .missingColumn: return "no column \(self.column) in the row (expected \(self.expected))"
    case .null: return "column \(self.column) is NULL (expected \(self.expected))"
    case .mismatch(let value): return "column \(self.column) holds \(value.summary) (expected \(self.expected))"
    }
  }
}
