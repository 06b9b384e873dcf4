import BanjieWire
import NIOCore
import NIOTestUtils
import Testing

@Suite("Frame codec")
struct FrameCodecTests {
  static let allFrames: [Frame] = [
    .settings(ack: false, ConnectionSettings().entries),
    .settings(ack: true, []),
    .headers(
      streamID: 1,
      HeadersPayload(
        path: "/banjie.v1.CaseService/SubmitCase",
        timeoutMicroseconds: 5_000_000,
        metadata: [
          WireMetadataEntry(key: "idempotency-key", value: .string("k-1")),
          WireMetadataEntry(key: "note", value: .string("窗口 3 号")),
          WireMetadataEntry(key: "trace-bin", value: .binary([0, 1, 2, 255])),
        ]
      ),
      endStream: false
    ),
    .headers(streamID: 3, HeadersPayload(), endStream: true),
    .message(streamID: 1, ByteBuffer(bytes: [1, 2, 3, 4, 5]), endMessage: true, endStream: false),
    .message(streamID: 1, ByteBuffer(), endMessage: false, endStream: true),
    .message(streamID: 5, ByteBuffer(repeating: 7, count: 40_000), endMessage: false, endStream: false),
    .trailers(
      streamID: 1,
      TrailersPayload(
        code: 9, message: "cannot complete a case in state RECEIVED", details: [8, 9],
        metadata: [WireMetadataEntry(key: "k", value: .string("v"))])),
    .trailers(streamID: 7, TrailersPayload(code: 0)),
    .rstStream(streamID: 9, code: 1, message: "cancelled"),
    .windowUpdate(streamID: 0, increment: 65_536),
    .windowUpdate(streamID: 11, increment: 1),
    .ping(ack: false, opaque: 0x0102_0304_0506_0708),
    .ping(ack: true, opaque: 42),
    .goAway(lastStreamID: 13, code: .noError, message: "server is shutting down"),
    .unknown(type: 0x42, flags: 3, streamID: 1, payload: ByteBuffer(bytes: [9, 9])),
  ]

  @Test("every frame type survives encode and decode", arguments: allFrames)
  func roundTrip(frame: Frame) throws {
    var buffer = FrameEncoder.encode(frame)
    let decoded = try FrameDecoder().decodeFrame(from: &buffer)
    #expect(decoded == frame)
    #expect(buffer.readableBytes == 0)
  }

  @Test("decoding byte by byte and in every split gives the same frames")
  func byteByByte() throws {
    let pairs = Self.allFrames.map { frame in (FrameEncoder.encode(frame), [frame]) }
    try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
  }

  @Test("random splits of a stream of frames decode to the same frames")
  func randomSplits() throws {
    var stream = ByteBuffer()
    for frame in Self.allFrames { FrameEncoder.encode(frame, into: &stream) }
    var generator = SeededGenerator(seed: 20_261_129)
    for _ in 0..<200 {
      var input = stream
      var pending = ByteBuffer()
      var decoded: [Frame] = []
      let decoder = FrameDecoder()
      while input.readableBytes > 0 {
        let n = Int.random(in: 1...max(1, min(input.readableBytes, 5000)), using: &generator)
        var chunk = input.readSlice(length: min(n, input.readableBytes))!
        pending.writeBuffer(&chunk)
        while let frame = try decoder.decodeFrame(from: &pending) { decoded.append(frame) }
      }
      #expect(decoded == Self.allFrames)
      #expect(pending.readableBytes == 0)
    }
  }

  @Test("a truncated frame waits for more bytes and consumes nothing")
  func truncated() throws {
    let full = FrameEncoder.encode(Self.allFrames[2])
    for cut in 0..<full.readableBytes {
      var partial = full.getSlice(at: 0, length: cut)!
      #expect(try FrameDecoder().decodeFrame(from: &partial) == nil)
      #expect(partial.readableBytes == cut)
    }
  }

