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

/// SubmitCase through the real, assembled server (in this process, on 127.0.0.1 port 0, over
/// mutual TLS) with many callers at once, against what SQLite itself can commit with the same
/// durability: one comparable row per transaction, WAL and synchronous=FULL, measured in the same
/// run in a database of its own, opened with the configuration banjied opens its own with.
struct SubmitBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "submit",
    abstract: "SubmitCase throughput and latency under concurrent callers vs SQLite's one-row-per-transaction ceiling."
  )

  @Option(help: "Measured seconds per turn.") var seconds: Double = 10
  @Option(help: "Warm-up seconds before each turn (not recorded).") var warmup: Double = 2
  @Option(help: "How many times each side is measured (interleaved: ceiling, SubmitCase, ceiling, ...).") var rounds: Int = 2
  @Option(help: "Concurrent SubmitCase callers.") var concurrency: Int = 64
  @Option(help: "Client connections the callers are spread over.") var connections: Int = 1
  @Option(help: "Directory for the databases (default: the temporary directory; same file system for both).") var directory: String?
  @Option(help: "The catalog to import (default: catalog/sample-county.json of the root package).") var catalog: String?
  @Option(help: "Service item to submit cases for (the clerk is from SCJGJ).") var item: String = "SCJGJ-002"
  @Option(help: "Rows per transaction for the batched SQLite row (what group commit could reach); 0 to skip.") var batch: Int = 64
  @Flag(
    help: """
      Run banjied in a child process (its CPU time then is its own) and measure banjie's echo call at the same number of \
      calls in flight in each round, against a second child: the bare RPC with the same transport, TLS and cores.
      """) var serverInChild = false

  func run() async throws {
    raiseOpenFileLimit()
    let base = (self.directory ?? FileManager.default.temporaryDirectory.path) + "/banjie-bench-submit-\(getpid())"
    try? FileManager.default.removeItem(atPath: base)
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: base) }

    let ca = try CertificateAuthority.create(directory: base + "/ca")
    let server = try ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    let office = try ca.issueClientCertificate(role: .office, organization: "YSB", person: "李明")
    let clerk = try ca.issueClientCertificate(role: .clerk, organization: "SCJGJ", person: "张伟")
    let catalogPath = self.catalog ?? BenchServer.sampleCatalog

    // The server: in this process, or (--server-in-child) in a child of its own, with the echo
    // server beside it.
    let assembly: BanjieServerApp.Assembly?
    let child: ServerProcess?
    let echo: (server: ServerProcess, pki: BenchPKI)?
    if self.serverInChild {
      assembly = nil
      child = try await ServerProcess.startBanjied(base: base, caFile: ca.certificateFile, server: server)
      let pki = try BenchPKI.create()
      echo = (try await ServerProcess.start(.banjie, pki: pki), pki)
    } else {
      assembly = try await BenchServer.assemble(databasePath: base + "/banjie.sqlite", caFile: ca.certificateFile, server: server)
      child = nil
      echo = nil
    }
    defer {
      child?.stop()
      echo?.server.stop()
      if let pki = echo?.pki { try? FileManager.default.removeItem(atPath: pki.directory) }
    }
    let (ceilingPool, serverReader, sqliteVersion) = try await BenchServer.openCeiling(
      base: base, serverDatabase: base + "/banjie.sqlite", label: "submit")
    progress(
      "submit: \(self.concurrency) callers over \(self.connections) connection(s), \(self.rounds) round(s) x \(self.seconds) s after \(self.warmup) s warm-up; databases in \(base); server \(child.map { "in child process \($0.pid)" } ?? "in this process")"
    )

    let warmup = Duration.milliseconds(Int(self.warmup * 1000))
    let measured = Duration.milliseconds(Int(self.seconds * 1000))
    /// The server's CPU seconds so far: the child's, or this whole process's.
    func serverCPU() -> Double { (child.map { $0.cpuSeconds } ?? processCPUSeconds(pid: getpid())) ?? 0 }

    let (submitResults, ceilingResults, batchResults, echoResults) = try await withThrowingTaskGroup(of: Void.self) { group in
      let port: Int
      if let assembly {
        group.addTask { try await assembly.server.serve() }
        guard let listening = await assembly.transport.listeningAddress?.port else {
          throw RPCError(code: .internalError, message: "server did not start")
        }
        port = listening
      } else if let child {
        port = child.port
      } else {
        throw RPCError(code: .internalError, message: "no server")
      }
      func transport(_ cert: (certificateFile: String, privateKeyFile: String, serialNumber: String)) throws -> BanjieClientTransport {
        try benchClientTransport(port: port, certificate: cert, caFile: ca.certificateFile)
      }

      // The catalog, as the office imports it.
      let catalogRequest = try Banjie_V1_ImportCatalogRequest(jsonString: String(contentsOfFile: catalogPath, encoding: .utf8))
      _ = try await withGRPCClient(transport: try transport(office)) { client in
        try await Banjie_V1_CatalogService.Client(wrapping: client).importCatalog(catalogRequest)
      }

      // The clerk's connections, all open (one call each) before anything is timed.
      let clients = try (0..<max(1, self.connections)).map { _ in GRPCClient(transport: try transport(clerk)) }
      // The echo server's client (--server-in-child): one connection, as the clerk's.
      let echoClient: GRPCClient<BanjieClientTransport>? = try echo.map { echo in
        var config = BanjieClientTransport.Config(host: "127.0.0.1", port: echo.server.port, tls: try echo.pki.banjieClientContext())
        config.logger = quietLogger("banjie.client")
        return GRPCClient(transport: BanjieClientTransport(config: config))
      }
      let results: ([Sample], [Sample], [Sample], [Sample]) = try await withThrowingTaskGroup(of: Void.self) { connectionGroup in
        for client in clients { connectionGroup.addTask { try await client.runConnections() } }
        if let echoClient { connectionGroup.addTask { try await echoClient.runConnections() } }
        defer {
          for client in clients { client.beginGracefulShutdown() }
          echoClient?.beginGracefulShutdown()
        }
        let echoService = echoClient.map { Banjie_V1_EchoService.Client(wrapping: $0) }
        var echoRequest = Banjie_V1_EchoRequest()
        echoRequest.text = String(repeating: "a", count: 64)
        if let echoService { _ = try await echoService.get(echoRequest) }
        let services = clients.map { Banjie_V1_CaseService.Client(wrapping: $0) }
        let keys = Counter()
        let request = Banjie_V1_SubmitCaseRequest.with {
          $0.itemCode = self.item
          $0.applicant = "王小二"
          $0.window = "A03"
          $0.note = "benchmark"
        }
        for service in services {
          _ = try await service.submitCase(request, metadata: ["idempotency-key": "bench-open-\(keys.next())"])
        }

        var submits: [Sample] = []
        var ceilings: [Sample] = []
        var batches: [Sample] = []
        var echoes: [Sample] = []
        for round in 1...max(1, self.rounds) {
          _ = try await Ceiling.run(ceilingPool, rowsPerTransaction: 1, duration: warmup)
          let ceilingCPU0 = processCPUSeconds(pid: getpid()) ?? 0
          var ceiling = try await Ceiling.run(ceilingPool, rowsPerTransaction: 1, duration: measured)
          ceiling.serverCPU = (processCPUSeconds(pid: getpid()) ?? 0) - ceilingCPU0
          progress(
            String(
              format: "  round %d, SQLite ceiling (1 row/transaction, 1 writer): %7.0f rows/s, %@",
              round, ceiling.callsPerSecond, ceiling.percentiles))
          ceilings.append(ceiling)
          if self.batch > 1 {
            let cpu0 = processCPUSeconds(pid: getpid()) ?? 0
            var batched = try await Ceiling.run(ceilingPool, rowsPerTransaction: self.batch, duration: measured)
            batched.serverCPU = (processCPUSeconds(pid: getpid()) ?? 0) - cpu0
            progress(
              String(
                format: "  round %d, SQLite %d rows/transaction, 1 writer: %7.0f rows/s, %@ per transaction",
                round, self.batch, batched.callsPerSecond, batched.percentiles))
            batches.append(batched)
          }

          _ = await runSubmitLoad(services: services, request: request, keys: keys, concurrency: self.concurrency, duration: warmup)
          let commits0 = assembly?.environment.store.groupCommitFigures
          let sample = await Sample.measured(serverCPU: serverCPU) {
            await runSubmitLoad(services: services, request: request, keys: keys, concurrency: self.concurrency, duration: measured)
          }
          progress(
            String(
              format: "  round %d, SubmitCase (%d callers): %7.0f cases/s, %@%@",
              round, self.concurrency, sample.callsPerSecond, sample.percentiles,
              sample.errors > 0 ? ", \(sample.errors) errors (\(sample.firstError ?? ""))" : ""))
          if let commits0, let commits1 = assembly?.environment.store.groupCommitFigures {
            let batches = commits1.batches - commits0.batches
            progress(
              String(
                format: "  round %d, group commit: %d transactions, %.1f mutations per transaction on average, largest %d so far",
                round, batches, Double(commits1.mutations - commits0.mutations) / Double(max(1, batches)), commits1.largest))
          }
          submits.append(sample)

          if let echoService, let echoServer = echo?.server {
            _ = await runLoad(echo: echoService, request: echoRequest, concurrency: self.concurrency, duration: warmup)
            let echoed = await Sample.measured(serverCPU: { echoServer.cpuSeconds ?? 0 }) {
              await runLoad(echo: echoService, request: echoRequest, concurrency: self.concurrency, duration: measured)
            }
            progress(
              String(
                format: "  round %d, echo Get (%d in flight, banjie transport, server in a child): %7.0f calls/s, %@",
                round, self.concurrency, echoed.callsPerSecond, echoed.percentiles))
            echoes.append(echoed)
          }
        }
        return (submits, ceilings, batches, echoes)
      }
      assembly?.server.beginGracefulShutdown()
      try await group.waitForAll()
      return results
    }

    // The server's file once the server is done with it: every case and the audit chain.
    let cases = try await serverReader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM cases") ?? 0 }
    let verification: AuditLog.Verification
    if let assembly {
      verification = try await assembly.environment.store.verifyAudit()
    } else {
      await child?.stopAndWait()
      // Opening a store blocks (it migrates): on a thread of its own.
      let store = try await onOwnThread { try BanjieStore(path: base + "/banjie.sqlite") }
      verification = try await store.verifyAudit()
    }
    let audit = verification.ok ? "audit chain intact (\(verification.rows) rows)" : "AUDIT CHAIN BROKEN: \(verification.reason)"

    func total(_ samples: [Sample]) -> (
      rate: Double, p: Percentiles, errors: Int, cpuPerOp: Double, clientCPUPerOp: Double, perRound: String
    ) {
      let completed = samples.reduce(0) { $0 + $1.completed }
      let seconds = samples.reduce(0.0) { $0 + $1.seconds }
      let cpu = samples.reduce(0.0) { $0 + $1.serverCPU }
      let clientCPU = samples.reduce(0.0) { $0 + $1.clientCPU }
      return (
        seconds > 0 ? Double(completed) / seconds : 0, Percentiles(samples.flatMap(\.latencies)),
        samples.reduce(0) { $0 + $1.errors }, cpu / Double(max(1, completed)) * 1e6, clientCPU / Double(max(1, completed)) * 1e6,
        samples.map { String(format: "%.0f", $0.callsPerSecond) }.joined(separator: "/")
      )
    }
    let submit = total(submitResults)
    let ceiling = total(ceilingResults)
    let batched = total(batchResults)
    let echoed = total(echoResults)
    let inChild = child != nil

    print("")
    print(
      "SubmitCase with \(self.concurrency) concurrent callers over \(self.connections) mutual-TLS connection(s), server \(inChild ? "in a child process" : "in this process");"
    )
    print(
      "SQLite \(sqliteVersion), WAL, synchronous=FULL; \(self.rounds) interleaved round(s) of \(self.seconds) s (after \(self.warmup) s warm-up). Latencies in µs."
    )
    if inChild {
      print(
        "Server CPU: the child's (banjied's, or the echo server's); client CPU: this process's (the callers, their TLS, and the ceiling's own turns not included)."
      )
    } else {
      print("Process CPU: this whole process (server, callers and both TLS ends).")
    }
    print("")
    func row(
      _ what: String, _ t: (rate: Double, p: Percentiles, errors: Int, cpuPerOp: Double, clientCPUPerOp: Double, perRound: String),
      client: Bool
    )
      -> [String]
    {
      [
        what, String(format: "%.0f", t.rate), t.perRound, formatMicros(t.p.value(50)), formatMicros(t.p.value(90)),
        formatMicros(t.p.value(99)), formatMicros(t.p.value(99.9)), String(format: "%.0f", t.cpuPerOp),
      ] + (inChild ? [client ? String(format: "%.0f", t.clientCPUPerOp) : "-"] : []) + ["\(t.errors)"]
    }
    printTable(
      ["what", "per second", "per round", "p50", "p90", "p99", "p99.9", inChild ? "server CPU µs/op" : "process CPU µs/op"]
        + (inChild ? ["client CPU µs/op"] : []) + ["errors"],
      [row("SubmitCase, \(self.concurrency) callers (cases/s)", submit, client: true)]
        + (echoResults.isEmpty ? [] : [row("echo Get, \(self.concurrency) in flight (calls/s)", echoed, client: true)])
        + [row("SQLite 1 row/transaction, 1 writer (rows/s)", ceiling, client: false)]
        + (batchResults.isEmpty
          ? [] : [row("SQLite \(self.batch) rows/transaction, 1 writer (rows/s; latency per transaction)", batched, client: false)])
    )
    print("")
    print(
      String(
        format: "SubmitCase / ceiling: %.2f×   (%d cases in the server's database at the end; %@)",
        ceiling.rate > 0 ? submit.rate / ceiling.rate : 0, cases, audit))
    if !echoResults.isEmpty {
      print(String(format: "SubmitCase / echo at %d in flight: %.2f×", self.concurrency, echoed.rate > 0 ? submit.rate / echoed.rate : 0))
    }
  }
}

