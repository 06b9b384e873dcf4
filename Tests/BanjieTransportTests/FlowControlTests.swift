import BanjieWire
import GRPCCore
import NIOCore
import Testing

@testable import BanjieTransport

@Suite("A stream's state is one enum")
struct StreamStateTests {
  @Test(
    "closing a side moves to the state docs/PROTOCOL.md §5.3 names",
    arguments: [
      (StreamState.idle, StreamState.halfClosedLocal, StreamState.halfClosedRemote),
      (.open, .halfClosedLocal, .halfClosedRemote),
      (.halfClosedLocal, .halfClosedLocal, .closed),
      (.halfClosedRemote, .closed, .halfClosedRemote),
      (.closed, .closed, .closed),
    ])
  func transitions(_ from: StreamState, _ afterLocal: StreamState, _ afterRemote: StreamState) {
    var local = from
    let closedLocally = local.closeLocal()
    #expect(closedLocally == afterLocal)
    var remote = from
    let closedRemotely = remote.closeRemote()
    #expect(closedRemotely == afterRemote)
  }

  @Test("only open and half-closed streams carry frames, each way on its open side", arguments: StreamState.allCases)
  func directions(_ state: StreamState) {
    #expect(state.canSend == [.open, .halfClosedRemote].contains(state))
    #expect(state.canReceive == [.open, .halfClosedLocal].contains(state))
  }

  @Test("request HEADERS with END_STREAM open a stream half-closed by the peer")
  func opened() {
    #expect(StreamState.opened(remoteEnded: false) == .open)
    #expect(StreamState.opened(remoteEnded: true) == .halfClosedRemote)
  }
}

@Suite("Flow-control windows at their limits")
struct FlowControlTests {
  static let maximum = Int64(ConnectionSettings.maximumWindow)

  @Test("a send window takes increments up to 2^31-1 and reports one beyond")
  func sendWindowLimit() {
    var window = SendWindow(0)
    let withinMaximum = window.increase(by: Self.maximum)
    #expect(withinMaximum)
    #expect(window.available == Self.maximum)
    let beyondMaximum = !window.increase(by: 1)
    #expect(beyondMaximum)
    var other = SendWindow(Self.maximum - 10)
    let withinMaximum2 = other.increase(by: 10)
    #expect(withinMaximum2)
    let beyondMaximum2 = !other.increase(by: 1)
    #expect(beyondMaximum2)
  }

  @Test("a send window below zero (a smaller initial window) allows nothing until it is positive again")
  func negativeSendWindow() {
    var window = SendWindow(100)
    window.consume(100)
    #expect(window.allowance(for: 10) == 0)
    let withinMaximum = window.increase(by: -50)
    #expect(withinMaximum)
    #expect(window.allowance(for: 10) == 0)
    let withinMaximum2 = window.increase(by: 60)
    #expect(withinMaximum2)
    #expect(window.allowance(for: 30) == 10)
    #expect(window.allowance(for: 5) == 5)
  }

  @Test("a receive window refuses one byte beyond it, and accepts exactly it")
  func receiveWindowEdge() {
    var window = ReceiveWindow(initial: 100)
    let withinWindow = window.receive(100)
    #expect(withinWindow)
    let beyondWindow = !window.receive(1)
    #expect(beyondWindow)
  }

  @Test("WINDOW_UPDATE goes out once a quarter of the window is owed, or at once when the peer's window is empty")
  func updateThreshold() {
    var window = ReceiveWindow(initial: 1000)
    let withinWindow = window.receive(300)
    #expect(withinWindow)
    window.credit(249)
    let update = window.takeUpdate()
    #expect(update == nil)
    window.credit(1)
    let update2 = window.takeUpdate()
    #expect(update2 == 250)
    #expect(window.window == 950)
    #expect(window.pendingCredit == 0)

    var empty = ReceiveWindow(initial: 1000)
    let withinWindow2 = empty.receive(1000)
    #expect(withinWindow2)
    empty.credit(10)
    let update3 = empty.takeUpdate()
    #expect(update3 == 10)
    let update4 = empty.takeUpdate()
    #expect(update4 == nil)
  }

  @Test("an increment never exceeds 2^31-1: the rest is owed to the next update")
  func incrementCap() {
    var window = ReceiveWindow(initial: ConnectionSettings.maximumWindow)
    let withinWindow = window.receive(Self.maximum)
    #expect(withinWindow)
    window.credit(Self.maximum)
    window.credit(5)
    let update = window.takeUpdate()
    #expect(update == ConnectionSettings.maximumWindow)
    #expect(window.pendingCredit == 5)
  }

