import BanjieCore
import BanjieCrypto
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
  func awards<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_AwardService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_AwardService.Client(wrapping: $0)) }
  }

  /// A case received, accepted and completed at `window` by clerk `person` of `department`.
  func completedCase(window: String, person: String, department: String = "SCJGJ", item: String = "SCJGJ-003", uscc: String) async throws
    -> String
  {
    try await self.cases(.clerk, department, person) { cases in
      let n = try await cases.submitCase(
        .with {
          $0.itemCode = item
          $0.applicant = "申请人"
          $0.window = window
          $0.enterpriseUscc = uscc
        }
      ).number
      _ = try await cases.acceptCase(.number(n))
      _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
      return n
    }
  }
}

extension Banjie_V1_StarLevel {
  static func of(
    _ stars: UInt32, _ handled: UInt32, onTime: UInt32 = 0, oneDay: UInt32 = 0, good: UInt32 = 0, unrated: UInt32 = 100,
    unrectified: Int32 = -1, overdue: Int32 = -1
  ) -> Self {
    .with {
      $0.stars = stars
      $0.minHandled = handled
      $0.minOnTimePercent = onTime
      $0.minOneDayPercent = oneDay
      $0.minGoodPercent = good
      $0.maxUnratedPercent = unrated
      $0.maxUnrectifiedBad = unrectified
      $0.maxOverdueDemands = overdue
    }
  }
}

/// A small rule set whose thresholds a handful of cases can sit exactly on.
let smallRules = Banjie_V1_SetAwardRulesRequest.with {
  $0.name = "test rules"
  $0.levels = [
    .of(5, 4, onTime: 100, oneDay: 50, good: 75, unrated: 25, unrectified: 0, overdue: 0),
    .of(4, 3, onTime: 75, good: 50, unrated: 50, unrectified: 0, overdue: 1),
    .of(3, 2, onTime: 50, unrectified: 1),
    .of(2, 1),
    .of(1, 0),
  ]
}

@Suite("Star-service awards end to end over real TLS", .timeLimit(.minutes(10)))
struct AwardTests {
  let a = testUSCC(601)

  /// Windows W1–W6, one clerk each, all at SCJGJ, completed Mon 2026-11-02 on time and within a day.
  /// Ratings per window (nil: unrated) and the stars the small rule set gives, checked by hand:
  ///   W1 5 5 5 3    good 3/4 = 75 % exactly, 4 cases exactly           → 5★
  ///   W2 5 5 3 3    good 2/4 = 50 %: one case below 5★'s 75 %          → 4★
  ///   W3 5 5 5      3 cases, one below 5★'s minimum volume of 4        → 4★
  ///   W4 5 5 5 -    unrated 1/4 = 25 % exactly                         → 5★
  ///   W5 5 5 1 5    one 差评 not yet rectified: 4★ and 5★ allow none    → 3★
  ///   W6 5 5 - -    unrated 2/4 = 50 %: one case over 5★'s 25 %         → 4★
  /// Department SCJGJ: 23 cases, 20 rated, 16 good (80 %), 3 unrated (13 %), one unrectified 差评 → 3★.
  static let seed: [(String, String, [UInt32?], UInt32)] = [
    ("W1", "甲", [5, 5, 5, 3], 5), ("W2", "乙", [5, 5, 3, 3], 4), ("W3", "丙", [5, 5, 5], 4),
    ("W4", "丁", [5, 5, 5, nil], 5), ("W5", "戊", [5, 5, 1, 5], 3), ("W6", "己", [5, 5, nil, nil], 4),
  ]

