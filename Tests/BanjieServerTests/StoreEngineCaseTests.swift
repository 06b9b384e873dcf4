import BanjieCore
import Foundation
import Synchronization
import Testing

@testable import BanjieStore

/// The case workflow on the SQL layer (issue 17), starting with SubmitCase: each scenario runs on
/// SQLite and on PostgreSQL with the same expectations, and the two engines' answers and rows
/// (cases, events, readers, the audit chain) are compared with each other value for value.
@Suite("Cases on both engines")
struct StoreEngineCaseTests {
  static let now = Date(timeIntervalSince1970: 1_796_608_800)  // 2026-12-07 10:00 in Beijing, a Monday
  static let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "张伟", certificateSerial: "0A")
  /// A clerk of another department's window (一窗受理): the case gives that department read access.
  static let hallClerk = Actor(role: .clerk, organization: "ZWFWZX", person: "刘洋", certificateSerial: "0C")
  static let departments = [DepartmentRecord(code: "SCJGJ", name: "市场监管局"), DepartmentRecord(code: "ZWFWZX", name: "政务服务中心")]
  static let item = ServiceItemRecord(
    code: "SCJGJ-002", name: "个体工商户登记", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 1, limitUnit: .workingDays,
    legalLimitDays: 15, materials: ["身份证", "经营场所证明"], allowsMinorPending: false, proxySteps: [.supplement, .collect])

  /// What a scenario leaves: the answers, then every row it wrote, in key order.
  struct Outcome: Equatable {
    var answers: [CaseView]
    var cases: [SQLRow]
    var events: [SQLRow]
    var readers: [SQLRow]
    var idempotency: [SQLRow]
    var audit: [AuditRowView]
    var chainRows: Int64
  }

  static func submit(
    _ store: BanjieStore, clock: SLAClock, _ new: NewCase, actor: Actor = Self.clerk, key: String? = nil
  ) async throws -> CaseView {
    try await store.submitCase(
      new, regionCode: "370830", actor: actor, authorize: { _, _ in }, clock: clock, now: Self.now,
      key: key.map { IdempotencyKey(caller: "clerk:\(actor.organization):\(actor.person)", key: $0) })
  }

  static func scenario(_ store: BanjieStore) async throws -> Outcome {
    _ = try await store.importCatalog(departments: Self.departments, items: [Self.item], actor: .system, now: Self.now)
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    var answers: [CaseView] = []
    let first = try await Self.submit(
      store, clock: clock, NewCase(itemCode: "SCJGJ-002", applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: "材料齐全"),
      key: "k-1")
    answers.append(first)
    // The same key again: the first answer, nothing written.
    let replayed = try await Self.submit(
      store, clock: clock, NewCase(itemCode: "SCJGJ-002", applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: "材料齐全"),
      key: "k-1")
    #expect(replayed == first)
    // An enterprise's case (the code stored upper-case), received online without a window by
    // another department's clerk.
    answers.append(
      try await Self.submit(
        store, clock: clock,
        NewCase(
          itemCode: "SCJGJ-002", applicant: "汶上县鲁源机械有限公司", enterpriseUSCC: testUSCC(3).lowercased(), window: "", note: "",
          channel: .online),
        actor: Self.hallClerk))
    // Refused before anything is written: an unknown item, a key reused for another method.
    let unknown = await #expect(throws: DomainError.self) {
      try await Self.submit(
        store, clock: clock, NewCase(itemCode: "SCJGJ-404", applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: ""))
    }
    #expect(unknown?.code == "case.unknown_item" && unknown?.field == "item_code")
    let windowless = await #expect(throws: DomainError.self) {
      try await Self.submit(
        store, clock: clock, NewCase(itemCode: "SCJGJ-002", applicant: "王小二", enterpriseUSCC: nil, window: "", note: ""))
    }
    #expect(windowless?.field == "window")
    answers.append(
      try await Self.submit(
        store, clock: clock, NewCase(itemCode: "SCJGJ-002", applicant: "李四", enterpriseUSCC: nil, window: "a05", note: "")))
    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return Outcome(
      answers: answers, cases: try await TestEngine.rows(store, "SELECT * FROM cases ORDER BY id"),
      events: try await TestEngine.rows(store, "SELECT * FROM case_events ORDER BY id"),
      readers: try await TestEngine.rows(store, "SELECT * FROM case_readers ORDER BY case_id, department_code"),
      idempotency: try await TestEngine.rows(store, "SELECT * FROM idempotency ORDER BY caller, key"),
      audit: try await store.listAuditRows(AuditFilter()).rows, chainRows: chain.rows)
  }

  @Test("SubmitCase: numbers, the one-window reader, a replayed key, refusals that write nothing", arguments: TestEngine.allCases)
  func submit(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let outcome = try await Self.scenario(store)
      #expect(outcome.answers.map(\.record.number) == ["370830-20261207-000001", "370830-20261207-000002", "370830-20261207-000003"])
      #expect(outcome.answers.map(\.record.id) == [1, 2, 3])
      #expect(outcome.answers.allSatisfy { $0.record.state == .received && $0.record.version == 1 && $0.departmentName == "市场监管局" })
      #expect(outcome.answers[1].record.enterpriseUscc == testUSCC(3).uppercased())
      #expect(outcome.answers[1].hall?.channel == .online && outcome.answers[1].record.window == "")
      #expect(outcome.answers[1].hall?.readers == ["ZWFWZX": .receiving])
      #expect(outcome.answers.allSatisfy { !($0.hall?.ratingCode ?? "").isEmpty })
      #expect(outcome.cases.count == 3 && outcome.events.count == 3)
      #expect(outcome.readers.count == 1 && outcome.idempotency.count == 1)
      // The catalog's three rows, then one per case (newest first).
      #expect(outcome.audit.filter { $0.action == "case.receive" }.map(\.entityID) == outcome.answers.map(\.record.number).reversed())
      #expect(outcome.chainRows == 6)
      // Each answer is the case as stored.
      if case .sqlite = engine {
        for answer in outcome.answers {
          let stored = try await store.caseView(
            number: answer.record.number, clock: try SLAClock(calendar: try await store.loadCalendar()), now: Self.now)
          #expect(stored?.record == answer.record)
          #expect(stored?.hall == answer.hall)
        }
      }
    }
  }

  @Test("SubmitCase leaves the same answers and rows on both engines, except the rating codes")
  func enginesAgree() async throws {
    var (sqlite, postgres) = try await TestEngine.bothEngines(Self.scenario)
    // The rating codes are random (BanjieCore.RatingCode): left out of the answers and the rows;
    // the stored first answer holds one too.
    for index in sqlite.answers.indices {
      sqlite.answers[index].hall?.ratingCode = ""
      postgres.answers[index].hall?.ratingCode = ""
    }
    sqlite.cases = TestEngine.without("rating_code", sqlite.cases)
    postgres.cases = TestEngine.without("rating_code", postgres.cases)
    #expect(sqlite.cases.count == 3 && sqlite.cases[0].columns.contains("township") && !sqlite.cases[0].columns.contains("rating_code"))
    sqlite.idempotency = TestEngine.without("response", sqlite.idempotency)
    postgres.idempotency = TestEngine.without("response", postgres.idempotency)
    #expect(sqlite.answers == postgres.answers)
    #expect(sqlite.cases == postgres.cases)
    #expect(sqlite.events == postgres.events)
    #expect(sqlite.readers == postgres.readers)
    #expect(sqlite.idempotency == postgres.idempotency)
    #expect(sqlite.audit == postgres.audit)
    #expect(sqlite.chainRows == postgres.chainRows)
  }

  @Test(
    "a clock setting and a calendar import recompute open cases in one step, then put the clock in force", arguments: TestEngine.allCases)
  func settingsAndCalendarWrites(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      _ = try await store.importCatalog(departments: Self.departments, items: [Self.item], actor: .system, now: Self.now)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let new = NewCase(itemCode: "SCJGJ-002", applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: "")
      let first = try await Self.submit(store, clock: clock, new)
      _ = try await Self.submit(store, clock: clock, new)
      let installed = Mutex<[SLAClock]>([])

      // A setting that is no clock: stored, audited, replayed by its key; nothing recomputed.
      let key = IdempotencyKey(caller: "office:YSB:李娜", key: "set-1")
      let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")
      let makeClock: @Sendable (CountySettings) throws -> SLAClock = {
        try SLAClock(calendar: clock.calendar, yellowThreshold: $0.yellowThreshold)
      }
      let set = try await store.setSetting(
        .demandLimitWorkingDays, to: "12", defaults: CountySettings(), actor: office, now: Self.now, idempotency: key, clock: makeClock,
        install: { clock in installed.withLock { $0.append(clock) } })
      let again = try await store.setSetting(
        .demandLimitWorkingDays, to: "12", defaults: CountySettings(), actor: office, now: Self.now, idempotency: key, clock: makeClock,
        install: { clock in installed.withLock { $0.append(clock) } })
      #expect(set == again && set.settings.demandLimitWorkingDays == 12)
      #expect(installed.withLock { $0.isEmpty })
      // A clock setting: put in force after its commit.
      let yellow = try await store.setSetting(
        .yellowThreshold, to: "0.7", defaults: CountySettings(), actor: office, now: Self.now, idempotency: nil, clock: makeClock,
        install: { clock in installed.withLock { $0.append(clock) } })
      #expect(yellow.settings.yellowThreshold == 0.7)
      #expect(installed.withLock { $0.count } == 1)
      let refused = await #expect(throws: DomainError.self) {
        try await store.setSetting(
          .yellowThreshold, to: "7", defaults: CountySettings(), actor: office, now: Self.now, idempotency: nil, clock: makeClock,
          install: { _ in })
      }
      #expect(refused?.field == "value" || refused?.kind == .invalidArgument)

      // The two days after the cases came in become holidays: both intake deadlines move.
      let data = try CalendarYearData(
        year: 2026, holidays: try [LocalDate(year: 2026, month: 12, day: 8), LocalDate(year: 2026, month: 12, day: 9)], makeUpWorkdays: [])
      let calendar = clock.calendar.installing(data)
      let result = try await store.importCalendarYear(
        data, forceReason: "测试", actor: .system, now: Self.now, clock: { try SLAClock(calendar: calendar) },
        install: { clock in installed.withLock { $0.append(clock) } })
      #expect(result.recomputed == 2)
      #expect(installed.withLock { $0.count } == 2)
      #expect(try await store.loadCalendar() == calendar)
      let moved = try await store.read { sql in try CaseRecord.byNumber(sql, first.record.number) }
      #expect(moved?.intakeDueAt == (try SLAClock(calendar: calendar).intakeDeadline(receivedAt: Self.now)))
      #expect(moved?.intakeDueAt != first.record.intakeDueAt)
      let actions = try await store.listAuditRows(AuditFilter()).rows.map(\.action)
      #expect(actions.prefix(3) == ["calendar.import", "settings.set", "settings.set"])
      #expect(try await store.verifyAudit().ok)
    }
  }
}
