import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore
public import Logging
import NIOCore
public import Prometheus
import ServiceLifecycle

/// Assembles banjied: store, TLS context, transport, services, the SLA sweeper, the metrics
/// endpoint and the SIGHUP certificate reload, and runs them until SIGTERM / SIGINT, which
/// drain calls in flight before exiting.
public struct BanjieServerApp: Sendable {
  public let configuration: ServerConfiguration
  /// The logger given, writing through an `EscapingLogHandler`.
  public let logger: Logger
  /// Where the server's metrics go. banjied passes the registry it bootstrapped the global
  /// `MetricsSystem` with; tests pass one of their own (or take the fresh default).
  public let metricsRegistry: PrometheusCollectorRegistry

  public init(
    configuration: ServerConfiguration, logger: Logger, metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
  ) {
    self.configuration = configuration
    // Every line the server writes goes through one escaping handler (LogEscaping): peer values
    // (certificate names, request fields, error messages quoting them) cannot forge a line.
    self.logger = logger.escapingValues()
    self.metricsRegistry = metricsRegistry
  }

  /// Everything that can fail at start-up, built before listening so errors come first.
  public struct Assembly: Sendable {
    public let server: GRPCServer<BanjieServerTransport>
    public let transport: BanjieServerTransport
    public let environment: ServerEnvironment
    public let metrics: ServerMetrics
    /// Nil when `metrics.listen` is off.
    public let metricsEndpoint: MetricsEndpoint?
    /// What SIGHUP and the office's ReloadTLS call run.
    public let tlsReloader: TLSReloader
    let health: HealthService
  }

  public func assemble(now: any NowProvider = SystemNow()) async throws -> Assembly {
    let store: BanjieStore
    let database = self.configuration.databasePath
    // A PostgreSQL URL is named without its password, in this line and in every log line.
    let named =
      PostgresLocation.isPostgresURL(database) ? ((try? PostgresLocation(url: database).description) ?? "a postgres:// URL") : database
    do {
      // Opening migrates the file or the database: blocking work, so not on the cooperative pool.
      store = try await runBlockingIO(on: DispatchQueue(label: "banjie.store-open")) { try BanjieStore.open(database) }
    } catch {
      throw StartupError("cannot open the database \(named): \(error)")
    }
    do {
      return try await self.assemble(store: store, now: now)
    } catch {
      // What failed after the store opened leaves no connection behind (a PostgreSQL store's).
      try? await runBlockingIO(on: DispatchQueue(label: "banjie.store-close")) { store.close() }
      throw error
    }
  }

