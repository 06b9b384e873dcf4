import BanjieWire
import DequeModule
import GRPCCore
import NIOCore

/// Which end of a connection this is.
enum ConnectionRole: Sendable, Hashable, CaseIterable {
  case server, client

  /// What the role changes in how a connection treats its peer.
  var policy: RolePolicy {
    switch self {
    case .server: return .server
    case .client: return .client
    }
  }
}

/// How a server and a client differ on one connection, in one place: the state machine asks
/// these questions instead of testing the role.
struct RolePolicy: Sendable, Hashable {
  /// Client: opens streams (odd ids, counting up) and waits for a slot under the peer's
  /// MAX_CONCURRENT_STREAMS; a freed stream hands its slot to the next waiter.
  var opensStreams: Bool
  /// Server: a peer's HEADERS opens a stream; client: it carries response metadata.
  var acceptsStreams: Bool
  /// Client: a frame for a stream id above every id it opened is a connection error.
  var rejectsFramesForUnopenedStreams: Bool
  /// Client: the peer's GOAWAY refuses streams above its last stream id.
  var peerGoAwayRefusesStreams: Bool
  /// Client: TRAILERS end a call; a server resets a stream that sends them.
  var receivesTrailers: Bool
  /// Server: a malformed frame uses up its stream id (a malformed request HEADERS).
  var malformedFrameUsesStreamID: Bool
  /// Server: counts empty MESSAGE frames (docs/PROTOCOL.md §11).
  var policesEmptyMessages: Bool
  /// Server: counts open streams the peer resets (rapid open/reset).
  var policesPeerResets: Bool
  /// Server: END_STREAM from the peer ends the request parts its handler reads.
  var endsInboxOnPeerEndStream: Bool

  static let server = RolePolicy(
    opensStreams: false, acceptsStreams: true, rejectsFramesForUnopenedStreams: false, peerGoAwayRefusesStreams: false,
    receivesTrailers: false, malformedFrameUsesStreamID: true, policesEmptyMessages: true, policesPeerResets: true,
    endsInboxOnPeerEndStream: true)

  static let client = RolePolicy(
    opensStreams: true, acceptsStreams: false, rejectsFramesForUnopenedStreams: true, peerGoAwayRefusesStreams: true,
    receivesTrailers: true, malformedFrameUsesStreamID: false, policesEmptyMessages: false, policesPeerResets: false,
    endsInboxOnPeerEndStream: false)
}

/// A count of events within a fixed window of time: `count` since `start`.
struct RateWindow: Sendable, Hashable {
  private(set) var start: NIODeadline?
  private(set) var count = 0

  /// Counts one event at `now`, starting a new window when `length` has passed since the first
  /// event of the current one; returns the count.
  mutating func add(now: NIODeadline, length: TimeAmount) -> Int {
    if let start = self.start, now - start < length {
      self.count += 1
    } else {
      self.start = now
      self.count = 1
    }
    return self.count
  }
}

/// One stream the connection knows.
struct StreamRecord<Waiter: Sendable>: Sendable {
  var state: StreamState
  var inbox: CallInbox
  var send: SendWindow
  var receive: StreamReceiveFlow
  /// The fragments of a message still arriving.
  var assembly: ByteBuffer?
  var blocked: BlockedWrite<Waiter>?
  /// The server's response HEADERS: sent (server) or received (client).
  var responseHeaders = false
  var cancellation: ServerContext.RPCCancellationHandle?
  var deadline: Scheduled<Void>?
  /// Server: when the HEADERS arrived, and the call's timeout, to tell a rapid reset from a
  /// client giving up at its deadline.
  var openedAt: NIODeadline
  var timeout: TimeAmount?

  /// Bytes of messages this stream holds: complete ones not yet taken and a partial one.
  var buffered: Int64 { self.receive.held + Int64(self.assembly?.readableBytes ?? 0) }
}

/// The state of one connection as a value (docs/PROTOCOL.md §5, §6, §10–§12): its lifecycle,
/// its streams and their states, flow control both ways, the frames queued for the peer and the
/// limits on what a peer may make it hold. Every step is a `mutating` method that changes the
/// state and returns the `ConnectionActions` for the connection to perform once its lock is
/// released; nothing here resumes a task, schedules on an event loop or touches a channel, so
/// it runs in tests without either.
///
/// `Waiter` is what a waiting task is resumed through (a continuation in `ConnectionCore`).
struct ConnectionStateMachine<Waiter: Sendable>: Sendable {
  typealias Actions = ConnectionActions<Waiter>

  enum Lifecycle: Sendable, Hashable {
    case active
    /// GOAWAY sent or received; streams above `lastStreamID` are refused.
    case draining(lastStreamID: UInt32)
    case closed
  }

  /// How a first write of a message went.
  enum WriteStart: Sendable {
    case done
    /// The windows are full: register a waiter with `blockWrite` for what is left.
    case wait(remaining: ByteBuffer)
    case failed(RPCError)
  }

  /// How a request for a stream slot went.
  enum SlotRequest: Sendable, Hashable {
    case reserved
    /// Every slot is taken: register a waiter with this id.
    case wait(id: UInt64)
    case failed(RPCError)
  }

  let role: ConnectionRole
  let policy: RolePolicy
  /// What we accept, as announced in our SETTINGS.
  let local: ConnectionSettings
  let config: TransportConfig

