import BanjieTransport
import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The Prometheus scrape endpoint: a tiny HTTP/1.1 responder, plain text without TLS, meant
/// for loopback (`metrics.listen`). `GET /metrics` answers 200 with the text format; anything
/// else 404. One request per connection (`Connection: close`), and a connection that sends no
/// complete request within `requestTimeout` is closed.
///
/// Runs as a service of banjied's `ServiceGroup`: graceful shutdown closes the listening socket
/// and waits for the scrapes in progress.
public final class MetricsEndpoint: Service, Sendable {
  static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  private let host: String
  private let port: Int
  private let scrape: @Sendable () async -> [UInt8]
  private let logger: Logger
  private let group: any EventLoopGroup
  private let requestTimeout: Duration

  private let boundAddress = ListenerAddress()

  /// - Parameter scrape: refreshes the gauges and renders the registry; runs off the event loop.
  public init(
    host: String, port: Int, logger: Logger, requestTimeout: Duration = .seconds(10),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    scrape: @escaping @Sendable () async -> [UInt8]
  ) {
    self.host = host
    self.port = port
    self.logger = logger
    self.requestTimeout = requestTimeout
    self.group = group
    self.scrape = scrape
  }

  /// The bound address once listening (port 0 picks a free port); nil if binding failed.
  public var listeningAddress: SocketAddress? {
    get async { await self.boundAddress.value }
  }

  private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

  public func run() async throws {
    let server: NIOAsyncChannel<Connection, Never>
    do {
      server = try await ServerBootstrap(group: self.group)
        .serverChannelOption(.backlog, value: 16)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: self.host, port: self.port) { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            return try Connection(wrappingChannelSynchronously: channel)
          }
        }
    } catch {
      self.boundAddress.ended()
      throw StartupError("cannot listen for metrics on \(self.host):\(self.port) (metrics.listen): \(error)")
    }
    self.boundAddress.bound(to: server.channel.localAddress)
    self.logger.info("metrics endpoint listening", metadata: ["address": "\(server.channel.localAddress.map { "\($0)" } ?? "?")"])
    if !Self.isLoopback(self.host) {
      self.logger.warning(
        "the metrics endpoint is plain HTTP and listens beyond this machine", metadata: ["metrics.listen": "\(self.host):\(self.port)"])
    }
    let channel = server.channel
    try await withGracefulShutdownHandler {
      try await withTaskCancellationHandler {
        try await server.executeThenClose { connections in
          try await withThrowingDiscardingTaskGroup { group in
            for try await connection in connections {
              group.addTask { await self.handle(connection) }
            }
          }
        }
      } onCancel: {
        channel.close(promise: nil)
      }
    } onGracefulShutdown: {
      channel.close(promise: nil)
    }
  }

  /// Serves one request; the connection is closed after the answer or at the timeout.
  private func handle(_ connection: Connection) async {
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.serve(connection) }
      group.addTask { [requestTimeout] in try? await Task.sleep(for: requestTimeout) }
      // Whichever ends first (the answer, the timeout or cancellation) closes the connection.
      _ = await group.next()
      connection.channel.close(promise: nil)
      group.cancelAll()
    }
  }

  private func serve(_ connection: Connection) async {
    do {
      try await connection.executeThenClose { inbound, outbound in
        var head: HTTPRequestHead?
        for try await part in inbound {
          switch part {
          case .head(let requestHead):
            head = requestHead
          case .body:
            continue
          case .end:
            guard let head else { return }
            let found = head.method == .GET && head.uri.split(separator: "?", maxSplits: 1).first == "/metrics"
            let body = found ? await self.scrape() : Array("not found: this endpoint serves GET /metrics\n".utf8)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? Self.contentType : "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: "\(body.count)")
            headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers)))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
            return
          }
        }
      }
    } catch {
      self.logger.debug("metrics request failed", metadata: ["error": "\(error)"])
    }
  }

  static func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
  }
}
