public import BanjieWire
public import NIOCore

/// Settings of one side of banjie's transport. Defaults suit a county's service hall.
public struct TransportConfig: Sendable {
  /// What this side accepts; announced to the peer in SETTINGS.
  public var settings = ConnectionSettings()
  /// The peer must send its preface and SETTINGS within this time after the connection opens.
  public var settingsTimeout: TimeAmount = .seconds(10)
  /// Send a PING after this much time without receiving anything; nil disables keepalive.
  public var keepaliveInterval: TimeAmount?
  /// Close the connection when a keepalive PING is not answered within this time.
  public var keepaliveTimeout: TimeAmount = .seconds(10)
  /// PINGs received closer together than this, with no stream activity in between, are strikes.
  public var minimumPingInterval: TimeAmount = .seconds(5)
  /// More strikes than this and the peer is told to calm down (GOAWAY ENHANCE_YOUR_CALM).
  public var maxPingStrikes = 5
  /// Frames (other than the last of a call) are held this long so that the parts of a call
  /// leave in one write; the last frame of a call is written at once.
  public var flushCoalescingDelay: TimeAmount = .microseconds(100)
  /// After GOAWAY, calls in flight get this long to finish before the connection is closed.
  public var gracefulShutdownTimeout: TimeAmount = .seconds(30)
  /// The most received MESSAGE bytes one connection may have held at once: messages still
  /// arriving plus messages its handlers have not read yet. A MESSAGE frame that would go past it
  /// resets its stream with RESOURCE_EXHAUSTED (the connection and its other streams go on).
  /// Without it, a peer could park a partial message of MAX_MESSAGE_SIZE on every stream it may
  /// open. Keep it at least MAX_MESSAGE_SIZE, or messages of that size can never arrive.
  public var maxBufferedInboundBytes: Int64 = 32 << 20
  /// While the channel is not writable (the peer reads slower than we write, or not at all), the
  /// most bytes we queue for it before closing the connection with GOAWAY ENHANCE_YOUR_CALM "peer
  /// is not reading". Flow control bounds responses only as far as the peer grants windows, and a
  /// peer that grants windows without reading would otherwise make us hold everything we write.
  /// Keep it above the connection window the peer may grant plus the socket buffers.
  public var maxQueuedOutboundBytes: Int64 = 64 << 20
  /// While the channel is not writable, the most PING and SETTINGS acks we queue in answer to the
  /// peer before closing as above (RST_STREAMs count towards the bytes).
  public var maxQueuedControlFrames = 10_000
  /// The window of the two abuse counters below.
  public var abuseWindow: TimeAmount = .seconds(10)
  /// Server: empty MESSAGE frames without END_STREAM one connection may send within
  /// `abuseWindow`; more is GOAWAY ENHANCE_YOUR_CALM. A real client sends one per empty message.
  public var maxEmptyMessagesPerWindow = 10_000
  /// Server: open streams a client may reset (before half their timeout, if they have one)
  /// within `abuseWindow` (rapid open/reset); more is GOAWAY ENHANCE_YOUR_CALM.
  public var maxPeerResetsPerWindow = 1_000
  /// Server: accepted streams waiting for a handler to be started, across all connections;
  /// beyond it a new stream is refused with RST_STREAM UNAVAILABLE (not processed, retry).
  public var maxPendingStreams = 10_000

  public init() {}

  public static var serverDefaults: TransportConfig {
    var config = TransportConfig()
    config.keepaliveInterval = .minutes(5)
    return config
  }

  public static var clientDefaults: TransportConfig {
    var config = TransportConfig()
    config.keepaliveInterval = .seconds(30)
    return config
  }
}
