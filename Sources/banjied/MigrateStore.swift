import ArgumentParser
import BanjieServer
import BanjieStore
import Foundation

/// `banjied migrate-store`: moves a county's SQLite file into a new PostgreSQL database
/// (docs/OPERATIONS.md, "Moving to PostgreSQL"). Local: it opens the file itself, so run it with
/// the server stopped.
struct MigrateStore: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "migrate-store", abstract: "Copy a county's SQLite file into a new, empty PostgreSQL database and check the copy.",
    discussion: """
      Every table is copied as it is (cases, events, the audit chain byte for byte, idempotency
      records, dashboard aggregates) in one transaction; then each table's rows are compared with
      the file's, value by value, and the audit chain is verified on PostgreSQL. A target that
      holds any table, a missing file and a file whose audit chain does not verify are refused
      with nothing written. Stop banjied first.
      Example: banjied migrate-store --from banjie.sqlite --to postgres://banjie@127.0.0.1:5432/banjie
      Exit codes: 0 when the copy was made and checked, 1 otherwise (the reason is printed).
      """)

  @Option(name: .long, help: "The SQLite database file to copy.") var from: String
  @Option(name: .long, help: "The new, empty PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.") var to: String

  func validate() throws {
    guard PostgresLocation.isPostgresURL(self.to) else { throw ValidationError("--to must be a postgres:// URL") }
  }

  func run() async throws {
    let (from, to) = (self.from, self.to)
    let started = Date()
    let report: StoreMigrationReport
    do {
      report = try await StoreMigration.migrate(fromSQLite: from, toPostgres: to)
    } catch {
      FileHandle.standardError.write(Data("banjied migrate-store: \(error)\n".utf8))
      throw ExitCode(1)
    }
    let width = report.tables.map(\.name.count).max() ?? 0
    for table in report.tables where table.rows > 0 {
      let count = String(table.rows)
      print("  " + table.name + String(repeating: " ", count: width - table.name.count + 12 - count.count) + count + " rows")
    }
    print(
      "copied \(report.totalRows) rows of \(report.tables.count) tables in \(String(format: "%.1f", Date().timeIntervalSince(started))) s;"
        + " every table matches the file; audit chain verified on PostgreSQL (\(report.auditRows) rows)")
  }
}