/// `concurrency` callers each submit cases back to back (each with a new idempotency key, as the
/// CLI sends one) until `duration` has passed; callers are spread round-robin over `services`.
func runSubmitLoad(
  services: [Banjie_V1_CaseService.Client<BanjieClientTransport>],
  request: Banjie_V1_SubmitCaseRequest,
  keys: Counter,
  concurrency: Int,
  duration: Duration
) async -> Sample {
  let clock = ContinuousClock()
  let end = clock.now + duration
  let partials = await withTaskGroup(of: Sample.self) { group in
    for caller in 0..<concurrency {
      let service = services[caller % services.count]
      group.addTask {
        var sample = Sample()
        sample.latencies.reserveCapacity(1 << 14)
        while true {
          let began = clock.now
          if began >= end { break }
          do {
            let key = "bench-\(keys.next())"
            _ = try await service.submitCase(request, metadata: ["idempotency-key": "\(key)"])
            let finished = clock.now
            if finished <= end {
              sample.completed += 1
              sample.latencies.append((finished - began).nanoseconds)
            }
          } catch {
            sample.errors += 1
            if sample.firstError == nil { sample.firstError = "\(error)" }
            if sample.errors > 1000 { break }
          }
        }
        return sample
      }
    }
    var all: [Sample] = []
    for await partial in group { all.append(partial) }
    return all
  }
  var total = Sample()
  for partial in partials {
    total.completed += partial.completed
    total.latencies += partial.latencies
    total.errors += partial.errors
    if total.firstError == nil { total.firstError = partial.firstError }
  }
  total.seconds = duration.secondsDouble
  return total
}

