import BanjieWire
import NIOCore

/// How soon the frames queued for the peer should be written: not at all (nothing asked), after
/// the coalescing delay, or at once.
enum DrainUrgency: Sendable, Hashable, Comparable {
  case idle, delayed, immediate
}

/// The frames queued for the peer between two writes, and what is known about a peer that does
/// not read (docs/PROTOCOL.md §11, §13). Everything goes out in one write and one flush when the
/// connection drains; the last frame of a call asks for an immediate drain, others for one
/// after the coalescing delay.
struct OutboundBuffer: Sendable {
  /// Frames not yet handed to the channel.
  private(set) var pending: ByteBuffer
  /// The drain already scheduled.
  private(set) var scheduled: DrainUrgency = .idle
  /// The last MESSAGE frame appended since the last drain: a half-close right after it sets
  /// END_STREAM on it instead of adding an empty frame.
  private var lastMessageFrame: (streamID: UInt32, flagsIndex: Int)?
  /// Bytes waiting in the channel for the peer, as measured after the last write while the
  /// channel is not writable; nil while it is writable.
  private(set) var unwritableOutbound: Int64?
  /// The most `unwritableOutbound` (with what was pending) has been on this connection.
  private(set) var unwritablePeak: Int64 = 0
  /// Control frames (PING and SETTINGS acks) queued since the channel last became unwritable.
  private(set) var unwritableControlFrames = 0
  /// The limit was passed once already: the connection is being closed.
  private(set) var overflowed = false
  let maxQueuedBytes: Int64
  let maxQueuedControlFrames: Int
  private let allocator = ByteBufferAllocator()

  init(maxQueuedBytes: Int64, maxQueuedControlFrames: Int) {
    self.maxQueuedBytes = maxQueuedBytes
    self.maxQueuedControlFrames = maxQueuedControlFrames
    self.pending = self.allocator.buffer(capacity: 256)
  }

  var isEmpty: Bool { self.pending.readableBytes == 0 }
  var pendingBytes: Int { self.pending.readableBytes }

  mutating func append(_ frame: Frame) { FrameEncoder.encode(frame, into: &self.pending) }

  mutating func append(encoded: inout ByteBuffer) { self.pending.writeBuffer(&encoded) }

  mutating func append(bytes: some Sequence<UInt8>) { self.pending.writeBytes(bytes) }

  /// Appends one MESSAGE fragment, remembering it for `closeStream(_:)`.
  mutating func appendMessage(streamID: UInt32, _ fragment: ByteBuffer, endMessage: Bool) {
    let flagsIndex = self.pending.writerIndex + FrameLayout.flagsOffset
    FrameEncoder.encode(.message(streamID: streamID, fragment, endMessage: endMessage, endStream: false), into: &self.pending)
    self.lastMessageFrame = (streamID, flagsIndex)
  }

  /// Half-closes a stream: END_STREAM on its MESSAGE frame still pending if that is the last
  /// frame queued, else an empty MESSAGE with END_STREAM.
  mutating func closeStream(_ streamID: UInt32) {
    if let last = self.lastMessageFrame, last.streamID == streamID,
      let flags = self.pending.getInteger(at: last.flagsIndex, as: UInt8.self)
    {
      self.pending.setInteger(flags | FrameFlags.endStream.rawValue, at: last.flagsIndex)
    } else {
      FrameEncoder.encode(.message(streamID: streamID, ByteBuffer(), endMessage: false, endStream: true), into: &self.pending)
    }
    self.lastMessageFrame = nil
  }

  /// Asks for a drain with at least `urgency`. Returns the drain the caller must schedule
  /// (`.idle`: none, one is already scheduled or nothing is pending).
  mutating func requestDrain(_ urgency: DrainUrgency, connectionClosed: Bool) -> DrainUrgency {
    guard !self.isEmpty, urgency != .idle, !connectionClosed || urgency == .immediate else { return .idle }
    guard urgency > self.scheduled else { return .idle }
    self.scheduled = urgency
    return urgency
  }

  /// Takes everything pending for one write; the next frame asks for a new drain.
  mutating func take() -> ByteBuffer? {
    self.scheduled = .idle
    self.lastMessageFrame = nil
    guard !self.isEmpty else { return nil }
    let out = self.pending
    self.pending = self.allocator.buffer(capacity: 256)
    return out
  }

  /// The channel's writability changed: while it is not writable, what we queue is counted.
  mutating func writabilityChanged(isWritable: Bool) {
    self.unwritableOutbound = isWritable ? nil : 0
    self.unwritableControlFrames = 0
  }

  /// The channel holds `buffered` bytes for the peer after a write. Returns false when the
  /// channel is writable (nothing to record).
  mutating func measured(bufferedInChannel buffered: Int) -> Bool {
    guard self.unwritableOutbound != nil else { return false }
    self.unwritableOutbound = Int64(buffered)
    return true
  }

  /// What is queued for the peer: pending (a starved event loop can let it grow however
  /// writable the socket is) plus, while the channel is not writable, what waits in it;
  /// recorded as a peak. Returns the amount when it first goes past `maxQueuedBytes`.
  mutating func overflow(connectionClosed: Bool) -> Int64? {
    let pending = Int64(self.pending.readableBytes)
    guard self.unwritableOutbound != nil || pending > self.maxQueuedBytes / 2 else { return nil }
    let queued = (self.unwritableOutbound ?? 0) + pending
    self.unwritablePeak = max(self.unwritablePeak, queued)
    guard queued > self.maxQueuedBytes, !self.overflowed, !connectionClosed else { return nil }
    self.overflowed = true
    return queued
  }

  /// Counts a control frame queued in reply to the peer; true when the peer, not reading, has
  /// made us queue more than `maxQueuedControlFrames` of them.
  mutating func countControlFrame() -> Bool {
    guard self.unwritableOutbound != nil else { return false }
    self.unwritableControlFrames += 1
    return self.unwritableControlFrames > self.maxQueuedControlFrames
  }
}
