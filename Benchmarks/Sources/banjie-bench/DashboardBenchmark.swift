import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import Logging
import Synchronization

/// The dashboard at scale (issue 7): one month's summary and by-department breakdown on a seeded
/// year of 10,000 cases and of 1,000,000 cases, read from the aggregates, against the peer that
/// reads the period's cases themselves (the query the dashboard used before the aggregates), in
/// the same run on the same files. Also: GetDashboard over the real server and TLS, and how long
/// a watcher waits for a case turning red, on the large file.
struct DashboardBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dashboard",
    abstract: "Dashboard time at 10k vs 1M cases (aggregates vs a period scan), GetDashboard over TLS, and watch latency."
  )

  @Option(help: "Cases in the small database.") var small: Int = 10_000
  @Option(help: "Cases in the large database.") var large: Int = 1_000_000
  @Option(help: "Directory the seeded databases are kept in (reused when present).") var directory: String =
    FileManager.default.temporaryDirectory.path + "/banjie-bench-dashboard"
  @Option(help: "Timed calls per measurement.") var iterations: Int = 200
  @Option(help: "The month measured.") var month: String = "2026-10"
  @Option(help: "Case colour changes a watcher is timed on.") var watches: Int = 20
  @Option(help: "The catalog to import (default: catalog/sample-county.json of the root package).") var catalog: String?
  @Option(
    help: """
      Also measure on PostgreSQL: a cluster URL whose user may create databases. Each seeded file is copied once \
      (migrate-store) into a database of its own, bench_dashboard_<cases>, reused when present.
      """) var postgres: String?

  static let until = Date(timeIntervalSince1970: 1_795_771_800)  // 2026-11-27 17:30 Asia/Shanghai

  func run() async throws {
    try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    let catalogPath = self.catalog ?? BenchServer.sampleCatalog
    let catalogJSON = try String(contentsOfFile: catalogPath, encoding: .utf8)
    let parts = self.month.split(separator: "-").compactMap { Int($0) }
    guard parts.count == 2 else { throw ValidationError("--month must be YYYY-MM") }
    let from = try LocalDate(year: parts[0], month: parts[1], day: 1)
    let to = try LocalDate(year: parts[0], month: parts[1], day: LocalDate.daysIn(month: parts[1], year: parts[0]))

    var rows: [[String]] = []
    var medians: [String: [Int: UInt64]] = [:]
    for size in [self.small, self.large] {
      let path = "\(self.directory)/year-\(size).sqlite"
      if !FileManager.default.fileExists(atPath: path) {
        progress("dashboard: seeding \(size) cases into \(path) ...")
        let start = ContinuousClock.now
        let summary = try await Seeding.run(
          databasePath: path, catalogJSON: catalogJSON, options: SeedOptions(cases: size, until: Self.until, seed: 1)
        ) { _, _ in }
        progress(
          "dashboard: seeded \(summary.cases) cases, \(summary.ratings) ratings, \(summary.visits) visits in \(ContinuousClock.now - start)"
        )
      }
      let store = try BanjieStore(path: path)
      let clock = try await ServerEnvironment(store: store).sla
      let fileMB = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_048_576
      // The benchmark's own read-only connection to the file, for its count and for the peer
      // (the store's pool is closed to callers).
      let reader = try BenchDatabase.readOnly(path: store.path)
      let monthCases = try await reader.read { db in
        try Int.fetchOne(
          db, sql: "SELECT COUNT(*) FROM cases WHERE received_day BETWEEN ? AND ?", arguments: [from.description, to.description]) ?? 0
      }
      let measures: [(String, () async throws -> Void)] = [
        (
          "summary (aggregates)",
          { _ = try await store.dashboard(from: from, to: to, department: nil, by: nil, clock: clock, now: Self.until) }
        ),
        (
          "by department (aggregates)",
          { _ = try await store.dashboard(from: from, to: to, department: nil, by: .department, clock: clock, now: Self.until) }
        ),
        ("summary (peer: period scan)", { _ = try await PeriodScan.summary(reader, from: from, to: to, clock: clock) }),
      ]
      var engines = measures
      if let postgres = self.postgres {
        let store = try await Self.postgresCopy(of: path, cases: size, cluster: postgres)
        let clock = try await ServerEnvironment(store: store).sla
        engines += [
          (
            "summary (aggregates, PostgreSQL)",
            { _ = try await store.dashboard(from: from, to: to, department: nil, by: nil, clock: clock, now: Self.until) }
          ),
          (
            "by department (aggregates, PostgreSQL)",
            { _ = try await store.dashboard(from: from, to: to, department: nil, by: .department, clock: clock, now: Self.until) }
          ),
        ]
      }
      for (name, body) in engines {
        let iterations = name.contains("peer") ? max(3, self.iterations / 20) : self.iterations
        for _ in 0..<min(5, iterations) { try await body() }
        var samples: [UInt64] = []
        for _ in 0..<iterations {
          let t0 = DispatchTime.now().uptimeNanoseconds
          try await body()
          samples.append(DispatchTime.now().uptimeNanoseconds - t0)
        }
        let p = Percentiles(samples)
        medians[name, default: [:]][size] = p.value(50)
        rows.append([
          name, String(size), String(monthCases), String(format: "%.0f", fileMB), formatMicros(p.value(50)), formatMicros(p.value(99)),
          String(iterations),
        ])
      }
    }
    print("One month (\(self.month)) of a seeded county year; times per call in the store, µs")
    printTable(["measure", "cases", "month's cases", "file MB", "p50 µs", "p99 µs", "calls"], rows)
    print("")
    var ratios: [[String]] = []
    for name in [
      "summary (aggregates)", "by department (aggregates)", "summary (peer: period scan)", "summary (aggregates, PostgreSQL)",
      "by department (aggregates, PostgreSQL)",
    ] {
      if let a = medians[name]?[self.small], let b = medians[name]?[self.large], a > 0 {
        ratios.append([name, String(format: "%.2f×", Double(b) / Double(a))])
      }
    }
    print("p50 at \(self.large) cases / p50 at \(self.small) cases")
    printTable(["measure", "ratio"], ratios)
    print("")
    try await self.overTLS(path: "\(self.directory)/year-\(self.large).sqlite", from: from, to: to)
  }

  /// The PostgreSQL copy of a seeded file: database bench_dashboard_<cases> of `cluster`, made
  /// with migrate-store when it does not exist yet (it is kept for the next run).
  static func postgresCopy(of path: String, cases: Int, cluster: String) async throws -> BanjieStore {
    let tools = try PostgresTools(directory: nil)
    let name = "bench_dashboard_\(cases)"
    guard let slash = cluster.lastIndex(of: "/") else { throw ValidationError("--postgres must be a postgres:// URL") }
    let url = String(cluster[..<slash]) + "/" + name
    let exists = try await tools.psql(cluster, "SELECT count(*) FROM pg_database WHERE datname = '\(name)'")
    if exists.trimmingCharacters(in: .whitespacesAndNewlines) == "0" {
      _ = try await tools.psql(cluster, "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
      progress("dashboard: copying \(path) into PostgreSQL database \(name) (migrate-store) ...")
      let start = ContinuousClock.now
      do {
        let report = try await StoreMigration.migrate(fromSQLite: path, toPostgres: url)
        progress("dashboard: copied \(report.totalRows) rows in \(ContinuousClock.now - start)")
      } catch {
        _ = try? await tools.psql(cluster, "DROP DATABASE IF EXISTS \(name)")
        throw error
      }
    }
    return try await onOwnThread { try BanjieStore.open(url) }
  }

  /// GetDashboard through the assembled server and mutual TLS, and the wait of a watcher for a
  /// case turning red (sweeper pass to update received), on the large database (a copy, so the
  /// seeded file is left as it was).
  func overTLS(path: String, from: LocalDate, to: LocalDate) async throws {
    let base = self.directory + "/tls-\(getpid())"
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: base) }
    let copy = base + "/banjie.sqlite"
    let source = try BanjieStore(path: path)
    try await source.backup(to: copy, actor: Actor(role: .system, organization: "bench", person: "banjie-bench"), now: Self.until)
    let ca = try CertificateAuthority.create(directory: base + "/ca")
    let server = try ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    let office = try ca.issueClientCertificate(role: .office, organization: "YSB", person: "李明")
    let clerk = try ca.issueClientCertificate(role: .clerk, organization: "SCJGJ", person: "张伟")
    var configuration = ServerConfiguration()
    configuration.port = 0
    configuration.databasePath = copy
    configuration.certificateFile = server.certificateFile
    configuration.privateKeyFile = server.privateKeyFile
    configuration.clientCAFile = ca.certificateFile
    configuration.logLevel = .warning
    let clock = BenchNow(Self.until)
    let assembly = try await BanjieServerApp(configuration: configuration, logger: quietLogger("banjied")).assemble(now: clock)
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await assembly.server.serve() }
      guard let port = await assembly.transport.listeningAddress?.port else {
        throw RPCError(code: .internalError, message: "server did not start")
      }
      func transport(_ cert: (certificateFile: String, privateKeyFile: String, serialNumber: String)) throws -> BanjieClientTransport {
        try benchClientTransport(port: port, certificate: cert, caFile: ca.certificateFile)
      }
      try await withGRPCClient(transport: try transport(office)) { client in
        let dashboard = Banjie_V1_DashboardService.Client(wrapping: client)
        var rows: [[String]] = []
        for by in ["", "department"] {
          let request = Banjie_V1_DashboardRequest.with {
            $0.from = from.description
            $0.to = to.description
            $0.by = by
          }
          for _ in 0..<5 { _ = try await dashboard.getDashboard(request) }
          var samples: [UInt64] = []
          for _ in 0..<self.iterations {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await dashboard.getDashboard(request)
            samples.append(DispatchTime.now().uptimeNanoseconds - t0)
          }
          let p = Percentiles(samples)
          rows.append(["GetDashboard" + (by.isEmpty ? "" : " by \(by)"), formatMicros(p.value(50)), formatMicros(p.value(99))])
        }
        print("Over mutual TLS on 127.0.0.1, one connection, the \(self.large)-case database")
        printTable(["call", "p50 µs", "p99 µs"], rows)
        print("")

        // Watch: a fresh case is accepted now; the clock moves past its deadline; one quick
        // sweeper pass (the one that runs every second) marks it red; the time from the start of that pass to the watcher's update.
        try await withGRPCClient(transport: try transport(clerk)) { clerkClient in
          let caseService = Banjie_V1_CaseService.Client(wrapping: clerkClient)
          let today = clock.now
          let request = Banjie_V1_DashboardRequest.with {
            let day = assembly.environment.sla.calendar.localDate(of: today)
            $0.from = "\(day.year)-\(String(format: "%02d", day.month))-01"
            $0.to = day.description
          }
          try await dashboard.watchDashboard(request) { response in
            var iterator = response.messages.makeAsyncIterator()
            guard var latest = try await iterator.next() else { return }
            var waits: [UInt64] = []
            var sweeps: [UInt64] = []
            for _ in 0..<self.watches {
              let n = try await caseService.submitCase(
                .with {
                  $0.itemCode = "SCJGJ-002"
                  $0.applicant = "王小二"
                  $0.window = "A03"
                }
              ).number
              let accepted = try await caseService.acceptCase(.with { $0.number = n })
              while let next = try await iterator.next() {
                latest = next
                if next.summary.accepted > 0 && next.computedAt.date >= clock.now { break }
              }
              let red = latest.summary.openRed
              clock.set(accepted.sla.dueAt.date.addingTimeInterval(1))
              let t0 = DispatchTime.now().uptimeNanoseconds
              try await assembly.environment.sweep(full: false)
              let t1 = DispatchTime.now().uptimeNanoseconds
              while let next = try await iterator.next() {
                latest = next
                if next.summary.openRed > red { break }
              }
              waits.append(DispatchTime.now().uptimeNanoseconds - t0)
              sweeps.append(t1 - t0)
            }
            let w = Percentiles(waits)
            let s = Percentiles(sweeps)
            print("Watch: a case turning red, \(self.watches) times, on the \(self.large)-case database (ms)")
            printTable(
              ["measure", "p50 ms", "max ms"],
              [
                [
                  "quick sweeper pass", String(format: "%.1f", Double(s.value(50)) / 1e6),
                  String(format: "%.1f", Double(s.value(100)) / 1e6),
                ],
                [
                  "pass start to watcher's update", String(format: "%.1f", Double(w.value(50)) / 1e6),
                  String(format: "%.1f", Double(w.value(100)) / 1e6),
                ],
              ])
          }
        }
      }
      assembly.server.beginGracefulShutdown()
      try await group.waitForAll()
    }
  }
}

