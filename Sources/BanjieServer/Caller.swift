import BanjieCore
public import BanjieTLS
import BanjieTransport
public import GRPCCore

/// The person calling, as their verified client certificate names them.
public struct Caller: Sendable, Hashable {
  public var identity: PeerIdentity
  public var role: PeerIdentity.Role { self.identity.role }
  public var organization: String { self.identity.organization }
  public var person: String { self.identity.person }

  /// The caller of an RPC. A certificate from the county CA that names no banjie role cannot call.
  public static func of(_ context: ServerContext) throws(RPCError) -> Caller {
    guard let peer = context.banjiePeer else {
      throw RPCError(code: .unauthenticated, message: "no verified client certificate on this connection")
    }
    guard let identity = peer.identity else {
      let subject =
        peer.session?.peerCertificate.map { "OU=\($0.organizationalUnit ?? "-"), O=\($0.organization ?? "-"), CN=\($0.commonName ?? "-")" }
        ?? "none"
      throw RPCError(
        code: .permissionDenied,
        message:
          "client certificate (\(subject)) names no banjie role: OU must be clerk, enterprise, liaison, office, pad, dispatcher or monitor")
    }
    return Caller(identity: identity)
  }

  /// The refusal of a rating pad (评价器) calling `method`: a pad may call RateCase only
  /// (docs/DOMAIN.md §21). `RequestInterceptor` refuses every other method before it runs; role
  /// switches name this error for the pad too.
  static func padRefused(_ method: String) -> DomainError {
    DomainError(kind: .permissionDenied, code: "pad.rpc_not_allowed", arguments: [method])
  }

  /// The refusal of the 12345 dispatcher calling `method`: it may call the appeal service, list
  /// departments and describe the server only (docs/DOMAIN.md §24). `RequestInterceptor`
  /// refuses every other method before it runs; role switches name this error too.
  static func dispatcherRefused(_ method: String) -> DomainError {
    DomainError(kind: .permissionDenied, code: "dispatcher.rpc_not_allowed", arguments: [method])
  }

  /// The refusal of a monitor (a load balancer's health probe) calling `method`: it may ask for
  /// health and the server's description only (docs/DOMAIN.md §11). `RequestInterceptor` refuses
  /// every other method before it runs; role switches name this error too.
  static func monitorRefused(_ method: String) -> DomainError {
    DomainError(kind: .permissionDenied, code: "monitor.rpc_not_allowed", arguments: [method])
  }

  /// Refuses the call unless the caller has one of `roles`.
  public func require(_ roles: PeerIdentity.Role..., action: String) throws(RPCError) {
    guard roles.contains(self.role) else {
      throw RPCError(
        code: .permissionDenied,
        message: "\(self.role.rawValue) \(self.person) may not \(action); allowed: \(roles.map(\.rawValue).joined(separator: ", "))")
    }
  }
}