  private(set) var lifecycle: Lifecycle = .active
  /// What the peer accepts, from its SETTINGS.
  private(set) var peer = ConnectionSettings()
  private(set) var peerSettingsReceived = false
  private(set) var sendWindow: SendWindow
  private(set) var receiveWindow: ReceiveWindow
  private(set) var streams: [UInt32: StreamRecord<Waiter>] = [:]
  /// Streams with a write waiting for window, in arrival order.
  private var blockedStreams: Deque<UInt32> = []
  private(set) var highestStreamID: UInt32 = 0
  private var nextStreamID: UInt32 = 1
  /// Client: slots taken by calls that have not opened their stream yet.
  private(set) var reservedSlots = 0
  private var slotWaiters: Deque<(id: UInt64, waiter: Waiter)> = []
  /// Waiters whose task was cancelled before they registered: they must not register.
  private(set) var cancelledWaiters: Set<UInt64> = []
  private var nextWaiterID: UInt64 = 0
  /// Close once the last stream ends (after a GOAWAY either way).
  private(set) var closeWhenIdle = false
  private(set) var closeError: RPCError?
  /// MESSAGE bytes received and held: partial messages plus complete ones not yet taken by the
  /// streams' consumers.
  private(set) var inboundBuffered: Int64 = 0
  private(set) var inboundBufferedPeak: Int64 = 0
  private(set) var outbound: OutboundBuffer
  private var emptyMessages = RateWindow()
  private var peerResets = RateWindow()
  private let allocator = ByteBufferAllocator()

  init(role: ConnectionRole, config: TransportConfig) {
    self.role = role
    self.policy = role.policy
    self.local = config.settings
    self.config = config
    // Until the peer's SETTINGS arrive, its windows are the defaults.
    self.sendWindow = SendWindow(Int64(ConnectionSettings().initialConnectionWindow))
    self.receiveWindow = ReceiveWindow(initial: config.settings.initialConnectionWindow)
    self.outbound = OutboundBuffer(maxQueuedBytes: config.maxQueuedOutboundBytes, maxQueuedControlFrames: config.maxQueuedControlFrames)
  }

  var isClosed: Bool { self.lifecycle == .closed }
  /// Takes new calls: not going away, and the peer's SETTINGS have arrived.
  var isActive: Bool { self.lifecycle == .active && self.peerSettingsReceived }

  // MARK: - Writing

  /// Finishes a step that queued frames: checks the outbound limit and asks for a drain.
  private mutating func settle(_ actions: inout Actions, _ urgency: DrainUrgency) {
    if let queued = self.outbound.overflow(connectionClosed: self.isClosed) {
      actions.append(
        .failConnection(
          .connection(.enhanceYourCalm, "peer is not reading: \(queued) bytes queued for it (limit \(self.config.maxQueuedOutboundBytes))"))
      )
    }
    actions.drain = max(actions.drain, self.outbound.requestDrain(urgency, connectionClosed: self.isClosed))
  }

  /// The preface and our SETTINGS, when the channel becomes active.
  mutating func start() -> Actions {
    var actions = Actions()
    self.outbound.append(bytes: FrameLayout.preface)
    self.outbound.append(.settings(ack: false, self.local.entries))
    self.settle(&actions, .immediate)
    return actions
  }

  /// Everything pending, for one write and one flush (event loop).
  mutating func drain() -> Actions {
    var actions = Actions()
    guard let buffer = self.outbound.take() else { return actions }
    if let queued = self.outbound.overflow(connectionClosed: self.isClosed) {
      actions.append(
        .failConnection(
          .connection(.enhanceYourCalm, "peer is not reading: \(queued) bytes queued for it (limit \(self.config.maxQueuedOutboundBytes))"))
      )
    }
    actions.append(.write(buffer))
    return actions
  }

  /// While the channel is not writable, it held `buffered` bytes for the peer after a write.
  mutating func measured(bufferedInChannel buffered: Int) -> Actions {
    var actions = Actions()
    guard self.outbound.measured(bufferedInChannel: buffered) else { return actions }
    if let queued = self.outbound.overflow(connectionClosed: self.isClosed) {
      actions.append(
        .failConnection(
          .connection(.enhanceYourCalm, "peer is not reading: \(queued) bytes queued for it (limit \(self.config.maxQueuedOutboundBytes))"))
      )
    }
    return actions
  }

  mutating func writabilityChanged(isWritable: Bool) { self.outbound.writabilityChanged(isWritable: isWritable) }

  /// A connection-level frame (PING, GOAWAY) written at once.
  mutating func enqueueControl(_ frame: Frame) -> Actions {
    var actions = Actions()
    self.outbound.append(frame)
    self.settle(&actions, .immediate)
    return actions
  }

  /// A HEADERS frame for `payload` (stream id to be set), or nil if the peer would refuse its size.
  private func encodeHeaders(_ payload: HeadersPayload) -> ByteBuffer? {
    var scratch = self.allocator.buffer(capacity: 128)
    FrameEncoder.encode(.headers(streamID: 1, payload, endStream: false), into: &scratch)
    return scratch.readableBytes - FrameLayout.headerSize <= Int(self.peerHeaderLimit) ? scratch : nil
  }

  /// What the peer accepts for HEADERS and TRAILERS: both its header and frame limits.
  var peerHeaderLimit: UInt32 { min(self.peer.maxHeaderSize, self.peer.maxFrameSize) }