/// SQLite's ceiling for durable single-row commits: one writer inserting one `cases`-shaped row
/// per transaction, back to back, through a GRDB pool configured as banjied's
/// (BenchDatabase.pool). With more rows per transaction it shows what batching commits (group
/// commit) could reach.
enum Ceiling {
  static let createTable = """
    CREATE TABLE IF NOT EXISTS ceiling_cases (
      id INTEGER PRIMARY KEY,
      number TEXT NOT NULL UNIQUE,
      item_code TEXT NOT NULL,
      department_code TEXT NOT NULL,
      window TEXT NOT NULL,
      applicant TEXT NOT NULL,
      enterprise_uscc TEXT,
      state TEXT NOT NULL,
      outcome TEXT,
      version INTEGER NOT NULL,
      received_at TEXT NOT NULL,
      received_day TEXT NOT NULL,
      intake_due_at TEXT,
      accepted_at TEXT,
      deemed_accepted INTEGER NOT NULL DEFAULT 0,
      limit_value INTEGER NOT NULL,
      limit_unit TEXT NOT NULL,
      due_at TEXT,
      colour TEXT,
      suspended_since TEXT,
      completed_at TEXT,
      delivered_at TEXT,
      missing_materials TEXT NOT NULL DEFAULT '[]',
      last_note TEXT NOT NULL DEFAULT '',
      received_by TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ceiling_cases_department_state ON ceiling_cases(department_code, state);
    CREATE INDEX IF NOT EXISTS ceiling_cases_state_due ON ceiling_cases(state, due_at);
    CREATE INDEX IF NOT EXISTS ceiling_cases_received_day ON ceiling_cases(received_day);
    """

