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
  func settings<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_SettingsService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_SettingsService.Client(wrapping: $0)) }
  }

  /// The settings rows of the audit log: key, detail, person.
  func settingsAudit() throws -> [(String, String, String)] {
    try self.database { db -> [(String, String, String)] in
      try Row.fetchAll(db, sql: "SELECT entity_id, detail, actor_person FROM audit_log WHERE action = 'settings.set' ORDER BY id")
        .map { row -> (String, String, String) in (row["entity_id"], row["detail"], row["actor_person"]) }
    }
  }
}

extension Banjie_V1_SetSettingRequest {
  static func of(_ key: String, _ value: String) -> Self {
    .with {
      $0.key = key
      $0.value = value
    }
  }
}

/// docs/DOMAIN.md §17: the county settings as RPCs, audited, in force for what comes after.
@Suite("County settings", .timeLimit(.minutes(10)))
struct SettingsTests {
  let a = testUSCC(1701)

  @Test("the defaults; the office sets each value, audited, and every role reads it")
  func setEach() async throws {
    try await ServerHarness.run { h in
      let initial = try await h.settings(.clerk, "SCJGJ", "张伟") { try await $0.getSettings(.init()) }
      #expect(initial.demandLimitWorkingDays == 10)
      #expect(initial.ratingWindowDays == 15)
      #expect(initial.rectificationLimitWorkingDays == 15)
      #expect(initial.yellowThreshold == 0.8)
      #expect(initial.officeHours == "09:00-12:00,13:00-17:00")
      #expect(initial.changes.isEmpty)

      let changes: [(String, String)] = [
        ("demand_limit_working_days", "12"),
        ("rating_window_days", "30"),
        ("rectification_limit_working_days", "20"),
        ("yellow_threshold", "75%"),
        ("office_hours", "08:30-12:00， 14:00-17:30"),
      ]
      for (key, value) in changes {
        _ = try await h.settings { try await $0.setSetting(.of(key, value), metadata: ["idempotency-key": "set-\(key)"]) }
      }
      for (role, org) in [(PeerIdentity.Role.clerk, "SCJGJ"), (.enterprise, self.a), (.liaison, "南旺镇人民政府"), (.office, "YSB")] {
        let s = try await h.settings(role, org) { try await $0.getSettings(.init()) }
        #expect(s.demandLimitWorkingDays == 12)
        #expect(s.ratingWindowDays == 30)
        #expect(s.rectificationLimitWorkingDays == 20)
        #expect(s.yellowThreshold == 0.75)
        #expect(s.officeHours == "08:30-12:00,14:00-17:30")
        #expect(Set(s.changes.keys) == Set(changes.map(\.0)))
        #expect(s.changes["yellow_threshold"]?.updatedBy == "李明 (office, YSB)")
        #expect(s.changes["yellow_threshold"]?.updatedAt.date == shanghai("2026-11-30T09:30:00"))
      }
      let audit = try h.settingsAudit()
      #expect(audit.map(\.0) == changes.map(\.0))
      #expect(audit.allSatisfy { $0.2 == "李明" })
      #expect(audit[0].1.contains(#""from":"10""#) && audit[0].1.contains(#""to":"12""#))
      #expect(audit[3].1.contains(#""from":"0.80""#) && audit[3].1.contains(#""to":"0.75""#))
      #expect(audit[4].1.contains(#""to":"08:30-12:00,14:00-17:30""#))

      // A retried call with the same key is applied once.
      _ = try await h.settings {
        try await $0.setSetting(.of("demand_limit_working_days", "12"), metadata: ["idempotency-key": "set-demand_limit_working_days"])
      }
      #expect(try h.settingsAudit().count == changes.count)

      // The clock in force, and the one a restart builds from the stored settings.
      #expect(h.environment.sla.yellowThreshold == 0.75)
      #expect(h.environment.sla.calendar.officeHours.map(\.description) == ["08:30-12:00", "14:00-17:30"])
      let restarted = try await ServerEnvironment(store: h.environment.store).sla
      #expect(restarted.yellowThreshold == 0.75)
      #expect(restarted.calendar.officeHours == h.environment.sla.calendar.officeHours)
      #expect(try await h.environment.store.verifyAudit().ok)
    }
  }

  @Test("only the office changes settings")
  func officeOnly() async throws {
    try await ServerHarness.run { h in
      for (role, org) in [(PeerIdentity.Role.clerk, "SCJGJ"), (.enterprise, self.a), (.liaison, "南旺镇人民政府")] {
        let error = await rpcError { _ = try await h.settings(role, org) { try await $0.setSetting(.of("yellow_threshold", "0.7")) } }
        #expect(error?.code == .permissionDenied, "\(role)")
      }
      let audit = try h.settingsAudit()
      #expect(audit.isEmpty)
      let settings = try await h.settings { try await $0.getSettings(.init()) }
      #expect(settings.yellowThreshold == 0.8)
    }
  }

