import COpenSSL

/// An error from TLS setup, a handshake, a TLS connection or the certificate tooling.
///
/// `code` is stable and meant for programs; `message` and `openSSLErrors` are for people and
/// logs. `openSSLErrors` is the OpenSSL error queue at the time of the failure, oldest first.
public struct TLSError: Error, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    private init(_ name: String) { self.name = name }
    public var description: String { self.name }

    /// A configuration value or file could not be used (missing, unreadable, mismatched key).
    public static let invalidConfiguration = Code("invalidConfiguration")
    /// The handshake failed: protocol error, bad or missing certificate, version or ALPN mismatch.
    public static let handshakeFailed = Code("handshakeFailed")
    /// The handshake did not finish within `TLSConfiguration.handshakeTimeout`.
    public static let handshakeTimeout = Code("handshakeTimeout")
    /// The peer's certificate serial is in the `RevocationList`.
    public static let certificateRevoked = Code("certificateRevoked")
    /// Reading or writing application data failed after the handshake (e.g. a fatal alert).
    public static let connectionFailed = Code("connectionFailed")
    /// A certificate or key could not be created, read or written.
    public static let certificateTooling = Code("certificateTooling")
  }

  public var code: Code
  public var message: String
  /// OpenSSL's error queue, one entry per line as `ERR_error_string_n` renders it.
  public var openSSLErrors: [String]

  public init(code: Code, message: String, openSSLErrors: [String] = []) {
    self.code = code
    self.message = message
    self.openSSLErrors = openSSLErrors
  }

  public var description: String {
    if self.openSSLErrors.isEmpty {
      return "TLSError.\(self.code): \(self.message)"
    }
    return "TLSError.\(self.code): \(self.message) [\(self.openSSLErrors.joined(separator: "; "))]"
  }

  /// Builds an error carrying (and draining) the calling thread's OpenSSL error queue.
  static func openSSL(_ code: Code, _ message: String) -> TLSError {
    TLSError(code: code, message: message, openSSLErrors: OpenSSLErrorQueue.drain())
  }
}

enum OpenSSLErrorQueue {
  /// Empties the thread's OpenSSL error queue into readable strings, oldest first.
  static func drain() -> [String] {
    var errors: [String] = []
    while true {
      let code = ERR_get_error()
      if code == 0 { break }
      var buffer = [CChar](repeating: 0, count: 256)
      ERR_error_string_n(code, &buffer, buffer.count)
      errors.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return errors
  }
}
