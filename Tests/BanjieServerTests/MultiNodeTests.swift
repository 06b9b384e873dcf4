import BanjieCore
import BanjieProto
import BanjieServer
import Foundation
import GRPCCore
import Testing

@testable import BanjieStore

/// Several banjied nodes on one PostgreSQL database (issue 17; docs/SCALING.md): two real
/// servers, each with its own TLS listener and connections, serve the same county.
@Suite("Two banjied nodes on one PostgreSQL database", .timeLimit(.minutes(10)))
struct MultiNodeTests {
  /// Runs `body` with two nodes on one fresh database; the first loads the sample catalog.
  static func twoNodes(_ body: @Sendable (ServerHarness, ServerHarness) async throws -> Void) async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let url = location.description
    try await ServerHarness.run(configure: { $0.databasePath = url }) { a in
      try await ServerHarness.run(catalog: false, configure: { $0.databasePath = url }) { b in
        try await body(a, b)
      }
    }
  }

  @Test("8 clients over two nodes: the same keys on both, racing transitions; nothing lost or doubled, one chain, clean aggregates")
  func spreadLoad() async throws {
    try await Self.twoNodes { a, b in
      let nodes = [a, b]
      let keys = 24
      // Every key is sent to both nodes at once by two callers: one case per key, and both
      // callers get the same answer.
      let byKey = try await withThrowingTaskGroup(of: [(String, Banjie_V1_Case)].self) { group in
        for caller in 0..<8 {
          group.addTask {
            var mine: [(String, Banjie_V1_Case)] = []
            for round in 0..<(keys / 4) {
              let key = "multi-\((caller / 2) * (keys / 4) + round)"
              let node = nodes[caller % 2]
              let answer = try await node.cases { cases in
                try await cases.submitCase(.sample(applicant: "申请人\(key)"), metadata: ["idempotency-key": .string(key)])
              }
              mine.append((key, answer))
            }
            return mine
          }
        }
        var byKey: [String: [Banjie_V1_Case]] = [:]
        for try await answers in group { for (key, answer) in answers { byKey[key, default: []].append(answer) } }
        return byKey
      }
      #expect(byKey.count == keys)
      for (key, pair) in byKey {
        #expect(pair.count == 2, "\(key)")
        #expect(pair.first == pair.last, "\(key): the two nodes answered differently")
      }
      let numbers = byKey.values.compactMap { $0.first?.number }.sorted()
      #expect(Set(numbers).count == keys)
      // Case numbers of one day count up from 1 across both nodes, without a gap.
      #expect(numbers.map { $0.suffix(6) } == (1...keys).map { String(format: "%06d", $0) }.map { Substring($0) })

      // Racing transitions: each case accepted at the same moment on both nodes with the version
      // both read. One wins; the other is ABORTED (a stale version) and changes nothing.
      let outcomes = try await withThrowingTaskGroup(of: (String, RPCError.Code?).self) { group in
        for number in numbers.prefix(12) {
          for node in nodes {
            group.addTask {
              let code = await rpcError {
                _ = try await node.cases { try await $0.acceptCase(.number(number) { $0.expectedVersion = 1 }) }
              }?.code
              return (number, code)
            }
          }
        }
        var outcomes: [String: [RPCError.Code?]] = [:]
        for try await (number, code) in group { outcomes[number, default: []].append(code) }
        return outcomes
      }
      for (number, codes) in outcomes {
        #expect(codes.filter { $0 == nil }.count == 1, "\(number): \(codes)")
        #expect(codes.filter { $0 == .aborted }.count == 1, "\(number): \(codes)")
      }
      for number in numbers.prefix(12) {
        let read = try await b.cases { try await $0.getCase(.with { $0.number = number }) }
        #expect(read.state == .accepted && read.version == 2)
      }

      let store = a.environment.store
      #expect(try await store.verifyAudit().ok)
      let receipts = try a.database { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'case.receive'") }
      #expect(receipts == keys)
      let accepts = try a.database { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'case.accept'") }
      #expect(accepts == 12)
      #expect(try await store.dashboardAggregateDifferences() == [])
    }
  }
}