  @Test("a stream whose consumer is a window behind defers credit until it catches up")
  func deferredCredit() {
    var flow = StreamReceiveFlow(initial: 100)
    let withinWindow = flow.window.receive(100)
    #expect(withinWindow)
    let creditedNow = flow.accept(100)
    #expect(creditedNow)
    flow.delivered(100)
    #expect(flow.consumerBehind)
    let firstUpdate = flow.window.takeUpdate()
    #expect(firstUpdate == 100)
    let stillWithin = flow.window.receive(40)
    #expect(stillWithin)
    let deferred = !flow.accept(40)
    #expect(deferred, "the consumer holds a whole window: no credit")
    flow.delivered(40)
    let noUpdate = flow.window.takeUpdate()
    #expect(noUpdate == nil)
    let releasedCredit = flow.consumed(30)
    #expect(releasedCredit == 0, "still 110 held")
    let releasedCredit2 = flow.consumed(20)
    #expect(releasedCredit2 == 40, "90 held: the deferred 40 are released")
    let released = flow.window.takeUpdate()
    #expect(released == 40)
  }

  // MARK: - In the connection

  @Test("the peer's connection WINDOW_UPDATE to exactly 2^31-1 is accepted; one more is GOAWAY FLOW_CONTROL_ERROR")
  func connectionWindowOverflow() {
    var machine = TestMachine.started(.server)
    let start = machine.sendWindow.available
    let received = machine.receive(.windowUpdate(streamID: 0, increment: UInt32(Self.maximum - start)))
    #expect(received.connectionError == nil)
    #expect(machine.sendWindow.available == Self.maximum)
    let actions = machine.receive(.windowUpdate(streamID: 0, increment: 1))
    #expect(actions.connectionError == .connection(.flowControlError, "connection window above 2^31-1"))
  }

  @Test("a stream WINDOW_UPDATE above 2^31-1 resets that stream with INTERNAL; the connection lives", arguments: ConnectionRole.allCases)
  func streamWindowOverflow(_ role: ConnectionRole) throws {
    var machine = TestMachine.started(role)
    if role == .server {
      _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    } else {
      let streamID = machine.openClientStream()
      #expect(streamID == 1)
    }
    _ = machine.written()
    let start = try #require(machine.streams[1]).send.available
    let received = machine.receive(.windowUpdate(streamID: 1, increment: UInt32(Self.maximum - start)))
    #expect(received.connectionError == nil)
    #expect(machine.streams[1] != nil)
    let actions = machine.receive(.windowUpdate(streamID: 1, increment: 1))
    #expect(actions.connectionError == nil)
    let resets = machine.written().resets
    #expect(resets.count == 1)
    #expect(resets.first?.1 == UInt32(WireStatus.internalError))
    #expect(resets.first?.2 == "stream window above 2^31-1")
    #expect(machine.streams[1] == nil)
  }

  @Test(
    "SETTINGS with a window above 2^31-1 is GOAWAY FLOW_CONTROL_ERROR",
    arguments: [Setting.initialStreamWindowID, Setting.initialConnectionWindowID])
  func settingsWindowOverflow(_ id: UInt16) {
    var machine = TestMachine(role: .client, config: TransportConfig())
    _ = machine.start()
    let actions = machine.receive(.settings(ack: false, [Setting(id: id, value: ConnectionSettings.maximumWindow + 1)]))
    guard case .connection(let code, _) = actions.connectionError else {
      Issue.record("no connection error: \(String(describing: actions.connectionError))")
      return
    }
    #expect(code == .flowControlError)
  }

  /// A server with stream 1 open whose windows are `connection` and `stream` bytes.
  static func receiver(_ role: ConnectionRole, connection: UInt32 = 1 << 20, stream: UInt32 = 1 << 20) -> TestMachine {
    var config = TransportConfig()
    config.settings.initialConnectionWindow = connection
    config.settings.initialStreamWindow = stream
    var machine = TestMachine.started(role, config: config)
    if role == .server {
      _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    } else {
      let streamID = machine.openClientStream()
      #expect(streamID == 1)
    }
    _ = machine.written()
    return machine
  }

