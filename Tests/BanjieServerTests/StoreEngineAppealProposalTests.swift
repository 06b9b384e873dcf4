import BanjieCore
import Foundation
import GRDB
import Synchronization
import Testing

@testable import BanjieStore

/// 群众诉求 (appeals) and 建议提案 (proposals) on the SQL layer: each scenario runs on SQLite and on
/// PostgreSQL with the same expectations, refusals included (the same DomainError, nothing
/// written), and both engines leave the same answers, rows and audit chain.
@Suite("Appeals and proposals on both engines")
struct StoreEngineAppealProposalTests {
  static let now = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07 00:00 UTC, a Monday
  static let later = now.addingTimeInterval(60 * 86_400)
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")
  static let dispatcher = Actor(role: .dispatcher, organization: "12345", person: "赵敏")
  static let scjgj = Actor(role: .clerk, organization: "SCJGJ", person: "张伟")
  static let zjj = Actor(role: .clerk, organization: "ZJJ", person: "刘洋")
  static let fgw = Actor(role: .clerk, organization: "FGW", person: "陈静")
  static let departments = [
    DepartmentRecord(code: "SCJGJ", name: "市场监管局"), DepartmentRecord(code: "ZJJ", name: "住建局"), DepartmentRecord(code: "FGW", name: "发改局"),
  ]

