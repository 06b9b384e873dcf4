import NIOCore

/// The lowest TLS version a context accepts.
public enum TLSVersion: Sendable {
  case tls12
  case tls13
}

/// What a `TLSContext` is built from. Build one context per configuration and share it:
/// loading files into an `SSL_CTX` is slow, creating a connection from it is cheap.
public struct TLSConfiguration: Sendable {
  public enum Role: Sendable {
    case server
    case client
  }

  public var role: Role
  /// PEM: the leaf certificate first, then any intermediates. Required for a server; the
  /// client certificate for mutual TLS.
  public var certificateChainFile: String?
  /// PEM private key matching the first certificate of `certificateChainFile`.
  public var privateKeyFile: String?
  /// PEM CA bundle. Only these roots are trusted (the county CA); the system store never is.
  /// Required for a client, and for a server that requires client certificates.
  public var trustRootsFile: String?
  /// `.tls12` (default) accepts TLS 1.2 and 1.3; `.tls13` makes the context 1.3-only.
  public var minimumVersion: TLSVersion
  /// ALPN protocols in preference order. A server picks the first of these the client offers,
  /// refuses a client that offers ALPN without any of them, and accepts a client offering none.
  public var applicationProtocols: [String]
  /// Server only: refuse clients without a certificate that chains to `trustRootsFile`.
  public var requireClientCertificate: Bool
  /// The handshake must finish within this time, or the channel is closed.
  public var handshakeTimeout: TimeAmount
  /// After sending close_notify, wait this long for the peer's before closing the socket.
  public var closeNotifyTimeout: TimeAmount
  /// Certificate serials refused at handshake. Shared by reference: revoking later affects
  /// every context built with this list, for new handshakes.
  public var revocations: RevocationList?
  /// Testing knob: the highest TLS version offered/accepted. `nil` means TLS 1.3.
  var maximumVersion: TLSVersion?

  public init(
    role: Role,
    certificateChainFile: String? = nil,
    privateKeyFile: String? = nil,
    trustRootsFile: String? = nil,
    minimumVersion: TLSVersion = .tls12,
    applicationProtocols: [String] = ["banjie/1"],
    requireClientCertificate: Bool = true,
    handshakeTimeout: TimeAmount = .seconds(10),
    closeNotifyTimeout: TimeAmount = .seconds(3),
    revocations: RevocationList? = nil
  ) {
    self.role = role
    self.certificateChainFile = certificateChainFile
    self.privateKeyFile = privateKeyFile
    self.trustRootsFile = trustRootsFile
    self.minimumVersion = minimumVersion
    self.applicationProtocols = applicationProtocols
    self.requireClientCertificate = requireClientCertificate
    self.handshakeTimeout = handshakeTimeout
    self.closeNotifyTimeout = closeNotifyTimeout
    self.revocations = revocations
    self.maximumVersion = nil
  }

  /// A server presenting `certificateChainFile` and requiring client certificates issued
  /// under `trustRootsFile`.
  public static func server(
    certificateChainFile: String,
    privateKeyFile: String,
    trustRootsFile: String
  ) -> TLSConfiguration {
    TLSConfiguration(
      role: .server,
      certificateChainFile: certificateChainFile,
      privateKeyFile: privateKeyFile,
      trustRootsFile: trustRootsFile
    )
  }

  /// A client trusting only `trustRootsFile`, presenting a client certificate when given one.
  public static func client(
    certificateChainFile: String?,
    privateKeyFile: String?,
    trustRootsFile: String
  ) -> TLSConfiguration {
    TLSConfiguration(
      role: .client,
      certificateChainFile: certificateChainFile,
      privateKeyFile: privateKeyFile,
      trustRootsFile: trustRootsFile,
      requireClientCertificate: false
    )
  }
}
