import BanjieTLS
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A CA, a server certificate for localhost / banjie.test / 127.0.0.1 and a clerk
/// certificate, made fresh in a temporary directory that `withPKI` removes afterwards.
struct TestPKI: Sendable {
  let directory: String
  let authority: CertificateAuthority
  let server: (certificateFile: String, privateKeyFile: String)
  let clerk: (certificateFile: String, privateKeyFile: String, serialNumber: String)

  var caFile: String { self.authority.certificateFile }

  func serverConfiguration() -> TLSConfiguration {
    .server(certificateChainFile: self.server.certificateFile, privateKeyFile: self.server.privateKeyFile, trustRootsFile: self.caFile)
  }

  func clientConfiguration(certificate: (certificateFile: String, privateKeyFile: String)? = nil) -> TLSConfiguration {
    let certificate = certificate ?? (self.clerk.certificateFile, self.clerk.privateKeyFile)
    return .client(
      certificateChainFile: certificate.certificateFile, privateKeyFile: certificate.privateKeyFile, trustRootsFile: self.caFile)
  }

  /// A second, unrelated CA in a subdirectory.
  func otherAuthority() throws -> CertificateAuthority {
    try CertificateAuthority.create(directory: self.directory + "/other-ca", commonName: "some other CA")
  }
}

func withPKI<Result>(_ body: (TestPKI) async throws -> Result) async throws -> Result {
  let pki = try TestPKI.make()
  defer { pki.remove() }
  return try await body(pki)
}

func withPKISync<Result>(_ body: (TestPKI) throws -> Result) throws -> Result {
  let pki = try TestPKI.make()
  defer { pki.remove() }
  return try body(pki)
}

extension TestPKI {
  static func make() throws -> TestPKI {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-tls-\(UUID().uuidString)").path
    do {
      let authority = try CertificateAuthority.create(directory: directory + "/ca")
      let server = try authority.issueServerCertificate(dnsNames: ["localhost", "banjie.test"], ipAddresses: ["127.0.0.1", "::1"])
      let clerk = try authority.issueClientCertificate(role: .clerk, organization: "330110-SPJ", person: "Test Clerk")
      return TestPKI(directory: directory, authority: authority, server: server, clerk: clerk)
    } catch {
      try? FileManager.default.removeItem(atPath: directory)
      throw error
    }
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: self.directory)
  }
}

/// What one side of the test connections saw; filled from event loops, read from tests.
final class Recorder: Sendable {
  struct Snapshot: Sendable {
    var sessions: [TLSSessionInfo] = []
    var errors: [any Error] = []
    var received: [UInt8] = []
    var activeCount = 0
    var inactiveCount = 0
    var closeRequestedAt: ContinuousClock.Instant?
    var inactiveAt: ContinuousClock.Instant?

    var tlsErrorCodes: [TLSError.Code] { self.errors.compactMap { ($0 as? TLSError)?.code } }
    var tlsErrorText: String { self.errors.map { "\($0)" }.joined(separator: "\n") }
  }

  private let state = Mutex(Snapshot())

  var snapshot: Snapshot { self.state.withLock { $0 } }

  func update(_ body: (inout Snapshot) -> Void) {
    self.state.withLock { body(&$0) }
  }

  /// Waits (polling) until `predicate` holds; fails the test after `timeout`.
  @discardableResult
  func wait(
    timeout: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    until predicate: (Snapshot) -> Bool
  ) async throws -> Snapshot {
    let deadline = ContinuousClock.now + timeout
    while true {
      let snapshot = self.snapshot
      if predicate(snapshot) { return snapshot }
      if ContinuousClock.now >= deadline {
        Issue.record("timed out waiting; errors so far: \(snapshot.tlsErrorText)", sourceLocation: sourceLocation)
        throw TimedOut()
      }
      try await Task.sleep(for: .milliseconds(5))
    }
  }
}

struct TimedOut: Error {}

/// Records events; optionally echoes, closes on a "bye", or writes a greeting at handshake.
final class RecordingHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  struct Behaviour: Sendable {
    var echo = false
    var closeOnBye = false
    /// Written and flushed as soon as the channel is active, before the handshake finished.
    var earlyWrite: [UInt8]? = nil
    /// Written and followed at once by close() when the handshake completes.
    var writeThenCloseAtHandshake: [UInt8]? = nil
  }

  private let recorder: Recorder
  private let behaviour: Behaviour

  init(_ recorder: Recorder, _ behaviour: Behaviour = Behaviour()) {
    self.recorder = recorder
    self.behaviour = behaviour
  }

  func channelActive(context: ChannelHandlerContext) {
    self.recorder.update { $0.activeCount += 1 }
    if let early = self.behaviour.earlyWrite {
      context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: early)), promise: nil)
    }
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.recorder.update {
      $0.inactiveCount += 1
      $0.inactiveAt = .now
    }
    context.fireChannelInactive()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? TLSEvent, case .handshakeCompleted(let info) = event {
      self.recorder.update { $0.sessions.append(info) }
      if let bytes = self.behaviour.writeThenCloseAtHandshake {
        context.write(self.wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
        context.flush()
        self.recorder.update { $0.closeRequestedAt = .now }
        context.close(promise: nil)
      }
    }
    context.fireUserInboundEventTriggered(event)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = self.unwrapInboundIn(data)
    self.recorder.update { $0.received.append(contentsOf: buffer.readableBytesView) }
    if self.behaviour.closeOnBye, buffer.readableBytesView.elementsEqual(Array("bye".utf8)) {
      self.recorder.update { $0.closeRequestedAt = .now }
      context.close(promise: nil)
      return
    }
    if self.behaviour.echo {
      context.write(self.wrapOutboundOut(buffer), promise: nil)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    if self.behaviour.echo { context.flush() }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    self.recorder.update { $0.errors.append(error) }
  }
}

