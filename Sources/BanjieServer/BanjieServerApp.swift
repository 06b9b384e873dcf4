import BanjieProto
import BanjieTLS
import BanjieTransport
import GRPCCore
public import Logging
import NIOCore
import ServiceLifecycle

/// Assembles banjied: TLS context, transport, services, and runs them until SIGTERM / SIGINT,
/// which drain calls in flight before exiting.
public struct BanjieServerApp: Sendable {
  public let configuration: ServerConfiguration
  public let logger: Logger

  public init(configuration: ServerConfiguration, logger: Logger) {
    self.configuration = configuration
    self.logger = logger
  }

  /// Builds everything that can fail at start-up, so that errors are reported before listening.
  public func makeServer() throws -> (GRPCServer<BanjieServerTransport>, BanjieServerTransport, HealthServiceHandle) {
    let tls: TLSContext
    do {
      tls = try self.configuration.makeTLSContext()
    } catch {
      throw StartupError("cannot load TLS files (certificate \(self.configuration.certificateFile), key \(self.configuration.privateKeyFile), client CA \(self.configuration.clientCAFile)): \(error). Run `banjie certs init --dir certs/dev` to make development certificates.")
    }
    let transport = BanjieServerTransport(config: self.configuration.transportConfig(tls: tls, logger: self.logger))
    let services = Self.serviceNames
    let health = HealthService(services: services)
    let system = SystemService(databaseDescription: { "not configured" })
    let server = GRPCServer(transport: transport, services: [system, health])
    return (server, transport, HealthServiceHandle(service: health))
  }

  static let serviceNames: Set<String> = ["banjie.v1.SystemService", "grpc.health.v1.Health"]

  /// Runs until a signal asks for shutdown.
  public func run() async throws {
    let (server, _, health) = try self.makeServer()
    let service = GRPCServerService(server: server, health: health)
    let group = ServiceGroup(
      configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: self.logger)
    )
    try await group.run()
  }
}

/// Lets the lifecycle mark the server NOT_SERVING when shutdown begins.
public struct HealthServiceHandle: Sendable {
  let service: HealthService
  public func markNotServing() { self.service.markNotServing() }
}

struct GRPCServerService: Service {
  let server: GRPCServer<BanjieServerTransport>
  let health: HealthServiceHandle

  func run() async throws {
    try await withGracefulShutdownHandler {
      try await self.server.serve()
    } onGracefulShutdown: {
      self.health.markNotServing()
      self.server.beginGracefulShutdown()
    }
  }
}

public struct StartupError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
