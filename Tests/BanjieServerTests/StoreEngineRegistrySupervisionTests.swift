import BanjieCore
import Foundation
import Testing

@testable import BanjieStore

/// The registry (windows, staff, liaison units, rating pads, department heads) and supervision
/// orders on both engines (issue 17): each scenario runs on SQLite and on PostgreSQL with the same
/// expectations, refusals included, and checks that a refusal wrote nothing.
@Suite("Registry and supervision on both engines")
struct StoreEngineRegistrySupervisionTests {
  static let now = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07 00:00 UTC, a Monday
  static let office = Actor(role: .office, organization: "YSB", person: "李娜", certificateSerial: "0A")
  static let market = DepartmentRecord(code: "SCJGJ", name: "市场监管局")
  static let land = DepartmentRecord(code: "GTJ", name: "自然资源局")

  static func seedDepartments(_ store: BanjieStore) async throws {
    _ = try await store.importCatalog(departments: [Self.market, Self.land], items: [], actor: Self.office, now: Self.now)
  }

  /// The audit rows written after the catalog import.
  static func auditActions(_ store: BanjieStore) async throws -> [String] {
    try await store.listAuditRows(AuditFilter()).rows.map(\.action).filter { !$0.hasPrefix("catalog.") }.reversed()
  }

  @Test("windows: registered, updated, an unknown department refused with nothing written", arguments: TestEngine.allCases)
  func windows(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      try await Self.seedDepartments(store)
      let unknown = await #expect(throws: DomainError.self) {
        try await store.upsertWindow(
          try NewWindow.parse(code: "w01", name: "一号窗口", hall: "一楼", comprehensive: false, departments: ["SCJGJ", "ZJJ"]),
          actor: Self.office, now: Self.now, key: nil)
      }
      #expect(unknown?.code == "window.unknown_department")
      #expect(try await store.windows().isEmpty)

