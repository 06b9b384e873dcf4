import BanjieCore
import Foundation
import Synchronization
import Testing

@testable import BanjieStore

/// 好差评, its rectifications and 部门会签 on the SQL layer (issue 17): each scenario runs on SQLite
/// and on PostgreSQL with the same expectations, and the two engines' answers and rows (ratings,
/// rectifications, countersign drafts and units, alerts, the audit chain) are compared value for
/// value.
@Suite("Ratings and countersigns on both engines")
struct StoreEngineRatingCountersignTests {
  static let now = Date(timeIntervalSince1970: 1_796_608_800)  // 2026-12-07 10:00 in Beijing, a Monday
  static let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "张伟", certificateSerial: "0A")
  static let head = Actor(role: .clerk, organization: "SCJGJ", person: "王芳", certificateSerial: "0B")
  static let otherClerk = Actor(role: .clerk, organization: "ZJJ", person: "赵强", certificateSerial: "0C")
  static let landClerk = Actor(role: .clerk, organization: "ZRZYJ", person: "孙丽", certificateSerial: "0D")
  static let hallClerk = Actor(role: .clerk, organization: "ZWFWZX", person: "刘洋", certificateSerial: "0E")
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0F")
  static let departments = [
    DepartmentRecord(code: "SCJGJ", name: "市场监管局"), DepartmentRecord(code: "ZJJ", name: "住建局"),
    DepartmentRecord(code: "ZRZYJ", name: "自然资源局"), DepartmentRecord(code: "ZWFWZX", name: "政务服务中心"),
  ]
  static let item = ServiceItemRecord(
    code: "SCJGJ-002", name: "个体工商户登记", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 1, limitUnit: .workingDays,
    legalLimitDays: 15, materials: ["身份证", "经营场所证明"], allowsMinorPending: false, proxySteps: [.supplement, .collect])

  static func enterprise(_ n: Int) -> Actor {
    Actor(role: .enterprise, organization: testUSCC(n), person: "法人\(n)", certificateSerial: "E\(n)")
  }

  /// What a scenario leaves: the answers, then every row it wrote, in key order.
  struct Outcome: Equatable {
    var ratings: [RatingView]
    var rectifications: [RectificationView]
    var listed: [[String]]
    var totals: [Int]
    var measures: [RatingMeasuresReport]
    var alerts: [[AlertRecord]]
    var countersigns: [CountersignView]
    var refusals: [String]
    var ratingRows: [SQLRow]
    var rectificationRows: [SQLRow]
    var documentRows: [SQLRow]
    var unitRows: [SQLRow]
    var alertRows: [SQLRow]
    var auditRows: [SQLRow]
    var chainRows: Int64
  }

  /// The rows a refusal must leave as they were.
  static func written(_ store: BanjieStore) async throws -> [Int64] {
    try await store.read { sql in
      try [
        "ratings", "rectifications", "countersign_documents", "countersign_units", "alerts", "audit_log", "idempotency",
      ].map { try sql.fetchOne(Int64.self, "SELECT COUNT(*) FROM \($0)") ?? -1 }
    }
  }

  /// Runs `body`, which must fail with a DomainError and write nothing; answers its code.
  static func refused(
    _ store: BanjieStore, _ expected: String, field: String? = nil, _ body: () async throws -> Void
  ) async throws -> String {
    let before = try await Self.written(store)
    let error = await #expect(throws: DomainError.self) { try await body() }
    #expect(error?.code == expected)
    if let field { #expect(error?.field == field) }
    #expect(try await Self.written(store) == before, "\(expected) wrote something")
    return "\(error?.code ?? "?") \(error?.field ?? "") \(error?.arguments ?? [])"
  }

  static func submit(_ store: BanjieStore, clock: SLAClock, applicant: String, uscc: String?) async throws -> String {
    try await store.submitCase(
      NewCase(itemCode: "SCJGJ-002", applicant: applicant, enterpriseUSCC: uscc, window: "A03", note: ""), regionCode: "370830",
      actor: Self.clerk, authorize: { _, _ in }, clock: clock, now: Self.now, key: nil
    ).record.number
  }

  /// Completes a case directly in the tables (CaseStore.transition is converted elsewhere): the
  /// state and instant rateCase checks, and the completion event that names the rated clerk.
  static func complete(_ store: BanjieStore, _ number: String, at: Date) async throws {
    try await store.mutate { sql in
      try sql.execute(
        "UPDATE cases SET state = 'COMPLETED', outcome = 'APPROVED', completed_at = ?, version = version + 1 WHERE number = ?",
        [StoredDate(at).sqlValue, .text(number)])
      try sql.execute(
        """
        INSERT INTO case_events (case_id, seq, at, action, from_state, to_state, actor_role, actor_organization, actor_person, note)
        SELECT id, 2, ?, 'complete', 'RECEIVED', 'COMPLETED', 'clerk', 'SCJGJ', '张伟', '' FROM cases WHERE number = ?
        """, [StoredDate(at).sqlValue, .text(number)])
    }
  }

  static func rate(
    _ store: BanjieStore, _ number: String, level: Int, comment: String, tags: [String] = [], actor: Actor, clock: SLAClock,
    now: Date = Self.now.addingTimeInterval(3600), key: String? = nil
  ) async throws -> RatingView {
    let uscc = actor.organization
    return try await store.rateCase(
      caseNumber: number, input: try RatingInput(level: level, comment: comment, tags: tags), ratingCode: nil, rater: .enterprise,
      actor: actor,
      authorize: { record in
        guard record.enterpriseUscc == uscc else {
          throw DomainError(kind: .permissionDenied, code: "rating.not_your_case", arguments: [record.number])
        }
      }, clock: clock, now: now, key: key.map { IdempotencyKey(caller: "enterprise:\(uscc)", key: $0) })
  }

  static func step(
    _ store: BanjieStore, _ number: String, _ action: RectificationAction, _ text: String, actor: Actor, clock: SLAClock,
    expectedVersion: Int64? = nil, minutes: Double
  ) async throws -> RectificationView {
    try await store.transitionRectification(
      number: number, action: action, text: text, expectedVersion: expectedVersion, actor: actor, clock: clock,
      now: Self.now.addingTimeInterval(minutes * 60), key: nil)
  }

  static func scenario(_ store: BanjieStore) async throws -> Outcome {
    _ = try await store.importCatalog(departments: Self.departments, items: [Self.item], actor: .system, now: Self.now)
    _ = try await store.assignDepartmentHead(
      department: "SCJGJ", person: Self.head.person, remove: false, actor: Self.office, now: Self.now, key: nil)
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    var refusals: [String] = []

    // Five cases: a (bad rating, rectified and closed), b (good), c (never completed),
    // d (bad rating, appeal upheld), e (bad rating, left open for the sweeper).
    let a = try await Self.submit(store, clock: clock, applicant: "汶上县鲁源机械有限公司", uscc: testUSCC(3))
    let b = try await Self.submit(store, clock: clock, applicant: "王小二", uscc: testUSCC(4))
    let c = try await Self.submit(store, clock: clock, applicant: "李四", uscc: testUSCC(5))
    let d = try await Self.submit(store, clock: clock, applicant: "汶上县宏达商贸有限公司", uscc: testUSCC(6))
    let e = try await Self.submit(store, clock: clock, applicant: "汶上县顺通物流有限公司", uscc: testUSCC(7))
    for number in [a, b, d, e] { try await Self.complete(store, number, at: Self.now.addingTimeInterval(1800)) }

    // Refusals of a rating: not completed, unknown case, not the rater's case.
    refusals.append(
      try await Self.refused(store, "rating.not_completed", field: "case_number") {
        _ = try await Self.rate(store, c, level: 5, comment: "", actor: Self.enterprise(5), clock: clock)
      })
    refusals.append(
      try await Self.refused(store, "case.not_found", field: "case_number") {
        _ = try await Self.rate(store, "370830-20261207-000099", level: 5, comment: "", actor: Self.enterprise(5), clock: clock)
      })
    refusals.append(
      try await Self.refused(store, "rating.not_your_case") {
        _ = try await Self.rate(store, a, level: 1, comment: "态度差", actor: Self.enterprise(4), clock: clock)
      })
    // After the rating window (15 days from completion).
    refusals.append(
      try await Self.refused(store, "rating.window_closed", field: "case_number") {
        _ = try await Self.rate(
          store, b, level: 5, comment: "", actor: Self.enterprise(4), clock: clock, now: Self.now.addingTimeInterval(16 * 86400))
      })

    var ratings: [RatingView] = []
    ratings.append(
      try await Self.rate(store, a, level: 1, comment: "窗口人员态度差", tags: ["态度", "效率 "], actor: Self.enterprise(3), clock: clock))
    let good = try await Self.rate(store, b, level: 5, comment: "很好", tags: ["高效"], actor: Self.enterprise(4), clock: clock, key: "r-1")
    // The same key again: the first answer, nothing written.
    #expect(try await Self.rate(store, b, level: 5, comment: "很好", actor: Self.enterprise(4), clock: clock, key: "r-1") == good)
    ratings.append(good)
    ratings.append(try await Self.rate(store, d, level: 2, comment: "等候太久", actor: Self.enterprise(6), clock: clock))
    ratings.append(try await Self.rate(store, e, level: 1, comment: "材料被退回三次", actor: Self.enterprise(7), clock: clock))
    refusals.append(
      try await Self.refused(store, "rating.already_rated", field: "case_number") {
        _ = try await Self.rate(store, b, level: 4, comment: "", actor: Self.enterprise(4), clock: clock)
      })

    // The rectification of a, walked to its close.
    let za = "ZG-\(a)"
    refusals.append(
      try await Self.refused(store, "rectification.not_found", field: "number") {
        _ = try await Self.step(store, "ZG-404", .verify(valid: true), "", actor: Self.office, clock: clock, minutes: 70)
      })
    refusals.append(
      try await Self.refused(store, "rectification.not_your_department") {
        _ = try await Self.step(store, za, .verify(valid: true), "核实", actor: Self.otherClerk, clock: clock, minutes: 70)
      })
    refusals.append(
      try await Self.refused(store, "rectification.rated_clerk") {
        _ = try await Self.step(store, za, .verify(valid: true), "核实", actor: Self.clerk, clock: clock, minutes: 70)
      })
    refusals.append(
      try await Self.refused(store, "rectification.illegal_transition", field: "state") {
        _ = try await Self.step(store, za, .rectify, "措施", actor: Self.clerk, clock: clock, minutes: 70)
      })
    refusals.append(
      try await Self.refused(store, "rectification.version_conflict", field: "expected_version") {
        _ = try await Self.step(
          store, za, .verify(valid: true), "核实", actor: Self.head, clock: clock, expectedVersion: 7, minutes: 70)
      })
    var rectifications: [RectificationView] = []
    rectifications.append(
      try await Self.step(store, za, .verify(valid: true), "调取录像属实", actor: Self.head, clock: clock, expectedVersion: 1, minutes: 70))
    rectifications.append(try await Self.step(store, za, .rectify, "开展服务礼仪培训", actor: Self.clerk, clock: clock, minutes: 24 * 60))
    refusals.append(
      try await Self.refused(store, "rectification.confirmation_missing", field: "confirmation") {
        _ = try await Self.step(store, za, .close, "", actor: Self.office, clock: clock, minutes: 25 * 60)
      })
    rectifications.append(
      try await Self.step(store, za, .followUp(satisfied: true), "企业表示满意", actor: Self.office, clock: clock, minutes: 26 * 60))
    rectifications.append(try await Self.step(store, za, .close, "整改完成", actor: Self.office, clock: clock, minutes: 27 * 60))

    // d: the department appeals, the office upholds: the rating leaves the measures.
    let zd = "ZG-\(d)"
    rectifications.append(try await Self.step(store, zd, .appeal, "系统故障所致", actor: Self.clerk, clock: clock, minutes: 80))
    refusals.append(
      try await Self.refused(store, "rectification.office_only") {
        _ = try await Self.step(store, zd, .decide(uphold: true), "", actor: Self.head, clock: clock, minutes: 90)
      })
    rectifications.append(
      try await Self.step(store, zd, .decide(uphold: true), "经查系统故障", actor: Self.office, clock: clock, minutes: 90))

    // Reads: a rating with its case, a rectification, pages of the list.
    let (ratedCase, rating) = try #require(try await store.rating(caseNumber: d))
    #expect(ratedCase.number == d)
    ratings.append(try #require(rating))
    #expect(try await store.rating(caseNumber: c).map { $0.1 == nil } == true)
    #expect(try await store.rating(caseNumber: "370830-20261207-000099") == nil)
    let later = Self.now.addingTimeInterval(2 * 86400)
    rectifications.append(try #require(try await store.rectification(number: za, clock: clock, now: later)))
    rectifications.append(try #require(try await store.rectification(number: "ZG-\(e)", clock: clock, now: later)))
    #expect(try await store.rectification(number: "ZG-404", clock: clock, now: later) == nil)
    var listed: [[String]] = []
    var totals: [Int] = []
    var filters: [BanjieStore.RectificationFilter] = []
    filters.append(BanjieStore.RectificationFilter())
    var filter = BanjieStore.RectificationFilter()
    filter.department = "SCJGJ"
    filter.states = [.open, .closed]
    filter.colours = [.green]
    filter.openedFrom = try LocalDate(year: 2026, month: 12, day: 7)
    filter.openedTo = try LocalDate(year: 2026, month: 12, day: 7)
    filters.append(filter)
    filter = BanjieStore.RectificationFilter()
    filter.uscc = testUSCC(7)
    filters.append(filter)
    filter = BanjieStore.RectificationFilter()
    filter.caseNumber = a
    filters.append(filter)
    filter = BanjieStore.RectificationFilter()
    filter.pageSize = 2
    filters.append(filter)
    filter.after = "ZG-\(d)"
    filters.append(filter)
    filter = BanjieStore.RectificationFilter()
    filter.department = "ZJJ"
    filters.append(filter)
    for filter in filters {
      let page = try await store.listRectifications(filter, clock: clock, now: later)
      listed.append(page.views.map(\.record.number) + [page.next ?? "-"])
      totals.append(page.total)
    }

    var measures: [RatingMeasuresReport] = []
    for grouping in RatingGrouping.allCases {
      measures.append(
        try await store.ratingMeasures(
          from: try LocalDate(year: 2026, month: 12, day: 1), to: try LocalDate(year: 2026, month: 12, day: 31), by: grouping,
          calendar: clock.calendar))
    }

    // The sweeper: e's rectification turns yellow, then red; the others are done.
    var alerts: [[AlertRecord]] = []
    for days in [1.0, 14, 14, 40] {
      alerts.append(try await store.sweepRectifications(clock: clock, now: Self.now.addingTimeInterval(days * 86400)))
    }

    // Countersigning.
    let draft = NewCountersign(
      title: "关于进一步优化营商环境的实施意见（征求意见稿）", documentNumber: "汶政办字〔2026〕12号", lengthCharacters: 2800, policy: true,
      overLengthReason: "", units: ["ZRZYJ", "ZJJ"])
    let csKey = IdempotencyKey(caller: "clerk:SCJGJ:张伟", key: "cs-1")
    var countersigns: [CountersignView] = []
    for (units, code) in [
      (["ZJJ", "SCJGJ"], "countersign.lead_unit_listed"), (["XYZ"], "countersign.unknown_unit"), ([], "countersign.no_units"),
    ] {
      var bad = draft
      bad.units = units
      refusals.append(
        try await Self.refused(store, code, field: "units") {
          _ = try await store.registerCountersign(bad, regionCode: "370830", actor: Self.clerk, clock: clock, now: Self.now, key: nil)
        })
    }
    refusals.append(
      try await Self.refused(store, "countersign.unknown_lead") {
        _ = try await store.registerCountersign(
          draft, regionCode: "370830", actor: Actor(role: .clerk, organization: "XYZ", person: "某人", certificateSerial: "99"),
          clock: clock, now: Self.now, key: nil)
      })
    let first = try await store.registerCountersign(draft, regionCode: "370830", actor: Self.clerk, clock: clock, now: Self.now, key: csKey)
    #expect(
      try await store.registerCountersign(draft, regionCode: "370830", actor: Self.clerk, clock: clock, now: Self.now, key: csKey) == first)
    countersigns.append(first)
    var second = draft
    second.title = "关于政务服务事项清单的通知"
    second.documentNumber = ""
    second.policy = false
    second.units = ["ZJJ"]
    countersigns.append(
      try await store.registerCountersign(
        second, regionCode: "370830", actor: Self.clerk, clock: clock, now: Self.now.addingTimeInterval(60), key: nil))
    let n1 = first.document.number
    let n2 = countersigns[1].document.number
    func answer(_ number: String, _ answer: CountersignAnswer, _ text: String, _ actor: Actor, version: Int64? = nil, hours: Double)
      async throws -> CountersignView
    {
      try await store.answerCountersign(
        number: number, answer: answer, text: text, expectedVersion: version, actor: actor, clock: clock,
        now: Self.now.addingTimeInterval(hours * 3600), key: nil)
    }
    func extend(_ unit: String, days: Int, reason: String, actor: Actor, version: Int64? = nil) async throws -> CountersignView {
      try await store.extendCountersign(
        number: n1, unit: unit, days: days, reason: reason, expectedVersion: version, actor: actor, clock: clock,
        now: Self.now.addingTimeInterval(3 * 3600), key: nil)
    }
    refusals.append(
      try await Self.refused(store, "countersign.not_found", field: "number") {
        _ = try await answer("HQ-370830-20261207-0099", .agree, "", Self.otherClerk, hours: 2)
      })
    refusals.append(
      try await Self.refused(store, "countersign.not_a_unit") { _ = try await answer(n1, .agree, "", Self.hallClerk, hours: 2) })
    refusals.append(
      try await Self.refused(store, "countersign.version_conflict", field: "expected_version") {
        _ = try await answer(n1, .agree, "", Self.otherClerk, version: 5, hours: 2)
      })
    countersigns.append(try await answer(n1, .agree, "", Self.otherClerk, version: 1, hours: 2))
    refusals.append(
      try await Self.refused(store, "countersign.already_answered", field: "number") {
        _ = try await answer(n1, .agree, "", Self.otherClerk, hours: 2.5)
      })
    refusals.append(
      try await Self.refused(store, "countersign.not_lead") {
        _ = try await extend("ZRZYJ", days: 2, reason: "需实地核查", actor: Self.landClerk)
      })
    refusals.append(
      try await Self.refused(store, "countersign.already_answered", field: "unit") {
        _ = try await extend("ZJJ", days: 2, reason: "需实地核查", actor: Self.clerk)
      })
    refusals.append(
      try await Self.refused(store, "countersign.no_such_unit", field: "unit") {
        _ = try await extend("ZWFWZX", days: 2, reason: "需实地核查", actor: Self.clerk)
      })
    countersigns.append(try await extend("ZRZYJ", days: 2, reason: "需实地核查", actor: Self.clerk, version: 2))

    // Reads and pages.
    countersigns.append(try #require(try await store.countersign(number: n1, clock: clock, now: later)))
    #expect(try await store.countersign(number: "HQ-404", clock: clock, now: later) == nil)
    var csFilters: [BanjieStore.CountersignFilter] = [BanjieStore.CountersignFilter()]
    var csFilter = BanjieStore.CountersignFilter()
    csFilter.involving = "ZJJ"
    csFilters.append(csFilter)
    csFilter = BanjieStore.CountersignFilter()
    csFilter.waitingOn = "ZJJ"
    csFilters.append(csFilter)
    csFilter = BanjieStore.CountersignFilter()
    csFilter.lead = "SCJGJ"
    csFilter.states = [.open]
    csFilter.pageSize = 1
    csFilters.append(csFilter)
    csFilter.after = n2
    csFilters.append(csFilter)
    csFilter = BanjieStore.CountersignFilter()
    csFilter.states = [.complete]
    csFilters.append(csFilter)
    for filter in csFilters {
      let page = try await store.listCountersigns(filter, clock: clock, now: later)
      listed.append(page.views.map(\.document.number) + [page.next ?? "-"])
      totals.append(page.total)
      countersigns += page.views
    }

    // The sweeper, then the last answer after the deadline completes the first draft.
    for days in [4.0, 6, 6, 30] {
      alerts.append(try await store.sweepCountersign(clock: clock, now: Self.now.addingTimeInterval(days * 86400)))
    }
    countersigns.append(try await answer(n1, .disagree, "与现行规划冲突", Self.landClerk, hours: 31 * 24))
    refusals.append(
      try await Self.refused(store, "countersign.complete", field: "number") {
        _ = try await extend("ZRZYJ", days: 1, reason: "再议", actor: Self.clerk)
      })

    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return Outcome(
      ratings: ratings, rectifications: rectifications, listed: listed, totals: totals, measures: measures, alerts: alerts,
      countersigns: countersigns, refusals: refusals,
      ratingRows: try await TestEngine.rows(store, "SELECT * FROM ratings ORDER BY case_id"),
      rectificationRows: try await TestEngine.rows(store, "SELECT * FROM rectifications ORDER BY id"),
      documentRows: try await TestEngine.rows(store, "SELECT * FROM countersign_documents ORDER BY id"),
      unitRows: try await TestEngine.rows(store, "SELECT * FROM countersign_units ORDER BY document_id, unit"),
      alertRows: try await TestEngine.rows(store, "SELECT * FROM alerts ORDER BY id"),
      auditRows: try await TestEngine.rows(store, "SELECT * FROM audit_log ORDER BY id"), chainRows: chain.rows)
  }

  @Test("ratings, rectifications, measures, countersigns and both sweepers; refusals write nothing", arguments: TestEngine.allCases)
  func scenario(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let o = try await Self.scenario(store)
      // Ratings: a bad one opens its rectification, a good one none; the upheld appeal excludes d's.
      #expect(o.ratings.map(\.record.level) == [1, 5, 2, 1, 2])
      #expect(o.ratings[0].rectificationNumber == "ZG-\(o.ratings[0].record.caseNumber)" && o.ratings[1].rectificationNumber == nil)
      #expect(o.ratings[0].record.tags == ["态度", "效率"] && o.ratings[0].record.via == .enterprise && o.ratings[0].window == "A03")
      #expect(o.ratings[4].record.excluded && o.ratings[4].record.excludedReason.hasPrefix("申诉成立: 系统故障所致"))
      #expect(o.ratingRows.count == 4 && o.rectificationRows.count == 3)
      // The rectification of a: rated clerk named, verified, rectified, confirmed by the call, closed.
      let closed = o.rectifications[3].record
      #expect(closed.state == .closed && closed.confirmation == .followUp && closed.version == 5)
      #expect(closed.ratedOrg == "SCJGJ" && closed.ratedPerson == "张伟" && closed.verifiedValid == true)
      #expect(o.rectifications[3].sla == nil && o.rectifications[0].sla != nil)
      #expect(o.rectifications[5].record.appealState == .upheld && o.rectifications[5].record.state == .closed)
      #expect(o.rectifications[6].record == closed)
      #expect(o.rectifications[7].record.state == .open && o.rectifications[7].departmentName == "市场监管局")
      #expect(o.totals[0] == 3 && o.listed[0].count == 4 && o.listed[0].last == "-")
      #expect(o.totals[2] == 1 && o.totals[3] == 1 && o.totals[4] == 3 && o.listed[4].count == 3 && o.totals[6] == 0)
      #expect(o.listed[5] == [o.listed[0][2], "-"] && o.totals[5] == 3)
      // Measures: five completed by the day of completion, four rated, one excluded.
      let total = o.measures[0].total
      #expect(total.completed == 4 && total.rated == 3 && total.excluded == 1 && total.good == 1 && total.bad == 2)
      #expect(total.rectifiedOnTime == 1 && total.followedUp == 1)
      #expect(o.measures.map(\.groups.count) == [1, 1, 1] && o.measures[1].groups[0].key == "A03")
      #expect(o.measures[0].groups[0].name == "市场监管局" && o.measures[2].groups[0].name == "个体工商户登记")
      // The rectification sweeper: e's alone moves, straight to the colour of the moment (red by
      // day 40; still green on day 14), once.
      let rectificationAlerts = o.alerts[0..<4].flatMap { $0 }
      #expect(rectificationAlerts.map(\.colour) == [.red] && o.alerts[3].count == 1)
      #expect(rectificationAlerts.allSatisfy { $0.id != nil && $0.departmentCode == "SCJGJ" })
      // Countersigns.
      let first = o.countersigns[0]
      #expect(first.document.number == "HQ-370830-20261207-0001" && first.units.map(\.record.unit) == ["ZJJ", "ZRZYJ"])
      #expect(first.leadUnitName == "市场监管局" && first.units.map(\.unitName) == ["住建局", "自然资源局"])
      #expect(o.countersigns[2].units[0].record.answer == .agree && o.countersigns[2].units[0].sla == nil)
      #expect(o.countersigns[3].units[1].record.limitWorkingDays == 7 && o.countersigns[3].units[1].record.extendedDays == 2)
      // Read back two days later: the rows as the extension left them, the clock moved on.
      #expect(o.countersigns[4].document == o.countersigns[3].document)
      #expect(o.countersigns[4].units.map(\.record) == o.countersigns[3].units.map(\.record))
      let last = try #require(o.countersigns.last)
      #expect(last.document.state == .complete && last.units[1].record.onTime == false && last.document.version == 4)
      #expect(o.documentRows.count == 2 && o.unitRows.count == 3)
      let countersignAlerts = o.alerts[4...].flatMap { $0 }
      // The second draft's unit turns yellow on day 6, red by day 30; the first draft's extended
      // unit goes straight to red. Each colour once: a second sweep at the same moment adds none.
      #expect(countersignAlerts.map(\.kind).sorted() == ["countersign.red", "countersign.red", "countersign.yellow"])
      #expect(o.alerts[6].isEmpty)
      #expect(o.alertRows.count == 4)
      #expect(o.refusals.count == 24)
      #expect(o.chainRows == Int64(o.auditRows.count))
    }
  }

  @Test("both engines leave the same answers and rows, the audit chain hash for hash")
  func enginesAgree() async throws {
    let (sqlite, postgres) = try await TestEngine.bothEngines(Self.scenario)
    #expect(sqlite.ratings == postgres.ratings)
    #expect(sqlite.rectifications == postgres.rectifications)
    #expect(sqlite.listed == postgres.listed)
    #expect(sqlite.totals == postgres.totals)
    #expect(sqlite.measures == postgres.measures)
    #expect(sqlite.alerts == postgres.alerts)
    #expect(sqlite.countersigns == postgres.countersigns)
    #expect(sqlite.refusals == postgres.refusals)
    #expect(sqlite.ratingRows == postgres.ratingRows)
    #expect(sqlite.rectificationRows == postgres.rectificationRows)
    #expect(sqlite.documentRows == postgres.documentRows)
    #expect(sqlite.unitRows == postgres.unitRows)
    #expect(sqlite.alertRows == postgres.alertRows)
    #expect(sqlite.auditRows == postgres.auditRows)
    #expect(sqlite.chainRows == postgres.chainRows)
  }
}