  private func assemble(store: BanjieStore, now: any NowProvider) async throws -> Assembly {
    // Revoked serials: the configured file and every revocation the office has made.
    let revocations = RevocationList()
    revocations.replaceListed(try self.configuration.fileRevocations())
    for record in try await store.revocations() { revocations.revoke(record.serial) }
    let tls: TLSContext
    do {
      tls = try self.configuration.makeTLSContext(revocations: revocations)
    } catch {
      throw StartupError(
        "cannot load TLS files (certificate \(self.configuration.certificateFile), key \(self.configuration.privateKeyFile), client CA \(self.configuration.clientCAFile)): \(error). Run `banjie certs init --dir certs/dev` to make development certificates."
      )
    }
    let environment = try await ServerEnvironment(
      store: store, now: now, regionCode: self.configuration.regionCode, yellowThreshold: self.configuration.yellowThreshold,
      intakeLimitWorkingDays: self.configuration.intakeLimitWorkingDays, revocations: revocations, logger: self.logger
    )
    // Completed cases stored before the dashboard aggregates existed get their figures once.
    let backfilled = try await store.backfillCompletionFigures(clock: environment.sla)
    if backfilled > 0 { self.logger.info("dashboard figures filled in for \(backfilled) completed cases") }
    let transport = BanjieServerTransport(config: self.configuration.transportConfig(tls: tls, logger: self.logger))
    environment.setConnectionCloser { serial in
      transport.closeConnections { peer in
        guard let certificate = peer.session?.peerCertificate else { return false }
        return RevocationList([serial]).isRevoked(certificate.serialNumber)
      }
    }
    let metrics = ServerMetrics(registry: self.metricsRegistry)
    if let certificate = try? PeerCertificate(pemFile: self.configuration.certificateFile) {
      metrics.setCertificateExpiry(certificate.notAfter)
    }
    let tlsReloader = TLSReloader(
      configuration: self.configuration, transport: transport, environment: environment, metrics: metrics, logger: self.logger)
    var metricsEndpoint: MetricsEndpoint?
    if let host = self.configuration.metricsHost {
      let logger = self.logger
      metricsEndpoint = MetricsEndpoint(host: host, port: self.configuration.metricsPort, logger: logger) {
        // The gauges that are cheaper to read at scrape time than to keep current.
        metrics.setOpenConnections(transport.connectionCount)
        do {
          metrics.setOpenCases(try await store.openCasesByColour())
        } catch {
          logger.warning("metrics: cannot count open cases", metadata: ["error": "\(error)"])
        }
        return metrics.render()
      }
    }
    let health = HealthService(services: Self.serviceNames)
    let services: [any RegistrableRPCService] = [
      SystemService(
        databaseDescription: { await store.describe() },
        settingsSummary: { language in (try? await environment.settings())?.settings.summary(language) ?? "" }),
      health,
      CaseService(env: environment),
      CatalogService(env: environment),
      CalendarService(env: environment),
      AdminService(env: environment),
      CertificateAdminService(env: environment, tlsReloader: tlsReloader),
      EnterpriseService(env: environment),
      RatingService(env: environment),
      ReviewCampaignService(env: environment),
      AwardService(env: environment),
      ExemplaryService(env: environment),
      DashboardService(env: environment),
      SettingsService(env: environment),
      SupervisionService(env: environment),
      CountersignService(env: environment),
      AppealService(env: environment),
      ProposalService(env: environment),
      TargetService(env: environment),
    ]
    let interceptor = RequestInterceptor(logger: self.logger, metrics: metrics, onChange: { environment.changes.signal() })
    let server = GRPCServer(transport: transport, services: services, interceptors: [interceptor])
    return Assembly(
      server: server, transport: transport, environment: environment, metrics: metrics, metricsEndpoint: metricsEndpoint,
      tlsReloader: tlsReloader, health: health
    )
  }

  static let serviceNames: Set<String> = [
    "banjie.v1.SystemService", "banjie.v1.CaseService", "banjie.v1.CatalogService", "banjie.v1.CalendarService",
    "banjie.v1.AdminService", "banjie.v1.CertificateAdminService", "banjie.v1.EnterpriseService", "banjie.v1.RatingService",
    "banjie.v1.ReviewCampaignService", "banjie.v1.AwardService", "banjie.v1.ExemplaryService", "banjie.v1.DashboardService",
    "banjie.v1.SettingsService", "banjie.v1.SupervisionService", "banjie.v1.CountersignService", "banjie.v1.TargetService",
    "grpc.health.v1.Health",
    "banjie.v1.ProposalService",
    "banjie.v1.AppealService",
  ]

  /// Runs until a signal asks for shutdown.
  public func run(now: any NowProvider = SystemNow()) async throws {
    let assembly = try await self.assemble(now: now)
    // Shut down in reverse order: the RPC server drains first, and metrics answer until the end.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    if let endpoint = assembly.metricsEndpoint { services.append(.init(service: endpoint)) }
    services += [
      .init(service: TLSReloadSignalService(reloader: assembly.tlsReloader)),
      .init(service: GRPCServerService(assembly: assembly)),
      .init(
        service: SweeperService(
          environment: assembly.environment, interval: .seconds(self.configuration.sweepIntervalSeconds), logger: self.logger)),
    ]
    if assembly.environment.store.runsOnPostgres {
      services.append(.init(service: OtherNodesService(environment: assembly.environment, logger: self.logger)))
    }
    let group = ServiceGroup(
      configuration: .init(
        services: services,
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: self.logger
      )
    )
    try await group.run()
    // A PostgreSQL store's connections end cleanly (the sweeper's lease with them).
    let store = assembly.environment.store
    try await runBlockingIO(on: DispatchQueue(label: "banjie.store-close")) { store.close() }
  }
}

struct GRPCServerService: Service {
  let assembly: BanjieServerApp.Assembly