  /// Seeds the data set; returns the unrated case of W4.
  func seed(_ h: ServerHarness) async throws -> String {
    var unrated = ""
    for (window, person, levels, _) in Self.seed {
      for level in levels {
        let n = try await h.completedCase(window: window, person: person, uscc: self.a)
        if let level {
          _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, level, level <= 2 ? "窗口办理拖沓" : "")) }
        } else if window == "W4" {
          unrated = n
        }
      }
    }
    return unrated
  }

  @Test("stars on a seeded data set equal hand-checked values at each threshold's edge; scores match the database")
  func seededStars() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-02T09:30:00")) { h in
      _ = try await self.seed(h)
      let rules = try await h.awards { try await $0.setAwardRules(smallRules) }
      #expect(rules.version == 2)
      let preview = try await h.awards { try await $0.previewAwards(.with { $0.period = "2026-11" }) }
      #expect(preview.rules.version == 2 && preview.from == "2026-11-01" && preview.to == "2026-11-30")
      let windows = Dictionary(uniqueKeysWithValues: preview.entries.filter { $0.kind == "window" }.map { ($0.key, $0) })
      let staff = Dictionary(uniqueKeysWithValues: preview.entries.filter { $0.kind == "staff" }.map { ($0.key, $0) })
      for (window, person, _, stars) in Self.seed {
        #expect(windows[window]?.stars == stars, "\(window)")
        #expect(staff["SCJGJ/\(person)"]?.stars == stars, "\(person)")
      }
      #expect(windows["W2"]?.shortOfNext == "5★ needs good ≥ 75 %")
      #expect(windows["W3"]?.shortOfNext == "5★ needs handled ≥ 4")
      #expect(windows["W5"]?.shortOfNext == "4★ needs unrectified 差评 ≤ 0")
      #expect(windows["W6"]?.shortOfNext == "5★ needs unrated ≤ 25 %")
      let department = try #require(preview.entries.first { $0.kind == "department" })
      #expect(
        department.key == "SCJGJ" && department.handled == 23 && department.rated == 20 && department.good == 16 && department.unrated == 3)
      #expect(
        department.onTime == 23 && department.oneDay == 23 && department.bad == 1 && department.unrectifiedBad == 1 && department.stars == 3
      )
      #expect(preview.entries.map(\.kind) == Array(repeating: "window", count: 6) + Array(repeating: "staff", count: 6) + ["department"])

      // Independently, from the database file: handled, rated and good per window.
      let counts = try h.database { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT c.window, COUNT(*) AS handled, COUNT(g.case_id) AS rated, SUM(CASE WHEN g.level >= 4 THEN 1 ELSE 0 END) AS good
            FROM cases c LEFT JOIN ratings g ON g.case_id = c.id WHERE c.state IN ('COMPLETED', 'DELIVERED') GROUP BY c.window
            """
        ).map { ($0["window"] as String, $0["handled"] as Int, $0["rated"] as Int, $0["good"] as Int) }
      }
      #expect(counts.count == 6)
      for (window, handled, rated, good) in counts {
        #expect(
          windows[window]?.handled == UInt32(handled) && windows[window]?.rated == UInt32(rated) && windows[window]?.good == UInt32(good),
          "\(window)")
      }

      // The shipped rule set (v1) would give none of these small windows more than 2★ (volume).
      let v1 = try await h.awards { try await $0.getAwardRules(.with { $0.version = 1 }) }
      #expect(v1.levels.first?.minHandled == 30)
      // Other periods hold nothing; a quarter and the year hold the same cases.
      #expect(try await h.awards { try await $0.previewAwards(.with { $0.period = "2026-10" }) }.entries.isEmpty)
      #expect(try await h.awards { try await $0.previewAwards(.with { $0.period = "2026-Q4" }) }.entries == preview.entries)
      #expect(try await h.awards { try await $0.previewAwards(.with { $0.period = "2026" }) }.entries == preview.entries)
    }
  }

  @Test("publish: once per period, office only, snapshot byte-identical after later changes; revoke with a reason")
  func publish() async throws {
    let uscc = self.a
    // Seeded on Fri 2026-11-27; November is published once it has ended, on Tue 2026-12-01, when
    // the seeded cases are still within the 15-day rating window.
    try await ServerHarness.run(start: shanghai("2026-11-27T09:30:00")) { h in
      let unrated = try await AwardTests().seed(h)
      _ = try await h.awards { try await $0.setAwardRules(smallRules) }
      h.clock.set(shanghai("2026-12-01T09:30:00"))
      let award = try await Self.publishOnce(h)
      try await Self.changeLater(h, uscc: uscc, unrated: unrated, award: award)
      try await Self.revokeAndRepublish(h, award: award)
      try await Self.idempotentPublish(h)
    }
  }

  static func publishOnce(_ h: ServerHarness) async throws -> Banjie_V1_Award {
    let period = Banjie_V1_PublishAwardsRequest.with { $0.period = "2026-11" }

    #expect(await rpcError { _ = try await h.awards(.clerk, "SCJGJ") { try await $0.publishAwards(period) } }?.code == .permissionDenied)
    #expect(
      await rpcError { _ = try await h.awards(.clerk, "SCJGJ") { try await $0.previewAwards(.with { $0.period = "2026-11" }) } }?.code
        == .permissionDenied)
    let award = try await h.awards { try await $0.publishAwards(period) }
    #expect(award.ruleSetVersion == 2 && award.period == "2026-11" && !award.revoked)
    #expect(award.digest == SHA256.hex(award.snapshot))
    #expect(award.entries.first { $0.key == "W4" }?.stars == 5)
    let stored = try h.database { try Data.fetchOne($0, sql: "SELECT snapshot FROM awards WHERE id = ?", arguments: [award.id]) }
    #expect(stored == award.snapshot)

    let again = await rpcError { _ = try await h.awards { try await $0.publishAwards(period) } }
    #expect(again?.code == .failedPrecondition && again?.message.contains("revoke it with a reason") == true)
    return award
  }

  static func changeLater(_ h: ServerHarness, uscc: String, unrated: String, award: Banjie_V1_Award) async throws {
    // Later changes: W4's unrated November case is rated 1 (差评); W3 completes a fourth case, in
    // December, so November's W3 stays as it was.
    _ = try await h.ratings(.enterprise, uscc) { try await $0.rateCase(.of(unrated, 1, "后来补的差评")) }
    _ = try await h.completedCase(window: "W3", person: "丙", uscc: uscc)
    let preview = try await h.awards { try await $0.previewAwards(.with { $0.period = "2026-11" }) }
    #expect(preview.entries.first { $0.key == "W4" }?.stars == 3)
    let w3 = preview.entries.first { $0.key == "W3" }
    #expect(w3?.stars == 4 && w3?.handled == 3)
    // The running month previews (only publishing waits for its end).
    let december = try await h.awards { try await $0.previewAwards(.with { $0.period = "2026-12" }) }
    #expect(december.entries.first { $0.key == "W3" }?.handled == 1)

    let later = try await h.awards(.clerk, "SCJGJ") { try await $0.getAward(.with { $0.id = award.id }) }
    #expect(later.snapshot == award.snapshot && later.digest == award.digest && later.entries == award.entries)
    #expect(
      try h.database { try Data.fetchOne($0, sql: "SELECT snapshot FROM awards WHERE id = ?", arguments: [award.id]) } == award.snapshot)
  }

  static func revokeAndRepublish(_ h: ServerHarness, award: Banjie_V1_Award) async throws {
    let period = Banjie_V1_PublishAwardsRequest.with { $0.period = "2026-11" }
    // Revoke: office only, with a reason; then the period may be published again.
    let revoke = Banjie_V1_RevokeAwardRequest.with {
      $0.id = award.id
      $0.reason = "补录差评后重新评定"
    }
    #expect(await rpcError { _ = try await h.awards(.clerk, "SCJGJ") { try await $0.revokeAward(revoke) } }?.code == .permissionDenied)
    let noReason = await rpcError { _ = try await h.awards { try await $0.revokeAward(.with { $0.id = award.id }) } }
    #expect(noReason?.code == .invalidArgument && errorField(noReason) == "reason")
    let revoked = try await h.awards { try await $0.revokeAward(revoke) }
    #expect(revoked.revoked && revoked.revokeReason == "补录差评后重新评定" && revoked.snapshot == award.snapshot)
    #expect(await rpcError { _ = try await h.awards { try await $0.revokeAward(revoke) } }?.code == .failedPrecondition)
    let second = try await h.awards { try await $0.publishAwards(period) }
    #expect(second.id != award.id && second.digest != award.digest)
    #expect(second.entries.first { $0.key == "W4" }?.stars == 3)

    let list = try await h.awards(.clerk, "SCJGJ") { try await $0.listAwards(.init()) }
    #expect(list.awards.map(\.id) == [second.id, award.id] && list.awards.map(\.revoked) == [false, true])
    let audit = try h.database { try String.fetchAll($0, sql: "SELECT action FROM audit_log WHERE entity = 'award' ORDER BY id") }
    #expect(audit == ["award.publish", "award.revoke", "award.publish"])
  }

  /// The same idempotency key answers the first publication and writes nothing.
  static func idempotentPublish(_ h: ServerHarness) async throws {
    let first = try await h.awards {
      try await $0.publishAwards(.with { $0.period = "2026-10" }, metadata: ["idempotency-key": "award-2026-10"])
    }
    let repeated = try await h.awards {
      try await $0.publishAwards(.with { $0.period = "2026-10" }, metadata: ["idempotency-key": "award-2026-10"])
    }
    #expect(first.id == repeated.id && first.digest == repeated.digest)
    #expect(try h.rows("awards") == 3)
  }

  @Test("a period is published only once it has ended (its last Asia/Shanghai day is before today); nothing else is written")
  func publishOnlyEndedPeriods() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-30T23:59:59")) { h in
      let publish: (String) async throws -> Banjie_V1_Award = { period in
        try await h.awards { try await $0.publishAwards(.with { $0.period = period }) }
      }
      // The last day itself, to its final second, has not ended.
      let lastDay = await rpcError { _ = try await publish("2026-11") }
      #expect(lastDay?.code == .failedPrecondition && errorField(lastDay) == "period")
      #expect(lastDay?.message.contains("2026-11 ends on 2026-11-30") == true)
      h.clock.set(shanghai("2026-12-01T00:00:00"))
      let november = try await publish("2026-11")
      #expect(november.period == "2026-11" && november.to == "2026-11-30" && !november.revoked)

      // Mon 2026-12-07: a future month, the running month, quarter and year are refused.
      h.clock.set(shanghai("2026-12-07T10:00:00"))
      let auditBefore = try h.rows("audit_log")
      for text in ["2027-01", "2026-12", "2026-Q4", "2026", "2027"] {
        let error = await rpcError { _ = try await publish(text) }
        #expect(error?.code == .failedPrecondition && errorField(error) == "period", "\(text)")
      }
      let future = await rpcError { _ = try await publish("2027-01") }
      #expect(
        future?.message
          == "period 2027-01 ends on 2027-01-31 (Asia/Shanghai) and today is 2026-12-07: a period is published from the day after it ends")
      #expect(try h.rows("awards") == 1)
      #expect(try h.rows("audit_log") == auditBefore)
      // Previewing is not publishing: any period previews.
      #expect(try await h.awards { try await $0.previewAwards(.with { $0.period = "2027-01" }) }.entries.isEmpty)
      // Periods that have ended publish: a past month; on New Year's Day, the quarter and the year.
      #expect(try await publish("2026-10").period == "2026-10")
      h.clock.set(shanghai("2027-01-01T08:00:00"))
      #expect(try await publish("2026-Q4").period == "2026-Q4")
      #expect(try await publish("2026").period == "2026")
      #expect(try h.rows("awards") == 4)
    }
  }

  @Test("bad periods and bad rule sets are refused naming what is wrong; nothing is written")
  func badInput() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-02T09:30:00")) { h in
      let auditBefore = try h.rows("audit_log")
      for text in ["2026-13", "2026-Q5", "garbage", ""] {
        for call in 0..<2 {
          let error = await rpcError {
            _ = try await h.awards {
              if call == 0 {
                _ = try await $0.previewAwards(.with { $0.period = text })
              } else {
                _ = try await $0.publishAwards(.with { $0.period = text })
              }
            }
          }
          #expect(error?.code == .invalidArgument && errorField(error) == "period", "\(text)")
        }
      }
      var overlap = smallRules
      overlap.levels[1].minGoodPercent = 80  // 4★ asks more good share than 5★
      let o = await rpcError { _ = try await h.awards { try await $0.setAwardRules(overlap) } }
      #expect(o?.code == .invalidArgument && errorField(o) == "level 5★.min_good_percent")
      var gap = smallRules
      gap.levels.remove(at: 2)
      let g = await rpcError { _ = try await h.awards { try await $0.setAwardRules(gap) } }
      #expect(g?.code == .invalidArgument && g?.message.contains("level 3★ is missing") == true)
      var percent = smallRules
      percent.levels[0].minOnTimePercent = 150
      let p = await rpcError { _ = try await h.awards { try await $0.setAwardRules(percent) } }
      #expect(p?.code == .invalidArgument && errorField(p) == "levels[0].min_on_time_percent")
      #expect(
        await rpcError { _ = try await h.awards(.clerk, "SCJGJ") { try await $0.setAwardRules(smallRules) } }?.code == .permissionDenied)
      #expect(await rpcError { _ = try await h.awards { try await $0.getAward(.with { $0.id = 99 }) } }?.code == .notFound)
      #expect(try h.rows("award_rule_sets") == 1)
      #expect(try h.rows("awards") == 0)
      #expect(try h.rows("audit_log") == auditBefore)
    }
  }
}

extension ServerHarness {
  func exemplary<R: Sendable>(
    _ role: PeerIdentity.Role, _ org: String, _ person: String = "测试员",
    _ body: (Banjie_V1_ExemplaryService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_ExemplaryService.Client(wrapping: $0)) }
  }
}

@Suite("Exemplary cases (优质案例) end to end over real TLS", .timeLimit(.minutes(10)))
struct ExemplaryTests {
  let a = testUSCC(602)

  @Test("a clerk nominates a completed case of the department; anything else is refused naming what is wrong, nothing written")
  func nominateCase() async throws {
    let uscc = self.a
    try await ServerHarness.run(start: shanghai("2026-11-02T09:30:00")) { h in
      let done = try await h.completedCase(window: "W1", person: "甲", uscc: uscc)
      let open = try await h.cases(.clerk, "SCJGJ") { try await $0.submitCase(.sample(uscc: uscc)).number }
      try await Self.refusals(h, done: done, open: open)
      try await Self.nominateAndReview(h, done: done)
    }
  }

  static func refusals(_ h: ServerHarness, done: String, open: String) async throws {
    let auditBefore = try h.rows("audit_log")
    let notDone = await rpcError {
      _ = try await h.exemplary(.clerk, "SCJGJ") {
        try await $0.nominate(
          .with {
            $0.caseNumber = open
            $0.account = "当场办结"
          })
      }
    }
    #expect(notDone?.code == .failedPrecondition && errorField(notDone) == "case_number" && notDone?.message.contains("RECEIVED") == true)
    #expect(
      await rpcError {
        _ = try await h.exemplary(.clerk, "ZJJ") {
          try await $0.nominate(
            .with {
              $0.caseNumber = done
              $0.account = "好"
            })
        }
      }?.code == .permissionDenied)
    #expect(
      await rpcError {
        _ = try await h.exemplary(.office, "YSB") {
          try await $0.nominate(
            .with {
              $0.caseNumber = done
              $0.account = "好"
            })
        }
      }?.code == .permissionDenied)
    let noAccount = await rpcError { _ = try await h.exemplary(.clerk, "SCJGJ") { try await $0.nominate(.with { $0.caseNumber = done }) } }
    #expect(noAccount?.code == .invalidArgument && errorField(noAccount) == "account")
    let both = await rpcError {
      _ = try await h.exemplary(.clerk, "SCJGJ") {
        try await $0.nominate(
          .with {
            $0.caseNumber = done
            $0.demandNumber = "D"
            $0.account = "好"
          })
      }
    }
    #expect(both?.code == .invalidArgument)
    #expect(
      await rpcError {
        _ = try await h.exemplary(.clerk, "SCJGJ") {
          try await $0.nominate(
            .with {
              $0.caseNumber = "NOPE"
              $0.account = "好"
            })
        }
      }?.code == .notFound)
    #expect(try h.rows("exemplary_nominations") == 0 && h.rows("audit_log") == auditBefore)
  }

  static func nominateAndReview(_ h: ServerHarness, done: String) async throws {
    let n = try await h.exemplary(.clerk, "SCJGJ", "甲") {
      try await $0.nominate(
        .with {
          $0.caseNumber = done
          $0.account = "容缺受理，当日办结并送证上门"
        })
    }
    #expect(
      n.kind == "case" && n.subject == done && n.departmentCode == "SCJGJ" && n.year == 2026 && n.state == .nominated
        && n.nominatedBy == "甲")
    #expect(
      await rpcError {
        _ = try await h.exemplary(.clerk, "SCJGJ") {
          try await $0.nominate(
            .with {
              $0.caseNumber = done
              $0.account = "再来"
            })
        }
      }?.code == .alreadyExists)

    // The office reviews; a clerk may not; declining needs a note; a review is final.
    let select = Banjie_V1_ReviewNominationRequest.with {
      $0.id = n.id
      $0.select = true
    }
    #expect(
      await rpcError { _ = try await h.exemplary(.clerk, "SCJGJ") { try await $0.reviewNomination(select) } }?.code == .permissionDenied)
    let bare = await rpcError {
      _ = try await h.exemplary(.office, "YSB") {
        try await $0.reviewNomination(
          .with {
            $0.id = n.id
            $0.select = false
          })
      }
    }
    #expect(bare?.code == .invalidArgument && errorField(bare) == "note")
    let selected = try await h.exemplary(.office, "YSB", "李明") { try await $0.reviewNomination(select) }
    #expect(selected.state == .selected && selected.reviewedBy == "李明")
    #expect(
      await rpcError { _ = try await h.exemplary(.office, "YSB") { try await $0.reviewNomination(select) } }?.code == .failedPrecondition)
    let list = try await h.exemplary(.office, "YSB") {
      try await $0.listNominations(
        .with {
          $0.year = 2026
          $0.state = .selected
        })
    }
    #expect(list.nominations.map(\.subject) == [done])
    #expect(try await h.exemplary(.office, "YSB") { try await $0.listNominations(.with { $0.year = 2025 }) }.nominations.isEmpty)
    #expect(try await h.exemplary(.clerk, "ZJJ") { try await $0.listNominations(.init()) }.nominations.isEmpty)
    let audit = try h.database { try String.fetchAll($0, sql: "SELECT action FROM audit_log WHERE entity = 'nomination' ORDER BY id") }
    #expect(audit == ["exemplary.nominate", "exemplary.select"])
  }

  @Test("a demand is nominated once the enterprise has closed it")
  func nominateDemand() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-02T09:30:00")) { h in
      try await h.enterprises { e in _ = try await e.registerEnterprise(.sample(self.a)) }
      let number = try await h.enterprises(.enterprise, self.a, "张总") { try await $0.raiseDemand(.with { $0.demand = .sample() }).number }
      let nominate = Banjie_V1_NominateRequest.with {
        $0.demandNumber = number
        $0.account = "三天内协调完成用地规划许可"
      }
      let open = await rpcError { _ = try await h.exemplary(.clerk, "ZRZYJ") { try await $0.nominate(nominate) } }
      #expect(open?.code == .failedPrecondition && errorField(open) == "demand_number")
      try await h.enterprises(.clerk, "ZRZYJ", "孙丽") { e in
        _ = try await e.assignDemand(
          .with {
            $0.number = number
            $0.handler = "孙丽"
          })
        _ = try await e.answerDemand(
          .with {
            $0.number = number
            $0.answer = "已办结"
          })
      }
      #expect(
        await rpcError { _ = try await h.exemplary(.clerk, "ZRZYJ") { try await $0.nominate(nominate) } }?.code == .failedPrecondition)
      _ = try await h.enterprises(.enterprise, self.a, "张总") {
        try await $0.closeDemand(
          .with {
            $0.number = number
            $0.satisfaction = 5
          })
      }
      let n = try await h.exemplary(.clerk, "ZRZYJ", "孙丽") { try await $0.nominate(nominate) }
      #expect(n.kind == "demand" && n.departmentCode == "ZRZYJ" && n.year == 2026)
      let declined = try await h.exemplary(.office, "YSB") {
        try await $0.reviewNomination(
          .with {
            $0.id = n.id
            $0.select = false
            $0.note = "常规办理"
          })
      }
      #expect(declined.state == .declined && declined.reviewNote == "常规办理")
      #expect(try await h.exemplary(.clerk, "ZRZYJ") { try await $0.listNominations(.init()) }.nominations.map(\.state) == [.declined])
    }
  }
}
