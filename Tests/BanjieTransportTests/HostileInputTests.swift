import BanjieEcho
import BanjieProto
import BanjieWire
import Foundation
import GRPCCore
import NIOCore
import Testing

@testable import BanjieTransport

/// What a hostile or broken peer sends once its TLS connection is up.
struct HostileCase: CustomTestStringConvertible, Sendable {
  var name: String
  /// Send the preface and SETTINGS first.
  var preface = true
  var bytes: @Sendable () -> [UInt8]
  var testDescription: String { self.name }
}

private func frames(_ list: [Frame]) -> [UInt8] {
  var buffer = ByteBuffer()
  for frame in list { FrameEncoder.encode(frame, into: &buffer) }
  return Array(buffer.readableBytesView)
}

private func raw(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8]) -> [UInt8] {
  var buffer = ByteBuffer()
  buffer.writeInteger(UInt32(payload.count))
  buffer.writeInteger(type)
  buffer.writeInteger(flags)
  buffer.writeInteger(UInt16(0))
  buffer.writeInteger(stream)
  buffer.writeBytes(payload)
  return Array(buffer.readableBytesView)
}

/// SplitMix64, so the random cases are the same every run.
private struct HostileGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
  var generator = HostileGenerator(state: seed)
  return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

private let get = "/banjie.v1.EchoService/Get"
private func request(_ text: String = "x", payload: Int = 0) -> ByteBuffer { RawConnection.echoRequest(text: text, payloadSize: payload) }

