import BanjieCore
import BanjieProto
import BanjieServer
import Foundation
import GRDB
import GRPCCore
import Testing

@testable import BanjieStore

/// A watcher that lost its connection resumes after the last alert it saw (WatchAlerts
/// `after_id`): every alert stored since then arrives once, in order, however many there are,
/// and only its department's.
@Suite("Alert resume")
struct AlertResumeTests {
  /// Stores `count` alerts alternating between two departments, as the sweeper would.
  static func storeAlerts(_ store: BanjieStore, count: Int) async throws {
    // On either engine (the server suites also run on PostgreSQL).
    try await store.mutate { sql in
      for i in 1...count {
        let alert = AlertRecord(
          id: nil, at: Date(timeIntervalSince1970: 1_764_550_000 + Double(i)), kind: "case.red", subject: "case \(i)",
          departmentCode: i % 2 == 0 ? "SCJGJ" : "ZRZYJ", colour: .red, message: "case \(i) is overdue")
        _ = try AlertRecord.insert(sql, alert)
      }
    }
  }

  @Test("a resumed watch gets every stored alert after its last one, past one page, once and in order")
  func resumeAcrossPages() async throws {
    try await ServerHarness.run { h in
      try await Self.storeAlerts(h.environment.store, count: 2 * 500 + 123)
      let ids = try await h.cases(.office, "YSB", "李明") { cases in
        try await cases.watchAlerts(
          .with {
            $0.afterID = 7
            $0.recentOnly = true
          }
        ) { response in
          var ids: [Int64] = []
          for try await alert in response.messages { ids.append(alert.id) }
          return ids
        }
      }
      #expect(ids == Array(8...1123))
      // A clerk resumes with its department's alerts only.
      let clerk = try await h.cases(.clerk, "SCJGJ", "张伟") { cases in
        try await cases.watchAlerts(
          .with {
            $0.afterID = 1000
            $0.recentOnly = true
          }
        ) { response in
          var ids: [Int64] = []
          for try await alert in response.messages { ids.append(alert.id) }
          return ids
        }
      }
      #expect(clerk == Array(stride(from: 1002, through: 1122, by: 2)))
      // A new watch without after_id does not replay history older than the last 24 hours.
      let fresh = try await h.cases(.office, "YSB", "李明") { cases in
        try await cases.watchAlerts(.with { $0.recentOnly = true }) { response in
          var count = 0
          for try await _ in response.messages { count += 1 }
          return count
        }
      }
      #expect(fresh == 0)
    }
  }
}
