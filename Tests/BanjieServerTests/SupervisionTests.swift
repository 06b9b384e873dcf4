import BanjieCore
import BanjieProto
import BanjieServer
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import SwiftProtobuf
import Testing

@testable import BanjieStore

extension ServerHarness {
  func supervision<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_SupervisionService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_SupervisionService.Client(wrapping: $0)) }
  }

  /// The audit actions written about one supervision order, oldest first.
  func supervisionAudit(_ number: String) async throws -> [String] {
    try self.database { db in
      try String.fetchAll(
        db, sql: "SELECT action FROM audit_log WHERE entity = 'supervision' AND entity_id = ? ORDER BY id", arguments: [number])
    }
  }

  /// Rows of the supervision tables and audit rows about them: what a refused request must leave at zero.
  func supervisionFootprint() async throws -> [Int] {
    try self.database { db in
      [
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM supervision_orders") ?? -1,
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM supervision_number_sequences") ?? -1,
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE entity = 'supervision'") ?? -1,
      ]
    }
  }
}

extension Banjie_V1_IssueSupervisionRequest {
  static func onCase(_ number: String, action: String = "限期作出受理决定并报告办理结果", days: UInt32 = 0, department: String = "")
    -> Self
  {
    .with {
      $0.caseNumber = number
      $0.requiredAction = action
      $0.limitWorkingDays = days
      $0.departmentCode = department
    }
  }
}

@Suite("督办 (supervision orders) end to end over real TLS", .timeLimit(.minutes(10)))
struct SupervisionServerTests {
  /// An accepted case of SCJGJ, received and accepted at the harness's start (Mon 2026-11-30 09:30).
  static func openCase(_ h: ServerHarness) async throws -> String {
    try await h.cases(.clerk, "SCJGJ", "张伟") { cases in
      let n = try await cases.submitCase(.sample()).number
      _ = try await cases.acceptCase(.number(n))
      return n
    }
  }

