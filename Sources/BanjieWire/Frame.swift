import NIOCore

/// The kinds of frame on a banjie connection (docs/PROTOCOL.md §3).
public enum FrameType: UInt8, Sendable, CaseIterable {
  case settings = 0x0
  case headers = 0x1
  case message = 0x2
  case trailers = 0x3
  case rstStream = 0x4
  case windowUpdate = 0x5
  case ping = 0x6
  case goAway = 0x7
}

/// Flag bits of the frame header. Their meaning depends on the frame type.
public struct FrameFlags: OptionSet, Sendable, Hashable {
  public var rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// SETTINGS and PING: this frame acknowledges the peer's.
  public static let ack = FrameFlags(rawValue: 0x1)
  /// MESSAGE: this fragment is the last of its message.
  public static let endMessage = FrameFlags(rawValue: 0x1)
  /// HEADERS and MESSAGE: the sender will send nothing more on this stream.
  public static let endStream = FrameFlags(rawValue: 0x2)
}

/// A metadata entry as it travels: keys ending in `-bin` carry bytes, all others UTF-8 text.
public struct WireMetadataEntry: Sendable, Hashable {
  public enum Value: Sendable, Hashable {
    case string(String)
    case binary([UInt8])
  }
  public var key: String
  public var value: Value
  public init(key: String, value: Value) {
    self.key = key
    self.value = value
  }
}

/// The payload of a HEADERS frame. A client's HEADERS opens a stream and names the method;
/// a server's HEADERS (path empty, no timeout) carries the response's leading metadata.
public struct HeadersPayload: Sendable, Hashable {
  /// "/package.Service/Method" on requests; empty on responses.
  public var path: String
  /// The call's remaining time in microseconds when it was sent; nil means no deadline.
  public var timeoutMicroseconds: UInt64?
  public var metadata: [WireMetadataEntry]

  public init(path: String = "", timeoutMicroseconds: UInt64? = nil, metadata: [WireMetadataEntry] = []) {
    self.path = path
    self.timeoutMicroseconds = timeoutMicroseconds
    self.metadata = metadata
  }
}

/// The payload of a TRAILERS frame: how the call ended.
public struct TrailersPayload: Sendable, Hashable {
  /// gRPC's status numbering, 0 (OK) to 16 (UNAUTHENTICATED).
  public var code: UInt8
  public var message: String
  /// Opaque details for the caller (for example a serialized google.rpc.Status); may be empty.
  public var details: [UInt8]
  public var metadata: [WireMetadataEntry]

  public init(code: UInt8, message: String = "", details: [UInt8] = [], metadata: [WireMetadataEntry] = []) {
    self.code = code
    self.message = message
    self.details = details
    self.metadata = metadata
  }
}

/// One decoded frame.
public enum Frame: Sendable, Equatable {
  case settings(ack: Bool, [Setting])
  case headers(streamID: UInt32, HeadersPayload, endStream: Bool)
  case message(streamID: UInt32, ByteBuffer, endMessage: Bool, endStream: Bool)
  case trailers(streamID: UInt32, TrailersPayload)
  case rstStream(streamID: UInt32, code: UInt32, message: String)
  case windowUpdate(streamID: UInt32, increment: UInt32)
  case ping(ack: Bool, opaque: UInt64)
  case goAway(lastStreamID: UInt32, code: GoAwayCode, message: String)
  /// A frame type this implementation does not know: skipped by the connection.
  case unknown(type: UInt8, flags: UInt8, streamID: UInt32, payload: ByteBuffer)
  /// A frame on a stream whose payload could not be decoded: ends that stream only.
  case malformed(streamID: UInt32, WireError)

  public var streamID: UInt32 {
    switch self {
    case .settings, .ping, .goAway: return 0
    case .headers(let id, _, _), .message(let id, _, _, _), .trailers(let id, _),
      .rstStream(let id, _, _), .windowUpdate(let id, _), .unknown(_, _, let id, _),
      .malformed(let id, _):
      return id
    }
  }
}

/// The reasons a connection is closed, carried by GOAWAY (docs/PROTOCOL.md §3.10). Unknown codes
/// are accepted, so this is an open set of named values rather than a closed enum.
public struct GoAwayCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public static let noError = GoAwayCode(rawValue: 0)
  public static let protocolError = GoAwayCode(rawValue: 1)
  public static let internalError = GoAwayCode(rawValue: 2)
  public static let flowControlError = GoAwayCode(rawValue: 3)
  public static let settingsTimeout = GoAwayCode(rawValue: 4)
  public static let frameSizeError = GoAwayCode(rawValue: 5)
  public static let enhanceYourCalm = GoAwayCode(rawValue: 6)
  public static let idleTimeout = GoAwayCode(rawValue: 7)

  public var description: String {
    switch self {
    case .noError: return "NO_ERROR"
    case .protocolError: return "PROTOCOL_ERROR"
    case .internalError: return "INTERNAL_ERROR"
    case .flowControlError: return "FLOW_CONTROL_ERROR"
    case .settingsTimeout: return "SETTINGS_TIMEOUT"
    case .frameSizeError: return "FRAME_SIZE_ERROR"
    case .enhanceYourCalm: return "ENHANCE_YOUR_CALM"
    case .idleTimeout: return "IDLE_TIMEOUT"
    default: return "UNKNOWN(\(self.rawValue))"
    }
  }
}
