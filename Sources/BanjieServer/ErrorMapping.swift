import BanjieCore
import GRPCCore
import Logging

/// Domain errors say which status they become; their message is for the clerk, the stable code
/// and field travel as metadata for programs.
extension DomainError: RPCErrorConvertible {
  public var rpcErrorCode: RPCError.Code {
    switch self.kind {
    case .invalidArgument: return .invalidArgument
    case .notFound: return .notFound
    case .alreadyExists: return .alreadyExists
    case .failedPrecondition: return .failedPrecondition
    case .permissionDenied: return .permissionDenied
    case .aborted: return .aborted
    case .resourceExhausted: return .resourceExhausted
    }
  }

  public var rpcErrorMessage: String { self.message }

  public var rpcErrorMetadata: Metadata {
    var metadata: Metadata = ["banjie-error-code": "\(self.code)"]
    if let field = self.field { metadata.addString(field, forKey: "banjie-error-field") }
    return metadata
  }
}

/// What a call carries besides its message: its idempotency key and a request id for logs.
struct RequestInfo: Sendable {
  @TaskLocal static var current = RequestInfo(requestID: "-", idempotencyKey: nil)
  var requestID: String
  var idempotencyKey: String?
}

/// Gives each call a request id, reads the idempotency key, logs one line per call, and turns
/// anything that is not an RPC error into INTERNAL with the details in the log only.
struct RequestInterceptor: ServerInterceptor {
  let logger: Logger
  /// Called after every successful call that may have changed something.
  var onChange: @Sendable () -> Void = {}

  /// Calls whose names say they only read.
  static func isRead(_ method: String) -> Bool {
    ["Get", "List", "Watch", "Compute", "Preview", "Check", "Verify", "Backup"].contains { method.hasPrefix($0) }
  }

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let requestID = request.metadata[stringValues: "x-request-id"].first(where: { _ in true }).map { String($0.prefix(64)) }
      ?? String(UInt64.random(in: 0...UInt64.max), radix: 36)
    let key = request.metadata[stringValues: "idempotency-key"].first(where: { _ in true })
    var logger = self.logger
    logger[metadataKey: "request.id"] = "\(requestID)"
    logger[metadataKey: "rpc.method"] = "\(context.descriptor.fullyQualifiedMethod)"
    if let identity = context.banjiePeerIdentityDescription { logger[metadataKey: "caller"] = "\(identity)" }
    if let key, key.count > 128 {
      throw RPCError(code: .invalidArgument, message: "idempotency-key is longer than 128 characters")
    }
    let info = RequestInfo(requestID: requestID, idempotencyKey: key)
    let start = ContinuousClock.now
    do {
      let response = try await RequestInfo.$current.withValue(info) {
        try await next(request, context)
      }
      logger.debug("call", metadata: ["elapsed": "\(ContinuousClock.now - start)"])
      if !Self.isRead(context.descriptor.method) { self.onChange() }
      return response
    } catch let error as RPCError {
      logger.info("call failed", metadata: ["status": "\(error.code)", "reason": "\(error.message)"])
      throw error
    } catch let error as DomainError {
      logger.info("call refused", metadata: ["status": "\(error.rpcErrorCode)", "reason": "\(error.rpcErrorMessage)"])
      throw RPCError(error)
    } catch {
      logger.error("internal error", metadata: ["error": "\(error)"])
      throw RPCError(code: .internalError, message: "internal error (request id \(requestID)); the server log has the details")
    }
  }
}

import BanjieTransport

extension ServerContext {
  var banjiePeerIdentityDescription: String? {
    guard let identity = self.banjiePeer?.identity else { return nil }
    return "\(identity.role.rawValue):\(identity.organization):\(identity.person)"
  }
}