  static func count(_ store: BanjieStore, _ table: String) async throws -> Int {
    try await store.read { sql in try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM \(table)") ?? -1 }
  }

  /// The row counts of `tables` and of the audit log: what a refusal must leave as it was.
  static func counts(_ store: BanjieStore, _ tables: [String]) async throws -> [Int] {
    var counts: [Int] = []
    for table in tables + ["audit_log", "alerts"] { counts.append(try await Self.count(store, table)) }
    return counts
  }

  /// Runs `body`, which must throw a DomainError, and checks that it wrote nothing.
  static func refused(
    _ store: BanjieStore, _ tables: [String], _ body: () async throws -> Void
  ) async throws -> DomainError? {
    let before = try await Self.counts(store, tables)
    let error = await #expect(throws: DomainError.self) { try await body() }
    #expect(try await Self.counts(store, tables) == before)
    return error
  }

  static func citizen(_ department: String?, channel: AppealChannel = .hotline12345, category: AppealCategory = .complaint) -> NewAppeal {
    NewAppeal(
      channel: channel, category: category, requester: AppealRequester(kind: .citizen, name: "王小二", phone: "13812345678", uscc: nil),
      subject: "小区门口早餐摊占道经营", content: "每天早上六点到九点，早餐摊占用人行道。", department: department)
  }

  // MARK: Appeals

  static let appealTables = ["appeals", "appeal_rounds", "appeal_number_sequences"]

  struct AppealOutcome: Equatable {
    var answers: [AppealView]
    var lists: [[String]]
    var totals: [Int]
    var alerts: [AlertRecord]
    var appeals: [SQLRow]
    var rounds: [SQLRow]
    var idempotency: [SQLRow]
    var audit: [AuditRowView]
    var chainRows: Int64
    var errors: [DomainError]
  }

  static func appealScenario(_ store: BanjieStore) async throws -> AppealOutcome {
    _ = try await store.importCatalog(departments: Self.departments, items: [], actor: Self.office, now: Self.now)
    _ = try await store.registerEnterprise(StoreEngineEnterpriseDemandTests.new(1), actor: Self.office, now: Self.now, key: nil)
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    var answers: [AppealView] = []
    var errors: [DomainError] = []
    let key = IdempotencyKey(caller: "dispatcher:12345:赵敏", key: "appeal-1")
    func register(_ new: NewAppeal, key: IdempotencyKey? = nil, at: Date = Self.now) async throws -> AppealView {
      try await store.registerAppeal(new, regionCode: "370830", actor: Self.dispatcher, clock: clock, now: at, key: key)
    }

    // A: assigned at registration; the key replayed answers the first appeal.
    let a = try await register(Self.citizen("SCJGJ"), key: key)
    #expect(try await register(Self.citizen("SCJGJ"), key: key) == a)
    answers.append(a)
    // B: registered, then assigned and reassigned with a reason.
    let b = try await register(Self.citizen(nil, channel: .minyi5, category: .help), at: Self.now.addingTimeInterval(60))
    answers.append(b)
    let bAssigned = try await store.assignAppeal(
      number: b.record.number, department: "ZJJ", reason: "", expectedVersion: 1, actor: Self.dispatcher, clock: clock,
      now: Self.now.addingTimeInterval(120), key: nil)
    answers.append(bAssigned)
    let bReassigned = try await store.assignAppeal(
      number: b.record.number, department: "SCJGJ", reason: "属市场监管职责", expectedVersion: 2, actor: Self.dispatcher, clock: clock,
      now: Self.now.addingTimeInterval(180), key: nil)
    answers.append(bReassigned)
    // C: an enterprise's.
    let c = try await register(
      NewAppeal(
        channel: .portal, category: .consultation,
        requester: AppealRequester(kind: .enterprise, name: "刘芳", phone: "05377212345", uscc: testUSCC(1)), subject: "用地政策咨询",
        content: "扩建厂房的用地手续如何办理", department: "ZJJ"), at: Self.now.addingTimeInterval(240))
    answers.append(c)

    // Refusals: each the same DomainError on either engine, and nothing written.
    let refusals: [() async throws -> Void] = [
      {
        _ = try await register(
          NewAppeal(
            channel: .letter, category: .report,
            requester: AppealRequester(kind: .enterprise, name: "", phone: "13812345678", uscc: testUSCC(9)),
            subject: "举报", content: "内容", department: nil))
      },
      { _ = try await register(Self.citizen("XYZ")) },
      {
        _ = try await store.assignAppeal(
          number: "QZ-370830-20261207-9999", department: "ZJJ", reason: "", expectedVersion: nil, actor: Self.dispatcher, clock: clock,
          now: Self.now, key: nil)
      },
      {
        _ = try await store.assignAppeal(
          number: bReassigned.record.number, department: "SCJGJ", reason: "再改", expectedVersion: nil, actor: Self.dispatcher, clock: clock,
          now: Self.now, key: nil)
      },
      {
        _ = try await store.assignAppeal(
          number: bReassigned.record.number, department: "ZJJ", reason: "x", expectedVersion: 1, actor: Self.dispatcher, clock: clock,
          now: Self.now, key: nil)
      },
      {
        _ = try await store.contactAppeal(
          number: a.record.number, method: .phone, note: "已联系", expectedVersion: nil, actor: Self.zjj, clock: clock, now: Self.now, key: nil
        )
      },
      {
        _ = try await store.resolveAppeal(
          number: a.record.number, resolution: "已处理", expectedVersion: 7, actor: Self.scjgj, clock: clock, now: Self.now, key: nil)
      },
      {
        _ = try await store.recordAppealCallBack(
          number: a.record.number, satisfaction: .satisfied, note: "", expectedVersion: nil, actor: Self.dispatcher, clock: clock,
          now: Self.now, key: nil)
      },
    ]
    for refusal in refusals {
      if let error = try await Self.refused(store, Self.appealTables, refusal) { errors.append(error) }
    }

    // A through its life: contact, resolve, a dissatisfied call-back reopens it, resolved again and closed.
    var step = Self.now.addingTimeInterval(3600)
    func next() -> Date {
      step = step.addingTimeInterval(3600)
      return step
    }
    answers.append(
      try await store.contactAppeal(
        number: a.record.number, method: .phone, note: "已电话联系诉求人", expectedVersion: 1, actor: Self.scjgj, clock: clock, now: next(),
        key: nil))
    answers.append(
      try await store.resolveAppeal(
        number: a.record.number, resolution: "已清理占道摊点", expectedVersion: 2, actor: Self.scjgj, clock: clock, now: next(), key: nil))
    answers.append(
      try await store.recordAppealCallBack(
        number: a.record.number, satisfaction: .dissatisfied, note: "摊点第二天又回来了", expectedVersion: 3, actor: Self.dispatcher,
        clock: clock, now: next(), key: nil))
    answers.append(
      try await store.resolveAppeal(
        number: a.record.number, resolution: "设置便民早餐点并每日巡查", expectedVersion: 4, actor: Self.scjgj, clock: clock, now: next(),
        key: nil))
    answers.append(
      try await store.recordAppealCallBack(
        number: a.record.number, satisfaction: .satisfied, note: "", expectedVersion: 5, actor: Self.dispatcher, clock: clock, now: next(),
        key: nil))

    // Lists: every filter, and a page boundary.
    var lists: [[String]] = []
    var totals: [Int] = []
    func list(_ change: (inout BanjieStore.AppealFilter) -> Void, at: Date = Self.now) async throws -> [String] {
      var filter = BanjieStore.AppealFilter()
      change(&filter)
      let page = try await store.listAppeals(filter, clock: clock, now: at)
      totals.append(page.total)
      lists.append(page.views.map(\.record.number) + [page.next ?? "-"])
      return page.views.map(\.record.number)
    }
    _ = try await list { _ in }
    _ = try await list { $0.scopeDepartment = "SCJGJ" }
    _ = try await list { $0.department = "ZJJ" }
    _ = try await list { $0.scopeEnterprise = testUSCC(1) }
    _ = try await list { $0.channel = .minyi5 }
    _ = try await list { $0.states = [.closed, .assigned] }
    _ = try await list { $0.waiting = true }
    _ = try await list { $0.overdue = true }
    _ = try await list({ $0.overdue = true }, at: Self.later)
    let first = try await list { $0.pageSize = 2 }
    _ = try await list {
      $0.pageSize = 2
      $0.after = first.last
    }

    // Reads.
    #expect(try await store.appeal(number: a.record.number, clock: clock, now: step) == answers.last)
    #expect(try await store.appeal(number: "QZ-370830-20261207-9999", clock: clock, now: step) == nil)
    answers.append(try #require(try await store.appeal(number: c.record.number, clock: clock, now: Self.later)))

    // The sweeper: nothing at once; past the deadlines, B's and C's clocks turn red, once.
    var alerts = try await store.sweepAppeals(clock: clock, now: Self.now.addingTimeInterval(300))
    alerts += try await store.sweepAppeals(clock: clock, now: Self.later)
    alerts += try await store.sweepAppeals(clock: clock, now: Self.later.addingTimeInterval(60))

    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return AppealOutcome(
      answers: answers, lists: lists, totals: totals, alerts: alerts,
      appeals: try await TestEngine.rows(store, "SELECT * FROM appeals ORDER BY id"),
      rounds: try await TestEngine.rows(store, "SELECT * FROM appeal_rounds ORDER BY appeal_id, round"),
      idempotency: try await TestEngine.rows(store, "SELECT caller, key, method, created_at FROM idempotency ORDER BY caller, key"),
      audit: try await store.listAuditRows(AuditFilter()).rows, chainRows: chain.rows, errors: errors)
  }

  @Test(
    "appeals: register, assign, reassign, contact, resolve, call back; lists, reads, the sweeper; refusals write nothing",
    arguments: TestEngine.allCases)
  func appeals(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let outcome = try await Self.appealScenario(store)
      let numbers = outcome.answers.prefix(2).map(\.record.number)
      #expect(numbers == ["QZ-370830-20261207-0001", "QZ-370830-20261207-0002"])
      let a = outcome.answers[0]
      #expect(a.record.state == .assigned && a.record.department == "SCJGJ" && a.record.version == 1 && a.record.round == 1)
      #expect(a.departmentName == "市场监管局" && a.rounds.count == 1 && a.responseSLA != nil && a.record.id == 1)
      #expect(a.record.responseLimitWorkingDays == 1 && a.record.resolutionLimitWorkingDays == 5)
      #expect(outcome.answers[1].record.state == .registered && outcome.answers[1].rounds.isEmpty)
      let reassigned = outcome.answers[3]
      #expect(reassigned.record.department == "SCJGJ" && reassigned.record.reassignments == 1 && reassigned.record.version == 3)
      #expect(reassigned.record.reassignReason == "属市场监管职责" && reassigned.rounds.count == 1)
      let c = outcome.answers[4]
      #expect(c.enterpriseName == "汶上县鲁源机械有限公司" && c.record.requesterKind == .enterprise && c.departmentName == "住建局")
      #expect(c.record.resolutionLimitWorkingDays == 1)
      #expect(
        outcome.errors.map(\.code) == [
          "appeal.unknown_enterprise", "appeal.unknown_department", "appeal.not_found", "appeal.same_department",
          "appeal.version_conflict", "appeal.not_your_department", "appeal.version_conflict", outcome.errors[7].code,
        ])
      #expect(outcome.errors.count == 8 && outcome.errors[7].kind == .failedPrecondition)
      #expect(outcome.errors[0].field == "enterprise_uscc" && outcome.errors[1].field == "department")
      let lifecycle = outcome.answers[5...9].map(\.record.state)
      #expect(lifecycle == [.contacted, .resolved, .reopened, .resolved, .closed])
      let closed = outcome.answers[9]
      #expect(
        closed.record.version == 6 && closed.record.round == 2 && closed.rounds.count == 2 && closed.record.satisfaction == .satisfied)
      #expect(closed.rounds.map(\.record.satisfaction) == [.dissatisfied, .satisfied] && closed.rounds.allSatisfy { $0.sla == nil })
      #expect(closed.record.responseOnTime == true && closed.record.closedAt != nil)
      #expect(outcome.totals == [3, 2, 1, 1, 1, 3, 2, 0, 2, 3, 3])
      #expect(outcome.lists[0] == ["QZ-370830-20261207-0003", "QZ-370830-20261207-0002", "QZ-370830-20261207-0001", "-"])
      #expect(outcome.lists[9] == ["QZ-370830-20261207-0003", "QZ-370830-20261207-0002", "QZ-370830-20261207-0002"])
      #expect(outcome.lists[10] == ["QZ-370830-20261207-0001", "-"])
      #expect(outcome.lists[3] == ["QZ-370830-20261207-0003", "-"] && outcome.lists[5].count == 4)
      // B and C: the response clock and round 1 each turn red once.
      #expect(outcome.alerts.map(\.kind) == ["appeal.red", "appeal.red", "appeal.red", "appeal.red"])
      #expect(
        outcome.alerts.map(\.subject).sorted() == [
          "appeal QZ-370830-20261207-0002", "appeal QZ-370830-20261207-0002",
          "appeal QZ-370830-20261207-0003", "appeal QZ-370830-20261207-0003",
        ])
      #expect(outcome.alerts.allSatisfy { $0.id != nil && !$0.message.contains("王小二") })
      #expect(outcome.appeals.count == 3 && outcome.rounds.count == 4 && outcome.idempotency.count == 1)
      let actions = outcome.audit.map(\.action).filter { $0.hasPrefix("appeal.") }
      #expect(actions.filter { $0 == "appeal.colour" }.count == 4)
      #expect(
        Array(actions.reversed().prefix(10)) == [
          "appeal.register", "appeal.register", "appeal.assign", "appeal.reassign", "appeal.register", "appeal.contact",
          "appeal.resolve", "appeal.call_back", "appeal.resolve", "appeal.call_back",
        ])
      // Each answer is the appeal as stored.
      let stored = try await TestEngine.rows(store, "SELECT number, version, state FROM appeals ORDER BY id")
      #expect(try stored.map { try $0.decode(String.self, at: 2) } == ["CLOSED", "ASSIGNED", "ASSIGNED"])
    }
  }

  // MARK: Proposals

  static let proposalTables = [
    "proposals", "proposal_co_departments", "proposal_co_opinions", "proposal_contacts", "proposal_replies", "proposal_number_sequences",
  ]

  struct ProposalOutcome: Equatable {
    var answers: [ProposalView]
    var lists: [[Int64]]
    var totals: [Int]
    var alerts: [AlertRecord]
    var tables: [[SQLRow]]
    var audit: [AuditRowView]
    var chainRows: Int64
    var errors: [DomainError]
  }

  static func proposalScenario(_ store: BanjieStore) async throws -> ProposalOutcome {
    _ = try await store.importCatalog(departments: Self.departments, items: [], actor: Self.office, now: Self.now)
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    var answers: [ProposalView] = []
    var errors: [DomainError] = []
    func register(_ kind: ProposalKind, lead: String, co: [String], key: IdempotencyKey? = nil) async throws -> ProposalView {
      try await store.registerProposal(
        NewProposal(
          kind: kind, title: "关于优化营商环境的建议", proposer: "王代表", proposerContact: "13900000000", session: "县十九届人大三次会议",
          leadDepartment: lead, coDepartments: co), regionCode: "370830", actor: Self.office, clock: clock, now: Self.now, key: key)
    }
    let key = IdempotencyKey(caller: "office:YSB:李娜", key: "proposal-1")
    let p = try await register(.deputySuggestion, lead: "SCJGJ", co: ["ZJJ", "FGW"], key: key)
    #expect(try await register(.deputySuggestion, lead: "SCJGJ", co: ["ZJJ", "FGW"], key: key) == p)
    answers.append(p)
    let q = try await register(.cppccProposal, lead: "ZJJ", co: [])
    answers.append(q)
    let number = p.proposal.number
    var step = Self.now
    func next() -> Date {
      step = step.addingTimeInterval(86_400)
      return step
    }

    let refusals: [() async throws -> Void] = [
      { _ = try await register(.deputySuggestion, lead: "XYZ", co: []) },
      { _ = try await register(.deputySuggestion, lead: "SCJGJ", co: ["XYZ"]) },
      {
        _ = try await store.extendProposal(
          number: "JY-370830-20261207-9999", months: 5, reason: "x", expectedVersion: nil, actor: Self.office, clock: clock, now: Self.now,
          key: nil)
      },
      {
        _ = try await store.replyProposal(
          number: number, text: "答复", resultClass: .a, expectedVersion: nil, actor: Self.scjgj, clock: clock, now: Self.now, key: nil)
      },
      {
        _ = try await store.recordProposalCoOpinion(
          number: number, opinion: "意见", expectedVersion: nil, actor: Self.scjgj, clock: clock, now: Self.now, key: nil)
      },
      {
        _ = try await store.recordProposalConsultation(
          number: number, method: .phone, note: "", contactedAt: nil, expectedVersion: 9, actor: Self.scjgj, clock: clock, now: Self.now,
          key: nil)
      },
      {
        _ = try await store.assessProposal(
          number: number, assessment: .satisfied, note: "", expectedVersion: nil, actor: Self.scjgj, clock: clock, now: Self.now, key: nil)
      },
    ]
    for refusal in refusals {
      if let error = try await Self.refused(store, Self.proposalTables, refusal) { errors.append(error) }
    }

    answers.append(
      try await store.extendProposal(
        number: number, months: 5, reason: "涉及多部门协调", expectedVersion: 1, actor: Self.scjgj, clock: clock, now: next(), key: nil))
    answers.append(
      try await store.recordProposalConsultation(
        number: number, method: .faceToFace, note: "当面沟通办理思路", contactedAt: nil, expectedVersion: 2, actor: Self.scjgj, clock: clock,
        now: next(), key: nil))
    answers.append(
      try await store.recordProposalCoOpinion(
        number: number, opinion: "同意主办单位意见", expectedVersion: 3, actor: Self.zjj, clock: clock, now: next(), key: nil))
    if let error = try await Self.refused(
      store, Self.proposalTables,
      {
        _ = try await store.recordProposalCoOpinion(
          number: number, opinion: "再次意见", expectedVersion: nil, actor: Self.zjj, clock: clock, now: next(), key: nil)
      })
    {
      errors.append(error)
    }
    answers.append(
      try await store.replyProposal(
        number: number, text: "已出台措施", resultClass: .b, expectedVersion: 4, actor: Self.scjgj, clock: clock, now: next(), key: nil))
    answers.append(
      try await store.assessProposal(
        number: number, assessment: .dissatisfied, note: "措施不具体", expectedVersion: 5, actor: Self.office, clock: clock, now: next(),
        key: nil))
    answers.append(
      try await store.recordProposalConsultation(
        number: number, method: .phone, note: "", contactedAt: step, expectedVersion: 6, actor: Self.scjgj, clock: clock, now: next(),
        key: nil))
    answers.append(
      try await store.recordProposalCoOpinion(
        number: number, opinion: "第二轮意见", expectedVersion: 7, actor: Self.zjj, clock: clock, now: next(), key: nil))
    answers.append(
      try await store.replyProposal(
        number: number, text: "细化了措施", resultClass: .a, expectedVersion: 8, actor: Self.scjgj, clock: clock, now: next(), key: nil))
    answers.append(
      try await store.assessProposal(
        number: number, assessment: .basicallySatisfied, note: "", expectedVersion: 9, actor: Self.office, clock: clock, now: next(),
        key: nil))

    var lists: [[Int64]] = []
    var totals: [Int] = []
    func list(_ change: (inout BanjieStore.ProposalFilter) -> Void) async throws -> (ids: [Int64], next: String?) {
      var filter = BanjieStore.ProposalFilter()
      change(&filter)
      let page = try await store.listProposals(filter, clock: clock, now: step)
      totals.append(page.total)
      lists.append(page.views.compactMap(\.proposal.id))
      return (page.views.compactMap(\.proposal.id), page.next)
    }
    _ = try await list { _ in }
    _ = try await list { $0.involving = "FGW" }
    _ = try await list { $0.department = "ZJJ" }
    _ = try await list { $0.kind = .cppccProposal }
    _ = try await list { $0.states = [.closed] }
    let first = try await list { $0.pageSize = 1 }
    #expect(first.next == "2")
    _ = try await list {
      $0.pageSize = 1
      $0.after = first.next.flatMap { Int64($0) }
    }

    #expect(try await store.proposal(number: number, clock: clock, now: step) == answers.last)
    #expect(try await store.proposal(number: "TA-370830-20261207-9999", clock: clock, now: step) == nil)

    var alerts = try await store.sweepProposals(clock: clock, now: Self.now.addingTimeInterval(60))
    alerts += try await store.sweepProposals(clock: clock, now: Self.now.addingTimeInterval(80 * 86_400))
    alerts += try await store.sweepProposals(clock: clock, now: Self.now.addingTimeInterval(100 * 86_400))
    alerts += try await store.sweepProposals(clock: clock, now: Self.now.addingTimeInterval(101 * 86_400))
    answers.append(
      try #require(try await store.proposal(number: q.proposal.number, clock: clock, now: Self.now.addingTimeInterval(101 * 86_400))))

    var tables: [[SQLRow]] = []
    for (table, order) in zip(
      Self.proposalTables, ["id", "proposal_id, department", "proposal_id, department, round", "id", "proposal_id, round", "prefix, day"])
    {
      tables.append(try await TestEngine.rows(store, "SELECT * FROM \(table) ORDER BY \(order)"))
    }
    // The stored first answer is JSON whose key order is not fixed: compared by the answers.
    tables.append(try await TestEngine.rows(store, "SELECT caller, key, method, created_at FROM idempotency ORDER BY caller, key"))
    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return ProposalOutcome(
      answers: answers, lists: lists, totals: totals, alerts: alerts, tables: tables,
      audit: try await store.listAuditRows(AuditFilter()).rows,
      chainRows: chain.rows, errors: errors)
  }

  @Test(
    "proposals: register, extend, consult, co-opinion, reply, assess twice; lists, reads, the sweeper; refusals write nothing",
    arguments: TestEngine.allCases)
  func proposals(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let outcome = try await Self.proposalScenario(store)
      let p = outcome.answers[0]
      #expect(p.proposal.number == "JY-370830-20261207-0001" && outcome.answers[1].proposal.number == "TA-370830-20261207-0001")
      #expect(p.proposal.state == .assigned && p.proposal.version == 1 && p.proposal.months == 3 && p.proposal.maxMonths == 6)
      #expect(p.leadDepartmentName == "市场监管局" && p.coDepartments.map(\.record.department) == ["FGW", "ZJJ"] && p.timing != nil)
      #expect(
        outcome.errors.map(\.code) == [
          "proposal.unknown_department", "proposal.unknown_department", "proposal.not_found", "proposal.consultation_required",
          "proposal.not_co_department",
          "proposal.version_conflict", "proposal.not_lead", "proposal.co_opinion_given",
        ])
      #expect(outcome.errors.count == 8 && outcome.errors[1].field == "co_departments")
      let extended = outcome.answers[2]
      #expect(extended.proposal.months == 5 && extended.proposal.extensionReason == "涉及多部门协调")
      #expect(outcome.answers[3].contacts.count == 1 && outcome.answers[3].contacts.first?.id == 1)
      #expect(outcome.answers[4].coDepartments.first { $0.record.department == "ZJJ" }?.opinions.count == 1)
      #expect(outcome.answers[5].proposal.state == .replied && outcome.answers[5].replies.first?.onTime == true)
      let reopened = outcome.answers[6]
      #expect(reopened.proposal.state == .reopened && reopened.proposal.round == 2 && reopened.replies.first?.assessment == .dissatisfied)
      let closed = outcome.answers[10]
      #expect(closed.proposal.state == .closed && closed.proposal.assessment == .basicallySatisfied && closed.proposal.version == 10)
      #expect(closed.replies.map(\.round) == [1, 2] && closed.contacts.count == 2 && closed.timing == nil)
      #expect(closed.coDepartments.first { $0.record.department == "ZJJ" }?.opinions.map(\.round) == [1, 2])
      #expect(outcome.lists == [[2, 1], [1], [2, 1], [2], [1], [2], [1]])
      #expect(outcome.totals == [2, 1, 2, 1, 1, 2, 2])
      #expect(outcome.alerts.map(\.kind) == ["proposal.yellow", "proposal.red"])
      #expect(outcome.alerts.allSatisfy { $0.departmentCode == "ZJJ" && $0.subject == "proposal TA-370830-20261207-0001" && $0.id != nil })
      #expect(outcome.answers[11].proposal.colour == .red)
      #expect(outcome.tables.map(\.count) == [2, 2, 2, 2, 2, 2, 1])
      #expect(outcome.audit.filter { $0.action == "proposal.colour" }.count == 2)
    }
  }

  // MARK: Both engines

  @Test("appeals and proposals leave the same answers, rows and audit chain on both engines")
  func enginesAgree() async throws {
    let (sqliteAppeals, postgresAppeals) = try await TestEngine.bothEngines(Self.appealScenario)
    let (sqliteProposals, postgresProposals) = try await TestEngine.bothEngines(Self.proposalScenario)
    #expect(sqliteAppeals.answers == postgresAppeals.answers)
    #expect(sqliteAppeals.appeals == postgresAppeals.appeals)
    #expect(sqliteAppeals.rounds == postgresAppeals.rounds)
    #expect(sqliteAppeals.idempotency == postgresAppeals.idempotency)
    #expect(sqliteAppeals.audit == postgresAppeals.audit)
    #expect(sqliteAppeals == postgresAppeals)
    #expect(sqliteAppeals.chainRows == 18)
    #expect(sqliteProposals.answers == postgresProposals.answers)
    for (s, p) in zip(sqliteProposals.tables, postgresProposals.tables) { #expect(s == p) }
    #expect(sqliteProposals.audit == postgresProposals.audit)
    #expect(sqliteProposals == postgresProposals)
  }

  @Test("an appeal and a proposal are stored as GRDB's Codable insert stored them")
  func rowsAsGRDBStoredThem() async throws {
    try await TestEngine.sqlite.withStore { store in
      _ = try await store.importCatalog(departments: Self.departments, items: [], actor: Self.office, now: Self.now)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let at = Self.now.addingTimeInterval(0.123)
      let appeal = try await store.registerAppeal(
        Self.citizen("SCJGJ"), regionCode: "370830", actor: Self.dispatcher, clock: clock, now: at, key: nil)
      let proposal = try await store.registerProposal(
        NewProposal(
          kind: .cppccProposal, title: "题", proposer: "委员", proposerContact: "", session: "", leadDepartment: "ZJJ", coDepartments: []),
        regionCode: "370830", actor: Self.office, clock: clock, now: at, key: nil)
      var appealCopy = appeal.record
      appealCopy.id = nil
      appealCopy.number = "QZ-copy"
      var roundCopy = try #require(appeal.rounds.first).record
      var proposalCopy = proposal.proposal
      proposalCopy.id = nil
      proposalCopy.number = "TA-copy"
      let written = (appealCopy, proposalCopy)
      let ids = try await store.pool.write { db -> (Int64?, Int64?) in
        var appeal = written.0
        try appeal.insert(db)
        var proposal = written.1
        try proposal.insert(db)
        return (appeal.id, proposal.id)
      }
      roundCopy.appealId = try #require(ids.0)
      let round = roundCopy
      try await store.pool.write { db in try round.insert(db) }
      let rows = try await store.read { sql in
        (
          try sql.fetchAll("SELECT \(AppealRecord.storedColumns.dropFirst().joined(separator: ", ")) FROM appeals ORDER BY id").map(
            \.values),
          try sql.fetchAll(
            "SELECT \(AppealRoundRecord.storedColumns.dropFirst().joined(separator: ", ")) FROM appeal_rounds ORDER BY appeal_id"
          )
          .map(\.values),
          try sql.fetchAll("SELECT \(ProposalRecord.storedColumns.dropFirst().joined(separator: ", ")) FROM proposals ORDER BY id").map(
            \.values)
        )
      }
      #expect(rows.0.count == 2 && rows.0.first == rows.0.last, "\(rows.0)")
      #expect(rows.1.count == 2 && rows.1.first == rows.1.last, "\(rows.1)")
      #expect(rows.2.count == 2 && rows.2.first == rows.2.last, "\(rows.2)")
      #expect(try await store.appeal(number: "QZ-copy", clock: clock, now: at)?.record.registeredAt == appeal.record.registeredAt)
      #expect(try await store.proposal(number: "TA-copy", clock: clock, now: at)?.proposal.assignedAt == proposal.proposal.assignedAt)
    }
  }
}
