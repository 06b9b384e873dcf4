import BanjieCore
import Foundation
import GRDB
import Synchronization
import Testing

@testable import BanjieStore

/// Review campaigns (千企评议), annual targets and exemplary nominations on the SQL layer: each
/// scenario runs on SQLite and on PostgreSQL with the same expectations, refusals included, and
/// checks that a refused call wrote nothing.
@Suite("Campaigns, targets and nominations on both engines")
struct StoreEngineCampaignTargetTests {
  static let now = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07 00:00 UTC
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")
  static let enterprise = Actor(role: .enterprise, organization: "91370830MA3C000001", person: "王强", certificateSerial: "0B")
  static let departments = [DepartmentRecord(code: "SCJGJ", name: "市场监管局"), DepartmentRecord(code: "ZJJ", name: "住建局")]
  static let dimensions = [CampaignDimension(name: "效率", weightPercent: 60), CampaignDimension(name: "态度", weightPercent: 40)]

  static func withDepartments(_ engine: TestEngine, _ body: (BanjieStore) async throws -> Void) async throws {
    try await engine.withStore { store in
      _ = try await store.importCatalog(departments: Self.departments, items: [], actor: Self.office, now: Self.now)
      try await body(store)
    }
  }

  /// The number of audit rows, from a chain that verifies.
  static func auditRows(_ store: BanjieStore) async throws -> Int64 {
    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return chain.rows
  }

  static func campaign(_ invited: [String] = ["U1", "U2"]) throws -> NewReviewCampaign {
    NewReviewCampaign(
      name: "2026 千企评议", from: try LocalDate(year: 2026, month: 11, day: 1), to: try LocalDate(year: 2026, month: 12, day: 31),
      departments: ["SCJGJ", "ZJJ"], dimensions: Self.dimensions, invited: invited)
  }

  // MARK: Review campaigns

