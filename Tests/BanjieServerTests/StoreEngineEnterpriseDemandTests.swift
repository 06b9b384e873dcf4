import BanjieCore
import Foundation
import GRDB
import Synchronization
import Testing

@testable import BanjieStore

/// Townships, enterprises, liaisons, visits and demands (诉求) on the SQL layer: each scenario runs
/// on SQLite and on PostgreSQL with the same expectations, refusals included, and checks that a
/// refused call wrote nothing.
@Suite("Enterprises, visits and demands on both engines")
struct StoreEngineEnterpriseDemandTests {
  static let now = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07 00:00 UTC
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")
  static let liaison = Actor(role: .liaison, organization: "南旺镇人民政府", person: "王强", certificateSerial: "0B")
  static let liaisonRef = LiaisonRef(organization: "南旺镇人民政府", person: "王强")
  static let otherRef = LiaisonRef(organization: "刘楼镇人民政府", person: "赵敏")
  static let departments = [DepartmentRecord(code: "ZRZYJ", name: "自然资源局"), DepartmentRecord(code: "ZJJ", name: "住建局")]
  static let contacts = [ContactRecord(name: "刘芳", phone: "0537-7212345", title: "财务负责人")]

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

  static func count(_ store: BanjieStore, _ table: String) async throws -> Int {
    try await store.read { sql in try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM \(table)") ?? -1 }
  }

  static func new(
    _ n: Int, name: String = "汶上县鲁源机械有限公司", township: String = "南旺镇", scale: EnterpriseScale = .small,
    liaisons: [LiaisonRef] = [Self.liaisonRef], contacts: [ContactRecord] = Self.contacts, overrideReason: String? = nil
  ) -> NewEnterprise {
    NewEnterprise(
      uscc: testUSCC(n), name: name, industry: .c, scale: scale, township: township, contacts: contacts, liaisons: liaisons,
      checkOverrideReason: overrideReason)
  }

  static func demand(_ department: String = "ZRZYJ", days: Int? = nil, category: DemandCategory = .land) -> NewDemand {
    NewDemand(category: category, description: "扩建厂房需办理建设用地规划许可", departmentCode: department, limitWorkingDays: days)
  }

  static let allow: @Sendable (EnterpriseAccess) throws -> Void = { _ in }

  // MARK: Townships and the registry

  @Test("townships: a code-less one takes its code, a new one is added, a coded one is refused", arguments: TestEngine.allCases)
  func townships(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let listed = try await store.townships()
      #expect(Set(listed) == Set(Township.sampleCounty))
      let coded = try await store.addTownship(
        Township(name: "南旺镇", code: "370830104"), actor: Self.office, now: Self.now, key: nil)
      #expect(coded == Township(name: "南旺镇", code: "370830104"))
      let key = IdempotencyKey(caller: "YSB/李娜", key: "township-1")
      let added = try await store.addTownship(Township(name: "新城镇", code: "370830199"), actor: Self.office, now: Self.now, key: key)
      let replayed = try await store.addTownship(Township(name: "新城镇", code: "370830199"), actor: Self.office, now: Self.now, key: key)
      #expect(added == replayed)
      let exists = await #expect(throws: DomainError.self) {
        try await store.addTownship(Township(name: "南旺镇", code: "370830105"), actor: Self.office, now: Self.now, key: nil)
      }
      #expect(exists?.code == "township.exists" && exists?.field == "name")
      let after = try await store.townships()
      #expect(after.count == Township.sampleCounty.count + 1)
      // Ordered by code: the code-less ones first, then the two with codes.
      #expect(after.suffix(2) == [Township(name: "南旺镇", code: "370830104"), Township(name: "新城镇", code: "370830199")])
      #expect(try await store.listAuditRows(AuditFilter()).rows.map(\.action) == ["township.add", "township.code"])
      #expect(try await Self.auditRows(store) == 2)
    }
  }

  @Test("an enterprise is registered once, refused when it exists or its township is unknown, and listed", arguments: TestEngine.allCases)
  func register(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let key = IdempotencyKey(caller: "YSB/李娜", key: "register-1")
      let first = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: key)
      #expect(try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: key) == first)
      #expect(first.record.uscc == testUSCC(1) && first.record.contacts == Self.contacts && first.record.version == 1)
      #expect(first.record.registeredAt == Self.now && first.record.checkOverrideReason == nil)
      #expect(first.liaisons == [Self.liaisonRef] && first.lastVisitedOn == nil)
      let exists = await #expect(throws: DomainError.self) {
        try await store.registerEnterprise(Self.new(1, name: "另一家"), actor: Self.office, now: Self.now, key: nil)
      }
      #expect(exists?.code == "enterprise.exists" && exists?.field == "uscc")
      let unknown = await #expect(throws: DomainError.self) {
        try await store.registerEnterprise(Self.new(2, township: "不存在镇"), actor: Self.office, now: Self.now, key: nil)
      }
      #expect(unknown?.code == "enterprise.unknown_township" && unknown?.field == "township")
      #expect(try await Self.count(store, "enterprises") == 1)
      #expect(try await Self.count(store, "enterprise_liaisons") == 1)
      #expect(try await Self.auditRows(store) == 1)

      let overridden = try await store.registerEnterprise(
        Self.new(3, township: "刘楼镇", scale: .micro, liaisons: [Self.otherRef, Self.liaisonRef], contacts: [], overrideReason: "旧证"),
        actor: Self.office, now: Self.now, key: nil)
      #expect(overridden.record.checkOverrideReason == "旧证" && overridden.record.contacts.isEmpty)
      #expect(overridden.liaisons == [Self.otherRef, Self.liaisonRef].sorted())
      _ = try await store.registerEnterprise(Self.new(4, liaisons: []), actor: Self.office, now: Self.now, key: nil)

      #expect(try await store.enterprise(uscc: testUSCC(1)) == first)
      #expect(try await store.enterprise(uscc: testUSCC(9)) == nil)
      #expect(try await store.enterpriseAccess(uscc: testUSCC(3)) == EnterpriseAccess(uscc: testUSCC(3), liaisons: overridden.liaisons))
      #expect(try await store.enterpriseAccess(uscc: testUSCC(9)) == nil)

      var filter = BanjieStore.EnterpriseFilter()
      let all = try await store.listEnterprises(filter)
      #expect(all.views.map(\.record.uscc) == [testUSCC(1), testUSCC(3), testUSCC(4)] && all.total == 3 && all.next == nil)
      filter.pageSize = 2
      let page = try await store.listEnterprises(filter)
      #expect(page.views.map(\.record.uscc) == [testUSCC(1), testUSCC(3)] && page.total == 3 && page.next == testUSCC(3))
      filter.after = page.next
      let rest = try await store.listEnterprises(filter)
      #expect(rest.views.map(\.record.uscc) == [testUSCC(4)] && rest.total == 3 && rest.next == nil)
      var narrow = BanjieStore.EnterpriseFilter()
      narrow.township = "南旺镇"
      #expect(try await store.listEnterprises(narrow).views.map(\.record.uscc) == [testUSCC(1), testUSCC(4)])
      narrow.liaison = Self.liaisonRef
      #expect(try await store.listEnterprises(narrow).views.map(\.record.uscc) == [testUSCC(1)])
      var byScale = BanjieStore.EnterpriseFilter()
      byScale.scale = .micro
      byScale.industry = .c
      #expect(try await store.listEnterprises(byScale).views == [overridden])
      byScale.industry = .a
      #expect(try await store.listEnterprises(byScale).total == 0)
      var byCode = BanjieStore.EnterpriseFilter()
      byCode.uscc = testUSCC(4)
      #expect(try await store.listEnterprises(byCode).views.map(\.liaisons) == [[]])
      let audit = try await store.listAuditRows(AuditFilter()).rows.map(\.action)
      #expect(audit == ["enterprise.register", "enterprise.register_check_override", "enterprise.register"])
      #expect(try await Self.auditRows(store) == 3)
    }
  }

  @Test("liaisons are assigned and removed with the version stepped; a repeat or a missing one is refused", arguments: TestEngine.allCases)
  func assignLiaisons(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let registered = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: nil)
      let later = Self.now.addingTimeInterval(60)
      let assigned = try await store.assignLiaison(
        uscc: testUSCC(1), liaison: Self.otherRef, remove: false, actor: Self.office, now: later, key: nil)
      #expect(assigned.liaisons == [Self.otherRef, Self.liaisonRef].sorted())
      #expect(assigned.record.version == 2 && assigned.record.updatedAt == later && assigned.record.registeredAt == Self.now)
      let again = await #expect(throws: DomainError.self) {
        try await store.assignLiaison(uscc: testUSCC(1), liaison: Self.otherRef, remove: false, actor: Self.office, now: later, key: nil)
      }
      #expect(again?.code == "enterprise.already_assigned" && again?.field == "liaison")
      let removed = try await store.assignLiaison(
        uscc: testUSCC(1), liaison: Self.liaisonRef, remove: true, actor: Self.office, now: later, key: nil)
      #expect(removed.liaisons == [Self.otherRef] && removed.record.version == 3)
      let notAssigned = await #expect(throws: DomainError.self) {
        try await store.assignLiaison(uscc: testUSCC(1), liaison: Self.liaisonRef, remove: true, actor: Self.office, now: later, key: nil)
      }
      #expect(notAssigned?.code == "enterprise.not_assigned")
      let missing = await #expect(throws: DomainError.self) {
        try await store.assignLiaison(uscc: testUSCC(2), liaison: Self.liaisonRef, remove: false, actor: Self.office, now: later, key: nil)
      }
      #expect(missing?.code == "enterprise.not_found" && missing?.field == "uscc")
      #expect(try await store.enterprise(uscc: testUSCC(1)) == removed)
      #expect(removed.record.contacts == registered.record.contacts)
      #expect(try await Self.count(store, "enterprise_liaisons") == 1)
      #expect(try await Self.auditRows(store) == 3)
    }
  }

  @Test("an import creates, updates and leaves alone, adding liaisons to those assigned", arguments: TestEngine.allCases)
  func importRows(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      let first = try await store.importEnterprises([Self.new(1), Self.new(2, liaisons: [])], actor: Self.office, now: Self.now)
      #expect(first == [.created, .created])
      let later = Self.now.addingTimeInterval(3600)
      let second = try await store.importEnterprises(
        [
          Self.new(1, contacts: []), Self.new(2, name: "新名称", liaisons: [Self.otherRef], contacts: []),
          Self.new(3, township: "刘楼镇"),
        ], actor: Self.office, now: later)
      #expect(second == [.unchanged, .updated, .created])
      let renamed = try #require(try await store.enterprise(uscc: testUSCC(2)))
      #expect(renamed.record.name == "新名称" && renamed.record.contacts == Self.contacts && renamed.liaisons == [Self.otherRef])
      #expect(renamed.record.version == 2 && renamed.record.updatedAt == later && renamed.record.registeredAt == Self.now)
      #expect(try await store.enterprise(uscc: testUSCC(1))?.record.version == 1)
      #expect(try await Self.count(store, "enterprises") == 3)
      #expect(try await Self.auditRows(store) == 4)
    }
  }

  // MARK: Visits and demands

  @Test("a visit with its demands is recorded all or nothing, and listed", arguments: TestEngine.allCases)
  func visits(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      _ = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: nil)
      _ = try await store.registerEnterprise(Self.new(2, liaisons: [Self.otherRef]), actor: Self.office, now: Self.now, key: nil)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let day = try LocalDate(year: 2026, month: 12, day: 7)
      let before = try await Self.auditRows(store)
      // An unknown department in the second demand: neither the visit nor the first demand is written.
      let unknown = await #expect(throws: DomainError.self) {
        try await store.recordVisit(
          uscc: testUSCC(1), visitedOn: day, notes: "走访", demands: [Self.demand(), Self.demand("GTJ")], regionCode: "370830",
          actor: Self.liaison, authorize: Self.allow, clock: clock, now: Self.now, key: nil)
      }
      #expect(unknown?.code == "demand.unknown_department" && unknown?.field == "department_code")
      let denied = await #expect(throws: DomainError.self) {
        try await store.recordVisit(
          uscc: testUSCC(2), visitedOn: day, notes: "走访", demands: [Self.demand()], regionCode: "370830", actor: Self.liaison,
          authorize: { access in
            guard access.liaisons.contains(Self.liaisonRef) else {
              throw DomainError(kind: .permissionDenied, code: "enterprise.not_assigned", field: "uscc")
            }
          }, clock: clock, now: Self.now, key: nil)
      }
      #expect(denied?.code == "enterprise.not_assigned")
      let missing = await #expect(throws: DomainError.self) {
        try await store.recordVisit(
          uscc: testUSCC(9), visitedOn: day, notes: "走访", demands: [], regionCode: "370830", actor: Self.liaison, authorize: Self.allow,
          clock: clock, now: Self.now, key: nil)
      }
      #expect(missing?.code == "enterprise.not_found")
      #expect(try await Self.count(store, "visits") == 0)
      #expect(try await Self.count(store, "demands") == 0)
      #expect(try await Self.auditRows(store) == before)

      let key = IdempotencyKey(caller: "南旺镇人民政府/王强", key: "visit-1")
      let visit = try await store.recordVisit(
        uscc: testUSCC(1), visitedOn: day, notes: "了解用地需求", demands: [Self.demand(), Self.demand("ZJJ", days: 5)],
        regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock, now: Self.now, key: key)
      let replayed = try await store.recordVisit(
        uscc: testUSCC(1), visitedOn: day, notes: "了解用地需求", demands: [Self.demand(), Self.demand("ZJJ", days: 5)],
        regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock, now: Self.now, key: key)
      #expect(replayed == visit)
      let id = try #require(visit.record.id)
      #expect(visit.enterpriseName == "汶上县鲁源机械有限公司" && visit.demandNumbers.count == 2)
      #expect(visit.demandNumbers.allSatisfy { $0.hasPrefix("SQ") } && visit.demandNumbers[0] < visit.demandNumbers[1])
      #expect(visit.record.liaisonPerson == "王强" && visit.record.visitedOn == "2026-12-07" && visit.record.recordedAt == Self.now)
      let second = try await store.recordVisit(
        uscc: testUSCC(2), visitedOn: try LocalDate(year: 2026, month: 11, day: 20), notes: "走访", demands: [], regionCode: "370830",
        actor: Self.liaison, authorize: Self.allow, clock: clock, now: Self.now, key: nil)
      #expect(second.record.id == id + 1 && second.demandNumbers.isEmpty)

      let all = try await store.listVisits(BanjieStore.VisitFilter())
      #expect(all.views == [second, visit] && all.total == 2 && all.next == nil)
      var filter = BanjieStore.VisitFilter()
      filter.pageSize = 1
      let page = try await store.listVisits(filter)
      #expect(page.views == [second] && page.total == 2 && page.next == String(id + 1))
      filter.after = id + 1
      #expect(try await store.listVisits(filter).views == [visit])
      var narrow = BanjieStore.VisitFilter()
      narrow.from = day
      #expect(try await store.listVisits(narrow).views == [visit])
      narrow.from = nil
      narrow.to = try LocalDate(year: 2026, month: 11, day: 30)
      #expect(try await store.listVisits(narrow).views == [second])
      var assigned = BanjieStore.VisitFilter()
      assigned.assignedTo = Self.otherRef
      #expect(try await store.listVisits(assigned).views == [second])
      assigned.assignedTo = nil
      assigned.uscc = testUSCC(1)
      #expect(try await store.listVisits(assigned).total == 1)
      #expect(try await store.enterprise(uscc: testUSCC(1))?.lastVisitedOn == "2026-12-07")
      #expect(try await Self.auditRows(store) == before + 4)
    }
  }

  @Test("a demand is raised, assigned, answered, closed; conflicts and illegal steps write nothing", arguments: TestEngine.allCases)
  func demandLifecycle(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      _ = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: nil)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let unknown = await #expect(throws: DomainError.self) {
        try await store.raiseDemand(
          uscc: testUSCC(1), demand: Self.demand("GTJ"), regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock,
          now: Self.now, key: nil)
      }
      #expect(unknown?.code == "demand.unknown_department")
      #expect(try await Self.count(store, "demands") == 0)

      let raised = try await store.raiseDemand(
        uscc: testUSCC(1), demand: Self.demand(), regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock,
        now: Self.now, key: nil)
      let number = raised.record.number
      #expect(raised.record.limitWorkingDays == 10 && raised.record.state == .open && raised.record.version == 1)
      #expect(raised.record.visitId == nil && raised.record.raisedAt == Self.now && raised.record.satisfaction == nil)
      #expect(raised.enterpriseName == "汶上县鲁源机械有限公司" && raised.departmentName == "自然资源局" && raised.sla?.colour == .green)
      #expect(raised.record.raisedBy == "王强 (liaison, 南旺镇人民政府)")

      let later = Self.now.addingTimeInterval(3600)
      func step(_ action: DemandAction, _ change: BanjieStore.DemandChange = .init(), version: Int64? = nil) async throws -> DemandView {
        try await store.transitionDemand(
          number: number, action: action, change: change, expectedVersion: version, actor: Self.office, authorize: { _, _ in },
          clock: clock, now: later, key: nil)
      }
      let illegal = await #expect(throws: DomainError.self) { try await step(.answer) }
      #expect(illegal?.code == "demand.illegal_transition" && illegal?.field == "state")
      let conflict = await #expect(throws: DomainError.self) { try await step(.assign, version: 7) }
      #expect(conflict?.code == "demand.version_conflict")
      var toUnknown = BanjieStore.DemandChange()
      toUnknown.department = "GTJ"
      let badDepartment = await #expect(throws: DomainError.self) { try await step(.assign, toUnknown) }
      #expect(badDepartment?.code == "demand.unknown_department" && badDepartment?.field == "department_code")
      let missing = await #expect(throws: DomainError.self) {
        try await store.transitionDemand(
          number: "SQ-0", action: .assign, change: .init(), expectedVersion: nil, actor: Self.office, authorize: { _, _ in },
          clock: clock, now: later, key: nil)
      }
      #expect(missing?.code == "demand.not_found")
      #expect(try await store.demand(number: number, clock: clock, now: Self.now)?.0 == raised)

      var change = BanjieStore.DemandChange()
      change.department = "ZJJ"
      change.handler = "孙伟"
      let assigned = try await step(.assign, change, version: 1)
      #expect(assigned.record.state == .assigned && assigned.record.departmentCode == "ZJJ" && assigned.departmentName == "住建局")
      #expect(assigned.record.handler == "孙伟" && assigned.record.version == 2 && assigned.record.updatedAt == later)
      var answer = BanjieStore.DemandChange()
      answer.answer = "已受理"
      let answered = try await step(.answer, answer)
      #expect(answered.record.answer == "已受理" && answered.record.answeredAt == later)
      let outOfRange = await #expect(throws: DomainError.self) { try await step(.close(satisfaction: 6)) }
      #expect(outOfRange?.code == "demand.satisfaction_out_of_range")
      var note = BanjieStore.DemandChange()
      note.note = "满意"
      let closed = try await step(.close(satisfaction: 5), note)
      #expect(closed.record.state == .closed && closed.record.satisfaction == 5 && closed.record.closedAt == later && closed.sla == nil)
      #expect(closed.record.closeComment == "满意" && closed.record.version == 4)
      let read = try #require(try await store.demand(number: number, clock: clock, now: later))
      #expect(read.0 == closed && read.1 == EnterpriseAccess(uscc: testUSCC(1), liaisons: [Self.liaisonRef]))
      #expect(try await store.demand(number: "SQ-0", clock: clock, now: later) == nil)
      let audit = try await store.listAuditRows(AuditFilter()).rows.map(\.action)
      #expect(audit.prefix(4) == ["demand.close", "demand.answer", "demand.assign", "demand.raise"])
      #expect(try await Self.auditRows(store) == 7)
    }
  }

  @Test("demands are listed by every filter, newest first, a page at a time", arguments: TestEngine.allCases)
  func listDemands(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      _ = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: nil)
      _ = try await store.registerEnterprise(Self.new(2, liaisons: [Self.otherRef]), actor: Self.office, now: Self.now, key: nil)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let dayAfter = Self.now.addingTimeInterval(86_400)
      let a = try await store.raiseDemand(
        uscc: testUSCC(1), demand: Self.demand(), regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock,
        now: Self.now, key: nil)
      let b = try await store.raiseDemand(
        uscc: testUSCC(2), demand: Self.demand("ZJJ", category: .financing), regionCode: "370830", actor: Self.liaison,
        authorize: Self.allow, clock: clock, now: dayAfter, key: nil)
      let c = try await store.raiseDemand(
        uscc: testUSCC(1), demand: Self.demand("ZJJ", days: 3), regionCode: "370830", actor: Self.liaison, authorize: Self.allow,
        clock: clock, now: dayAfter, key: nil)
      var assign = BanjieStore.DemandChange()
      assign.handler = "孙伟"
      let assignedC = try await store.transitionDemand(
        number: c.record.number, action: .assign, change: assign, expectedVersion: nil, actor: Self.office, authorize: { _, _ in },
        clock: clock, now: dayAfter, key: nil)

      func numbers(_ change: (inout BanjieStore.DemandFilter) throws -> Void) async throws -> [String] {
        var filter = BanjieStore.DemandFilter()
        try change(&filter)
        return try await store.listDemands(filter, clock: clock, now: dayAfter).views.map(\.record.number)
      }
      let all = try await store.listDemands(BanjieStore.DemandFilter(), clock: clock, now: dayAfter)
      #expect(all.views.map(\.record) == [assignedC.record, b.record, a.record] && all.total == 3 && all.next == nil)
      #expect(try await numbers { $0.uscc = testUSCC(1) } == [c.record.number, a.record.number])
      #expect(try await numbers { $0.states = [.assigned] } == [c.record.number])
      #expect(try await numbers { $0.states = [.open, .closed] } == [b.record.number, a.record.number])
      #expect(try await numbers { $0.colours = [.red] }.isEmpty)
      #expect(try await numbers { $0.colours = [.green, .yellow] }.count == 3)
      #expect(try await numbers { $0.department = "ZJJ" } == [c.record.number, b.record.number])
      #expect(try await numbers { $0.category = .financing } == [b.record.number])
      #expect(try await numbers { $0.assignedTo = Self.otherRef } == [b.record.number])
      // 2026-12-07 00:00 UTC is 08:00 on 2026-12-07 in the county; a day later is 2026-12-08.
      #expect(try await numbers { $0.raisedTo = try LocalDate(year: 2026, month: 12, day: 7) } == [a.record.number])
      #expect(try await numbers { $0.raisedFrom = try LocalDate(year: 2026, month: 12, day: 8) } == [c.record.number, b.record.number])
      var filter = BanjieStore.DemandFilter()
      filter.pageSize = 2
      let page = try await store.listDemands(filter, clock: clock, now: dayAfter)
      #expect(page.views.map(\.record.number) == [c.record.number, b.record.number] && page.total == 3 && page.next == b.record.number)
      filter.after = page.next
      let rest = try await store.listDemands(filter, clock: clock, now: dayAfter)
      #expect(rest.views.map(\.record.number) == [a.record.number] && rest.total == 3 && rest.next == nil)
    }
  }

  @Test("the sweeper colours waiting demands once, with an alert each, and leaves closed ones", arguments: TestEngine.allCases)
  func sweep(_ engine: TestEngine) async throws {
    try await Self.withDepartments(engine) { store in
      _ = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: nil)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let short = try await store.raiseDemand(
        uscc: testUSCC(1), demand: Self.demand(days: 1), regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock,
        now: Self.now, key: nil)
      let long = try await store.raiseDemand(
        uscc: testUSCC(1), demand: Self.demand("ZJJ", days: 365), regionCode: "370830", actor: Self.liaison, authorize: Self.allow,
        clock: clock, now: Self.now, key: nil)
      #expect(try await store.sweepDemands(clock: clock, now: Self.now).isEmpty)
      let late = Self.now.addingTimeInterval(14 * 86_400)
      let alerts = try await store.sweepDemands(clock: clock, now: late)
      #expect(alerts.map(\.kind) == ["demand.red"] && alerts.map(\.subject) == ["demand \(short.record.number)"])
      #expect(alerts.first?.departmentCode == "ZRZYJ" && alerts.first?.colour == .red && alerts.first?.at == late)
      #expect(alerts.first?.id == 1)
      #expect(try await store.sweepDemands(clock: clock, now: late).isEmpty)
      let stored = try await store.demand(number: short.record.number, clock: clock, now: late)
      #expect(stored?.0.record.colour == .red && stored?.0.record.version == 1)
      #expect(try await store.demand(number: long.record.number, clock: clock, now: late)?.0.record.colour == .green)
      #expect(try await Self.count(store, "alerts") == 1)
      #expect(try await store.listAuditRows(AuditFilter()).rows.first?.action == "demand.colour")
      #expect(try await Self.auditRows(store) == 6)
    }
  }

  @Test("coverage counts visited out of assigned per liaison and township, and the quiet enterprises", arguments: TestEngine.allCases)
  func coverage(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      _ = try await store.registerEnterprise(
        Self.new(1, liaisons: [Self.liaisonRef, Self.otherRef]), actor: Self.office, now: Self.now, key: nil)
      _ = try await store.registerEnterprise(Self.new(2), actor: Self.office, now: Self.now, key: nil)
      _ = try await store.registerEnterprise(Self.new(3, township: "刘楼镇", liaisons: []), actor: Self.office, now: Self.now, key: nil)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      _ = try await store.recordVisit(
        uscc: testUSCC(1), visitedOn: try LocalDate(year: 2026, month: 12, day: 1), notes: "走访", demands: [], regionCode: "370830",
        actor: Self.liaison, authorize: Self.allow, clock: clock, now: Self.now, key: nil)
      let report = try await store.coverage(
        from: try LocalDate(year: 2026, month: 12, day: 1), to: try LocalDate(year: 2026, month: 12, day: 31))
      #expect(report.assigned == 2 && report.visited == 1)
      #expect(
        report.liaisons
          == [
            LiaisonCoverageRow(liaison: Self.otherRef, assigned: 1, visited: 0),
            LiaisonCoverageRow(liaison: Self.liaisonRef, assigned: 2, visited: 1),
          ])
      #expect(report.townships.count == Township.sampleCounty.count)
      #expect(
        report.townships.first { $0.township == "南旺镇" } == TownshipCoverageRow(township: "南旺镇", enterprises: 2, assigned: 2, visited: 1))
      #expect(
        report.townships.first { $0.township == "刘楼镇" } == TownshipCoverageRow(township: "刘楼镇", enterprises: 1, assigned: 0, visited: 0))
      #expect(
        report.townships.first { $0.township == "军屯乡" } == TownshipCoverageRow(township: "军屯乡", enterprises: 0, assigned: 0, visited: 0))
      #expect(report.notVisitedThisYear.map(\.record.uscc) == [testUSCC(3), testUSCC(2)])
      let limited = try await store.coverage(
        from: try LocalDate(year: 2026, month: 11, day: 1), to: try LocalDate(year: 2026, month: 11, day: 30), limit: 1)
      #expect(limited.visited == 0 && limited.liaisons.allSatisfy { $0.visited == 0 } && limited.notVisitedThisYear.count == 1)
    }
  }

  // MARK: Both engines alike

  /// What a scenario over every feature leaves, for comparing the engines.
  struct Outcome: Equatable {
    var townships: [Township]
    var enterprises: [EnterpriseView]
    var visits: [VisitView]
    var demands: [DemandView]
    var alerts: [AlertRecord]
    var coverage: CoverageReport
    var audit: [AuditRowView]
  }

  static func scenario(_ store: BanjieStore) async throws -> Outcome {
    _ = try await store.importCatalog(departments: Self.departments, items: [], actor: Self.office, now: Self.now)
    _ = try await store.addTownship(Township(name: "南旺镇", code: "370830104"), actor: Self.office, now: Self.now, key: nil)
    _ = try await store.registerEnterprise(Self.new(1), actor: Self.office, now: Self.now, key: nil)
    _ = try await store.importEnterprises(
      [Self.new(2, township: "刘楼镇", liaisons: [Self.otherRef]), Self.new(1, name: "改名公司")], actor: Self.office, now: Self.now)
    _ = try await store.assignLiaison(
      uscc: testUSCC(2), liaison: Self.liaisonRef, remove: false, actor: Self.office, now: Self.now, key: nil)
    let clock = try SLAClock(calendar: try await store.loadCalendar())
    let visit = try await store.recordVisit(
      uscc: testUSCC(1), visitedOn: try LocalDate(year: 2026, month: 12, day: 7), notes: "走访", demands: [Self.demand(days: 1)],
      regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock, now: Self.now, key: nil)
    let number = try #require(visit.demandNumbers.first)
    var change = BanjieStore.DemandChange()
    change.handler = "孙伟"
    _ = try await store.transitionDemand(
      number: number, action: .assign, change: change, expectedVersion: 1, actor: Self.office, authorize: { _, _ in }, clock: clock,
      now: Self.now, key: nil)
    let late = Self.now.addingTimeInterval(14 * 86_400)
    let alerts = try await store.sweepDemands(clock: clock, now: late)
    let chain = try await store.verifyAudit()
    #expect(chain.ok, "\(chain.reason)")
    return Outcome(
      townships: try await store.townships(), enterprises: try await store.listEnterprises(BanjieStore.EnterpriseFilter()).views,
      visits: try await store.listVisits(BanjieStore.VisitFilter()).views,
      demands: try await store.listDemands(BanjieStore.DemandFilter(), clock: clock, now: late).views, alerts: alerts,
      coverage: try await store.coverage(
        from: try LocalDate(year: 2026, month: 12, day: 1), to: try LocalDate(year: 2026, month: 12, day: 31)),
      audit: try await store.listAuditRows(AuditFilter()).rows)
  }

  @Test("both engines leave the same enterprises, visits, demands and alerts, and the same audit chain, hash for hash")
  func enginesAgree() async throws {
    let (sqlite, postgres) = try await TestEngine.bothEngines(Self.scenario)
    #expect(sqlite.townships == postgres.townships)
    #expect(sqlite.enterprises == postgres.enterprises)
    #expect(sqlite.visits == postgres.visits && sqlite.demands == postgres.demands && sqlite.alerts == postgres.alerts)
    #expect(sqlite.coverage == postgres.coverage)
    #expect(sqlite.audit == postgres.audit)
    #expect(sqlite.alerts.map(\.kind) == ["demand.red"] && sqlite.enterprises.map(\.record.name) == ["改名公司", "汶上县鲁源机械有限公司"])
    #expect(sqlite.audit.count == 11)
  }

  @Test("an enterprise and a demand are stored as GRDB's Codable insert stored them, and such rows read back alike")
  func rowsAsGRDBStoredThem() async throws {
    try await Self.withDepartments(.sqlite) { store in
      let registered = try await store.registerEnterprise(
        Self.new(1, overrideReason: "旧证"), actor: Self.office, now: Self.now.addingTimeInterval(0.123), key: nil)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let raised = try await store.raiseDemand(
        uscc: testUSCC(1), demand: Self.demand(), regionCode: "370830", actor: Self.liaison, authorize: Self.allow, clock: clock,
        now: Self.now, key: nil)
      var enterprise = registered.record
      enterprise.uscc = testUSCC(2)
      var demand = raised.record
      demand.id = nil
      demand.number = "SQ-copy"
      demand.uscc = testUSCC(2)
      let writtenEnterprise = enterprise
      let writtenDemand = demand
      try await store.pool.write { db in
        try writtenEnterprise.insert(db)
        var copy = writtenDemand
        try copy.insert(db)
      }
      let rows = try await store.read { sql in
        (
          try sql.fetchAll("SELECT \(EnterpriseRecord.storedColumns.dropFirst().joined(separator: ", ")) FROM enterprises ORDER BY uscc")
            .map(\.values),
          try sql.fetchAll(
            "SELECT \(DemandRecord.storedColumns.filter { $0 != "number" && $0 != "uscc" }.joined(separator: ", ")) FROM demands ORDER BY id"
          ).map(\.values)
        )
      }
      #expect(rows.0.count == 2 && rows.0.first == rows.0.last, "\(rows.0)")
      #expect(rows.1.count == 2 && rows.1.first == rows.1.last, "\(rows.1)")
      #expect(try await store.enterprise(uscc: testUSCC(2))?.record == enterprise)
      #expect(try await store.demand(number: "SQ-copy", clock: clock, now: Self.now)?.0.record.raisedAt == raised.record.raisedAt)
    }
  }
}
