import BanjieCrypto
import Dispatch
import Foundation
import GRDB

/// What `banjied migrate-store` copied and checked.
public struct StoreMigrationReport: Sendable {
  public struct Table: Sendable, Hashable {
    public var name: String
    public var rows: Int
  }

  /// Every table in copy order, with the rows found on both sides (equal, or the copy failed).
  public var tables: [Table]
  /// The audit rows of the chain verified on the target.
  public var auditRows: Int64
  public var totalRows: Int { self.tables.reduce(0) { $0 + $1.rows } }
}

/// Why `banjied migrate-store` stopped. The target is left as it was (the copy is one transaction)
/// unless the failure is in the checks after the commit, which say what differs.
public enum StoreMigrationError: Error, CustomStringConvertible {
  case noSourceFile(String)
  case sourceChainBroken(String)
  case targetNotEmpty(tables: [String])
  case copyFailed(table: String, cause: String)
  case differs(table: String, sourceRows: Int, targetRows: Int)
  case targetChainBroken(String)
  case sourceAggregatesDiffer([String])
  case targetAggregatesDiffer([String])

  public var description: String {
    switch self {
    case .noSourceFile(let path): return "\(path) is not a banjie SQLite file (no such file)"
    case .sourceChainBroken(let reason): return "the source's audit chain does not verify (\(reason)); nothing was copied"
    case .targetNotEmpty(let tables):
      return "the target database is not empty (\(tables.joined(separator: ", "))…): migrate-store copies into a new, empty database"
    case .copyFailed(let table, let cause): return "copying \(table) failed, nothing was written: \(cause)"
    case .differs(let table, let source, let target):
      return
        "after the copy, table \(table) differs: \(source) rows in the file, \(target) in PostgreSQL (or the same count with other content)"
    case .targetChainBroken(let reason): return "after the copy, the audit chain does not verify on PostgreSQL: \(reason)"
    case .sourceAggregatesDiffer(let lines):
      return
        "the file's dashboard aggregates disagree with its cases (\(lines.count) rows, first: \(lines.first ?? "")); nothing was copied"
    case .targetAggregatesDiffer(let lines):
      return "after the copy, PostgreSQL's dashboard aggregates disagree with its cases (\(lines.count) rows, first: \(lines.first ?? ""))"
    }
  }
}

