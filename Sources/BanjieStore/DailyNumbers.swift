import BanjieCore
import Foundation
import GRDB

extension BanjieStore {
  /// The next number of `day` from a daily sequence table (one row per day, `day` and `last`):
  /// `PREFIX-REGION-YYYYMMDD-NNNN` (without a prefix for cases), the sequence zero-padded to
  /// `digits`. Inside the caller's write transaction, so numbers are unique and in order.
  /// `table` is one of the schema's `*_number_sequences` tables, never input.
  static func dailyNumber(
    _ db: Database, sequences table: String, prefix: String?, regionCode: String, day: LocalDate, digits: Int = 4
  ) throws -> String {
    let dayKey = day.description.replacingOccurrences(of: "-", with: "")
    let sequence =
      try Int.fetchOne(
        db,
        sql: """
          INSERT INTO \(table) (day, last) VALUES (?, 1)
          ON CONFLICT(day) DO UPDATE SET last = last + 1 RETURNING last
          """, arguments: [dayKey]) ?? 1
    return (prefix.map { "\($0)-" } ?? "") + "\(regionCode)-\(dayKey)-\(String(format: "%0\(digits)d", sequence))"
  }
}
