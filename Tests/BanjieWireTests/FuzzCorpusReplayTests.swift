import BanjieWire
import BanjieWireFuzzSupport
import Foundation
import Testing

/// Replays the fuzz corpus (Fuzz/corpus, seeds and what libFuzzer found) through the same
/// checks the fuzz targets run (`WireFuzzChecks`), so that every input that once mattered keeps
/// being checked by the normal test suite, without the sanitizer build (scripts/fuzz.sh).
@Suite("Fuzz corpus replay")
struct FuzzCorpusReplayTests {
  static let corpus = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // BanjieWireTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // the package
    .appendingPathComponent("Fuzz/corpus")

  static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
    let directory = Self.corpus.appendingPathComponent(target)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
    return try names.map { name in
      (name, [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))))
    }
  }

  @Test("every frame input passes the decoder's invariants")
  func frames() throws {
    let inputs = try Self.inputs("frame")
    #expect(inputs.count >= 40)
    var types: [UInt8: Int] = [:]
    var malformed = 0
    var errors: Set<UInt32> = []
    for input in inputs {
      let report = WireFuzzChecks.checkFrames(input.bytes)
      #expect(report.violations.isEmpty, "\(input.name): \(report.violations)")
      types.merge(report.framesByType, uniquingKeysWith: +)
      malformed += report.malformed
      if let code = report.connectionError { errors.insert(code.rawValue) }
    }
    // The corpus reaches every frame type, unknown types, malformed frames and both
    // connection errors the decoder throws.
    for type in FrameType.allCases {
      #expect(types[type.rawValue, default: 0] > 0, "no \(type) frame in the corpus")
    }
    #expect(types.keys.contains { FrameType(rawValue: $0) == nil })
    #expect(malformed > 0)
    #expect(errors == [GoAwayCode.protocolError.rawValue, GoAwayCode.frameSizeError.rawValue])
  }

  @Test("every HEADERS / TRAILERS payload passes the payload invariants")
  func payloads() throws {
    let inputs = try Self.inputs("headers")
    #expect(inputs.count >= 20)
    var validHeaders = 0
    var validTrailers = 0
    var refused = 0
    for input in inputs {
      let report = WireFuzzChecks.checkPayloads(input.bytes)
      #expect(report.violations.isEmpty, "\(input.name): \(report.violations)")
      validHeaders += report.validHeaders
      validTrailers += report.validTrailers
      refused += report.refusedPayloads
    }
    #expect(validHeaders > 0)
    #expect(validTrailers > 0)
    #expect(refused > 0)
  }

  @Test(
    "the checks report what the decoder did",
    arguments: [
      ("seed-length-4gib", UInt32?.some(GoAwayCode.frameSizeError.rawValue), 0),
      ("seed-headers-on-stream-0", GoAwayCode.protocolError.rawValue, 0),
      ("seed-headers-upper-case-key", nil, 1),
      ("seed-call-response", nil, 0),
    ] as [(String, UInt32?, Int)])
  func reports(name: String, error: UInt32?, malformed: Int) throws {
    let bytes = [UInt8](try Data(contentsOf: Self.corpus.appendingPathComponent("frame/\(name)")))
    let report = WireFuzzChecks.checkFrames(bytes)
    #expect(report.connectionError?.rawValue == error)
    #expect(report.malformed == malformed)
    #expect(report.violations.isEmpty)
  }

  @Test("seeds sent back to back decode frame by frame under the same checks")
  func concatenated() throws {
    var stream: [UInt8] = []
    for name in ["seed-settings", "seed-headers-request", "seed-message-fragments", "seed-trailers-error", "seed-ignored-bits"] {
      stream += [UInt8](try Data(contentsOf: Self.corpus.appendingPathComponent("frame/\(name)")))
    }
    let report = WireFuzzChecks.checkFrames(stream)
    #expect(report.violations.isEmpty)
    #expect(report.framesByType.values.reduce(0, +) == 7)
    #expect(report.connectionError == nil)
  }
}