/// Moves a county from its SQLite file to a new PostgreSQL database (issue 17; docs/OPERATIONS.md,
/// "Moving to PostgreSQL"): every table copied as it is, the audit chain byte for byte, the
/// idempotency records and the dashboard aggregates included, in one transaction, then checked:
/// every table against the file, the audit chain, and the aggregates against a rebuild from
/// PostgreSQL's own rows.
///
/// Refused, with nothing written: a file that does not exist, a file whose audit chain does not
/// verify, a target database that holds any table. The file is opened as banjied opens it, so it is
/// first brought to this build's schema. Blocking: run it on a thread of its own (banjied's
/// command does), never on the cooperative pool.
public enum StoreMigration {
  /// `run` on a thread of its own, for async callers (never the cooperative pool).
  public static func migrate(fromSQLite path: String, toPostgres url: String) async throws -> StoreMigrationReport {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue(label: "banjie.migrate-store").async {
        continuation.resume(with: Result { try Self.run(fromSQLite: path, toPostgres: url) })
      }
    }
  }

  public static func run(
    fromSQLite path: String, toPostgres url: String, progress: (String, Int) -> Void = { _, _ in }
  ) throws -> StoreMigrationReport {
    let location = try PostgresLocation(url: url)
    guard FileManager.default.fileExists(atPath: path) else { throw StoreMigrationError.noSourceFile(path) }
    let source = try BanjieStore(path: path)
    let pool = try source.pool
    let target = PostgresDatabase(location: location, readers: 1)
    defer { target.close() }

    let sourceChain = try pool.read { db in try AuditLog.verify(SQLiteSQLConnection(db)) }
    guard sourceChain.ok else { throw StoreMigrationError.sourceChainBroken(sourceChain.reason) }
    let sourceDifferences = try pool.write { db in try DashboardSchema.differences(db) }
    guard sourceDifferences.isEmpty else { throw StoreMigrationError.sourceAggregatesDiffer(sourceDifferences) }

    try target.writer.runBlocking { sql in
      let tables = try sql.fetchAll(
        String.self, "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename LIMIT 5")
      guard tables.isEmpty else { throw StoreMigrationError.targetNotEmpty(tables: tables) }
      try PostgresMigrations.migrate(sql)
    }
    let tables = try pool.read { db in try Self.tables(db) }

    // One transaction: the user triggers (the audit log's guards, the dashboard's) are off while
    // the rows arrive as they are, and the rows the migrations seeded give way to the file's.
    try target.writer.runBlocking { sql in
      try sql.execute("BEGIN")
      for table in tables { try sql.execute(uncached: "ALTER TABLE \(table.quotedName) DISABLE TRIGGER USER", []) }
      for table in tables.reversed() { try sql.execute(uncached: "DELETE FROM \(table.quotedName)", []) }
    }
    do {
      for table in tables {
        try Self.copy(table, from: pool, to: target)
        progress(table.name, table.expectedRows)
      }
      try target.writer.runBlocking { sql in
        let identities = try sql.fetchAll(
          """
          SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name
          """)
        for identity in identities {
          let table = try identity.decode(String.self, at: 0)
          let column = try identity.decode(String.self, at: 1)
          _ = try sql.fetchAll(
            uncached: """
              SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), COALESCE(MAX("\(column)"), 0) + 1, false) FROM "\(table)"
              """, [])
        }
        for table in tables { try sql.execute(uncached: "ALTER TABLE \(table.quotedName) ENABLE TRIGGER USER", []) }
        try sql.execute("COMMIT")
      }
    } catch {
      _ = try? target.writer.runBlocking { sql in try sql.execute("ROLLBACK") }
      throw error
    }

    // The checks: every table's rows and their content, then the chain on PostgreSQL.
    var report: [StoreMigrationReport.Table] = []
    for table in tables {
      let sourceDigest = try pool.read { db in try Self.digest(table, SQLiteSQLConnection(db)) }
      let targetDigest = try target.writer.runBlocking { sql in try Self.digest(table, sql) }
      guard sourceDigest == targetDigest else {
        throw StoreMigrationError.differs(table: table.name, sourceRows: sourceDigest.rows, targetRows: targetDigest.rows)
      }
      report.append(.init(name: table.name, rows: sourceDigest.rows))
    }
    let chain = try target.writer.runBlocking { sql in try AuditLog.verify(sql) }
    guard chain.ok, chain.rows == sourceChain.rows else {
      throw StoreMigrationError.targetChainBroken(chain.ok ? "\(chain.rows) rows, the file has \(sourceChain.rows)" : chain.reason)
    }
    // The aggregates against a rebuild from PostgreSQL's own rows: equal tables imply it, this
    // shows it with PostgreSQL's SQL.
    let targetDifferences = try target.readers[0].runBlocking { sql in
      try sql.execute("BEGIN")
      defer { _ = try? sql.execute("ROLLBACK") }
      return try DashboardSchema.postgresDifferences(sql)
    }
    guard targetDifferences.isEmpty else { throw StoreMigrationError.targetAggregatesDiffer(targetDifferences) }
    return StoreMigrationReport(tables: report, auditRows: chain.rows)
  }

  struct Table {
    var name: String
    var columns: [String]
    /// The columns rows are ordered by when compared: the primary key, or every column.
    var order: [String]
    var expectedRows: Int
    var quotedName: String { "\"\(self.name)\"" }
    var columnList: String { self.columns.map { "\"\($0)\"" }.joined(separator: ", ") }
  }

  /// The file's tables, every table before the tables that refer to it.
  static func tables(_ db: Database) throws -> [Table] {
    let names = try String.fetchAll(
      db,
      sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
    var byName: [String: Table] = [:]
    var references: [String: [String]] = [:]
    for name in names {
      let info = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
      let columns = info.map { $0["name"] as String }
      let key = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
      let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(name)\"") ?? 0
      byName[name] = Table(name: name, columns: columns, order: key.isEmpty ? columns : key, expectedRows: count)
      references[name] = try String.fetchAll(db, sql: "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", arguments: [name])
    }
    var ordered: [Table] = []
    var placed: Set<String> = []
    func place(_ name: String, _ visiting: Set<String>) {
      guard !placed.contains(name), let table = byName[name] else { return }
      for parent in references[name] ?? [] where parent != name && !visiting.contains(parent) { place(parent, visiting.union([name])) }
      placed.insert(name)
      ordered.append(table)
    }
    for name in names { place(name, []) }
    return ordered
  }

  /// Copies one table's rows, a few thousand values per INSERT.
  static func copy(_ table: Table, from pool: DatabasePool, to target: PostgresDatabase) throws {
    let perRow = table.columns.count
    let rowsPerInsert = max(1, 20_000 / max(1, perRow))
    let rowPlaceholders = "(" + Array(repeating: "?", count: perRow).joined(separator: ", ") + ")"
    var pending: [SQLValue] = []
    var pendingRows = 0
    func flush() throws {
      guard pendingRows > 0 else { return }
      let values = Array(repeating: rowPlaceholders, count: pendingRows).joined(separator: ", ")
      let arguments = pending
      do {
        _ = try target.writer.runBlocking { sql in
          try sql.execute(uncached: "INSERT INTO \(table.quotedName) (\(table.columnList)) VALUES \(values)", arguments)
        }
      } catch {
        throw StoreMigrationError.copyFailed(table: table.name, cause: "\(error)")
      }
      pending.removeAll(keepingCapacity: true)
      pendingRows = 0
    }
    try pool.read { db in
      let order = table.order.map { "\"\($0)\"" }.joined(separator: ", ")
      try SQLiteSQLConnection(db).forEach("SELECT \(table.columnList) FROM \(table.quotedName) ORDER BY \(order)", []) { row in
        pending.append(contentsOf: row.values)
        pendingRows += 1
        if pendingRows == rowsPerInsert { try flush() }
      }
    }
    try flush()
  }

  struct Digest: Equatable {
    var rows: Int
    var sha256: String
  }

  /// The table's rows in key order, as one SHA-256 over each value's kind and bytes: equal on
  /// both engines exactly when the rows are.
  static func digest(_ table: Table, _ sql: any SQLConnection) throws -> Digest {
    let order = table.order.map { "\"\($0)\"" }.joined(separator: ", ")
    var hasher = SHA256.Hasher()
    var bytes: [UInt8] = []
    var rows = 0
    try sql.forEach("SELECT \(table.columnList) FROM \(table.quotedName) ORDER BY \(order)", []) { row in
      rows += 1
      bytes.removeAll(keepingCapacity: true)
      for value in row.values {
        switch value {
        case .null:
          bytes.append(0)
        case .integer(let n):
          bytes.append(1)
          bytes.append(contentsOf: Array(String(n).utf8))
        case .real(let x):
          bytes.append(2)
          bytes.append(contentsOf: Array(String(x.bitPattern).utf8))
        case .text(let text):
          bytes.append(3)
          bytes.append(contentsOf: Array(String(text.utf8.count).utf8))
          bytes.append(contentsOf: Array(text.utf8))
        case .blob(let blob):
          bytes.append(4)
          bytes.append(contentsOf: Array(String(blob.count).utf8))
          bytes.append(contentsOf: blob)
        }
        bytes.append(0x1F)
      }
      bytes.append(0x1E)
      hasher.update(bytes)
    }
    return Digest(rows: rows, sha256: SHA256.hex(&hasher))
  }
}
