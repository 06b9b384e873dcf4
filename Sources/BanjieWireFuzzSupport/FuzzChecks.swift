public import BanjieWire
import NIOCore

/// Invariants of the decoder, checked on arbitrary bytes. Test and fuzz support, not product
/// code: it lives in its own library so that `BanjieWire` carries none of it. The libFuzzer
/// targets in `Fuzz/` stop at the first violation; `FuzzCorpusReplayTests` replays the
/// committed corpus through the same functions. A violation is a bug in the decoder (or in the
/// encoder it is compared with), never in the input: every input is allowed to be rejected, but
/// only in the documented ways (docs/PROTOCOL.md §3, §4).
public enum WireFuzzChecks {
  /// The decoder both targets drive: the smallest MAX_FRAME_SIZE a peer may announce and a
  /// 1 KiB header limit, so that short inputs reach both limits.
  public static var decoder: FrameDecoder { FrameDecoder(maxFrameSize: ConnectionSettings.minimumFrameSize, maxHeaderSize: 1024) }

  /// What one input did, and what it broke.
  public struct Report: Sendable {
    /// Invariants that did not hold. Empty when the decoder behaved.
    public var violations: [String] = []
    /// Whole frames decoded, by the type byte of their header (malformed ones included).
    public var framesByType: [UInt8: Int] = [:]
    /// Frames that broke only their stream (`Frame.malformed`).
    public var malformed = 0
    /// The connection error that ended decoding, if one did.
    public var connectionError: GoAwayCode?
    /// HEADERS / TRAILERS payloads that decoded (payload target).
    public var validHeaders = 0
    public var validTrailers = 0
    /// Payloads refused as malformed (payload target).
    public var refusedPayloads = 0

    public init() {}

    mutating func fail(_ message: String) { self.violations.append(message) }
  }

  // MARK: - Frames

  /// One step of decoding, comparable across different splits of the same bytes.
  enum Step: Equatable {
    case frame(Frame)
    case error(WireError)
  }

  /// Decodes `input` as a stream of frames (after the preface) and checks, for every step:
  /// - nothing is consumed unless a whole frame is there, and then exactly header + length;
  /// - a length above MAX_FRAME_SIZE is refused (FRAME_SIZE_ERROR) before anything is consumed;
  /// - thrown errors are connection errors with PROTOCOL_ERROR or FRAME_SIZE_ERROR only, and
  ///   malformed frames carry a stream error for their own, non-zero stream with INTERNAL or
  ///   RESOURCE_EXHAUSTED;
  /// - a decoded frame re-encodes to the same bytes, up to what the receiver ignores (reserved
  ///   header bits, undefined flags, bit 31 of stream ids, bytes after a GOAWAY's or an
  ///   RST_STREAM's reason), and the re-encoding decodes to the same frame;
  /// - decoding the same bytes in pieces gives the same frames and the same error.
  public static func checkFrames(_ input: [UInt8]) -> Report {
    var report = Report()
    let decoder = Self.decoder
    let whole = Self.decodeAll(input, decoder: decoder, report: &report)
    let pieces = Self.decodeInPieces(input, decoder: decoder)
    if whole.steps != pieces.steps {
      report.fail(
        "decoding in pieces gave \(pieces.steps.count) steps, decoding at once \(whole.steps.count); first difference at \(Array(zip(whole.steps, pieces.steps)).firstIndex(where: { $0 != $1 }) ?? min(whole.steps.count, pieces.steps.count))"
      )
    }
    if whole.leftover != pieces.leftover {
      report.fail("decoding in pieces left \(pieces.leftover) bytes, decoding at once \(whole.leftover)")
    }
    return report
  }

  private static func decodeAll(_ input: [UInt8], decoder: FrameDecoder, report: inout Report) -> (steps: [Step], leftover: Int) {
    var buffer = ByteBuffer(bytes: input)
    var steps: [Step] = []
    while true {
      let start = buffer.readerIndex
      let available = buffer.readableBytes
      let header = Self.peekHeader(buffer)
      do {
        guard let frame = try decoder.decodeFrame(from: &buffer) else {
          if buffer.readerIndex != start {
            report.fail("no frame returned but \(buffer.readerIndex - start) bytes consumed")
          }
          if let header {
            if header.length > decoder.maxFrameSize {
              report.fail("length \(header.length) above MAX_FRAME_SIZE was not refused")
            } else if available >= FrameLayout.headerSize + Int(header.length) {
              report.fail("a whole frame of \(header.length) bytes was buffered but not decoded")
            }
          }
          return (steps, buffer.readableBytes)
        }
        steps.append(.frame(frame))
        guard let header else {
          report.fail("a frame decoded from \(available) bytes, fewer than a header")
          return (steps, buffer.readableBytes)
        }
        let consumed = buffer.readerIndex - start
        if consumed != FrameLayout.headerSize + Int(header.length) {
          report.fail("frame of length \(header.length) consumed \(consumed) bytes")
        }
        if header.length > decoder.maxFrameSize {
          report.fail("frame of length \(header.length) above MAX_FRAME_SIZE accepted")
        }
        let payloadStart = start + FrameLayout.headerSize
        let payload = Array(input[min(payloadStart, input.count)..<min(payloadStart + Int(header.length), input.count)])
        report.framesByType[header.type, default: 0] += 1
        Self.checkFrame(frame, header: header, payload: payload, decoder: decoder, report: &report)
      } catch {
        steps.append(.error(error))
        Self.checkThrown(error, header: header, consumedBefore: buffer.readerIndex - start, decoder: decoder, report: &report)
        return (steps, buffer.readableBytes)
      }
    }
  }

