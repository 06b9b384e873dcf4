public import BanjieTLS
import BanjieWire
public import GRPCCore
public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// GRPCCore's `ClientTransport` over banjie's framed protocol: one multiplexed TLS connection
/// to the server, opened on first use and re-opened when it goes away.
public final class BanjieClientTransport: ClientTransport {
  public typealias Bytes = BanjieBytes

  public struct Config: Sendable {
    public var host: String
    public var port: Int
    public var tls: TLSContext
    /// The name or IP address the server certificate must carry; defaults to `host`.
    public var serverName: String?
    public var transport: TransportConfig = .clientDefaults
    public var connectTimeout: TimeAmount = .seconds(10)
    public var logger = Logger(label: "banjie.client")

    public init(host: String, port: Int, tls: TLSContext) {
      self.host = host
      self.port = port
      self.tls = tls
    }
  }

  private enum Connection {
    case idle
    case connecting(EventLoopFuture<ConnectionCore>)
    case ready(ConnectionCore)
    case shutDown
  }

  private struct State {
    var connection: Connection = .idle
    var shutdownWaiter: CheckedContinuation<Void, Never>?
    var shutdownRequested = false
    var allCores: [ObjectIdentifier: ConnectionCore] = [:]
  }

  private let config: Config
  private let group: any EventLoopGroup
  private let state = Mutex(State())

  public let retryThrottle: RetryThrottle? = nil

  public init(config: Config, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
    var config = config
    // A server's GOAWAY reasons and frame errors are logged escaped, like the server's own lines.
    config.logger = config.logger.escapingValues()
    self.config = config
    self.group = group
  }

  public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? { nil }

