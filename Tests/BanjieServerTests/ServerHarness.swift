import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore
import Logging
import Prometheus
import Synchronization

/// A clock the test moves by hand.
final class ManualNow: NowProvider, Sendable {
  private let value: Mutex<Date>
  init(_ start: Date) { self.value = Mutex(start) }
  var now: Date { self.value.withLock { $0 } }
  func set(_ date: Date) { self.value.withLock { $0 = date } }
  func advance(seconds: TimeInterval) { self.value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Shanghai local time as a Date.
func shanghai(_ text: String) -> Date {
  let formatter = ISO8601DateFormatter()
  formatter.formatOptions = [.withInternetDateTime]
  guard let date = formatter.date(from: text + "+08:00") else { fatalError("bad test time \(text)") }
  return date
}

/// Certificates for every role, made once per run.
final class ServerPKI: Sendable {
  static let shared: ServerPKI = {
    do { return try ServerPKI() } catch { fatalError("cannot make test certificates: \(error)") }
  }()

  let directory: String
  let ca: CertificateAuthority
  let server: (certificateFile: String, privateKeyFile: String)
  private let issued: Mutex<[String: (String, String)]> = Mutex([:])

  init() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-server-tests-\(getpid())").path
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    self.directory = dir
    self.ca = try CertificateAuthority.create(directory: dir + "/ca")
    self.server = try self.ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
  }

  func client(_ role: PeerIdentity.Role, _ org: String, _ person: String) throws -> (String, String) {
    let key = "\(role.rawValue)|\(org)|\(person)"
    if let found = self.issued.withLock({ $0[key] }) { return found }
    let cert = try self.ca.issueClientCertificate(role: role, organization: org, person: person)
    self.issued.withLock { $0[key] = (cert.certificateFile, cert.privateKeyFile) }
    return (cert.certificateFile, cert.privateKeyFile)
  }
}

/// A real banjied on 127.0.0.1 port 0 with a fresh database and a manual clock.
///
/// The database is a new SQLite file, or, when `BANJIE_TEST_SERVER_ENGINE=postgres` (as
/// `scripts/test.sh` sets for its second run of the server suites), a new database on the test
/// cluster (PostgresTestCluster): the same suites then run on PostgreSQL.
struct ServerHarness: Sendable {
  /// The engine the server suites run on in this test process.
  static let engine: TestEngine = ProcessInfo.processInfo.environment["BANJIE_TEST_SERVER_ENGINE"] == "postgres" ? .postgres : .sqlite

  let assembly: BanjieServerApp.Assembly
  let clock: ManualNow
  let port: Int
  /// The metrics endpoint's port, when the test asked for one.
  let metricsPort: Int?
  let databasePath: String
  /// The PostgreSQL database the server runs on, when the suites run on PostgreSQL.
  let postgres: PostgresLocation?

  var environment: ServerEnvironment { self.assembly.environment }

