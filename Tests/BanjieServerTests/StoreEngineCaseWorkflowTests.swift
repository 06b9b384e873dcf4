import BanjieCore
import Foundation
import Synchronization
import Testing

@testable import BanjieStore

/// The case workflow after SubmitCase on the SQL layer (issue 17): transitions, 容缺 materials,
/// the hall's steps, the reads and the sweeper, each scenario on SQLite and on PostgreSQL with the
/// same expectations, and the two engines' answers and rows compared value for value.
@Suite("Case workflow on both engines")
struct StoreEngineCaseWorkflowTests {
  static let now = Date(timeIntervalSince1970: 1_796_608_800)  // 2026-12-07 10:00 in Beijing, a Monday
  static let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "张伟", certificateSerial: "0A")
  static let colleague = StaffRef(organization: "SCJGJ", person: "李娜")
  static let office = Actor(role: .office, organization: "YSB", person: "赵敏", certificateSerial: "0B")
  static let departments = [DepartmentRecord(code: "SCJGJ", name: "市场监管局"), DepartmentRecord(code: "ZWFWZX", name: "政务服务中心")]
  static let item = ServiceItemRecord(
    code: "SCJGJ-002", name: "个体工商户登记", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 1, limitUnit: .workingDays,
    legalLimitDays: 15, materials: ["身份证", "经营场所证明"], allowsMinorPending: true, proxySteps: [.supplement, .collect])
  static let strictItem = ServiceItemRecord(
    code: "SCJGJ-003", name: "食品经营许可", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 5, limitUnit: .workingDays,
    legalLimitDays: 20, materials: ["申请书"], allowsMinorPending: false)
  /// Far after every deadline of the scenario: the sweeper turns everything open red.
  static let later = now.addingTimeInterval(30 * 86_400)

  /// What a scenario leaves: the answers, then every row it wrote, in key order.
  struct Outcome: Equatable {
    var answers: [CaseView]
    var history: [CaseEventRecord]
    var parties: CaseParties?
    var lists: [[String]]
    var totals: [Int]
    var colours: [SLAColour: Int]
    var alerts: [AlertRecord]
    var recent: [AlertRecord]
    var cases: [SQLRow]
    var events: [SQLRow]
    var readers: [SQLRow]
    var pending: [SQLRow]
    var suspensions: [SQLRow]
    var alertRows: [SQLRow]
    var idempotency: [SQLRow]
    var audit: [AuditRowView]
    var chainRows: Int64
  }

  static func at(_ minutes: Int) -> Date { Self.now.addingTimeInterval(Double(minutes) * 60) }

  static func submit(_ store: BanjieStore, clock: SLAClock, _ new: NewCase) async throws -> CaseView {
    try await store.submitCase(
      new, regionCode: "370830", actor: Self.clerk, authorize: { _, _ in }, clock: clock, now: Self.now, key: nil)
  }

  static func transition(
    _ store: BanjieStore, clock: SLAClock, _ number: String, _ action: CaseAction, version: Int64?, at minutes: Int,
    pending: PendingAcceptance? = nil, delivery: Delivery = Delivery(), key: String? = nil
  ) async throws -> CaseView {
    try await store.transition(
      number: number, action: action, expectedVersion: version, actor: Self.clerk, authorize: { _, _ in .handler }, clock: clock,
      now: Self.at(minutes), key: key.map { IdempotencyKey(caller: "clerk:SCJGJ:张伟", key: $0) }, pending: pending,
      transferNote: "职责调整", delivery: delivery)
  }

  static func resolve(
    _ store: BanjieStore, clock: SLAClock, _ number: String, _ materials: [String], _ resolution: PendingResolution, version: Int64?,
    at minutes: Int
  ) async throws -> CaseView {
    try await store.resolvePendingMaterials(
      number: number, materials: materials, resolution: resolution, expectedVersion: version, actor: Self.clerk, authorize: { _ in },
      clock: clock, now: Self.at(minutes), key: nil)
  }

  static func scenario(_ store: BanjieStore) async throws -> Outcome {
    _ = try await store.importCatalog(
      departments: Self.departments, items: [Self.item, Self.strictItem], actor: .system, now: Self.now)
    _ = try await store.upsertWindow(
      try NewWindow.parse(code: "A03", name: "综合窗口", hall: "一楼大厅", comprehensive: true, departments: ["SCJGJ", "ZWFWZX"]),
      actor: Self.office, now: Self.now, key: nil)
    for person in ["张伟", "李娜"] {
      _ = try await store.assignStaff(
        organization: "SCJGJ", person: person, window: "A03", remove: false, actor: Self.office, now: Self.now, key: nil)
    }
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    var answers: [CaseView] = []
    let one = try await Self.submit(
      store, clock: clock, NewCase(itemCode: "SCJGJ-002", applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: "材料齐全"))
    let two = try await Self.submit(
      store, clock: clock,
      NewCase(itemCode: "SCJGJ-002", applicant: "汶上县鲁源机械有限公司", enterpriseUSCC: testUSCC(3), window: "a03", note: ""))
    let three = try await Self.submit(
      store, clock: clock, NewCase(itemCode: "SCJGJ-002", applicant: "李四", enterpriseUSCC: nil, window: "A03", note: ""))
    let four = try await Self.submit(
      store, clock: clock, NewCase(itemCode: "SCJGJ-003", applicant: "王五", enterpriseUSCC: nil, window: "A03", note: ""))
    let (n1, n2, n3, n4) = (one.record.number, two.record.number, three.record.number, four.record.number)

    // Case 1: 容缺受理, the pending material blocks approval until supplied; suspended and resumed;
    // a stale version refused; completed and delivered at its window.
    let accepted = try await Self.transition(
      store, clock: clock, n1, .accept, version: 1, at: 1, pending: PendingAcceptance(materials: [" 身份证 "], workingDays: 2),
      key: "accept-1")
    answers.append(accepted)
    let replayed = try await Self.transition(
      store, clock: clock, n1, .accept, version: 1, at: 1, pending: PendingAcceptance(materials: [" 身份证 "], workingDays: 2),
      key: "accept-1")
    #expect(replayed == accepted)
    let blocked = await #expect(throws: DomainError.self) {
      try await Self.transition(store, clock: clock, n1, .complete(.approved), version: 2, at: 2)
    }
    #expect(blocked?.code == "case.pending_materials_open" && blocked?.field == "pending_materials")
    answers.append(try await Self.resolve(store, clock: clock, n1, ["身份证"], .supplied, version: 2, at: 3))
    answers.append(try await Self.transition(store, clock: clock, n1, .suspend(reason: "等待现场核查"), version: 3, at: 4))
    answers.append(try await Self.transition(store, clock: clock, n1, .resume, version: 4, at: 64))
    let stale = await #expect(throws: DomainError.self) {
      try await Self.transition(store, clock: clock, n1, .complete(.approved), version: 2, at: 65)
    }
    #expect(stale?.kind == .aborted && stale?.code == "case.version_conflict" && stale?.field == "expected_version")
    answers.append(try await Self.transition(store, clock: clock, n1, .complete(.approved), version: 5, at: 66))
    answers.append(try await Self.transition(store, clock: clock, n1, .deliver, version: 6, at: 67))

    // Case 2: an enterprise's; a material pending, handed over, a helper assigned and removed,
    // its rating code shown.
    answers.append(
      try await Self.transition(
        store, clock: clock, n2, .accept, version: 1, at: 5, pending: PendingAcceptance(materials: ["经营场所证明"], workingDays: 1)))
    answers.append(
      try await store.handOver(
        number: n2, to: Self.colleague, note: "外出培训", expectedVersion: 2, actor: Self.clerk, authorize: { _, _ in }, clock: clock,
        now: Self.at(6), key: nil))
    let same = await #expect(throws: DomainError.self) {
      try await store.handOver(
        number: n2, to: Self.colleague, note: "", expectedVersion: nil, actor: Self.clerk, authorize: { _, _ in }, clock: clock,
        now: Self.at(6), key: nil)
    }
    #expect(same?.code == "case.hand_over_same")
    answers.append(
      try await store.assignHelper(
        number: n2, helper: Self.colleague, note: "帮办", expectedVersion: 3, actor: Self.clerk, authorize: { _, _ in }, clock: clock,
        now: Self.at(7), key: nil))
    answers.append(
      try await store.assignHelper(
        number: n2, helper: nil, note: "", expectedVersion: 4, actor: Self.clerk, authorize: { _, _ in }, clock: clock, now: Self.at(8),
        key: nil))
    let noHelper = await #expect(throws: DomainError.self) {
      try await store.assignHelper(
        number: n1, helper: Self.colleague, note: "", expectedVersion: nil, actor: Self.clerk, authorize: { _, _ in }, clock: clock,
        now: Self.at(8), key: nil)
    }
    #expect(noHelper?.code == "case.finished" || noHelper?.code == "case.helper_enterprise_only")
    let code = try await store.revealRatingCode(number: n2, actor: Self.clerk, authorize: { _, _ in }, now: Self.at(9))
    #expect(!code.isEmpty && code == two.hall?.ratingCode)

    // Case 4: an item without 容缺 refuses pending materials, then accepted and transferred.
    let notAllowed = await #expect(throws: DomainError.self) {
      try await Self.transition(
        store, clock: clock, n4, .accept, version: 1, at: 10, pending: PendingAcceptance(materials: ["申请书"]))
    }
    #expect(notAllowed?.code == "case.pending_not_allowed")
    answers.append(try await Self.transition(store, clock: clock, n4, .accept, version: 1, at: 10))
    answers.append(try await Self.transition(store, clock: clock, n4, .transfer(toDepartment: "ZWFWZX"), version: 2, at: 11))

    // Case 3 is never decided: the sweeper deems it accepted; the rest turn red.
    var alerts = try await store.sweep(clock: clock, now: Self.later, full: false)
    alerts += try await store.sweep(clock: clock, now: Self.later, full: true)
    alerts += try await store.sweepPendingMaterials(clock: clock, now: Self.later)
    answers.append(try await Self.resolve(store, clock: clock, n2, ["经营场所证明"], .waived(reason: "已现场核验"), version: 5, at: 43_300))
    let recent = try await store.recentAlerts(since: Self.now, department: "SCJGJ")

    for number in [n1, n2, n3, n4] {
      if let view = try await store.caseView(number: number, clock: clock, now: Self.later) { answers.append(view) }
    }
    #expect(try await store.caseView(number: "370830-20261207-999999", clock: clock, now: Self.later) == nil)
    let history = try await store.caseHistory(number: n1)
    var lists: [[String]] = []
    var totals: [Int] = []
    var filters: [CaseFilter] = []
    filters.append(CaseFilter())
    var accepted1 = CaseFilter()
    accepted1.states = [.accepted]
    accepted1.pageSize = 2
    filters.append(accepted1)
    var page2 = accepted1
    var red = CaseFilter()
    red.colours = [.red, .yellow]
    filters.append(red)
    var byName = CaseFilter()
    byName.applicant = "王"
    byName.window = "A03"
    byName.department = "SCJGJ"
    filters.append(byName)
    var literal = CaseFilter()
    literal.applicant = "%"
    filters.append(literal)
    var enterprise = CaseFilter()
    enterprise.enterprise = testUSCC(3).lowercased()
    enterprise.item = "SCJGJ-002"
    enterprise.channel = .window
    enterprise.receivedFrom = try LocalDate(year: 2026, month: 12, day: 7)
    enterprise.receivedTo = try LocalDate(year: 2026, month: 12, day: 7)
    filters.append(enterprise)
    var other = CaseFilter()
    other.readableBy = StaffRef(organization: "ZWFWZX", person: "刘洋")
    filters.append(other)
    var mine = CaseFilter()
    mine.readableBy = StaffRef(organization: "SCJGJ", person: "张伟")
    filters.append(mine)
    for filter in filters {
      let page = try await store.listCases(filter, clock: clock, now: Self.later)
      lists.append(page.views.map(\.record.number))
      totals.append(page.total)
      if filter.pageSize == 2 { page2.after = page.next }
    }
    let second = try await store.listCases(page2, clock: clock, now: Self.later)
    lists.append(second.views.map(\.record.number))
    totals.append(second.total)

    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    var audit = AuditFilter()
    audit.pageSize = 500
    return Outcome(
      answers: answers, history: history?.1 ?? [], parties: history?.2, lists: lists, totals: totals,
      colours: try await store.openCasesByColour(), alerts: alerts, recent: recent,
      cases: try await TestEngine.rows(store, "SELECT * FROM cases ORDER BY id"),
      events: try await TestEngine.rows(store, "SELECT * FROM case_events ORDER BY id"),
      readers: try await TestEngine.rows(store, "SELECT * FROM case_readers ORDER BY case_id, department_code"),
      pending: try await TestEngine.rows(store, "SELECT * FROM case_pending_materials ORDER BY id"),
      suspensions: try await TestEngine.rows(store, "SELECT * FROM case_suspensions ORDER BY case_id, start_at"),
      alertRows: try await TestEngine.rows(store, "SELECT * FROM alerts ORDER BY id"),
      idempotency: try await TestEngine.rows(store, "SELECT * FROM idempotency ORDER BY caller, key"),
      audit: try await store.listAuditRows(audit).rows, chainRows: chain.rows)
  }

  @Test("transitions, 容缺 materials, hall steps, reads and the sweeper", arguments: TestEngine.allCases)
  func workflow(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let outcome = try await Self.scenario(store)
      let numbers = (1...4).map { "370830-20261207-00000\($0)" }
      let answers = outcome.answers
      // Case 1's steps.
      #expect(answers[0].record.state == .accepted && answers[0].record.version == 2)
      #expect(answers[0].pending?.map(\.material) == ["身份证"] && answers[0].pending?.first?.state == .pending)
      #expect(answers[1].record.version == 3 && answers[1].pending?.first?.state == .supplied)
      #expect(answers[2].record.state == .suspended && answers[2].record.suspendedSince == Self.at(4))
      #expect(answers[3].record.state == .accepted && answers[3].record.suspendedSince == nil)
      #expect(answers[4].record.state == .completed && answers[4].record.outcome == .approved)
      #expect(answers[4].hall?.servedWindow == "A03" && answers[4].hall?.servedAt == Self.at(66))
      #expect(answers[5].record.state == .delivered && answers[5].record.version == 7)
      #expect(answers[5].hall?.deliveryChannel == .window && answers[5].hall?.deliveryWindow == "A03")
      // Case 2's.
      #expect(answers[6].pending?.map(\.material) == ["经营场所证明"])
      #expect(answers[7].hall?.responsible == Self.colleague && answers[7].hall?.firstResponder.person == "张伟")
      #expect(answers[8].hall?.helper == Self.colleague && answers[9].hall?.helper == nil && answers[9].record.version == 5)
      // Case 4's.
      #expect(answers[11].record.departmentCode == "ZWFWZX" && answers[11].hall?.readers == ["SCJGJ": .transfer])
      // The waiver after the sweep.
      #expect(answers[12].record.version == 6 && answers[12].pending?.first?.state == .waived)
      #expect(answers[12].pending?.first?.waiveReason == "已现场核验")
      // The views read afterwards: each transition's answer was the case as stored.
      let views = Array(answers[13...])
      #expect(views.map(\.record.number) == numbers)
      #expect(views[0].record == answers[5].record && views[0].hall == answers[5].hall)
      #expect(views[1].record == answers[12].record && views[1].hall == answers[12].hall)
      #expect(views[2].record.state == .accepted && views[2].record.deemedAccepted && views[2].record.colour == .red)
      #expect(views[3].record.departmentCode == "ZWFWZX" && views[3].record.colour == .red && views[3].record.version == 3)
      // History and parties.
      #expect(
        outcome.history.map(\.action) == ["receive", "accept", "materialsSupplied", "suspend", "resume", "complete", "deliver"])
      #expect(outcome.history.map(\.seq) == Array(1...7) && outcome.history[1].fromState == .received)
      #expect(outcome.parties?.department == "SCJGJ")
      // Lists.
      #expect(outcome.lists[0] == numbers.reversed() && outcome.totals[0] == 4)
      #expect(outcome.lists[1] == [numbers[3], numbers[2]] && outcome.totals[1] == 3)
      #expect(outcome.lists[2] == [numbers[3], numbers[2], numbers[1]] && outcome.totals[2] == 3)
      #expect(outcome.lists[3] == [numbers[0]])
      #expect(outcome.lists[4].isEmpty && outcome.totals[4] == 0)
      #expect(outcome.lists[5] == [numbers[1]])
      #expect(outcome.lists[6] == [numbers[3]])
      #expect(outcome.lists[7] == numbers.reversed())
      #expect(outcome.lists[8] == [numbers[1]] && outcome.totals[8] == 3)
      #expect(outcome.colours == [.red: 3])
      // Alerts: case 3 deemed accepted, cases 2 and 4 red, case 2's material red; the full pass
      // after the quick one found nothing new.
      #expect(outcome.alerts.map(\.kind) == ["case.deemed_accepted", "case.red", "case.red", "pending.red"])
      #expect(outcome.alerts.map(\.id) == [1, 2, 3, 4])
      #expect(Set(outcome.alerts.map(\.subject)) == Set([numbers[2], numbers[1], numbers[3]].map { "case \($0)" }))
      #expect(outcome.recent == outcome.alerts.filter { $0.departmentCode == "SCJGJ" })
      #expect(outcome.recent.count == 3)
      #expect(outcome.suspensions.count == 1 && outcome.pending.count == 2 && outcome.alertRows.count == 4)
      #expect(outcome.idempotency.count == 1)
      #expect(outcome.audit.contains { $0.action == "case.rating_code_shown" && $0.entityID == numbers[1] })
      #expect(outcome.audit.contains { $0.action == "case.pendingColour" })
      #expect(outcome.audit.filter { $0.action == "case.colour" }.count == 2)
    }
  }

  @Test("the workflow leaves the same answers and rows on both engines, except the rating codes")
  func enginesAgree() async throws {
    var (sqlite, postgres) = try await TestEngine.bothEngines(Self.scenario)
    for index in sqlite.answers.indices {
      sqlite.answers[index].hall?.ratingCode = ""
      postgres.answers[index].hall?.ratingCode = ""
    }
    sqlite.cases = TestEngine.without("rating_code", sqlite.cases)
    postgres.cases = TestEngine.without("rating_code", postgres.cases)
    #expect(sqlite.cases.count == 4 && !sqlite.cases[0].columns.contains("rating_code"))
    sqlite.idempotency = TestEngine.without("response", sqlite.idempotency)
    postgres.idempotency = TestEngine.without("response", postgres.idempotency)
    #expect(sqlite.answers == postgres.answers)
    #expect(sqlite.history == postgres.history)
    #expect(sqlite.parties == postgres.parties)
    #expect(sqlite.lists == postgres.lists && sqlite.totals == postgres.totals)
    #expect(sqlite.colours == postgres.colours)
    #expect(sqlite.alerts == postgres.alerts && sqlite.recent == postgres.recent)
    #expect(sqlite.cases == postgres.cases)
    #expect(sqlite.events == postgres.events)
    #expect(sqlite.readers == postgres.readers)
    #expect(sqlite.pending == postgres.pending)
    #expect(sqlite.suspensions == postgres.suspensions)
    #expect(sqlite.alertRows == postgres.alertRows)
    #expect(sqlite.idempotency == postgres.idempotency)
    #expect(sqlite.audit == postgres.audit)
    #expect(sqlite.chainRows == postgres.chainRows)
  }
}
