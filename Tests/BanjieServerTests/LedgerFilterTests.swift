import BanjieCore
import BanjieProto
import Foundation
import GRPCCore
import Testing

/// The demand and rectification ledgers filter like the case ledger: by Asia/Shanghai day
/// ranges (inclusive), by category and by case number.
@Suite("demand and rectification ledger filters", .timeLimit(.minutes(10)))
struct LedgerFilterTests {
  let a = testUSCC(7001)

  @Test("demands by raised day range (Asia/Shanghai, inclusive) and category; a reversed range or bad input is INVALID_ARGUMENT")
  func demands() async throws {
    try await ServerHarness.run { h in
      try await h.enterprises { e in _ = try await e.registerEnterprise(.sample(self.a)) }
      @Sendable func raise(_ category: String, department: String = "ZRZYJ") async throws -> String {
        try await h.enterprises(.enterprise, self.a, "张总") { e in
          try await e.raiseDemand(.with { $0.demand = .sample("诉求 \(category)", department: department, category: category) }).number
        }
      }
      // Mon 2026-11-30 09:30.
      let d1 = try await raise("land")
      // Tue 2026-12-01 07:00 in Shanghai is still 2026-11-30 in UTC: the local day counts.
      h.clock.set(shanghai("2026-12-01T07:00:00"))
      let d2 = try await raise("utilities", department: "ZJJ")
      h.clock.set(shanghai("2026-12-02T10:00:00"))
      let d3 = try await raise("land")
      // 23:59 local is 15:59 UTC the same day: the last minute of the local day.
      h.clock.set(shanghai("2026-12-02T23:59:00"))
      let d4 = try await raise("financing")

      try await h.enterprises { e in
        let all = try await e.listDemands(.init())
        #expect(all.total == 4)
        let day1 = try await e.listDemands(
          .with {
            $0.raisedFrom = "2026-12-01"
            $0.raisedTo = "2026-12-01"
          })
        #expect(day1.demands.map(\.number) == [d2])
        #expect(day1.total == 1)
        let upTo = try await e.listDemands(.with { $0.raisedTo = "2026-11-30" })
        #expect(upTo.demands.map(\.number) == [d1])
        let from = try await e.listDemands(.with { $0.raisedFrom = "2026-12-02" })
        #expect(from.demands.map(\.number) == [d4, d3])
        #expect(from.total == 2)
        let later = try await e.listDemands(.with { $0.raisedFrom = "2026-12-03" })
        #expect(later.total == 0 && later.demands.isEmpty)

        let land = try await e.listDemands(.with { $0.category = "land" })
        #expect(land.total == 2)
        #expect(Set(land.demands.map(\.number)) == [d1, d3])
        // The Chinese name and any case, with the other filters.
        let landLate = try await e.listDemands(
          .with {
            $0.category = "用地"
            $0.raisedFrom = "2026-12-02"
          })
        #expect(landLate.demands.map(\.number) == [d3])
        let utilities = try await e.listDemands(
          .with {
            $0.category = " Utilities "
            $0.departmentCode = "ZJJ"
          })
        #expect(utilities.demands.map(\.number) == [d2])

        let reversed = await rpcError {
          _ = try await e.listDemands(
            .with {
              $0.raisedFrom = "2026-12-02"
              $0.raisedTo = "2026-12-01"
            })
        }
        #expect(reversed?.code == .invalidArgument)
        #expect(errorField(reversed) == "raised_from")
        #expect(reversed?.metadata[stringValues: "banjie-error-code"].first(where: { _ in true }) == "demand.reversed_dates")
        #expect(reversed?.message == "raised_from 2026-12-02 is after raised_to 2026-12-01")
        let reversedZh = await rpcError {
          _ = try await e.listDemands(
            .with {
              $0.raisedFrom = "2026-12-02"
              $0.raisedTo = "2026-12-01"
            }, metadata: ["banjie-lang": "zh"])
        }
        #expect(reversedZh?.message == "提出日期起 2026-12-02 晚于提出日期止 2026-12-01")

        let badDay = await rpcError { _ = try await e.listDemands(.with { $0.raisedTo = "2026-02-30" }) }
        #expect(badDay?.code == .invalidArgument)
        #expect(errorField(badDay) == "raised_to")
        let badCategory = await rpcError { _ = try await e.listDemands(.with { $0.category = "food" }) }
        #expect(badCategory?.code == .invalidArgument)
        #expect(errorField(badCategory) == "category")
      }

      // A clerk's filters still stay within the department.
      try await h.enterprises(.clerk, "ZRZYJ", "孙丽") { e in
        let mine = try await e.listDemands(.with { $0.raisedFrom = "2026-12-01" })
        #expect(mine.demands.map(\.number) == [d4, d3])
        let theirs = try await e.listDemands(.with { $0.category = "utilities" })
        #expect(theirs.total == 0)
      }
    }
  }