/// Placed below the TLS handler: once switched on, swallows every inbound byte, so this
/// peer never answers a close_notify.
final class InboundGate: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  final class Switch: Sendable {
    private let closed = Mutex(false)
    func close() { self.closed.withLock { $0 = true } }
    var isClosed: Bool { self.closed.withLock { $0 } }
  }

  private let gateSwitch: Switch
  init(_ gateSwitch: Switch) { self.gateSwitch = gateSwitch }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if !self.gateSwitch.isClosed { context.fireChannelRead(data) }
  }
}

struct TestServer {
  let channel: any Channel
  let recorder: Recorder
  var port: Int { self.channel.localAddress?.port ?? 0 }

  static func start(
    configuration: TLSConfiguration,
    behaviour: RecordingHandler.Behaviour = .init(echo: true)
  ) async throws -> TestServer {
    let context = try TLSContext(configuration: configuration)
    let recorder = Recorder()
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: context))
          try channel.pipeline.syncOperations.addHandler(RecordingHandler(recorder, behaviour))
        }
      }
      .bind(host: "127.0.0.1", port: 0)
      .get()
    return TestServer(channel: channel, recorder: recorder)
  }

  func stop() async {
    try? await self.channel.close()
  }
}

struct TestClient {
  let channel: any Channel
  let recorder: Recorder

  static func connect(
    port: Int,
    configuration: TLSConfiguration,
    serverHostname: String? = "localhost",
    behaviour: RecordingHandler.Behaviour = .init(),
    gate: InboundGate.Switch? = nil
  ) async throws -> TestClient {
    let context = try TLSContext(configuration: configuration)
    let recorder = Recorder()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let gate { try channel.pipeline.syncOperations.addHandler(InboundGate(gate)) }
          try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: context, serverHostname: serverHostname))
          try channel.pipeline.syncOperations.addHandler(RecordingHandler(recorder, behaviour))
        }
      }
      .connect(host: "127.0.0.1", port: port)
      .get()
    return TestClient(channel: channel, recorder: recorder)
  }

  func send(_ bytes: [UInt8]) async throws {
    try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
  }

  /// Waits for the channel to close; fails the test after `timeout`.
  func waitClosed(timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await BanjieTLSTests.waitClosed(self.channel, timeout: timeout, sourceLocation: sourceLocation)
  }
}

func waitClosed(_ channel: any Channel, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation) async throws {
  let closed = Completion(channel.closeFuture)
  let deadline = ContinuousClock.now + timeout
  while !closed.isDone {
    if ContinuousClock.now >= deadline {
      Issue.record("channel still open after \(timeout)", sourceLocation: sourceLocation)
      throw TimedOut()
    }
    try await Task.sleep(for: .milliseconds(5))
  }
}

/// Whether a future has completed, readable from any thread.
final class Completion: Sendable {
  private let done = Mutex(false)

  init<Value: Sendable>(_ future: EventLoopFuture<Value>) {
    future.whenComplete { _ in self.done.withLock { $0 = true } }
  }

  var isDone: Bool { self.done.withLock { $0 } }
}

/// A plain TCP connection (no TLS) that records whatever it receives.
func connectRaw(port: Int, recorder: Recorder) async throws -> any Channel {
  try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .channelInitializer { channel in
      channel.eventLoop.makeCompletedFuture {
        try channel.pipeline.syncOperations.addHandler(RecordingHandler(recorder))
      }
    }
    .connect(host: "127.0.0.1", port: port)
    .get()
}

func randomBytes(_ count: Int) -> [UInt8] {
  var generator = SystemRandomNumberGenerator()
  return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

// MARK: - Subprocesses

let opensslPath = "/usr/bin/openssl"
let opensslAvailable = FileManager.default.isExecutableFile(atPath: opensslPath)

/// Runs `openssl` with stdin from /dev/null; stdout and stderr together; killed after `timeout`.
func runOpenSSL(_ arguments: [String], timeout: Duration = .seconds(15)) async throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: opensslPath)
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
  try process.run()
  let reader = pipe.fileHandleForReading
  let output = Task.detached { reader.readDataToEndOfFile() }
  let deadline = ContinuousClock.now + timeout
  while process.isRunning {
    if ContinuousClock.now >= deadline {
      process.terminate()
      Issue.record("openssl \(arguments.joined(separator: " ")) did not finish within \(timeout)")
      break
    }
    try await Task.sleep(for: .milliseconds(10))
  }
  process.waitUntilExit()
  let data = await output.value
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
