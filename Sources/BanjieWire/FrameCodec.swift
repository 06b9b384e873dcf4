import NIOCore

/// Byte layout of frames (docs/PROTOCOL.md §3). Big-endian throughout.
public enum FrameLayout {
  /// length u32 · type u8 · flags u8 · reserved u16 · stream id u32
  public static let headerSize = 12
  /// Where each header field starts, counted from the frame's first byte (§3.1).
  public static let lengthOffset = 0
  public static let typeOffset = 4
  public static let flagsOffset = 5
  public static let reservedOffset = 6
  public static let streamIDOffset = 8
  /// One SETTINGS entry: identifier u16 · value u32 (§3.3).
  public static let settingsEntrySize = 6
  /// PING's opaque data (§3.9).
  public static let pingPayloadSize = 8
  /// WINDOW_UPDATE's increment (§3.8).
  public static let windowUpdatePayloadSize = 4
  /// The smallest metadata entry: an empty key's u16 length and an empty value's u32 length (§4).
  public static let minimumMetadataEntrySize = 6
  /// Sent by each side before anything else: ASCII "BANJIE/1".
  public static let preface: [UInt8] = Array("BANJIE/1".utf8)
  public static let maxStreamID: UInt32 = 0x7FFF_FFFF
}

// MARK: - Encoding

extension ByteBuffer {
  /// Appends one whole frame. `payloadLength` bytes are written by `body` after the header.
  @inlinable
  mutating func writeFrame(
    type: UInt8,
    flags: UInt8,
    streamID: UInt32,
    _ body: (inout ByteBuffer) -> Void
  ) {
    let start = self.writerIndex
    self.writeInteger(UInt32(0))  // length, patched below
    self.writeInteger(type)
    self.writeInteger(flags)
    self.writeInteger(UInt16(0))
    self.writeInteger(streamID)
    let payloadStart = self.writerIndex
    body(&self)
    let length = UInt32(self.writerIndex - payloadStart)
    self.setInteger(length, at: start + FrameLayout.lengthOffset)
  }

  mutating func writeShortString(_ string: String) {
    // Callers bound the length (paths, keys, messages) before encoding; truncate defensively.
    var utf8 = Array(string.utf8)
    if utf8.count > Int(UInt16.max) { utf8 = Array(utf8.prefix(Int(UInt16.max))) }
    self.writeInteger(UInt16(utf8.count))
    self.writeBytes(utf8)
  }

  mutating func writeMetadata(_ metadata: [WireMetadataEntry]) {
    self.writeInteger(UInt16(min(metadata.count, Int(UInt16.max))))
    for entry in metadata.prefix(Int(UInt16.max)) {
      self.writeShortString(entry.key)
      switch entry.value {
      case .string(let s):
        self.writeInteger(UInt32(s.utf8.count))
        self.writeString(s)
      case .binary(let bytes):
        self.writeInteger(UInt32(bytes.count))
        self.writeBytes(bytes)
      }
    }
  }
}

/// Writes frames into a buffer. Several frames written into one buffer go out in one write.
public enum FrameEncoder {
  public static func encode(_ frame: Frame, into buffer: inout ByteBuffer) {
    switch frame {
    case .settings(let ack, let entries):
      buffer.writeFrame(type: FrameType.settings.rawValue, flags: ack ? FrameFlags.ack.rawValue : 0, streamID: 0) {
        for e in entries {
          $0.writeInteger(e.id)
          $0.writeInteger(e.value)
        }
      }
    case .headers(let id, let payload, let endStream):
      buffer.writeFrame(
        type: FrameType.headers.rawValue, flags: endStream ? FrameFlags.endStream.rawValue : 0, streamID: id
      ) {
        $0.writeShortString(payload.path)
        $0.writeInteger(payload.timeoutMicroseconds.map { max($0, 1) } ?? 0)
        $0.writeMetadata(payload.metadata)
      }
    case .message(let id, var bytes, let endMessage, let endStream):
      var flags = FrameFlags()
      if endMessage { flags.insert(.endMessage) }
      if endStream { flags.insert(.endStream) }
      buffer.writeFrame(type: FrameType.message.rawValue, flags: flags.rawValue, streamID: id) {
        $0.writeBuffer(&bytes)
      }
    case .trailers(let id, let payload):
      buffer.writeFrame(type: FrameType.trailers.rawValue, flags: 0, streamID: id) {
        $0.writeInteger(payload.code)
        $0.writeShortString(payload.message)
        $0.writeInteger(UInt32(payload.details.count))
        $0.writeBytes(payload.details)
        $0.writeMetadata(payload.metadata)
      }
    case .rstStream(let id, let code, let message):
      buffer.writeFrame(type: FrameType.rstStream.rawValue, flags: 0, streamID: id) {
        $0.writeInteger(code)
        $0.writeShortString(message)
      }
    case .windowUpdate(let id, let increment):
      buffer.writeFrame(type: FrameType.windowUpdate.rawValue, flags: 0, streamID: id) {
        $0.writeInteger(increment)
      }
    case .ping(let ack, let opaque):
      buffer.writeFrame(type: FrameType.ping.rawValue, flags: ack ? FrameFlags.ack.rawValue : 0, streamID: 0) {
        $0.writeInteger(opaque)
      }
    case .goAway(let last, let code, let message):
      buffer.writeFrame(type: FrameType.goAway.rawValue, flags: 0, streamID: 0) {
        $0.writeInteger(last)
        $0.writeInteger(code.rawValue)
        $0.writeShortString(message)
      }
    case .unknown(let type, let flags, let id, var payload):
      buffer.writeFrame(type: type, flags: flags, streamID: id) { $0.writeBuffer(&payload) }
    case .malformed:
      preconditionFailure("a malformed frame is a decoding result and is never sent")
    }
  }

