import BanjieEcho
import BanjieProto
import BanjieWire
import Foundation
import GRPCCore
import NIOCore
import Testing

@testable import BanjieTransport

/// Peers that cost the server work or memory without doing anything useful (docs/PROTOCOL.md
/// §11): each is closed with the GOAWAY the document names, the server's queues stay bounded,
/// and a well-behaved client is served afterwards.
@Suite("Abusive peers over real TLS sockets", .timeLimit(.minutes(10)))
struct AbusivePeerTests {
  static let echoGet = TransportTests.echoGet
  static let echoExpand = TransportTests.echoExpand

  /// A well-behaved client's call still works.
  static func stillServes(_ harness: EchoHarness) async throws {
    let reply = try await harness.withClient { try await $0.get(.with { $0.text = "still here" }) }
    #expect(reply.text == "still here")
  }

  /// Sends `frames` in batches of `batch`, stopping early once the server has closed.
  static func flood(_ raw: RawConnection, _ frames: [Frame], batch: Int = 2_000) async throws {
    var index = 0
    while index < frames.count, !raw.isClosed {
      let end = min(index + batch, frames.count)
      do {
        try await raw.send(Array(frames[index..<end]))
      } catch {
        return  // the server closed the connection under us
      }
      index = end
    }
  }

  @Test("100,000 empty MESSAGE frames on one stream: GOAWAY ENHANCE_YOUR_CALM naming them")
  func emptyMessages() async throws {
    try await EchoHarness.withServer { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      var frames: [Frame] = [.headers(streamID: 1, HeadersPayload(path: Self.echoGet), endStream: false)]
      frames += Array(repeating: .message(streamID: 1, ByteBuffer(), endMessage: false, endStream: false), count: 100_000)
      try await Self.flood(raw, frames)
      let received = try await raw.waitFor(timeout: .seconds(240)) { $0.goAway != nil }
      #expect(received.goAway?.0 == .enhanceYourCalm)
      #expect(received.goAway?.1.contains("empty MESSAGE frames") == true, "\(String(describing: received.goAway))")
      #expect(try await raw.waitUntilClosed(timeout: .seconds(240)))
      try await Self.stillServes(harness)
    }
  }

  @Test("rapid open/reset: streams opened and reset at once are GOAWAY ENHANCE_YOUR_CALM after the limit")
  func rapidReset() async throws {
    try await EchoHarness.withServer { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      var frames: [Frame] = []
      for n in 0..<5_000 {
        let id = UInt32(2 * n + 1)
        frames.append(.headers(streamID: id, HeadersPayload(path: Self.echoGet), endStream: false))
        frames.append(.rstStream(streamID: id, code: UInt32(WireStatus.cancelled), message: ""))
      }
      try await Self.flood(raw, frames)
      let received = try await raw.waitFor(timeout: .seconds(240)) { $0.goAway != nil }
      #expect(received.goAway?.0 == .enhanceYourCalm)
      #expect(received.goAway?.1.contains("streams reset by the peer") == true, "\(String(describing: received.goAway))")
      try await Self.stillServes(harness)
    }
  }

  @Test("a peer that grants windows but never reads: closed once 1 MiB is queued for it, not the 2 GiB it asked for")
  func neverReadsResponses() async throws {
    let limit: Int64 = 1 << 20
    try await EchoHarness.withServer(configure: { $0.transport.maxQueuedOutboundBytes = limit }) { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      try await raw.channel.setOption(ChannelOptions.autoRead, value: false).get()
      let window = UInt32(Int32.max) - ConnectionSettings().initialStreamWindow
      try await raw.send([
        .headers(streamID: 1, HeadersPayload(path: Self.echoExpand), endStream: false),
        .message(streamID: 1, RawConnection.echoRequest(count: 100_000, payloadSize: 16 * 1024), endMessage: true, endStream: true),
        .windowUpdate(streamID: 1, increment: window),
        .windowUpdate(streamID: 0, increment: UInt32(Int32.max) - ConnectionSettings().initialConnectionWindow),
      ])
      // The server gives up on the connection: it is gone from its books.
      for _ in 0..<4_800 where harness.transport.connectionCount > 0 { try await Task.sleep(for: .milliseconds(50)) }
      #expect(harness.transport.connectionCount == 0)
      // What it queued stayed near the limit (one drain may carry a little more).
      let peak = harness.transport.outboundQueued.peakPerConnection
      #expect(peak > limit && peak < limit + (8 << 20), "peak \(peak)")
      await raw.close()
      try await Self.stillServes(harness)
    }
  }

  @Test("a peer that never reads while opening streams and PINGing: closed, its control frames bounded")
  func neverReadsControlFrames() async throws {
    let limit: Int64 = 1 << 20
    try await EchoHarness.withServer(configure: { $0.transport.maxQueuedOutboundBytes = limit }) { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      try await raw.channel.setOption(ChannelOptions.autoRead, value: false).get()
      // Each HEADERS beyond the 100 concurrent streams is refused with an RST_STREAM, and each
      // PING is answered; HEADERS between the PINGs keep the PING-flood rule from firing.
      var frames: [Frame] = []
      for n in 0..<300_000 {
        frames.append(.headers(streamID: UInt32(2 * n + 1), HeadersPayload(path: Self.echoGet), endStream: false))
        frames.append(.ping(ack: false, opaque: UInt64(n)))
      }
      try await Self.flood(raw, frames)
      for _ in 0..<4_800 where harness.transport.connectionCount > 0 { try await Task.sleep(for: .milliseconds(50)) }
      #expect(harness.transport.connectionCount == 0)
      #expect(harness.transport.outboundQueued.peakPerConnection < limit + (8 << 20))
      await raw.close()
      try await Self.stillServes(harness)
    }
  }
}