  /// Appends MESSAGE frames for as much of `bytes` as the windows allow; `bytes` keeps the rest.
  private mutating func appendMessage(_ bytes: inout ByteBuffer, streamID: UInt32, record: inout StreamRecord<Waiter>) {
    let maxFrame = Int(self.peer.maxFrameSize)
    repeat {
      let allowed = min(self.sendWindow.allowance(for: bytes.readableBytes), record.send.allowance(for: bytes.readableBytes))
      let chunk = min(allowed, maxFrame)
      if chunk == 0 && bytes.readableBytes > 0 { return }
      // Checked: chunk <= readableBytes.
      guard let slice = bytes.readSlice(length: chunk) else { return }
      self.outbound.appendMessage(streamID: streamID, slice, endMessage: bytes.readableBytes == 0)
      self.sendWindow.consume(chunk)
      record.send.consume(chunk)
    } while bytes.readableBytes > 0
  }

  /// Queues as much of one message as the windows allow.
  mutating func startWrite(streamID: UInt32, _ message: ByteBuffer) -> (WriteStart, Actions) {
    var actions = Actions()
    guard var record = self.streams[streamID], record.state.canSend else {
      return (.failed(self.closeError ?? RPCError(code: .cancelled, message: "the call has ended")), actions)
    }
    guard message.readableBytes <= Int(self.peer.maxMessageSize) else {
      return (
        .failed(
          RPCError(
            code: .resourceExhausted,
            message: "message of \(message.readableBytes) bytes exceeds the peer's limit of \(self.peer.maxMessageSize) bytes")),
        actions
      )
    }
    var bytes = message
    if record.blocked == nil {
      self.appendMessage(&bytes, streamID: streamID, record: &record)
      self.streams[streamID] = record
    }
    self.settle(&actions, .delayed)
    return (bytes.readableBytes == 0 && record.blocked == nil ? .done : .wait(remaining: bytes), actions)
  }

  /// Registers the waiter of a write the windows stopped, then sends what a window opened in
  /// the meantime allows.
  mutating func blockWrite(streamID: UInt32, remaining: ByteBuffer, waiter: Waiter) -> Actions {
    var actions = Actions()
    guard var record = self.streams[streamID], record.state.canSend else {
      actions.append(.fail(waiter, self.closeError ?? RPCError(code: .cancelled, message: "the call has ended")))
      return actions
    }
    record.blocked = BlockedWrite(remaining: remaining, waiter: waiter)
    self.streams[streamID] = record
    self.blockedStreams.append(streamID)
    self.serviceBlocked(&actions)
    self.settle(&actions, .immediate)
    return actions
  }

  /// Moves blocked messages into the outbound buffer as far as the windows allow.
  private mutating func serviceBlocked(_ actions: inout Actions) {
    var stillBlocked: Deque<UInt32> = []
    while let id = self.blockedStreams.popFirst() {
      guard var record = self.streams[id], var blocked = record.blocked else { continue }
      if self.sendWindow.available > 0 && record.send.available > 0 {
        self.appendMessage(&blocked.remaining, streamID: id, record: &record)
      }
      if blocked.remaining.readableBytes == 0 {
        record.blocked = nil
        actions.append(.resume(blocked.waiter))
      } else {
        record.blocked = blocked
        stillBlocked.append(id)
      }
      self.streams[id] = record
    }
    self.blockedStreams = stillBlocked
  }

  // MARK: - Ending streams

  /// Sends RST_STREAM (unless both sides had ended) and forgets the stream.
  mutating func reset(streamID: UInt32, code: UInt8, message: String) -> Actions {
    var actions = Actions()
    self.reset(streamID: streamID, code: code, message: message, into: &actions)
    self.settle(&actions, .immediate)
    return actions
  }

  private mutating func reset(streamID: UInt32, code: UInt8, message: String, into actions: inout Actions) {
    guard let state = self.streams[streamID]?.state else { return }
    if state != .closed {
      self.outbound.append(.rstStream(streamID: streamID, code: UInt32(code), message: message))
    }
    let error = RPCError(code: Status.Code(wireCode: UInt32(code)).rpcErrorCode, message: message)
    self.remove(streamID, reason: .failed(error), into: &actions)
  }

  /// Forgets a stream: what it held returns to the connection window, its slot goes to the next
  /// waiter, and its consumer, writer, handler and timer are ended by the `streamEnded` effect.
  private mutating func remove(_ streamID: UInt32, reason: EndedStream<Waiter>.Reason, into actions: inout Actions) {
    guard let record = self.streams.removeValue(forKey: streamID) else { return }
    let partial = Int64(record.assembly?.readableBytes ?? 0)
    // Whatever it still holds is dropped with it (or taken by a consumer that no longer credits).
    self.inboundBuffered -= record.buffered
    self.receiveWindow.credit(record.receive.deferred + partial)
    self.connectionWindowUpdate()
    if let index = self.blockedStreams.firstIndex(of: streamID) { self.blockedStreams.remove(at: index) }
    if self.policy.opensStreams, let next = self.slotWaiters.popFirst() {
      self.reservedSlots += 1
      actions.append(.resume(next.waiter))
    }
    if self.closeWhenIdle && self.streams.isEmpty { actions.closeWhenFlushed = true }
    actions.append(
      .streamEnded(
        EndedStream(
          streamID: streamID, inbox: record.inbox, blocked: record.blocked?.waiter, cancellation: record.cancellation,
          deadline: record.deadline, remoteEnded: !record.state.canReceive, reason: reason)))
  }

  /// Resets a stream we know, or answers a frame on one we do not with RST_STREAM.
  private mutating func resetOrRefuse(streamID: UInt32, code: UInt8, message: String, into actions: inout Actions) {
    if self.streams[streamID] != nil {
      self.reset(streamID: streamID, code: code, message: message, into: &actions)
    } else {
      self.outbound.append(.rstStream(streamID: streamID, code: UInt32(code), message: message))
    }
  }

