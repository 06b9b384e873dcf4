import BanjieServer
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Raises the soft limit on open files to the hard limit (capped at 1,048,576): a thousand
/// connections need more than the usual 1,024 descriptors on both sides.
@discardableResult
func raiseOpenFileLimit() -> Int {
  var limit = rlimit()
  guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
  let target = min(limit.rlim_max, rlim_t(1 << 20))
  if limit.rlim_cur < target {
    limit.rlim_cur = target
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
  }
  return Int(limit.rlim_cur)
}

/// The values of `/proc/<pid>/status` in kB (VmRSS, VmHWM, RssAnon, ...); Linux only.
func procStatusKB(pid: Int32, field: String) -> Int? {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
  for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
    let number = line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first
    return number.flatMap { Int($0) }
  }
  return nil
}

/// CPU time (user + system) a process has used so far, in seconds, from `/proc/<pid>/stat`.
func processCPUSeconds(pid: Int32) -> Double? {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = text.lastIndex(of: ")")
  else { return nil }
  // Fields after "comm)": state is field 3; utime and stime are fields 14 and 15.
  let fields = text[text.index(after: close)...].split(separator: " ")
  guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
  return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A logger that only reports warnings and worse (the transports log connections at info).
func quietLogger(_ label: String) -> Logger {
  var logger = Logger(label: label)
  logger.logLevel = .warning
  return logger
}

extension Duration {
  var nanoseconds: UInt64 {
    let (seconds, attoseconds) = self.components
    return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
  }
  var secondsDouble: Double { Double(self.nanoseconds) / 1e9 }
}

/// Percentiles over a sorted array of latencies in nanoseconds (nearest-rank).
struct Percentiles {
  let sorted: [UInt64]
  init(_ values: [UInt64]) { self.sorted = values.sorted() }
  func value(_ percentile: Double) -> UInt64 {
    guard !self.sorted.isEmpty else { return 0 }
    let rank = Int((percentile / 100 * Double(self.sorted.count)).rounded(.up))
    return self.sorted[min(max(rank, 1), self.sorted.count) - 1]
  }
  var count: Int { self.sorted.count }
}

func formatMicros(_ nanoseconds: UInt64) -> String {
  String(format: "%.0f", Double(nanoseconds) / 1000)
}

/// Writes a fixed-width table to standard output.
func printTable(_ header: [String], _ rows: [[String]]) {
  var widths = header.map(\.count)
  for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { index, cell in
      let pad = String(repeating: " ", count: widths[index] - cell.count)
      return index == 0 ? cell + pad : pad + cell
    }.joined(separator: "  ")
  }
  print(line(header))
  print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
  for row in rows { print(line(row)) }
}

/// Standard error, for progress lines that should not end up in the tables.
func progress(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// The benchmark's own connections to SQLite files. The store's pool is closed to callers (the
/// store boundary, docs/ARCHITECTURE.md), so what the benchmarks read or write directly goes
/// through connections of their own.
enum BenchDatabase {
  /// A pool opened as BanjieStore.init opens banjied's (WAL, the pool's default; synchronous FULL;
  /// foreign keys; a 10 s busy timeout), for the bare-SQLite peer measurements.
  static func pool(path: String) throws -> DatabasePool {
    var configuration = Configuration()
    configuration.foreignKeysEnabled = true
    configuration.busyMode = .timeout(10)
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = FULL")
    }
    let pool = try DatabasePool(path: path, configuration: configuration)
    // As BanjieStore.init does: GRDB's WAL set-up left the writer at NORMAL.
    try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    return pool
  }

  /// A read-only connection to a database the store (or the server) has open, for the
  /// benchmark's own checks and peer queries. It sees the file (journal_mode, rows); connection
  /// settings such as `synchronous` are its own, not the store's.
  static func readOnly(path: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.readonly = true
    configuration.busyMode = .timeout(10)
    return try DatabaseQueue(path: path, configuration: configuration)
  }
}

