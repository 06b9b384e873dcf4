import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTransport
import GRPCCore
import Logging

/// What a call carries besides its message: its idempotency key, a request id, the language the
/// caller reads messages in (`banjie-lang`), and a logger whose metadata names the request, the
/// method and the caller. Bound by `RequestInterceptor` for the whole call (streaming responses
/// included) and carried onto blocking file work by `runBlockingIO`, so every line logged while
/// handling a call carries the request id. Store calls need no carrying: the store does not log,
/// and callers read the idempotency key in the call's task and pass it explicitly.
struct RequestInfo: Sendable {
  @TaskLocal static var current = RequestInfo(requestID: "-", idempotencyKey: nil, logger: nil)
  var requestID: String
  var idempotencyKey: String?
  var logger: Logger?
  /// The language of error messages (and other texts for people) in the response.
  var language: MessageLanguage = .en
}

/// Gives each call a request id (the client's `x-request-id`, or a new one) and sends it back in
/// the response headers and in the trailers of a failed call, so a clerk can quote it; reads the
/// idempotency key; refuses a rating pad (评价器) every method but RateCase; logs the call
/// (mutations at info, reads at debug, failures at info) and counts it in the metrics; and turns
/// anything that is not an RPC error into INTERNAL with the details in the log only.
struct RequestInterceptor: ServerInterceptor {
  static let requestIDKey = "x-request-id"
  /// Request metadata naming the language of messages: `zh` or `en` (English when absent or unknown).
  static let languageKey = "banjie-lang"

  let logger: Logger
  var metrics: ServerMetrics?
  /// Called after every successful call that may have changed something.
  var onChange: @Sendable () -> Void = {}

  /// The only methods a rating pad may call (docs/DOMAIN.md §21): everything else is refused here,
  /// before any service looks at the request, so no role switch can let a pad through.
  /// Compared by name: the transport's descriptors carry no call type.
  static let padMethods: Set<String> = [Banjie_V1_RatingService.Method.RateCase.descriptor.fullyQualifiedMethod]

  /// What the 12345 centre's dispatcher may call (docs/DOMAIN.md §24): the appeal service, the
  /// department list it assigns to, the server's own description and the health check. Every other call is
  /// refused here, before any service sees it.
  static func dispatcherMayCall(_ method: String) -> Bool {
    method.hasPrefix("banjie.v1.AppealService/") || method.hasPrefix("grpc.health.v1.Health/")
      || method == Banjie_V1_CatalogService.Method.ListDepartments.descriptor.fullyQualifiedMethod
      || method == Banjie_V1_SystemService.Method.GetServerInfo.descriptor.fullyQualifiedMethod
  }

  /// What a monitor (a load balancer's or monitoring system's probe) may call (docs/DOMAIN.md §11):
  /// the health check and the server's own description. Every other call is refused here.
  static func monitorMayCall(_ method: String) -> Bool {
    method.hasPrefix("grpc.health.v1.Health/")
      || method == Banjie_V1_SystemService.Method.GetServerInfo.descriptor.fullyQualifiedMethod
  }

  /// Calls whose names say they only read.
  static func isRead(_ method: String) -> Bool {
    // VerifyAudit only reads; VerifyRectification changes a rectification.
    ["Get", "List", "Watch", "Compute", "Preview", "Check", "VerifyAudit", "Backup"].contains { method.hasPrefix($0) }
  }

  /// A request id the client chose: printable ASCII, at most 64 characters; anything else is
  /// replaced by one of ours.
  static func requestID(from metadata: Metadata) -> String {
    if let given = metadata[stringValues: Self.requestIDKey].first(where: { _ in true }),
      !given.isEmpty, given.count <= 64, given.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
    {
      return given
    }
    return String(UInt64.random(in: 0...UInt64.max), radix: 36)
  }

  /// The language the client asked for with `banjie-lang`; English without it.
  static func language(from metadata: Metadata) -> MessageLanguage {
    metadata[stringValues: Self.languageKey].first(where: { _ in true }).flatMap(MessageLanguage.parse) ?? .en
  }

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let start = ContinuousClock.now
    let requestID = Self.requestID(from: request.metadata)
    let method = context.descriptor.fullyQualifiedMethod
    let isRead = Self.isRead(context.descriptor.method)
    // Escaped (a no-op for the server's logger, which already is): the caller's names and the
    // failure messages below quote what the peer sent.
    var logger = self.logger.escapingValues()
    logger[metadataKey: "request.id"] = "\(requestID)"
    logger[metadataKey: "rpc.method"] = "\(method)"
    if let identity = context.banjiePeerIdentityDescription { logger[metadataKey: "caller"] = "\(identity)" }
    let key = request.metadata[stringValues: "idempotency-key"].first(where: { _ in true })
    let language = Self.language(from: request.metadata)
    let info = RequestInfo(requestID: requestID, idempotencyKey: key, logger: logger, language: language)
    let finish = Finish(
      logger: logger, metrics: self.metrics, method: method, requestID: requestID, language: language, start: start)