  // MARK: - Connection lifecycle

  /// Sends GOAWAY and stops taking streams; the connection closes when the last stream ends,
  /// or when the shutdown timer fires.
  mutating func beginDraining(code: GoAwayCode, message: String) -> Actions {
    var actions = Actions()
    guard self.lifecycle == .active else { return actions }
    self.lifecycle = .draining(lastStreamID: self.highestStreamID)
    self.closeWhenIdle = true
    self.outbound.append(.goAway(lastStreamID: self.highestStreamID, code: code, message: message))
    actions.unusable = true
    if self.streams.isEmpty {
      actions.closeWhenFlushed = true
    } else {
      actions.append(.armShutdownTimer)
    }
    self.settle(&actions, .immediate)
    return actions
  }

  /// Ends the connection with `error`, after a GOAWAY if given (code, reason; last stream id =
  /// the highest seen).
  mutating func fail(error: RPCError, goAway: (code: GoAwayCode, message: String)?) -> Actions {
    var actions = Actions()
    guard !self.isClosed else { return actions }
    if let goAway {
      self.outbound.append(.goAway(lastStreamID: self.highestStreamID, code: goAway.code, message: goAway.message))
    }
    self.close(error: error, into: &actions)
    actions.closeWhenFlushed = true
    self.settle(&actions, .immediate)
    return actions
  }

  /// The channel is gone (or about to be): every stream and waiter ends with `error`.
  mutating func closed(error: RPCError) -> Actions {
    var actions = Actions()
    self.close(error: error, into: &actions)
    return actions
  }

  private mutating func close(error: RPCError, into actions: inout Actions) {
    guard !self.isClosed else { return }
    self.lifecycle = .closed
    self.closeError = error
    actions.append(.closed(error))
    actions.unusable = true
    for id in self.streams.keys.sorted() {
      guard let record = self.streams[id] else { continue }
      actions.append(
        .streamEnded(
          EndedStream(
            streamID: id, inbox: record.inbox, blocked: record.blocked?.waiter, cancellation: record.cancellation,
            deadline: record.deadline, remoteEnded: !record.state.canReceive, reason: .failed(error))))
    }
    self.streams.removeAll()
    self.blockedStreams.removeAll()
    while let next = self.slotWaiters.popFirst() { actions.append(.fail(next.waiter, error)) }
  }

  // MARK: - Server: writes and handlers

  mutating func writeResponseHeaders(streamID: UInt32, _ payload: HeadersPayload) -> (RPCError?, Actions) {
    var actions = Actions()
    guard var record = self.streams[streamID], record.state.canSend else {
      return (RPCError(code: .cancelled, message: "the call has ended"), actions)
    }
    guard !record.responseHeaders else { return (RPCError(code: .internalError, message: "response metadata sent twice"), actions) }
    guard var frame = self.encodeHeaders(payload) else {
      return (RPCError(code: .internalError, message: "response metadata exceeds the peer's header limit"), actions)
    }
    frame.setInteger(streamID, at: frame.readerIndex + FrameLayout.streamIDOffset)
    self.outbound.append(encoded: &frame)
    record.responseHeaders = true
    self.streams[streamID] = record
    // Not held back indefinitely: a server-streaming caller waits for these before it reads.
    // The coalescing delay lets a unary call's message and trailers join them.
    self.settle(&actions, .delayed)
    return (nil, actions)
  }

  /// The call's status: TRAILERS end the stream. Too large for the peer, they keep the status
  /// and the start of the message only.
  mutating func writeTrailers(streamID: UInt32, _ payload: TrailersPayload) -> Actions {
    var actions = Actions()
    guard var record = self.streams[streamID], record.state.canSend else { return actions }
    var payload = payload
    var scratch = self.allocator.buffer(capacity: 64)
    FrameEncoder.encode(.trailers(streamID: streamID, payload), into: &scratch)
    if scratch.readableBytes - FrameLayout.headerSize > Int(self.peerHeaderLimit) {
      payload.metadata = []
      payload.details = []
      payload.message = Self.truncated(payload.message, bytes: 512)
      scratch.clear()
      FrameEncoder.encode(.trailers(streamID: streamID, payload), into: &scratch)
    }
    self.outbound.append(encoded: &scratch)
    record.state.closeLocal()
    self.streams[streamID] = record
    self.remove(streamID, reason: .completed, into: &actions)
    self.settle(&actions, .immediate)
    return actions
  }

  /// The longest prefix of `text` that fits in `bytes` UTF-8 bytes, cut at a character boundary.
  static func truncated(_ text: String, bytes: Int) -> String {
    guard text.utf8.count > bytes else { return text }
    var result = ""
    var used = 0
    for character in text {
      let size = character.utf8.count
      if used + size > bytes { break }
      result.append(character)
      used += size
    }
    return result
  }

  /// The handler returned. If it never wrote a status, the stream is reset.
  mutating func handlerFinished(streamID: UInt32) -> Actions {
    guard self.streams[streamID] != nil else { return Actions() }
    return self.reset(streamID: streamID, code: WireStatus.internalError, message: "the handler ended without a status")
  }

  /// The handler's cancellation handle; cancelled at once if the stream has already ended.
  mutating func attach(cancellation: ServerContext.RPCCancellationHandle, streamID: UInt32) -> Actions {
    var actions = Actions()
    if self.streams[streamID] != nil {
      self.streams[streamID]?.cancellation = cancellation
    } else {
      actions.append(.cancelHandler(cancellation))
    }
    return actions
  }