/// A settable clock for the watch measurement.
final class BenchNow: NowProvider, Sendable {
  private let value: Mutex<Date>
  init(_ start: Date) { self.value = Mutex(start) }
  var now: Date { self.value.withLock { $0 } }
  func set(_ date: Date) { self.value.withLock { $0 = date } }
}

/// The peer: the period's figures read from the cases themselves, as the dashboard did before it
/// kept aggregates (the same query, without the per-case colour work, which only favours it),
/// through the benchmark's own read-only connection to the store's file.
enum PeriodScan {
  static func summary(_ reader: DatabaseQueue, from: LocalDate, to: LocalDate, clock: SLAClock) async throws -> (Int, Int, Int, Int) {
    let midnight = try TimeOfDay(hour: 0)
    let start = clock.calendar.date(from, at: midnight)
    let end = clock.calendar.date(to.adding(days: 1), at: midnight)
    return try await reader.read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT c.department_code, c.state, c.received_at, c.accepted_at, c.completed_at, c.due_at
          FROM cases c LEFT JOIN enterprises e ON e.uscc = c.enterprise_uscc
          WHERE ((c.received_at >= ?1 AND c.received_at < ?2) OR (c.accepted_at >= ?1 AND c.accepted_at < ?2)
            OR (c.completed_at >= ?1 AND c.completed_at < ?2) OR c.state IN ('ACCEPTED', 'SUSPENDED'))
          """, arguments: [start, end])
      var received = 0
      var accepted = 0
      var completed = 0
      var onTime = 0
      while let row = try rows.next() {
        let receivedAt: Date = row[2]
        if receivedAt >= start && receivedAt < end { received += 1 }
        if let acceptedAt: Date = row[3], acceptedAt >= start && acceptedAt < end { accepted += 1 }
        if let completedAt: Date = row[4], completedAt >= start && completedAt < end {
          completed += 1
          if let due: Date = row[5], completedAt <= due { onTime += 1 }
          _ = clock.isOneDayCompletion(acceptedAt: row[3] ?? receivedAt, completedAt: completedAt, dueAt: row[5])
          _ = clock.calendar.workingSeconds(from: row[3] ?? receivedAt, to: completedAt)
        }
      }
      return (received, accepted, completed, onTime)
    }
  }
}
