import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import Testing

extension ServerHarness {
  func countersigns<R: Sendable>(
    _ role: PeerIdentity.Role = .clerk, _ org: String = "SCJGJ", _ person: String = "张伟",
    _ body: (Banjie_V1_CountersignService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_CountersignService.Client(wrapping: $0)) }
  }
}

extension Banjie_V1_RegisterCountersignRequest {
  static func draft(_ units: [String], title: String = "关于进一步优化营商环境的实施意见（征求意见稿）", length: UInt32 = 2800) -> Self {
    .with {
      $0.title = title
      $0.documentNumber = "汶政办字〔2026〕12号"
      $0.lengthCharacters = length
      $0.policy = true
      $0.units = units
    }
  }
}

/// 部门会签 (docs/DOMAIN.md §23) over real TLS, on a manual clock.
@Suite("Countersigning (部门会签) end to end over real TLS", .timeLimit(.minutes(10)))
struct CountersignTests {
  static func answer(_ number: String, _ answer: Banjie_V1_CountersignAnswer, _ text: String = "") -> Banjie_V1_AnswerCountersignRequest {
    .with {
      $0.number = number
      $0.answer = answer
      $0.text = text
    }
  }

  @Test("register → answers → complete: deadlines, authorization, audit rows; bad input writes nothing")
  func lifecycle() async throws {
    try await ServerHarness.run { h in
      // Mon 2026-11-30 09:30: 5 working days end Mon 2026-12-07 17:00.
      let draft = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ", "ZRZYJ"])) }
      #expect(draft.number.hasPrefix("HQ-370830-20261130-"))
      #expect(draft.state == "OPEN" && draft.leadUnit == "SCJGJ" && !draft.overLength)
      #expect(draft.units.map(\.unit) == ["ZJJ", "ZRZYJ"])
      for unit in draft.units {
        #expect(unit.limitWorkingDays == 5)
        #expect(unit.dueAt.date == shanghai("2026-12-07T17:00:00"))
        #expect(unit.colour == .green && unit.hasSla)
      }
      let n = draft.number

      // Bad registrations: each names `units` (or the reason), and nothing is written.
      let before = try h.rows("countersign_documents")
      let audit = try h.auditCount()
      for (units, code) in [
        (["ZJJ", "SCJGJ"], "countersign.lead_unit_listed"), (["XYZ"], "countersign.unknown_unit"), ([], "countersign.no_units"),
      ] {
        let refused = await rpcError { _ = try await h.countersigns { try await $0.registerCountersign(.draft(units)) } }
        #expect(refused?.code == .invalidArgument && errorField(refused) == "units", "\(units)")
        #expect(RatingPadTests.code(refused) == code)
      }
      let long = await rpcError { _ = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ"], length: 4200)) } }
      #expect(long?.code == .failedPrecondition && errorField(long) == "over_length_reason")
      #expect(try h.rows("countersign_documents") == before)
      #expect(try h.auditCount() == audit)
      // With the reason it goes ahead, flagged.
      var reasoned = Banjie_V1_RegisterCountersignRequest.draft(["ZJJ"], length: 4200)
      reasoned.overLengthReason = "实施细则须与意见一并印发"
      let flagged = try await h.countersigns { try await $0.registerCountersign(reasoned) }
      #expect(flagged.overLength && flagged.overLengthReason == "实施细则须与意见一并印发")

      // Who may answer: only a unit of the draft, once; the lead unit is no unit.
      let stranger = await rpcError {
        _ = try await h.countersigns(.clerk, "GAJ", "路人") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      }
      #expect(stranger?.code == .permissionDenied)
      // Refused as a stranger before anything about the draft (such as its version) is said.
      let staleStranger = await rpcError {
        _ = try await h.countersigns(.clerk, "GAJ", "路人") { client in
          var request = Self.answer(n, .agree)
          request.expectedVersion = 99
          return try await client.answerCountersign(request)
        }
      }
      #expect(staleStranger?.code == .permissionDenied)
      let lead = await rpcError { _ = try await h.countersigns { try await $0.answerCountersign(Self.answer(n, .agree)) } }
      #expect(lead?.code == .permissionDenied)
      let office = await rpcError {
        _ = try await h.countersigns(.office, "YSB", "李明") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      }
      #expect(office?.code == .permissionDenied)
      let bare = await rpcError {
        _ = try await h.countersigns(.clerk, "ZJJ", "赵建") { try await $0.answerCountersign(Self.answer(n, .disagree)) }
      }
      #expect(bare?.code == .invalidArgument && errorField(bare) == "text")
      h.clock.advance(seconds: 3600)
      let first = try await h.countersigns(.clerk, "ZJJ", "赵建") {
        try await $0.answerCountersign(Self.answer(n, .agreeWithComments, "第三条建议增加容缺受理内容"))
      }
      #expect(first.state == "OPEN")
      let zjj = try #require(first.units.first { $0.unit == "ZJJ" })
      #expect(zjj.answer == .agreeWithComments && zjj.onTime && zjj.hasAnsweredAt && !zjj.hasSla)
      let twice = await rpcError {
        _ = try await h.countersigns(.clerk, "ZJJ", "赵建") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      }
      #expect(twice?.code == .failedPrecondition)
      let done = try await h.countersigns(.clerk, "ZRZYJ", "孙丽") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      #expect(done.state == "COMPLETE" && done.hasCompletedAt)
      let late = await rpcError {
        _ = try await h.countersigns(.clerk, "ZRZYJ", "孙丽") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      }
      #expect(late?.code == .failedPrecondition)

      // Reading: the lead, the units and the office; nobody else.
      #expect(try await h.countersigns(.clerk, "ZJJ", "赵建") { try await $0.getCountersign(.with { $0.number = n }) }.number == n)
      let unseen = await rpcError {
        _ = try await h.countersigns(.clerk, "GAJ", "路人") { try await $0.getCountersign(.with { $0.number = n }) }
      }
      #expect(unseen?.code == .permissionDenied)
      let listed = try await h.countersigns(.clerk, "GAJ", "路人") { try await $0.listCountersigns(.with { _ in }) }
      #expect(listed.total == 0)
      let enterprise = await rpcError {
        _ = try await h.countersigns(.enterprise, testUSCC(1), "张总") { try await $0.listCountersigns(.with { _ in }) }
      }
      #expect(enterprise?.code == .permissionDenied)
      let actions = try h.database {
        try String.fetchAll(
          $0, sql: "SELECT action FROM audit_log WHERE entity = 'countersign' AND entity_id = ? ORDER BY id", arguments: [n])
      }
      #expect(actions == ["countersign.register", "countersign.answer", "countersign.answer"])
    }
  }

  @Test("a waiting unit turns yellow and red with alerts to it; the lead extends it with a reason; the dashboard counts it")
  func clockAlertsAndDashboard() async throws {
    try await ServerHarness.run { h in
      let n = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ", "ZRZYJ"])) }.number
      _ = try await h.countersigns(.clerk, "ZJJ", "赵建") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      func alerts() async throws -> [AlertRecord] { try await h.environment.sweep().filter { $0.kind.hasPrefix("countersign.") } }
      #expect(try await alerts().isEmpty)
      // Mon 2026-12-07 10:00: more than 80 % of the working time used.
      h.clock.set(shanghai("2026-12-07T10:00:00"))
      let yellow = try await alerts()
      #expect(yellow.map(\.kind) == ["countersign.yellow"] && yellow.first?.departmentCode == "ZRZYJ")
      #expect(try await alerts().isEmpty)
      h.clock.set(shanghai("2026-12-08T09:00:00"))
      let red = try await alerts()
      #expect(red.map(\.kind) == ["countersign.red"] && red.first?.departmentCode == "ZRZYJ")
      let stored = try await h.environment.store.alerts(afterID: 0, department: "ZRZYJ").map(\.kind)
      #expect(stored == ["countersign.yellow", "countersign.red"])
      #expect(try await h.environment.store.alerts(afterID: 0, department: "ZJJ").isEmpty)

      // The dashboard of the day: ZJJ answered on time; ZRZYJ waits, overdue.
      let board = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-12-08")) }
      let figures = Dictionary(uniqueKeysWithValues: board.countersigns.map { ($0.unit, $0) })
      // Independently, from the raw rows.
      let raw = try h.database { db in
        try Row.fetchAll(db, sql: "SELECT unit, due_at, answered_at FROM countersign_units").map {
          ($0["unit"] as String, $0["due_at"] as Date, $0["answered_at"] as Date?)
        }
      }
      let now = h.clock.now
      for unit in ["ZJJ", "ZRZYJ"] {
        let rows = raw.filter { $0.0 == unit }
        let answered = rows.filter { $0.2 != nil }
        #expect(figures[unit]?.answered == UInt32(answered.count), "\(unit)")
        let onTime = answered.filter { row in row.2.map { $0 <= row.1 } == true }
        #expect(figures[unit]?.onTime == UInt32(onTime.count), "\(unit)")
        #expect(figures[unit]?.waiting == UInt32(rows.count - answered.count), "\(unit)")
        #expect(figures[unit]?.overdue == UInt32(rows.filter { $0.2 == nil && $0.1 < now }.count), "\(unit)")
      }
      #expect(figures["ZRZYJ"]?.overdue == 1 && figures["ZJJ"]?.onTimeRate == 1)

      // Only the lead extends, by 1–30 working days, with a reason.
      func extend(_ org: String, days: UInt32 = 3, reason: String = "需提请局党组会研究") async -> Result<Banjie_V1_Countersign, RPCError> {
        do {
          return .success(
            try await h.countersigns(.clerk, org, "经办人") { client in
              try await client.extendCountersign(
                .with {
                  $0.number = n
                  $0.unit = "ZRZYJ"
                  $0.workingDays = days
                  $0.reason = reason
                })
            })
        } catch let error as RPCError { return .failure(error) } catch { return .failure(RPCError(code: .unknown, message: "\(error)")) }
      }
      if case .failure(let e) = await extend("ZJJ") { #expect(e.code == .permissionDenied) } else { Issue.record("a unit extended") }
      if case .failure(let e) = await extend("SCJGJ", reason: " ") {
        #expect(e.code == .invalidArgument)
      } else {
        Issue.record("extended without a reason")
      }
      if case .failure(let e) = await extend("SCJGJ", days: 31) {
        #expect(errorField(e) == "working_days")
      } else {
        Issue.record("extended by 31 days")
      }
      let extended = try await extend("SCJGJ").get()
      let zrzyj = try #require(extended.units.first { $0.unit == "ZRZYJ" })
      #expect(zrzyj.limitWorkingDays == 8 && zrzyj.extendedDays == 3)
      #expect(zrzyj.dueAt.date == shanghai("2026-12-10T17:00:00"))
      #expect(
        try h.database { try String.fetchOne($0, sql: "SELECT detail FROM audit_log WHERE action = 'countersign.extend'") }?.contains("党组会")
          == true)
      // Answered within the extension: on time.
      let done = try await h.countersigns(.clerk, "ZRZYJ", "孙丽") { try await $0.answerCountersign(Self.answer(n, .agree)) }
      #expect(done.units.allSatisfy(\.onTime) && done.state == "COMPLETE")
    }
  }

  @Test("the county setting sets the limit of drafts registered afterwards")
  func setting() async throws {
    try await ServerHarness.run { h in
      let before = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ"])) }
      _ = try await h.settings { client in
        try await client.setSetting(
          .with {
            $0.key = "countersign_limit_working_days"
            $0.value = "3"
          })
      }
      let bad = await rpcError {
        _ = try await h.settings { client in
          try await client.setSetting(
            .with {
              $0.key = "countersign_limit_working_days"
              $0.value = "31"
            })
        }
      }
      #expect(bad?.code == .invalidArgument)
      let after = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ"])) }
      #expect(before.units.first?.limitWorkingDays == 5 && after.units.first?.limitWorkingDays == 3)
      #expect(try await h.settings { try await $0.getSettings(.init()) }.countersignLimitWorkingDays == 3)
      // The draft registered before keeps its limit.
      let again = try await h.countersigns { try await $0.getCountersign(.with { $0.number = before.number }) }
      #expect(again.units.first?.limitWorkingDays == 5)
    }
  }
}
