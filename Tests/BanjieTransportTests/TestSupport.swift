import BanjieEcho
import BanjieProto
import BanjieTLS
import BanjieWire
import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BanjieTransport

/// A county CA, a server certificate and client certificates, made once per test run.
final class TestPKI: Sendable {
  static let shared: TestPKI = {
    do { return try TestPKI() } catch { fatalError("cannot create test certificates: \(error)") }
  }()

  let directory: String
  let ca: CertificateAuthority
  let server: (certificateFile: String, privateKeyFile: String)
  let clerk: (certificateFile: String, privateKeyFile: String, serialNumber: String)
  let office: (certificateFile: String, privateKeyFile: String, serialNumber: String)
  let otherCA: CertificateAuthority
  let stranger: (certificateFile: String, privateKeyFile: String, serialNumber: String)

  init() throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-transport-tests-\(getpid())").path
    try? FileManager.default.removeItem(atPath: base)
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    self.directory = base
    self.ca = try CertificateAuthority.create(directory: base + "/ca")
    self.server = try self.ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    self.clerk = try self.ca.issueClientCertificate(role: .clerk, organization: "370830-SCJGJ", person: "王芳")
    self.office = try self.ca.issueClientCertificate(role: .office, organization: "370830-YSB", person: "李明")
    self.otherCA = try CertificateAuthority.create(directory: base + "/other")
    self.stranger = try self.otherCA.issueClientCertificate(role: .clerk, organization: "x", person: "外人")
  }

  /// The handshake may take as long as a loaded test machine needs: these suites test the
  /// transport, not TLS timeouts (BanjieTLSTests does, with its own configurations).
  static let handshakeTimeout: TimeAmount = .seconds(120)

  func serverContext() throws -> TLSContext {
    var configuration = TLSConfiguration.server(
      certificateChainFile: self.server.certificateFile, privateKeyFile: self.server.privateKeyFile,
      trustRootsFile: self.ca.certificateFile)
    configuration.handshakeTimeout = Self.handshakeTimeout
    return try TLSContext(configuration: configuration)
  }

  func clientContext(stranger: Bool = false) throws -> TLSContext {
    let cert = stranger ? self.stranger : self.clerk
    var configuration = TLSConfiguration.client(
      certificateChainFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile, trustRootsFile: self.ca.certificateFile)
    configuration.handshakeTimeout = Self.handshakeTimeout
    return try TLSContext(configuration: configuration)
  }
}

/// A real banjie server on 127.0.0.1, port 0, running the echo service.
struct EchoHarness {
  let echo: EchoService
  let server: GRPCServer<BanjieServerTransport>
  let transport: BanjieServerTransport
  let port: Int

  static func withServer<R: Sendable>(
    configure: (inout BanjieServerTransport.Config) -> Void = { _ in },
    _ body: (EchoHarness) async throws -> R
  ) async throws -> R {
    let pki = TestPKI.shared
    var config = BanjieServerTransport.Config(host: "127.0.0.1", port: 0, tls: try pki.serverContext())
    config.logger = .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    // As long as a loaded test machine needs (a test of the timeout itself sets its own).
    config.transport.settingsTimeout = .seconds(120)
    configure(&config)
    let transport = BanjieServerTransport(config: config)
    let echo = EchoService()
    let server = GRPCServer(transport: transport, services: [echo])
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await server.serve() }
      guard let address = await transport.listeningAddress, let port = address.port else {
        throw RPCError(code: .internalError, message: "server did not start")
      }
      let harness = EchoHarness(echo: echo, server: server, transport: transport, port: port)
      do {
        let result = try await body(harness)
        server.beginGracefulShutdown()
        try await group.waitForAll()
        return result
      } catch {
        server.beginGracefulShutdown()
        group.cancelAll()
        throw error
      }
    }
  }

  func withClient<R: Sendable>(
    stranger: Bool = false,
    configure: (inout BanjieClientTransport.Config) -> Void = { _ in },
    _ body: (Banjie_V1_EchoService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    var config = BanjieClientTransport.Config(host: "127.0.0.1", port: self.port, tls: try TestPKI.shared.clientContext(stranger: stranger))
    config.logger = .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    configure(&config)
    let transport = BanjieClientTransport(config: config)
    return try await withGRPCClient(transport: transport) { client in
      try await body(Banjie_V1_EchoService.Client(wrapping: client))
    }
  }
}

