import BanjieEcho
import BanjieProto
import BanjieTLS
import BanjieWire
import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BanjieTransport

@Suite("Transport over real TLS sockets", .timeLimit(.minutes(10)))
struct TransportTests {
  static let echoGet = "/banjie.v1.EchoService/Get"
  static let echoExpand = "/banjie.v1.EchoService/Expand"

  @Test("unary, server-, client- and bidirectional streaming calls work")
  func allKinds() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var request = Banjie_V1_EchoRequest()
        request.text = "一日办结"
        let reply = try await echo.get(request)
        #expect(reply.text == "一日办结")

        request.count = 500
        let count = try await echo.expand(request) { response in
          var n = 0
          for try await message in response.messages {
            #expect(message.index == UInt32(n))
            n += 1
          }
          return n
        }
        #expect(count == 500)

        let collected = try await echo.collect(
          request: StreamingClientRequest { writer in
            for word in ["受理", "办结", "送达"] {
              var part = Banjie_V1_EchoRequest()
              part.text = word
              try await writer.write(part)
            }
          })
        #expect(collected.text == "受理 办结 送达")
        #expect(collected.index == 3)

        let echoed = try await echo.update(
          request: StreamingClientRequest { writer in
            for i in 0..<20 {
              var part = Banjie_V1_EchoRequest()
              part.text = "m\(i)"
              try await writer.write(part)
            }
          }
        ) { response in
          var texts: [String] = []
          for try await message in response.messages { texts.append(message.text) }
          return texts
        }
        #expect(echoed == (0..<20).map { "m\($0)" })
      }
    }
  }

  @Test("100 concurrent calls share one connection")
  func concurrentCalls() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        try await withThrowingTaskGroup(of: String.self) { group in
          for i in 0..<100 {
            group.addTask {
              var request = Banjie_V1_EchoRequest()
              request.text = "call \(i)"
              request.payload = Data(repeating: UInt8(i), count: i * 100)
              let reply = try await echo.get(request)
              #expect(reply.payload.count == i * 100)
              return reply.text
            }
          }
          var seen = Set<String>()
          for try await text in group { seen.insert(text) }
          #expect(seen.count == 100)
        }
        #expect(harness.transport.connectionCount == 1)
      }
    }
  }

  @Test("messages up to 4 MiB pass; larger ones are RESOURCE_EXHAUSTED and the connection lives on")
  func messageSizeLimit() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var request = Banjie_V1_EchoRequest()
        request.payload = Data(repeating: 7, count: 3 * 1024 * 1024)
        let reply = try await echo.get(request)
        #expect(reply.payload.count == 3 * 1024 * 1024)

        request.payload = Data(repeating: 7, count: 5 * 1024 * 1024)
        await #expect(throws: RPCError.self) { _ = try await echo.get(request) }
        do {
          _ = try await echo.get(request)
        } catch let error as RPCError {
          #expect(error.code == .resourceExhausted)
        }
        request.payload = Data()
        request.text = "still here"
        #expect(try await echo.get(request).text == "still here")
      }
    }
  }

  @Test("the server enforces the caller's deadline: DEADLINE_EXCEEDED and the handler is cancelled")
  func serverDeadline() async throws {
    try await EchoHarness.withServer { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      let start = ContinuousClock.now
      try await raw.send([
        .headers(streamID: 1, HeadersPayload(path: Self.echoGet, timeoutMicroseconds: 400_000), endStream: false),
        .message(streamID: 1, RawConnection.echoRequest(delayMs: 10_000), endMessage: true, endStream: true),
      ])
      let frames = try await raw.waitFor { $0.trailers(on: 1) != nil }
      let elapsed = ContinuousClock.now - start
      let trailers = try #require(frames.trailers(on: 1))
      #expect(trailers.code == WireStatus.deadlineExceeded)
      // Well before the handler's 10 s delay (a bound against that delay, with room for a loaded
      // machine, not a timing measurement).
      #expect(elapsed < .seconds(9))
      // A handler that started saw the cancellation and stopped waiting. (Under heavy load the
      // deadline can pass before the handler starts; then it never runs at all.)
      let deadline = ContinuousClock.now + .seconds(60)
      while harness.echo.snapshot.cancellationsSeen < harness.echo.snapshot.callsStarted && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
      }
      #expect(harness.echo.snapshot.cancellationsSeen == harness.echo.snapshot.callsStarted)
      await raw.close()
    }
  }

  @Test("the client's deadline surfaces as DEADLINE_EXCEEDED")
  func clientDeadline() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var request = Banjie_V1_EchoRequest()
        request.delayMs = 10_000
        var options = CallOptions.defaults
        options.timeout = .milliseconds(200)
        do {
          _ = try await echo.get(request, options: options)
          Issue.record("call outlived its deadline")
        } catch let error as RPCError {
          #expect(error.code == .deadlineExceeded)
        }
      }
    }
  }

  @Test("a client cancel reaches the server handler")
  func clientCancel() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        let task = Task {
          var request = Banjie_V1_EchoRequest()
          request.delayMs = 20_000
          return try await echo.get(request)
        }
        // Waits (at most a minute, for a loaded machine) until the call reached the handler.
        let started = ContinuousClock.now + .seconds(60)
        while harness.echo.snapshot.callsStarted == 0 && ContinuousClock.now < started {
          try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        _ = await task.result
        let deadline = ContinuousClock.now + .seconds(60)
        while harness.echo.snapshot.cancellationsSeen == 0 && ContinuousClock.now < deadline {
          try await Task.sleep(for: .milliseconds(10))
        }
        #expect(harness.echo.snapshot.cancellationsSeen == 1)
      }
    }
  }

  @Test("graceful shutdown lets calls in flight finish and refuses new ones")
  func gracefulDrain() async throws {
    let pki = TestPKI.shared
    var config = BanjieServerTransport.Config(host: "127.0.0.1", port: 0, tls: try pki.serverContext())
    config.logger = .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let transport = BanjieServerTransport(config: config)
    let echo = EchoService()
    let server = GRPCServer(transport: transport, services: [echo])
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await server.serve() }
      let port = try #require(await transport.listeningAddress?.port)
      var clientConfig = BanjieClientTransport.Config(host: "127.0.0.1", port: port, tls: try pki.clientContext())
      clientConfig.logger = .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
      try await withGRPCClient(transport: BanjieClientTransport(config: clientConfig)) { client in
        let echoClient = Banjie_V1_EchoService.Client(wrapping: client)
        try await withThrowingTaskGroup(of: String.self) { calls in
          for i in 0..<10 {
            calls.addTask {
              var request = Banjie_V1_EchoRequest()
              request.text = "in flight \(i)"
              request.delayMs = 400
              return try await echoClient.get(request).text
            }
          }
          while echo.snapshot.callsStarted < 10 { try await Task.sleep(for: .milliseconds(5)) }
          server.beginGracefulShutdown()
          var done = 0
          for try await _ in calls { done += 1 }
          #expect(done == 10)
        }
        // New calls now fail: the server is gone.
        var request = Banjie_V1_EchoRequest()
        request.text = "late"
        await #expect(throws: RPCError.self) { _ = try await echoClient.get(request) }
      }
      try await group.waitForAll()
    }
  }

  @Test("a stream beyond MAX_CONCURRENT_STREAMS is refused with RESOURCE_EXHAUSTED; the others go on")
  func tooManyStreams() async throws {
    try await EchoHarness.withServer(configure: { $0.transport.settings.maxConcurrentStreams = 2 }) { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      var frames: [Frame] = []
      for id in [UInt32(1), 3, 5] {
        frames.append(.headers(streamID: id, HeadersPayload(path: Self.echoGet), endStream: false))
        frames.append(.message(streamID: id, RawConnection.echoRequest(delayMs: 300), endMessage: true, endStream: true))
      }
      try await raw.send(frames)
      let received = try await raw.waitFor { $0.trailers(on: 1) != nil && $0.trailers(on: 3) != nil && $0.reset(on: 5) != nil }
      #expect(received.reset(on: 5)?.code == UInt32(WireStatus.resourceExhausted))
      #expect(received.trailers(on: 1)?.code == 0)
      #expect(received.trailers(on: 3)?.code == 0)
      await raw.close()
    }
  }

  @Test("a reader that stops reading holds the server to one window of data")
  func slowReaderBoundsMemory() async throws {
    try await EchoHarness.withServer { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      // 100,000 responses of 16 KiB: 1.6 GB if nothing held the server back.
      try await raw.send([
        .headers(streamID: 1, HeadersPayload(path: Self.echoExpand), endStream: false),
        .message(streamID: 1, RawConnection.echoRequest(count: 100_000, payloadSize: 16 * 1024), endMessage: true, endStream: true),
      ])
      let window = Int(ConnectionSettings().initialStreamWindow)
      // Wait until the server has filled the window (slowly on a loaded machine), then a while more.
      try await raw.waitFor(timeout: .seconds(20)) { $0.messageBytes(on: 1) >= window }
      try await Task.sleep(for: .milliseconds(300))
      let bytes = raw.frames.messageBytes(on: 1)
      #expect(bytes == window)
      let written = harness.echo.snapshot.responsesWritten
      // The handler is parked in write(): only about a window's worth of responses were made.
      #expect(written < window / (16 * 1024) + 4)
      // Granting more window lets it continue.
      try await raw.send([.windowUpdate(streamID: 1, increment: UInt32(window)), .windowUpdate(streamID: 0, increment: UInt32(window))])
      try await raw.waitFor { $0.messageBytes(on: 1) > window }
      #expect(raw.frames.messageBytes(on: 1) > window)
      await raw.close()
    }
  }

  @Test("a malformed frame resets only its stream; unknown frames are skipped")
  func malformedStream() async throws {
    try await EchoHarness.withServer { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      var bad = ByteBuffer()
      bad.writeInteger(UInt32(3))
      bad.writeInteger(FrameType.headers.rawValue)
      bad.writeInteger(UInt8(0))
      bad.writeInteger(UInt16(0))
      bad.writeInteger(UInt32(1))
      bad.writeBytes([0, 9, 0x2F])
      try await raw.sendRaw(Array(bad.readableBytesView))
      try await raw.send([
        .unknown(type: 0x77, flags: 0, streamID: 0, payload: ByteBuffer(bytes: [1, 2, 3])),
        .headers(streamID: 3, HeadersPayload(path: Self.echoGet), endStream: false),
        .message(streamID: 3, RawConnection.echoRequest(text: "ok"), endMessage: true, endStream: true),
      ])
      let frames = try await raw.waitFor { $0.trailers(on: 3) != nil }
      #expect(frames.reset(on: 1) != nil)
      #expect(frames.trailers(on: 3)?.code == 0)
      #expect(frames.goAway == nil)
      await raw.close()
    }
  }

  @Test("a broken connection gets GOAWAY with a reason and is closed; other clients see nothing")
  func connectionErrorGoAway() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var request = Banjie_V1_EchoRequest()
        request.text = "before"
        #expect(try await echo.get(request).text == "before")

        let raw = try await RawConnection.connect(port: harness.port)
        // Stream id reuse: 5 then 3.
        try await raw.send([
          .headers(streamID: 5, HeadersPayload(path: Self.echoGet), endStream: true),
          .headers(streamID: 3, HeadersPayload(path: Self.echoGet), endStream: true),
        ])
        let frames = try await raw.waitFor { $0.goAway != nil }
        #expect(frames.goAway?.0 == .protocolError)
        #expect(try await raw.waitUntilClosed())

        request.text = "after"
        #expect(try await echo.get(request).text == "after")
      }
    }
  }

  @Test("a PING flood is answered by GOAWAY ENHANCE_YOUR_CALM")
  func pingFlood() async throws {
    try await EchoHarness.withServer { harness in
      let raw = try await RawConnection.connect(port: harness.port)
      try await raw.send((0..<50).map { .ping(ack: false, opaque: UInt64($0)) })
      let frames = try await raw.waitFor { $0.goAway != nil }
      #expect(frames.goAway?.0 == .enhanceYourCalm)
      #expect(try await raw.waitUntilClosed())
    }
  }

  @Test("a connection that never sends its preface is dropped after the SETTINGS timeout")
  func silentConnection() async throws {
    try await EchoHarness.withServer(configure: { $0.transport.settingsTimeout = .milliseconds(300) }) { harness in
      let raw = try await RawConnection.connect(port: harness.port, sendPreface: false)
      #expect(try await raw.waitUntilClosed())
    }
  }

  @Test("bytes that are not TLS are dropped; a client connected at the same time sees nothing")
  func plainTextDropped() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var request = Banjie_V1_EchoRequest()
        request.text = "during"
        #expect(try await echo.get(request).text == "during")
        let raw = try await RawConnection.connect(port: harness.port, tls: false, sendPreface: false)
        try await raw.sendRaw(Array("GET / HTTP/1.1\r\nHost: banjie\r\n\r\n".utf8))
        #expect(try await raw.waitUntilClosed())
        #expect(raw.frames.isEmpty)
        #expect(try await echo.get(request).text == "during")
      }
    }
  }

  @Test("a client certificate from another CA cannot call")
  func strangerRefused() async throws {
    try await EchoHarness.withServer { harness in
      do {
        try await harness.withClient(stranger: true) { echo in
          _ = try await echo.get(Banjie_V1_EchoRequest())
        }
        Issue.record("a certificate from another CA was accepted")
      } catch let error as RPCError {
        #expect(error.code == .unavailable)
      }
    }
  }
}

@Suite("Transport: ending calls early", .timeLimit(.minutes(10)))
struct EarlyEndTests {
  @Test("a client that stops reading a server stream early ends the call, and the handler stops")
  func stopReadingEarly() async throws {
    try await EchoHarness.withServer { harness in
      try await harness.withClient { echo in
        var request = Banjie_V1_EchoRequest()
        request.count = 1_000_000
        request.payload = Data(repeating: 1, count: 1024)
        let first = try await echo.expand(request) { response in
          for try await message in response.messages { return message.index }
          return UInt32.max
        }
        // The call returned after the first message: the client did not have to read the other
        // 999,999 (how long that took is not a test's business; the count below is).
        #expect(first == 0)
        // The handler is not left writing into a stream nobody reads.
        let deadline = ContinuousClock.now + .seconds(5)
        var before = harness.echo.snapshot.responsesWritten
        while ContinuousClock.now < deadline {
          try await Task.sleep(for: .milliseconds(200))
          let now = harness.echo.snapshot.responsesWritten
          if now == before { break }
          before = now
        }
        #expect(harness.echo.snapshot.responsesWritten < 1_000_000)
      }
    }
  }
}
