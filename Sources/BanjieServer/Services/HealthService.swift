import BanjieProto
import GRPCCore
import Synchronization

/// The standard gRPC health service. "" is the whole server; named services are the ones
/// banjied serves.
final class HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
  private let services: Set<String>
  private let serving = Mutex(true)

  init(services: Set<String>) {
    self.services = services
  }

  /// Marks the server as shutting down so that load balancers and watchers stop sending.
  func markNotServing() { self.serving.withLock { $0 = false } }

  private func status(for service: String) throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
    guard service.isEmpty || self.services.contains(service) else {
      throw RPCError(code: .notFound, message: "unknown service \"\(service)\"; known: \(self.services.sorted().joined(separator: ", "))")
    }
    return self.serving.withLock { $0 } ? .serving : .notServing
  }

  func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
    .with { $0.status = (try? self.status(for: request.service)) ?? .serviceUnknown }
  }

  func watch(request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext)
    async throws
  {
    var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
    while !context.cancellation.isCancelled && !Task.isCancelled {
      let current = (try? self.status(for: request.service)) ?? .serviceUnknown
      if current != last {
        try await response.write(.with { $0.status = current })
        last = current
      }
      try await Task.sleep(for: .seconds(1))
    }
  }
}
