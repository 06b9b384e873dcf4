import BanjieTLS
import BanjieWire
import DequeModule
import GRPCCore
import Logging
import NIOCore
import Synchronization

/// The state of one connection shared by its event loop (inbound frames, timers) and the
/// tasks of its calls (outbound parts): streams, flow-control windows and the frames waiting
/// to be written. One lock guards it; every method takes it once, changes the state, and acts
/// (resumes tasks, schedules writes) after releasing it.
///
/// Outbound frames are appended to one buffer and written with one write and one flush by
/// `drain()` on the event loop. The last frame of a call asks for an immediate drain; others
/// ask for a drain after `flushCoalescingDelay`, so that a unary call leaves in one write.
final class ConnectionCore: Sendable {
  enum Role: Sendable { case server, client }

  enum Inbox: Sendable {
    case server(StreamInbox<RPCRequestPart<BanjieBytes>>)
    case client(StreamInbox<RPCResponsePart<BanjieBytes>>)

    func finish(throwing error: (any Error)?) {
      switch self {
      case .server(let inbox): inbox.finish(throwing: error)
      case .client(let inbox): inbox.finish(throwing: error)
      }
    }
    func discardBuffered() -> Int {
      switch self {
      case .server(let inbox): return inbox.discardBuffered()
      case .client(let inbox): return inbox.discardBuffered()
      }
    }
  }

  struct BlockedWrite {
    var remaining: ByteBuffer
    var continuation: CheckedContinuation<Void, any Error>
  }

  struct StreamRecord {
    var inbox: Inbox
    var sendWindow: Int64
    var recvWindow: Int64
    var pendingCredit: Int64 = 0
    var inboxBytes: Int64 = 0
    var deferredCredit: Int64 = 0
    var assembly: ByteBuffer?
    var blocked: BlockedWrite?
    var localClosed = false
    var remoteClosed = false
    var headersSent = false
    var headersReceived = false
    var cancellation: ServerContext.RPCCancellationHandle?
    var cancelled = false
    var deadline: Scheduled<Void>?
    /// Server: when the HEADERS arrived, and the call's timeout, to tell a rapid reset from a
    /// client giving up at its deadline.
    var openedAt: NIODeadline = .now()
    var timeout: TimeAmount?
  }

  enum Lifecycle: Equatable {
    case active
    /// GOAWAY sent or received; streams above `lastStreamID` are refused.
    case draining(lastStreamID: UInt32)
    case closed
  }

  enum DrainState { case idle, delayed, immediate }

  struct State {
    var pending: ByteBuffer
    var drain: DrainState = .idle
    var lastMessageFrame: (streamID: UInt32, flagsIndex: Int)?
    var peer = ConnectionSettings()
    var peerSettingsReceived = false
    var sendConnWindow: Int64
    var recvConnWindow: Int64
    var connPendingCredit: Int64 = 0
    var streams: [UInt32: StreamRecord] = [:]
    var blockedStreams: Deque<UInt32> = []
    var highestStreamID: UInt32 = 0
    var nextStreamID: UInt32 = 1
    var reservedSlots = 0
    var slotWaiters: Deque<(UInt64, CheckedContinuation<Void, any Error>)> = []
    /// Waiters whose task was cancelled before they joined `slotWaiters`: they must not join.
    var cancelledWaiters: Set<UInt64> = []
    var nextWaiterID: UInt64 = 0
    var lifecycle: Lifecycle = .active
    var closeWhenIdle = false
    var closeError: RPCError?
    /// MESSAGE bytes received and held: partial messages plus complete ones not yet taken by
    /// the streams' consumers (the sum of every stream's `assembly` and `inboxBytes`).
    var inboundBuffered: Int64 = 0
    /// The most `inboundBuffered` has been on this connection.
    var inboundBufferedPeak: Int64 = 0
    /// Bytes waiting in the channel for the peer, as measured after the last write while the
    /// channel is not writable (the peer reads slower than we write, or not at all); nil while
    /// it is writable (docs/PROTOCOL.md §11).
    var unwritableOutbound: Int64?
    /// The most `unwritableOutbound` (with what was pending to be written) has been on this connection.
    var unwritableOutboundPeak: Int64 = 0
    /// The connection is being closed for queuing too much towards a peer that does not read.
    var outboundOverflow = false
    /// Control frames (PING and SETTINGS acks, RST_STREAMs) queued since the channel last became
    /// unwritable.
    var unwritableControlFrames = 0
    /// Empty MESSAGE frames without END_STREAM received in the current window, and when it began.
    var emptyMessages = RateWindow()
    /// Open streams the peer reset in the current window (rapid open/reset, server side).
    var peerResets = RateWindow()
  }

  /// A count of events within a fixed window of time: `count` since `start`.
  struct RateWindow {
    var start: NIODeadline = .now()
    var count = 0

    /// Counts one event at `now`, starting a new window when `length` has passed; returns the count.
    mutating func add(now: NIODeadline, length: TimeAmount) -> Int {
      if now - self.start >= length {
        self.start = now
        self.count = 0
      }
      self.count += 1
      return self.count
    }
  }

  let role: Role
  let local: ConnectionSettings
  let config: TransportConfig
  let channel: any Channel
  let logger: Logger
  private let state: Mutex<State>
  /// What the TLS handshake established about the peer; set before any stream can open.
  let session = Mutex<TLSSessionInfo?>(nil)
  /// The peer as handlers see it, built once per connection from the session.
  let peer = Mutex<BanjiePeer?>(nil)
  /// The last error the pipeline reported, to explain a close to the caller.
  let lastError = Mutex<String?>(nil)
  /// Server: called for each stream a client opens.
  private let onStream: (@Sendable (AcceptedStream) -> Void)?
  /// Client: succeeded once the peer's SETTINGS arrive; failed if the connection closes first.
  let ready: EventLoopPromise<Void>
  /// Client: told when the connection stops taking new streams (GOAWAY or close).
  private let onUnusable: (@Sendable () -> Void)?

  var eventLoop: any EventLoop { self.channel.eventLoop }
  /// Formatted once: handlers get it on every call.
  let localAddress: String