  static let sequence = Counter()

  /// Runs on a thread of its own: the loop blocks on every commit.
  static func run(_ pool: DatabasePool, rowsPerTransaction: Int, duration: Duration) async throws -> Sample {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(with: Result { try Self.runBlocking(pool, rowsPerTransaction: rowsPerTransaction, duration: duration) })
      }
    }
  }

  static func runBlocking(_ pool: DatabasePool, rowsPerTransaction: Int, duration: Duration) throws -> Sample {
    let clock = ContinuousClock()
    let end = clock.now + duration
    var sample = Sample()
    sample.latencies.reserveCapacity(1 << 16)
    let now = Date()
    while true {
      let began = clock.now
      if began >= end { break }
      try pool.write { db in
        let statement = try db.cachedStatement(
          sql: """
            INSERT INTO ceiling_cases (number, item_code, department_code, window, applicant, state, version, received_at,
              received_day, intake_due_at, limit_value, limit_unit, received_by, updated_at, last_note)
            VALUES (?, 'SCJGJ-002', 'SCJGJ', 'A03', '王小二', 'received', 1, ?, '2026-11-30', ?, 1, 'working_days', '张伟 (SCJGJ)', ?, 'benchmark')
            """)
        for _ in 0..<rowsPerTransaction {
          let n = Self.sequence.next()
          try statement.execute(arguments: ["370830-20261130-\(String(format: "%08d", n))", now, now, now])
        }
      }
      let finished = clock.now
      if finished <= end {
        // Rows per second, latency per transaction.
        sample.completed += rowsPerTransaction
        sample.latencies.append((finished - began).nanoseconds)
      }
    }
    sample.seconds = duration.secondsDouble
    return sample
  }
}

/// A shared counter for idempotency keys and case numbers.
final class Counter: Sendable {
  private let value = Atomic<Int>(0)
  func next() -> Int { self.value.add(1, ordering: .relaxed).newValue }
}
