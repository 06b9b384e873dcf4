import BanjieWire
import GRPCCore
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import BanjieTransport

/// Counts what reaches the socket.
private final class WriteCounter: ChannelOutboundHandler {
  typealias OutboundIn = ByteBuffer
  var writes: [ByteBuffer] = []
  var flushes = 0
  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    self.writes.append(Self.unwrapOutboundIn(data))
    context.write(data, promise: promise)
  }
  func flush(context: ChannelHandlerContext) {
    self.flushes += 1
    context.flush()
  }
}

@Suite("A unary call is one write and one flush each way")
struct CoalescingTests {
  static func frames(in buffer: ByteBuffer) throws -> [Frame] {
    var buffer = buffer
    var frames: [Frame] = []
    while let frame = try FrameDecoder().decodeFrame(from: &buffer) { frames.append(frame) }
    return frames
  }

  @Test("the server's HEADERS, MESSAGE and TRAILERS leave together")
  func serverSide() async throws {
    let loop = EmbeddedEventLoop()
    let channel = EmbeddedChannel(loop: loop)
    let counter = WriteCounter()
    try channel.pipeline.syncOperations.addHandler(counter)
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
    let accepted = LockedBox<AcceptedStream?>(nil)
    // The box holds the accepted stream, which holds the core, whose onStream holds the box:
    // break the cycle so that nothing outlives the test (LeakSanitizer checks).
    defer { accepted.set(nil) }
    let core = ConnectionCore(
      role: .server, config: .serverDefaults, channel: channel, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
      onStream: { accepted.set($0) }
    )
    core.start()
    try core.receive(.settings(ack: false, []))
    loop.run()
    try core.receive(.headers(streamID: 1, HeadersPayload(path: "/banjie.v1.EchoService/Get"), endStream: false))
    try core.receive(.message(streamID: 1, ByteBuffer(bytes: [0x0A, 0x01, 0x41]), endMessage: true, endStream: true))
    loop.run()
    #expect(accepted.get()?.streamID == 1)
    counter.writes.removeAll()
    counter.flushes = 0

    let writer = ServerStreamWriter(core: core, streamID: 1)
    try await writer.write(.metadata([:]))
    try await writer.write(.message(BanjieBytes([0x0A, 0x01, 0x41])))
    try await writer.write(.status(Status(code: .ok, message: ""), [:]))
    loop.run()
    loop.advanceTime(by: .milliseconds(5))  // the coalescing timer fires and finds nothing left
    #expect(counter.writes.count == 1)
    #expect(counter.flushes == 1)
    let frames = try Self.frames(in: try #require(counter.writes.first))
    #expect(frames.count == 3)
    guard frames.count == 3 else { return }
    if case .headers(1, _, false) = frames[0] {} else { Issue.record("first frame \(frames[0])") }
    if case .message(1, _, true, false) = frames[1] {} else { Issue.record("second frame \(frames[1])") }
    if case .trailers(1, let t) = frames[2] { #expect(t.code == 0) } else { Issue.record("third frame \(frames[2])") }
    _ = try? channel.finish()
  }

  @Test("the client's HEADERS and MESSAGE with END_STREAM leave together, with END_STREAM on the message")
  func clientSide() async throws {
    let loop = EmbeddedEventLoop()
    let channel = EmbeddedChannel(loop: loop)
    let counter = WriteCounter()
    try channel.pipeline.syncOperations.addHandler(counter)
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
    let core = ConnectionCore(
      role: .client, config: .clientDefaults, channel: channel, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    core.start()
    try core.receive(.settings(ack: false, []))
    loop.run()
    counter.writes.removeAll()
    counter.flushes = 0

    try await core.reserveSlot()
    let stream = ClientStream(core: core, path: "/banjie.v1.EchoService/Get")
    try await stream.write(.metadata([:]))
    try await stream.write(.message(BanjieBytes([0x0A, 0x01, 0x41])))
    stream.finish()
    loop.run()
    loop.advanceTime(by: .milliseconds(5))
    #expect(counter.writes.count == 1)
    #expect(counter.flushes == 1)
    let frames = try Self.frames(in: try #require(counter.writes.first))
    #expect(frames.count == 2)
    guard frames.count == 2 else { return }
    if case .headers(1, let h, false) = frames[0] {
      #expect(h.path == "/banjie.v1.EchoService/Get")
    } else {
      Issue.record("first frame \(frames[0])")
    }
    if case .message(1, _, true, true) = frames[1] {} else { Issue.record("second frame \(frames[1])") }
    _ = try? channel.finish()
  }
}

@Suite("A call that loses the race with a closing connection", .timeLimit(.minutes(10)))
struct ClosingRaceTests {
  @Test("GOAWAY between reserving a slot and opening the stream: the call ends UNAVAILABLE instead of waiting")
  func goAwayBeforeHeaders() async throws {
    let loop = EmbeddedEventLoop()
    let channel = EmbeddedChannel(loop: loop)
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
    let core = ConnectionCore(
      role: .client, config: .clientDefaults, channel: channel, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    core.start()
    try core.receive(.settings(ack: false, []))
    loop.run()

    try await core.reserveSlot()
    // The server goes away (as when it closes a revoked certificate's connection) before the
    // call's HEADERS are written.
    try core.receive(.goAway(lastStreamID: 0, code: .noError, message: "certificate revoked"))
    loop.run()
    let stream = ClientStream(core: core, path: "/banjie.v1.EchoService/Get")
    await #expect(throws: RPCError.self) { try await stream.write(.metadata([:])) }
    var parts: [RPCResponsePart<BanjieBytes>] = []
    for try await part in stream.inbox { parts.append(part) }
    guard parts.count == 1, case .status(let status, _) = parts[0] else {
      Issue.record("expected one status, got \(parts)")
      return
    }
    #expect(status.code == .unavailable)
    stream.release()
    _ = try? channel.finish()
  }

  @Test("a call cancelled before it registers as a waiter for a stream slot ends at once instead of waiting for a slot")
  func cancelledBeforeWaiting() async throws {
    let loop = EmbeddedEventLoop()
    let channel = EmbeddedChannel(loop: loop)
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
    let core = ConnectionCore(
      role: .client, config: .clientDefaults, channel: channel, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    core.start()
    // The server allows one stream at a time, and one call holds it.
    try core.receive(.settings(ack: false, [Setting(id: Setting.maxConcurrentStreamsID, value: 1)]))
    loop.run()
    try await core.reserveSlot()

    // Cancelled before reserveSlot runs: its cancellation handler runs before the waiter exists.
    let waiter = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      try await core.reserveSlot()
    }
    // A hang guard, not a timing: a waiter still parked after 4 minutes would wait for ever, so
    // the slot is freed and the parked waiter takes it, which fails the test below. (On a loaded
    // machine the waiter may not even start for a while; that alone fails nothing.)
    let guardTask = Task {
      try await Task.sleep(for: .seconds(240))
      core.releaseSlot()
      return true
    }
    let result = await waiter.result
    guardTask.cancel()
    let guardFired = (try? await guardTask.value) ?? false
    if case .failure(let error) = result {
      #expect(error is CancellationError)
    } else {
      Issue.record("the cancelled call waited for a slot and got one")
    }
    // The slot is still the first call's (unless the guard freed it): releasing it leaves none
    // reserved, and a new call gets it.
    if !guardFired { core.releaseSlot() }
    try await core.reserveSlot()
    core.releaseSlot()
    _ = try? channel.finish()
  }
}
