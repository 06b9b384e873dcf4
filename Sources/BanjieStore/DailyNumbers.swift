import BanjieCore
import Foundation

extension BanjieStore {
  /// The next number of `day` from a daily sequence table (one row per day, `day` and `last`):
  /// `PREFIX-REGION-YYYYMMDD-NNNN` (without a prefix for cases), the sequence zero-padded to
  /// `digits`. Inside the caller's write transaction, so numbers are unique and in order.
  /// `table` is one of the schema's `*_number_sequences` tables, never input.
  static func dailyNumber(
    _ sql: some SQLConnection, sequences table: String, prefix: String?, regionCode: String, day: LocalDate, digits: Int = 4
  ) throws -> String {
    let dayKey = Self.digits(day.year, 4) + Self.digits(day.month, 2) + Self.digits(day.day, 2)
    // One of a few tables named in the source: cached like any statement written there. `last`
    // is qualified in the SET list: PostgreSQL finds a bare `last` ambiguous (the row or
    // `excluded`), SQLite accepts either.
    let sequence =
      try sql.fetchOne(
        Int.self,
        """
        INSERT INTO \(table) (day, last) VALUES (?, 1)
        ON CONFLICT(day) DO UPDATE SET last = \(table).last + 1 RETURNING last
        """, [.text(dayKey)]) ?? 1
    return (prefix.map { "\($0)-" } ?? "") + "\(regionCode)-\(dayKey)-\(Self.digits(sequence, digits))"
  }

  /// `value` in decimal, zero-padded to at least `width` digits (String(format:) costs more than
  /// the statement that numbers the case).
  static func digits(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
  }
}