let hostileCases: [HostileCase] = {
  var cases: [HostileCase] = []
  for (i, n) in [1, 7, 11, 12, 13, 100, 1_000, 16_384, 65_536, 300_000].enumerated() {
    cases.append(HostileCase(name: "\(n) random bytes") { randomBytes(n, seed: UInt64(1000 + i)) })
  }
  cases += [
    HostileCase(name: "length 0xFFFFFFFF") { [0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0, 0, 0, 1] },
    HostileCase(name: "length just above MAX_FRAME_SIZE") { raw(type: 2, stream: 1, payload: [UInt8](repeating: 0, count: 65_537)) },
    HostileCase(name: "HEADERS on stream 0") { raw(type: 1, stream: 0, payload: [0, 0]) },
    HostileCase(name: "stream id reused") {
      frames([
        .headers(streamID: 5, HeadersPayload(path: get), endStream: true),
        .headers(streamID: 3, HeadersPayload(path: get), endStream: true),
      ])
    },
    HostileCase(name: "even stream id") { frames([.headers(streamID: 2, HeadersPayload(path: get), endStream: true)]) },
    HostileCase(name: "highest stream id, then one more") {
      frames([.headers(streamID: 0x7FFF_FFFF, HeadersPayload(path: get), endStream: true)])
        + raw(type: 1, stream: 0x8000_0001, payload: [0, 0])
    },
    HostileCase(name: "header flood: 500 streams at once") {
      frames((0..<500).map { .headers(streamID: UInt32($0 * 2 + 1), HeadersPayload(path: get), endStream: false) })
    },
    HostileCase(name: "HEADERS above 8 KiB") {
      frames([
        .headers(
          streamID: 1,
          HeadersPayload(path: get, metadata: [WireMetadataEntry(key: "x", value: .string(String(repeating: "a", count: 9_000)))]),
          endStream: true)
      ])
    },
    HostileCase(name: "1,000 metadata entries") {
      frames([
        .headers(
          streamID: 1, HeadersPayload(path: get, metadata: (0..<1000).map { WireMetadataEntry(key: "k\($0)", value: .string("v")) }),
          endStream: true)
      ])
    },
    HostileCase(name: "PING flood") { frames((0..<200).map { .ping(ack: false, opaque: UInt64($0)) }) },
    HostileCase(name: "SETTINGS with MAX_FRAME_SIZE 1") {
      frames([.settings(ack: false, [Setting(id: Setting.maxFrameSizeID, value: 1)])])
    },
    HostileCase(name: "SETTINGS with a 2^31 window") {
      frames([.settings(ack: false, [Setting(id: Setting.initialStreamWindowID, value: 0x8000_0000)])])
    },
    HostileCase(name: "SETTINGS 2,000 times") { frames((0..<2000).map { _ in .settings(ack: false, ConnectionSettings().entries) }) },
    HostileCase(name: "SETTINGS ack with a payload") { raw(type: 0, flags: 1, stream: 0, payload: [0, 1, 0, 0, 0, 1]) },
    HostileCase(name: "WINDOW_UPDATE of 0 on the connection") { raw(type: 5, stream: 0, payload: [0, 0, 0, 0]) },
    HostileCase(name: "connection window overflow") {
      frames([.windowUpdate(streamID: 0, increment: 0x7FFF_FFFF), .windowUpdate(streamID: 0, increment: 0x7FFF_FFFF)])
    },
    HostileCase(name: "MESSAGE on a stream never opened") { frames([.message(streamID: 9, request(), endMessage: true, endStream: true)]) },
    HostileCase(name: "MESSAGE after END_STREAM") {
      frames([
        .headers(streamID: 1, HeadersPayload(path: get), endStream: true),
        .message(streamID: 1, request(), endMessage: true, endStream: false),
      ])
    },
    HostileCase(name: "a 5 MiB message in fragments") {
      frames(
        [.headers(streamID: 1, HeadersPayload(path: get), endStream: false)]
          + (0..<80).map { _ in .message(streamID: 1, ByteBuffer(repeating: 1, count: 65_536), endMessage: false, endStream: false) })
    },
    HostileCase(name: "TRAILERS from a client") {
      frames([.headers(streamID: 1, HeadersPayload(path: get), endStream: false), .trailers(streamID: 1, TrailersPayload(code: 0))])
    },
    HostileCase(name: "RST_STREAM for an unknown stream") { frames([.rstStream(streamID: 77, code: 1, message: "x")]) },
    HostileCase(name: "GOAWAY, then a new stream") {
      frames([.goAway(lastStreamID: 0, code: .noError, message: "bye"), .headers(streamID: 1, HeadersPayload(path: get), endStream: true)])
    },
    HostileCase(name: "500 unknown frames") {
      (0..<500).flatMap { raw(type: 0x40 + UInt8($0 % 64), stream: UInt32($0), payload: [1, 2, 3]) }
    },
    HostileCase(name: "invalid protobuf") {
      frames([
        .headers(streamID: 1, HeadersPayload(path: get), endStream: false),
        .message(streamID: 1, ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), endMessage: true, endStream: true),
      ])
    },
    HostileCase(name: "invalid UTF-8 in a protobuf string") {
      frames([
        .headers(streamID: 1, HeadersPayload(path: get), endStream: false),
        .message(streamID: 1, ByteBuffer(bytes: [0x0A, 2, 0xC3, 0x28]), endMessage: true, endStream: true),
      ])
    },
    HostileCase(name: "a 3 MiB repeated field") {
      frames([.headers(streamID: 1, HeadersPayload(path: get), endStream: false)])
        + { () -> [UInt8] in
          var buffer = ByteBuffer()
          let body = request(payload: 3 * 1024 * 1024)
          var copy = body
          while copy.readableBytes > 0 {
            let n = min(65_536, copy.readableBytes)
            let slice = copy.readSlice(length: n) ?? ByteBuffer()
            FrameEncoder.encode(
              .message(streamID: 1, slice, endMessage: copy.readableBytes == 0, endStream: copy.readableBytes == 0), into: &buffer)
          }
          return Array(buffer.readableBytesView)
        }()
    },
    HostileCase(name: "SQL-looking text") {
      frames([
        .headers(streamID: 1, HeadersPayload(path: get), endStream: false),
        .message(streamID: 1, request("'; DROP TABLE cases; --"), endMessage: true, endStream: true),
      ])
    },
    HostileCase(name: "a path that is not /service/method") {
      raw(type: 1, stream: 1, payload: [0, 4] + Array("nope".utf8) + [UInt8](repeating: 0, count: 10))
    },
    HostileCase(name: "an unknown method") {
      frames([.headers(streamID: 1, HeadersPayload(path: "/banjie.v1.Nope/Nothing"), endStream: true)])
    },
    HostileCase(name: "an upper-case metadata key") {
      raw(type: 1, stream: 1, payload: [0, 4] + Array("/a/b".utf8) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x4B, 0, 0, 0, 1, 0x41])
    },
    HostileCase(name: "a metadata value that is not UTF-8") {
      raw(type: 1, stream: 1, payload: [0, 4] + Array("/a/b".utf8) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x6B, 0, 0, 0, 2, 0xC3, 0x28])
    },
    HostileCase(name: "a 1 µs deadline") {
      frames([
        .headers(streamID: 1, HeadersPayload(path: get, timeoutMicroseconds: 1), endStream: false),
        .message(streamID: 1, request(), endMessage: true, endStream: true),
      ])
    },
    HostileCase(name: "a wrong preface", preface: false) { Array("BANJIE/2".utf8) + frames([.settings(ack: false, [])]) },
    HostileCase(name: "frames without a preface", preface: false) {
      frames([.settings(ack: false, []), .headers(streamID: 1, HeadersPayload(path: get), endStream: true)])
    },
    HostileCase(name: "a preface, then garbage", preface: false) { FrameLayout.preface + randomBytes(64, seed: 7) },
    HostileCase(name: "PING before SETTINGS", preface: false) { FrameLayout.preface + frames([.ping(ack: false, opaque: 1)]) },
    HostileCase(name: "half a frame header, then silence") { [0, 0, 0, 9, 1, 0] },
    HostileCase(name: "HEADERS, then half a MESSAGE") {
      frames([.headers(streamID: 1, HeadersPayload(path: get), endStream: false)])
        + Array(frames([.message(streamID: 1, request(), endMessage: true, endStream: true)]).prefix(15))
    },
    HostileCase(name: "1,000 streams opened and reset") {
      frames(
        (0..<1000).flatMap { i -> [Frame] in
          let id = UInt32(i * 2 + 1)
          return [.headers(streamID: id, HeadersPayload(path: get), endStream: false), .rstStream(streamID: id, code: 1, message: "")]
        })
    },
    HostileCase(name: "10,000 empty messages on one stream") {
      frames(
        [.headers(streamID: 1, HeadersPayload(path: "/banjie.v1.EchoService/Collect"), endStream: false)]
          + (0..<10_000).map { _ in .message(streamID: 1, ByteBuffer(), endMessage: true, endStream: false) })
    },
    HostileCase(name: "WINDOW_UPDATE of 0 on a stream") {
      frames([.headers(streamID: 1, HeadersPayload(path: get), endStream: false)]) + raw(type: 5, stream: 1, payload: [0, 0, 0, 0])
    },
    HostileCase(name: "a PING of the wrong size") { raw(type: 6, stream: 0, payload: [1, 2, 3]) },
    HostileCase(name: "a truncated GOAWAY") { raw(type: 7, stream: 0, payload: [0, 0, 0]) },
    HostileCase(name: "a truncated RST_STREAM") {
      frames([.headers(streamID: 1, HeadersPayload(path: get), endStream: false)]) + raw(type: 4, stream: 1, payload: [0, 0])
    },
    HostileCase(name: "TRAILERS with status 200") {
      frames([.headers(streamID: 1, HeadersPayload(path: get), endStream: false)])
        + raw(type: 3, stream: 1, payload: [200, 0, 0, 0, 0, 0, 0, 0, 0])
    },
  ]
  return cases
}()