  @Test(
    "MESSAGE beyond the connection window is GOAWAY FLOW_CONTROL_ERROR; exactly the window is accepted", arguments: ConnectionRole.allCases)
  func connectionReceiveWindow(_ role: ConnectionRole) {
    var exact = Self.receiver(role, connection: 10)
    let fits = exact.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 10), endMessage: false, endStream: false))
    #expect(fits.connectionError == nil)
    var beyond = Self.receiver(role, connection: 10)
    let actions = beyond.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 11), endMessage: false, endStream: false))
    #expect(actions.connectionError == .connection(.flowControlError, "peer sent beyond the connection window"))
  }

  @Test(
    "MESSAGE beyond the stream window resets the stream with RESOURCE_EXHAUSTED and credits the connection",
    arguments: ConnectionRole.allCases)
  func streamReceiveWindow(_ role: ConnectionRole) {
    var exact = Self.receiver(role, stream: 10)
    let received = exact.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 10), endMessage: false, endStream: false))
    #expect(received.connectionError == nil)
    let writtenFrames = exact.written()
    #expect(writtenFrames.resets.isEmpty)
    #expect(exact.streams[1] != nil)

    var beyond = Self.receiver(role, stream: 10)
    let actions = beyond.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 11), endMessage: false, endStream: false))
    #expect(actions.connectionError == nil)
    let resets = beyond.written().resets
    #expect(resets.map(\.1) == [UInt32(WireStatus.resourceExhausted)])
    #expect(resets.first?.2 == "peer sent beyond the stream's flow-control window")
    #expect(beyond.receiveWindow.pendingCredit == 11, "the refused bytes return to the connection")
    #expect(beyond.streams[1] == nil)
  }

  @Test("a write stops at the peer's window and resumes, in order, when WINDOW_UPDATE opens it")
  func blockedWrite() throws {
    var machine = TestMachine.started(.server, peer: [Setting(id: Setting.initialStreamWindowID, value: 10)])
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    _ = machine.written()
    let (start, actions) = machine.startWrite(streamID: 1, ByteBuffer(repeating: 7, count: 25))
    #expect(actions.drain == .delayed)
    guard case .wait(let remaining) = start else {
      Issue.record("not blocked: \(start)")
      return
    }
    #expect(remaining.readableBytes == 15)
    let blocking = machine.blockWrite(streamID: 1, remaining: remaining, waiter: TestWaiter(id: 1))
    #expect(blocking.resumed.isEmpty)
    let writtenFrames = machine.written()
    #expect(writtenFrames.messages.map(\.1) == [10])

    let partly = machine.receive(.windowUpdate(streamID: 1, increment: 5))
    #expect(partly.resumed.isEmpty)
    let all = machine.receive(.windowUpdate(streamID: 1, increment: 100))
    #expect(all.resumed == [TestWaiter(id: 1)])
    let messages = machine.written().messages
    #expect(messages.map(\.1) == [5, 10])
    #expect(messages.map(\.2) == [false, true], "END_MESSAGE on the last fragment only")
    #expect(try #require(machine.streams[1]).send.available == 90)
  }

  @Test("a message above the peer's MAX_MESSAGE_SIZE fails locally with RESOURCE_EXHAUSTED and sends nothing")
  func peerMessageLimit() {
    var machine = TestMachine.started(.client, peer: [Setting(id: Setting.maxMessageSizeID, value: 4)])
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    _ = machine.written()
    let (start, _) = machine.startWrite(streamID: 1, ByteBuffer(repeating: 1, count: 5))
    guard case .failed(let error) = start else {
      Issue.record("written: \(start)")
      return
    }
    #expect(error.code == .resourceExhausted)
    let writtenFrames = machine.written()
    #expect(writtenFrames.isEmpty)
  }

  @Test("taken messages return credit: a stream WINDOW_UPDATE once a consumer behind catches up")
  func consumerCredit() {
    var config = TransportConfig()
    config.settings.initialStreamWindow = 100
    var machine = TestMachine.started(.server, config: config)
    _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    _ = machine.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 100), endMessage: true, endStream: false))
    let writtenFrames = machine.written()
    #expect(writtenFrames.windowUpdates.map(\.0) == [1], "credited on arrival: the consumer was not behind")
    #expect(machine.inboundBuffered == 100)
    _ = machine.receive(.message(streamID: 1, ByteBuffer(repeating: 1, count: 50), endMessage: true, endStream: false))
    let writtenFrames2 = machine.written()
    #expect(writtenFrames2.windowUpdates.isEmpty, "the consumer holds a window: credit deferred")
    let actions = machine.consumed(streamID: 1, bytes: 100)
    #expect(actions.drain == .immediate)
    let writtenFrames3 = machine.written()
    #expect(writtenFrames3.windowUpdates.map { $0.1 } == [50])
    #expect(machine.inboundBuffered == 50)
  }

  @Test("the peer's first SETTINGS make the connection ready, move open streams' windows by the difference and resume blocked writes")
  func firstSettings() throws {
    var machine = TestMachine(role: .client, config: TransportConfig())
    _ = machine.start()
    _ = machine.written()
    #expect(!machine.isActive)
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    let (start, _) = machine.startWrite(streamID: 1, ByteBuffer(repeating: 1, count: 1_048_576 + 10))
    guard case .wait(let remaining) = start else {
      Issue.record("not blocked at the default window: \(start)")
      return
    }
    #expect(remaining.readableBytes == 10)
    let blocking = machine.blockWrite(streamID: 1, remaining: remaining, waiter: TestWaiter(id: 1))
    #expect(blocking.resumed.isEmpty)
    let settings = machine.receive(.settings(ack: false, [Setting(id: Setting.initialStreamWindowID, value: 2_097_152)]))
    #expect(settings.ready)
    #expect(settings.resumed == [TestWaiter(id: 1)])
    #expect(machine.isActive)
    #expect(try #require(machine.streams[1]).send.available == 2_097_152 - 1_048_576 - 10)
    let writtenFrames = machine.written()
    #expect(writtenFrames.contains(.settings(ack: true, [])))
    #expect(writtenFrames.messages.last?.1 == 10)
    // Later SETTINGS are acknowledged, and do not make the connection ready again.
    let later = machine.receive(.settings(ack: false, []))
    #expect(!later.ready)
  }
}