  /// The timer armed by an `armDeadline` effect, kept to be cancelled when the stream ends.
  mutating func setDeadline(_ deadline: Scheduled<Void>, streamID: UInt32) -> Bool {
    guard self.streams[streamID] != nil else { return false }
    self.streams[streamID]?.deadline = deadline
    return true
  }

  /// The server enforces the caller's deadline itself: DEADLINE_EXCEEDED goes out first, then
  /// the handler is cancelled and its later writes are dropped.
  mutating func deadlineExpired(streamID: UInt32, timeoutMicroseconds: UInt64) -> Actions {
    var actions = Actions()
    guard let record = self.streams[streamID], record.state.canSend else { return actions }
    let message = "deadline of \(timeoutMicroseconds / 1000) ms exceeded"
    self.outbound.append(.trailers(streamID: streamID, TrailersPayload(code: WireStatus.deadlineExceeded, message: message)))
    self.remove(streamID, reason: .failed(RPCError(code: .deadlineExceeded, message: message)), into: &actions)
    self.settle(&actions, .immediate)
    return actions
  }

  // MARK: - Client: slots and streams

  /// A free stream slot under the peer's MAX_CONCURRENT_STREAMS, or the id to wait with.
  mutating func requestSlot() -> SlotRequest {
    guard self.lifecycle == .active else {
      return .failed(self.closeError ?? RPCError(code: .unavailable, message: "connection is going away"))
    }
    if self.streams.count + self.reservedSlots < Int(self.peer.maxConcurrentStreams) {
      self.reservedSlots += 1
      return .reserved
    }
    self.nextWaiterID += 1
    return .wait(id: self.nextWaiterID)
  }

  /// Registers a waiter for a slot; it is resumed (`resume`) when one frees, failed if the
  /// connection closes or its task was cancelled before it got here.
  mutating func registerSlotWaiter(id: UInt64, _ waiter: Waiter) -> Actions {
    var actions = Actions()
    // Cancelled before it could register: the cancellation found no waiter to end.
    if self.cancelledWaiters.remove(id) != nil {
      actions.append(.fail(waiter, CancellationError()))
      return actions
    }
    guard self.lifecycle == .active else {
      actions.append(.fail(waiter, self.closeError ?? RPCError(code: .unavailable, message: "connection is going away")))
      return actions
    }
    if self.streams.count + self.reservedSlots < Int(self.peer.maxConcurrentStreams) {
      self.reservedSlots += 1
      actions.append(.resume(waiter))
    } else {
      self.slotWaiters.append((id, waiter))
    }
    return actions
  }

  /// The waiting task was cancelled: its waiter fails, or, not registered yet, will fail when it
  /// registers.
  mutating func cancelSlotWaiter(id: UInt64) -> Actions {
    var actions = Actions()
    if let index = self.slotWaiters.firstIndex(where: { $0.id == id }) {
      actions.append(.fail(self.slotWaiters.remove(at: index).waiter, CancellationError()))
    } else {
      // Not registered yet (or already given a slot): a registration still to come ends at once.
      self.cancelledWaiters.insert(id)
    }
    return actions
  }

  /// The wait is over however it ended: a cancellation that came too late is forgotten.
  mutating func forgetSlotWaiter(id: UInt64) { self.cancelledWaiters.remove(id) }

  /// A reserved slot is given back unused; the next waiter takes it.
  mutating func releaseSlot() -> Actions {
    var actions = Actions()
    self.reservedSlots -= 1
    if let next = self.slotWaiters.popFirst() {
      self.reservedSlots += 1
      actions.append(.resume(next.waiter))
    }
    return actions
  }

  /// Opens a stream with HEADERS, using a reserved slot. Returns its id.
  mutating func openStream(
    _ payload: HeadersPayload, inbox: StreamInbox<RPCResponsePart<BanjieBytes>>, now: NIODeadline
  ) -> (Result<UInt32, RPCError>, Actions) {
    var actions = Actions()
    guard self.lifecycle == .active else {
      return (.failure(self.closeError ?? RPCError(code: .unavailable, message: "connection is going away")), actions)
    }
    guard self.nextStreamID <= FrameLayout.maxStreamID else {
      return (.failure(RPCError(code: .unavailable, message: "connection has used all its stream ids")), actions)
    }
    guard var frame = self.encodeHeaders(payload) else {
      return (
        .failure(
          RPCError(
            code: .resourceExhausted, message: "request metadata exceeds the server's header limit of \(self.peer.maxHeaderSize) bytes")),
        actions
      )
    }
    let id = self.nextStreamID
    self.nextStreamID += 2
    self.highestStreamID = id
    frame.setInteger(id, at: frame.readerIndex + FrameLayout.streamIDOffset)
    self.outbound.append(encoded: &frame)
    self.reservedSlots -= 1
    self.streams[id] = StreamRecord(
      state: .opened(remoteEnded: false), inbox: .client(inbox), send: SendWindow(Int64(self.peer.initialStreamWindow)),
      receive: StreamReceiveFlow(initial: self.local.initialStreamWindow), openedAt: now)
    // Sent after the coalescing delay, not held for the first message: a streaming caller may
    // wait for the server before it writes anything.
    self.settle(&actions, .delayed)
    return (.success(id), actions)
  }

