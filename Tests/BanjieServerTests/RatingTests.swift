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
  func ratings<R: Sendable>(
    _ role: PeerIdentity.Role, _ org: String, _ person: String = "测试员",
    _ body: (Banjie_V1_RatingService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_RatingService.Client(wrapping: $0)) }
  }

  func campaigns<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_ReviewCampaignService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_ReviewCampaignService.Client(wrapping: $0)) }
  }

  /// Submits, accepts and completes a case of `item` at its department, for `uscc` (empty: none).
  func completedCase(item: String, department: String, window: String = "A03", uscc: String) async throws -> String {
    try await self.cases(.clerk, department) { cases in
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

  /// Reads the database file directly, as an independent check of what the server computes.
  /// On PostgreSQL, a SQLite copy of every row the database holds now (PostgresSnapshot).
  func database<T>(_ body: (Database) throws -> T) throws -> T {
    var configuration = Configuration()
    configuration.readonly = true
    let path = try self.postgres.map { try PostgresSnapshot.file(of: $0) } ?? self.databasePath
    defer { if self.postgres != nil { try? FileManager.default.removeItem(atPath: path) } }
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    defer { try? queue.close() }
    return try queue.read(body)
  }

  func rows(_ table: String) throws -> Int {
    try self.database { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
  }
}

extension Banjie_V1_RateCaseRequest {
  static func of(_ number: String, _ level: UInt32, _ comment: String = "", tags: [String] = []) -> Self {
    .with {
      $0.caseNumber = number
      $0.level = level
      $0.comment = comment
      $0.tags = tags
    }
  }
}

extension Banjie_V1_RectificationActionRequest {
  static func of(_ number: String, _ text: String, _ configure: (inout Self) -> Void = { _ in }) -> Self {
    var request = Self()
    request.number = number
    request.text = text
    configure(&request)
    return request
  }
}

@Suite("ratings, rectifications and review campaigns")
struct RatingTests {
  let a = testUSCC(501)
  let b = testUSCC(502)
  let c = testUSCC(503)

  @Test("rating: once, own case only, comment on 差评, within the window")
  func ratingRules() async throws {
    try await ServerHarness.run { h in
      let n = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let rating = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 5, tags: ["高效", "高效", "热情"])) }
      #expect(rating.level == 5 && rating.levelName == "非常满意" && !rating.bad && rating.rectificationNumber.isEmpty)
      #expect(rating.tags == ["高效", "热情"])
      let again = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 4)) } }
      #expect(again?.code == .alreadyExists)

      // Another enterprise's case; a clerk may not rate at all.
      let other = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.b)
      #expect(
        await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(other, 5)) } }?.code == .permissionDenied)
      #expect(
        await rpcError { _ = try await h.ratings(.clerk, "SCJGJ") { try await $0.rateCase(.of(other, 5)) } }?.code == .permissionDenied)

      // A 差评 needs a comment.
      let bare = await rpcError { _ = try await h.ratings(.enterprise, self.b) { try await $0.rateCase(.of(other, 2)) } }
      #expect(bare?.code == .invalidArgument)
      #expect(errorField(bare) == "comment")

      // Not yet completed: refused.
      let open = try await h.cases(.clerk, "SCJGJ") { try await $0.submitCase(.sample(uscc: self.b)).number }
      let early = await rpcError { _ = try await h.ratings(.enterprise, self.b) { try await $0.rateCase(.of(open, 5)) } }
      #expect(early?.code == .failedPrecondition)

      // The window: 15 days after completion.
      h.clock.advance(seconds: 15 * 86_400 + 60)
      let late = await rpcError { _ = try await h.ratings(.enterprise, self.b) { try await $0.rateCase(.of(other, 4)) } }
      #expect(late?.code == .failedPrecondition)
      #expect(late?.message.contains("15 days") == true)
      #expect(try h.rows("ratings") == 1)
    }
  }

  @Test("bad input is refused with the field named and nothing written")
  func badInput() async throws {
    try await ServerHarness.run { h in
      let n = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let auditBefore = try h.rows("audit_log")
      let cases: [(String, Banjie_V1_RateCaseRequest)] = [
        ("level", .of(n, 0)),
        ("level", .of(n, 6)),
        ("comment", .of(n, 1, "")),
        ("comment", .of(n, 1, String(repeating: "差", count: 1001))),
        ("comment", .of(n, 5, String(repeating: "好", count: 1001))),
        ("tags[0]", .of(n, 5, tags: [String(repeating: "长", count: 21)])),
        ("tags", .of(n, 5, tags: (0..<11).map { "t\($0)" })),
      ]
      for (field, request) in cases {
        let error = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(request) } }
        #expect(error?.code == .invalidArgument, "\(field)")
        #expect(errorField(error) == field)
      }
      let level = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 0)) } }
      #expect(level?.message.contains("1 (非常不满意) to 5") == true)

      // Campaigns: weights not summing to 100 %, bad scores, not open, not invited.
      let base = Banjie_V1_CreateCampaignRequest.sample(invited: [self.a, self.b])
      let weights = modified(base) { $0.dimensions[0].weightPercent = 30 }
      let sum = await rpcError { _ = try await h.campaigns { try await $0.createCampaign(weights) } }
      #expect(sum?.code == .invalidArgument && errorField(sum) == "dimensions")
      #expect(sum?.message.contains("exactly 100 %, not 90 %") == true)
      let unknown = modified(base) { $0.departmentCodes.append("NOPE") }
      #expect(errorField(await rpcError { _ = try await h.campaigns { try await $0.createCampaign(unknown) } }) == "department_codes[3]")
      let badUSCC = modified(base) { $0.invited.append("91370830000000001X") }
      #expect(errorField(await rpcError { _ = try await h.campaigns { try await $0.createCampaign(badUSCC) } }) == "invited[2]")
      #expect(try h.rows("review_campaigns") == 0)

      let campaign = try await h.campaigns { try await $0.createCampaign(base) }
      let review = Banjie_V1_SubmitReviewRequest.sample(campaign.id, "SCJGJ", [5, 5, 5, 5])
      let draft = await rpcError { _ = try await h.campaigns(.enterprise, self.a) { try await $0.submitReview(review) } }
      #expect(draft?.code == .failedPrecondition)
      _ = try await h.campaigns { try await $0.openCampaign(.with { $0.id = campaign.id }) }
      #expect(
        await rpcError { _ = try await h.campaigns(.enterprise, self.c) { try await $0.submitReview(review) } }?.code == .permissionDenied)
      let range = await rpcError {
        _ = try await h.campaigns(.enterprise, self.a) { try await $0.submitReview(.sample(campaign.id, "SCJGJ", [5, 6, 5, 5])) }
      }
      #expect(range?.code == .invalidArgument && errorField(range) == "scores[1].score")
      let missing = await rpcError {
        _ = try await h.campaigns(.enterprise, self.a) { try await $0.submitReview(.sample(campaign.id, "SCJGJ", [5, 5, 5])) }
      }
      #expect(missing?.code == .invalidArgument && errorField(missing) == "scores")
      let department = await rpcError {
        _ = try await h.campaigns(.enterprise, self.a) { try await $0.submitReview(.sample(campaign.id, "WJJ", [5, 5, 5, 5])) }
      }
      #expect(department?.code == .invalidArgument && errorField(department) == "department_code")
      _ = try await h.campaigns(.enterprise, self.a) { try await $0.submitReview(review) }
      #expect(
        await rpcError { _ = try await h.campaigns(.enterprise, self.a) { try await $0.submitReview(review) } }?.code == .alreadyExists)
      _ = try await h.campaigns { try await $0.closeCampaign(.with { $0.id = campaign.id }) }
      let closed = await rpcError { _ = try await h.campaigns(.enterprise, self.b) { try await $0.submitReview(review) } }
      #expect(closed?.code == .failedPrecondition)
      #expect(try h.rows("campaign_reviews") == 1)
      #expect(try h.rows("ratings") == 0)
      // create, open, review, close: four audit rows and nothing for the refusals.
      #expect(try h.rows("audit_log") == auditBefore + 4)
    }
  }

  @Test("a 差评 opens a rectification that turns red when overdue, with an alert")
  func rectificationLifecycle() async throws {
    try await ServerHarness.run { h in
      let n = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let rating = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 1, "窗口人员态度生硬，材料退回三次")) }
      #expect(rating.bad && rating.rectificationNumber == "ZG-\(n)")
      let number = rating.rectificationNumber
      let opened = try await h.ratings(.clerk, "SCJGJ") { try await $0.getRectification(.with { $0.number = number }) }
      #expect(opened.state == .open && opened.sla.colour == .green && opened.limitWorkingDays == 15)
      // Rated Mon 2026-11-30: 15 working days end Mon 2026-12-21 17:00.
      #expect(opened.sla.dueAt.date == shanghai("2026-12-21T17:00:00"))
      let audit = try h.database { try String.fetchAll($0, sql: "SELECT action FROM audit_log ORDER BY id DESC LIMIT 2") }
      #expect(audit == ["rectification.open", "rating.create"])

      // Another department may not touch it; the enterprise may read it.
      #expect(
        await rpcError {
          _ = try await h.ratings(.clerk, "ZJJ") { try await $0.verifyRectification(.of(number, "x") { $0.valid = true }) }
        }?.code == .permissionDenied)
      #expect(
        await rpcError { _ = try await h.ratings(.clerk, "ZJJ") { try await $0.getRectification(.with { $0.number = number }) } }?.code
          == .permissionDenied)
      _ = try await h.ratings(.enterprise, self.a) { try await $0.getRectification(.with { $0.number = number }) }

      h.clock.set(shanghai("2026-12-17T10:00:00"))
      let yellow = try await h.environment.sweep().filter { $0.kind.hasPrefix("rectification.") }
      #expect(yellow.map(\.kind) == ["rectification.yellow"])
      h.clock.set(shanghai("2026-12-22T09:30:00"))
      let red = try await h.environment.sweep().filter { $0.kind.hasPrefix("rectification.") }
      #expect(red.map(\.kind) == ["rectification.red"])
      #expect(red.first?.departmentCode == "SCJGJ")
      #expect(try await h.environment.sweep().filter { $0.kind.hasPrefix("rectification.") }.isEmpty)

      // A head of the department verifies (docs/DOMAIN.md §21); 张伟 completed the case and was rated.
      #expect(opened.ratedOrganization == "SCJGJ" && opened.ratedPerson == "张伟")
      try await h.assignHead("SCJGJ", "王芳")
      try await h.ratings(.clerk, "SCJGJ", "王芳") { r in
        #expect(await rpcError { _ = try await r.rectifyRectification(.of(number, "整改")) }?.code == .failedPrecondition)
        let verified = try await r.verifyRectification(.of(number, "调取窗口录像属实") { $0.valid = true })
        #expect(verified.state == .verified && verified.verifiedValid)
        let rectified = try await r.rectifyRectification(.of(number, "约谈窗口人员，开展服务礼仪培训"))
        #expect(rectified.state == .rectified && !rectified.completedOnTime && !rectified.hasSla)
        let followed = try await r.followUpRectification(.of(number, "电话回访企业，认可整改") { $0.satisfied = true })
        #expect(followed.state == .followedUp && followed.followUpSatisfied && followed.confirmation == .followUp)
        let closed = try await r.closeRectification(.of(number, ""))
        #expect(closed.state == .closed)
      }
      let listed = try await h.ratings(.office, "YSB") { try await $0.listRectifications(.with { $0.states = [.closed] }) }
      #expect(listed.rectifications.map(\.number) == [number])
    }
  }

  @Test("measures equal an independent computation; an upheld appeal changes them visibly")
  func measures() async throws {
    try await ServerHarness.run { h in
      let c1 = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a)
      let c2 = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A04", uscc: self.b)
      let c3 = try await h.completedCase(item: "ZJJ-001", department: "ZJJ", window: "B01", uscc: self.a)
      _ = try await h.completedCase(item: "ZJJ-001", department: "ZJJ", window: "B01", uscc: self.b)
      _ = try await h.completedCase(item: "ZJJ-001", department: "ZJJ", window: "B02", uscc: "")
      let c6 = try await h.completedCase(item: "GAJ-001", department: "GAJ", window: "C01", uscc: self.a)
      let c7 = try await h.completedCase(item: "GAJ-001", department: "GAJ", window: "C01", uscc: self.c)
      _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(c1, 5)) }
      let bad2 = try await h.ratings(.enterprise, self.b) { try await $0.rateCase(.of(c2, 1, "超时未办")) }
      _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(c3, 4)) }
      let bad6 = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(c6, 2, "多跑了一次")) }
      _ = try await h.ratings(.enterprise, self.c) { try await $0.rateCase(.of(c7, 3)) }
      try await h.assignHead("SCJGJ", "测试员")
      try await h.ratings(.clerk, "SCJGJ") { r in
        _ = try await r.verifyRectification(.of(bad2.rectificationNumber, "属实") { $0.valid = true })
        _ = try await r.rectifyRectification(.of(bad2.rectificationNumber, "限时办结制度"))
        _ = try await r.followUpRectification(.of(bad2.rectificationNumber, "企业满意") { $0.satisfied = true })
      }
      // A case completed the next day lies outside a one-day period.
      h.clock.set(shanghai("2026-12-01T10:00:00"))
      let c8 = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.c)
      _ = try await h.ratings(.enterprise, self.c) { try await $0.rateCase(.of(c8, 5)) }

      let request = Banjie_V1_RatingMeasuresRequest.with {
        $0.from = "2026-11-30"
        $0.to = "2026-11-30"
      }
      let before = try await h.ratings(.office, "YSB") { try await $0.getRatingMeasures(request) }
      #expect(try Self.independent(h, from: "2026-11-30", to: "2026-11-30", by: "department_code") == Self.tuples(before.groups))
      // Hand-checked: 7 cases; rated 5; good 2 (5, 4); 差评 2; unrated 2 (one never rated, one without enterprise).
      #expect(Self.tuple(before.total) == Self.Tuple(key: "", completed: 7, rated: 5, excluded: 0, good: 2, bad: 2, onTime: 1, followed: 1))
      #expect(before.total.goodShare == 0.4 && abs(before.total.unratedShare - 2.0 / 7) < 1e-12 && before.total.rectifiedOnTimeShare == 0.5)
      #expect(before.groups.map(\.name) == ["县公安局", "县市场监督管理局", "县住房和城乡建设局"])
      let byWindow = try await h.ratings(.office, "YSB") {
        try await $0.getRatingMeasures(
          .with {
            $0.from = "2026-11-30"
            $0.to = "2026-12-01"
            $0.by = "window"
          })
      }
      #expect(try Self.independent(h, from: "2026-11-30", to: "2026-12-01", by: "window") == Self.tuples(byWindow.groups))
      let byItem = try await h.ratings(.office, "YSB") {
        try await $0.getRatingMeasures(
          .with {
            $0.from = "2026-11-30"
            $0.to = "2026-12-01"
            $0.by = "item"
          })
      }
      #expect(try Self.independent(h, from: "2026-11-30", to: "2026-12-01", by: "item_code") == Self.tuples(byItem.groups))
      #expect(
        await rpcError { _ = try await h.ratings(.clerk, "GAJ") { try await $0.getRatingMeasures(request) } }?.code == .permissionDenied)

      // GAJ appeals the 差评 of c6; the office upholds it.
      let number = bad6.rectificationNumber
      #expect(
        await rpcError { _ = try await h.ratings(.clerk, "GAJ") { try await $0.decideAppeal(.of(number, "x") { $0.uphold = true }) } }?.code
          == .permissionDenied)
      let appealed = try await h.ratings(.clerk, "GAJ") { try await $0.appealRectification(.of(number, "企业申请材料不全，已一次性告知")) }
      #expect(appealed.appealState == .pending)
      #expect(
        await rpcError { _ = try await h.ratings(.clerk, "GAJ") { try await $0.appealRectification(.of(number, "再次申诉")) } }?.code
          == .failedPrecondition)
      let decided = try await h.ratings(.office, "YSB") { try await $0.decideAppeal(.of(number, "经核查申诉成立") { $0.uphold = true }) }
      #expect(decided.appealState == .upheld && decided.state == .closed)
      #expect(decided.rating.excluded && decided.rating.excludedReason.contains("经核查申诉成立"))
      let shown = try await h.ratings(.enterprise, self.a) { try await $0.getRating(.with { $0.caseNumber = c6 }) }
      #expect(shown.excluded && shown.level == 2)
      let audit = try h.database { try Row.fetchOne($0, sql: "SELECT action, entity_id FROM audit_log WHERE action = 'rating.exclude'") }
      #expect(audit?["entity_id"] == c6)

      let after = try await h.ratings(.office, "YSB") { try await $0.getRatingMeasures(request) }
      #expect(try Self.independent(h, from: "2026-11-30", to: "2026-11-30", by: "department_code") == Self.tuples(after.groups))
      #expect(Self.tuple(after.total) == Self.Tuple(key: "", completed: 7, rated: 4, excluded: 1, good: 2, bad: 1, onTime: 1, followed: 1))
      #expect(after.total.goodShare == 0.5 && abs(after.total.unratedShare - 3.0 / 7) < 1e-12)
      let gaj = after.groups.first { $0.key == "GAJ" }
      #expect(gaj?.rated == 1 && gaj?.excluded == 1 && gaj?.bad == 0 && gaj?.unrated == 1)
      // The dashboard's rating figures follow the upheld appeal too.
      #expect(try await h.environment.store.dashboardAggregateDifferences().isEmpty)
      let dashboard = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-11-30")) }
      #expect(dashboard.summary.rated == 4 && dashboard.summary.good == 2 && dashboard.goodShare == 0.5)
    }
  }

  @Test("campaign results: weighted scores, response rates and competition ranks with ties")
  func campaignResults() async throws {
    try await ServerHarness.run { h in
      let invited = [self.a, self.b, self.c, testUSCC(504)]
      let created = try await h.campaigns { try await $0.createCampaign(.sample(invited: invited)) }
      #expect(created.state == .draft && created.invited.count == 4)
      let id = created.id
      _ = try await h.campaigns { try await $0.openCampaign(.with { $0.id = id }) }
      // Weights: efficiency 40, attitude 30, transparency 20, integrity 10.
      let reviews: [(String, String, [UInt32])] = [
        (self.a, "SCJGJ", [5, 4, 5, 4]),  // 200 + 120 + 100 + 40 = 460 (weights 40/30/20/10)
        (self.b, "SCJGJ", [4, 4, 4, 4]),  // 400
        (self.a, "ZJJ", [5, 5, 4, 3]),  // 200 + 150 + 80 + 30 = 460
        (self.c, "ZJJ", [4, 4, 4, 4]),  // 400 → mean 430, ties SCJGJ
        (self.a, "GAJ", [5, 5, 5, 5]),  // 500
        (self.b, "GAJ", [3, 3, 3, 3]),  // 300
        (self.c, "GAJ", [3, 3, 3, 4]),  // 310 → mean 370
      ]
      for (uscc, department, scores) in reviews {
        _ = try await h.campaigns(.enterprise, uscc) { try await $0.submitReview(.sample(id, department, scores)) }
      }
      let mine = try await h.campaigns(.enterprise, self.a) { try await $0.listCampaigns(.init()) }
      #expect(mine.campaigns.first?.reviewedByMe == ["GAJ", "SCJGJ", "ZJJ"])
      #expect(try await h.campaigns(.enterprise, testUSCC(599)) { try await $0.listCampaigns(.init()) }.campaigns.isEmpty)
      _ = try await h.campaigns { try await $0.closeCampaign(.with { $0.id = id }) }
      let unpublished = await rpcError {
        _ = try await h.campaigns(.enterprise, self.a) { try await $0.getCampaignResults(.with { $0.id = id }) }
      }
      #expect(unpublished?.code == .failedPrecondition)
      let results = try await h.campaigns { try await $0.getCampaignResults(.with { $0.id = id }) }
      #expect(results.departments.map(\.departmentCode) == ["SCJGJ", "ZJJ", "GAJ"])
      #expect(results.departments.map(\.rank) == [1, 1, 3])
      #expect(results.departments.map(\.score) == [4.3, 4.3, 3.7])
      #expect(results.departments.map(\.reviews) == [2, 2, 3])
      #expect(results.departments.map(\.responseRate) == [0.5, 0.5, 0.75])

      // Independently from the database: mean of Σ weight × score over the stored scores.
      let independent = try h.database { db -> [String: Double] in
        let dims = try String.fetchOne(db, sql: "SELECT dimensions FROM review_campaigns WHERE id = ?", arguments: [id]) ?? "[]"
        let weights = try JSONDecoder().decode([CampaignDimension].self, from: Data(dims.utf8))
        var sums: [String: (Int, Int)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT department_code, scores FROM campaign_reviews WHERE campaign_id = ?", arguments: [id])
        {
          let scores = try JSONDecoder().decode([String: Int].self, from: Data((row["scores"] as String).utf8))
          let weighted = weights.reduce(0) { $0 + $1.weightPercent * (scores[$1.name] ?? 0) }
          let code: String = row["department_code"]
          sums[code] = ((sums[code]?.0 ?? 0) + weighted, (sums[code]?.1 ?? 0) + 1)
        }
        return sums.mapValues { Double($0.0) / Double($0.1) / 100 }
      }
      for d in results.departments { #expect(abs((independent[d.departmentCode] ?? -1) - d.score) < 1e-9) }

      _ = try await h.campaigns { try await $0.publishCampaign(.with { $0.id = id }) }
      let published = try await h.campaigns(.enterprise, self.a) { try await $0.getCampaignResults(.with { $0.id = id }) }
      #expect(published.departments.map(\.rank) == [1, 1, 3])
      #expect(await rpcError { _ = try await h.campaigns { try await $0.openCampaign(.with { $0.id = id }) } }?.code == .failedPrecondition)
    }
  }

  @Test("competition ranking")
  func ranking() {
    #expect(CompetitionRanking.ranks([3, 5, 5, 1, 3]) { $0 > $1 } == [3, 1, 1, 5, 3])
    #expect(CompetitionRanking.ranks([Int]()) { $0 > $1 } == [])
    #expect(CompetitionRanking.ranks([2, 2, 2]) { $0 > $1 } == [1, 1, 1])
  }

  @Test("idempotent rating: a retry returns the first answer and opens no second rectification")
  func idempotency() async throws {
    try await ServerHarness.run { h in
      let n = try await h.completedCase(item: "SCJGJ-003", department: "SCJGJ", uscc: self.a)
      let metadata: Metadata = ["idempotency-key": "rate-1"]
      let first = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 2, "慢"), metadata: metadata) }
      let second = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(n, 2, "慢"), metadata: metadata) }
      #expect(first == second)
      #expect(try h.rows("rectifications") == 1)
    }
  }

  // MARK: Independent computation

  struct Tuple: Hashable, CustomStringConvertible {
    var key: String
    var completed, rated, excluded, good, bad, onTime, followed: Int
    var description: String { "\(key): \(completed) \(rated) \(excluded) \(good) \(bad) \(onTime) \(followed)" }
  }

  static func tuple(_ m: Banjie_V1_RatingMeasures) -> Tuple {
    Tuple(
      key: m.key, completed: Int(m.completed), rated: Int(m.rated), excluded: Int(m.excluded), good: Int(m.good), bad: Int(m.bad),
      onTime: Int(m.rectifiedOnTime), followed: Int(m.followedUp))
  }

  static func tuples(_ groups: [Banjie_V1_RatingMeasures]) -> [Tuple] { groups.map(tuple) }

  /// The measures in plain SQL over the database file, grouped by a column of `cases`.
  static func independent(_ h: ServerHarness, from: String, to: String, by column: String) throws -> [Tuple] {
    try h.database { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT c.\(column) AS key,
            COUNT(*) AS completed,
            COALESCE(SUM(g.level IS NOT NULL AND g.excluded = 0), 0) AS rated,
            COALESCE(SUM(g.excluded = 1), 0) AS excluded,
            COALESCE(SUM(g.excluded = 0 AND g.level >= 4), 0) AS good,
            COALESCE(SUM(g.excluded = 0 AND g.level <= 2), 0) AS bad,
            COALESCE(SUM(g.excluded = 0 AND g.level <= 2 AND r.completed_at IS NOT NULL AND julianday(r.completed_at) <= julianday(r.due_at)), 0) AS on_time,
            COALESCE(SUM(g.excluded = 0 AND g.level <= 2 AND r.followed_up_at IS NOT NULL), 0) AS followed
          FROM cases c LEFT JOIN ratings g ON g.case_id = c.id LEFT JOIN rectifications r ON r.case_id = c.id
          WHERE c.completed_at IS NOT NULL AND date(c.completed_at, '+8 hours') BETWEEN ? AND ?
          GROUP BY c.\(column) ORDER BY c.\(column)
          """, arguments: [from, to]
      ).map { row in
        Tuple(
          key: row["key"], completed: row["completed"], rated: row["rated"], excluded: row["excluded"], good: row["good"], bad: row["bad"],
          onTime: row["on_time"], followed: row["followed"])
      }
    }
  }
}

func modified<T>(_ value: T, _ change: (inout T) -> Void) -> T {
  var copy = value
  change(&copy)
  return copy
}

extension Banjie_V1_CreateCampaignRequest {
  static func sample(invited: [String]) -> Self {
    .with {
      $0.name = "2026年度千企评议"
      $0.periodFrom = "2026-01-01"
      $0.periodTo = "2026-12-31"
      $0.departmentCodes = ["SCJGJ", "ZJJ", "GAJ"]
      $0.dimensions = [("efficiency", UInt32(40)), ("attitude", 30), ("transparency", 20), ("integrity", 10)].map { d in
        .with {
          $0.name = d.0
          $0.weightPercent = d.1
        }
      }
      $0.invited = invited
    }
  }
}

extension Banjie_V1_SubmitReviewRequest {
  static func sample(_ id: Int64, _ department: String, _ scores: [UInt32]) -> Self {
    let names = ["efficiency", "attitude", "transparency", "integrity"]
    return .with {
      $0.campaignID = id
      $0.departmentCode = department
      $0.scores = zip(names, scores).map { pair in
        .with {
          $0.dimension = pair.0
          $0.score = pair.1
        }
      }
    }
  }
}
