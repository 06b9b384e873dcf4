public import BanjieTLS
import BanjieWire
public import GRPCCore
public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// GRPCCore's `ServerTransport` over banjie's framed protocol over TLS (system OpenSSL) over TCP.
public final class BanjieServerTransport: ServerTransport {
  public typealias Bytes = BanjieBytes

  public struct Config: Sendable {
    public var host: String
    public var port: Int
    public var tls: TLSContext
    public var transport: TransportConfig = .serverDefaults
    /// Connections beyond this are closed as soon as they are accepted.
    public var maxConnections = 4096
    public var logger = Logger(label: "banjie.transport")

    public init(host: String, port: Int, tls: TLSContext) {
      self.host = host
      self.port = port
      self.tls = tls
    }
  }

  private struct State {
    var serverChannel: (any Channel)?
    var connections: [ObjectIdentifier: ConnectionCore] = [:]
    var shuttingDown = false
    var streams: AsyncStream<AcceptedStream>.Continuation?
    /// The largest `inboundBufferedPeak` of the connections already closed.
    var closedInboundPeak: Int64 = 0
    var closedOutboundPeak: Int64 = 0
  }

  private let config: Config
  private let group: any EventLoopGroup
  private let state = Mutex(State())
  private let boundAddress = ListenerAddress()
  /// The context new connections handshake with; replaced by `replaceTLSContext`.
  private let currentTLS: Mutex<TLSContext>

  public init(config: Config, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
    var config = config
    // Frame errors and GOAWAY reasons quote what the peer sent: escaped before they reach a line.
    config.logger = config.logger.escapingValues()
    self.config = config
    self.group = group
    self.currentTLS = Mutex(config.tls)
  }

  /// The TLS context that new connections use.
  public var tlsContext: TLSContext { self.currentTLS.withLock { $0 } }

  /// Makes every connection accepted from now on handshake with `context` (a renewed server
  /// certificate, CA bundle or revocation list). Open connections keep the context they
  /// were accepted with: each handler holds on to its own.
  public func replaceTLSContext(_ context: TLSContext) {
    self.currentTLS.withLock { $0 = context }
  }

  /// The bound address once listening (port 0 picks a free port); nil if listening failed.
  public var listeningAddress: SocketAddress? {
    get async { await self.boundAddress.value }
  }

  /// Connections open right now.
  public var connectionCount: Int { self.state.withLock { $0.connections.count } }

  /// The most MESSAGE bytes any one connection has held at once since the transport started
  /// (partial messages plus complete ones its handlers had not yet read), and what the open
  /// connections hold now. Flow control and MAX_MESSAGE_SIZE bound them; the hostile-input
  /// tests check that they do.
  public var inboundBuffered: (current: Int64, peakPerConnection: Int64) {
    self.perConnection(closedPeak: \.closedInboundPeak) { $0.inboundBuffered }
  }

  /// The most bytes any one connection has queued for a peer that was not reading (its socket
  /// taking no more writes) since the transport started. `maxQueuedOutboundBytes` bounds it, give
  /// or take one write; the abusive-peer tests check that it does.
  public var outboundQueued: (current: Int64, peakPerConnection: Int64) {
    self.perConnection(closedPeak: \.closedOutboundPeak) { $0.unwritableOutbound }
  }

  /// The open connections' figure summed, and the largest peak of any connection, open or closed.
  private func perConnection(
    closedPeak: KeyPath<State, Int64>, _ figure: (ConnectionCore) -> (current: Int64, peak: Int64)
  ) -> (current: Int64, peakPerConnection: Int64) {
    let (cores, closed) = self.state.withLock { (Array($0.connections.values), $0[keyPath: closedPeak]) }
    var current: Int64 = 0
    var peak = closed
    for core in cores {
      let value = figure(core)
      current += value.current
      peak = max(peak, value.peak)
    }
    return (current, peak)
  }

