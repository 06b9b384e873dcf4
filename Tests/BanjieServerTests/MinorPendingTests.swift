import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import GRPCProtobuf
import SwiftProtobuf
import Testing

/// 容缺受理 (docs/DOMAIN.md §20): accepting with non-essential materials pending.
@Suite("Acceptance with materials pending (容缺受理) over real TLS", .timeLimit(.minutes(10)))
struct MinorPendingTests {
  static let material = "食品安全管理制度"

  /// Submits an SCJGJ-003 case (allows 容缺) and accepts it with `material` pending for `days`.
  static func acceptPending(
    _ cases: Banjie_V1_CaseService.Client<BanjieClientTransport>, days: UInt32 = 0, materials: [String] = [material]
  ) async throws -> Banjie_V1_Case {
    let n = try await cases.submitCase(.sample()).number
    return try await cases.acceptCase(
      .number(n) {
        $0.pendingMaterials = materials
        $0.pendingWorkingDays = days
      })
  }

  @Test("accept with pending materials on an allowing item: the list, promise date and audit row")
  func acceptWithPending() async throws {
    try await ServerHarness.run { h in
      let accepted = try await h.cases { cases in
        // Spaced input is normalized and stored as the catalog spells it.
        try await Self.acceptPending(cases, days: 2, materials: ["  食品安全管理制度 "])
      }
      #expect(accepted.state == .accepted)
      #expect(accepted.pending.count == 1)
      let p = try #require(accepted.pending.first)
      #expect(p.material == Self.material)
      #expect(p.state == "PENDING")
      #expect(p.colour == .green)
      // Accepted Mon 2026-11-30 09:30, 2 working days: promised by Wed 2026-12-02 17:00.
      #expect(p.promisedBy.date == shanghai("2026-12-02T17:00:00"))
      // Default: 5 working days, like the item's own limit from the same instant.
      let defaulted = try await h.cases { try await Self.acceptPending($0) }
      #expect(defaulted.pending.first?.promisedBy.date == shanghai("2026-12-07T17:00:00"))

      let read = try await h.cases { try await $0.getCase(.with { $0.number = accepted.number }) }
      #expect(read.pending.map(\.material) == [Self.material])
      let audit = try h.database {
        try String.fetchOne(
          $0, sql: "SELECT detail FROM audit_log WHERE action = 'case.accept' AND entity_id = ?", arguments: [accepted.number])
      }
      #expect(audit?.contains(Self.material) == true)
      let history = try await h.cases { try await $0.getCaseHistory(.with { $0.number = accepted.number }) }
      #expect(history.events.last?.action == "accept")
      #expect(history.events.last?.note.contains(Self.material) == true)

      // A case accepted without pending materials shows none.
      let plain = try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        return try await cases.acceptCase(.number(n))
      }
      #expect(plain.pending.isEmpty)
    }
  }

  @Test("refused on an item that does not allow it, for a material not of the item, and bad days; nothing written")
  func refusals() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let n = try await cases.submitCase(.sample(item: "SCJGJ-004")).number
        let notAllowed = await rpcError {
          _ = try await cases.acceptCase(.number(n) { $0.pendingMaterials = ["产品合格证"] })
        }
        #expect(notAllowed?.code == .failedPrecondition)
        #expect(errorField(notAllowed) == "pending_materials")

        let m = try await cases.submitCase(.sample()).number
        let unknown = await rpcError {
          _ = try await cases.acceptCase(.number(m) { $0.pendingMaterials = ["户口簿"] })
        }
        #expect(unknown?.code == .invalidArgument)
        #expect(errorField(unknown) == "pending_materials")
        #expect(unknown?.message.contains("户口簿") == true)

        let badDays = await rpcError {
          _ = try await cases.acceptCase(
            .number(m) {
              $0.pendingMaterials = [Self.material]
              $0.pendingWorkingDays = 31
            })
        }
        #expect(badDays?.code == .invalidArgument)
        #expect(errorField(badDays) == "pending_working_days")

        for number in [n, m] {
          let value = try await cases.getCase(.with { $0.number = number })
          #expect(value.state == .received)
          #expect(value.version == 1)
          #expect(value.pending.isEmpty)
        }
      }
      #expect(try h.rows("case_pending_materials") == 0)
    }
  }

  @Test("approval is refused while a material is pending, naming it, and nothing is written; supplied, then approved")
  func approvalBlocked() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let accepted = try await Self.acceptPending(cases)
        let n = accepted.number
        let eventsBefore = try await cases.getCaseHistory(.with { $0.number = n }).events.count
        let auditBefore = try h.rows("audit_log")

        let refused = await rpcError { _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" }) }
        #expect(refused?.code == .failedPrecondition)
        #expect(errorField(refused) == "pending_materials")
        #expect(refused?.message.contains(Self.material) == true)
        let after = try await cases.getCase(.with { $0.number = n })
        #expect(after.state == .accepted)
        #expect(after.version == accepted.version)
        #expect(try await cases.getCaseHistory(.with { $0.number = n }).events.count == eventsBefore)
        #expect(try h.rows("audit_log") == auditBefore)

        let supplied = try await cases.recordMaterialsSupplied(
          .with {
            $0.number = n
            $0.materials = [Self.material]
            $0.expectedVersion = accepted.version
          })
        #expect(supplied.pending.first?.state == "SUPPLIED")
        #expect(supplied.version == accepted.version + 1)
        #expect(supplied.state == .accepted)
        // Twice is refused: it is no longer pending.
        let again = await rpcError {
          _ = try await cases.recordMaterialsSupplied(
            .with {
              $0.number = n
              $0.materials = [Self.material]
            })
        }
        #expect(again?.code == .failedPrecondition)
        #expect(errorField(again) == "materials")

        let completed = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
        #expect(completed.state == .completed)
        let history = try await cases.getCaseHistory(.with { $0.number = n })
        #expect(history.events.map(\.action).suffix(2) == ["materialsSupplied", "complete"])

        // Denial is allowed with materials still pending.
        let other = try await Self.acceptPending(cases)
        let denied = try await cases.completeCase(.number(other.number) { $0.outcome = "denied" })
        #expect(denied.state == .completed)
        #expect(denied.outcome == "denied")
      }
      let audit = try h.database {
        try String.fetchAll($0, sql: "SELECT action FROM audit_log WHERE action LIKE 'case.materials%'")
      }
      #expect(audit == ["case.materialsSupplied"])
    }
  }

  @Test("the office waives with a reason; a clerk may not waive, another department may not record supplied")
  func waive() async throws {
    try await ServerHarness.run { h in
      let accepted = try await h.cases { try await Self.acceptPending($0) }
      let n = accepted.number
      let request = Banjie_V1_MaterialsRequest.with {
        $0.number = n
        $0.materials = [Self.material]
        $0.reason = "已通过部门间共享核验"
      }
      let clerkWaive = await rpcError { _ = try await h.cases { try await $0.waiveMaterials(request) } }
      #expect(clerkWaive?.code == .permissionDenied)
      let otherDepartment = await rpcError {
        _ = try await h.cases(.clerk, "ZJJ", "赵六") { try await $0.recordMaterialsSupplied(request) }
      }
      #expect(otherDepartment?.code == .permissionDenied)
      let noReason = await rpcError {
        _ = try await h.cases(.office, "YSB", "李明") { cases in
          try await cases.waiveMaterials(
            .with {
              $0.number = n
              $0.materials = [Self.material]
            })
        }
      }
      #expect(noReason?.code == .invalidArgument)
      #expect(errorField(noReason) == "reason")

      let waived = try await h.cases(.office, "YSB", "李明") { try await $0.waiveMaterials(request) }
      #expect(waived.pending.first?.state == "WAIVED")
      #expect(waived.version == accepted.version + 1)
      let row = try h.database {
        try Row.fetchOne($0, sql: "SELECT state, waive_reason, resolved_by FROM case_pending_materials")
      }
      let state: String? = row?["state"]
      let reason: String? = row?["waive_reason"]
      let by: String? = row?["resolved_by"]
      #expect(state == "WAIVED")
      #expect(reason == "已通过部门间共享核验")
      #expect(by?.contains("李明") == true)
      let audit = try h.database {
        try String.fetchOne($0, sql: "SELECT detail FROM audit_log WHERE action = 'case.materialsWaived' AND entity_id = ?", arguments: [n])
      }
      #expect(audit?.contains("已通过部门间共享核验") == true)
      let completed = try await h.cases { try await $0.completeCase(.number(n) { $0.outcome = "approved" }) }
      #expect(completed.state == .completed)
    }
  }

  @Test("pending materials turn yellow and red on their own clock, with alerts to the case's department")
  func colours() async throws {
    try await ServerHarness.run { h in
      // Accepted Mon 2026-11-30 09:30, 2 working days: promised by Wed 2026-12-02 17:00.
      let accepted = try await h.cases { try await Self.acceptPending($0, days: 2) }
      let n = accepted.number
      var raised = try await h.environment.sweep().filter { $0.kind.hasPrefix("pending.") }
      #expect(raised.isEmpty)

      h.clock.set(shanghai("2026-12-02T16:00:00"))
      raised = try await h.environment.sweep().filter { $0.kind.hasPrefix("pending.") }
      #expect(raised.map(\.kind) == ["pending.yellow"])
      #expect(raised.first?.departmentCode == "SCJGJ")
      #expect(raised.first?.subject == "case \(n)")
      let yellow = try await h.cases { try await $0.getCase(.with { $0.number = n }) }
      #expect(yellow.pending.first?.colour == .yellow)
      // The case's own clock (5 working days) is still green.
      #expect(yellow.sla.colour == .green)
      // A second pass raises nothing new.
      #expect(try await h.environment.sweep().filter { $0.kind.hasPrefix("pending.") }.isEmpty)

      h.clock.set(shanghai("2026-12-03T09:30:00"))
      raised = try await h.environment.sweep().filter { $0.kind.hasPrefix("pending.") }
      #expect(raised.map(\.kind) == ["pending.red"])
      #expect(raised.first?.colour == .red)
      #expect(raised.first?.message.contains(Self.material) == true)
      let red = try await h.cases { try await $0.getCase(.with { $0.number = n }) }
      #expect(red.pending.first?.colour == .red)
      let audit = try h.database {
        try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'case.pendingColour' AND entity_id = ?", arguments: [n])
      }
      #expect(audit == 2)
      let stored = try h.database {
        try String.fetchAll($0, sql: "SELECT kind FROM alerts WHERE kind LIKE 'pending.%' ORDER BY id")
      }
      #expect(stored == ["pending.yellow", "pending.red"])
    }
  }
}
