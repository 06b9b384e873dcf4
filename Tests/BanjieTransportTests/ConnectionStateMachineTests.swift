import BanjieWire
import GRPCCore
import NIOCore
import Testing

@testable import BanjieTransport

@Suite("GOAWAY races, without sockets")
struct GoAwayRaceTests {
  @Test("GOAWAY between reserving a slot and opening the stream: the open fails UNAVAILABLE and sends nothing")
  func goAwayWhileOpening() {
    var machine = TestMachine.started(.client)
    let slot = machine.requestSlot()
    #expect(slot == .reserved)
    let goAway = machine.receive(.goAway(lastStreamID: 0, code: .noError, message: "certificate revoked"))
    #expect(goAway.unusable)
    #expect(goAway.closeWhenFlushed, "no stream in flight: the connection closes")
    #expect(machine.lifecycle == .draining(lastStreamID: 0))
    let (result, _) = machine.openStream(HeadersPayload(path: echoPath), inbox: StreamInbox { _ in }, now: machineEpoch)
    guard case .failure(let error) = result else {
      Issue.record("opened \(result)")
      return
    }
    #expect(error.code == .unavailable)
    let writtenFrames = machine.written()
    #expect(writtenFrames.isEmpty)
    guard case .failed(let refused) = machine.requestSlot() else {
      Issue.record("a slot on a connection going away")
      return
    }
    #expect(refused.code == .unavailable)
  }

  @Test("the server's GOAWAY refuses the client's streams above its last stream id with UNAVAILABLE; those at or below go on")
  func refusesAbove() throws {
    var machine = TestMachine.started(.client)
    let ids = (0..<4).compactMap { _ in machine.openClientStream() }
    #expect(ids == [1, 3, 5, 7])
    _ = machine.written()
    let actions = machine.receive(.goAway(lastStreamID: 3, code: .noError, message: "server is shutting down"))
    #expect(actions.unusable)
    #expect(!actions.closeWhenFlushed)
    #expect(actions.ended.map(\.streamID) == [5, 7])
    for ended in actions.ended {
      #expect(ended.error?.code == .unavailable)
      #expect(ended.error?.message == "the server is going away (server is shutting down); the call was not processed")
    }
    let writtenFrames = machine.written()
    #expect(writtenFrames.resets.map(\.0) == [5, 7])
    #expect(machine.streams.keys.sorted() == [1, 3])
    // The last of them ending closes the connection.
    _ = machine.receive(.trailers(streamID: 1, TrailersPayload(code: 0)))
    let last = machine.receive(.trailers(streamID: 3, TrailersPayload(code: 0)))
    #expect(last.closeWhenFlushed)
  }

  @Test("a client's GOAWAY refuses nothing at the server, and the server closes once idle")
  func clientGoAway() {
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    let actions = machine.receive(.goAway(lastStreamID: 0, code: .noError, message: "client closing"))
    #expect(actions.ended.isEmpty)
    #expect(!actions.closeWhenFlushed)
    #expect(machine.streams[1] != nil)
    let done = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    #expect(done.closeWhenFlushed)
  }

  @Test("after the server's GOAWAY, a new stream above its last stream id is refused UNAVAILABLE, not processed")
  func serverDraining() {
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    _ = machine.written()
    let drain = machine.beginDraining(code: .noError, message: "server is shutting down")
    #expect(drain.unusable)
    #expect(drain.armsShutdownTimer)
    #expect(drain.drain == .immediate)
    let goAways = machine.written().goAways
    #expect(goAways.count == 1)
    #expect(goAways.first?.0 == 1, "last stream id: the highest seen")
    #expect(goAways.first?.1 == .noError)

    let late = machine.receive(.headers(streamID: 3, HeadersPayload(path: echoPath), endStream: false))
    #expect(late.accepted.isEmpty)
    let resets = machine.written().resets
    #expect(resets.map(\.0) == [3])
    #expect(resets.first?.1 == UInt32(WireStatus.unavailable))
    #expect(resets.first?.2 == "the server is shutting down; the call was not processed")
    // The stream below goes on, and its end closes the connection.
    #expect(machine.streams[1] != nil)
    let afterTrailers = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    #expect(afterTrailers.closeWhenFlushed)
    // A second GOAWAY is not sent.
    let drainingAgain = machine.beginDraining(code: .noError, message: "again")
    #expect(drainingAgain.effects.isEmpty)
  }

