import BanjieWire
import Foundation
import GRPCCore
import Logging
import Synchronization
import Testing

@testable import BanjieTransport

/// Every line a transport logs, with its logger's metadata merged in.
final class TransportLogCapture: Sendable {
  struct Line: Sendable {
    var message: String
    var metadata: [String: String]
  }

  private let lines = Mutex<[Line]>([])

  var logger: Logger {
    var logger = Logger(label: "transport-test") { _ in Handler(capture: self) }
    logger.logLevel = .trace
    return logger
  }

  var all: [Line] { self.lines.withLock { $0 } }

  fileprivate func append(_ line: Line) {
    self.lines.withLock { $0.append(line) }
  }

  struct Handler: LogHandler {
    let capture: TransportLogCapture
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { self.metadata[key] }
      set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
      self.capture.append(Line(message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
  }
}

@Suite("Transport logs quote what a peer sent escaped", .timeLimit(.minutes(10)))
struct LogEscapingTransportTests {
  @Test("a method path and a GOAWAY reason with a newline and an escape sequence are logged escaped, one line each")
  func peerTextEscaped() async throws {
    let capture = TransportLogCapture()
    // The server transport escapes through whatever logger it is given.
    try await EchoHarness.withServer(configure: { $0.logger = capture.logger }) { h in
      let connection = try await RawConnection.connect(port: h.port)
      try await connection.send([.headers(streamID: 1, HeadersPayload(path: "/banjie.v1.Echo\nINJECTED/\u{1B}[31mGet"), endStream: true)])
      let frames = try await connection.waitFor { $0.reset(on: 1) != nil || $0.goAway != nil }
      #expect(frames.reset(on: 1) != nil)
      try await connection.send([.goAway(lastStreamID: 0, code: .protocolError, message: "bye\nINJECTED level=critical \u{1B}[2J")])
      let deadline = ContinuousClock.now + .seconds(60)
      while !capture.all.contains(where: { $0.message == "peer sent GOAWAY" }), ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
      }
      await connection.close()
    }
    let lines = capture.all
    let malformed = lines.first { $0.message == "malformed frame" }
    // Values with spaces, `=` or quotes are quoted (their own quotes escaped), so that no value
    // can pass for a field of its own.
    #expect(malformed?.metadata["reason"]?.contains(#"path \"/banjie.v1.Echo\nINJECTED/\u{1B}[31mGet\" is not"#) == true)
    let goAway = lines.first { $0.message == "peer sent GOAWAY" }
    #expect(goAway?.metadata["reason"] == #""bye\nINJECTED level=critical \u{1B}[2J""#)
    for line in lines {
      var texts = [line.message]
      texts += line.metadata.keys
      texts += line.metadata.values
      for text in texts {
        let raw = text.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.isBidiControl }
        #expect(!raw, "\(line.message): \(text.debugDescription)")
      }
    }
  }
}
