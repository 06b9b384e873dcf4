import BanjieWire
import GRPCCore
import NIOCore

/// The inbound side of one stream, as its role sees it: a server's stream receives request
/// parts, a client's response parts.
enum CallInbox: Sendable {
  case server(StreamInbox<RPCRequestPart<BanjieBytes>>)
  case client(StreamInbox<RPCResponsePart<BanjieBytes>>)
}

/// A write waiting for the peer's windows: what is left of its message, and its waiter.
struct BlockedWrite<Waiter: Sendable>: Sendable {
  var remaining: ByteBuffer
  var waiter: Waiter
}

/// A stream the state machine has forgotten, with everything that waited on it: the connection
/// ends its inbox, fails its blocked write and cancels its handler and timer.
struct EndedStream<Waiter: Sendable>: Sendable {
  enum Reason: Sendable {
    /// Reset (by either side), timed out, or the connection closed.
    case failed(RPCError)
    /// The server wrote its TRAILERS: the handler has finished with the stream.
    case completed
    /// The client received the server's TRAILERS.
    case trailers(Status, Metadata)
  }

  var streamID: UInt32
  var inbox: CallInbox
  var blocked: Waiter?
  var cancellation: ServerContext.RPCCancellationHandle?
  var deadline: Scheduled<Void>?
  /// The peer had ended its side before: a client's caller already has its status.
  var remoteEnded: Bool
  var reason: Reason
}

/// Something the connection does after the state machine returns, outside its lock.
enum ConnectionEffect<Waiter: Sendable>: Sendable {
  /// Hand these bytes to the channel in one write and one flush.
  case write(ByteBuffer)
  /// A stream slot or a blocked write proceeds.
  case resume(Waiter)
  /// A slot waiter or blocked write ends with this error.
  case fail(Waiter, any Error)
  /// A stream is over: end what waits on it.
  case streamEnded(EndedStream<Waiter>)
  /// Client: the server's HEADERS for a call.
  case responseMetadata(StreamInbox<RPCResponsePart<BanjieBytes>>, Metadata)
  /// A complete message for a stream's consumer; taking it returns its credit.
  case message(CallInbox, ByteBuffer)
  /// Server: the client half-closed; the request parts end after those buffered.
  case requestsEnded(StreamInbox<RPCRequestPart<BanjieBytes>>)
  /// Server: a client opened a stream; start its handler.
  case accepted(streamID: UInt32, inbox: StreamInbox<RPCRequestPart<BanjieBytes>>, headers: HeadersPayload, endStream: Bool)
  /// Server: the call's deadline, enforced by a timer that calls `deadlineExpired`.
  case armDeadline(streamID: UInt32, timeoutMicroseconds: UInt64)
  /// After our GOAWAY: close the connection if calls in flight have not finished in time.
  case armShutdownTimer
  /// Server: cancel a handler whose stream had already ended when it attached.
  case cancelHandler(ServerContext.RPCCancellationHandle)
  /// A limit on what we hold for the peer was passed: GOAWAY with this code and reason, close.
  case failConnection(WireError)
  /// The connection closed: a client still waiting for it to be ready fails.
  case closed(RPCError)
  case log(ConnectionLog)
}

/// Events worth a log line at info level.
enum ConnectionLog: Sendable, Hashable {
  case streamReset(streamID: UInt32, reason: String)
  case malformedFrame(streamID: UInt32, reason: String)
  case peerGoAway(GoAwayCode, reason: String)
}

/// What a step of the state machine asks of the connection, performed after its lock is
/// released, in this order: schedule the drain, `ready`, `unusable`, the effects in order, then
/// `closeWhenFlushed`.
struct ConnectionActions<Waiter: Sendable>: Sendable {
  /// Write what is pending: not at all, after the coalescing delay, or at once.
  var drain: DrainUrgency = .idle
  /// Client: the peer's first SETTINGS arrived; calls may start.
  var ready = false
  /// Client: the connection takes no new streams (GOAWAY, close).
  var unusable = false
  var effects: [ConnectionEffect<Waiter>] = []
  /// Write what is pending, then close the channel.
  var closeWhenFlushed = false
  /// The peer broke the protocol: GOAWAY with this code and reason, then close (docs/PROTOCOL.md §12).
  var connectionError: WireError?

  init() {}

  mutating func append(_ effect: ConnectionEffect<Waiter>) { self.effects.append(effect) }
}
