public import BanjieTLS
public import GRPCCore

/// What every RPC handler learns about its caller from the connection: the TLS session and
/// the identity the verified client certificate names (`ServerContext.transportSpecific`).
public struct BanjiePeer: ServerContext.TransportSpecific, Sendable {
  public var session: TLSSessionInfo?
  public var identity: PeerIdentity?
  public var remoteAddress: String

  public init(session: TLSSessionInfo?, remoteAddress: String) {
    self.session = session
    self.identity = session?.peerCertificate.flatMap { PeerIdentity(certificate: $0) }
    self.remoteAddress = remoteAddress
  }
}

extension ServerContext {
  /// The caller as banjie's transport saw it; nil under another transport.
  public var banjiePeer: BanjiePeer? { self.transportSpecific as? BanjiePeer }
}
