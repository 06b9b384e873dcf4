import BanjieStore
import Foundation
import Testing

/// The audit chain hashes the text of each row's `at`: the format style made once must write
/// exactly what a per-call ISO8601DateFormatter wrote before it (docs/ARCHITECTURE.md, the audit log).
@Suite("Audit timestamps")
struct AuditTimestampTests {
  /// SplitMix64, so the dates are the same every run.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      self.state &+= 0x9E37_79B9_7F4A_7C15
      var z = self.state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  @Test("the same text as ISO8601DateFormatter for whole milliseconds from 1970 to 2100, and fixed examples")
  func sameText() {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    var generator = Generator(state: 2026)
    // What banjied stores: whole milliseconds (MillisecondNow), and deadlines on whole seconds.
    for _ in 0..<20_000 {
      let milliseconds = Int64.random(in: 0...4_102_444_800_000, using: &generator)
      let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
      #expect(AuditLog.timestamp(date) == formatter.string(from: date), "\(milliseconds) ms")
    }
    #expect(AuditLog.timestamp(Date(timeIntervalSince1970: 1_764_465_348.894)) == "2025-11-30T01:15:48.894Z")
    #expect(AuditLog.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    #expect(AuditLog.timestamp(Date(timeIntervalSince1970: 1_798_732_799)) == "2026-12-31T15:59:59.000Z")
  }
}