/// This process's resident set in bytes (/proc/self/statm, second field, in pages); nil where
/// there is no /proc. The test server runs in this process.
func residentBytes() -> Int? {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
  let fields = text.split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite("Hostile input: the server stays up and other clients see nothing", .serialized, .timeLimit(.minutes(10)))
struct HostileInputTests {
  @Test("at least 50 hostile cases are covered")
  func count() {
    #expect(hostileCases.count >= 50)
  }

  @Test("after each hostile input the server serves a well-behaved client that stayed connected", arguments: hostileCases)
  func survive(_ hostile: HostileCase) async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var probe = Banjie_V1_EchoRequest()
        probe.text = "before"
        let before = try await echo.get(probe)
        #expect(before.text == "before")
        let raw = try await RawConnection.connect(port: harness.port, sendPreface: hostile.preface)
        try? await raw.sendRaw(hostile.bytes())
        // Give the server time to react (reset, GOAWAY, close), then hang up.
        try await Task.sleep(for: .milliseconds(150))
        await raw.close()
        probe.text = "after"
        let after = try await echo.get(probe)
        #expect(after.text == "after")
        // A fresh connection is accepted too.
        let request = probe
        let fresh = try await harness.withClient { fresh in try await fresh.get(request) }
        #expect(fresh.text == "after")
      }
    }
  }

  /// The memory bound. All the cases go, one after the other, to ONE server, while one
  /// well-behaved client stays connected and is answered after each. Two measures:
  ///
  /// - Exact, from the transport: the most MESSAGE bytes any one connection held at once
  ///   (partial messages plus messages its handler had not read) stays within MAX_MESSAGE_SIZE
  ///   (4 MiB): no case makes the server buffer more than one largest message, whatever the
  ///   peer sends past its windows. Once the hostile connections are gone the server holds
  ///   nothing and only the good client's connection is left.
  /// - Coarse, from the kernel: the process's resident set grows by less than 64 MiB over the
  ///   second and third passes of all 52 cases (the first pass warms up allocator arenas, TLS and
  ///   NIO buffer pools). The cases send about 9 MiB each pass; a server that kept any of it per
  ///   connection would grow by that much per pass. The bound leaves room for suites that run
  ///   in parallel in the same process and allocate while this one measures.
  @Test("all the cases against one server: per-connection buffers within MAX_MESSAGE_SIZE, resident memory bounded")
  func memoryBound() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        func pass() async throws {
          for hostile in hostileCases {
            let raw = try await RawConnection.connect(port: harness.port, sendPreface: hostile.preface)
            try? await raw.sendRaw(hostile.bytes())
            try await Task.sleep(for: .milliseconds(150))
            await raw.close()
            var probe = Banjie_V1_EchoRequest()
            probe.text = hostile.name
            #expect(try await echo.get(probe).text == hostile.name)
          }
          // The server lets go of every hostile connection (closing is asynchronous: wait for it,
          // for at most 30 s, then check).
          for _ in 0..<300 where harness.transport.connectionCount > 1 {
            try await Task.sleep(for: .milliseconds(100))
          }
          #expect(harness.transport.connectionCount == 1)
        }
        try await pass()
        let limit = Int64(ConnectionSettings().maxMessageSize)
        let afterFirst = harness.transport.inboundBuffered
        #expect(afterFirst.current == 0)
        #expect(afterFirst.peakPerConnection <= limit)
        // The 3 MiB message was held whole: the counter sees what the server buffers.
        #expect(afterFirst.peakPerConnection >= 3 * 1024 * 1024)

        let warm = try #require(residentBytes())
        try await pass()
        try await pass()
        let grown = try #require(residentBytes()) - warm
        #expect(grown < 64 * 1024 * 1024, "resident set grew by \(grown / 1024) KiB over two passes")
        let afterAll = harness.transport.inboundBuffered
        #expect(afterAll.current == 0)
        #expect(afterAll.peakPerConnection <= limit)
        print(
          "hostile memory bound: peak \(afterAll.peakPerConnection) bytes buffered on one connection; resident set \(warm / 1024) KiB after the first pass, \(grown / 1024) KiB more after two more passes"
        )
      }
    }
  }
}