/// The real, assembled server (in this process, on 127.0.0.1 port 0, over mutual TLS, logging
/// warnings only) and, beside its file, the database of SQLite's own commit ceiling: bare SQLite
/// through a GRDB pool of the benchmark's own configured as BanjieStore configures banjied's (WAL,
/// synchronous FULL, foreign keys), with a table shaped like `cases` but without foreign keys or
/// triggers. What `submit` and `mutations` measure against each other.
struct BenchServer {
  let assembly: BanjieServerApp.Assembly
  let ceilingPool: DatabasePool
  /// The server's file through a read-only connection of the benchmark's own (the store's pool
  /// is closed to callers).
  let serverReader: DatabaseQueue
  let sqliteVersion: String

  /// `catalog/sample-county.json` of the root package.
  static let sampleCatalog = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("catalog/sample-county.json").path

  /// Assembles the server in `base` and reports both databases' settings, prefixed by `label`.
  /// The server on `databasePath`, on 127.0.0.1 port 0, over mutual TLS, logging warnings only.
  static func assemble(
    databasePath: String, caFile: String, server: (certificateFile: String, privateKeyFile: String)
  ) async throws -> BanjieServerApp.Assembly {
    var configuration = ServerConfiguration()
    configuration.port = 0
    configuration.databasePath = databasePath
    configuration.certificateFile = server.certificateFile
    configuration.privateKeyFile = server.privateKeyFile
    configuration.clientCAFile = caFile
    configuration.logLevel = .warning
    return try await BanjieServerApp(configuration: configuration, logger: quietLogger("banjied")).assemble()
  }

  static func open(
    base: String, ca: CertificateAuthority, server: (certificateFile: String, privateKeyFile: String), label: String
  ) async throws -> BenchServer {
    let assembly = try await Self.assemble(databasePath: base + "/banjie.sqlite", caFile: ca.certificateFile, server: server)
    let (ceilingPool, serverReader, sqliteVersion) = try await Self.openCeiling(
      base: base, serverDatabase: assembly.environment.store.path, label: label)
    return BenchServer(assembly: assembly, ceilingPool: ceilingPool, serverReader: serverReader, sqliteVersion: sqliteVersion)
  }

  /// The ceiling's database beside the server's, and the server's file through a read-only
  /// connection; reports both databases' settings, prefixed by `label`.
  static func openCeiling(
    base: String, serverDatabase: String, label: String
  ) async throws -> (ceilingPool: DatabasePool, serverReader: DatabaseQueue, sqliteVersion: String) {
    let ceilingPool = try BenchDatabase.pool(path: base + "/ceiling.sqlite")
    try await ceilingPool.write { db in try db.execute(sql: Ceiling.createTable) }
    // Read on the writer: `synchronous` is per connection, and the writer is the one that commits.
    let pragmas = try await ceilingPool.writeWithoutTransaction { db in
      (
        try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
        try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "?"
      )
    }
    // journal_mode is the file's; synchronous is per connection, so the server's (FULL, set and
    // checked by BanjieStore.init) cannot be read from outside the store.
    let serverReader = try BenchDatabase.readOnly(path: serverDatabase)
    let serverJournalMode = try await serverReader.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?" }
    progress(
      "\(label): SQLite \(pragmas.2); server database journal_mode=\(serverJournalMode) (synchronous=FULL is set and checked by BanjieStore); ceiling database journal_mode=\(pragmas.0) synchronous=\(pragmas.1) (2 = FULL)"
    )
    return (ceilingPool, serverReader, pragmas.2)
  }
}

/// Runs blocking work (opening a store, which migrates) on a thread of its own, off the
/// cooperative pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
  }
}

/// A client transport to the benchmark's server on 127.0.0.1:`port`, presenting `certificate`
/// and trusting only `caFile`.
func benchClientTransport(
  port: Int, certificate: (certificateFile: String, privateKeyFile: String, serialNumber: String), caFile: String
) throws -> BanjieClientTransport {
  var config = BanjieClientTransport.Config(
    host: "127.0.0.1", port: port,
    tls: try TLSContext(
      configuration: .client(
        certificateChainFile: certificate.certificateFile, privateKeyFile: certificate.privateKeyFile, trustRootsFile: caFile)))
  config.logger = quietLogger("banjie.client")
  return BanjieClientTransport(config: config)
}