  @Test("issue → reply with evidence → sent back → reply → close, each step audited")
  func fullFlow() async throws {
    try await ServerHarness.run { h in
      let caseNumber = try await Self.openCase(h)
      let issued = try await h.supervision { s in
        try await s.issue(.onCase(caseNumber, days: 3), metadata: ["idempotency-key": "db-1"])
      }
      #expect(issued.number == "DB-370830-20261130-0001")
      #expect(issued.subjectKind == "case")
      #expect(issued.subjectNumber == caseNumber)
      #expect(issued.departmentCode == "SCJGJ")  // the case's own department
      #expect(issued.state == .open)
      #expect(issued.limitWorkingDays == 3)
      #expect(issued.issuedBy.contains("李明"))
      #expect(issued.dueAt.date == shanghai("2026-12-03T17:00:00"))
      #expect(issued.sla.colour == .green)
      #expect(issued.version == 1)
      // A retry with the same key answers the first order and writes nothing more.
      let retried = try await h.supervision { s in
        try await s.issue(.onCase(caseNumber, days: 3), metadata: ["idempotency-key": "db-1"])
      }
      #expect(retried.number == issued.number)
      #expect(try await h.supervisionFootprint()[0] == 1)

      let n = issued.number
      // Closing or sending back an order nobody replied to is refused.
      try await h.supervision { s in
        let early = await rpcError { _ = try await s.close(.with { $0.number = n }) }
        #expect(early?.code == .failedPrecondition)
        #expect(errorField(early) == "state")
        let reopenEarly = await rpcError {
          _ = try await s.reopen(
            .with {
              $0.number = n
              $0.reason = "尚未答复"
            })
        }
        #expect(reopenEarly?.code == .failedPrecondition)
      }
      h.clock.set(shanghai("2026-12-01T10:00:00"))
      let replied = try await h.supervision(.clerk, "SCJGJ", "张伟") { s in
        try await s.reply(
          .with {
            $0.number = n
            $0.reply = "已于12月1日作出受理决定"
            $0.evidence = "受理通知书 汶市监受〔2026〕88号"
          })
      }
      #expect(replied.state == .replied)
      #expect(replied.repliedBy.contains("张伟"))
      #expect(replied.evidence.contains("88号"))
      #expect(replied.sla.completed && replied.sla.completedOnTime)
      #expect(replied.version == 2)

      try await h.supervision { s in
        // Sent back: OPEN again, on the original deadline, the last reply kept for reference.
        let reopened = try await s.reopen(
          .with {
            $0.number = n
            $0.reason = "未附决定书扫描件"
          })
        #expect(reopened.state == .open)
        #expect(reopened.reopenReason == "未附决定书扫描件")
        #expect(!reopened.hasRepliedAt)
        #expect(reopened.reply == "已于12月1日作出受理决定")
        #expect(reopened.dueAt == issued.dueAt)
        #expect(!reopened.sla.completed)
        #expect(reopened.version == 3)
      }
      try await h.supervision(.clerk, "SCJGJ", "张伟") { s in
        let conflict = await rpcError {
          _ = try await s.reply(
            .with {
              $0.number = n
              $0.reply = "补充材料"
              $0.expectedVersion = 1
            })
        }
        #expect(conflict?.code == .aborted)
        _ = try await s.reply(
          .with {
            $0.number = n
            $0.reply = "已补充决定书扫描件"
            $0.evidence = "附件：决定书.pdf"
            $0.expectedVersion = 3
          })
      }
      let closed = try await h.supervision { s in
        try await s.close(
          .with {
            $0.number = n
            $0.note = "答复属实，予以办结"
          })
      }
      #expect(closed.state == .closed)
      #expect(closed.hasClosedAt)
      #expect(closed.closedBy.contains("李明"))
      #expect(!closed.hasSla)
      #expect(closed.version == 5)
      // Nothing follows CLOSED.
      try await h.supervision(.clerk, "SCJGJ", "张伟") { s in
        let again = await rpcError {
          _ = try await s.reply(
            .with {
              $0.number = n
              $0.reply = "再次答复"
            })
        }
        #expect(again?.code == .failedPrecondition)
        // The department reads its own orders.
        #expect(try await s.get(.with { $0.number = n }).state == .closed)
        let listed = try await s.list(.init())
        #expect(listed.orders.map(\.number) == [n])
      }
      #expect(
        try await h.supervisionAudit(n) == [
          "supervision.issue", "supervision.reply", "supervision.reopen", "supervision.reply", "supervision.close",
        ])
      let chain = try h.database { db in try AuditLog.verify(db) }
      #expect(chain.ok)
      try await h.supervision { s in
        let closedOnes = try await s.list(.with { $0.states = [.closed] })
        #expect(closedOnes.total == 1)
        #expect(try await s.list(.with { $0.states = [.open] }).total == 0)
        #expect(try await s.list(.with { $0.subjectNumber = caseNumber }).total == 1)
        #expect(try await s.list(.with { $0.subjectKind = "demand" }).total == 0)
      }
    }
  }

  @Test("an order turns yellow, then red and is escalated to the office once; the dashboard counts it")
  func coloursAndEscalation() async throws {
    try await ServerHarness.run { h in
      let uscc = testUSCC(2001)
      try await h.enterprises { e in _ = try await e.registerEnterprise(.sample(uscc)) }
      let demand = try await h.enterprises(.enterprise, uscc, "张总") { e in
        try await e.raiseDemand(.with { $0.demand = .sample() }).number
      }
      // Mon 2026-11-30 09:30 with 2 working days: due Wed 12-02 17:00 (20.5 working hours).
      let n = try await h.supervision { s in
        try await s.issue(
          .with {
            $0.demandNumber = demand
            $0.requiredAction = "约谈企业并明确用地手续办理路径"
            $0.limitWorkingDays = 2
          }
        ).number
      }
      func supervisionAlerts() async throws -> [AlertRecord] {
        try await h.environment.sweep().filter { $0.kind.hasPrefix("supervision.") }
      }
      h.clock.set(shanghai("2026-12-01T16:00:00"))
      #expect(try await supervisionAlerts().isEmpty)
      h.clock.set(shanghai("2026-12-02T14:00:00"))  // 17.5 of 20.5 h
      let yellow = try await supervisionAlerts()
      #expect(yellow.map(\.kind) == ["supervision.yellow"])
      #expect(yellow.first?.departmentCode == "ZRZYJ")
      #expect(yellow.first?.subject == "supervision \(n)")
      h.clock.set(shanghai("2026-12-02T17:00:01"))
      let red = try await supervisionAlerts()
      #expect(red.map(\.kind) == ["supervision.red", "supervision.escalated"])
      #expect(red.allSatisfy { $0.departmentCode == "ZRZYJ" && $0.colour == .red })
      #expect(red.last?.message.contains("escalated to the office") == true)
      #expect(red.last?.message.contains(demand) == true)
      #expect(try await supervisionAlerts().isEmpty)  // raised once
      #expect(
        try await h.supervisionAudit(n) == ["supervision.issue", "supervision.colour", "supervision.colour", "supervision.escalate"])

      // The office sees every alert; the department's clerks see theirs; another department's do not.
      let office = try await h.environment.store.alerts(afterID: 0, department: nil).map(\.kind)
      #expect(office.contains("supervision.escalated"))
      let own = try await h.environment.store.alerts(afterID: 0, department: "ZRZYJ").map(\.kind)
      #expect(own.contains("supervision.escalated"))
      let other = try await h.environment.store.alerts(afterID: 0, department: "SCJGJ").map(\.kind)
      #expect(!other.contains("supervision.escalated"))

      let shown = try await h.supervision { s in try await s.get(.with { $0.number = n }) }
      #expect(shown.colour == .red)
      #expect(shown.sla.overdue)
      #expect(shown.escalatedAt.date == shanghai("2026-12-02T17:00:01"))
      try await h.supervision { s in
        do {
          let value = try await s.list(.with { $0.colours = [.red] }).orders.map(\.number)
          #expect(value == [n])
        }
        do {
          let value = try await s.list(.with { $0.colours = [.green, .yellow] }).total
          #expect(value == 0)
        }
      }

      // The dashboard row: open / overdue, for the county and for the addressee department.
      let request = DashboardTests.request("2026-11-30", "2026-12-02")
      let county = try await h.dashboard { try await $0.getDashboard(request) }
      #expect((county.openSupervisions, county.overdueSupervisions) == (1, 1))
      let scoped = try await h.dashboard(.clerk, "ZRZYJ", "孙丽") { try await $0.getDashboard(request) }
      #expect((scoped.openSupervisions, scoped.overdueSupervisions) == (1, 1))
      let elsewhere = try await h.dashboard(.clerk, "SCJGJ", "张伟") { try await $0.getDashboard(request) }
      #expect((elsewhere.openSupervisions, elsewhere.overdueSupervisions) == (0, 0))

      // A late reply stops the clock (green, not on time); sent back, it is red again at once,
      // and not escalated a second time.
      h.clock.set(shanghai("2026-12-03T09:30:00"))
      let late = try await h.supervision(.clerk, "ZRZYJ", "孙丽") { s in
        try await s.reply(
          .with {
            $0.number = n
            $0.reply = "已约谈企业，明确了用地手续"
          })
      }
      #expect(late.colour == .green)
      #expect(late.sla.completed && !late.sla.completedOnTime)
      let afterReply = try await h.dashboard { try await $0.getDashboard(request) }
      #expect((afterReply.openSupervisions, afterReply.overdueSupervisions) == (0, 0))
      let sentBack = try await h.supervision { s in
        try await s.reopen(
          .with {
            $0.number = n
            $0.reason = "未说明办理时限"
          })
      }
      #expect(sentBack.state == .open)
      #expect(sentBack.colour == .red)
      #expect(try await supervisionAlerts().isEmpty)
      let dashboard = try await h.dashboard { try await $0.getDashboard(request) }
      #expect((dashboard.openSupervisions, dashboard.overdueSupervisions) == (1, 1))
    }
  }

  @Test("only the office issues, closes and reopens; only the addressee department replies; enterprises and liaisons see nothing")
  func authorization() async throws {
    try await ServerHarness.run { h in
      let caseNumber = try await Self.openCase(h)
      let n = try await h.supervision { try await $0.issue(.onCase(caseNumber)).number }
      let footprint = try await h.supervisionFootprint()
      // Another department's clerk: may not reply, read or list this department's orders.
      try await h.supervision(.clerk, "ZJJ", "周敏") { s in
        let reply = await rpcError {
          _ = try await s.reply(
            .with {
              $0.number = n
              $0.reply = "越权答复"
            })
        }
        #expect(reply?.code == .permissionDenied)
        #expect(reply?.message.contains("SCJGJ") == true)
        #expect(await rpcError { _ = try await s.get(.with { $0.number = n }) }?.code == .permissionDenied)
        #expect(await rpcError { _ = try await s.list(.with { $0.departmentCode = "SCJGJ" }) }?.code == .permissionDenied)
        do {
          let value = try await s.list(.init()).total
          #expect(value == 0)
        }
      }
      // The addressee's clerk may not act as the office.
      try await h.supervision(.clerk, "SCJGJ", "张伟") { s in
        #expect(await rpcError { _ = try await s.issue(.onCase(caseNumber)) }?.code == .permissionDenied)
        #expect(await rpcError { _ = try await s.close(.with { $0.number = n }) }?.code == .permissionDenied)
        #expect(
          await rpcError {
            _ = try await s.reopen(
              .with {
                $0.number = n
                $0.reason = "x"
              })
          }?.code == .permissionDenied)
      }
      // The office does not reply in a department's place.
      try await h.supervision { s in
        #expect(
          await rpcError {
            _ = try await s.reply(
              .with {
                $0.number = n
                $0.reply = "代答复"
              })
          }?.code == .permissionDenied)
      }
      let uscc = testUSCC(2002)
      try await h.enterprises { e in _ = try await e.registerEnterprise(.sample(uscc)) }
      for (role, org, person) in [(PeerIdentity.Role.enterprise, uscc, "张总"), (.liaison, "南旺镇人民政府", "王强")] {
        try await h.supervision(role, org, person) { s in
          #expect(await rpcError { _ = try await s.issue(.onCase(caseNumber)) }?.code == .permissionDenied)
          #expect(await rpcError { _ = try await s.get(.with { $0.number = n }) }?.code == .permissionDenied)
          #expect(await rpcError { _ = try await s.list(.init()) }?.code == .permissionDenied)
          #expect(
            await rpcError {
              _ = try await s.reply(
                .with {
                  $0.number = n
                  $0.reply = "企业答复"
                })
            }?.code == .permissionDenied)
        }
      }
      #expect(try await h.supervisionFootprint() == footprint)
      #expect(try await h.supervisionAudit(n) == ["supervision.issue"])
    }
  }

  @Test("a 督办 on finished or missing work, or with bad fields, is refused naming the field, and nothing is written")
  func refusals() async throws {
    try await ServerHarness.run { h in
      let (completed, withdrawn, received) = try await h.cases(.clerk, "SCJGJ", "张伟") { cases in
        let a = try await cases.submitCase(.sample()).number
        _ = try await cases.acceptCase(.number(a))
        _ = try await cases.completeCase(.number(a) { $0.outcome = "approved" })
        let b = try await cases.submitCase(.sample()).number
        _ = try await cases.withdrawCase(.number(b) { $0.note = "申请人撤回" })
        let c = try await cases.submitCase(.sample()).number
        return (a, b, c)
      }
      try await h.supervision { s in
        let done = await rpcError { _ = try await s.issue(.onCase(completed)) }
        #expect(done?.code == .failedPrecondition)
        #expect(errorField(done) == "case_number")
        #expect(done?.message.contains("COMPLETED") == true)
        let gone = await rpcError { _ = try await s.issue(.onCase(withdrawn)) }
        #expect(gone?.code == .failedPrecondition)
        #expect(errorField(gone) == "case_number")

        let refusals: [(String, RPCError.Code, Banjie_V1_IssueSupervisionRequest)] = [
          ("case_number", .notFound, .onCase("370830-20261130-999999")),
          (
            "demand_number", .notFound,
            .with {
              $0.demandNumber = "SQ-370830-20261130-9999"
              $0.requiredAction = "督办"
            }
          ),
          (
            "rectification_number", .notFound,
            .with {
              $0.rectificationNumber = "ZG-370830-20261130-000001"
              $0.requiredAction = "督办"
            }
          ),
          ("department_code", .invalidArgument, .onCase(received, department: "NOSUCHDEPT")),
          ("case_number", .invalidArgument, .with { $0.requiredAction = "督办" }),
          (
            "case_number", .invalidArgument,
            .with {
              $0.caseNumber = received
              $0.demandNumber = "SQ-1"
              $0.requiredAction = "督办"
            }
          ),
          ("required_action", .invalidArgument, .onCase(received, action: "  ")),
          ("limit_working_days", .invalidArgument, .onCase(received, days: 366)),
        ]
        for (field, code, request) in refusals {
          let error = await rpcError { _ = try await s.issue(request) }
          #expect(error?.code == code, "\(field): \(error?.message ?? "no error")")
          #expect(errorField(error) == field, "\(error?.message ?? "")")
        }
        do {
          let value = try await s.list(.init()).total
          #expect(value == 0)
        }
        #expect(await rpcError { _ = try await s.get(.with { $0.number = "DB-370830-20261130-0001" }) }?.code == .notFound)
      }
      #expect(try await h.supervisionFootprint() == [0, 0, 0])
      // The same case still in progress is accepted, and numbered from 0001: nothing was consumed.
      let issued = try await h.supervision { try await $0.issue(.onCase(received, department: "ZJJ")) }
      #expect(issued.number == "DB-370830-20261130-0001")
      #expect(issued.departmentCode == "ZJJ")
    }
  }
}