/// A hand-driven client that speaks frames directly, for what a well-behaved client never does.
final class RawConnection: Sendable {
  let channel: any Channel
  private let received: Mutex<[Frame]> = Mutex([])
  private let closed: Mutex<Bool> = Mutex(false)

  static func connect(port: Int, tls: Bool = true, sendPreface: Bool = true) async throws -> RawConnection {
    let collector = FrameCollector()
    let clientTLS = try TestPKI.shared.clientContext()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let sync = channel.pipeline.syncOperations
          if tls { try sync.addHandler(try OpenSSLHandler(context: clientTLS, serverHostname: "127.0.0.1")) }
          try sync.addHandler(ByteToMessageHandler(ConnectionFrameDecoder(settings: ConnectionSettings())))
          try sync.addHandler(collector)
        }
      }
      .connect(host: "127.0.0.1", port: port).get()
    let connection = RawConnection(channel: channel)
    collector.connection.withLock { $0 = connection }
    channel.closeFuture.whenComplete { _ in connection.closed.withLock { $0 = true } }
    if sendPreface {
      var buffer = channel.allocator.buffer(capacity: 64)
      buffer.writeBytes(FrameLayout.preface)
      FrameEncoder.encode(.settings(ack: false, ConnectionSettings().entries), into: &buffer)
      try await channel.writeAndFlush(buffer)
    }
    return connection
  }

  private init(channel: any Channel) { self.channel = channel }

  fileprivate func append(_ frame: Frame) { self.received.withLock { $0.append(frame) } }

  var frames: [Frame] { self.received.withLock { $0 } }
  var isClosed: Bool { self.closed.withLock { $0 } }

  func send(_ frames: [Frame]) async throws {
    var buffer = self.channel.allocator.buffer(capacity: 256)
    for frame in frames { FrameEncoder.encode(frame, into: &buffer) }
    try await self.channel.writeAndFlush(buffer)
  }

  func sendRaw(_ bytes: [UInt8]) async throws {
    try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
  }

  /// Polls until `predicate` holds over the frames received (or the connection closed), up to `timeout`.
  @discardableResult
  /// Waits until `predicate` holds (at most `timeout`, a hang guard sized for a loaded machine).
  func waitFor(timeout: Duration = .seconds(60), _ predicate: ([Frame]) -> Bool) async throws -> [Frame] {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      let frames = self.frames
      if predicate(frames) { return frames }
      try await Task.sleep(for: .milliseconds(10))
    }
    return self.frames
  }

  func waitUntilClosed(timeout: Duration = .seconds(60)) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if self.isClosed { return true }
      try await Task.sleep(for: .milliseconds(10))
    }
    return self.isClosed
  }

  func close() async { try? await self.channel.close() }

  static func echoRequest(text: String = "hi", count: UInt32 = 0, payloadSize: Int = 0, delayMs: UInt32 = 0) -> ByteBuffer {
    var request = Banjie_V1_EchoRequest()
    request.text = text
    request.count = count
    request.delayMs = delayMs
    request.payload = Data(repeating: 0x61, count: payloadSize)
    return ByteBuffer(bytes: (try? request.serializedBytes() as [UInt8]) ?? [])
  }
}

private final class FrameCollector: ChannelInboundHandler, Sendable {
  typealias InboundIn = Frame
  let connection = Mutex<RawConnection?>(nil)
  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = Self.unwrapInboundIn(data)
    self.connection.withLock { $0 }?.append(frame)
  }
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}

extension [Frame] {
  func trailers(on stream: UInt32) -> TrailersPayload? {
    for case .trailers(let id, let payload) in self where id == stream { return payload }
    return nil
  }
  func reset(on stream: UInt32) -> (code: UInt32, message: String)? {
    for case .rstStream(let id, let code, let message) in self where id == stream { return (code, message) }
    return nil
  }
  var goAway: (GoAwayCode, String)? {
    for case .goAway(_, let code, let message) in self { return (code, message) }
    return nil
  }
  func messageBytes(on stream: UInt32) -> Int {
    var total = 0
    for case .message(let id, let bytes, _, _) in self where id == stream { total += bytes.readableBytes }
    return total
  }
}
