import ArgumentParser
import BanjieProto
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore

/// SubmitCase on PostgreSQL (issue 17; docs/PERFORMANCE.md, "SubmitCase on PostgreSQL"): the
/// assembled banjied in child processes, one node on one database and two nodes sharing another,
/// against what the same cluster commits with pgbench's own single-row inserts, in the same run,
/// interleaved round by round.
struct PostgresSubmitBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pg-submit",
    abstract: "SubmitCase on PostgreSQL with one and two banjied nodes vs pgbench's single-row insert rate on the same cluster.",
    discussion: """
      The cluster is given by --postgres: a URL whose user may create databases, e.g. the one \
      `scripts/postgres-cluster.sh start DIR` writes to DIR/url. The benchmark creates its databases \
      there and drops them at the end.
      """
  )

  @Option(help: "The cluster: postgres://USER@HOST:PORT/DATABASE (a user that may create databases).") var postgres: String
  @Option(help: "Measured seconds per turn.") var seconds: Double = 10
  @Option(help: "Warm-up seconds before each turn (not recorded).") var warmup: Double = 2
  @Option(help: "How many times each side is measured (interleaved).") var rounds: Int = 2
  @Option(help: "Concurrent SubmitCase callers (and pgbench clients).") var concurrency: Int = 64
  @Option(help: "The catalog to import (default: catalog/sample-county.json of the root package).") var catalog: String?
  @Option(help: "Service item to submit cases for (the clerk is from SCJGJ).") var item: String = "SCJGJ-002"
  @Option(help: "The directory holding psql and pgbench (default: PATH, then /usr/lib/postgresql/*/bin).") var postgresBin: String?

  func run() async throws {
    raiseOpenFileLimit()
    let tools = try PostgresTools(directory: self.postgresBin)
    let cluster = try PostgresLocation(url: self.postgres)
    let base = FileManager.default.temporaryDirectory.path + "/banjie-bench-pg-submit-\(getpid())"
    try? FileManager.default.removeItem(atPath: base)
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: base) }

    // One database per configuration, and one for pgbench's table.
    let names = ["bench_one_node_\(getpid())", "bench_two_nodes_\(getpid())", "bench_pgbench_\(getpid())"]
    for name in names {
      _ = try await tools.psql(
        self.postgres, "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    }
    defer {
      for name in names { _ = try? tools.psqlBlocking(self.postgres, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }
    // The cluster's URL with another database (its last path component).
    func url(_ database: String) -> String {
      guard let slash = self.postgres.lastIndex(of: "/") else { return self.postgres }
      return String(self.postgres[..<slash]) + "/" + database
    }
    let oneNodeURL = url(names[0])
    let twoNodesURL = url(names[1])
    let pgbenchURL = url(names[2])
    _ = try await tools.psql(pgbenchURL, PgbenchCeiling.createTable)
    let script = base + "/insert.sql"
    try PgbenchCeiling.script.write(toFile: script, atomically: true, encoding: .utf8)
    let version = (try? await tools.psql(pgbenchURL, "SHOW server_version"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    let durability =
      (try? await tools.psql(pgbenchURL, "SELECT current_setting('fsync') || '/' || current_setting('synchronous_commit')"))?
      .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"

    let ca = try CertificateAuthority.create(directory: base + "/ca")
    let serverCertificate = try ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    let office = try ca.issueClientCertificate(role: .office, organization: "YSB", person: "李明")
    let clerk = try ca.issueClientCertificate(role: .clerk, organization: "SCJGJ", person: "张伟")
    let catalogRequest = try Banjie_V1_ImportCatalogRequest(
      jsonString: String(contentsOfFile: self.catalog ?? BenchServer.sampleCatalog, encoding: .utf8))

    // Three banjied children: one node alone on its database, two sharing the other.
    let one = try await ServerProcess.startBanjied(base: base, caFile: ca.certificateFile, server: serverCertificate, database: oneNodeURL)
    let twoA = try await ServerProcess.startBanjied(
      base: base, caFile: ca.certificateFile, server: serverCertificate, database: twoNodesURL)
    let twoB = try await ServerProcess.startBanjied(
      base: base, caFile: ca.certificateFile, server: serverCertificate, database: twoNodesURL)
    let children = [one, twoA, twoB]
    defer { for child in children { child.stop() } }
    progress(
      "pg-submit: PostgreSQL \(version) (fsync/synchronous_commit \(durability)) at \(cluster); \(self.concurrency) callers; \(self.rounds) round(s) x \(self.seconds) s after \(self.warmup) s warm-up; banjied children \(children.map { "\($0.pid)" }.joined(separator: ", "))"
    )

    func transport(_ port: Int, _ cert: (certificateFile: String, privateKeyFile: String, serialNumber: String)) throws
      -> BanjieClientTransport
    { try benchClientTransport(port: port, certificate: cert, caFile: ca.certificateFile) }
    for child in [one, twoA] {
      _ = try await withGRPCClient(transport: try transport(child.port, office)) { client in
        try await Banjie_V1_CatalogService.Client(wrapping: client).importCatalog(catalogRequest)
      }
    }
    let clients = try children.map { GRPCClient(transport: try transport($0.port, clerk)) }
    let warmup = Duration.milliseconds(Int(self.warmup * 1000))
    let measured = Duration.milliseconds(Int(self.seconds * 1000))

    let results = try await withThrowingTaskGroup(of: Void.self) { group in
      for client in clients { group.addTask { try await client.runConnections() } }
      defer { for client in clients { client.beginGracefulShutdown() } }
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
      var oneNode: [Sample] = []
      var twoNodes: [Sample] = []
      var pgbench: [Sample] = []
      var pgbenchSingle: [Sample] = []
      for round in 1...max(1, self.rounds) {
        _ = try await tools.pgbench(pgbenchURL, script: script, clients: self.concurrency, seconds: self.warmup)
        let ceiling = try await tools.pgbench(pgbenchURL, script: script, clients: self.concurrency, seconds: self.seconds)
        progress(
          String(format: "  round %d, pgbench single-row insert, %d clients: %7.0f rows/s", round, self.concurrency, ceiling.callsPerSecond)
        )
        pgbench.append(ceiling)

        for (label, nodes) in [("1 node", [0]), ("2 nodes", [1, 2])] {
          let chosen = nodes.map { services[$0] }
          _ = await runSubmitLoad(services: chosen, request: request, keys: keys, concurrency: self.concurrency, duration: warmup)
          let sample = await Sample.measured(serverCPU: { nodes.reduce(0.0) { $0 + (children[$1].cpuSeconds ?? 0) } }) {
            await runSubmitLoad(services: chosen, request: request, keys: keys, concurrency: self.concurrency, duration: measured)
          }
          progress(
            String(
              format: "  round %d, SubmitCase on %@ (%d callers): %7.0f cases/s, %@%@", round, label, self.concurrency,
              sample.callsPerSecond, sample.percentiles, sample.errors > 0 ? ", \(sample.errors) errors (\(sample.firstError ?? ""))" : ""))
          if nodes.count == 1 { oneNode.append(sample) } else { twoNodes.append(sample) }
        }

        let single = try await tools.pgbench(pgbenchURL, script: script, clients: 1, seconds: self.seconds)
        progress(String(format: "  round %d, pgbench single-row insert, 1 client: %7.0f rows/s", round, single.callsPerSecond))
        pgbenchSingle.append(single)
      }
      return (oneNode, twoNodes, pgbench, pgbenchSingle)
    }
    let (oneNode, twoNodes, pgbench, pgbenchSingle) = results
    for child in children { await child.stopAndWait() }

    // What the nodes stored: every case, and an audit chain that verifies.
    var stored: [String] = []
    for (label, databaseURL) in [("1 node", oneNodeURL), ("2 nodes", twoNodesURL)] {
      let store = try await onOwnThread { try BanjieStore.open(databaseURL) }
      let verification = try await store.verifyAudit()
      let cases = try await tools.psql(databaseURL, "SELECT count(*) FROM cases").trimmingCharacters(in: .whitespacesAndNewlines)
      try await onOwnThread { store.close() }
      stored.append(
        "\(label): \(cases) cases; "
          + (verification.ok ? "audit chain intact (\(verification.rows) rows)" : "AUDIT CHAIN BROKEN: \(verification.reason)"))
    }

    func total(_ samples: [Sample]) -> (rate: Double, p: Percentiles, cpu: Double, errors: Int, perRound: String) {
      let completed = samples.reduce(0) { $0 + $1.completed }
      let seconds = samples.reduce(0.0) { $0 + $1.seconds }
      return (
        seconds > 0 ? Double(completed) / seconds : 0, Percentiles(samples.flatMap(\.latencies)),
        samples.reduce(0.0) { $0 + $1.serverCPU } / Double(max(1, completed)) * 1e6, samples.reduce(0) { $0 + $1.errors },
        samples.map { String(format: "%.0f", $0.callsPerSecond) }.joined(separator: "/")
      )
    }
    let one1 = total(oneNode)
    let two2 = total(twoNodes)
    let bench = total(pgbench)
    let single = total(pgbenchSingle)
    print("")
    print("SubmitCase on PostgreSQL \(version) (fsync/synchronous_commit \(durability)), \(self.concurrency) concurrent callers;")
    print(
      "each node a banjied child process with one mutual-TLS connection from the callers; \(self.rounds) interleaved round(s) of \(self.seconds) s."
    )
    print("pgbench: `pgbench -n -M prepared -f insert.sql`, one `cases`-shaped row per transaction, same cluster. Latencies in µs.")
    print("")
    func row(_ what: String, _ t: (rate: Double, p: Percentiles, cpu: Double, errors: Int, perRound: String), cpu: Bool) -> [String] {
      let latencies =
        t.p.sorted.isEmpty
        ? ["-", "-", "-"] : [formatMicros(t.p.value(50)), formatMicros(t.p.value(99)), formatMicros(t.p.value(99.9))]
      return [what, String(format: "%.0f", t.rate), t.perRound] + latencies + [cpu ? String(format: "%.0f", t.cpu) : "-", "\(t.errors)"]
    }
    printTable(
      ["what", "per second", "per round", "p50", "p99", "p99.9", "banjied CPU µs/case", "errors"],
      [
        row("SubmitCase, 1 node (cases/s)", one1, cpu: true),
        row("SubmitCase, 2 nodes on one database (cases/s)", two2, cpu: true),
        row("pgbench single-row insert, \(self.concurrency) clients (rows/s)", bench, cpu: false),
        row("pgbench single-row insert, 1 client (rows/s)", single, cpu: false),
      ])
    print("")
    print(String(format: "SubmitCase, 1 node / pgbench %d clients:  %.2f×", self.concurrency, bench.rate > 0 ? one1.rate / bench.rate : 0))
    print(String(format: "SubmitCase, 2 nodes / pgbench %d clients: %.2f×", self.concurrency, bench.rate > 0 ? two2.rate / bench.rate : 0))
    print(String(format: "SubmitCase, 1 node / pgbench 1 client:    %.2f×", single.rate > 0 ? one1.rate / single.rate : 0))
    for line in stored { print(line) }
  }
}

/// pgbench's side: one `cases`-shaped row per transaction, as the SQLite ceiling of `submit`
/// inserts (Ceiling), numbered from a sequence.
enum PgbenchCeiling {
  static let createTable = """
    CREATE SEQUENCE ceiling_number;
    CREATE TABLE ceiling_cases (
      id BIGSERIAL PRIMARY KEY,
      number TEXT NOT NULL UNIQUE,
      item_code TEXT NOT NULL,
      department_code TEXT NOT NULL,
      "window" TEXT NOT NULL,
      applicant TEXT NOT NULL,
      state TEXT NOT NULL,
      version BIGINT NOT NULL,
      received_at TEXT NOT NULL,
      received_day TEXT NOT NULL,
      intake_due_at TEXT,
      limit_value BIGINT NOT NULL,
      limit_unit TEXT NOT NULL,
      received_by TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      last_note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX ceiling_cases_department_state ON ceiling_cases(department_code, state);
    CREATE INDEX ceiling_cases_received_day ON ceiling_cases(received_day);
    """

  static let script = """
    INSERT INTO ceiling_cases (number, item_code, department_code, "window", applicant, state, version, received_at, received_day, intake_due_at, limit_value, limit_unit, received_by, updated_at, last_note) VALUES ('370830-20261130-' || lpad(nextval('ceiling_number')::text, 8, '0'), 'SCJGJ-002', 'SCJGJ', 'A03', '王小二', 'received', 1, '2026-11-30T01:00:00.000Z', '2026-11-30', '2026-12-07T09:00:00.000Z', 1, 'working_days', '张伟 (SCJGJ)', '2026-11-30T01:00:00.000Z', 'benchmark');

    """
}

/// psql and pgbench of the installed PostgreSQL, run as child processes off the cooperative pool.
struct PostgresTools: Sendable {
  let psqlPath: String
  let pgbenchPath: String

  init(directory: String?) throws {
    func find(_ tool: String) -> String? {
      if let directory { return "\(directory)/\(tool)" }
      for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        if FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") { return "\(dir)/\(tool)" }
      }
      let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
      for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
        let path = "/usr/lib/postgresql/\(version)/bin/\(tool)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
      }
      return nil
    }
    guard let psql = find("psql"), let pgbench = find("pgbench") else {
      throw ValidationError("psql and pgbench not found: install Debian's postgresql package, or give --postgres-bin")
    }
    self.psqlPath = psql
    self.pgbenchPath = pgbench
  }

  func psql(_ url: String, _ sql: String) async throws -> String {
    try await onOwnThread { try self.psqlBlocking(url, sql) }
  }

  func psqlBlocking(_ url: String, _ sql: String) throws -> String {
    try Self.run(self.psqlPath, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
  }

  /// pgbench for `seconds` with `clients` connections; its transactions per second as a sample
  /// (rows per second: one row per transaction) with no latencies of its own.
  func pgbench(_ url: String, script: String, clients: Int, seconds: Double) async throws -> Sample {
    let whole = max(1, Int(seconds.rounded()))
    let output = try await onOwnThread {
      try Self.run(
        self.pgbenchPath, ["-n", "-M", "prepared", "-f", script, "-c", "\(clients)", "-j", "\(min(clients, 2))", "-T", "\(whole)", url])
    }
    // "tps = 1234.567890 (without initial connection time)"
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
      let tps = Double(line.dropFirst("tps = ".count).prefix(while: { $0 != " " }))
    else { throw ValidationError("pgbench printed no rate: \(output.suffix(300))") }
    var sample = Sample()
    sample.seconds = Double(whole)
    sample.completed = Int((tps * Double(whole)).rounded())
    return sample
  }

  /// Runs on a thread of its own (onOwnThread), whose signal mask the child inherits: pgbench
  /// ends its `-T` run on SIGALRM, which this process's threads may block, so it is unblocked
  /// here first (on this thread only).
  private static func run(_ tool: String, _ arguments: [String]) throws -> String {
    var alarm = sigset_t()
    sigemptyset(&alarm)
    sigaddset(&alarm, SIGALRM)
    pthread_sigmask(SIG_UNBLOCK, &alarm, nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw ValidationError("\((tool as NSString).lastPathComponent) exited with \(process.terminationStatus): \(text.suffix(400))")
    }
    return text
  }
}