  @Test("draining with no stream open closes at once")
  func drainingIdle() {
    var machine = TestMachine.started(.server)
    let actions = machine.beginDraining(code: .noError, message: "server is shutting down")
    #expect(actions.closeWhenFlushed)
    #expect(!actions.armsShutdownTimer)
  }

  @Test("a stream id at or below the highest seen, not open, is GOAWAY PROTOCOL_ERROR; an even one too")
  func reusedAndEvenIDs() {
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 5, HeadersPayload(path: echoPath), endStream: true))
    let reused = machine.receive(.headers(streamID: 3, HeadersPayload(path: echoPath), endStream: false))
    #expect(reused.connectionError == .connection(.protocolError, "stream id 3 reused (highest so far 5)"))
    let even = machine.receive(.headers(streamID: 8, HeadersPayload(path: echoPath), endStream: false))
    #expect(even.connectionError == .connection(.protocolError, "stream id 8 is even; clients open odd-numbered streams"))
  }

  @Test("the connection failing ends every stream and slot waiter with its error, after one GOAWAY")
  func failEndsEverything() {
    var machine = TestMachine.started(.client, peer: [Setting(id: Setting.maxConcurrentStreamsID, value: 1)])
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    guard case .wait(let id) = machine.requestSlot() else {
      Issue.record("a slot beyond MAX_CONCURRENT_STREAMS")
      return
    }
    _ = machine.registerSlotWaiter(id: id, TestWaiter(id: 9))
    _ = machine.written()
    let error = RPCError(code: .unavailable, message: "connection error PROTOCOL_ERROR: x")
    let actions = machine.fail(error: error, goAway: (.protocolError, "x"))
    #expect(actions.closeWhenFlushed)
    #expect(actions.ended.map(\.streamID) == [1])
    #expect(actions.ended.first?.error?.message == error.message)
    #expect(actions.failed.map(\.0) == [TestWaiter(id: 9)])
    let writtenFrames = machine.written()
    #expect(writtenFrames.goAways.map(\.1) == [.protocolError])
    let failingAgain = machine.fail(error: error, goAway: (.protocolError, "x"))
    #expect(failingAgain.effects.isEmpty, "closed once")
  }
}

@Suite("Stream slots under the server's MAX_CONCURRENT_STREAMS")
struct StreamSlotTests {
  static func full() -> TestMachine {
    var machine = TestMachine.started(.client, peer: [Setting(id: Setting.maxConcurrentStreamsID, value: 1)])
    let slot = machine.requestSlot()
    #expect(slot == .reserved)
    return machine
  }

  @Test("a waiter cancelled before it registers fails when it registers, and takes no slot")
  func cancelledBeforeRegistering() {
    var machine = Self.full()
    guard case .wait(let id) = machine.requestSlot() else {
      Issue.record("not waiting")
      return
    }
    let cancellation = machine.cancelSlotWaiter(id: id)
    #expect(cancellation.effects.isEmpty)
    let registered = machine.registerSlotWaiter(id: id, TestWaiter(id: 1))
    #expect(registered.resumed.isEmpty)
    #expect(registered.failed.count == 1)
    #expect(registered.failed.first?.1 is CancellationError)
    machine.forgetSlotWaiter(id: id)
    #expect(machine.cancelledWaiters.isEmpty)
    // The slot is still the first call's: releasing it leaves one free for a new call.
    let release = machine.releaseSlot()
    #expect(release.resumed.isEmpty)
    #expect(machine.reservedSlots == 0)
    let slot = machine.requestSlot()
    #expect(slot == .reserved)
  }

  @Test("a waiter cancelled after it registers fails at once; a freed slot goes to no one")
  func cancelledAfterRegistering() {
    var machine = Self.full()
    guard case .wait(let id) = machine.requestSlot() else {
      Issue.record("not waiting")
      return
    }
    let registration = machine.registerSlotWaiter(id: id, TestWaiter(id: 1))
    #expect(registration.effects.isEmpty)
    let cancelled = machine.cancelSlotWaiter(id: id)
    #expect(cancelled.failed.map(\.0) == [TestWaiter(id: 1)])
    #expect(cancelled.failed.first?.1 is CancellationError)
    let release = machine.releaseSlot()
    #expect(release.resumed.isEmpty)
    let slot = machine.requestSlot()
    #expect(slot == .reserved)
  }