  /// The same bytes fed in pieces whose sizes follow from the input, as a socket might deliver them.
  private static func decodeInPieces(_ input: [UInt8], decoder: FrameDecoder) -> (steps: [Step], leftover: Int) {
    var pending = ByteBuffer()
    var steps: [Step] = []
    var offset = 0
    var state = UInt32(truncatingIfNeeded: input.count) &* 2_654_435_761 | 1
    while offset < input.count {
      state ^= state << 13
      state ^= state >> 17
      state ^= state << 5
      let size = Int(state % 97) + 1
      let end = min(input.count, offset + size)
      pending.writeBytes(input[offset..<end])
      offset = end
      do {
        while let frame = try decoder.decodeFrame(from: &pending) { steps.append(.frame(frame)) }
      } catch {
        steps.append(.error(error))
        // The connection is over: whatever followed is never read.
        return (steps, pending.readableBytes + input.count - offset)
      }
    }
    return (steps, pending.readableBytes)
  }

  struct Header {
    var length: UInt32
    var type: UInt8
    var flags: UInt8
    var rawStreamID: UInt32
    var streamID: UInt32 { self.rawStreamID & FrameLayout.maxStreamID }
  }

  static func peekHeader(_ buffer: ByteBuffer) -> Header? {
    let at = buffer.readerIndex
    guard
      let length = buffer.getInteger(at: at + FrameLayout.lengthOffset, as: UInt32.self),
      let type = buffer.getInteger(at: at + FrameLayout.typeOffset, as: UInt8.self),
      let flags = buffer.getInteger(at: at + FrameLayout.flagsOffset, as: UInt8.self),
      let id = buffer.getInteger(at: at + FrameLayout.streamIDOffset, as: UInt32.self)
    else { return nil }
    return Header(length: length, type: type, flags: flags, rawStreamID: id)
  }

  private static func checkThrown(_ error: WireError, header: Header?, consumedBefore: Int, decoder: FrameDecoder, report: inout Report) {
    guard case .connection(let code, let message) = error else {
      report.fail("thrown error is not a connection error: \(error)")
      return
    }
    report.connectionError = code
    if message.isEmpty { report.fail("connection error \(code) without a reason") }
    guard code == .protocolError || code == .frameSizeError else {
      report.fail("the decoder threw \(code), which it never documents: \(message)")
      return
    }
    guard let header else {
      report.fail("error \(error) thrown before a whole header was there")
      return
    }
    if header.length > decoder.maxFrameSize {
      if code != .frameSizeError { report.fail("oversized frame refused with \(code), not FRAME_SIZE_ERROR") }
      if consumedBefore != 0 { report.fail("oversized frame: \(consumedBefore) bytes consumed before refusing it") }
    }
    if let type = FrameType(rawValue: header.type), type == .message || type == .headers || type == .trailers || type == .rstStream {
      // Only the stream id (0) can be wrong with these at the connection level.
      if header.length <= decoder.maxFrameSize && !(code == .protocolError && header.streamID == 0) {
        report.fail("\(type) on stream \(header.streamID) threw \(error)")
      }
    }
    if FrameType(rawValue: header.type) == nil && header.length <= decoder.maxFrameSize {
      report.fail("unknown type \(header.type) threw \(error) instead of being passed on")
    }
  }

  /// The flag bits a type defines; the others are ignored on receipt and sent as 0.
  static func definedFlags(_ type: FrameType) -> UInt8 {
    switch type {
    case .settings, .ping: return FrameFlags.ack.rawValue
    case .headers: return FrameFlags.endStream.rawValue
    case .message: return FrameFlags.endMessage.rawValue | FrameFlags.endStream.rawValue
    case .trailers, .rstStream, .windowUpdate, .goAway: return 0
    }
  }