      let first = try await store.upsertWindow(
        try NewWindow.parse(code: "w01", name: "一号窗口", hall: "一楼", comprehensive: false, departments: ["SCJGJ"]),
        actor: Self.office, now: Self.now, key: nil)
      #expect(first.code == "W01" && first.version == 1 && first.departments == ["SCJGJ"] && !first.comprehensive)
      #expect(first.createdAt == Self.now && first.updatedAt == Self.now)
      let later = Self.now.addingTimeInterval(60)
      let second = try await store.upsertWindow(
        try NewWindow.parse(code: "W01", name: "综合窗口", hall: "二楼", comprehensive: true, departments: ["GTJ", "SCJGJ"]),
        actor: Self.office, now: later, key: nil)
      #expect(second.version == 2 && second.name == "综合窗口" && second.hall == "二楼" && second.comprehensive)
      #expect(second.departments == ["GTJ", "SCJGJ"] && second.createdAt == Self.now && second.updatedAt == later)
      let other = try await store.upsertWindow(
        try NewWindow.parse(code: "A02", name: "二号窗口", hall: "一楼", comprehensive: false, departments: ["GTJ"]),
        actor: Self.office, now: later, key: nil)
      #expect(try await store.windows() == [other, second])
      #expect(try await Self.auditActions(store) == ["window.register", "window.update", "window.register"])
      #expect(try await store.verifyAudit().ok)
    }
  }

  @Test("staff: assigned and unassigned, every refusal naming its cause with nothing written", arguments: TestEngine.allCases)
  func staff(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      try await Self.seedDepartments(store)
      _ = try await store.upsertWindow(
        try NewWindow.parse(code: "W01", name: "一号窗口", hall: "一楼", comprehensive: false, departments: ["SCJGJ"]),
        actor: Self.office, now: Self.now, key: nil)
      _ = try await store.upsertWindow(
        try NewWindow.parse(code: "W02", name: "综合窗口", hall: "一楼", comprehensive: true, departments: []),
        actor: Self.office, now: Self.now, key: nil)
      let refusals: [(String, String, String, Bool)] = [
        ("ZJJ", "W01", "staff.unknown_department", false), ("SCJGJ", "W09", "window.unknown", false),
        ("GTJ", "W01", "staff.window_not_serving", false), ("SCJGJ", "W01", "staff.not_assigned", true),
      ]
      for (organization, window, code, remove) in refusals {
        let refused = await #expect(throws: DomainError.self) {
          try await store.assignStaff(
            organization: organization, person: "王芳", window: window, remove: remove, actor: Self.office, now: Self.now, key: nil)
        }
        #expect(refused?.code == code)
      }
      #expect(try await store.staff(window: nil, organization: nil).isEmpty)

      let one = try await store.assignStaff(
        organization: "SCJGJ", person: "王芳", window: "w01", remove: false, actor: Self.office, now: Self.now, key: nil)
      #expect(one == StaffMemberRecord(organization: "SCJGJ", person: "王芳", windows: ["W01"]))
      let two = try await store.assignStaff(
        organization: "SCJGJ", person: "王芳", window: "W02", remove: false, actor: Self.office, now: Self.now, key: nil)
      #expect(two.windows == ["W01", "W02"])
      _ = try await store.assignStaff(
        organization: "GTJ", person: "赵强", window: "W02", remove: false, actor: Self.office, now: Self.now, key: nil)
      let again = await #expect(throws: DomainError.self) {
        try await store.assignStaff(
          organization: "SCJGJ", person: "王芳", window: "W01", remove: false, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(again?.code == "staff.already_assigned")

      #expect(try await store.staff(window: nil, organization: nil).map(\.person) == ["赵强", "王芳"])
      // By window: each person with all their windows, not only that one.
      #expect(try await store.staff(window: "W01", organization: nil) == [two])
      #expect(try await store.staff(window: "W02", organization: "GTJ").map(\.person) == ["赵强"])
      #expect(try await store.staff(window: "", organization: "SCJGJ") == [two])
      #expect(try await store.staff(window: "W09", organization: nil).isEmpty)

      let removed = try await store.assignStaff(
        organization: "SCJGJ", person: "王芳", window: "W01", remove: true, actor: Self.office, now: Self.now, key: nil)
      #expect(removed.windows == ["W02"])
      #expect(try await store.staff(window: "W01", organization: nil).isEmpty)

      // The submission's window rule, inside a write on either engine.
      let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "王芳", certificateSerial: "0B")
      let admitted = try await store.mutate { sql in try BanjieStore.admitWindow(sql, window: " w02 ", actor: clerk) }
      #expect(admitted.window?.code == "W02" && admitted.callerIsStaff)
      let notMine = await #expect(throws: DomainError.self) {
        try await store.mutate { sql in try BanjieStore.admitWindow(sql, window: "W01", actor: clerk) }
      }
      #expect(notMine?.code == "case.not_your_window")

      #expect(
        try await Self.auditActions(store) == [
          "window.register", "window.register", "staff.assign", "staff.assign", "staff.assign", "staff.unassign",
        ])
      #expect(try await store.verifyAudit().ok)
    }
  }

  @Test("liaison units and department heads: registered, moved, removed; refusals write nothing", arguments: TestEngine.allCases)
  func liaisonUnitsAndHeads(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      try await Self.seedDepartments(store)
      let nowhere = await #expect(throws: DomainError.self) {
        try await store.upsertLiaisonUnit(name: "县商务局", township: "不存在镇", actor: Self.office, now: Self.now, key: nil)
      }
      #expect(nowhere?.code == "liaison_unit.unknown_township")
      #expect(try await store.liaisonUnits().isEmpty)
      let unit = try await store.upsertLiaisonUnit(name: " 县商务局 ", township: "汶上街道", actor: Self.office, now: Self.now, key: nil)
      #expect(unit == LiaisonUnitRecord(name: "县商务局", township: "汶上街道", createdAt: Self.now))
      let moved = try await store.upsertLiaisonUnit(
        name: "县商务局", township: "中都街道", actor: Self.office, now: Self.now.addingTimeInterval(60), key: nil)
      #expect(moved == LiaisonUnitRecord(name: "县商务局", township: "中都街道", createdAt: Self.now))
      #expect(try await store.liaisonUnits() == [moved])

      let noDepartment = await #expect(throws: DomainError.self) {
        try await store.assignDepartmentHead(department: "ZJJ", person: "周敏", remove: false, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(noDepartment?.code == "head.unknown_department")
      let notHead = await #expect(throws: DomainError.self) {
        try await store.assignDepartmentHead(department: "GTJ", person: "周敏", remove: true, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(notHead?.code == "head.not_assigned")
      #expect(try await store.departmentHeads(department: nil).isEmpty)

      let head = try await store.assignDepartmentHead(
        department: "GTJ", person: "周敏", remove: false, actor: Self.office, now: Self.now, key: nil)
      #expect(head == DepartmentHeadRecord(departmentCode: "GTJ", person: "周敏", assignedAt: Self.now))
      let other = try await store.assignDepartmentHead(
        department: "SCJGJ", person: "陈静", remove: false, actor: Self.office, now: Self.now.addingTimeInterval(5), key: nil)
      let twice = await #expect(throws: DomainError.self) {
        try await store.assignDepartmentHead(department: "GTJ", person: "周敏", remove: false, actor: Self.office, now: Self.now, key: nil)
      }
      #expect(twice?.code == "head.already_assigned")
      #expect(try await store.departmentHeads(department: nil) == [head, other])
      #expect(try await store.departmentHeads(department: "SCJGJ") == [other])
      let removed = try await store.assignDepartmentHead(
        department: "GTJ", person: "周敏", remove: true, actor: Self.office, now: Self.now.addingTimeInterval(90), key: nil)
      #expect(removed == head)
      #expect(try await store.departmentHeads(department: "") == [other])

      #expect(
        try await Self.auditActions(store) == [
          "liaison_unit.register", "liaison_unit.update", "department_head.assign", "department_head.assign",
          "department_head.unassign",
        ])
      #expect(try await store.verifyAudit().ok)
    }
  }

  @Test("rating pads: registered once, checked, retired for good; an idempotency key replays", arguments: TestEngine.allCases)
  func ratingPads(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      try await Self.seedDepartments(store)
      let noWindow = await #expect(throws: DomainError.self) {
        try await store.registerRatingDevice(id: "pad-1", window: "W01", actor: Self.office, now: Self.now, key: nil)
      }
      #expect(noWindow?.code == "window.unknown")
      #expect(try await store.ratingDevices(window: nil, includeRetired: true).isEmpty)
      _ = try await store.upsertWindow(
        try NewWindow.parse(code: "W01", name: "一号窗口", hall: "一楼", comprehensive: true, departments: []),
        actor: Self.office, now: Self.now, key: nil)
      _ = try await store.upsertWindow(
        try NewWindow.parse(code: "W02", name: "二号窗口", hall: "一楼", comprehensive: true, departments: []),
        actor: Self.office, now: Self.now, key: nil)

      let key = IdempotencyKey(caller: "YSB/李娜", key: "pad-1")
      let pad = try await store.registerRatingDevice(id: "pad-1", window: "w01", actor: Self.office, now: Self.now, key: key)
      #expect(pad == RatingDeviceRecord(id: "PAD-1", windowCode: "W01", registeredAt: Self.now, retiredAt: nil))
      let replayed = try await store.registerRatingDevice(
        id: "pad-1", window: "w01", actor: Self.office, now: Self.now.addingTimeInterval(9), key: key)
      #expect(replayed == pad)
      let twice = await #expect(throws: DomainError.self) {
        try await store.registerRatingDevice(id: "PAD-1", window: "W02", actor: Self.office, now: Self.now, key: nil)
      }
      #expect(twice?.code == "device.already_registered")
      let other = try await store.registerRatingDevice(id: "PAD-2", window: "W02", actor: Self.office, now: Self.now, key: nil)

      try await store.checkRatingPad(device: "PAD-1", window: "W01")
      for (device, window, code) in [("PAD-1", "W02", "pad.wrong_window"), ("PAD-9", "W01", "pad.unregistered")] {
        let refused = await #expect(throws: DomainError.self) { try await store.checkRatingPad(device: device, window: window) }
        #expect(refused?.code == code && refused?.kind == .permissionDenied)
      }

      let missing = await #expect(throws: DomainError.self) {
        try await store.retireRatingDevice(id: "PAD-9", actor: Self.office, now: Self.now, key: nil)
      }
      #expect(missing?.code == "device.not_found")
      let retiredAt = Self.now.addingTimeInterval(3600)
      let retired = try await store.retireRatingDevice(id: "pad-1", actor: Self.office, now: retiredAt, key: nil)
      #expect(retired == RatingDeviceRecord(id: "PAD-1", windowCode: "W01", registeredAt: Self.now, retiredAt: retiredAt))
      let again = await #expect(throws: DomainError.self) {
        try await store.retireRatingDevice(id: "PAD-1", actor: Self.office, now: retiredAt.addingTimeInterval(60), key: nil)
      }
      #expect(again?.code == "device.already_retired")
      let refused = await #expect(throws: DomainError.self) { try await store.checkRatingPad(device: "PAD-1", window: "W01") }
      #expect(refused?.code == "pad.retired")

      #expect(try await store.ratingDevices(window: nil, includeRetired: false) == [other])
      #expect(try await store.ratingDevices(window: nil, includeRetired: true) == [retired, other])
      #expect(try await store.ratingDevices(window: "W01", includeRetired: true) == [retired])
      #expect(try await store.ratingDevices(window: "W01", includeRetired: false).isEmpty)

      #expect(
        try await Self.auditActions(store) == [
          "window.register", "window.register", "rating_device.register", "rating_device.register", "rating_device.retire",
        ])
      #expect(try await store.verifyAudit().ok)
    }
  }

  /// An enterprise and two demands to supervise, one open and one closed, written directly: the
  /// demand methods are not on the SQL layer yet.
  static func seedDemands(_ store: BanjieStore) async throws {
    try await store.mutate { sql in
      let at = StoredDate(Self.now).sqlValue
      try sql.execute(
        "INSERT INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)"
          + " VALUES ('91370830MA3C000001', '汶上纺织', 'C', 'small', '汶上街道', ?, 1, ?)", [at, at])
      for (number, state) in [("SQ-370830-20261207-0001", "OPEN"), ("SQ-370830-20261207-0002", "CLOSED")] {
        try sql.execute(
          "INSERT INTO demands (number, uscc, category, description, department_code, limit_working_days, state, raised_by,"
            + " raised_at, clock_start, due_at, colour, version, updated_at)"
            + " VALUES (?, '91370830MA3C000001', '用地', '厂房用地', 'GTJ', 5, ?, '企业', ?, ?, ?, 'green', 1, ?)",
          [.text(number), .text(state), at, at, at, at])
      }
    }
  }

  @Test("supervision: issued, replied, reopened, closed, listed and swept; refusals write nothing", arguments: TestEngine.allCases)
  func supervision(_ engine: TestEngine) async throws {
    try await engine.withStore { store in
      try await Self.seedDepartments(store)
      try await Self.seedDemands(store)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      let open = "SQ-370830-20261207-0001"
      func issue(_ number: String, department: String?, at: Date) async throws -> SupervisionView {
        try await store.issueSupervision(
          NewSupervision(
            subjectKind: .demand, subjectNumber: number, departmentCode: department, requiredAction: "三日内答复", limitWorkingDays: 3),
          regionCode: "370830", actor: Self.office, clock: clock, now: at, key: nil)
      }
      let refusals: [(String, String?, String)] = [
        ("SQ-370830-20261207-0009", nil, "demand.not_found"), ("SQ-370830-20261207-0002", nil, "supervision.subject_closed"),
        (open, "ZJJ", "supervision.unknown_department"),
      ]
      for (number, department, code) in refusals {
        let refused = await #expect(throws: DomainError.self) { try await issue(number, department: department, at: Self.now) }
        #expect(refused?.code == code)
      }
      #expect(try await store.listSupervisions(BanjieStore.SupervisionFilter(), clock: clock, now: Self.now).total == 0)
      #expect(try await Self.auditActions(store).isEmpty)

      // Issued long ago: the sweeper will find it overdue.
      let old = Self.now.addingTimeInterval(-30 * 86_400)
      let overdue = try await issue(open, department: nil, at: old)
      #expect(overdue.record.number == "DB-370830-20261107-0001" && overdue.record.id != nil)
      #expect(overdue.record.departmentCode == "GTJ" && overdue.departmentName == "自然资源局" && overdue.record.state == .open)
      #expect(overdue.record.version == 1 && overdue.record.issuedAt == old && overdue.record.repliedAt == nil)
      let view = try await issue(open, department: "SCJGJ", at: Self.now)
      #expect(view.record.number == "DB-370830-20261207-0001" && view.departmentName == "市场监管局")
      #expect(view.sla?.colour == .green && view.record.colour == .green)
      #expect(try await store.supervision(number: view.record.number, clock: clock, now: Self.now) == view)
      #expect(try await store.supervision(number: "DB-370830-20261207-0009", clock: clock, now: Self.now) == nil)

      var change = BanjieStore.SupervisionChange()
      let conflict = await #expect(throws: DomainError.self) {
        try await store.transitionSupervision(
          number: view.record.number, action: .reply, change: change, expectedVersion: 7, actor: Self.office, authorize: { _ in },
          clock: clock, now: Self.now, key: nil)
      }
      #expect(conflict?.code == "supervision.version_conflict")
      let illegal = await #expect(throws: DomainError.self) {
        try await store.transitionSupervision(
          number: view.record.number, action: .close, change: change, expectedVersion: nil, actor: Self.office, authorize: { _ in },
          clock: clock, now: Self.now, key: nil)
      }
      #expect(illegal?.code == "supervision.illegal_transition")
      #expect(try await store.supervision(number: view.record.number, clock: clock, now: Self.now) == view)

      change.reply = "已答复企业"
      change.evidence = "答复函.pdf"
      let repliedAt = Self.now.addingTimeInterval(3600)
      let replied = try await store.transitionSupervision(
        number: view.record.number, action: .reply, change: change, expectedVersion: 1, actor: Self.office, authorize: { _ in },
        clock: clock, now: repliedAt, key: nil)
      #expect(replied.record.state == .replied && replied.record.version == 2 && replied.record.repliedAt == repliedAt)
      #expect(replied.record.reply == "已答复企业" && replied.record.evidence == "答复函.pdf")
      change.note = "答复不完整"
      let reopened = try await store.transitionSupervision(
        number: view.record.number, action: .reopen, change: change, expectedVersion: 2, actor: Self.office, authorize: { _ in },
        clock: clock, now: repliedAt.addingTimeInterval(60), key: nil)
      #expect(reopened.record.state == .open && reopened.record.repliedAt == nil && reopened.record.reopenReason == "答复不完整")
      // Read back at the moment of the reopening: the same order and the same SLA.
      let stored = try await store.supervision(number: view.record.number, clock: clock, now: repliedAt.addingTimeInterval(60))
      #expect(stored == reopened)

      let all = try await store.listSupervisions(BanjieStore.SupervisionFilter(), clock: clock, now: Self.now)
      #expect(all.total == 2 && all.views.map(\.record.number) == [view.record.number, overdue.record.number] && all.next == nil)
      var filter = BanjieStore.SupervisionFilter()
      filter.pageSize = 1
      let page = try await store.listSupervisions(filter, clock: clock, now: Self.now)
      #expect(page.total == 2 && page.views.map(\.record.number) == [view.record.number] && page.next == view.record.number)
      filter.after = page.next
      #expect(try await store.listSupervisions(filter, clock: clock, now: Self.now).views.map(\.record.number) == [overdue.record.number])
      var scoped = BanjieStore.SupervisionFilter()
      scoped.department = "GTJ"
      scoped.states = [.open, .replied]
      scoped.colours = [.green]
      scoped.subjectKind = .demand
      scoped.subjectNumber = open
      let gtj = try await store.listSupervisions(scoped, clock: clock, now: Self.now)
      #expect(gtj.total == 1 && gtj.views.map(\.record.number) == [overdue.record.number])
      scoped.subjectKind = .serviceCase
      #expect(try await store.listSupervisions(scoped, clock: clock, now: Self.now).total == 0)

      let backlog = try await store.read { sql in try BanjieStore.supervisionBacklog(sql, department: nil, now: Self.now) }
      #expect(backlog.open == 2 && backlog.overdue == 1)
      let scopedBacklog = try await store.read { sql in try BanjieStore.supervisionBacklog(sql, department: "SCJGJ", now: Self.now) }
      #expect(scopedBacklog.open == 1 && scopedBacklog.overdue == 0)

      let alerts = try await store.sweepSupervision(clock: clock, now: Self.now)
      #expect(alerts.map(\.kind) == ["supervision.red", "supervision.escalated"])
      #expect(alerts.allSatisfy { $0.departmentCode == "GTJ" && $0.id != nil })
      #expect(try await store.alerts(afterID: 0, department: nil) == alerts)
      #expect(try await store.sweepSupervision(clock: clock, now: Self.now).isEmpty)
      let swept = try #require(try await store.supervision(number: overdue.record.number, clock: clock, now: Self.now))
      #expect(swept.record.colour == .red && swept.record.escalatedAt == Self.now && swept.record.version == 1)

      let closed = try await store.transitionSupervision(
        number: view.record.number, action: .reply, change: change, expectedVersion: nil, actor: Self.office, authorize: { _ in },
        clock: clock, now: repliedAt.addingTimeInterval(120), key: nil)
      let done = try await store.transitionSupervision(
        number: closed.record.number, action: .close, change: change, expectedVersion: closed.record.version, actor: Self.office,
        authorize: { _ in }, clock: clock, now: repliedAt.addingTimeInterval(180), key: nil)
      #expect(done.record.state == .closed && done.sla == nil && done.record.closeNote == "答复不完整" && done.record.version == 5)

      #expect(
        try await Self.auditActions(store) == [
          "supervision.issue", "supervision.issue", "supervision.reply", "supervision.reopen", "supervision.colour",
          "supervision.escalate", "supervision.reply", "supervision.close",
        ])
      #expect(try await store.verifyAudit().ok)
    }
  }
}