  @Test("rectifications by opened day range (Asia/Shanghai, inclusive) and case number; a reversed range is INVALID_ARGUMENT")
  func rectifications() async throws {
    try await ServerHarness.run { h in
      // All completed Mon 2026-11-30; the 差评 (and so the rectifications) come on different days.
      let c1 = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let c2 = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let c3 = try await h.completedCase(item: "ZJJ-001", department: "ZJJ", uscc: self.a)
      @Sendable func rateBadly(_ n: String) async throws -> String {
        try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 1, "材料退回三次")) }.rectificationNumber
      }
      let r1 = try await rateBadly(c1)
      // 07:30 local on Tue 2026-12-01 is 23:30 UTC on Mon 2026-11-30.
      h.clock.set(shanghai("2026-12-01T07:30:00"))
      let r2 = try await rateBadly(c2)
      h.clock.set(shanghai("2026-12-03T10:00:00"))
      let r3 = try await rateBadly(c3)

      try await h.ratings(.office, "YSB") { r in
        let all = try await r.listRectifications(.init())
        #expect(all.total == 3)
        let day1 = try await r.listRectifications(
          .with {
            $0.openedFrom = "2026-12-01"
            $0.openedTo = "2026-12-01"
          })
        #expect(day1.rectifications.map(\.number) == [r2])
        #expect(day1.total == 1)
        let upTo = try await r.listRectifications(.with { $0.openedTo = "2026-11-30" })
        #expect(upTo.rectifications.map(\.number) == [r1])
        let from = try await r.listRectifications(.with { $0.openedFrom = "2026-12-01" })
        #expect(from.total == 2)
        #expect(Set(from.rectifications.map(\.number)) == [r2, r3])

        let byCase = try await r.listRectifications(.with { $0.caseNumber = c3 })
        #expect(byCase.rectifications.map(\.number) == [r3])
        #expect(byCase.total == 1)
        let byCaseEarly = try await r.listRectifications(
          .with {
            $0.caseNumber = c3
            $0.openedTo = "2026-12-02"
          })
        #expect(byCaseEarly.total == 0)
        let noSuchCase = try await r.listRectifications(.with { $0.caseNumber = "370830-20990101-000001" })
        #expect(noSuchCase.total == 0)

        let reversed = await rpcError {
          _ = try await r.listRectifications(
            .with {
              $0.openedFrom = "2026-12-03"
              $0.openedTo = "2026-12-01"
            })
        }
        #expect(reversed?.code == .invalidArgument)
        #expect(errorField(reversed) == "opened_from")
        #expect(reversed?.metadata[stringValues: "banjie-error-code"].first(where: { _ in true }) == "rectification.reversed_dates")
        let badDay = await rpcError { _ = try await r.listRectifications(.with { $0.openedFrom = "2026-13-01" }) }
        #expect(badDay?.code == .invalidArgument)
        #expect(errorField(badDay) == "opened_from")
      }

      // A clerk sees only the department's, whatever the filter names.
      try await h.ratings(.clerk, "SCJGJ") { r in
        let mine = try await r.listRectifications(.with { $0.openedFrom = "2026-12-01" })
        #expect(mine.rectifications.map(\.number) == [r2])
        let other = try await r.listRectifications(.with { $0.caseNumber = c3 })
        #expect(other.total == 0)
      }
    }
  }
}