  /// Half-closes our side: the last frame of a call's request, written at once.
  mutating func writeEndStream(streamID: UInt32) -> Actions {
    var actions = Actions()
    guard var record = self.streams[streamID], record.state.canSend else { return actions }
    record.state.closeLocal()
    self.streams[streamID] = record
    self.outbound.closeStream(streamID)
    self.settle(&actions, .immediate)
    return actions
  }

  /// The call's task is done with the stream: reset it if the server has not finished it.
  mutating func release(streamID: UInt32) -> Actions {
    guard self.streams[streamID] != nil else { return Actions() }
    return self.reset(streamID: streamID, code: WireStatus.cancelled, message: "the client cancelled the call")
  }

  // MARK: - Inbound credit

  /// A consumer took `bytes` of messages from a stream's inbox.
  mutating func consumed(streamID: UInt32, bytes: Int) -> Actions {
    var actions = Actions()
    if streamID != 0, var record = self.streams[streamID] {
      self.inboundBuffered -= Int64(bytes)
      let released = record.receive.consumed(Int64(bytes))
      if released > 0 {
        self.receiveWindow.credit(released)
        self.streamWindowUpdate(streamID, record: &record)
      }
      self.streams[streamID] = record
    } else if streamID == 0 {
      self.receiveWindow.credit(Int64(bytes))
    }
    self.connectionWindowUpdate()
    self.settle(&actions, .immediate)
    return actions
  }

  private mutating func streamWindowUpdate(_ streamID: UInt32, record: inout StreamRecord<Waiter>) {
    guard record.state.canReceive, let increment = record.receive.window.takeUpdate() else { return }
    self.outbound.append(.windowUpdate(streamID: streamID, increment: increment))
  }

  private mutating func connectionWindowUpdate() {
    guard let increment = self.receiveWindow.takeUpdate() else { return }
    self.outbound.append(.windowUpdate(streamID: 0, increment: increment))
  }

  // MARK: - Reading

  /// Handles one inbound frame at `now`. A violation that ends the connection comes back as
  /// `connectionError`, after whatever the frame changed before it was found.
  mutating func receive(
    _ frame: Frame, now: NIODeadline, makeRequestInbox: (UInt32) -> StreamInbox<RPCRequestPart<BanjieBytes>>
  ) -> Actions {
    var actions = Actions()
    let pendingBefore = self.outbound.pendingBytes
    do {
      try self.receive(frame, now: now, makeRequestInbox: makeRequestInbox, into: &actions)
      // What the frame made us queue (acks, resets, window updates, blocked messages) goes at once.
      self.settle(&actions, self.outbound.pendingBytes != pendingBefore ? .immediate : .idle)
    } catch {
      actions.connectionError = error
    }
    return actions
  }

  private mutating func receive(
    _ frame: Frame, now: NIODeadline, makeRequestInbox: (UInt32) -> StreamInbox<RPCRequestPart<BanjieBytes>>,
    into actions: inout Actions
  ) throws(WireError) {
    switch frame {
    case .settings(let ack, let entries):
      if !ack { try self.receiveSettings(entries, into: &actions) }
    case .ping(let ack, let opaque):
      guard !ack else { return }
      self.outbound.append(.ping(ack: true, opaque: opaque))
      try self.countControlFrame()
    case .goAway(let last, let code, let message):
      self.receiveGoAway(lastStreamID: last, code: code, message: message, into: &actions)
    case .windowUpdate(let id, let increment):
      try self.receiveWindowUpdate(streamID: id, increment: increment, into: &actions)
    case .headers(let id, let payload, let endStream):
      if self.policy.acceptsStreams {
        try self.acceptStream(streamID: id, payload: payload, endStream: endStream, now: now, makeInbox: makeRequestInbox, into: &actions)
      } else {
        try self.receiveResponseHeaders(streamID: id, payload: payload, into: &actions)
      }
    case .message(let id, let bytes, let endMessage, let endStream):
      try self.receiveMessage(streamID: id, bytes: bytes, endMessage: endMessage, endStream: endStream, now: now, into: &actions)
    case .trailers(let id, let payload):
      try self.receiveTrailers(streamID: id, payload: payload, into: &actions)
    case .rstStream(let id, let code, let message):
      try self.receiveReset(streamID: id, code: code, message: message, now: now, into: &actions)
    case .malformed(let id, let error):
      guard case .stream(_, let code, let message) = error else { throw error }
      actions.append(.log(.malformedFrame(streamID: id, reason: message)))
      try self.checkKnown(streamID: id)
      // A malformed HEADERS still uses up its stream id.
      if self.policy.malformedFrameUsesStreamID { self.highestStreamID = max(self.highestStreamID, id) }
      self.resetOrRefuse(streamID: id, code: code, message: message, into: &actions)
    case .unknown:
      break  // Unknown frame types are ignored (docs/PROTOCOL.md §3).
    }
  }

  /// Counts a PING or SETTINGS ack queued for a peer that may not be reading.
  private mutating func countControlFrame() throws(WireError) {
    if self.outbound.countControlFrame() {
      throw .connection(
        .enhanceYourCalm, "peer is not reading: more than \(self.config.maxQueuedControlFrames) control frames queued for it")
    }
  }

