import BanjieTLS
import BanjieWire
import GRPCCore
import Logging
import NIOCore
import Synchronization

/// One connection shared by its event loop (inbound frames, timers) and the tasks of its calls
/// (outbound parts). Its state is a `ConnectionStateMachine` value behind one mutex: every
/// method takes the lock once, lets the machine change the state and say what to do, and does
/// it (resumes tasks, yields to inboxes, schedules drains and timers, writes) after releasing
/// the lock.
///
/// Outbound frames are appended to one buffer and written with one write and one flush by
/// `drain()` on the event loop. The last frame of a call asks for an immediate drain; others
/// ask for a drain after `flushCoalescingDelay`, so that a unary call leaves in one write.
final class ConnectionCore: Sendable {
  typealias Role = ConnectionRole
  typealias Waiter = CheckedContinuation<Void, any Error>
  typealias Machine = ConnectionStateMachine<Waiter>
  typealias Actions = ConnectionActions<Waiter>

  let role: Role
  let config: TransportConfig
  let channel: any Channel
  let logger: Logger
  private let machine: Mutex<Machine>
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
    self.machine = Mutex(Machine(role: role, config: config))
  }

  // MARK: - Performing actions

  /// Runs one step of the state machine under the lock, then performs its actions.
  @discardableResult
  private func step(_ body: (inout Machine) -> Actions) -> Actions {
    let actions = self.machine.withLock { body(&$0) }
    self.perform(actions)
    return actions
  }

  /// Does what the state machine asked, outside the lock (see `ConnectionActions`).
  private func perform(_ actions: Actions) {
    switch actions.drain {
    case .idle: break
    case .immediate: self.eventLoop.execute { self.drain() }
    case .delayed: self.eventLoop.scheduleTask(in: self.config.flushCoalescingDelay) { self.drain() }
    }
    if actions.ready { self.ready.succeed() }
    if actions.unusable { self.onUnusable?() }
    for effect in actions.effects { self.perform(effect) }
    if actions.closeWhenFlushed { self.eventLoop.execute { self.drainAndClose() } }
  }

  private func perform(_ effect: ConnectionEffect<Waiter>) {
    switch effect {
    case .write(let buffer):
      self.channel.writeAndFlush(buffer, promise: nil)
      self.measureQueued()
    case .resume(let waiter):
      waiter.resume()
    case .fail(let waiter, let error):
      waiter.resume(throwing: error)
    case .streamEnded(let ended):
      Self.finish(ended)
    case .responseMetadata(let inbox, let metadata):
      inbox.yield(.metadata(metadata))
    case .message(.server(let inbox), let message):
      inbox.yield(.message(BanjieBytes(message)), credit: message.readableBytes)
    case .message(.client(let inbox), let message):
      inbox.yield(.message(BanjieBytes(message)), credit: message.readableBytes)
    case .requestsEnded(let inbox):
      inbox.finish()
    case .accepted(let streamID, let inbox, let headers, let endStream):
      self.start(streamID: streamID, inbox: inbox, headers: headers, endStream: endStream)
    case .armDeadline(let streamID, let timeout):
      let task = self.eventLoop.scheduleTask(in: .microseconds(Int64(timeout))) {
        self.deadlineExpired(streamID: streamID, timeoutMicroseconds: timeout)
      }
      let kept = self.machine.withLock { $0.setDeadline(task, streamID: streamID) }
      if !kept { task.cancel() }
    case .armShutdownTimer:
      self.eventLoop.scheduleTask(in: self.config.gracefulShutdownTimeout) {
        self.fail(error: RPCError(code: .unavailable, message: "connection closed: graceful shutdown timed out"), goAway: nil)
      }
    case .cancelHandler(let handle):
      handle.cancel()
    case .failConnection(let error):
      self.fail(connectionError: error)
    case .closed(let error):
      self.ready.fail(error)
    case .log(.streamReset(let streamID, let reason)):
      self.logger.info("stream reset", metadata: ["stream": "\(streamID)", "reason": "\(reason)"])
    case .log(.malformedFrame(let streamID, let reason)):
      self.logger.info("malformed frame", metadata: ["stream": "\(streamID)", "reason": "\(reason)"])
    case .log(.peerGoAway(let code, let reason)):
      self.logger.info("peer sent GOAWAY", metadata: ["code": "\(code)", "reason": "\(reason)"])
    }
  }

  /// Ends what an ended stream's consumer, writer, handler and timer wait for.
  private static func finish(_ ended: EndedStream<Waiter>) {
    ended.deadline?.cancel()
    switch ended.reason {
    case .failed(let error):
      ended.blocked?.resume(throwing: error)
      switch ended.inbox {
      case .server(let inbox):
        ended.cancellation?.cancel()
        // Buffered bytes were credited when they arrived (or returned when the stream was
        // removed): dropping them returns nothing more.
        _ = inbox.discardBuffered()
        inbox.finish(throwing: error)
      case .client(let inbox):
        if !ended.remoteEnded {
          inbox.yield(.status(Status(code: Status.Code(error.code), message: error.message), [:]))
        }
        inbox.finish()
      }
    case .completed:
      ended.blocked?.resume(throwing: RPCError(code: .cancelled, message: "the call has ended"))
      // The handler has finished with the stream; anything the client still sends is dropped.
      if case .server(let inbox) = ended.inbox {
        _ = inbox.discardBuffered()
        inbox.finish(throwing: nil)
      }
    case .trailers(let status, let metadata):
      ended.blocked?.resume(throwing: RPCError(code: .cancelled, message: "the server ended the call"))
      if case .client(let inbox) = ended.inbox {
        inbox.yield(.status(status, metadata))
        inbox.finish()
      }
    }
  }

  private func deadlineExpired(streamID: UInt32, timeoutMicroseconds: UInt64) {
    self.step { $0.deadlineExpired(streamID: streamID, timeoutMicroseconds: timeoutMicroseconds) }
  }

  /// Server: a client opened a stream; its handler starts with the request metadata.
  private func start(streamID: UInt32, inbox: StreamInbox<RPCRequestPart<BanjieBytes>>, headers: HeadersPayload, endStream: Bool) {
    var metadata = Metadata(wireEntries: headers.metadata)
    metadata.removeAllValues(forKey: Metadata.timeoutKey)
    inbox.yield(.metadata(metadata))
    if endStream { inbox.finish() }
    // The decoder checked the shape: "/" service "/" method.
    let parts = headers.path.split(separator: "/", omittingEmptySubsequences: true)
    let descriptor = MethodDescriptor(
      fullyQualifiedService: parts.first.map(String.init) ?? "",
      method: parts.dropFirst().first.map(String.init) ?? ""
    )
    self.onStream?(AcceptedStream(core: self, streamID: streamID, descriptor: descriptor, inbox: inbox))
  }

  // MARK: - Connection start and end

  /// Writes the preface and our SETTINGS. Called once when the channel becomes active.
  func start() {
    self.step { $0.start() }
  }

  var openStreamCount: Int { self.machine.withLock { $0.streams.count } }
  /// Received MESSAGE bytes held for this connection's streams now, and at most so far.
  var inboundBuffered: (current: Int64, peak: Int64) { self.machine.withLock { ($0.inboundBuffered, $0.inboundBufferedPeak) } }
  var isActive: Bool { self.machine.withLock { $0.isActive } }

  /// Sends GOAWAY and stops taking streams; the connection closes when the last stream ends.
  func beginDraining(code: GoAwayCode = .noError, message: String = "server is shutting down") {
    self.step { $0.beginDraining(code: code, message: message) }
  }

  /// A connection-level protocol error: GOAWAY with the reason, then close.
  func fail(connectionError: WireError) {
    guard case .connection(let code, let message) = connectionError else { return }
    self.fail(error: RPCError(code: .unavailable, message: "connection error \(code): \(message)"), goAway: (code, message))
  }

  func fail(error: RPCError, goAway: (GoAwayCode, String)?) {
    self.step { $0.fail(error: error, goAway: goAway.map { (code: $0.0, message: $0.1) }) }
  }

  /// The channel is gone (or about to be): every stream ends with `error`.
  func closed(error: RPCError) {
    self.step { $0.closed(error: error) }
  }

  // MARK: - Writing

  /// Writes everything pending in one write and one flush. Event loop only.
  func drain() {
    self.step { $0.drain() }
  }

  /// While the socket takes no more of our writes: what waits in the channel for the peer,
  /// as the channel counts it, against `maxQueuedOutboundBytes`. A slow reader holds about a
  /// flow-control window there; a peer that does not read lets it grow. Event loop only.
  private func measureQueued() {
    guard !self.channel.isWritable,
      let buffered = try? self.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)
    else { return }
    self.step { $0.measured(bufferedInChannel: buffered) }
  }

  private func drainAndClose() {
    self.drain()
    self.channel.close(promise: nil)
  }

  /// Queues one whole message, waiting while the peer's windows are full.
  func writeMessage(streamID: UInt32, _ message: ByteBuffer) async throws {
    let (start, actions) = self.machine.withLock { $0.startWrite(streamID: streamID, message) }
    self.perform(actions)
    let remaining: ByteBuffer
    switch start {
    case .done: return
    case .failed(let error): throw error
    case .wait(let rest): remaining = rest
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: Waiter) in
        self.step { $0.blockWrite(streamID: streamID, remaining: remaining, waiter: continuation) }
      }
    } onCancel: {
      self.reset(streamID: streamID, code: WireStatus.cancelled, message: "cancelled by the sender")
    }
  }

  /// Sends RST_STREAM and forgets the stream (cancellation, errors).
  func reset(streamID: UInt32, code: UInt8, message: String) {
    self.step { $0.reset(streamID: streamID, code: code, message: message) }
  }

  // MARK: - Server writes

  func writeResponseHeaders(streamID: UInt32, metadata: Metadata) throws {
    let payload = HeadersPayload(metadata: metadata.wireEntries())
    let (error, actions) = self.machine.withLock { $0.writeResponseHeaders(streamID: streamID, payload) }
    self.perform(actions)
    if let error { throw error }
  }

  func writeTrailers(streamID: UInt32, status: Status, metadata: Metadata) {
    let payload = TrailersPayload(
      code: UInt8(status.code.rawValue), message: Machine.truncated(status.message, bytes: 4096), metadata: metadata.wireEntries())
    self.step { $0.writeTrailers(streamID: streamID, payload) }
  }

  /// The handler returned. If it never wrote a status, the stream is reset.
  func handlerFinished(streamID: UInt32) {
    self.step { $0.handlerFinished(streamID: streamID) }
  }

  func attach(cancellation: ServerContext.RPCCancellationHandle, streamID: UInt32) {
    self.step { $0.attach(cancellation: cancellation, streamID: streamID) }
  }

  // MARK: - Client writes

  /// Waits for a free stream slot under the server's MAX_CONCURRENT_STREAMS.
  func reserveSlot() async throws {
    let id: UInt64
    switch self.machine.withLock({ $0.requestSlot() }) {
    case .reserved: return
    case .failed(let error): throw error
    case .wait(let waiterID): id = waiterID
    }
    // A waiter given a slot, or failed by a closing connection, before its cancellation arrived
    // leaves its id behind; forget it however this ends.
    defer { self.machine.withLock { $0.forgetSlotWaiter(id: id) } }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: Waiter) in
        self.step { $0.registerSlotWaiter(id: id, continuation) }
      }
    } onCancel: {
      self.step { $0.cancelSlotWaiter(id: id) }
    }
  }

  func releaseSlot() {
    self.step { $0.releaseSlot() }
  }

  /// Opens a stream with HEADERS (using a slot from `reserveSlot`). Returns its id.
  func openStream(
    path: String,
    metadata: Metadata,
    inbox: StreamInbox<RPCResponsePart<BanjieBytes>>
  ) throws -> UInt32 {
    let payload = HeadersPayload(path: path, timeoutMicroseconds: metadata.timeoutMicroseconds, metadata: metadata.wireEntries())
    let (result, actions) = self.machine.withLock { $0.openStream(payload, inbox: inbox, now: .now()) }
    self.perform(actions)
    return try result.get()
  }

  /// Half-closes our side: the last frame of a call's request, written at once.
  func writeEndStream(streamID: UInt32) {
    self.step { $0.writeEndStream(streamID: streamID) }
  }

  /// The call's task is done with the stream: reset it if the server has not finished it.
  func release(streamID: UInt32) {
    self.step { $0.release(streamID: streamID) }
  }

  // MARK: - Inbound credit

  /// A consumer took `bytes` of messages from a stream's inbox.
  func consumed(streamID: UInt32, bytes: Int) {
    self.step { $0.consumed(streamID: streamID, bytes: bytes) }
  }

  /// Queues a connection-level frame (PING, GOAWAY) for immediate writing.
  func enqueueControl(_ frame: Frame) {
    self.step { $0.enqueueControl(frame) }
  }

  /// The channel's writability changed (event loop): while it is not writable, what we queue
  /// for the peer is counted against `maxQueuedOutboundBytes` and `maxQueuedControlFrames`.
  func writabilityChanged(isWritable: Bool) {
    self.machine.withLock { $0.writabilityChanged(isWritable: isWritable) }
  }

  /// Queued bytes and control frames towards a peer that does not read, now and at most (tests, metrics).
  var unwritableOutbound: (current: Int64, peak: Int64) {
    self.machine.withLock { ($0.outbound.unwritableOutbound ?? 0, $0.outbound.unwritablePeak) }
  }

  // MARK: - Reading (event loop)

  /// Handles one inbound frame. Throws for errors that end the connection.
  func receive(_ frame: Frame) throws(WireError) {
    let actions = self.step { machine in
      machine.receive(frame, now: .now()) { streamID in
        StreamInbox { [weak self] bytes in self?.consumed(streamID: streamID, bytes: bytes) }
      }
    }
    if let error = actions.connectionError { throw error }
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