  @Test("a cancellation after the waiter got its slot changes nothing")
  func cancelledTooLate() {
    var machine = Self.full()
    guard case .wait(let id) = machine.requestSlot() else {
      Issue.record("not waiting")
      return
    }
    _ = machine.registerSlotWaiter(id: id, TestWaiter(id: 1))
    let release = machine.releaseSlot()
    #expect(release.resumed == [TestWaiter(id: 1)])
    let cancellation = machine.cancelSlotWaiter(id: id)
    #expect(cancellation.effects.isEmpty)
    machine.forgetSlotWaiter(id: id)
    #expect(machine.reservedSlots == 1, "the waiter holds the slot")
  }

  @Test("waiters get slots in arrival order as streams end")
  func order() throws {
    var machine = TestMachine.started(.client, peer: [Setting(id: Setting.maxConcurrentStreamsID, value: 1)])
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    for n in 1...2 {
      guard case .wait(let id) = machine.requestSlot() else { throw CancellationError() }
      _ = machine.registerSlotWaiter(id: id, TestWaiter(id: n))
    }
    let first = machine.receive(.trailers(streamID: 1, TrailersPayload(code: 0)))
    #expect(first.resumed == [TestWaiter(id: 1)])
    let release = machine.releaseSlot()
    #expect(release.resumed == [TestWaiter(id: 2)])
  }

  @Test("a waiter that registers after the connection went away fails UNAVAILABLE")
  func registersAfterGoAway() {
    var machine = Self.full()
    guard case .wait(let id) = machine.requestSlot() else {
      Issue.record("not waiting")
      return
    }
    _ = machine.receive(.goAway(lastStreamID: 0, code: .noError, message: "bye"))
    let registered = machine.registerSlotWaiter(id: id, TestWaiter(id: 1))
    #expect((registered.failed.first?.1 as? RPCError)?.code == .unavailable)
  }
}

@Suite("Deadlines")
struct DeadlineTests {
  @Test("a request with a timeout arms its deadline; expiry sends DEADLINE_EXCEEDED and ends the handler's stream")
  func expiry() throws {
    var machine = TestMachine.started(.server)
    let open = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath, timeoutMicroseconds: 250_000), endStream: false))
    #expect(open.deadlines.map(\.0) == [1])
    #expect(open.deadlines.map(\.1) == [250_000])
    #expect(open.accepted == [1])
    _ = machine.written()
    let expired = machine.deadlineExpired(streamID: 1, timeoutMicroseconds: 250_000)
    #expect(expired.drain == .immediate)
    let ended = try #require(expired.ended.first)
    #expect(ended.error?.code == .deadlineExceeded)
    #expect(ended.error?.message == "deadline of 250 ms exceeded")
    let frames = machine.written()
    guard frames.count == 1, case .trailers(1, let trailers) = frames[0] else {
      Issue.record("written \(frames)")
      return
    }
    #expect(trailers.code == WireStatus.deadlineExceeded)
    #expect(trailers.message == "deadline of 250 ms exceeded")
    #expect(machine.streams[1] == nil)
    // The handler's later writes are dropped.
    let afterTrailers = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    #expect(afterTrailers.effects.isEmpty)
    let writtenFrames = machine.written()
    #expect(writtenFrames.isEmpty)
  }

  @Test("a deadline that fires after the status went out does nothing")
  func afterStatus() {
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath, timeoutMicroseconds: 1_000), endStream: true))
    _ = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    _ = machine.written()
    let expiry = machine.deadlineExpired(streamID: 1, timeoutMicroseconds: 1_000)
    #expect(expiry.effects.isEmpty)
    let writtenFrames = machine.written()
    #expect(writtenFrames.isEmpty)
  }

  @Test("a request without a timeout arms no deadline")
  func noTimeout() {
    var machine = TestMachine.started(.server)
    let received = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    #expect(received.deadlines.isEmpty)
  }
}

@Suite("Limits from TransportConfig produce the GOAWAY or RST_STREAM docs/PROTOCOL.md §11 names")
struct TransportLimitTests {
  @Test("more PING acks than maxQueuedControlFrames for a peer that does not read: GOAWAY ENHANCE_YOUR_CALM")
  func controlFrames() {
    var config = TransportConfig()
    config.maxQueuedControlFrames = 3
    var machine = TestMachine.started(.server, config: config)
    machine.writabilityChanged(isWritable: false)
    for n in 0..<3 {
      let received = machine.receive(.ping(ack: false, opaque: UInt64(n)))
      #expect(received.connectionError == nil)
    }
    let actions = machine.receive(.ping(ack: false, opaque: 3))
    #expect(actions.connectionError == .connection(.enhanceYourCalm, "peer is not reading: more than 3 control frames queued for it"))
    // A writable channel counts nothing.
    var writable = TestMachine.started(.server, config: config)
    for n in 0..<10 {
      let received2 = writable.receive(.ping(ack: false, opaque: UInt64(n)))
      #expect(received2.connectionError == nil)
    }
  }

