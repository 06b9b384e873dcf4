import BanjieCore
import BanjieProto
import Foundation
import GRPCCore
import Logging
import Synchronization
import Testing

@testable import BanjieServer
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

  /// What `body` answers, or nil when it has not answered within `limit` (then it is cancelled).
  static func first<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async -> T?) async -> T? {
    await withTaskGroup(of: T?.self) { group in
      group.addTask { await body() }
      group.addTask {
        try? await Task.sleep(for: limit)
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first
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

  @Test("what one node does reaches the other: a revocation is refused there, an alert reaches its watchers once, a new clock is in force")
  func changesReachTheOtherNode() async throws {
    try await Self.twoNodes { a, b in
      // Node B follows the others as `banjied serve` makes it do.
      let follower = Task {
        try await OtherNodesService(environment: b.environment, logger: Logger(label: "test")).run()
      }
      defer { follower.cancel() }
      let (subscription, alerts) = b.environment.alerts.subscribe()
      defer { b.environment.alerts.unsubscribe(subscription) }
      // The listener is up when a first change sent by A is heard on B.
      let office = Actor(role: .office, organization: "YSB", person: "李明", certificateSerial: "01")
      // The bounds below are generous (CI runs every suite at once on two cores); they are
      // bounds, not measurements: tests assert no timings.
      let deadline = ContinuousClock.now + .seconds(60)
      var warmedUp = false
      var n = 0
      while !warmedUp && ContinuousClock.now < deadline {
        n += 1
        _ = try await a.environment.store.revoke(serial: String(format: "ABC%04X", n), reason: "预热", actor: office, now: a.clock.now)
        try await Task.sleep(for: .milliseconds(200))
        warmedUp = b.environment.revocations.isRevoked(String(format: "ABC%04X", n))
      }
      #expect(warmedUp, "node B never heard node A's revocations")

      // A revocation made on A: refused on B.
      let serial = "DEADBEEF01"
      let revokedAt = ContinuousClock.now
      _ = try await a.environment.store.revoke(serial: serial, reason: "证书遗失", actor: office, now: a.clock.now)
      while !b.environment.revocations.isRevoked(serial) && ContinuousClock.now - revokedAt < .seconds(60) {
        try await Task.sleep(for: .milliseconds(20))
      }
      #expect(b.environment.revocations.isRevoked(serial))

      // An alert A raises (as its sweeper does): B's watchers get it once, with its stored id.
      let raised = try await a.environment.store.mutate { sql in
        try AlertRecord.insert(
          sql,
          AlertRecord(
            id: nil, at: a.clock.now, kind: "case.red", subject: "case 370830-20261130-000001", departmentCode: "SCJGJ", colour: .red,
            message: "overdue"))
      }
      let received = await Self.first(within: .seconds(60)) { () async -> AlertRecord? in
        for await alert in alerts where alert.id == raised { return alert }
        return nil
      }
      #expect(received?.subject == "case 370830-20261130-000001")
      // Published again (B hearing it twice, or B's own sweep finding it): watchers see it once.
      if let received { b.environment.publish([received]) }
      let (second, again) = b.environment.alerts.subscribe()
      defer { b.environment.alerts.unsubscribe(second) }
      if let received { b.environment.publish([received]) }
      let duplicate = await Self.first(within: .milliseconds(300)) { () async -> Bool? in
        for await _ in again { return true }
        return nil
      }
      #expect(duplicate == nil)

      // A clock setting changed on A (the yellow threshold, through the RPC) is in force on B.
      #expect(b.environment.sla.yellowThreshold == 0.8)
      _ = try await a.settings { try await $0.setSetting(.of("yellow_threshold", "60%"), metadata: ["idempotency-key": "multi-yellow"]) }
      let setAt = ContinuousClock.now
      while b.environment.sla.yellowThreshold != 0.6 && ContinuousClock.now - setAt < .seconds(60) {
        try await Task.sleep(for: .milliseconds(20))
      }
      #expect(b.environment.sla.yellowThreshold == 0.6)
    }
  }
}
