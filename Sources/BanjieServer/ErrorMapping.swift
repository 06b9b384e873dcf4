import BanjieCore
import BanjieStore
import GRPCCore

/// Domain errors say which status they become; their message is for the clerk, in the language
/// the call asked for (`banjie-lang`, see `RequestInterceptor`), the stable code and field travel
/// as metadata for programs.
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

  /// The catalogue text in the current call's language (English outside a call, or when the
  /// catalogue has no text in that language).
  public var rpcErrorMessage: String { self.localizedMessage(RequestInfo.current.language) }

  public var rpcErrorMetadata: Metadata {
    var metadata: Metadata = ["banjie-error-code": "\(self.code)"]
    if let field = self.field { metadata.addString(field, forKey: "banjie-error-field") }
    return metadata
  }
}

/// The database could not be reached or the connection to it was lost (the PostgreSQL engine):
/// UNAVAILABLE, which tells a client to retry, with the message in the call's language. The
/// server log keeps the English reason.
extension StoreUnavailable: RPCErrorConvertible {
  public var rpcErrorCode: RPCError.Code { .unavailable }

  public var rpcErrorMessage: String {
    DomainError(kind: .failedPrecondition, code: "store.unavailable", messageKey: self.outcomeUnknown ? "store.unavailable#commit" : nil)
      .localizedMessage(RequestInfo.current.language)
  }

  public var rpcErrorMetadata: Metadata { ["banjie-error-code": "store.unavailable"] }
}