  /// Connections are opened on demand; this waits until shutdown and then lets them drain.
  public func connect() async throws {
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let resumeNow = self.state.withLock { state -> Bool in
          if state.shutdownRequested { return true }
          state.shutdownWaiter = continuation
          return false
        }
        if resumeNow { continuation.resume() }
      }
    } onCancel: {
      self.beginGracefulShutdown()
    }
  }

  public func beginGracefulShutdown() {
    let (waiter, cores, connecting): (CheckedContinuation<Void, Never>?, [ConnectionCore], EventLoopFuture<ConnectionCore>?) =
      self.state.withLock { state in
        state.shutdownRequested = true
        var connecting: EventLoopFuture<ConnectionCore>?
        if case .connecting(let future) = state.connection { connecting = future }
        state.connection = .shutDown
        let waiter = state.shutdownWaiter
        state.shutdownWaiter = nil
        return (waiter, Array(state.allCores.values), connecting)
      }
    for core in cores { core.beginDraining(message: "client closing") }
    connecting?.whenSuccess { $0.beginDraining(message: "client closing") }
    waiter?.resume()
  }

  public func withStream<T: Sendable>(
    descriptor: MethodDescriptor,
    options: CallOptions,
    _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
  ) async throws -> T {
    let core = try await self.readyConnection()
    try await core.reserveSlot()
    let stream = ClientStream(core: core, path: "/" + descriptor.fullyQualifiedMethod)
    let rpcStream = RPCStream(
      descriptor: descriptor,
      inbound: RPCAsyncSequence(wrapping: stream.inbox),
      outbound: RPCWriter.Closable(wrapping: ClientStreamWriter(stream: stream))
    )
    let context = ClientContext(
      descriptor: descriptor,
      remotePeer: core.channel.remoteAddress.map { "\($0)" } ?? "\(self.config.host):\(self.config.port)",
      localPeer: core.channel.localAddress.map { "\($0)" } ?? "unknown"
    )
    do {
      let result = try await closure(rpcStream, context)
      stream.release()
      return result
    } catch {
      stream.release()
      throw error
    }
  }

  /// The TLS session of the current connection (for `banjie health`).
  public func currentSession() async throws -> TLSSessionInfo? {
    try await self.readyConnection().session.withLock { $0 }
  }

  private func readyConnection() async throws -> ConnectionCore {
    enum Next {
      case use(ConnectionCore)
      case wait(EventLoopFuture<ConnectionCore>)
      case start(EventLoopPromise<ConnectionCore>)
      case shutDown
    }
    let next: Next = self.state.withLock { state in
      switch state.connection {
      case .ready(let core) where core.isActive:
        return .use(core)
      case .connecting(let future):
        return .wait(future)
      case .shutDown:
        return .shutDown
      case .idle, .ready:
        let promise = self.group.any().makePromise(of: ConnectionCore.self)
        state.connection = .connecting(promise.futureResult)
        return .start(promise)
      }
    }
    switch next {
    case .use(let core):
      return core
    case .shutDown:
      throw RPCError(code: .unavailable, message: "the client is shutting down")
    case .wait(let future):
      return try await Self.mapConnectError(future, config: self.config)
    case .start(let promise):
      self.startConnection(promise: promise)
      return try await Self.mapConnectError(promise.futureResult, config: self.config)
    }
  }

  private static func mapConnectError(_ future: EventLoopFuture<ConnectionCore>, config: Config) async throws -> ConnectionCore {
    do {
      return try await future.get()
    } catch let error as RPCError {
      throw error
    } catch {
      throw RPCError(code: .unavailable, message: "cannot connect to banjied at \(config.host):\(config.port): \(error)", cause: error)
    }
  }

  private func startConnection(promise: EventLoopPromise<ConnectionCore>) {
    let config = self.config
    let coreBox = LockedBox<ConnectionCore?>(nil)
    let bootstrap = ClientBootstrap(group: self.group)
      .connectTimeout(config.connectTimeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let core = ConnectionCore(
            role: .client, config: config.transport, channel: channel, logger: config.logger,
            onUnusable: { [weak self] in self?.connectionUnusable(channel: channel) }
          )
          coreBox.set(core)
          let sync = channel.pipeline.syncOperations
          try sync.addHandler(try OpenSSLHandler(context: config.tls, serverHostname: config.serverName ?? config.host))
          try sync.addHandler(
            ApplicationProtocolCheck(
              core: core, offered: !config.tls.configuration.applicationProtocols.isEmpty, server: "\(config.host):\(config.port)"))
          try sync.addHandler(ByteToMessageHandler(ConnectionFrameDecoder(settings: config.transport.settings)))
          try sync.addHandler(ConnectionHandler(core: core))
        }
      }
    bootstrap.connect(host: config.host, port: config.port).flatMap { channel -> EventLoopFuture<ConnectionCore> in
      guard let core = coreBox.get() else {
        return channel.eventLoop.makeFailedFuture(RPCError(code: .internalError, message: "connection set-up failed"))
      }
      // Ready once the server's SETTINGS arrive (after the TLS handshake).
      let timeout = channel.eventLoop.scheduleTask(in: config.transport.settingsTimeout) {
        core.fail(
          error: RPCError(code: .unavailable, message: "banjied at \(config.host):\(config.port) did not answer in time"), goAway: nil)
      }
      return core.ready.futureResult.map { _ in
        timeout.cancel()
        return core
      }
    }.whenComplete { result in
      let shutDown: Bool = self.state.withLock { state in
        if case .shutDown = state.connection { return true }
        switch result {
        case .success(let core):
          state.connection = .ready(core)
          state.allCores[ObjectIdentifier(core)] = core
        case .failure:
          state.connection = .idle
        }
        return false
      }
      if case .success(let core) = result {
        core.channel.closeFuture.whenComplete { _ in
          _ = self.state.withLock { $0.allCores.removeValue(forKey: ObjectIdentifier(core)) }
        }
        if shutDown { core.beginDraining(message: "client closing") }
      }
      promise.completeWith(result)
    }
  }

  private func connectionUnusable(channel: any Channel) {
    self.state.withLock { state in
      if case .ready(let core) = state.connection, core.channel === channel {
        state.connection = .idle
      }
    }
  }
}