  @Test("a campaign is created once per key, refused for an unknown department with nothing written", arguments: TestEngine.allCases)
  func createCampaign(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      var unknown = try Self.campaign()
      unknown.departments = ["SCJGJ", "GTJ"]
      let refused = await #expect(throws: DomainError.self) {
        try await store.createReviewCampaign(unknown, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(refused?.code == "campaign.unknown_department" && refused?.field == "department_codes[1]")
      #expect(try await store.reviewCampaigns(invitedUSCC: nil).isEmpty)
      #expect(try await Self.auditRows(store) == 2)

      let key = IdempotencyKey(caller: "YSB/李娜", key: "campaign-1")
      let created = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: key)
      let replayed = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: key)
      #expect(replayed == created)
      let id = try #require(created.record.id)
      #expect(created.record.state == .draft && created.record.createdAt == Self.now && created.record.createdBy == "李娜")
      #expect(created.record.departments == ["SCJGJ", "ZJJ"] && created.record.dimensions == Self.dimensions)
      #expect(created.record.periodFrom == "2026-11-01" && created.record.periodTo == "2026-12-31")
      #expect(created.invited == ["U1", "U2"] && created.reviews == 0 && created.reviewedByCaller.isEmpty)
      #expect(try await store.reviewCampaigns(invitedUSCC: nil) == [created])
      #expect(try await store.reviewCampaign(id: id, caller: nil) == created)
      let missing = await #expect(throws: DomainError.self) { try await store.reviewCampaign(id: id + 100, caller: nil) }
      #expect(missing?.code == "campaign.not_found")
      #expect(try await Self.auditRows(store) == 3)
    }
  }

  @Test("a campaign steps DRAFT → OPEN → CLOSED → PUBLISHED; any other step is refused", arguments: TestEngine.allCases)
  func advanceCampaign(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      let created = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: nil)
      let id = try #require(created.record.id)
      for target in [CampaignState.closed, .published, .draft] {
        let refused = await #expect(throws: DomainError.self) {
          try await store.advanceReviewCampaign(id: id, to: target, actor: Self.office, now: Self.now, key: nil)
        }
        #expect(refused?.code == "campaign.illegal_transition")
      }
      #expect(try await store.reviewCampaign(id: id, caller: nil) == created)
      let missing = await #expect(throws: DomainError.self) {
        try await store.advanceReviewCampaign(id: id + 1, to: .open, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(missing?.code == "campaign.not_found")
      let opened = try await store.advanceReviewCampaign(
        id: id, to: .open, actor: Self.office, now: Self.now.addingTimeInterval(60), key: nil)
      #expect(opened.record.state == .open && opened.record.openedAt == Self.now.addingTimeInterval(60) && opened.record.closedAt == nil)
      let closed = try await store.advanceReviewCampaign(
        id: id, to: .closed, actor: Self.office, now: Self.now.addingTimeInterval(120), key: nil)
      let published = try await store.advanceReviewCampaign(
        id: id, to: .published, actor: Self.office, now: Self.now.addingTimeInterval(180), key: nil)
      #expect(closed.record.closedAt == Self.now.addingTimeInterval(120))
      #expect(published.record.state == .published && published.record.publishedAt == Self.now.addingTimeInterval(180))
      #expect(published.record.openedAt == Self.now.addingTimeInterval(60) && published.record.closedAt == closed.record.closedAt)
      #expect(try await store.reviewCampaign(id: id, caller: nil) == published)
      let again = await #expect(throws: DomainError.self) {
        try await store.advanceReviewCampaign(id: id, to: .published, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(again?.code == "campaign.illegal_transition")
      let audit = try await store.listAuditRows(AuditFilter()).rows.map(\.action)
      #expect(audit.prefix(4) == ["campaign.published", "campaign.closed", "campaign.open", "campaign.create"])
      #expect(try await Self.auditRows(store) == 6)
    }
  }

  @Test("invited enterprises review each department once; refused reviews write nothing; results rank", arguments: TestEngine.allCases)
  func reviewsAndResults(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      let created = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: nil)
      let id = try #require(created.record.id)
      let good = ["效率": 5, "态度": 4]
      let notOpen = await #expect(throws: DomainError.self) {
        try await store.submitReview(
          campaignID: id, uscc: "U1", departmentCode: "SCJGJ", scores: good, comment: "", actor: Self.enterprise, now: Self.now, key: nil)
      }
      #expect(notOpen?.code == "campaign.not_open")
      _ = try await store.advanceReviewCampaign(id: id, to: .open, actor: Self.office, now: Self.now, key: nil)
      let refusals: [(String, String, [String: Int], String)] = [
        ("U9", "SCJGJ", good, "campaign.not_invited"),
        ("U1", "GTJ", good, "campaign.department_not_reviewed"),
        ("U1", "SCJGJ", ["效率": 5, "态度": 4, "环境": 3], "campaign.unknown_dimension"),
        ("U1", "SCJGJ", ["效率": 5], "campaign.missing_score"),
      ]
      for (uscc, department, scores, code) in refusals {
        let refused = await #expect(throws: DomainError.self) {
          try await store.submitReview(
            campaignID: id, uscc: uscc, departmentCode: department, scores: scores, comment: "", actor: Self.enterprise, now: Self.now,
            key: nil)
        }
        #expect(refused?.code == code)
      }
      #expect(try await store.reviewCampaign(id: id, caller: "U1").reviews == 0)
      #expect(try await Self.auditRows(store) == 4)

      let first = try await store.submitReview(
        campaignID: id, uscc: "U1", departmentCode: "SCJGJ", scores: good, comment: "办事快", actor: Self.enterprise, now: Self.now, key: nil)
      #expect(first.weightedHundredths == 460 && first.scores == good && first.comment == "办事快" && first.submittedAt == Self.now)
      _ = try await store.submitReview(
        campaignID: id, uscc: "U2", departmentCode: "SCJGJ", scores: ["效率": 3, "态度": 3], comment: "", actor: Self.enterprise,
        now: Self.now, key: nil)
      _ = try await store.submitReview(
        campaignID: id, uscc: "U1", departmentCode: "ZJJ", scores: ["效率": 5, "态度": 5], comment: "", actor: Self.enterprise, now: Self.now,
        key: nil)
      let twice = await #expect(throws: DomainError.self) {
        try await store.submitReview(
          campaignID: id, uscc: "U1", departmentCode: "SCJGJ", scores: good, comment: "", actor: Self.enterprise, now: Self.now, key: nil)
      }
      #expect(twice?.code == "campaign.already_reviewed")

      let mine = try await store.reviewCampaigns(invitedUSCC: "U1")
      #expect(mine.map(\.record.id) == [id] && mine.first?.reviewedByCaller == ["SCJGJ", "ZJJ"] && mine.first?.reviews == 3)
      #expect(try await store.reviewCampaigns(invitedUSCC: "U9").isEmpty)
      #expect(try await store.reviewCampaign(id: id, caller: "U2").reviewedByCaller == ["SCJGJ"])

      let (view, rows) = try await store.campaignResults(id: id)
      #expect(view.reviews == 3 && view.record.state == .open)
      #expect(rows.map(\.departmentCode) == ["ZJJ", "SCJGJ"] && rows.map(\.rank) == [1, 2])
      #expect(rows.map(\.weightedSum) == [500, 760] && rows.map(\.reviews) == [1, 2] && rows.map(\.invited) == [2, 2])
      #expect(rows.map(\.departmentName) == ["住建局", "市场监管局"])
      let missing = await #expect(throws: DomainError.self) { try await store.campaignResults(id: id + 1) }
      #expect(missing?.code == "campaign.not_found")
      #expect(try await Self.auditRows(store) == 7)
    }
  }

  // MARK: Annual targets

  @Test("targets: every measure set and read against the year, unknown units refused with nothing written", arguments: TestEngine.allCases)
  func targets(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      for (unit, measure, code) in [
        ("GTJ", TargetMeasure.onTimeRate, "target.unknown_department"), ("某包保单位", .visitCoverage, "target.unknown_liaison_unit"),
        ("  ", .onTimeRate, "target.unit_required"),
      ] {
        let refused = await #expect(throws: DomainError.self) {
          try await store.setTarget(
            year: 2026, unit: unit, measure: measure, target: 90, actor: Self.office, clock: clock, now: Self.now, key: nil)
        }
        #expect(refused?.code == code && refused?.field == "department")
      }
      #expect(try await store.targetProgress(year: 2026, unit: nil, clock: clock, now: Self.now).1.isEmpty)
      #expect(try await Self.auditRows(store) == 2)

      let percentages: [TargetMeasure] = [.onTimeRate, .oneDayRate, .goodRatingShare, .countersignOnTimeRate, .appealResolutionRate]
      for measure in percentages {
        let row = try await store.setTarget(
          year: 2026, unit: " SCJGJ ", measure: measure, target: 90, actor: Self.office, clock: clock, now: Self.now, key: nil)
        #expect(row.record.unit == "SCJGJ" && row.unitName == "市场监管局" && row.count == 0 && row.base == 0)
        #expect(row.evaluation.actual == nil && row.record.colour == nil)
      }
      let score = try await store.setTarget(
        year: 2026, unit: "SCJGJ", measure: .reviewScore, target: 4.5, actor: Self.office, clock: clock, now: Self.now, key: nil)
      #expect(score.record.target == 4.5 && score.record.setAt == Self.now && score.record.setBy.hasPrefix("李娜"))
      _ = try await store.mutate { sql in
        try sql.execute(
          "INSERT INTO liaison_units (name, township, created_at) VALUES (?, '刘楼镇', ?)", [.text("刘楼镇包保组"), StoredDate(Self.now).sqlValue])
      }
      let coverage = try await store.setTarget(
        year: 2026, unit: "刘楼镇包保组", measure: .visitCoverage, target: 80, actor: Self.office, clock: clock, now: Self.now, key: nil)
      #expect(coverage.unitName == "刘楼镇包保组" && coverage.base == 0)

      // Set again: the target is replaced, not added.
      let later = Self.now.addingTimeInterval(3600)
      let replaced = try await store.setTarget(
        year: 2026, unit: "SCJGJ", measure: .onTimeRate, target: 97.5, actor: Self.office, clock: clock, now: later, key: nil)
      #expect(replaced.record.target == 97.5 && replaced.record.setAt == later)

      let (progress, rows) = try await store.targetProgress(year: 2026, unit: nil, clock: clock, now: Self.now)
      #expect(progress.share > 0.9 && progress.share <= 1)
      #expect(rows.count == 7)
      #expect(rows.map(\.record.unit) == ["SCJGJ", "SCJGJ", "SCJGJ", "SCJGJ", "SCJGJ", "SCJGJ", "刘楼镇包保组"])
      #expect(
        rows.map(\.record.measure) == [
          .appealResolutionRate, .countersignOnTimeRate, .goodRatingShare, .onTimeRate, .oneDayRate, .reviewScore, .visitCoverage,
        ])
      #expect(rows.first { $0.record.measure == .onTimeRate }?.record.target == 97.5)
      let own = try await store.targetProgress(year: 2026, unit: "刘楼镇包保组", clock: clock, now: Self.now).1
      #expect(own.map(\.record) == [coverage.record])
      #expect(try await store.targetProgress(year: 2027, unit: nil, clock: clock, now: Self.now).1.isEmpty)
      let audit = try await store.listAuditRows(AuditFilter()).rows
      #expect(audit.first?.action == "target.set" && audit.first?.entityID == "2026/SCJGJ/on_time_rate")
      #expect(try await Self.auditRows(store) == 2 + 8)
    }
  }

  @Test(
    "the sweeper turns a target behind red once, with one alert to the unit; a replaced target keeps its colour",
    arguments: TestEngine.allCases)
  func sweep(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      _ = try await store.setTarget(
        year: 2026, unit: "SCJGJ", measure: .reviewScore, target: 4.5, actor: Self.office, clock: clock, now: Self.now, key: nil)
      _ = try await store.setTarget(
        year: 2026, unit: "ZJJ", measure: .reviewScore, target: 4, actor: Self.office, clock: clock, now: Self.now, key: nil)
      // Nothing reviewed yet: no value, no colour, no alert.
      #expect(try await store.sweepTargets(clock: clock, now: Self.now).isEmpty)

      let created = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: nil)
      let id = try #require(created.record.id)
      _ = try await store.advanceReviewCampaign(id: id, to: .open, actor: Self.office, now: Self.now, key: nil)
      _ = try await store.submitReview(
        campaignID: id, uscc: "U1", departmentCode: "SCJGJ", scores: ["效率": 2, "态度": 2], comment: "", actor: Self.enterprise,
        now: Self.now, key: nil)
      _ = try await store.submitReview(
        campaignID: id, uscc: "U1", departmentCode: "ZJJ", scores: ["效率": 5, "态度": 4], comment: "", actor: Self.enterprise,
        now: Self.now, key: nil)
      let before = try await Self.auditRows(store)

      let sweptAt = Self.now.addingTimeInterval(600)
      let alerts = try await store.sweepTargets(clock: clock, now: sweptAt)
      #expect(alerts.count == 1)
      let alert = try #require(alerts.first)
      #expect(alert.id != nil && alert.kind == "target.red" && alert.departmentCode == "SCJGJ" && alert.colour == .red)
      #expect(alert.subject == "target 2026 SCJGJ review_score" && alert.at == sweptAt)
      #expect(try await store.alerts(afterID: 0, department: "SCJGJ") == [alert])
      #expect(try await store.lastAlertID() == alert.id)
      let rows = try await store.targetProgress(year: 2026, unit: nil, clock: clock, now: sweptAt).1
      #expect(rows.map(\.record.colour) == [.red, .green] && rows.map(\.record.colourAt) == [sweptAt, sweptAt])
      #expect(rows.map(\.count) == [200, 460] && rows.map(\.base) == [1, 1])
      // A red and a green change are audited.
      #expect(try await Self.auditRows(store) == before + 2)

      // Nothing changed: no alert, no audit row.
      #expect(try await store.sweepTargets(clock: clock, now: sweptAt.addingTimeInterval(60)).isEmpty)
      #expect(try await store.lastAlertID() == alert.id)
      #expect(try await Self.auditRows(store) == before + 2)

      let replaced = try await store.setTarget(
        year: 2026, unit: "SCJGJ", measure: .reviewScore, target: 2, actor: Self.office, clock: clock, now: sweptAt, key: nil)
      #expect(replaced.record.colour == .red && replaced.record.colourAt == sweptAt && replaced.evaluation.colour == .green)
    }
  }

  // MARK: Exemplary nominations

  static func insertDemands(_ store: BanjieStore) async throws {
    let closedAt = StoredDate(Self.now.addingTimeInterval(-86_400)).sqlValue
    let at = StoredDate(Self.now.addingTimeInterval(-10 * 86_400)).sqlValue
    _ = try await store.mutate { sql in
      try sql.execute(
        """
        INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)
        VALUES ('91370830MA3C000001', '鲁南机械', 'C', 'small', '刘楼镇', ?, 1, ?)
        """, [at, at])
      for (number, state, closed) in [("XQ-2026-0001", "CLOSED", closedAt), ("XQ-2026-0002", "ANSWERED", SQLValue.null)] {
        try sql.execute(
          """
          INSERT INTO demands (number, uscc, category, description, department_code, limit_working_days, state, raised_by, raised_at,
            clock_start, closed_at, due_at, colour, version, updated_at)
          VALUES (?, '91370830MA3C000001', '融资', '贷款', 'SCJGJ', 5, ?, '王强', ?, ?, ?, ?, 'green', 1, ?)
          """, [.text(number), .text(state), at, at, closed, at, at])
      }
    }
  }

  @Test("a closed demand is nominated once and reviewed once; refused nominations write nothing", arguments: TestEngine.allCases)
  func nominations(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      try await Self.insertDemands(store)
      let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "张伟", certificateSerial: "0C")
      let own: @Sendable (String) throws -> Void = { department in
        guard department == "SCJGJ" else { throw DomainError(kind: .permissionDenied, code: "exemplary.other_department") }
      }
      let other: @Sendable (String) throws -> Void = { _ in throw DomainError(kind: .permissionDenied, code: "exemplary.other_department") }
      let refusals: [(BanjieStore.NominationSubject, @Sendable (String) throws -> Void, String)] = [
        (.caseNumber("370830-20261207-000001"), own, "case.not_found"), (.demandNumber("XQ-2026-9999"), own, "demand.not_found"),
        (.demandNumber("XQ-2026-0002"), own, "exemplary.not_closed"), (.demandNumber("XQ-2026-0001"), other, "exemplary.other_department"),
      ]
      for (subject, authorize, code) in refusals {
        let refused = await #expect(throws: DomainError.self) {
          try await store.nominate(
            subject, account: "服务高效", actor: clerk, authorize: authorize, calendar: .standard, now: Self.now, key: nil)
        }
        #expect(refused?.code == code)
      }
      #expect(try await store.listNominations(year: nil, state: nil, department: nil).isEmpty)
      #expect(try await Self.auditRows(store) == 2)

      let key = IdempotencyKey(caller: "SCJGJ/张伟", key: "nominate-1")
      let nominated = try await store.nominate(
        .demandNumber("XQ-2026-0001"), account: "三天放款", actor: clerk, authorize: own, calendar: .standard, now: Self.now, key: key)
      let replayed = try await store.nominate(
        .demandNumber("XQ-2026-0001"), account: "三天放款", actor: clerk, authorize: own, calendar: .standard, now: Self.now, key: key)
      #expect(replayed == nominated)
      #expect(nominated.kind == "demand" && nominated.subject == "XQ-2026-0001" && nominated.departmentCode == "SCJGJ")
      #expect(nominated.year == 2026 && nominated.account == "三天放款" && nominated.state == .nominated)
      #expect(
        nominated.nominatedBy == "张伟" && nominated.nominatedAt == Self.now && nominated.reviewedAt == nil && nominated.reviewNote == "")
      let twice = await #expect(throws: DomainError.self) {
        try await store.nominate(
          .demandNumber("XQ-2026-0001"), account: "x", actor: clerk, authorize: own, calendar: .standard, now: Self.now, key: nil)
      }
      #expect(twice?.code == "exemplary.already_nominated")

      #expect(try await store.listNominations(year: 2026, state: .nominated, department: "SCJGJ") == [nominated])
      #expect(try await store.listNominations(year: 2025, state: nil, department: nil).isEmpty)
      #expect(try await store.listNominations(year: nil, state: .selected, department: nil).isEmpty)
      #expect(try await store.listNominations(year: nil, state: nil, department: "ZJJ").isEmpty)

      let missing = await #expect(throws: DomainError.self) {
        try await store.reviewNomination(id: nominated.id + 1, select: true, note: "", actor: Self.office, now: Self.now, key: nil)
      }
      #expect(missing?.code == "exemplary.not_found")
      let reviewedAt = Self.now.addingTimeInterval(3600)
      let selected = try await store.reviewNomination(
        id: nominated.id, select: true, note: "推广", actor: Self.office, now: reviewedAt, key: nil)
      #expect(
        selected.state == .selected && selected.reviewNote == "推广" && selected.reviewedBy == "李娜" && selected.reviewedAt == reviewedAt)
      #expect(selected.nominatedAt == Self.now && selected.id == nominated.id)
      let again = await #expect(throws: DomainError.self) {
        try await store.reviewNomination(id: nominated.id, select: false, note: "", actor: Self.office, now: reviewedAt, key: nil)
      }
      #expect(again?.code == "exemplary.already_reviewed")
      #expect(try await store.listNominations(year: nil, state: nil, department: nil) == [selected])

      let audit = try await store.listAuditRows(AuditFilter()).rows
      #expect(audit.prefix(2).map(\.action) == ["exemplary.select", "exemplary.nominate"])
      #expect(audit.first?.entityID == String(nominated.id))
      #expect(try await Self.auditRows(store) == 4)
    }
  }

  @Test("a completed case is nominated with the year of its completion; a case in progress is refused", arguments: TestEngine.allCases)
  func caseNominations(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      _ = try await store.importCatalog(departments: Self.departments, items: SQLLayerTests.items, actor: Self.office, now: Self.now)
      let received = StoredDate(Self.now.addingTimeInterval(-400 * 86_400)).sqlValue
      // Completed on 2025-12-31 17:00 UTC: 2026-01-01 01:00 in the county, so a 2026 case.
      let completed = StoredDate(Self.now.addingTimeInterval(-340 * 86_400 - 7 * 3600)).sqlValue
      _ = try await store.mutate { sql in
        for (number, state, completedAt) in [
          ("370830-20251101-000001", "COMPLETED", completed), ("370830-20251101-000002", "ACCEPTED", SQLValue.null),
        ] {
          try sql.execute(
            """
            INSERT INTO cases (number, item_code, department_code, "window", applicant, state, version, received_at, received_day,
              limit_value, limit_unit, received_by, updated_at, completed_at)
            VALUES (?, 'SCJGJ-002', 'SCJGJ', 'A01', '赵六', ?, 1, ?, '2025-11-01', 1, 'working_days', '张伟', ?, ?)
            """, [.text(number), .text(state), received, received, completedAt])
        }
      }
      let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "张伟", certificateSerial: "0C")
      let open = await #expect(throws: DomainError.self) {
        try await store.nominate(
          .caseNumber("370830-20251101-000002"), account: "x", actor: clerk, authorize: { _ in }, calendar: .standard, now: Self.now,
          key: nil)
      }
      #expect(open?.code == "exemplary.not_completed" && open?.field == "case_number")
      #expect(try await Self.auditRows(store) == 4)
      let nominated = try await store.nominate(
        .caseNumber("370830-20251101-000001"), account: "当天办结", actor: clerk, authorize: { _ in }, calendar: .standard, now: Self.now,
        key: nil)
      #expect(nominated.kind == "case" && nominated.subject == "370830-20251101-000001" && nominated.year == 2026)
      #expect(try await store.listNominations(year: 2026, state: nil, department: "SCJGJ") == [nominated])
      #expect(try await Self.auditRows(store) == 5)
    }
  }

  // MARK: Both engines alike

  /// What a scenario over all three features leaves, for comparing the engines.
  struct Outcome: Equatable {
    var campaigns: [ReviewCampaignView]
    var results: [DepartmentResultRow]
    var targets: [TargetProgressRow]
    var alerts: [AlertRecord]
    var nominations: [NominationView]
    var audit: [AuditRowView]
  }

  static func scenario(_ store: BanjieStore) async throws -> Outcome {
    _ = try await store.importCatalog(departments: Self.departments, items: [], actor: Self.office, now: Self.now)
    try await Self.insertDemands(store)
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    let created = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: nil)
    let id = try #require(created.record.id)
    _ = try await store.advanceReviewCampaign(id: id, to: .open, actor: Self.office, now: Self.now, key: nil)
    _ = try await store.submitReview(
      campaignID: id, uscc: "U2", departmentCode: "ZJJ", scores: ["效率": 1, "态度": 2], comment: "慢", actor: Self.enterprise, now: Self.now,
      key: nil)
    _ = try await store.setTarget(
      year: 2026, unit: "ZJJ", measure: .reviewScore, target: 4, actor: Self.office, clock: clock, now: Self.now, key: nil)
    let alerts = try await store.sweepTargets(clock: clock, now: Self.now)
    let nomination = try await store.nominate(
      .demandNumber("XQ-2026-0001"), account: "三天放款", actor: Self.office, authorize: { _ in }, calendar: .standard, now: Self.now,
      key: nil)
    _ = try await store.reviewNomination(id: nomination.id, select: false, note: "材料不全", actor: Self.office, now: Self.now, key: nil)
    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return Outcome(
      campaigns: try await store.reviewCampaigns(invitedUSCC: "U2"), results: try await store.campaignResults(id: id).1,
      targets: try await store.targetProgress(year: 2026, unit: nil, clock: clock, now: Self.now).1, alerts: alerts,
      nominations: try await store.listNominations(year: nil, state: nil, department: nil),
      audit: try await store.listAuditRows(AuditFilter()).rows)
  }

  @Test("both engines leave the same campaigns, targets, alerts and nominations, and the same audit chain, hash for hash")
  func enginesAgree() async throws {
    let (sqlite, postgres) = try await TestEngine.bothEngines(Self.scenario)
    #expect(sqlite == postgres)
    #expect(sqlite.alerts.map(\.kind) == ["target.red"] && sqlite.nominations.map(\.state) == [.declined])
    #expect(sqlite.audit.count == 2 + 7)
  }

  @Test("a campaign row is stored as GRDB's Codable insert stored it, and such a row reads back alike")
  func campaignRowAsGRDBStoredIt() async throws {
    try await Self.withDepartments(.sqlite) { store in
      let created = try await store.createReviewCampaign(try Self.campaign(), actor: Self.office, now: Self.now, key: nil)
      let id = try #require(created.record.id)
      let opened = try await store.advanceReviewCampaign(
        id: id, to: .open, actor: Self.office, now: Self.now.addingTimeInterval(60), key: nil)
      var record = opened.record
      record.id = nil
      let written = record
      let grdbID = try await store.pool.write { db -> Int64? in
        var copy = written
        try copy.insert(db)
        return copy.id
      }
      let otherID = try #require(grdbID)
      let rows = try await store.read { sql in
        try sql.fetchAll(
          """
          SELECT name, period_from, period_to, departments, dimensions, state, created_at, created_by, opened_at, closed_at, published_at
          FROM review_campaigns ORDER BY id
          """
        ).map(\.values)
      }
      #expect(rows.count == 2 && rows.first == rows.last, "\(rows)")
      var expected = opened.record
      expected.id = otherID
      #expect(try await store.reviewCampaign(id: otherID, caller: nil).record == expected)
    }
  }
}