  static func run<R: Sendable>(
    start: Date = shanghai("2026-11-30T09:30:00"),
    catalog: Bool = true,
    logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
    metricsRegistry: PrometheusCollectorRegistry? = nil,
    configure: @Sendable (inout ServerConfiguration) throws -> Void = { _ in },
    _ body: @Sendable (ServerHarness) async throws -> R
  ) async throws -> R {
    let pki = ServerPKI.shared
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-db-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var configuration = ServerConfiguration()
    configuration.port = 0
    configuration.databasePath = dir + "/banjie.sqlite"
    var postgres: PostgresLocation?
    if Self.engine == .postgres {
      let location = try await PostgresTestCluster.makeDatabase()
      postgres = location
      // The test cluster trusts loopback connections: the URL carries no password.
      configuration.databasePath = location.description
    }
    defer { if let postgres { PostgresTestCluster.dropDatabase(postgres) } }
    configuration.certificateFile = pki.server.certificateFile
    configuration.privateKeyFile = pki.server.privateKeyFile
    configuration.clientCAFile = pki.ca.certificateFile
    // The metrics endpoint only when a test asks for it, and then on a free port.
    configuration.metricsHost = metricsRegistry == nil ? nil : "127.0.0.1"
    configuration.metricsPort = 0
    try configure(&configuration)
    let clock = ManualNow(start)
    let app = BanjieServerApp(
      configuration: configuration, logger: logger, metricsRegistry: metricsRegistry ?? PrometheusCollectorRegistry())
    let assembly = try await app.assemble(now: clock)
    // Runs until cancelled, like the other services outside a ServiceGroup.
    let metricsTask = assembly.metricsEndpoint.map { endpoint in Task { try await endpoint.run() } }
    defer { metricsTask?.cancel() }
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await assembly.server.serve() }
      guard let port = await assembly.transport.listeningAddress?.port else {
        throw RPCError(code: .internalError, message: "server did not start")
      }
      var metricsPort: Int?
      if let endpoint = assembly.metricsEndpoint {
        guard let port = await endpoint.listeningAddress?.port else {
          throw RPCError(code: .internalError, message: "metrics endpoint did not start")
        }
        metricsPort = port
      }
      let harness = ServerHarness(
        assembly: assembly, clock: clock, port: port, metricsPort: metricsPort, databasePath: configuration.databasePath,
        postgres: PostgresLocation.isPostgresURL(configuration.databasePath) ? try PostgresLocation(url: configuration.databasePath) : nil)
      do {
        if catalog { try await harness.loadSampleCatalog() }
        let result = try await body(harness)
        assembly.server.beginGracefulShutdown()
        try await group.waitForAll()
        metricsTask?.cancel()
        _ = await metricsTask?.result
        try await PostgresTestCluster.offPool { assembly.environment.store.close() }
        return result
      } catch {
        assembly.server.beginGracefulShutdown()
        group.cancelAll()
        try? await PostgresTestCluster.offPool { assembly.environment.store.close() }
        throw error
      }
    }
  }

  /// Runs `body` with a client whose certificate names `role`, `org` and `person`.
  func as_<R: Sendable>(
    _ role: PeerIdentity.Role, _ org: String, _ person: String = "测试员", _ body: (GRPCClient<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.connected(role, org, person) { client, _ in try await body(client) }
  }

  /// Like `as_`, also handing over the client's transport (its one connection's TLS session).
  func connected<R: Sendable>(
    _ role: PeerIdentity.Role, _ org: String, _ person: String = "测试员",
    _ body: (GRPCClient<BanjieClientTransport>, BanjieClientTransport) async throws -> R
  ) async throws -> R {
    let (cert, key) = try ServerPKI.shared.client(role, org, person)
    let tls = try TLSContext(
      configuration: .client(certificateChainFile: cert, privateKeyFile: key, trustRootsFile: ServerPKI.shared.ca.certificateFile))
    var config = BanjieClientTransport.Config(host: "127.0.0.1", port: self.port, tls: tls)
    config.logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let transport = BanjieClientTransport(config: config)
    return try await withGRPCClient(transport: transport) { client in
      try await body(client, transport)
    }
  }

  func cases<R: Sendable>(
    _ role: PeerIdentity.Role = .clerk, _ org: String = "SCJGJ", _ person: String = "张伟",
    _ body: (Banjie_V1_CaseService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_CaseService.Client(wrapping: $0)) }
  }

  func loadSampleCatalog() async throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("catalog/sample-county.json")
    let request = try Banjie_V1_ImportCatalogRequest(jsonString: String(contentsOf: url, encoding: .utf8))
    _ = try await self.as_(.office, "YSB", "李明") { client in
      try await Banjie_V1_CatalogService.Client(wrapping: client).importCatalog(request)
    }
  }
}

/// Runs `body` and returns the RPCError it threw (or records that it did not throw).
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
  do {
    try await body()
    return nil
  } catch let error as RPCError {
    return error
  } catch {
    return RPCError(code: .unknown, message: "\(error)")
  }
}

extension Banjie_V1_SubmitCaseRequest {
  static func sample(item: String = "SCJGJ-003", applicant: String = "王小二", uscc: String = "") -> Self {
    .with {
      $0.itemCode = item
      $0.applicant = applicant
      $0.window = "A03"
      $0.enterpriseUscc = uscc
    }
  }
}

extension Banjie_V1_CaseActionRequest {
  static func number(_ n: String, _ configure: (inout Self) -> Void = { _ in }) -> Self {
    var request = Self()
    request.number = n
    configure(&request)
    return request
  }
}
