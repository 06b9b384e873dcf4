/// One SETTINGS entry: an identifier and a value. Unknown identifiers are ignored.
public struct Setting: Sendable, Hashable {
  public var id: UInt16
  public var value: UInt32
  public init(id: UInt16, value: UInt32) {
    self.id = id
    self.value = value
  }

  public static let maxFrameSizeID: UInt16 = 0x1
  public static let maxConcurrentStreamsID: UInt16 = 0x2
  public static let maxMessageSizeID: UInt16 = 0x3
  public static let initialStreamWindowID: UInt16 = 0x4
  public static let initialConnectionWindowID: UInt16 = 0x5
  public static let maxHeaderSizeID: UInt16 = 0x6
}

/// What one side of a connection is willing to receive. Each side announces its own in its
/// first SETTINGS frame; the peer must respect them.
public struct ConnectionSettings: Sendable, Hashable {
  /// Largest frame payload accepted.
  public var maxFrameSize: UInt32 = 64 * 1024
  /// Most streams the peer may have open towards us at once.
  public var maxConcurrentStreams: UInt32 = 100
  /// Largest whole message accepted.
  public var maxMessageSize: UInt32 = 4 * 1024 * 1024
  /// Bytes of MESSAGE payload the peer may send on a new stream before a WINDOW_UPDATE.
  public var initialStreamWindow: UInt32 = 1024 * 1024
  /// Bytes of MESSAGE payload the peer may send on the whole connection before a WINDOW_UPDATE.
  public var initialConnectionWindow: UInt32 = 8 * 1024 * 1024
  /// Largest HEADERS or TRAILERS payload accepted.
  public var maxHeaderSize: UInt32 = 8 * 1024

  public static let minimumFrameSize: UInt32 = 16 * 1024
  public static let maximumFrameSize: UInt32 = 16 * 1024 * 1024 - 1
  public static let maximumWindow: UInt32 = 0x7FFF_FFFF

  public init() {}

  public var entries: [Setting] {
    [
      Setting(id: Setting.maxFrameSizeID, value: self.maxFrameSize),
      Setting(id: Setting.maxConcurrentStreamsID, value: self.maxConcurrentStreams),
      Setting(id: Setting.maxMessageSizeID, value: self.maxMessageSize),
      Setting(id: Setting.initialStreamWindowID, value: self.initialStreamWindow),
      Setting(id: Setting.initialConnectionWindowID, value: self.initialConnectionWindow),
      Setting(id: Setting.maxHeaderSizeID, value: self.maxHeaderSize),
    ]
  }

  /// Applies a peer's SETTINGS entries, rejecting values outside the allowed ranges.
  public mutating func apply(_ entries: [Setting]) throws(WireError) {
    for entry in entries {
      switch entry.id {
      case Setting.maxFrameSizeID:
        guard (Self.minimumFrameSize...Self.maximumFrameSize).contains(entry.value) else {
          throw .connection(.protocolError, "MAX_FRAME_SIZE \(entry.value) outside 16384...16777215")
        }
        self.maxFrameSize = entry.value
      case Setting.maxConcurrentStreamsID:
        self.maxConcurrentStreams = entry.value
      case Setting.maxMessageSizeID:
        self.maxMessageSize = entry.value
      case Setting.initialStreamWindowID:
        guard entry.value <= Self.maximumWindow else {
          throw .connection(.flowControlError, "INITIAL_STREAM_WINDOW \(entry.value) above 2^31-1")
        }
        self.initialStreamWindow = entry.value
      case Setting.initialConnectionWindowID:
        guard entry.value <= Self.maximumWindow else {
          throw .connection(.flowControlError, "INITIAL_CONNECTION_WINDOW \(entry.value) above 2^31-1")
        }
        self.initialConnectionWindow = entry.value
      case Setting.maxHeaderSizeID:
        self.maxHeaderSize = entry.value
      default:
        continue  // Unknown settings are ignored so that later versions can add some.
      }
    }
  }
}