  private static func checkFrame(_ frame: Frame, header: Header, payload: [UInt8], decoder: FrameDecoder, report: inout Report) {
    let type = FrameType(rawValue: header.type)
    if frame.streamID != header.streamID {
      report.fail("frame on stream \(header.streamID) decoded as stream \(frame.streamID)")
    }
    let expectedCase: Bool
    switch (type, frame) {
    case (.settings, .settings), (.headers, .headers), (.message, .message), (.trailers, .trailers),
      (.rstStream, .rstStream), (.windowUpdate, .windowUpdate), (.ping, .ping), (.goAway, .goAway), (nil, .unknown):
      expectedCase = true
    case (.headers, .malformed), (.trailers, .malformed), (.rstStream, .malformed), (.windowUpdate, .malformed):
      expectedCase = true
    default:
      expectedCase = false
    }
    if !expectedCase { report.fail("type \(header.type) decoded as \(frame)") }

    switch frame {
    case .malformed(let id, let error):
      report.malformed += 1
      guard case .stream(let errorID, let status, let message) = error else {
        report.fail("malformed frame with a connection error \(error)")
        return
      }
      if id == 0 || errorID != id { report.fail("malformed frame for stream \(id) carries an error for stream \(errorID)") }
      if message.isEmpty { report.fail("stream error without a reason") }
      let oversized = (type == .headers || type == .trailers) && header.length > decoder.maxHeaderSize
      if oversized != (status == WireStatus.resourceExhausted)
        || (status != WireStatus.internalError && status != WireStatus.resourceExhausted)
      {
        report.fail("malformed \(String(describing: type)) of \(header.length) bytes answered with status \(status)")
      }
      return
    case .headers(_, let headers, _):
      if header.length > decoder.maxHeaderSize { report.fail("HEADERS of \(header.length) bytes above the header limit accepted") }
      Self.checkHeaders(headers, report: &report)
    case .trailers(_, let trailers):
      if header.length > decoder.maxHeaderSize { report.fail("TRAILERS of \(header.length) bytes above the header limit accepted") }
      Self.checkTrailers(trailers, report: &report)
    case .windowUpdate(_, let increment):
      if increment == 0 || increment > ConnectionSettings.maximumWindow { report.fail("WINDOW_UPDATE increment \(increment) accepted") }
    case .unknown(let unknownType, let flags, _, let body):
      if unknownType != header.type || flags != header.flags || Array(body.readableBytesView) != payload {
        report.fail("unknown frame not passed on as it came")
      }
    default:
      break
    }

    // Re-encode and compare with the input, normalised.
    var encoded = FrameEncoder.encode(frame)
    let bytes = Array(encoded.readableBytesView)
    let flagMask = type.map(Self.definedFlags) ?? 0xFF
    var expectedPayload = payload
    switch frame {
    case .goAway:
      // The last stream id's bit 31 is reserved; bytes after the reason are ignored.
      if !expectedPayload.isEmpty { expectedPayload[0] &= 0x7F }
      expectedPayload = Array(expectedPayload.prefix(max(0, bytes.count - FrameLayout.headerSize)))
    case .rstStream:
      // Bytes after the reason are ignored.
      expectedPayload = Array(expectedPayload.prefix(max(0, bytes.count - FrameLayout.headerSize)))
    default:
      break
    }
    var expected = ByteBuffer()
    expected.writeInteger(UInt32(expectedPayload.count))
    expected.writeInteger(header.type)
    expected.writeInteger(header.flags & flagMask)
    expected.writeInteger(UInt16(0))
    expected.writeInteger(header.streamID)
    expected.writeBytes(expectedPayload)
    if bytes != Array(expected.readableBytesView) {
      report.fail(
        "type \(header.type), flags \(header.flags), \(payload.count)-byte payload re-encodes to different bytes (\(bytes.count) bytes)")
    }
    do {
      let again = try FrameDecoder(maxFrameSize: ConnectionSettings.maximumFrameSize, maxHeaderSize: UInt32.max).decodeFrame(from: &encoded)
      if again != frame { report.fail("the re-encoded frame decodes to \(String(describing: again))") }
      if encoded.readableBytes != 0 { report.fail("\(encoded.readableBytes) bytes left after decoding a re-encoded frame") }
    } catch {
      report.fail("the re-encoded frame does not decode: \(error)")
    }
  }

  private static func checkHeaders(_ headers: HeadersPayload, report: inout Report) {
    if !headers.path.isEmpty && !FrameDecoder.isValidPath(headers.path) { report.fail("invalid path \(headers.path) accepted") }
    if headers.timeoutMicroseconds == 0 { report.fail("a timeout of 0 decoded as a deadline") }
    Self.checkMetadata(headers.metadata, report: &report)
  }

  private static func checkTrailers(_ trailers: TrailersPayload, report: inout Report) {
    if trailers.code > WireStatus.maxCode { report.fail("status \(trailers.code) accepted") }
    Self.checkMetadata(trailers.metadata, report: &report)
  }