  private mutating func receiveSettings(_ entries: [Setting], into actions: inout Actions) throws(WireError) {
    let before = self.peer
    try self.peer.apply(entries)
    let first = !self.peerSettingsReceived
    if first {
      self.peerSettingsReceived = true
      // Both within 2^31-1: SETTINGS checked them.
      _ = self.sendWindow.increase(by: Int64(self.peer.initialConnectionWindow) - Int64(before.initialConnectionWindow))
      let delta = Int64(self.peer.initialStreamWindow) - Int64(before.initialStreamWindow)
      if delta != 0 {
        for id in self.streams.keys { _ = self.streams[id]?.send.increase(by: delta) }
      }
    }
    self.outbound.append(.settings(ack: true, []))
    try self.countControlFrame()
    if first {
      actions.ready = true
      self.serviceBlocked(&actions)
    }
  }

  private mutating func receiveGoAway(lastStreamID: UInt32, code: GoAwayCode, message: String, into actions: inout Actions) {
    if code != .noError { actions.append(.log(.peerGoAway(code, reason: message))) }
    self.closeWhenIdle = true
    actions.unusable = true
    // Only clients open streams, so only a server's GOAWAY refuses any.
    if self.policy.peerGoAwayRefusesStreams {
      if self.lifecycle == .active { self.lifecycle = .draining(lastStreamID: lastStreamID) }
      for id in self.streams.keys.sorted() where id > lastStreamID {
        // Never processed by the peer: safe for the caller to retry elsewhere.
        self.reset(
          streamID: id, code: WireStatus.unavailable, message: "the server is going away (\(message)); the call was not processed",
          into: &actions)
      }
    }
    if self.streams.isEmpty { actions.closeWhenFlushed = true }
  }

  private mutating func receiveWindowUpdate(streamID: UInt32, increment: UInt32, into actions: inout Actions) throws(WireError) {
    if streamID == 0 {
      guard self.sendWindow.increase(by: Int64(increment)) else {
        throw .connection(.flowControlError, "connection window above 2^31-1")
      }
    } else if var record = self.streams[streamID] {
      let within = record.send.increase(by: Int64(increment))
      self.streams[streamID] = record
      if !within {
        self.reset(streamID: streamID, code: WireStatus.internalError, message: "stream window above 2^31-1", into: &actions)
      }
    }
    self.serviceBlocked(&actions)
  }

  /// Streams the peer refers to must exist or have existed.
  private func checkKnown(streamID: UInt32) throws(WireError) {
    if self.policy.rejectsFramesForUnopenedStreams && streamID > self.highestStreamID {
      throw .connection(.protocolError, "frame for stream \(streamID), which was never opened")
    }
  }

  /// Client: the server's HEADERS, once per stream.
  private mutating func receiveResponseHeaders(streamID: UInt32, payload: HeadersPayload, into actions: inout Actions) throws(WireError) {
    try self.checkKnown(streamID: streamID)
    guard var record = self.streams[streamID] else { return }
    guard !record.responseHeaders, case .client(let inbox) = record.inbox else {
      self.reset(streamID: streamID, code: WireStatus.internalError, message: "second HEADERS on a stream", into: &actions)
      return
    }
    record.responseHeaders = true
    self.streams[streamID] = record
    actions.append(.responseMetadata(inbox, Metadata(wireEntries: payload.metadata)))
  }

  /// Server: a client's HEADERS opens a stream, or is refused with RST_STREAM.
  private mutating func acceptStream(
    streamID: UInt32, payload: HeadersPayload, endStream: Bool, now: NIODeadline,
    makeInbox: (UInt32) -> StreamInbox<RPCRequestPart<BanjieBytes>>, into actions: inout Actions
  ) throws(WireError) {
    if self.streams[streamID] != nil {
      self.reset(streamID: streamID, code: WireStatus.internalError, message: "second HEADERS on a stream", into: &actions)
      return
    }
    guard streamID > self.highestStreamID else {
      throw .connection(.protocolError, "stream id \(streamID) reused (highest so far \(self.highestStreamID))")
    }
    guard streamID % 2 == 1 else {
      throw .connection(.protocolError, "stream id \(streamID) is even; clients open odd-numbered streams")
    }
    self.highestStreamID = streamID
    let refusal: (UInt8, String)?
    if self.lifecycle != .active {
      refusal = (WireStatus.unavailable, "the server is shutting down; the call was not processed")
    } else if payload.path.isEmpty {
      refusal = (WireStatus.internalError, "request HEADERS without a method path")
    } else if self.streams.count >= Int(self.local.maxConcurrentStreams) {
      refusal = (WireStatus.resourceExhausted, "more than \(self.local.maxConcurrentStreams) concurrent streams on one connection")
    } else {
      refusal = nil
    }
    if let (code, message) = refusal {
      self.outbound.append(.rstStream(streamID: streamID, code: UInt32(code), message: message))
      return
    }
    let inbox = makeInbox(streamID)
    let timeout = payload.timeoutMicroseconds.map { min($0, UInt64(Int64.max / 1000)) }
    self.streams[streamID] = StreamRecord(
      state: .opened(remoteEnded: endStream), inbox: .server(inbox), send: SendWindow(Int64(self.peer.initialStreamWindow)),
      receive: StreamReceiveFlow(initial: self.local.initialStreamWindow), openedAt: now,
      timeout: timeout.map { .microseconds(Int64($0)) })
    if let timeout { actions.append(.armDeadline(streamID: streamID, timeoutMicroseconds: timeout)) }
    actions.append(.accepted(streamID: streamID, inbox: inbox, headers: payload, endStream: endStream))
  }

