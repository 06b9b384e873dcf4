/// An error a clerk can act on, raised by the domain core.
///
/// `kind` is what the RPC layer maps to a gRPC status code; `code` is stable for machines
/// (clients branch on it, so it never changes once shipped); `message` is for people.
public struct DomainError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The class of failure, one to one with the gRPC status the RPC layer returns.
  public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
    case invalidArgument
    case notFound
    case alreadyExists
    case failedPrecondition
    case permissionDenied
    case aborted
    case resourceExhausted
  }

  public var kind: Kind
  /// Stable, dotted, lower snake case, e.g. `calendar.limit_out_of_range`.
  public var code: String
  public var message: String
  /// The input field at fault, when there is one (e.g. `workingDays`, `holidays[3]`).
  public var field: String?

  public init(kind: Kind, code: String, message: String, field: String? = nil) {
    self.kind = kind
    self.code = code
    self.message = message
    self.field = field
  }

  public static func invalidArgument(_ code: String, _ message: String, field: String? = nil) -> DomainError {
    DomainError(kind: .invalidArgument, code: code, message: message, field: field)
  }

  public static func failedPrecondition(_ code: String, _ message: String, field: String? = nil) -> DomainError {
    DomainError(kind: .failedPrecondition, code: code, message: message, field: field)
  }

  public var description: String {
    if let field {
      return "\(kind.rawValue) [\(code)] \(field): \(message)"
    }
    return "\(kind.rawValue) [\(code)] \(message)"
  }
}