  @Test("SETTINGS acks count as control frames too")
  func settingsAcks() {
    var config = TransportConfig()
    config.maxQueuedControlFrames = 1
    var machine = TestMachine.started(.client, config: config)
    machine.writabilityChanged(isWritable: false)
    let received = machine.receive(.settings(ack: false, []))
    #expect(received.connectionError == nil)
    #expect(
      machine.receive(.settings(ack: false, [])).connectionError
        == .connection(.enhanceYourCalm, "peer is not reading: more than 1 control frames queued for it"))
  }

  @Test(
    "more empty MESSAGE frames than maxEmptyMessagesPerWindow within the window: GOAWAY ENHANCE_YOUR_CALM at the server only",
    arguments: ConnectionRole.allCases)
  func emptyMessages(_ role: ConnectionRole) {
    var config = TransportConfig()
    config.maxEmptyMessagesPerWindow = 5
    var machine = TestMachine.started(role, config: config)
    if role == .server {
      _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    } else {
      let streamID = machine.openClientStream()
      #expect(streamID == 1)
    }
    let empty = Frame.message(streamID: 1, ByteBuffer(), endMessage: false, endStream: false)
    for _ in 0..<5 {
      let received = machine.receive(empty)
      #expect(received.connectionError == nil)
    }
    let sixth = machine.receive(empty, at: machineEpoch + .seconds(9))
    if role == .server {
      #expect(sixth.connectionError == .connection(.enhanceYourCalm, "more than 5 empty MESSAGE frames within \(TimeAmount.seconds(10))"))
    } else {
      #expect(sixth.connectionError == nil)
    }
  }

  @Test("the empty-MESSAGE count restarts when the window has passed")
  func emptyMessagesWindow() {
    var config = TransportConfig()
    config.maxEmptyMessagesPerWindow = 5
    var machine = TestMachine.started(.server, config: config)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    let empty = Frame.message(streamID: 1, ByteBuffer(), endMessage: false, endStream: false)
    for _ in 0..<5 {
      let received = machine.receive(empty)
      #expect(received.connectionError == nil)
    }
    for _ in 0..<5 {
      let received2 = machine.receive(empty, at: machineEpoch + .seconds(10))
      #expect(received2.connectionError == nil)
    }
    let received3 = machine.receive(empty, at: machineEpoch + .seconds(11))
    #expect(received3.connectionError != nil)
  }

  @Test("more streams reset by the client than maxPeerResetsPerWindow: GOAWAY ENHANCE_YOUR_CALM; resets at a deadline do not count")
  func rapidResets() {
    var config = TransportConfig()
    config.maxPeerResetsPerWindow = 2
    var machine = TestMachine.started(.server, config: config)
    // A client giving up after half its timeout is no abuse.
    for n in 0..<5 {
      let id = UInt32(2 * n + 1)
      _ = machine.receive(.headers(streamID: id, HeadersPayload(path: echoPath, timeoutMicroseconds: 1_000_000), endStream: false))
      let late = machine.receive(.rstStream(streamID: id, code: 1, message: ""), at: machineEpoch + .milliseconds(600))
      #expect(late.connectionError == nil)
    }
    var last: TestActions?
    for n in 5..<8 {
      let id = UInt32(2 * n + 1)
      _ = machine.receive(.headers(streamID: id, HeadersPayload(path: echoPath), endStream: false))
      last = machine.receive(.rstStream(streamID: id, code: 1, message: ""))
    }
    #expect(
      last?.connectionError == .connection(.enhanceYourCalm, "more than 2 streams reset by the peer within \(TimeAmount.seconds(10))"))
  }

  @Test("a server does not police a client's resets the other way: a client counts no server resets")
  func clientCountsNoResets() {
    var config = TransportConfig()
    config.maxPeerResetsPerWindow = 1
    var machine = TestMachine.started(.client, config: config)
    for _ in 0..<3 {
      guard let id = machine.openClientStream() else { return }
      let received = machine.receive(.rstStream(streamID: id, code: 1, message: ""))
      #expect(received.connectionError == nil)
    }
  }

  @Test("bytes queued for a peer that does not read beyond maxQueuedOutboundBytes: GOAWAY ENHANCE_YOUR_CALM, once")
  func outboundBytes() {
    var config = TransportConfig()
    config.maxQueuedOutboundBytes = 1_000
    var machine = TestMachine.started(.server, config: config)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    _ = machine.written()
    machine.writabilityChanged(isWritable: false)
    let measurement = machine.measured(bufferedInChannel: 900)
    #expect(measurement.connectionFailures.isEmpty)
    let (_, actions) = machine.startWrite(streamID: 1, ByteBuffer(repeating: 1, count: 200))
    let failures = actions.connectionFailures
    #expect(failures.count == 1)
    guard case .connection(let code, let reason) = failures.first else { return }
    #expect(code == .enhanceYourCalm)
    #expect(reason.hasPrefix("peer is not reading: "))
    #expect(reason.hasSuffix(" bytes queued for it (limit 1000)"))
    #expect(machine.outbound.unwritablePeak > 1_000)
    let (_, again) = machine.startWrite(streamID: 1, ByteBuffer(repeating: 1, count: 200))
    #expect(again.connectionFailures.isEmpty, "the connection is already being closed")
  }

  @Test("a starved event loop: pending bytes alone beyond maxQueuedOutboundBytes fail the connection, however writable")
  func pendingAlone() {
    var config = TransportConfig()
    config.maxQueuedOutboundBytes = 1_000
    var machine = TestMachine.started(.server, config: config)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    let (_, actions) = machine.startWrite(streamID: 1, ByteBuffer(repeating: 1, count: 1_200))
    #expect(actions.connectionFailures.count == 1)
  }

  @Test("more streams than MAX_CONCURRENT_STREAMS: RST_STREAM RESOURCE_EXHAUSTED for the extra one; others go on")
  func concurrentStreams() {
    var config = TransportConfig()
    config.settings.maxConcurrentStreams = 2
    var machine = TestMachine.started(.server, config: config)
    for id: UInt32 in [1, 3, 5] { _ = machine.receive(.headers(streamID: id, HeadersPayload(path: echoPath), endStream: false)) }
    let resets = machine.written().resets
    #expect(resets.map(\.0) == [5])
    #expect(resets.first?.1 == UInt32(WireStatus.resourceExhausted))
    #expect(resets.first?.2 == "more than 2 concurrent streams on one connection")
    #expect(machine.streams.keys.sorted() == [1, 3])
  }

  @Test("a stream refused for too many pending streams is reset UNAVAILABLE, not processed")
  func pendingStreams() throws {
    // The transport counts streams waiting for a handler (maxPendingStreams) and resets the
    // refused one through the machine.
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: true))
    _ = machine.written()
    let message = "the server has too many calls waiting for a handler; the call was not processed"
    let actions = machine.reset(streamID: 1, code: WireStatus.unavailable, message: message)
    let ended = try #require(actions.ended.first)
    #expect(ended.error?.code == .unavailable)
    let resets = machine.written().resets
    #expect(resets.map(\.1) == [UInt32(WireStatus.unavailable)])
    #expect(resets.first?.2 == message)
  }

  @Test("messages held beyond maxBufferedInboundBytes, or one above MAX_MESSAGE_SIZE: RST_STREAM RESOURCE_EXHAUSTED")
  func inboundLimits() {
    var config = TransportConfig()
    config.maxBufferedInboundBytes = 100
    config.settings.maxMessageSize = 60
    var machine = TestMachine.started(.server, config: config)
    for id: UInt32 in [1, 3, 5] { _ = machine.receive(.headers(streamID: id, HeadersPayload(path: echoPath), endStream: false)) }
    _ = machine.written()
    _ = machine.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 50), endMessage: false, endStream: false))
    _ = machine.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 11), endMessage: true, endStream: false))
    _ = machine.receive(.message(streamID: 3, ByteBuffer(repeating: 1, count: 60), endMessage: true, endStream: false))
    _ = machine.receive(.message(streamID: 5, ByteBuffer(repeating: 1, count: 41), endMessage: true, endStream: false))
    let resets = machine.written().resets
    #expect(resets.map(\.0) == [1, 5])
    #expect(resets.first?.2 == "message larger than the limit of 60 bytes")
    #expect(resets.last?.2 == "the connection already holds 60 bytes of messages not yet read (limit 100)")
    #expect(machine.inboundBuffered == 60)
    #expect(machine.inboundBufferedPeak == 60)
  }
}

