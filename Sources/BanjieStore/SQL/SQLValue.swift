// The engine-neutral SQL layer (issue 17): the store's bodies speak to an
// `SQLConnection` in these values, so that the same code can run on SQLite (GRDB) and on
// PostgreSQL. The kinds are SQLite's five storage classes: every column the schema declares maps
// onto one of them on both engines (booleans and numeric aggregates arrive as integers).

/// One value bound to a statement or read from a row.
enum SQLValue: Sendable, Hashable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob([UInt8])

  var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// The value as an error message shows it: its kind and a bounded prefix, so that a decoding
  /// error names what it found without copying a whole document into a log line.
  var summary: String {
    switch self {
    case .null: return "NULL"
    case .integer(let value): return "integer \(value)"
    case .real(let value): return "real \(value)"
    case .text(let text): return text.count > 60 ? "text '\(text.prefix(60))…'" : "text '\(text)'"
    case .blob(let bytes): return "blob of \(bytes.count) bytes"
    }
  }
}

extension SQLValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByFloatLiteral {
  init(nilLiteral: ()) { self = .null }
  init(integerLiteral value: Int64) { self = .integer(value) }
  init(stringLiteral value: String) { self = .text(value) }
  init(floatLiteral value: Double) { self = .real(value) }
}