  init(
    role: Role,
    config: TransportConfig,
    channel: any Channel,
    logger: Logger,
    onStream: (@Sendable (AcceptedStream) -> Void)? = nil,
    onUnusable: (@Sendable () -> Void)? = nil
  ) {
    self.role = role
    self.local = config.settings
    self.config = config
    self.channel = channel
    self.logger = logger
    self.onStream = onStream
    self.onUnusable = onUnusable
    self.localAddress = channel.localAddress.map { "\($0)" } ?? "unknown"
    let ready = channel.eventLoop.makePromise(of: Void.self)
    self.ready = ready
    // Whatever happens to the channel (even if it never became active), the promise ends.
    // Completing an already completed promise is ignored.
    channel.closeFuture.whenComplete { _ in
      ready.fail(RPCError(code: .unavailable, message: "connection closed before it was ready"))
    }
    let defaults = ConnectionSettings()
    self.state = Mutex(
      State(
        pending: channel.allocator.buffer(capacity: 256),
        sendConnWindow: Int64(defaults.initialConnectionWindow),
        recvConnWindow: Int64(config.settings.initialConnectionWindow)
      )
    )
  }

  // MARK: - Connection start and end

  /// Writes the preface and our SETTINGS. Called once when the channel becomes active.
  func start() {
    self.withDrain(.immediate) { state in
      state.pending.writeBytes(FrameLayout.preface)
      FrameEncoder.encode(.settings(ack: false, self.local.entries), into: &state.pending)
    }
  }

  var openStreamCount: Int { self.state.withLock { $0.streams.count } }
  /// Received MESSAGE bytes held for this connection's streams now, and at most so far.
  var inboundBuffered: (current: Int64, peak: Int64) { self.state.withLock { ($0.inboundBuffered, $0.inboundBufferedPeak) } }
  var isActive: Bool { self.state.withLock { $0.lifecycle == .active && $0.peerSettingsReceived } }

  /// Sends GOAWAY and stops taking streams; the connection closes when the last stream ends.
  func beginDraining(code: GoAwayCode = .noError, message: String = "server is shutting down") {
    let (closeNow, idleStreams): (Bool, Bool) = self.withDrain(.immediate) { state in
      guard state.lifecycle == .active else { return (false, false) }
      state.lifecycle = .draining(lastStreamID: state.highestStreamID)
      state.closeWhenIdle = true
      FrameEncoder.encode(.goAway(lastStreamID: state.highestStreamID, code: code, message: message), into: &state.pending)
      return (true, state.streams.isEmpty)
    }
    guard closeNow else { return }
    self.onUnusable?()
    if idleStreams {
      self.eventLoop.execute { self.drainAndClose() }
    } else {
      self.eventLoop.scheduleTask(in: self.config.gracefulShutdownTimeout) {
        self.fail(error: RPCError(code: .unavailable, message: "connection closed: graceful shutdown timed out"), goAway: nil)
      }
    }
  }

  /// A connection-level protocol error: GOAWAY with the reason, then close.
  func fail(connectionError: WireError) {
    guard case .connection(let code, let message) = connectionError else { return }
    self.fail(error: RPCError(code: .unavailable, message: "connection error \(code): \(message)"), goAway: (code, message))
  }

  func fail(error: RPCError, goAway: (GoAwayCode, String)?) {
    let last: UInt32? = self.state.withLock { state in
      guard state.lifecycle != .closed else { return nil }
      return state.highestStreamID
    }
    guard let last else { return }
    if let (code, message) = goAway {
      self.withDrain(.immediate) { state in
        FrameEncoder.encode(.goAway(lastStreamID: last, code: code, message: message), into: &state.pending)
      }
    }
    self.closed(error: error)
    self.eventLoop.execute { self.drainAndClose() }
  }

  /// The channel is gone (or about to be): every stream ends with `error`.
  func closed(error: RPCError) {
    let (records, blocked, waiters): ([StreamRecord], [BlockedWrite], [CheckedContinuation<Void, any Error>]) =
      self.state.withLock { state in
        guard state.lifecycle != .closed else { return ([], [], []) }
        state.lifecycle = .closed
        state.closeError = error
        let records = Array(state.streams.values)
        state.streams.removeAll()
        state.blockedStreams.removeAll()
        let waiters = state.slotWaiters.map { $0.1 }
        state.slotWaiters.removeAll()
        return (records, records.compactMap { $0.blocked }, waiters)
      }
    self.ready.fail(error)
    self.onUnusable?()
    for record in records {
      record.deadline?.cancel()
      record.cancellation?.cancel()
      switch record.inbox {
      case .server(let inbox): inbox.finish(throwing: error)
      case .client(let inbox):
        if !record.remoteClosed {
          inbox.yield(.status(Status(code: Status.Code(error.code), message: error.message), [:]))
        }
        inbox.finish()
      }
    }
    for write in blocked { write.continuation.resume(throwing: error) }
    for waiter in waiters { waiter.resume(throwing: error) }
  }

  // MARK: - Writing

  /// Runs `body` under the lock, then makes sure a drain is scheduled with at least `urgency`.
  @discardableResult
  private func withDrain<R, E: Error>(_ urgency: DrainState, _ body: (inout State) throws(E) -> R) throws(E) -> R {
    let (result, schedule, overflow): (R, DrainState, Int64?) = try self.state.withLock {
      (state: inout State) throws(E) -> (R, DrainState, Int64?) in
      let result = try body(&state)
      let overflow = self.outboundOverflow(state: &state)
      guard state.pending.readableBytes > 0, state.lifecycle != .closed || urgency == .immediate else {
        return (result, .idle, overflow)
      }
      switch (state.drain, urgency) {
      case (.idle, .delayed):
        state.drain = .delayed
        return (result, .delayed, overflow)
      case (.idle, .immediate), (.delayed, .immediate):
        state.drain = .immediate
        return (result, .immediate, overflow)
      default:
        return (result, .idle, overflow)
      }
    }
    if let overflow { self.failNotReading(queued: overflow) }
    switch schedule {
    case .idle: break
    case .immediate: self.eventLoop.execute { self.drain() }
    case .delayed: self.eventLoop.scheduleTask(in: self.config.flushCoalescingDelay) { self.drain() }
    }
    return result
  }

  /// Writes everything pending in one write and one flush. Event loop only.
  func drain() {
    let (buffer, overflow): (ByteBuffer?, Int64?) = self.state.withLock { state in
      state.drain = .idle
      state.lastMessageFrame = nil
      guard state.pending.readableBytes > 0 else { return (nil, nil) }
      let out = state.pending
      state.pending = self.channel.allocator.buffer(capacity: 256)
      return (out, self.outboundOverflow(state: &state))
    }
    if let overflow { self.failNotReading(queued: overflow) }
    if let buffer {
      self.channel.writeAndFlush(buffer, promise: nil)
      self.measureQueued()
    }
  }