  @Test("a length above MAX_FRAME_SIZE is refused before the payload is buffered")
  func oversized() {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(64 * 1024 + 1))
    buffer.writeInteger(FrameType.message.rawValue)
    buffer.writeInteger(UInt8(0))
    buffer.writeInteger(UInt16(0))
    buffer.writeInteger(UInt32(1))
    #expect(throws: WireError.self) { try FrameDecoder().decodeFrame(from: &buffer) }
    var giant = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0, 0, 0, 1])
    do {
      _ = try FrameDecoder().decodeFrame(from: &giant)
      Issue.record("a 4 GiB length was accepted")
    } catch {
      guard case .connection(let code, _) = error else {
        Issue.record("wrong scope \(error)")
        return
      }
      #expect(code == .frameSizeError)
    }
  }

  @Test("unknown frame types are passed on to be skipped")
  func unknownType() throws {
    var buffer = FrameEncoder.encode(.unknown(type: 0xEE, flags: 0, streamID: 0, payload: ByteBuffer(bytes: [1])))
    guard case .unknown(let type, _, _, _) = try FrameDecoder().decodeFrame(from: &buffer) else {
      Issue.record("not passed as unknown")
      return
    }
    #expect(type == 0xEE)
  }

  @Test(
    "connection-level violations throw with the right code",
    arguments: [
      // PING on a stream
      (FrameType.ping.rawValue, UInt8(0), UInt32(1), [UInt8](repeating: 0, count: 8), GoAwayCode.protocolError),
      // HEADERS on stream 0
      (FrameType.headers.rawValue, 0, 0, [0, 0], .protocolError),
      // PING of the wrong size
      (FrameType.ping.rawValue, 0, 0, [1, 2, 3], .frameSizeError),
      // SETTINGS not a multiple of 6
      (FrameType.settings.rawValue, 0, 0, [1, 2, 3, 4, 5], .frameSizeError),
      // SETTINGS ack with a payload
      (FrameType.settings.rawValue, 1, 0, [0, 1, 0, 0, 0, 1], .frameSizeError),
      // WINDOW_UPDATE of zero on the connection
      (FrameType.windowUpdate.rawValue, 0, 0, [0, 0, 0, 0], .protocolError),
      // GOAWAY truncated
      (FrameType.goAway.rawValue, 0, 0, [0, 0, 0], .frameSizeError),
    ] as [(UInt8, UInt8, UInt32, [UInt8], GoAwayCode)])
  func connectionErrors(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8], expected: GoAwayCode) {
    var buffer = Self.rawFrame(type: type, flags: flags, stream: stream, payload: payload)
    do {
      _ = try FrameDecoder().decodeFrame(from: &buffer)
      Issue.record("accepted")
    } catch {
      guard case .connection(let code, _) = error else {
        Issue.record("wrong scope \(error)")
        return
      }
      #expect(code == expected)
    }
  }

  @Test(
    "stream-level violations become malformed frames with a status",
    arguments: [
      // HEADERS: path length beyond the payload
      ([0, 50, 0x2F], UInt8(13)),
      // HEADERS: path that is not /service/method
      (Self.headersPayload(path: "nope"), 13),
      // HEADERS: metadata value that is not UTF-8
      (Self.headersPayload(path: "/a/b", key: "k", value: [0xC3, 0x28]), 13),
      // HEADERS: upper-case key
      (Self.headersPayload(path: "/a/b", key: "Key", value: [0x41]), 13),
      // HEADERS: a metadata count the payload cannot hold (no allocation of 65535 entries)
      ([0, 4, 0x2F, 0x61, 0x2F, 0x62, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], 13),
      // HEADERS: trailing garbage
      (Self.headersPayload(path: "/a/b") + [1], 13),
      // HEADERS above the 8 KiB header limit
      (Self.headersPayload(path: "/a/b", key: "k", value: [UInt8](repeating: 0x41, count: 9000)), 8),
    ] as [([UInt8], UInt8)])
  func streamErrors(payload: [UInt8], status: UInt8) throws {
    var buffer = Self.rawFrame(type: FrameType.headers.rawValue, flags: 0, stream: 5, payload: payload)
    let frame = try FrameDecoder().decodeFrame(from: &buffer)
    guard case .malformed(let id, .stream(_, let code, let message)) = frame else {
      Issue.record("expected malformed, got \(String(describing: frame))")
      return
    }
    #expect(id == 5)
    #expect(code == status)
    #expect(!message.isEmpty)
  }

  @Test("TRAILERS with a status above 16 are malformed")
  func badStatus() throws {
    var buffer = Self.rawFrame(type: FrameType.trailers.rawValue, flags: 0, stream: 1, payload: [17, 0, 0, 0, 0, 0, 0, 0, 0])
    guard case .malformed = try FrameDecoder().decodeFrame(from: &buffer) else {
      Issue.record("status 17 accepted")
      return
    }
  }

  @Test("SETTINGS values outside their ranges are refused; unknown ids ignored")
  func settingsRanges() throws {
    var settings = ConnectionSettings()
    #expect(throws: WireError.self) { try settings.apply([Setting(id: Setting.maxFrameSizeID, value: 100)]) }
    #expect(throws: WireError.self) { try settings.apply([Setting(id: Setting.initialStreamWindowID, value: 0x8000_0000)]) }
    try settings.apply([Setting(id: 0x99, value: 1), Setting(id: Setting.maxConcurrentStreamsID, value: 7)])
    #expect(settings.maxConcurrentStreams == 7)
  }

  @Test("the hex dump in docs/PROTOCOL.md is what the encoder writes")
  func documentedBytes() {
    let headers = FrameEncoder.encode(
      .headers(
        streamID: 1, HeadersPayload(path: "/banjie.v1.EchoService/Get", timeoutMicroseconds: 5_000_000, metadata: []), endStream: false))
    #expect(
      headers.readableBytesView.map { $0 } == [
        0x00, 0x00, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x1A,
      ] + Array("/banjie.v1.EchoService/Get".utf8) + [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x4C, 0x4B, 0x40,
        0x00, 0x00,
      ])
  }

  static func rawFrame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(payload.count))
    buffer.writeInteger(type)
    buffer.writeInteger(flags)
    buffer.writeInteger(UInt16(0))
    buffer.writeInteger(stream)
    buffer.writeBytes(payload)
    return buffer
  }

  static func headersPayload(path: String, key: String? = nil, value: [UInt8] = []) -> [UInt8] {
    var b = ByteBuffer()
    b.writeInteger(UInt16(path.utf8.count))
    b.writeString(path)
    b.writeInteger(UInt64(0))
    if let key {
      b.writeInteger(UInt16(1))
      b.writeInteger(UInt16(key.utf8.count))
      b.writeString(key)
      b.writeInteger(UInt32(value.count))
      b.writeBytes(value)
    } else {
      b.writeInteger(UInt16(0))
    }
    return Array(b.readableBytesView)
  }
}

/// A small deterministic generator (SplitMix64) so random splits repeat run to run.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { self.state = seed }
  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
