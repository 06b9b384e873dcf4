import BanjieWire

/// What we may still send to the peer: its window for a stream or for the connection
/// (docs/PROTOCOL.md §6). It goes down as MESSAGE bytes go out and up with WINDOW_UPDATE or a
/// larger initial window in SETTINGS; it may go below zero when the peer shrinks its initial
/// stream window.
struct SendWindow: Sendable, Hashable {
  private(set) var available: Int64

  init(_ available: Int64) { self.available = available }

  /// The most a window may hold (2^31-1).
  static let maximum = Int64(ConnectionSettings.maximumWindow)

  /// Bytes that may go out now, however many are asked for.
  func allowance(for bytes: Int) -> Int { min(bytes, Int(max(self.available, 0))) }

  mutating func consume(_ bytes: Int) { self.available -= Int64(bytes) }

  /// Adds a WINDOW_UPDATE's increment (or a SETTINGS delta). Returns false when the window went
  /// above 2^31-1: a flow-control error for the caller to answer.
  mutating func increase(by delta: Int64) -> Bool {
    self.available += delta
    return self.available <= Self.maximum
  }
}

/// What the peer may still send us on a stream or the connection, and the credit we owe it:
/// bytes received and released (taken by a consumer, or dropped) that a WINDOW_UPDATE has not
/// returned yet. An update goes out once a quarter of the initial window is owed, or at once
/// when the peer's window is empty.
struct ReceiveWindow: Sendable, Hashable {
  private(set) var window: Int64
  private(set) var pendingCredit: Int64 = 0
  let initial: Int64

  init(initial: UInt32) {
    self.initial = Int64(initial)
    self.window = Int64(initial)
  }

  /// The peer sent `bytes`. Returns false when that went beyond the window.
  mutating func receive(_ bytes: Int64) -> Bool {
    self.window -= bytes
    return self.window >= 0
  }

  /// Bytes released: owed to the peer in the next WINDOW_UPDATE.
  mutating func credit(_ bytes: Int64) { self.pendingCredit += bytes }

  /// The increment of a WINDOW_UPDATE to send now, if one is due; the window reopens by it.
  mutating func takeUpdate() -> UInt32? {
    guard self.pendingCredit > 0, self.pendingCredit >= self.initial / 4 || self.window <= 0 else { return nil }
    // An increment is at most 2^31-1; anything above waits for the next update.
    let increment = min(self.pendingCredit, SendWindow.maximum)
    self.window += increment
    self.pendingCredit -= increment
    return UInt32(increment)
  }
}

/// One stream's receiving side: its window, and the complete messages its consumer has not taken
/// yet. Credit for bytes that arrive while the consumer is a whole window behind is deferred
/// until it catches up, so a consumer that does not read stops the peer.
struct StreamReceiveFlow: Sendable, Hashable {
  var window: ReceiveWindow
  /// Bytes of complete messages delivered to the inbox and not yet taken.
  private(set) var held: Int64 = 0
  /// Credit held back while the consumer is behind.
  private(set) var deferred: Int64 = 0

  init(initial: UInt32) { self.window = ReceiveWindow(initial: initial) }

  /// The consumer is at least a window behind: new bytes are not credited yet.
  var consumerBehind: Bool { self.held >= self.window.initial }

  /// `bytes` arrived within the window. Returns whether they were credited now (the caller
  /// credits the connection window as well) or deferred.
  mutating func accept(_ bytes: Int64) -> Bool {
    if self.consumerBehind {
      self.deferred += bytes
      return false
    }
    self.window.credit(bytes)
    return true
  }

  /// A complete message of `bytes` was handed to the inbox.
  mutating func delivered(_ bytes: Int64) { self.held += bytes }

  /// The consumer took `bytes`. Returns the deferred credit released by catching up (the caller
  /// credits the connection window with it as well), or 0.
  mutating func consumed(_ bytes: Int64) -> Int64 {
    self.held -= bytes
    guard !self.consumerBehind, self.deferred > 0 else { return 0 }
    let released = self.deferred
    self.window.credit(released)
    self.deferred = 0
    return released
  }
}
