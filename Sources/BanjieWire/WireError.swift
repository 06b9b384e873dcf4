/// A violation of the wire protocol, scoped to what it breaks.
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The connection cannot continue: answer with GOAWAY carrying the code, then close.
  case connection(GoAwayCode, String)
  /// Only one stream is broken: answer with RST_STREAM carrying a gRPC status code.
  case stream(UInt32, statusCode: UInt8, String)

  public var description: String {
    switch self {
    case .connection(let code, let message): return "\(code): \(message)"
    case .stream(let id, let code, let message): return "stream \(id) (status \(code)): \(message)"
    }
  }
}

/// The codes RST_STREAM and TRAILERS carry: gRPC's status numbering (docs/PROTOCOL.md §3.6,
/// §3.7). Named here: the ones the wire layer itself produces, and the largest valid code.
public enum WireStatus {
  public static let ok: UInt8 = 0
  public static let cancelled: UInt8 = 1
  public static let unknown: UInt8 = 2
  public static let invalidArgument: UInt8 = 3
  public static let deadlineExceeded: UInt8 = 4
  public static let resourceExhausted: UInt8 = 8
  public static let internalError: UInt8 = 13
  public static let unavailable: UInt8 = 14
  public static let maxCode: UInt8 = 16
}