@Suite("Write coalescing in the outbound buffer")
struct OutboundBufferTests {
  @Test("a unary response asks for a delayed drain until its TRAILERS, which ask for an immediate one")
  func unaryResponse() {
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: true))
    _ = machine.written()
    let (error, headers) = machine.writeResponseHeaders(streamID: 1, HeadersPayload())
    #expect(error == nil)
    #expect(headers.drain == .delayed)
    let (_, message) = machine.startWrite(streamID: 1, ByteBuffer(bytes: [1, 2, 3]))
    #expect(message.drain == .idle, "a drain is already scheduled")
    let trailers = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    #expect(trailers.drain == .immediate)
    let frames = machine.written()
    #expect(frames.count == 3)
    let drained = machine.drain()
    #expect(drained.effects.isEmpty, "the delayed drain finds nothing")
  }

  @Test("a client's half-close sets END_STREAM on its last MESSAGE still pending, else sends an empty MESSAGE")
  func endStream() {
    var machine = TestMachine.started(.client)
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    _ = machine.startWrite(streamID: 1, ByteBuffer(bytes: [1]))
    let halfClose = machine.writeEndStream(streamID: 1)
    #expect(halfClose.drain == .immediate)
    let frames = machine.written()
    #expect(frames.count == 2)
    #expect(frames.messages.map(\.3) == [true])
    #expect(machine.streams[1]?.state == .halfClosedLocal)

    let streamID2 = machine.openClientStream()
    #expect(streamID2 == 3)
    _ = machine.startWrite(streamID: 3, ByteBuffer(bytes: [1]))
    _ = machine.written()
    _ = machine.writeEndStream(streamID: 3)
    let later = machine.written().messages
    #expect(later.count == 1)
    #expect(later.first?.1 == 0)
    #expect(later.first?.3 == true)
  }

  @Test("response metadata twice, or after the stream ended, fails the writer")
  func metadataTwice() {
    var machine = TestMachine.started(.server)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: true))
    let headersWrite = machine.writeResponseHeaders(streamID: 1, HeadersPayload())
    #expect(headersWrite.0 == nil)
    let headersWrite2 = machine.writeResponseHeaders(streamID: 1, HeadersPayload())
    #expect(headersWrite2.0?.message == "response metadata sent twice")
    _ = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    let headersWrite3 = machine.writeResponseHeaders(streamID: 1, HeadersPayload())
    #expect(headersWrite3.0?.code == .cancelled)
  }

  @Test("TRAILERS too large for the peer keep the status and the start of the message")
  func largeTrailers() {
    var machine = TestMachine.started(.server, peer: [Setting(id: Setting.maxHeaderSizeID, value: 600)])
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: true))
    _ = machine.written()
    let long = String(repeating: "办", count: 1_000)
    _ = machine.writeTrailers(
      streamID: 1, TrailersPayload(code: 13, message: long, metadata: [WireMetadataEntry(key: "x", value: .string(long))]))
    let frames = machine.written()
    guard case .trailers(1, let trailers) = frames.first else {
      Issue.record("written \(frames)")
      return
    }
    #expect(trailers.code == 13)
    #expect(trailers.metadata.isEmpty)
    #expect(trailers.message.utf8.count <= 512)
    #expect(long.hasPrefix(trailers.message))
  }

  @Test("a closed connection schedules no delayed drain, but an immediate one still writes its GOAWAY")
  func drainAfterClose() {
    var buffer = OutboundBuffer(maxQueuedBytes: 1_000, maxQueuedControlFrames: 10)
    buffer.append(.ping(ack: false, opaque: 1))
    let scheduled = buffer.requestDrain(.delayed, connectionClosed: true)
    #expect(scheduled == .idle)
    let scheduled2 = buffer.requestDrain(.immediate, connectionClosed: true)
    #expect(scheduled2 == .immediate)
    let scheduled3 = buffer.requestDrain(.immediate, connectionClosed: true)
    #expect(scheduled3 == .idle, "already scheduled")
    let taken = buffer.take()
    #expect(taken != nil)
    let taken2 = buffer.take()
    #expect(taken2 == nil)
    let scheduled4 = buffer.requestDrain(.immediate, connectionClosed: false)
    #expect(scheduled4 == .idle, "nothing pending")
  }
}