@Suite("Hostile input: the per-connection buffer budget")
struct ConnectionBudgetTests {
  /// Partial messages are credited as they arrive (so a message larger than the window can
  /// arrive at all); without a budget, one connection could park MAX_MESSAGE_SIZE on each of its
  /// streams. Four streams each start a 3 MiB message that never ends, against an 8 MiB budget.
  @Test("one connection's unfinished messages stop at the budget: later streams are reset RESOURCE_EXHAUSTED, others go on")
  func budget() async throws {
    let budget: Int64 = 8 << 20
    try await EchoHarness.withServer(configure: { $0.transport.maxBufferedInboundBytes = budget }) { harness in
      try await harness.withClient { echo in
        let raw = try await RawConnection.connect(port: harness.port)
        var frames: [Frame] = []
        for s in 0..<4 {
          let id = UInt32(s * 2 + 1)
          frames.append(.headers(streamID: id, HeadersPayload(path: get), endStream: false))
          frames += (0..<48).map { _ in .message(streamID: id, ByteBuffer(repeating: 1, count: 65_536), endMessage: false, endStream: false)
          }
        }
        try await raw.send(frames)
        let seen = try await raw.waitFor { frames in
          frames.filter { if case .rstStream(_, let code, _) = $0 { code == UInt32(WireStatus.resourceExhausted) } else { false } }.count
            >= 2
        }
        let reset = seen.compactMap { frame -> UInt32? in
          if case .rstStream(let id, let code, _) = frame, code == UInt32(WireStatus.resourceExhausted) { id } else { nil }
        }
        // Streams 1 and 2 fit (6 MiB); 3 and 4 each went past the budget.
        #expect(Set(reset) == [5, 7])
        #expect(harness.transport.inboundBuffered.peakPerConnection <= budget)
        #expect(!raw.isClosed)
        var probe = Banjie_V1_EchoRequest()
        probe.text = "still served"
        #expect(try await echo.get(probe).text == "still served")
        await raw.close()
        for _ in 0..<100 where harness.transport.inboundBuffered.current != 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(harness.transport.inboundBuffered.current == 0)
      }
    }
  }
}