  public func listen(
    streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
  ) async throws {
    // Bounded: streams a busy server has not yet given a handler are refused, not hoarded.
    let (accepted, continuation) = AsyncStream<AcceptedStream>.makeStream(
      bufferingPolicy: .bufferingOldest(self.config.transport.maxPendingStreams))
    self.state.withLock { $0.streams = continuation }

    let serverChannel: any Channel
    do {
      serverChannel = try await ServerBootstrap(group: self.group)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            try self.configure(channel: channel, streams: continuation)
          }
        }
        .bind(host: self.config.host, port: self.config.port)
        .get()
    } catch {
      self.endListening()
      throw RuntimeError(code: .transportError, message: "cannot listen on \(self.config.host):\(self.config.port): \(error)", cause: error)
    }

    let shutDownAlready = self.state.withLock { state in
      state.serverChannel = serverChannel
      return state.shuttingDown
    }
    self.boundAddress.bound(to: serverChannel.localAddress)
    self.config.logger.info("listening", metadata: ["address": "\(serverChannel.localAddress.map { "\($0)" } ?? "?")"])
    if shutDownAlready { self.beginGracefulShutdown() }

    await withTaskCancellationHandler {
      await withDiscardingTaskGroup { group in
        for await stream in accepted {
          group.addTask { await Self.run(stream, handler: streamHandler) }
        }
      }
    } onCancel: {
      self.closeAll()
    }
    try? await serverChannel.close()
    self.endListening()
  }

  private func endListening() {
    self.boundAddress.ended()
  }

  private func configure(channel: any Channel, streams: AsyncStream<AcceptedStream>.Continuation) throws {
    let key = ObjectIdentifier(channel)
    var logger = self.config.logger
    logger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
    let core = ConnectionCore(
      role: .server, config: self.config.transport, channel: channel, logger: logger,
      onStream: { stream in
        if case .dropped(let refused) = streams.yield(stream) {
          refused.core.reset(
            streamID: refused.streamID, code: WireStatus.unavailable,
            message: "the server has too many calls waiting for a handler; the call was not processed")
        }
      }
    )
    let admitted = self.state.withLock { state -> Bool in
      guard !state.shuttingDown, state.connections.count < self.config.maxConnections else { return false }
      state.connections[key] = core
      return true
    }
    guard admitted else {
      logger.notice("connection refused: at the connection limit or shutting down", metadata: ["limit": "\(self.config.maxConnections)"])
      channel.close(promise: nil)
      return
    }
    channel.closeFuture.whenComplete { _ in
      self.connectionClosed(key)
    }
    let sync = channel.pipeline.syncOperations
    try sync.addHandler(try OpenSSLHandler(context: self.tlsContext))
    try sync.addHandler(ByteToMessageHandler(ConnectionFrameDecoder(settings: self.config.transport.settings)))
    try sync.addHandler(ConnectionHandler(core: core))
  }

  private func connectionClosed(_ key: ObjectIdentifier) {
    let core = self.state.withLock { $0.connections[key] }
    // Read outside the transport's lock: the two locks are never held together.
    let peak = core?.inboundBuffered.peak ?? 0
    let outboundPeak = core?.unwritableOutbound.peak ?? 0
    let finish: AsyncStream<AcceptedStream>.Continuation? = self.state.withLock { state in
      state.connections.removeValue(forKey: key)
      state.closedInboundPeak = max(state.closedInboundPeak, peak)
      state.closedOutboundPeak = max(state.closedOutboundPeak, outboundPeak)
      return state.shuttingDown && state.connections.isEmpty ? state.streams : nil
    }
    finish?.finish()
  }

  private static func run(
    _ accepted: AcceptedStream,
    handler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
  ) async {
    let core = accepted.core
    let peer = core.peer.withLock { $0 } ?? BanjiePeer(session: nil, remoteAddress: "unknown")
    await withServerContextRPCCancellationHandle { handle in
      core.attach(cancellation: handle, streamID: accepted.streamID)
      var context = ServerContext(
        descriptor: accepted.descriptor,
        remotePeer: peer.remoteAddress,
        localPeer: core.localAddress,
        cancellation: handle
      )
      context.transportSpecific = peer
      let stream = RPCStream(
        descriptor: accepted.descriptor,
        inbound: RPCAsyncSequence(wrapping: accepted.inbox),
        outbound: RPCWriter.Closable(wrapping: ServerStreamWriter(core: core, streamID: accepted.streamID))
      )
      await handler(stream, context)
    }
    core.handlerFinished(streamID: accepted.streamID)
  }

  /// Stops accepting connections, sends GOAWAY on every connection and lets calls in flight
  /// finish; `listen()` returns once the last connection has closed.
  public func beginGracefulShutdown() {
    let (channel, cores, finish) = self.state.withLock { state in
      state.shuttingDown = true
      let finish = state.connections.isEmpty ? state.streams : nil
      return (state.serverChannel, Array(state.connections.values), finish)
    }
    channel?.close(promise: nil)
    for core in cores { core.beginDraining() }
    finish?.finish()
  }

  /// Closes every connection at once (the listening task was cancelled).
  private func closeAll() {
    let (channel, cores, streams) = self.state.withLock { state in
      state.shuttingDown = true
      return (state.serverChannel, Array(state.connections.values), state.streams)
    }
    channel?.close(promise: nil)
    for core in cores {
      core.fail(error: RPCError(code: .unavailable, message: "server stopped"), goAway: (.noError, "server stopped"))
    }
    streams?.finish()
  }

  /// Closes the connections whose client certificate has one of these serials (revocation).
  @discardableResult
  public func closeConnections(where predicate: @Sendable (BanjiePeer) -> Bool) -> Int {
    let cores = self.state.withLock { Array($0.connections.values) }
    var closed = 0
    for core in cores {
      let peer = core.peer.withLock { $0 } ?? BanjiePeer(session: nil, remoteAddress: "unknown")
      if predicate(peer) {
        core.fail(error: RPCError(code: .unauthenticated, message: "certificate revoked"), goAway: (.noError, "certificate revoked"))
        closed += 1
      }
    }
    return closed
  }
}