  /// While the socket takes no more of our writes: what waits in the channel for the peer,
  /// as the channel counts it, against `maxQueuedOutboundBytes`. A slow reader holds about a
  /// flow-control window there; a peer that does not read lets it grow. Event loop only.
  private func measureQueued() {
    guard !self.channel.isWritable,
      let buffered = try? self.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)
    else { return }
    let overflow: Int64? = self.state.withLock { state in
      guard state.unwritableOutbound != nil else { return nil }
      state.unwritableOutbound = Int64(buffered)
      return self.outboundOverflow(state: &state)
    }
    if let overflow { self.failNotReading(queued: overflow) }
  }

  private func drainAndClose() {
    self.drain()
    self.channel.close(promise: nil)
  }

  private func encodeHeaders(_ payload: HeadersPayload, peerLimit: UInt32) -> ByteBuffer? {
    var scratch = self.channel.allocator.buffer(capacity: 128)
    FrameEncoder.encode(.headers(streamID: 1, payload, endStream: false), into: &scratch)
    return scratch.readableBytes - FrameLayout.headerSize <= Int(peerLimit) ? scratch : nil
  }

  /// What the peer accepts for HEADERS and TRAILERS: both its header and frame limits.
  private static func headerLimit(_ peer: ConnectionSettings) -> UInt32 {
    min(peer.maxHeaderSize, peer.maxFrameSize)
  }

  /// Appends MESSAGE frames for as much of `bytes` as the windows allow. Returns what is left.
  private func appendMessage(
    _ bytes: inout ByteBuffer, streamID: UInt32, record: inout StreamRecord, state: inout State, startsMessage: Bool
  ) {
    let maxFrame = Int(state.peer.maxFrameSize)
    repeat {
      let window = Int(min(state.sendConnWindow, record.sendWindow))
      let chunk = min(bytes.readableBytes, maxFrame, max(window, 0))
      if chunk == 0 && bytes.readableBytes > 0 { return }
      // Checked: chunk <= readableBytes.
      guard let slice = bytes.readSlice(length: chunk) else { return }
      let last = bytes.readableBytes == 0
      let flagsIndex = state.pending.writerIndex + FrameLayout.flagsOffset
      FrameEncoder.encode(.message(streamID: streamID, slice, endMessage: last, endStream: false), into: &state.pending)
      state.lastMessageFrame = (streamID, flagsIndex)
      state.sendConnWindow -= Int64(chunk)
      record.sendWindow -= Int64(chunk)
    } while bytes.readableBytes > 0
  }

  /// Queues one whole message, waiting while the peer's windows are full.
  func writeMessage(streamID: UInt32, _ message: ByteBuffer) async throws {
    enum Outcome {
      case done, wait
      case failed(RPCError)
    }
    var bytes = message
    let first: Outcome = self.withDrain(.delayed) { state in
      guard var record = state.streams[streamID], !record.localClosed else {
        return .failed(state.closeError ?? RPCError(code: .cancelled, message: "the call has ended"))
      }
      guard bytes.readableBytes <= Int(state.peer.maxMessageSize) else {
        return .failed(
          RPCError(
            code: .resourceExhausted,
            message: "message of \(bytes.readableBytes) bytes exceeds the peer's limit of \(state.peer.maxMessageSize) bytes"))
      }
      if record.blocked == nil {
        self.appendMessage(&bytes, streamID: streamID, record: &record, state: &state, startsMessage: true)
        if bytes.readableBytes == 0 {
          state.streams[streamID] = record
          return .done
        }
      }
      state.streams[streamID] = record
      return .wait
    }
    switch first {
    case .done: return
    case .failed(let error): throw error
    case .wait: break
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let error: RPCError? = self.state.withLock { state in
          guard var record = state.streams[streamID], !record.localClosed else {
            return state.closeError ?? RPCError(code: .cancelled, message: "the call has ended")
          }
          record.blocked = BlockedWrite(remaining: bytes, continuation: continuation)
          state.streams[streamID] = record
          state.blockedStreams.append(streamID)
          return nil
        }
        if let error { continuation.resume(throwing: error) }
        // A WINDOW_UPDATE may have arrived between the two lock scopes.
        self.eventLoop.execute { self.serviceBlocked() }
      }
    } onCancel: {
      self.reset(streamID: streamID, code: WireStatus.cancelled, message: "cancelled by the sender")
    }
  }

  /// Moves blocked messages into the pending buffer as far as the windows allow.
  private func serviceBlocked() {
    let resumed: [CheckedContinuation<Void, any Error>] = self.withDrain(.immediate) { state in
      var resumed: [CheckedContinuation<Void, any Error>] = []
      var stillBlocked: Deque<UInt32> = []
      while let id = state.blockedStreams.popFirst() {
        guard var record = state.streams[id], var blocked = record.blocked else { continue }
        if state.sendConnWindow > 0 && record.sendWindow > 0 {
          self.appendMessage(&blocked.remaining, streamID: id, record: &record, state: &state, startsMessage: false)
        }
        if blocked.remaining.readableBytes == 0 {
          record.blocked = nil
          resumed.append(blocked.continuation)
        } else {
          record.blocked = blocked
          stillBlocked.append(id)
        }
        state.streams[id] = record
      }
      state.blockedStreams = stillBlocked
      return resumed
    }
    for continuation in resumed { continuation.resume() }
  }

  /// Sends RST_STREAM and forgets the stream (cancellation, errors).
  func reset(streamID: UInt32, code: UInt8, message: String) {
    let removed: StreamRecord? = self.withDrain(.immediate) { state in
      guard let record = state.streams[streamID] else { return nil }
      if !record.localClosed || !record.remoteClosed {
        FrameEncoder.encode(.rstStream(streamID: streamID, code: UInt32(code), message: message), into: &state.pending)
      }
      return self.remove(streamID, state: &state)
    }
    if let removed {
      let error = RPCError(code: Status.Code(wireCode: UInt32(code)).rpcErrorCode, message: message)
      self.finishRemoved(removed, error: error)
    }
  }

  /// Removes a stream, returning its credits to the connection window. Under the lock.
  private func remove(_ streamID: UInt32, state: inout State) -> StreamRecord? {
    guard let record = state.streams.removeValue(forKey: streamID) else { return nil }
    record.deadline?.cancel()
    // Whatever it still holds is dropped with it (or taken by a consumer that no longer credits).
    state.inboundBuffered -= record.inboxBytes + Int64(record.assembly?.readableBytes ?? 0)
    state.connPendingCredit += record.deferredCredit + Int64(record.assembly?.readableBytes ?? 0)
    self.maybeConnectionWindowUpdate(state: &state)
    if let index = state.blockedStreams.firstIndex(of: streamID) { state.blockedStreams.remove(at: index) }
    if self.role == .client, let (_, waiter) = state.slotWaiters.popFirst() {
      state.reservedSlots += 1
      // Resumed outside the lock by the caller through `pendingWakeups`.
      self.pendingWakeup(waiter)
    }
    if state.closeWhenIdle && state.streams.isEmpty {
      self.eventLoop.execute { self.drainAndClose() }
    }
    return record
  }

  private func pendingWakeup(_ waiter: CheckedContinuation<Void, any Error>) {
    // Resuming a continuation under a lock is safe (it only enqueues the task), but keep the
    // hop off the caller's stack.
    self.eventLoop.execute { waiter.resume() }
  }

  /// Ends what a removed stream's consumer and writer are waiting for.
  private func finishRemoved(_ record: StreamRecord, error: RPCError) {
    record.blocked?.continuation.resume(throwing: error)
    switch record.inbox {
    case .server(let inbox):
      record.cancellation?.cancel()
      // Buffered bytes were credited when they arrived (or are in deferredCredit, which
      // `remove` returned): dropping them returns nothing more.
      _ = inbox.discardBuffered()
      inbox.finish(throwing: error)
    case .client(let inbox):
      if !record.remoteClosed {
        inbox.yield(.status(Status(code: Status.Code(error.code), message: error.message), [:]))
      }
      inbox.finish()
    }
  }

  // MARK: - Server writes

  func writeResponseHeaders(streamID: UInt32, metadata: Metadata) throws {
    let payload = HeadersPayload(metadata: metadata.wireEntries())
    // Not held back indefinitely: a server-streaming caller waits for these before it reads.
    // The coalescing delay lets a unary call's message and trailers join them.
    let error: RPCError? = self.withDrain(.delayed) { state in
      guard var record = state.streams[streamID], !record.localClosed else {
        return RPCError(code: .cancelled, message: "the call has ended")
      }
      guard !record.headersSent else { return RPCError(code: .internalError, message: "response metadata sent twice") }
      guard let frame = self.encodeHeaders(payload, peerLimit: Self.headerLimit(state.peer)) else {
        return RPCError(code: .internalError, message: "response metadata exceeds the peer's header limit")
      }
      var encoded = frame
      encoded.setInteger(streamID, at: encoded.readerIndex + FrameLayout.streamIDOffset)
      state.pending.writeBuffer(&encoded)
      record.headersSent = true
      state.streams[streamID] = record
      return nil
    }
    if let error { throw error }
  }

  func writeTrailers(streamID: UInt32, status: Status, metadata: Metadata) {
    var payload = TrailersPayload(
      code: UInt8(status.code.rawValue), message: Self.truncated(status.message, bytes: 4096), metadata: metadata.wireEntries())
    let removed: StreamRecord? = self.withDrain(.immediate) { state in
      guard let record = state.streams[streamID], !record.localClosed else { return nil }
      var scratch = self.channel.allocator.buffer(capacity: 64)
      FrameEncoder.encode(.trailers(streamID: streamID, payload), into: &scratch)
      if scratch.readableBytes - FrameLayout.headerSize > Int(Self.headerLimit(state.peer)) {
        // Too large for the peer: keep the status and the start of the message.
        payload.metadata = []
        payload.details = []
        payload.message = Self.truncated(payload.message, bytes: 512)
        scratch.clear()
        FrameEncoder.encode(.trailers(streamID: streamID, payload), into: &scratch)
      }
      state.pending.writeBuffer(&scratch)
      return self.remove(streamID, state: &state)
    }
    if let removed {
      removed.deadline?.cancel()
      // The handler has finished with the stream; anything the client still sends is dropped.
      _ = removed.inbox.discardBuffered()
      removed.inbox.finish(throwing: nil)
    }
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
  func handlerFinished(streamID: UInt32) {
    let open = self.state.withLock { $0.streams[streamID] != nil }
    if open {
      self.reset(streamID: streamID, code: WireStatus.internalError, message: "the handler ended without a status")
    }
  }

  func attach(cancellation: ServerContext.RPCCancellationHandle, streamID: UInt32) {
    let alreadyGone = self.state.withLock { state -> Bool in
      guard var record = state.streams[streamID] else { return true }
      record.cancellation = cancellation
      state.streams[streamID] = record
      return record.cancelled
    }
    if alreadyGone { cancellation.cancel() }
  }

  // MARK: - Client writes

  /// Waits for a free stream slot under the server's MAX_CONCURRENT_STREAMS.
  func reserveSlot() async throws {
    enum Outcome {
      case reserved, wait
      case failed(RPCError)
    }
    let outcome: Outcome = self.state.withLock { state in
      guard state.lifecycle == .active else {
        return .failed(state.closeError ?? RPCError(code: .unavailable, message: "connection is going away"))
      }
      if state.streams.count + state.reservedSlots < Int(state.peer.maxConcurrentStreams) {
        state.reservedSlots += 1
        return .reserved
      }
      return .wait
    }
    switch outcome {
    case .reserved: return
    case .failed(let error): throw error
    case .wait: break
    }
    let id = self.state.withLock { state -> UInt64 in
      state.nextWaiterID += 1
      return state.nextWaiterID
    }
    enum Registration {
      case waiting, reserved
      case failed(any Error)
    }
    // A waiter given a slot, or failed by a closing connection, before its cancellation arrived
    // leaves its id behind; forget it however this ends.
    defer { self.state.withLock { _ = $0.cancelledWaiters.remove(id) } }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        // Decided under the lock, resumed after it.
        let registration: Registration = self.state.withLock { state in
          // Cancelled before it could register: the cancellation handler found no waiter to end.
          if state.cancelledWaiters.remove(id) != nil { return .failed(CancellationError()) }
          guard state.lifecycle == .active else {
            return .failed(state.closeError ?? RPCError(code: .unavailable, message: "connection is going away"))
          }
          if state.streams.count + state.reservedSlots < Int(state.peer.maxConcurrentStreams) {
            state.reservedSlots += 1
            return .reserved
          }
          state.slotWaiters.append((id, continuation))
          return .waiting
        }
        switch registration {
        case .waiting: break
        case .reserved: continuation.resume()
        case .failed(let error): continuation.resume(throwing: error)
        }
      }
    } onCancel: {
      let waiter = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
        guard let index = state.slotWaiters.firstIndex(where: { $0.0 == id }) else {
          // Not registered yet (or already given a slot): a registration still to come ends at once.
          state.cancelledWaiters.insert(id)
          return nil
        }
        return state.slotWaiters.remove(at: index).1
      }
      waiter?.resume(throwing: CancellationError())
    }
  }

  func releaseSlot() {
    let waiter: CheckedContinuation<Void, any Error>? = self.state.withLock { state in
      state.reservedSlots -= 1
      if let (_, waiter) = state.slotWaiters.popFirst() {
        state.reservedSlots += 1
        return waiter
      }
      return nil
    }
    waiter?.resume()
  }

  /// Opens a stream with HEADERS (using a slot from `reserveSlot`). Returns its id.
  func openStream(
    path: String,
    metadata: Metadata,
    inbox: StreamInbox<RPCResponsePart<BanjieBytes>>
  ) throws -> UInt32 {
    let payload = HeadersPayload(path: path, timeoutMicroseconds: metadata.timeoutMicroseconds, metadata: metadata.wireEntries())
    // Sent after the coalescing delay, not held for the first message: a streaming caller may
    // wait for the server before it writes anything.
    let result: Result<UInt32, RPCError> = self.withDrain(.delayed) { state in
      guard state.lifecycle == .active else {
        return .failure(state.closeError ?? RPCError(code: .unavailable, message: "connection is going away"))
      }
      guard state.nextStreamID <= FrameLayout.maxStreamID else {
        return .failure(RPCError(code: .unavailable, message: "connection has used all its stream ids"))
      }
      guard var frame = self.encodeHeaders(payload, peerLimit: Self.headerLimit(state.peer)) else {
        return .failure(
          RPCError(
            code: .resourceExhausted, message: "request metadata exceeds the server's header limit of \(state.peer.maxHeaderSize) bytes"))
      }
      let id = state.nextStreamID
      state.nextStreamID += 2
      state.highestStreamID = id
      frame.setInteger(id, at: frame.readerIndex + FrameLayout.streamIDOffset)
      state.pending.writeBuffer(&frame)
      state.reservedSlots -= 1
      var record = StreamRecord(
        inbox: .client(inbox),
        sendWindow: Int64(state.peer.initialStreamWindow),
        recvWindow: Int64(self.local.initialStreamWindow)
      )
      record.headersSent = true
      state.streams[id] = record
      return .success(id)
    }
    return try result.get()
  }

  /// Half-closes our side: the last frame of a call's request, written at once.
  func writeEndStream(streamID: UInt32) {
    self.withDrain(.immediate) { state in
      guard var record = state.streams[streamID], !record.localClosed else { return }
      record.localClosed = true
      state.streams[streamID] = record
      if let last = state.lastMessageFrame, last.streamID == streamID,
        let flags = state.pending.getInteger(at: last.flagsIndex, as: UInt8.self)
      {
        state.pending.setInteger(flags | FrameFlags.endStream.rawValue, at: last.flagsIndex)
      } else {
        FrameEncoder.encode(.message(streamID: streamID, ByteBuffer(), endMessage: false, endStream: true), into: &state.pending)
      }
      state.lastMessageFrame = nil
    }
  }

  /// The call's task is done with the stream: reset it if the server has not finished it.
  func release(streamID: UInt32) {
    let open = self.state.withLock { $0.streams[streamID] != nil }
    if open { self.reset(streamID: streamID, code: WireStatus.cancelled, message: "the client cancelled the call") }
  }

  // MARK: - Inbound credit

  /// A consumer took `bytes` of messages from a stream's inbox.
  func consumed(streamID: UInt32, bytes: Int) {
    self.withDrain(.immediate) { state in
      if streamID != 0, var record = state.streams[streamID] {
        record.inboxBytes -= Int64(bytes)
        state.inboundBuffered -= Int64(bytes)
        if record.inboxBytes < Int64(self.local.initialStreamWindow) && record.deferredCredit > 0 {
          record.pendingCredit += record.deferredCredit
          state.connPendingCredit += record.deferredCredit
          record.deferredCredit = 0
          self.maybeStreamWindowUpdate(streamID, record: &record, state: &state)
        }
        state.streams[streamID] = record
      } else if streamID == 0 {
        state.connPendingCredit += Int64(bytes)
      }
      self.maybeConnectionWindowUpdate(state: &state)
    }
  }

  private func maybeStreamWindowUpdate(_ id: UInt32, record: inout StreamRecord, state: inout State) {
    guard !record.remoteClosed, record.pendingCredit >= Int64(self.local.initialStreamWindow / 4) || record.recvWindow <= 0 else { return }
    guard record.pendingCredit > 0 else { return }
    FrameEncoder.encode(.windowUpdate(streamID: id, increment: UInt32(record.pendingCredit)), into: &state.pending)
    record.recvWindow += record.pendingCredit
    record.pendingCredit = 0
  }

  private func maybeConnectionWindowUpdate(state: inout State) {
    guard
      state.connPendingCredit >= Int64(self.local.initialConnectionWindow / 4) || (state.recvConnWindow <= 0 && state.connPendingCredit > 0)
    else { return }
    FrameEncoder.encode(.windowUpdate(streamID: 0, increment: UInt32(state.connPendingCredit)), into: &state.pending)
    state.recvConnWindow += state.connPendingCredit
    state.connPendingCredit = 0
  }

  /// Queues a connection-level frame (PING, GOAWAY) for immediate writing.
  func enqueueControl(_ frame: Frame) {
    self.withDrain(.immediate) { FrameEncoder.encode(frame, into: &$0.pending) }
  }

  /// The channel's writability changed (event loop): while it is not writable, what we queue
  /// for the peer is counted against `maxQueuedOutboundBytes` and `maxQueuedControlFrames`.
  func writabilityChanged(isWritable: Bool) {
    self.state.withLock { state in
      state.unwritableOutbound = isWritable ? nil : 0
      state.unwritableControlFrames = 0
    }
  }

  /// What is queued for the peer: pending (not yet handed to the channel: a starved event loop
  /// can let it grow however writable the socket is) plus, while the channel is not writable,
  /// what was handed to it since; recorded as a peak. Returns the amount when it first goes past
  /// `maxQueuedOutboundBytes`, nil otherwise. Under the lock.
  private func outboundOverflow(state: inout State) -> Int64? {
    let pending = Int64(state.pending.readableBytes)
    guard state.unwritableOutbound != nil || pending > self.config.maxQueuedOutboundBytes / 2 else { return nil }
    let queued = (state.unwritableOutbound ?? 0) + pending
    state.unwritableOutboundPeak = max(state.unwritableOutboundPeak, queued)
    guard queued > self.config.maxQueuedOutboundBytes, !state.outboundOverflow, state.lifecycle != .closed else { return nil }
    state.outboundOverflow = true
    return queued
  }

  /// A peer that does not read would otherwise make us hold without bound what we write.
  private func failNotReading(queued: Int64) {
    self.fail(
      connectionError: .connection(
        .enhanceYourCalm, "peer is not reading: \(queued) bytes queued for it (limit \(self.config.maxQueuedOutboundBytes))"))
  }

  /// Counts a control frame queued in reply to the peer (under the lock); true when the peer,
  /// not reading, has made us queue more than `maxQueuedControlFrames` of them.
  private func controlFrameOverflow(state: inout State) -> Bool {
    guard state.unwritableOutbound != nil else { return false }
    state.unwritableControlFrames += 1
    return state.unwritableControlFrames > self.config.maxQueuedControlFrames
  }

  /// Queued bytes and control frames towards a peer that does not read, now and at most (tests, metrics).
  var unwritableOutbound: (current: Int64, peak: Int64) {
    self.state.withLock { ($0.unwritableOutbound ?? 0, $0.unwritableOutboundPeak) }
  }

  // MARK: - Reading (event loop)

  /// Handles one inbound frame. Throws for errors that end the connection.
  func receive(_ frame: Frame) throws(WireError) {
    switch frame {
    case .settings(let ack, let entries):
      if !ack { try self.receiveSettings(entries) }
    case .ping(let ack, let opaque):
      if !ack {
        let overflow = self.withDrain(.immediate) { state in
          FrameEncoder.encode(.ping(ack: true, opaque: opaque), into: &state.pending)
          return self.controlFrameOverflow(state: &state)
        }
        if overflow {
          throw .connection(
            .enhanceYourCalm, "peer is not reading: more than \(self.config.maxQueuedControlFrames) control frames queued for it")
        }
      }
    case .goAway(let last, let code, let message):
      self.receiveGoAway(lastStreamID: last, code: code, message: message)
    case .windowUpdate(let id, let increment):
      try self.receiveWindowUpdate(streamID: id, increment: increment)
    case .headers(let id, let payload, let endStream):
      try self.receiveHeaders(streamID: id, payload: payload, endStream: endStream)
    case .message(let id, let bytes, let endMessage, let endStream):
      try self.receiveMessage(streamID: id, bytes: bytes, endMessage: endMessage, endStream: endStream)
    case .trailers(let id, let payload):
      try self.receiveTrailers(streamID: id, payload: payload)
    case .rstStream(let id, let code, let message):
      try self.receiveReset(streamID: id, code: code, message: message)
    case .malformed(let id, let error):
      guard case .stream(_, let code, let message) = error else { throw error }
      self.logger.info("malformed frame", metadata: ["stream": "\(id)", "reason": "\(message)"])
      try self.checkKnown(streamID: id)
      if self.role == .server {
        // A malformed HEADERS still uses up its stream id.
        self.state.withLock { state in state.highestStreamID = max(state.highestStreamID, id) }
      }
      self.resetOrRefuse(streamID: id, code: code, message: message)
    case .unknown:
      break  // Unknown frame types are ignored (docs/PROTOCOL.md §3).
    }
  }

  private func receiveSettings(_ entries: [Setting]) throws(WireError) {
    let firstTime: Bool = try self.withDrain(.immediate) { (state: inout State) throws(WireError) -> Bool in
      let before = state.peer
      try state.peer.apply(entries)
      let first = !state.peerSettingsReceived
      if first {
        state.peerSettingsReceived = true
        state.sendConnWindow += Int64(state.peer.initialConnectionWindow) - Int64(before.initialConnectionWindow)
        let delta = Int64(state.peer.initialStreamWindow) - Int64(before.initialStreamWindow)
        if delta != 0 {
          for id in state.streams.keys { state.streams[id]?.sendWindow += delta }
        }
      }
      FrameEncoder.encode(.settings(ack: true, []), into: &state.pending)
      if self.controlFrameOverflow(state: &state) {
        throw .connection(
          .enhanceYourCalm, "peer is not reading: more than \(self.config.maxQueuedControlFrames) control frames queued for it")
      }
      return first
    }
    if firstTime {
      self.ready.succeed()
      self.serviceBlocked()
    }
  }

  private func receiveGoAway(lastStreamID: UInt32, code: GoAwayCode, message: String) {
    if code != .noError {
      self.logger.info("peer sent GOAWAY", metadata: ["code": "\(code)", "reason": "\(message)"])
    }
    let refused: [UInt32] = self.state.withLock { state in
      state.closeWhenIdle = true
      // Only clients open streams, so only a server's GOAWAY refuses any.
      guard self.role == .client else { return [] }
      if state.lifecycle == .active { state.lifecycle = .draining(lastStreamID: lastStreamID) }
      return state.streams.keys.filter { $0 > lastStreamID }
    }
    self.onUnusable?()
    for id in refused {
      // Never processed by the peer: safe for the caller to retry elsewhere.
      self.reset(streamID: id, code: WireStatus.unavailable, message: "the server is going away (\(message)); the call was not processed")
    }
    if self.openStreamCount == 0 { self.eventLoop.execute { self.drainAndClose() } }
  }

  private func receiveWindowUpdate(streamID: UInt32, increment: UInt32) throws(WireError) {
    let overflow: Bool = self.state.withLock { state in
      if streamID == 0 {
        state.sendConnWindow += Int64(increment)
        return state.sendConnWindow > Int64(ConnectionSettings.maximumWindow)
      }
      guard var record = state.streams[streamID] else { return false }
      record.sendWindow += Int64(increment)
      state.streams[streamID] = record
      return false
    }
    if overflow { throw .connection(.flowControlError, "connection window above 2^31-1") }
    let streamOverflow = self.state.withLock { ($0.streams[streamID]?.sendWindow ?? 0) > Int64(ConnectionSettings.maximumWindow) }
    if streamID != 0 && streamOverflow {
      self.reset(streamID: streamID, code: WireStatus.internalError, message: "stream window above 2^31-1")
    }
    self.serviceBlocked()
  }

  /// Streams the peer refers to must exist or have existed.
  private func checkKnown(streamID: UInt32) throws(WireError) {
    let highest = self.state.withLock { $0.highestStreamID }
    if self.role == .client && streamID > highest {
      throw .connection(.protocolError, "frame for stream \(streamID), which was never opened")
    }
  }

  private func resetOrRefuse(streamID: UInt32, code: UInt8, message: String) {
    let known = self.state.withLock { $0.streams[streamID] != nil }
    if known {
      self.reset(streamID: streamID, code: code, message: message)
    } else {
      self.withDrain(.immediate) { state in
        FrameEncoder.encode(.rstStream(streamID: streamID, code: UInt32(code), message: message), into: &state.pending)
      }
    }
  }

  private func receiveHeaders(streamID: UInt32, payload: HeadersPayload, endStream: Bool) throws(WireError) {
    switch self.role {
    case .client:
      try self.checkKnown(streamID: streamID)
      let inbox: StreamInbox<RPCResponsePart<BanjieBytes>>? = self.state.withLock { state in
        guard var record = state.streams[streamID], !record.headersReceived, case .client(let inbox) = record.inbox else { return nil }
        record.headersReceived = true
        state.streams[streamID] = record
        return inbox
      }
      guard let inbox else {
        let exists = self.state.withLock { $0.streams[streamID] != nil }
        if exists { self.reset(streamID: streamID, code: WireStatus.internalError, message: "second HEADERS on a stream") }
        return
      }
      inbox.yield(.metadata(Metadata(wireEntries: payload.metadata)))
    case .server:
      try self.acceptStream(streamID: streamID, payload: payload, endStream: endStream)
    }
  }

  private func acceptStream(streamID: UInt32, payload: HeadersPayload, endStream: Bool) throws(WireError) {
    enum Outcome {
      case accept(StreamInbox<RPCRequestPart<BanjieBytes>>)
      case refuse(UInt8, String)
      case duplicate
    }
    let outcome: Outcome = try self.state.withLock { (state: inout State) throws(WireError) -> Outcome in
      if state.streams[streamID] != nil { return .duplicate }
      guard streamID > state.highestStreamID else {
        throw .connection(.protocolError, "stream id \(streamID) reused (highest so far \(state.highestStreamID))")
      }
      guard streamID % 2 == 1 else {
        throw .connection(.protocolError, "stream id \(streamID) is even; clients open odd-numbered streams")
      }
      state.highestStreamID = streamID
      if case .draining(let last) = state.lifecycle, streamID > last {
        return .refuse(WireStatus.unavailable, "the server is shutting down; the call was not processed")
      }
      guard state.lifecycle == .active else {
        return .refuse(WireStatus.unavailable, "the server is shutting down; the call was not processed")
      }
      guard !payload.path.isEmpty else { return .refuse(WireStatus.internalError, "request HEADERS without a method path") }
      guard state.streams.count < Int(self.local.maxConcurrentStreams) else {
        return .refuse(WireStatus.resourceExhausted, "more than \(self.local.maxConcurrentStreams) concurrent streams on one connection")
      }
      let inbox = StreamInbox<RPCRequestPart<BanjieBytes>> { [weak self] bytes in
        self?.consumed(streamID: streamID, bytes: bytes)
      }
      var record = StreamRecord(
        inbox: .server(inbox),
        sendWindow: Int64(state.peer.initialStreamWindow),
        recvWindow: Int64(self.local.initialStreamWindow)
      )
      record.headersReceived = true
      record.remoteClosed = endStream
      record.timeout = payload.timeoutMicroseconds.map { .microseconds(Int64(min($0, UInt64(Int64.max / 1000)))) }
      state.streams[streamID] = record
      return .accept(inbox)
    }

    switch outcome {
    case .duplicate:
      self.reset(streamID: streamID, code: WireStatus.internalError, message: "second HEADERS on a stream")
    case .refuse(let code, let message):
      self.withDrain(.immediate) { state in
        FrameEncoder.encode(.rstStream(streamID: streamID, code: UInt32(code), message: message), into: &state.pending)
      }
    case .accept(let inbox):
      var metadata = Metadata(wireEntries: payload.metadata)
      metadata.removeAllValues(forKey: Metadata.timeoutKey)
      inbox.yield(.metadata(metadata))
      if endStream { inbox.finish() }
      if let timeout = payload.timeoutMicroseconds {
        let task = self.eventLoop.scheduleTask(in: .microseconds(Int64(min(timeout, UInt64(Int64.max / 1000))))) {
          self.deadlineExpired(streamID: streamID, timeoutMicroseconds: timeout)
        }
        self.state.withLock { $0.streams[streamID]?.deadline = task }
      }
      // The decoder checked the shape: "/" service "/" method.
      let parts = payload.path.split(separator: "/", omittingEmptySubsequences: true)
      let descriptor = MethodDescriptor(
        fullyQualifiedService: parts.first.map(String.init) ?? "",
        method: parts.dropFirst().first.map(String.init) ?? ""
      )
      self.onStream?(AcceptedStream(core: self, streamID: streamID, descriptor: descriptor, inbox: inbox))
    }
  }

  /// The server enforces the caller's deadline itself: DEADLINE_EXCEEDED goes out first, then
  /// the handler is cancelled and its later writes are dropped.
  private func deadlineExpired(streamID: UInt32, timeoutMicroseconds: UInt64) {
    let message = "deadline of \(timeoutMicroseconds / 1000) ms exceeded"
    let removed: StreamRecord? = self.withDrain(.immediate) { state in
      guard let record = state.streams[streamID], !record.localClosed else { return nil }
      FrameEncoder.encode(
        .trailers(streamID: streamID, TrailersPayload(code: WireStatus.deadlineExceeded, message: message)), into: &state.pending)
      return self.remove(streamID, state: &state)
    }
    if let removed {
      self.finishRemoved(removed, error: RPCError(code: .deadlineExceeded, message: message))
    }
  }

  private func receiveMessage(streamID: UInt32, bytes: ByteBuffer, endMessage: Bool, endStream: Bool) throws(WireError) {
    enum Outcome {
      case deliver(Inbox, ByteBuffer?, finish: Bool)
      case reset(UInt8, String)
      case ignore
    }
    let size = Int64(bytes.readableBytes)
    let outcome: Outcome = try self.withDrain(.immediate) { (state: inout State) throws(WireError) -> Outcome in
      // An empty MESSAGE carries an empty message or a half-close; a flood of them carries
      // nothing but work (docs/PROTOCOL.md §11).
      if self.role == .server, size == 0, !endStream,
        state.emptyMessages.add(now: .now(), length: self.config.abuseWindow) > self.config.maxEmptyMessagesPerWindow
      {
        throw .connection(
          .enhanceYourCalm, "more than \(self.config.maxEmptyMessagesPerWindow) empty MESSAGE frames within \(self.config.abuseWindow)")
      }
      state.recvConnWindow -= size
      guard state.recvConnWindow >= 0 else {
        throw .connection(.flowControlError, "peer sent beyond the connection window")
      }
      guard var record = state.streams[streamID] else {
        if streamID > state.highestStreamID {
          throw .connection(.protocolError, "MESSAGE for stream \(streamID), which was never opened")
        }
        // A stream that has ended: return the bytes to the connection window.
        state.connPendingCredit += size
        self.maybeConnectionWindowUpdate(state: &state)
        return .ignore
      }
      guard !record.remoteClosed else {
        state.connPendingCredit += size
        return .reset(WireStatus.internalError, "MESSAGE after END_STREAM")
      }
      record.recvWindow -= size
      guard record.recvWindow >= 0 else {
        state.connPendingCredit += size
        return .reset(WireStatus.resourceExhausted, "peer sent beyond the stream's flow-control window")
      }
      let assembled = Int64(record.assembly?.readableBytes ?? 0) + size
      guard assembled <= Int64(self.local.maxMessageSize) else {
        state.connPendingCredit += size
        return .reset(WireStatus.resourceExhausted, "message larger than the limit of \(self.local.maxMessageSize) bytes")
      }
      guard state.inboundBuffered + size <= self.config.maxBufferedInboundBytes else {
        state.connPendingCredit += size
        return .reset(
          WireStatus.resourceExhausted,
          "the connection already holds \(state.inboundBuffered) bytes of messages not yet read (limit \(self.config.maxBufferedInboundBytes))"
        )
      }
      // Credit now unless the consumer is behind; then credit when it catches up.
      if record.inboxBytes < Int64(self.local.initialStreamWindow) {
        record.pendingCredit += size
        state.connPendingCredit += size
      } else {
        record.deferredCredit += size
      }
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
        record.inboxBytes += Int64(complete?.readableBytes ?? 0)
      } else if size > 0 {
        if record.assembly == nil {
          record.assembly = self.channel.allocator.buffer(capacity: Int(size) * 2)
        }
        var tail = bytes
        record.assembly?.writeBuffer(&tail)
      }
      state.inboundBuffered += size
      state.inboundBufferedPeak = max(state.inboundBufferedPeak, state.inboundBuffered)
      if endStream {
        record.remoteClosed = true
        if let partial = record.assembly, partial.readableBytes > 0 {
          state.streams[streamID] = record
          return .reset(WireStatus.internalError, "stream ended inside a message (END_STREAM without END_MESSAGE)")
        }
      }
      self.maybeStreamWindowUpdate(streamID, record: &record, state: &state)
      self.maybeConnectionWindowUpdate(state: &state)
      state.streams[streamID] = record
      return .deliver(record.inbox, complete, finish: endStream)
    }
    switch outcome {
    case .ignore:
      break
    case .reset(let code, let message):
      self.logger.info("stream reset", metadata: ["stream": "\(streamID)", "reason": "\(message)"])
      self.reset(streamID: streamID, code: code, message: message)
    case .deliver(let inbox, let message, let finish):
      if let message {
        switch inbox {
        case .server(let inbox): inbox.yield(.message(BanjieBytes(message)), credit: message.readableBytes)
        case .client(let inbox): inbox.yield(.message(BanjieBytes(message)), credit: message.readableBytes)
        }
      }
      if finish, case .server(let inbox) = inbox { inbox.finish() }
    }
  }

  private func receiveTrailers(streamID: UInt32, payload: TrailersPayload) throws(WireError) {
    guard self.role == .client else {
      self.resetOrRefuse(streamID: streamID, code: WireStatus.internalError, message: "TRAILERS from a client")
      return
    }
    try self.checkKnown(streamID: streamID)
    let removed: StreamRecord? = self.state.withLock { state in
      guard var record = state.streams[streamID] else { return nil }
      record.remoteClosed = true
      state.streams[streamID] = record
      return self.remove(streamID, state: &state)
    }
    guard let removed, case .client(let inbox) = removed.inbox else { return }
    removed.blocked?.continuation.resume(throwing: RPCError(code: .cancelled, message: "the server ended the call"))
    var metadata = Metadata(wireEntries: payload.metadata)
    if !payload.details.isEmpty { metadata.addBinary(payload.details, forKey: "grpc-status-details-bin") }
    inbox.yield(.status(Status(code: Status.Code(wireCode: UInt32(payload.code)), message: payload.message), metadata))
    inbox.finish()
  }

  private func receiveReset(streamID: UInt32, code: UInt32, message: String) throws(WireError) {
    let removed: StreamRecord? = try self.state.withLock { (state: inout State) throws(WireError) -> StreamRecord? in
      guard var record = state.streams[streamID] else { return nil }
      // Rapid open/reset: a stream the client resets before half its timeout has passed (or at
      // any time, without one) cost a handler for nothing; a client giving up at its deadline
      // is no abuse.
      let now = NIODeadline.now()
      let rapid = record.timeout.map { now - record.openedAt < .nanoseconds($0.nanoseconds / 2) } ?? true
      if self.role == .server, rapid,
        state.peerResets.add(now: now, length: self.config.abuseWindow) > self.config.maxPeerResetsPerWindow
      {
        throw .connection(
          .enhanceYourCalm, "more than \(self.config.maxPeerResetsPerWindow) streams reset by the peer within \(self.config.abuseWindow)")
      }
      record.localClosed = true
      record.cancelled = true
      state.streams[streamID] = record
      return self.remove(streamID, state: &state)
    }
    guard let removed else { return }
    let statusCode = Status.Code(wireCode: code)
    let text = message.isEmpty ? "stream reset by peer" : message
    self.finishRemoved(removed, error: RPCError(code: statusCode.rpcErrorCode, message: text))
  }
}

extension Status.Code {
  var rpcErrorCode: RPCError.Code {
    RPCError.Code(self) ?? .unknown
  }
}

/// A stream a client opened, handed to the server transport to run.
struct AcceptedStream: Sendable {
  let core: ConnectionCore
  let streamID: UInt32
  let descriptor: MethodDescriptor
  let inbox: StreamInbox<RPCRequestPart<BanjieBytes>>
}