  public static func encode(_ frame: Frame, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: 64)
    self.encode(frame, into: &buffer)
    return buffer
  }
}

// MARK: - Decoding

/// Splits a byte stream into frames (SwiftNIO's `ByteToMessageDecoder`): peeks at the
/// header, returns `.needMoreData` without consuming until the whole frame is there, and
/// refuses a length above the local maximum before buffering the payload.
///
/// Errors that break the connection are thrown (the connection answers GOAWAY); a payload
/// that breaks only its stream becomes a `.malformed` frame (the connection answers
/// RST_STREAM) so that decoding continues.
public struct FrameDecoder: ByteToMessageDecoder {
  public typealias InboundOut = Frame

  public var maxFrameSize: UInt32
  public var maxHeaderSize: UInt32

  public init(maxFrameSize: UInt32 = ConnectionSettings().maxFrameSize, maxHeaderSize: UInt32 = ConnectionSettings().maxHeaderSize) {
    self.maxFrameSize = maxFrameSize
    self.maxHeaderSize = maxHeaderSize
  }

  public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    guard let frame = try self.decodeFrame(from: &buffer) else { return .needMoreData }
    context.fireChannelRead(Self.wrapInboundOut(frame))
    return .continue
  }

  public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
    // A partial frame at EOF is simply dropped: the connection is gone.
    while let frame = try self.decodeFrame(from: &buffer) {
      context.fireChannelRead(Self.wrapInboundOut(frame))
    }
    return .needMoreData
  }

  /// Decodes one frame if a whole one is buffered; nil (consuming nothing) otherwise.
  public func decodeFrame(from buffer: inout ByteBuffer) throws(WireError) -> Frame? {
    guard
      let length = buffer.getInteger(at: buffer.readerIndex + FrameLayout.lengthOffset, as: UInt32.self),
      let type = buffer.getInteger(at: buffer.readerIndex + FrameLayout.typeOffset, as: UInt8.self),
      let flags = buffer.getInteger(at: buffer.readerIndex + FrameLayout.flagsOffset, as: UInt8.self),
      let rawStreamID = buffer.getInteger(at: buffer.readerIndex + FrameLayout.streamIDOffset, as: UInt32.self)
    else { return nil }

    guard length <= self.maxFrameSize else {
      throw .connection(.frameSizeError, "frame of \(length) bytes exceeds MAX_FRAME_SIZE \(self.maxFrameSize)")
    }
    guard buffer.readableBytes >= FrameLayout.headerSize + Int(length) else { return nil }

    buffer.moveReaderIndex(forwardBy: FrameLayout.headerSize)
    // Checked above: the slice exists.
    guard var payload = buffer.readSlice(length: Int(length)) else { return nil }
    // The top bit of the stream id is reserved; receivers ignore it.
    let streamID = rawStreamID & FrameLayout.maxStreamID
    return try Self.parse(
      type: type, flags: FrameFlags(rawValue: flags), streamID: streamID, payload: &payload, maxHeaderSize: self.maxHeaderSize)
  }

  static func parse(
    type rawType: UInt8,
    flags: FrameFlags,
    streamID: UInt32,
    payload: inout ByteBuffer,
    maxHeaderSize: UInt32
  ) throws(WireError) -> Frame {
    guard let type = FrameType(rawValue: rawType) else {
      return .unknown(type: rawType, flags: flags.rawValue, streamID: streamID, payload: payload)
    }
    switch type {
    case .settings, .ping, .goAway:
      guard streamID == 0 else { throw .connection(.protocolError, "\(type) frame on stream \(streamID)") }
    case .headers, .message, .trailers, .rstStream:
      guard streamID != 0 else { throw .connection(.protocolError, "\(type) frame on stream 0") }
    case .windowUpdate:
      break
    }

    switch type {
    case .settings:
      if flags.contains(.ack) {
        guard payload.readableBytes == 0 else { throw .connection(.frameSizeError, "SETTINGS ack with a payload") }
        return .settings(ack: true, [])
      }
      guard payload.readableBytes % FrameLayout.settingsEntrySize == 0 else {
        throw .connection(
          .frameSizeError, "SETTINGS payload of \(payload.readableBytes) bytes is not a multiple of \(FrameLayout.settingsEntrySize)")
      }
      var entries: [Setting] = []
      entries.reserveCapacity(payload.readableBytes / FrameLayout.settingsEntrySize)
      while let id = payload.readInteger(as: UInt16.self), let value = payload.readInteger(as: UInt32.self) {
        entries.append(Setting(id: id, value: value))
      }
      return .settings(ack: false, entries)

    case .ping:
      guard payload.readableBytes == FrameLayout.pingPayloadSize, let opaque = payload.readInteger(as: UInt64.self) else {
        throw .connection(.frameSizeError, "PING payload must be \(FrameLayout.pingPayloadSize) bytes, got \(payload.readableBytes)")
      }
      return .ping(ack: flags.contains(.ack), opaque: opaque)

    case .goAway:
      guard let last = payload.readInteger(as: UInt32.self), let code = payload.readInteger(as: UInt32.self),
        let message = Self.readShortString(&payload)
      else { throw .connection(.frameSizeError, "GOAWAY payload truncated") }
      return .goAway(lastStreamID: last & FrameLayout.maxStreamID, code: GoAwayCode(rawValue: code), message: message)

    case .windowUpdate:
      guard payload.readableBytes == FrameLayout.windowUpdatePayloadSize, let increment = payload.readInteger(as: UInt32.self) else {
        throw .connection(
          .frameSizeError, "WINDOW_UPDATE payload must be \(FrameLayout.windowUpdatePayloadSize) bytes, got \(payload.readableBytes)")
      }
      guard increment > 0, increment <= ConnectionSettings.maximumWindow else {
        if streamID == 0 { throw .connection(.protocolError, "WINDOW_UPDATE increment \(increment) outside 1...2^31-1") }
        return .malformed(
          streamID: streamID,
          .stream(streamID, statusCode: WireStatus.internalError, "WINDOW_UPDATE increment \(increment) outside 1...2^31-1"))
      }
      return .windowUpdate(streamID: streamID, increment: increment)

    case .message:
      return .message(
        streamID: streamID, payload, endMessage: flags.contains(.endMessage), endStream: flags.contains(.endStream)
      )

    case .rstStream:
      guard let code = payload.readInteger(as: UInt32.self), let message = Self.readShortString(&payload) else {
        return .malformed(streamID: streamID, .stream(streamID, statusCode: WireStatus.internalError, "RST_STREAM payload truncated"))
      }
      return .rstStream(streamID: streamID, code: code, message: message)

    case .headers:
      guard payload.readableBytes <= maxHeaderSize else {
        return .malformed(
          streamID: streamID,
          .stream(
            streamID, statusCode: WireStatus.resourceExhausted,
            "HEADERS of \(payload.readableBytes) bytes exceed the \(maxHeaderSize)-byte limit"))
      }
      do {
        return .headers(streamID: streamID, try Self.parseHeaders(&payload), endStream: flags.contains(.endStream))
      } catch {
        return .malformed(streamID: streamID, .stream(streamID, statusCode: WireStatus.internalError, "malformed HEADERS: \(error.reason)"))
      }

    case .trailers:
      guard payload.readableBytes <= maxHeaderSize else {
        return .malformed(
          streamID: streamID,
          .stream(
            streamID, statusCode: WireStatus.resourceExhausted,
            "TRAILERS of \(payload.readableBytes) bytes exceed the \(maxHeaderSize)-byte limit"))
      }
      do {
        return .trailers(streamID: streamID, try Self.parseTrailers(&payload))
      } catch {
        return .malformed(
          streamID: streamID, .stream(streamID, statusCode: WireStatus.internalError, "malformed TRAILERS: \(error.reason)"))
      }
    }
  }

  // MARK: Payloads

  public struct PayloadError: Error, Sendable {
    public var reason: String
  }

  /// Decodes a HEADERS payload (exposed for fuzzing and tests).
  public static func parseHeaders(_ payload: inout ByteBuffer) throws(PayloadError) -> HeadersPayload {
    guard let path = Self.readShortString(&payload) else { throw PayloadError(reason: "path truncated or not UTF-8") }
    guard path.isEmpty || Self.isValidPath(path) else { throw PayloadError(reason: "path \"\(path.prefix(64))\" is not /Service/Method") }
    guard let timeout = payload.readInteger(as: UInt64.self) else { throw PayloadError(reason: "timeout truncated") }
    let metadata = try Self.parseMetadata(&payload)
    guard payload.readableBytes == 0 else { throw PayloadError(reason: "\(payload.readableBytes) trailing bytes") }
    return HeadersPayload(path: path, timeoutMicroseconds: timeout == 0 ? nil : timeout, metadata: metadata)
  }

  /// Decodes a TRAILERS payload (exposed for fuzzing and tests).
  public static func parseTrailers(_ payload: inout ByteBuffer) throws(PayloadError) -> TrailersPayload {
    guard let code = payload.readInteger(as: UInt8.self) else { throw PayloadError(reason: "status truncated") }
    guard code <= WireStatus.maxCode else { throw PayloadError(reason: "status code \(code) outside 0...16") }
    guard let message = Self.readShortString(&payload) else { throw PayloadError(reason: "message truncated or not UTF-8") }
    guard let detailsLength = payload.readInteger(as: UInt32.self), let details = payload.readBytes(length: Int(detailsLength)) else {
      throw PayloadError(reason: "details truncated")
    }
    let metadata = try Self.parseMetadata(&payload)
    guard payload.readableBytes == 0 else { throw PayloadError(reason: "\(payload.readableBytes) trailing bytes") }
    return TrailersPayload(code: code, message: message, details: details, metadata: metadata)
  }

  static func parseMetadata(_ payload: inout ByteBuffer) throws(PayloadError) -> [WireMetadataEntry] {
    guard let count = payload.readInteger(as: UInt16.self) else { throw PayloadError(reason: "metadata count truncated") }
    // Refuse counts the payload cannot hold before allocating.
    guard Int(count) * FrameLayout.minimumMetadataEntrySize <= payload.readableBytes else {
      throw PayloadError(reason: "metadata count \(count) exceeds what \(payload.readableBytes) bytes can hold")
    }
    var entries: [WireMetadataEntry] = []
    entries.reserveCapacity(Int(count))
    for _ in 0..<count {
      guard let key = Self.readShortString(&payload) else { throw PayloadError(reason: "metadata key truncated") }
      guard Self.isValidKey(key) else { throw PayloadError(reason: "metadata key \"\(key.prefix(64))\" is not lower-case [0-9a-z-_.]") }
      guard let length = payload.readInteger(as: UInt32.self), let bytes = payload.readBytes(length: Int(length)) else {
        throw PayloadError(reason: "metadata value of \(key) truncated")
      }
      if key.hasSuffix("-bin") {
        entries.append(WireMetadataEntry(key: key, value: .binary(bytes)))
      } else {
        guard let value = String(validating: bytes, as: UTF8.self) else {
          throw PayloadError(reason: "metadata value of \(key) is not UTF-8")
        }
        entries.append(WireMetadataEntry(key: key, value: .string(value)))
      }
    }
    return entries
  }

  static func readShortString(_ buffer: inout ByteBuffer) -> String? {
    guard let length = buffer.readInteger(as: UInt16.self), let bytes = buffer.readBytes(length: Int(length)) else {
      return nil
    }
    return String(validating: bytes, as: UTF8.self)
  }

  /// Whether a metadata key is well-formed (§4): non-empty, only `0-9 a-z - _ .`.
  public static func isValidKey(_ key: String) -> Bool {
    !key.isEmpty
      && key.utf8.allSatisfy { b in
        (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x2E
      }
  }

  /// Whether a request path is `/Service/Method` (§3.4).
  public static func isValidPath(_ path: String) -> Bool {
    // "/" service "/" method, each part non-empty, printable ASCII without spaces.
    let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return false }
    return path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
  }
}
