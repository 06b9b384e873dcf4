import BanjieCore
import BanjieProto
import BanjieServer
import Foundation
import GRPCCore
import Logging
import Synchronization
import Testing

/// Keeps every log line, with its logger's metadata merged in, for a test to read.
final class LogCapture: Sendable {
  struct Line: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
  }

  private let lines = Mutex<[Line]>([])

  var logger: Logger {
    var logger = Logger(label: "banjied-test") { _ in Handler(capture: self) }
    logger.logLevel = .trace
    return logger
  }

  /// The lines logged since the last call, and forgets them.
  func take() -> [Line] {
    self.lines.withLock { lines in
      defer { lines = [] }
      return lines
    }
  }

  fileprivate func append(_ line: Line) {
    self.lines.withLock { $0.append(line) }
  }

  struct Handler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { self.metadata[key] }
      set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
      self.capture.append(Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
  }
}

@Suite("Request ids: on every log line of a call and back to the client", .timeLimit(.minutes(10)))
struct RequestLoggingTests {
  @Test("every line a call logs, in the interceptor and in the service, carries its request id; the client gets the id")
  func requestIDOnEveryLine() async throws {
    let capture = LogCapture()
    try await ServerHarness.run(logger: capture.logger) { h in
      _ = capture.take()
      try await h.cases { cases in
        // A mutation: the service logs what it did, the interceptor logs the call.
        let (number, submitID) = try await cases.submitCase(.sample()) { response in
          (try response.message.number, response.metadata[stringValues: "x-request-id"].first(where: { _ in true }))
        }
        let submitted = capture.take()
        let id = try #require(submitID)
        #expect(!id.isEmpty)
        #expect(submitted.contains { $0.message == "case submitted" && $0.metadata["case"] == number })
        #expect(submitted.contains { $0.message == "call" })
        Self.expectAll(submitted, carry: id, method: "banjie.v1.CaseService/SubmitCase")

        // A refused transition: a different id, on the error the client sees and on every line.
        let refused = await rpcError { _ = try await cases.completeCase(.number(number) { $0.outcome = "approved" }) }
        #expect(refused?.code == .failedPrecondition)
        let refusedID = try #require(refused?.metadata[stringValues: "x-request-id"].first(where: { _ in true }))
        #expect(refusedID != id)
        let refusedLines = capture.take()
        #expect(refusedLines.contains { $0.message == "call refused" })
        Self.expectAll(refusedLines, carry: refusedID, method: "banjie.v1.CaseService/CompleteCase")

        // An id the client chose is kept, so a window can quote its own.
        let accepted = try await cases.acceptCase(.number(number), metadata: ["x-request-id": "window-A03-0001"]) { response in
          response.metadata[stringValues: "x-request-id"].first(where: { _ in true })
        }
        #expect(accepted == "window-A03-0001")
        let acceptLines = capture.take()
        #expect(acceptLines.contains { $0.message == "case accept" && $0.metadata["state"] == "ACCEPTED" })
        Self.expectAll(acceptLines, carry: "window-A03-0001", method: "banjie.v1.CaseService/AcceptCase")
      }

      // A streaming call that fails after its headers went out: the failure line and the error carry the id too.
      try await h.as_(.clerk, "SCJGJ", "张伟") { client in
        let error = await rpcError {
          try await Banjie_V1_CertificateAdminService.Client(wrapping: client).backup(.init()) { response in
            for try await _ in response.messages {}
          }
        }
        #expect(error?.code == .permissionDenied)
        let backupID = try #require(error?.metadata[stringValues: "x-request-id"].first(where: { _ in true }))
        let lines = capture.take()
        #expect(lines.contains { $0.message == "call failed" })
        Self.expectAll(lines, carry: backupID, method: "banjie.v1.CertificateAdminService/Backup")
      }
    }
  }

  static func expectAll(_ lines: [LogCapture.Line], carry id: String, method: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!lines.isEmpty, sourceLocation: sourceLocation)
    for line in lines {
      #expect(line.metadata["request.id"] == id, "\(line.message)", sourceLocation: sourceLocation)
      #expect(line.metadata["rpc.method"] == method, "\(line.message)", sourceLocation: sourceLocation)
      #expect(line.metadata["caller"]?.hasPrefix("clerk:SCJGJ:") == true, "\(line.message)", sourceLocation: sourceLocation)
    }
  }
}