  func run() async throws {
    try await withGracefulShutdownHandler {
      try await self.assembly.server.serve()
    } onGracefulShutdown: {
      self.assembly.health.markNotServing()
      self.assembly.server.beginGracefulShutdown()
    }
  }
}

/// Turns cases yellow and red as working time passes, and deems late intakes accepted.
struct SweeperService: Service {
  let environment: ServerEnvironment
  let interval: Duration
  let logger: Logger

  /// How often the quick pass looks for cases whose colour change has come: a watcher sees a
  /// case turn yellow or red within about this long.
  static let quickInterval = Duration.seconds(1)

  func run() async throws {
    var lastFull: ContinuousClock.Instant?
    // On PostgreSQL one node of the database sweeps at a time: the holder of the sweeper's lease
    // (docs/ARCHITECTURE.md, "The PostgreSQL engine"); the others ask again at every pass and
    // take over within a pass of the holder's death. On SQLite this node always holds it.
    var holding = false
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
      do {
        let environment = self.environment
        let holds = try await environment.store.holdsSweeperLease()
        if holds != holding {
          holding = holds
          if environment.store.runsOnPostgres {
            self.logger.info(holds ? "sweeper lease taken: this node sweeps" : "sweeper lease lost: another node sweeps")
          }
          // A node that takes over sweeps everything at once.
          if holds { lastFull = nil }
        }
        if holds {
          let full = lastFull.map { ContinuousClock.now - $0 >= self.interval } ?? true
          _ = try await environment.sweep(full: full)
          if full { lastFull = .now }
        }
      } catch {
        self.logger.error("sweeper pass failed", metadata: ["error": "\(error)"])
      }
      try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(self.interval, Self.quickInterval)) }
    }
  }
}

/// What the other banjied nodes on the same PostgreSQL database did, applied here
/// (docs/ARCHITECTURE.md, "The PostgreSQL engine"): a revocation refuses that certificate on this
/// node too and closes its connections; an alert reaches this node's watchers; a new calendar year
/// or clock setting is put in force here too. After the listening connection was lost and opened
/// again, the revocation list, the alerts since the last one seen and the clock are read again,
/// since what was sent meanwhile was not heard.
struct OtherNodesService: Service {
  let environment: ServerEnvironment
  let logger: Logger

  func run() async throws {
    let environment = self.environment
    var lastAlert = try await environment.store.lastAlertID()
    for await change in environment.store.otherNodesChanges().cancelOnGracefulShutdown() {
      do {
        switch change {
        case .revocation(let serial):
          environment.revocations.revoke(serial)
          let closed = environment.closeConnections(serial: serial)
          self.logger.info("certificate revoked on another node", metadata: ["serial": "\(serial)", "closed": "\(closed)"])
        case .alert:
          lastAlert = try await self.alerts(after: lastAlert)
        case .clock:
          try await self.reloadClock()
          self.logger.info("calendar or clock settings changed on another node: the new SLA clock is in force")
        case .resynchronize:
          for record in try await environment.store.revocations() where !environment.revocations.isRevoked(record.serial) {
            environment.revocations.revoke(record.serial)
            _ = environment.closeConnections(serial: record.serial)
          }
          lastAlert = try await self.alerts(after: lastAlert)
          try await self.reloadClock()
        }
      } catch {
        self.logger.error("cannot apply another node's change", metadata: ["change": "\(change)", "error": "\(error)"])
      }
    }
  }

  /// Puts the stored clock in force, trying again for a few seconds when the database does not
  /// answer (a node left on the old clock would colour cases by it). A reload that reads just
  /// before this node's own clock change commits is put right when this node hears its own
  /// change, as every listener does.
  private func reloadClock() async throws {
    var attempt = 1
    while true {
      do {
        try await self.environment.reloadClock()
        return
      } catch {
        guard attempt < 5 else { throw error }
        attempt += 1
        try await Task.sleep(for: .seconds(1))
      }
    }
  }

  /// Publishes the alerts stored after `id`; returns the last one's id.
  private func alerts(after id: Int64) async throws -> Int64 {
    let alerts = try await self.environment.store.alerts(afterID: id, department: nil)
    self.environment.publish(alerts)
    return alerts.compactMap(\.id).max() ?? id
  }
}

public struct StartupError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