  private mutating func receiveMessage(
    streamID: UInt32, bytes: ByteBuffer, endMessage: Bool, endStream: Bool, now: NIODeadline, into actions: inout Actions
  ) throws(WireError) {
    let size = Int64(bytes.readableBytes)
    // An empty MESSAGE carries an empty message or a half-close; a flood of them carries
    // nothing but work (docs/PROTOCOL.md §11).
    if self.policy.policesEmptyMessages, size == 0, !endStream,
      self.emptyMessages.add(now: now, length: self.config.abuseWindow) > self.config.maxEmptyMessagesPerWindow
    {
      throw .connection(
        .enhanceYourCalm, "more than \(self.config.maxEmptyMessagesPerWindow) empty MESSAGE frames within \(self.config.abuseWindow)")
    }
    guard self.receiveWindow.receive(size) else {
      throw .connection(.flowControlError, "peer sent beyond the connection window")
    }
    guard var record = self.streams[streamID] else {
      if streamID > self.highestStreamID {
        throw .connection(.protocolError, "MESSAGE for stream \(streamID), which was never opened")
      }
      // A stream that has ended: return the bytes to the connection window.
      self.receiveWindow.credit(size)
      self.connectionWindowUpdate()
      return
    }
    let refusal: (UInt8, String)?
    if !record.state.canReceive {
      refusal = (WireStatus.internalError, "MESSAGE after END_STREAM")
    } else if !record.receive.window.receive(size) {
      refusal = (WireStatus.resourceExhausted, "peer sent beyond the stream's flow-control window")
    } else if Int64(record.assembly?.readableBytes ?? 0) + size > Int64(self.local.maxMessageSize) {
      refusal = (WireStatus.resourceExhausted, "message larger than the limit of \(self.local.maxMessageSize) bytes")
    } else if self.inboundBuffered + size > self.config.maxBufferedInboundBytes {
      refusal = (
        WireStatus.resourceExhausted,
        "the connection already holds \(self.inboundBuffered) bytes of messages not yet read (limit \(self.config.maxBufferedInboundBytes))"
      )
    } else {
      refusal = nil
    }
    if let (code, message) = refusal {
      self.receiveWindow.credit(size)
      actions.append(.log(.streamReset(streamID: streamID, reason: message)))
      self.reset(streamID: streamID, code: code, message: message, into: &actions)
      return
    }
    // Credit now unless the consumer is behind; then credit when it catches up.
    if record.receive.accept(size) { self.receiveWindow.credit(size) }
    var complete: ByteBuffer?
    if endMessage {
      if var partial = record.assembly {
        var tail = bytes
        partial.writeBuffer(&tail)
        complete = partial
        record.assembly = nil
      } else {
        complete = bytes
      }
      record.receive.delivered(Int64(complete?.readableBytes ?? 0))
    } else if size > 0 {
      var partial = record.assembly ?? self.allocator.buffer(capacity: Int(size) * 2)
      var tail = bytes
      partial.writeBuffer(&tail)
      record.assembly = partial
    }
    self.inboundBuffered += size
    self.inboundBufferedPeak = max(self.inboundBufferedPeak, self.inboundBuffered)
    if endStream {
      record.state.closeRemote()
      if let partial = record.assembly, partial.readableBytes > 0 {
        self.streams[streamID] = record
        let message = "stream ended inside a message (END_STREAM without END_MESSAGE)"
        actions.append(.log(.streamReset(streamID: streamID, reason: message)))
        self.reset(streamID: streamID, code: WireStatus.internalError, message: message, into: &actions)
        return
      }
    }
    self.streamWindowUpdate(streamID, record: &record)
    self.connectionWindowUpdate()
    self.streams[streamID] = record
    if let complete { actions.append(.message(record.inbox, complete)) }
    if endStream, self.policy.endsInboxOnPeerEndStream, case .server(let inbox) = record.inbox {
      actions.append(.requestsEnded(inbox))
    }
  }

  private mutating func receiveTrailers(streamID: UInt32, payload: TrailersPayload, into actions: inout Actions) throws(WireError) {
    guard self.policy.receivesTrailers else {
      self.resetOrRefuse(streamID: streamID, code: WireStatus.internalError, message: "TRAILERS from a client", into: &actions)
      return
    }
    try self.checkKnown(streamID: streamID)
    guard self.streams[streamID] != nil else { return }
    var metadata = Metadata(wireEntries: payload.metadata)
    if !payload.details.isEmpty { metadata.addBinary(payload.details, forKey: "grpc-status-details-bin") }
    let status = Status(code: Status.Code(wireCode: UInt32(payload.code)), message: payload.message)
    self.remove(streamID, reason: .trailers(status, metadata), into: &actions)
  }

  private mutating func receiveReset(
    streamID: UInt32, code: UInt32, message: String, now: NIODeadline, into actions: inout Actions
  ) throws(WireError) {
    guard let record = self.streams[streamID] else { return }
    // Rapid open/reset: a stream the client resets before half its timeout has passed (or at
    // any time, without one) cost a handler for nothing; a client giving up at its deadline
    // is no abuse.
    let rapid = record.timeout.map { now - record.openedAt < .nanoseconds($0.nanoseconds / 2) } ?? true
    if self.policy.policesPeerResets, rapid,
      self.peerResets.add(now: now, length: self.config.abuseWindow) > self.config.maxPeerResetsPerWindow
    {
      throw .connection(
        .enhanceYourCalm, "more than \(self.config.maxPeerResetsPerWindow) streams reset by the peer within \(self.config.abuseWindow)")
    }
    let text = message.isEmpty ? "stream reset by peer" : message
    self.remove(streamID, reason: .failed(RPCError(code: Status.Code(wireCode: code).rpcErrorCode, message: text)), into: &actions)
  }
}