  @Test("an unknown key or a value out of range is INVALID_ARGUMENT naming the field, and nothing changes")
  func badValues() async throws {
    try await ServerHarness.run { h in
      let before = try await h.settings { try await $0.getSettings(.init()) }
      let auditBefore = try h.rows("audit_log")
      let bad: [(String, String, String)] = [
        ("deadline", "10", "key"),
        ("demand_limit_working_days", "0", "demand_limit_working_days"),
        ("demand_limit_working_days", "366", "demand_limit_working_days"),
        ("demand_limit_working_days", "ten", "demand_limit_working_days"),
        ("demand_limit_working_days", "", "demand_limit_working_days"),
        ("rating_window_days", "91", "rating_window_days"),
        ("rating_window_days", "1.5", "rating_window_days"),
        ("rectification_limit_working_days", "-1", "rectification_limit_working_days"),
        ("rectification_limit_working_days", "400", "rectification_limit_working_days"),
        ("yellow_threshold", "0.45", "yellow_threshold"),
        ("yellow_threshold", "0.96", "yellow_threshold"),
        ("yellow_threshold", "0.805", "yellow_threshold"),
        ("yellow_threshold", "80", "yellow_threshold"),
        ("yellow_threshold", "1e-1", "yellow_threshold"),
        ("office_hours", "13:00-17:00,09:00-12:00", "office_hours"),
        ("office_hours", "09:00-12:00,11:00-17:00", "office_hours"),
        ("office_hours", "09:00-09:45", "office_hours"),
        ("office_hours", "09:00-25:00", "office_hours"),
        ("office_hours", "12:00-09:00", "office_hours"),
        ("office_hours", "9-17", "office_hours"),
        ("office_hours", ",", "office_hours"),
      ]
      for (key, value, field) in bad {
        let error = await rpcError { _ = try await h.settings { try await $0.setSetting(.of(key, value)) } }
        #expect(error?.code == .invalidArgument, "\(key) = \(value)")
        #expect(errorField(error) == field, "\(key) = \(value)")
      }
      let threshold = await rpcError { _ = try await h.settings { try await $0.setSetting(.of("yellow_threshold", "0.96")) } }
      #expect(threshold?.message == #"yellow_threshold must be a share from 0.50 to 0.95 in whole percent (e.g. 0.80 or 80%), not "0.96""#)
      let short = await rpcError { _ = try await h.settings { try await $0.setSetting(.of("office_hours", "09:00-09:45")) } }
      #expect(short?.message == "office_hours 09:00-09:45 come to 0:45 a day; office hours must come to at least 1:00")
      let overlap = await rpcError { _ = try await h.settings { try await $0.setSetting(.of("office_hours", "09:00-12:00,11:00-17:00")) } }
      #expect(
        overlap?.message
          == #"office_hours "09:00-12:00,11:00-17:00" are not valid office hours: office period 11:00-17:00 must start at or after the end of 09:00-12:00"#
      )
      let zh = await rpcError {
        _ = try await h.settings { try await $0.setSetting(.of("demand_limit_working_days", "0"), metadata: ["banjie-lang": "zh"]) }
      }
      #expect(zh?.message == "诉求办理时限须为 1 至 365 个工作日（整数），不能是“0”")

      #expect(try h.rows("audit_log") == auditBefore)
      let audit = try h.settingsAudit()
      #expect(audit.isEmpty)
      let after = try await h.settings { try await $0.getSettings(.init()) }
      #expect(after == before)
      #expect(h.environment.sla.yellowThreshold == 0.8)
    }
  }

  @Test("a new yellow threshold colours a case computed afterwards, and the sweeper alerts it")
  func yellowThreshold() async throws {
    try await ServerHarness.run { h in
      // Accepted Mon 2026-11-30 09:30 with 5 working days: due Mon 12-07 17:00, a budget of 41.5 h.
      let n = try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        _ = try await cases.acceptCase(.number(n))
        return n
      }
      // Thu 12-03 13:00: 23.5 h used, 57 %: green at 0.80.
      h.clock.set(shanghai("2026-12-03T13:00:00"))
      #expect(try await h.cases { try await $0.getCase(.with { $0.number = n }) }.sla.colour == .green)
      #expect(try await h.environment.sweep(full: false).isEmpty)

      _ = try await h.settings { try await $0.setSetting(.of("yellow_threshold", "0.55")) }
      #expect(h.environment.sla.yellowThreshold == 0.55)
      #expect(try await h.cases { try await $0.getCase(.with { $0.number = n }) }.sla.colour == .yellow)
      #expect(try h.settingsAudit().first?.1.contains(#""recomputed":"1""#) == true)
      // The stored colour follows on the sweeper's next quick pass, with its alert and audit row.
      let alerts = try await h.environment.sweep(full: false)
      #expect(alerts.map(\.kind) == ["case.yellow"])
      #expect(alerts.first?.subject == "case \(n)")
      let stored = try h.database { try String.fetchOne($0, sql: "SELECT colour FROM cases WHERE number = ?", arguments: [n]) }
      #expect(stored == "yellow")

      // Raised again: green once more.
      _ = try await h.settings { try await $0.setSetting(.of("yellow_threshold", "0.90")) }
      #expect(try await h.cases { try await $0.getCase(.with { $0.number = n }) }.sla.colour == .green)
      #expect(try await h.environment.sweep(full: false).isEmpty)
      let restored = try h.database { try String.fetchOne($0, sql: "SELECT colour FROM cases WHERE number = ?", arguments: [n]) }
      #expect(restored == "green")
    }
  }

  @Test("new office hours move deadlines: computed ones and open cases'")
  func officeHours() async throws {
    try await ServerHarness.run { h in
      let n = try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        _ = try await cases.acceptCase(.number(n))
        return n
      }
      /// One working day from Mon 2026-11-30 10:00, by the server's calendar.
      func oneDayDue() async throws -> String {
        try await h.as_(.clerk, "SCJGJ", "张伟") { client in
          try await Banjie_V1_CalendarService.Client(wrapping: client).computeDue(
            .with {
              $0.from = "2026-11-30T10:00:00+08:00"
              $0.workingDays = 1
            }
          ).dueLocal
        }
      }
      #expect(try await oneDayDue() == "2026-12-01T17:00:00+08:00")
      _ = try await h.settings { try await $0.setSetting(.of("office_hours", "08:30-12:00,14:00-17:30")) }
      #expect(try await oneDayDue() == "2026-12-01T17:30:00+08:00")
      // The open case: 5 working days from Mon 09:30, now ending at the new close of office hours.
      let shown = try await h.cases { try await $0.getCase(.with { $0.number = n }) }
      #expect(shown.sla.dueAt.date == shanghai("2026-12-07T17:30:00"))
      let stored = try h.database { try Date.fetchOne($0, sql: "SELECT due_at FROM cases WHERE number = ?", arguments: [n]) }
      #expect(stored == shanghai("2026-12-07T17:30:00"))
    }
  }

  @Test("new limits apply to demands and rectifications opened afterwards, a new window to ratings given afterwards")
  func limits() async throws {
    try await ServerHarness.run { h in
      try await h.enterprises { e in _ = try await e.registerEnterprise(.sample(self.a)) }
      let before = try await h.enterprises(.enterprise, self.a, "张总") { try await $0.raiseDemand(.with { $0.demand = .sample() }) }
      #expect(before.limitWorkingDays == 10)

      _ = try await h.settings { try await $0.setSetting(.of("demand_limit_working_days", "3")) }
      _ = try await h.settings { try await $0.setSetting(.of("rectification_limit_working_days", "7")) }
      _ = try await h.settings { try await $0.setSetting(.of("rating_window_days", "1")) }

      let after = try await h.enterprises(.enterprise, self.a, "张总") { try await $0.raiseDemand(.with { $0.demand = .sample() }) }
      #expect(after.limitWorkingDays == 3)
      // Raised Mon 2026-11-30 09:30: due the close of the third working day after, Thu 12-03 17:00.
      #expect(after.sla.dueAt.date == shanghai("2026-12-03T17:00:00"))
      // A demand that names its own limit keeps it.
      let own = try await h.enterprises(.enterprise, self.a, "张总") { try await $0.raiseDemand(.with { $0.demand = .sample(days: 20) }) }
      #expect(own.limitWorkingDays == 20)
      // The demand raised before keeps its limit.
      let old = try await h.enterprises { try await $0.getDemand(.with { $0.number = before.number }) }
      #expect(old.limitWorkingDays == 10)

      let n = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let rating = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 1, "材料被要求重复提交")) }
      let rectification = try await h.ratings(.office, "YSB") {
        try await $0.getRectification(.with { $0.number = rating.rectificationNumber })
      }
      #expect(rectification.limitWorkingDays == 7)

      // The window is now one day after completion.
      let m = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      h.clock.advance(seconds: 86_400 + 60)
      let late = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(m, 5)) } }
      #expect(late?.code == .failedPrecondition)
    }
  }

  @Test("banjie health's line: the settings in force, in the caller's language")
  func healthLine() async throws {
    try await ServerHarness.run { h in
      func info(_ language: String) async throws -> String {
        try await h.as_(.clerk, "SCJGJ", "张伟") { client in
          try await Banjie_V1_SystemService.Client(wrapping: client).getServerInfo(.init(), metadata: ["banjie-lang": "\(language)"])
            .settings
        }
      }
      #expect(try await info("en") == "yellow 0.80 · hours 09:00-12:00,13:00-17:00 · demand 10 wd · rectification 15 wd · rating 15 d")
      _ = try await h.settings { try await $0.setSetting(.of("yellow_threshold", "0.7")) }
      _ = try await h.settings { try await $0.setSetting(.of("demand_limit_working_days", "8")) }
      #expect(try await info("en") == "yellow 0.70 · hours 09:00-12:00,13:00-17:00 · demand 8 wd · rectification 15 wd · rating 15 d")
      #expect(
        try await info("zh")
          == "预警阈值 0.70 · 工作时间 09:00-12:00,13:00-17:00 · 诉求办理时限 8 个工作日 · 整改时限 15 个工作日 · 评价期限 15 天")
    }
  }
}
