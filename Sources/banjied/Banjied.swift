import ArgumentParser
import BanjieConfig
import BanjieCore
import BanjieServer
import BanjieStore
import BanjieTransport
import CoreMetrics
import Foundation
import Logging
import Prometheus

@main
struct Banjied: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "banjied",
    abstract: "banjie's server: government-service cases, deadlines and ratings over mutual-TLS RPC.",
    version: BanjieVersion.current,
    subcommands: [Serve.self, Seed.self, MigrateStore.self],
    defaultSubcommand: Serve.self
  )
}

struct Serve: AsyncParsableCommand {
  /// The database as a log line may name it: a PostgreSQL URL without its password.
  static func named(_ database: String) -> String {
    guard PostgresLocation.isPostgresURL(database) else { return database }
    return (try? PostgresLocation(url: database).description) ?? "a postgres:// URL"
  }

  static let configuration = CommandConfiguration(
    abstract: "Run the server until SIGTERM or SIGINT (which let calls in flight finish).",
    discussion: """
      Settings come from defaults, then the configuration file (--config), then flags.
      Development certificates: `banjie certs init --dir certs/dev`.
      SIGHUP re-reads the TLS certificate, key, client CA and revocation file (new connections
      use them; open ones go on; files that do not load are refused and the old ones kept).
      Prometheus metrics: GET http://127.0.0.1:9464/metrics unless --metrics-listen says otherwise.
      Exit codes: 0 after a graceful shutdown, 1 when start-up fails (the reason is printed).
      """
  )

  @Option(name: .long, help: "Configuration file (TOML, see docs/OPERATIONS.md).")
  var config: String?

  @Option(name: .long, help: "Address to listen on, host:port (default 127.0.0.1:7443).")
  var listen: String?

  @Option(
    name: .long,
    help:
      "The store: a SQLite database file (default banjie.sqlite), or a PostgreSQL database as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE."
  )
  var database: String?

  @Option(name: .long, help: "Folder with server.pem, server.key and ca.pem (default certs/dev).")
  var certsDir: String?

  @Option(name: .long, help: "Server certificate chain (PEM).")
  var tlsCert: String?

  @Option(name: .long, help: "Server private key (PEM).")
  var tlsKey: String?

  @Option(name: .long, help: "CA whose client certificates are accepted (PEM).")
  var tlsCa: String?

  @Flag(name: .long, help: "Accept TLS 1.3 only.")
  var tls13Only = false

  @Option(name: .long, help: "Prometheus metrics endpoint, host:port (default 127.0.0.1:9464; \"off\" turns it off).")
  var metricsListen: String?

  @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: String?

  @Option(name: .long, help: "Seconds between SLA sweeps (default 30).")
  var sweepInterval: Int?

  @Option(name: .long, help: "For demos and training only: start the server's clock at this ISO 8601 time...")
  var simulateFrom: String?

  @Option(name: .long, help: "...and run it this many times faster than real time (default 1).")
  var simulateSpeed: Double = 1

  func run() async throws {
    var configuration = ServerConfiguration()
    do {
      if let path = self.config {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
          throw StartupError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        try configuration.apply(ConfigurationFile(parsing: text))
      }
      if let dir = self.certsDir {
        configuration.certificateFile = dir + "/server.pem"
        configuration.privateKeyFile = dir + "/server.key"
        configuration.clientCAFile = dir + "/ca.pem"
      }
      if let listen = self.listen { try configuration.setListen(listen) }
      if let listen = self.metricsListen { try configuration.setMetricsListen(listen) }
      if let database = self.database { configuration.databasePath = database }
      if let v = self.tlsCert { configuration.certificateFile = v }
      if let v = self.tlsKey { configuration.privateKeyFile = v }
      if let v = self.tlsCa { configuration.clientCAFile = v }
      if self.tls13Only { configuration.tls13Only = true }
      if let level = self.logLevel {
        guard let parsed = Logger.Level(rawValue: level) else {
          throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        configuration.logLevel = parsed
      }
    } catch let error as ConfigurationFile.ParseError {
      throw ValidationError(error.description)
    }

    if let interval = self.sweepInterval {
      guard (1...3600).contains(interval) else { throw ValidationError("--sweep-interval must be 1...3600 seconds") }
      configuration.sweepIntervalSeconds = interval
    }
    var clock: any NowProvider = SystemNow()
    if let from = self.simulateFrom {
      let start: Date
      do { start = try ISO8601Instant.parse(from, field: "--simulate-from") } catch { throw ValidationError(error.message) }
      guard self.simulateSpeed > 0, self.simulateSpeed <= 100_000 else {
        throw ValidationError("--simulate-speed must be within 0...100000")
      }
      clock = SimulatedNow(start: start, speed: self.simulateSpeed)
    }

    let level = configuration.logLevel
    // One line per event: every message and metadata value is escaped (LogEscaping), so what a
    // peer sent (a certificate's CN, a case number) cannot start a line of its own.
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return EscapingLogHandler(wrapping: handler)
    }
    // Once per process: anything that records through swift-metrics lands in the registry the
    // metrics endpoint serves.
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    let logger = Logger(label: "banjied")
    if self.simulateFrom != nil {
      logger.warning("simulated clock: starts at \(self.simulateFrom ?? "") and runs \(self.simulateSpeed)x; for demos only")
    }
    logger.info(
      "starting banjied \(BanjieVersion.current)",
      metadata: [
        "listen": "\(configuration.host):\(configuration.port)", "database": "\(Self.named(configuration.databasePath))",
        "metrics": "\(configuration.metricsHost.map { "\($0):\(configuration.metricsPort)" } ?? "off")",
      ])
    do {
      try await BanjieServerApp(configuration: configuration, logger: logger, metricsRegistry: registry).run(now: clock)
    } catch let error as StartupError {
      logger.critical("\(error.description)")
      throw ExitCode(1)
    }
    logger.info("banjied stopped")
  }
}

/// A clock for demos and training: starts at a chosen instant and runs faster than real time,
/// so that a morning's cases turn yellow and red while someone watches.
struct SimulatedNow: NowProvider {
  let start: Date
  let speed: Double
  let realStart = Date()
  var now: Date { self.start.addingTimeInterval(Date().timeIntervalSince(self.realStart) * self.speed) }
}
