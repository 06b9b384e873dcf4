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
  func targets<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_TargetService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_TargetService.Client(wrapping: $0)) }
  }
}

extension Banjie_V1_SetTargetRequest {
  static func target(_ department: String, _ measure: String, _ value: Double, year: UInt32 = 2026) -> Self {
    .with {
      $0.year = year
      $0.department = department
      $0.measure = measure
      $0.target = value
    }
  }
}

/// 年度目标与预警 (docs/DOMAIN.md §26) over real TLS, on a manual clock.
@Suite("Annual targets and early warning end to end over real TLS", .timeLimit(.minutes(10)))
struct TargetTests {
  @Test("only the office sets targets; bad targets are refused naming the field and write nothing; clerks read their own")
  func setAndRead() async throws {
    try await ServerHarness.run { h in
      let set = try await h.targets { try await $0.setTarget(.target("scjgj", "on_time_rate", 98)) }
      #expect(set.unit == "SCJGJ" && set.measure == "on_time_rate" && set.target == 98 && set.colour == .unspecified)
      #expect(!set.hasActual_p && set.expected == 98)
      _ = try await h.targets { try await $0.setTarget(.target("ZJJ", "按时办结率", 95)) }

      let before = try h.rows("annual_targets")
      let audit = try h.auditCount()
      for (request, field) in [
        (Banjie_V1_SetTargetRequest.target("SCJGJ", "on_time_rate", 101), "target"),
        (.target("SCJGJ", "review_score", 6), "target"),
        (.target("SCJGJ", "on_time_rate", 0), "target"),
        (.target("NOPE", "on_time_rate", 90), "department"),
        (.target("SCJGJ", "speed", 90), "measure"),
        (.target("SCJGJ", "on_time_rate", 90, year: 1999), "year"),
        (.target("不存在的包保单位", "visit_coverage", 90), "department"),
      ] {
        let refused = await rpcError { _ = try await h.targets { try await $0.setTarget(request) } }
        #expect(
          refused?.code == .invalidArgument && errorField(refused) == field, "\(request.department) \(request.measure) \(request.target)")
      }
      #expect(try h.rows("annual_targets") == before)
      #expect(try h.auditCount() == audit)

      let clerkSets = await rpcError {
        _ = try await h.targets(.clerk, "SCJGJ", "张伟") { try await $0.setTarget(.target("SCJGJ", "on_time_rate", 50)) }
      }
      #expect(clerkSets?.code == .permissionDenied)
      let enterprise = await rpcError {
        _ = try await h.targets(.enterprise, testUSCC(1), "张总") { try await $0.getTargetProgress(.with { _ in }) }
      }
      #expect(enterprise?.code == .permissionDenied)
      let other = await rpcError {
        _ = try await h.targets(.clerk, "SCJGJ", "张伟") { try await $0.getTargetProgress(.with { $0.department = "ZJJ" }) }
      }
      #expect(other?.code == .permissionDenied)
      let own = try await h.targets(.clerk, "SCJGJ", "张伟") { try await $0.getTargetProgress(.with { _ in }) }
      #expect(own.targets.map(\.unit) == ["SCJGJ"] && own.year == 2026)
      let all = try await h.targets { try await $0.getTargetProgress(.with { $0.year = 2026 }) }
      #expect(all.targets.map(\.unit) == ["SCJGJ", "ZJJ"])
      // Mon 30 November 2026: the progress counted independently from the notice.
      // 2026 has 248 working days (docs/DOMAIN.md §26); December has 23 weekdays and no holiday or
      // make-up day, so by Monday 30 November 225 have passed.
      #expect(all.workingDays == 248 && all.elapsedWorkingDays == 225)
      #expect(abs(all.timeProgress - 225.0 / 248) < 1e-12)

      // Replacing a target keeps one row and audits the previous value.
      _ = try await h.targets { try await $0.setTarget(.target("SCJGJ", "on_time_rate", 97.5)) }
      #expect(try h.rows("annual_targets") == before)
      let details = try h.database {
        try String.fetchAll($0, sql: "SELECT detail FROM audit_log WHERE action = 'target.set' ORDER BY id")
      }
      #expect(details.count == 3 && details.last?.contains("\"previous\":\"98\"") == true)
    }
  }

  @Test("a unit behind its target turns red with an alert to it, once; figures equal SQL over the raw rows; the dashboard shows them")
  func warning() async throws {
    try await ServerHarness.run { h in
      _ = try await h.targets { try await $0.setTarget(.target("ZJJ", "countersign_on_time_rate", 95)) }
      _ = try await h.targets { try await $0.setTarget(.target("ZRZYJ", "countersign_on_time_rate", 95)) }
      func targetAlerts() async throws -> [AlertRecord] { try await h.environment.sweep().filter { $0.kind.hasPrefix("target.") } }
      // Nothing measured yet: no warning.
      #expect(try await targetAlerts().isEmpty)

      // ZRZYJ answers on time; ZJJ answers after its 5 working days.
      let n = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ", "ZRZYJ"])) }.number
      _ = try await h.countersigns(.clerk, "ZRZYJ", "孙丽") { try await $0.answerCountersign(CountersignTests.answer(n, .agree)) }
      h.clock.set(shanghai("2026-12-08T10:00:00"))
      _ = try await h.countersigns(.clerk, "ZJJ", "赵建") { try await $0.answerCountersign(CountersignTests.answer(n, .agree)) }
      let alerts = try await targetAlerts()
      #expect(alerts.map(\.kind) == ["target.red"] && alerts.first?.departmentCode == "ZJJ")
      #expect(alerts.first?.message.contains("countersign_on_time_rate of ZJJ for 2026") == true)
      #expect(try await targetAlerts().isEmpty, "a warning is raised once")

      let progress = try await h.targets { try await $0.getTargetProgress(.with { $0.year = 2026 }) }
      for target in progress.targets {
        let (onTime, answered) = try h.database { db in
          let row = try #require(
            try Row.fetchOne(
              db,
              sql:
                "SELECT COUNT(*) AS n, SUM(answered_at <= due_at) AS ok FROM countersign_units WHERE unit = ? AND answered_at IS NOT NULL",
              arguments: [target.unit]))
          return ((row["ok"] as Int?) ?? 0, row["n"] as Int)
        }
        #expect(target.count == UInt32(onTime) && target.base == UInt32(answered), "\(target.unit)")
        #expect(target.hasActual_p && abs(target.actual - Double(onTime) * 100 / Double(answered)) < 1e-9)
      }
      #expect(progress.targets.map(\.colour) == [.red, .green])
      let stored = try h.database { try String.fetchAll($0, sql: "SELECT colour FROM annual_targets ORDER BY unit") }
      #expect(stored == ["red", "green"])

      // The dashboard of the period shows the year's targets, scoped like the rest.
      let board = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-12-08")) }
      #expect(board.targets.targets.map(\.unit) == ["ZJJ", "ZRZYJ"] && board.targets.year == 2026)
      let clerkBoard = try await h.dashboard(.clerk, "ZJJ", "赵建") {
        try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-12-08"))
      }
      #expect(clerkBoard.targets.targets.map(\.unit) == ["ZJJ"])

      // An answer on time and a target of what is then reached (1 of 2): back to green silently.
      let second = try await h.countersigns { try await $0.registerCountersign(.draft(["ZJJ"])) }.number
      _ = try await h.countersigns(.clerk, "ZJJ", "赵建") { try await $0.answerCountersign(CountersignTests.answer(second, .agree)) }
      _ = try await h.targets { try await $0.setTarget(.target("ZJJ", "countersign_on_time_rate", 50)) }
      #expect(try await targetAlerts().isEmpty)
      #expect(try h.database { try String.fetchOne($0, sql: "SELECT colour FROM annual_targets WHERE unit = 'ZJJ'") } == "green")
      let colours = try h.database {
        try String.fetchAll(
          $0,
          sql: "SELECT detail FROM audit_log WHERE action = 'target.colour' AND entity_id = '2026/ZJJ/countersign_on_time_rate' ORDER BY id"
        )
      }
      #expect(colours.count == 2 && colours.last?.contains("\"to\":\"green\"") == true)
    }
  }
}