  private static func checkMetadata(_ metadata: [WireMetadataEntry], report: inout Report) {
    for entry in metadata {
      if !FrameDecoder.isValidKey(entry.key) { report.fail("invalid metadata key accepted") }
      switch entry.value {
      case .binary: if !entry.key.hasSuffix("-bin") { report.fail("binary value for text key \(entry.key)") }
      case .string: if entry.key.hasSuffix("-bin") { report.fail("text value for binary key \(entry.key)") }
      }
    }
  }

  // MARK: - HEADERS and TRAILERS payloads

  /// Decodes `input` as a HEADERS payload and as a TRAILERS payload (§3.4, §3.6, §4) and checks:
  /// - what decodes is well-formed (path, timeout, status, keys, text values) and re-encodes to
  ///   exactly the input (the format is canonical: no trailing bytes are allowed);
  /// - what is refused has a reason;
  /// - the frame decoder agrees: the same bytes in a HEADERS / TRAILERS frame decode to the same
  ///   payload, or to a malformed frame that resets stream 1 with INTERNAL (RESOURCE_EXHAUSTED
  ///   above the header limit, FRAME_SIZE_ERROR above the frame limit).
  public static func checkPayloads(_ input: [UInt8]) -> Report {
    var report = Report()

    var buffer = ByteBuffer(bytes: input)
    let headers: HeadersPayload?
    do {
      let decoded = try FrameDecoder.parseHeaders(&buffer)
      headers = decoded
      report.validHeaders += 1
      Self.checkHeaders(decoded, report: &report)
      let reencoded = Self.payloadBytes(of: .headers(streamID: 1, decoded, endStream: false))
      if reencoded != input { report.fail("HEADERS payload of \(input.count) bytes re-encodes to \(reencoded.count) different bytes") }
    } catch {
      headers = nil
      report.refusedPayloads += 1
      if error.reason.isEmpty { report.fail("HEADERS payload refused without a reason") }
    }
    Self.checkInFrame(input, type: .headers, expected: headers.map { .headers(streamID: 1, $0, endStream: false) }, report: &report)

    buffer = ByteBuffer(bytes: input)
    let trailers: TrailersPayload?
    do {
      let decoded = try FrameDecoder.parseTrailers(&buffer)
      trailers = decoded
      report.validTrailers += 1
      Self.checkTrailers(decoded, report: &report)
      let reencoded = Self.payloadBytes(of: .trailers(streamID: 1, decoded))
      if reencoded != input { report.fail("TRAILERS payload of \(input.count) bytes re-encodes to \(reencoded.count) different bytes") }
    } catch {
      trailers = nil
      report.refusedPayloads += 1
      if error.reason.isEmpty { report.fail("TRAILERS payload refused without a reason") }
    }
    Self.checkInFrame(input, type: .trailers, expected: trailers.map { .trailers(streamID: 1, $0) }, report: &report)
    return report
  }

  private static func payloadBytes(of frame: Frame) -> [UInt8] {
    Array(FrameEncoder.encode(frame).readableBytesView.dropFirst(FrameLayout.headerSize))
  }

  private static func checkInFrame(_ payload: [UInt8], type: FrameType, expected: Frame?, report: inout Report) {
    let decoder = Self.decoder
    var frame = ByteBuffer()
    frame.writeInteger(UInt32(truncatingIfNeeded: payload.count))
    frame.writeInteger(type.rawValue)
    frame.writeInteger(UInt8(0))
    frame.writeInteger(UInt16(0))
    frame.writeInteger(UInt32(1))
    frame.writeBytes(payload)
    do {
      let decoded = try decoder.decodeFrame(from: &frame)
      if payload.count > Int(decoder.maxFrameSize) {
        report.fail("\(type) of \(payload.count) bytes above MAX_FRAME_SIZE decoded")
        return
      }
      guard let decoded else {
        report.fail("a whole \(type) frame was not decoded")
        return
      }
      if payload.count > Int(decoder.maxHeaderSize) {
        guard case .malformed(1, .stream(1, WireStatus.resourceExhausted, _)) = decoded else {
          report.fail("\(type) of \(payload.count) bytes above the header limit decoded as \(decoded)")
          return
        }
      } else if let expected {
        if decoded != expected { report.fail("\(type) frame decodes differently from its payload alone") }
      } else {
        guard case .malformed(1, .stream(1, WireStatus.internalError, let message)) = decoded, !message.isEmpty else {
          report.fail("refused \(type) payload decoded in a frame as \(decoded)")
          return
        }
      }
    } catch {
      guard payload.count > Int(decoder.maxFrameSize), case .connection(.frameSizeError, _) = error else {
        report.fail("\(type) frame on stream 1 threw \(error)")
        return
      }
    }
  }
}
