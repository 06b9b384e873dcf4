import BanjieTLS
import GRPCCore
import NIOCore

/// Client side, right after `OpenSSLHandler`: when the client offered ALPN and the server
/// selected no protocol or another one than `banjie/1`, the connection is given up before
/// anything is sent on it (docs/PROTOCOL.md §1.1): the connection attempt fails UNAVAILABLE
/// saying that the server does not speak banjie/1, and the channel closes.
final class ApplicationProtocolCheck: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  /// The protocol of docs/PROTOCOL.md, as ALPN names it.
  static let applicationProtocol = "banjie/1"

  private let core: ConnectionCore
  private let offered: Bool
  private let server: String

  /// - Parameters:
  ///   - offered: whether the client's TLS context offers ALPN at all (a context offering none
  ///     cannot expect the server to select anything).
  ///   - server: `host:port`, for the error message.
  init(core: ConnectionCore, offered: Bool, server: String) {
    self.core = core
    self.offered = offered
    self.server = server
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if self.offered, let event = event as? TLSEvent, case .handshakeCompleted(let info) = event,
      info.alpnProtocol != Self.applicationProtocol
    {
      let selected = info.alpnProtocol.map { "selected ALPN protocol \"\($0)\"" } ?? "selected no ALPN protocol"
      let message =
        "the server at \(self.server) does not speak \(Self.applicationProtocol): it \(selected) "
        + "(banjie/1 offered); closing the connection"
      // Fails the connection attempt with this message (every caller waiting for it gets it),
      // then closes at once: the handshake event goes no further, so nothing is written.
      self.core.fail(error: RPCError(code: .unavailable, message: message), goAway: nil)
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }
}