    var response: StreamingServerResponse<Output>
    do {
      if context.banjiePeer?.identity?.role == .pad, !Self.padMethods.contains(method) {
        throw Caller.padRefused(method)
      }
      if context.banjiePeer?.identity?.role == .dispatcher, !Self.dispatcherMayCall(method) {
        throw Caller.dispatcherRefused(method)
      }
      if context.banjiePeer?.identity?.role == .monitor, !Self.monitorMayCall(method) {
        throw Caller.monitorRefused(method)
      }
      if let key, key.count > 128 {
        throw RPCError(code: .invalidArgument, message: "idempotency-key is longer than 128 characters")
      }
      response = try await RequestInfo.$current.withValue(info) {
        try await next(request, context)
      }
    } catch {
      throw finish.failed(error)
    }

    switch response.accepted {
    case .success(var contents):
      contents.metadata.replaceOrAddString(requestID, forKey: Self.requestIDKey)
      let producer = contents.producer
      let onChange = self.onChange
      contents.producer = { writer in
        try await RequestInfo.$current.withValue(info) {
          let trailers: Metadata
          do {
            trailers = try await producer(writer)
          } catch {
            throw finish.failed(error)
          }
          finish.succeeded(isRead: isRead)
          if !isRead { onChange() }
          return trailers
        }
      }
      response.accepted = .success(contents)
    case .failure(let error):
      response.accepted = .failure(finish.failed(error))
    }
    return response
  }

  /// Logs and counts the end of one call.
  private struct Finish: Sendable {
    let logger: Logger
    let metrics: ServerMetrics?
    let method: String
    let requestID: String
    let language: MessageLanguage
    let start: ContinuousClock.Instant

    func succeeded(isRead: Bool) {
      let elapsed = ContinuousClock.now - self.start
      self.logger.log(level: isRead ? .debug : .info, "call", metadata: ["status": "OK", "elapsed": "\(elapsed)"])
      self.metrics?.recordCall(method: self.method, code: .ok, duration: elapsed)
    }

    /// The error as the client will see it, with the request id in its metadata.
    func failed(_ error: any Error) -> RPCError {
      var rpcError: RPCError
      switch error {
      case let error as RPCError:
        self.logger.info("call failed", metadata: ["status": "\(error.code)", "reason": "\(error.message)"])
        rpcError = error
      case let error as DomainError:
        // The client reads the message in its language; the log keeps the English one.
        rpcError = RPCError(
          code: error.rpcErrorCode, message: error.localizedMessage(self.language), metadata: error.rpcErrorMetadata, cause: error)
        self.logger.info("call refused", metadata: ["status": "\(rpcError.code)", "reason": "\(error.message)"])
      case let error as StoreUnavailable:
        // Not the caller's fault and not a bug: the database is down or the connection broke.
        rpcError = RPCError(error)
        self.logger.error("database unavailable", metadata: ["status": "\(rpcError.code)", "reason": "\(error)"])
      case let error as any RPCErrorConvertible:
        rpcError = RPCError(error)
        self.logger.info("call refused", metadata: ["status": "\(rpcError.code)", "reason": "\(rpcError.message)"])
      default:
        self.logger.error("internal error", metadata: ["error": "\(error)"])
        rpcError = RPCError(code: .internalError, message: "internal error (request id \(self.requestID)); the server log has the details")
      }
      rpcError.metadata.replaceOrAddString(self.requestID, forKey: RequestInterceptor.requestIDKey)
      self.metrics?.recordCall(method: self.method, code: Status.Code(rpcError.code), duration: ContinuousClock.now - self.start)
      return rpcError
    }
  }
}

extension ServerContext {
  var banjiePeerIdentityDescription: String? {
    guard let identity = self.banjiePeer?.identity else { return nil }
    return "\(identity.role.rawValue):\(identity.organization):\(identity.person)"
  }
}
