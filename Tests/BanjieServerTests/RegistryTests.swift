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
  /// The catalog service (departments, items and the hall's registry) as `role`.
  func registry<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_CatalogService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_CatalogService.Client(wrapping: $0)) }
  }

  /// Registers a window as the office.
  @discardableResult
  func registerWindow(_ code: String, _ departments: [String], comprehensive: Bool = false) async throws -> Banjie_V1_ServiceWindow {
    try await self.registry { try await $0.upsertWindow(.window(code, departments, comprehensive: comprehensive)) }
  }

  /// Puts a clerk on a window's staff as the office.
  @discardableResult
  func assignStaff(_ org: String, _ person: String, _ window: String, remove: Bool = false) async throws -> Banjie_V1_StaffMember {
    try await self.registry {
      try await $0.assignStaff(
        .with {
          $0.organization = org
          $0.person = person
          $0.windowCode = window
          $0.remove = remove
        })
    }
  }

  /// Submits a case as a clerk at `window`.
  func submit(_ item: String, at window: String, _ org: String = "SCJGJ", _ person: String = "张伟") async throws -> Banjie_V1_Case {
    try await self.cases(.clerk, org, person) { cases in
      var request = Banjie_V1_SubmitCaseRequest.sample(item: item)
      request.window = window
      return try await cases.submitCase(request)
    }
  }

  func auditCount() throws -> Int { try self.rows("audit_log") }
}

extension Banjie_V1_ServiceWindow {
  static func window(_ code: String, _ departments: [String], comprehensive: Bool = false, name: String = "市场准入窗口") -> Self {
    .with {
      $0.code = code
      $0.name = name
      $0.hall = "县政务服务中心一楼"
      $0.comprehensive = comprehensive
      $0.departmentCodes = departments
    }
  }
}

@Suite("The hall's registry: windows, staff, liaison units (docs/DOMAIN.md §18)", .timeLimit(.minutes(10)))
struct RegistryTests {
  @Test("the office registers windows, staff and liaison units, each with an audit row; a retried key writes once")
  func register() async throws {
    try await ServerHarness.run { h in
      try await h.registry { registry in
        let key: Metadata = ["idempotency-key": "window-a03"]
        let first = try await registry.upsertWindow(.window("A03", ["SCJGJ"]), metadata: key)
        let again = try await registry.upsertWindow(.window("A03", ["SCJGJ"]), metadata: key)
        #expect(first == again)
        #expect(first.code == "A03" && first.version == 1 && first.departmentCodes == ["SCJGJ"] && !first.comprehensive)
        // Full-width and lower case are the same code.
        let z01 = try await registry.upsertWindow(.window("ｚ０１", [], comprehensive: true, name: "综合受理窗口"))
        #expect(z01.code == "Z01" && z01.comprehensive && z01.departmentCodes.isEmpty)
        let updated = try await registry.upsertWindow(.window("A03", ["ZJJ", "SCJGJ", "SCJGJ"], name: "市场准入与建设窗口"))
        #expect(updated.version == 2 && updated.departmentCodes == ["SCJGJ", "ZJJ"] && updated.name == "市场准入与建设窗口")

        let member = try await registry.assignStaff(
          .with {
            $0.organization = "SCJGJ"
            $0.person = "张伟"
            $0.windowCode = "ａ０３"
          })
        #expect(member.windowCodes == ["A03"])
        let both = try await registry.assignStaff(
          .with {
            $0.organization = "SCJGJ"
            $0.person = "张伟"
            $0.windowCode = "Z01"
          })
        #expect(both.windowCodes == ["A03", "Z01"])
        let unit = try await registry.upsertLiaisonUnit(
          .with {
            $0.name = "南旺镇人民政府"
            $0.township = "南旺镇"
          })
        #expect(unit.township == "南旺镇")
      }
      // Every role reads windows and liaison units; clerks and the office read staff.
      let windows = try await h.registry(.enterprise, "91370830000001001N", "张总") { try await $0.listWindows(.init()).windows }
      #expect(windows.map(\.code) == ["A03", "Z01"])
      let units = try await h.registry(.liaison, "南旺镇人民政府", "王强") { try await $0.listLiaisonUnits(.init()).units }
      #expect(units.map(\.name) == ["南旺镇人民政府"])
      let staff = try await h.registry(.clerk, "SCJGJ", "李四") { try await $0.listStaff(.with { $0.windowCode = "z01" }).staff }
      #expect(staff.count == 1 && staff.first?.person == "张伟" && staff.first?.windowCodes == ["A03", "Z01"])

      let audit = try h.database {
        try Row.fetchAll(
          $0, sql: "SELECT action, entity_id FROM audit_log WHERE entity IN ('window', 'staff', 'liaison_unit') ORDER BY id"
        ).map { "\($0["action"] as String) \($0["entity_id"] as String)" }
      }
      #expect(
        audit == [
          "window.register A03", "window.register Z01", "window.update A03", "staff.assign SCJGJ/张伟", "staff.assign SCJGJ/张伟",
          "liaison_unit.register 南旺镇人民政府",
        ])

      // Taking a clerk off a window.
      let removed = try await h.assignStaff("SCJGJ", "张伟", "Z01", remove: true)
      #expect(removed.windowCodes == ["A03"])
      let again = await rpcError { _ = try await h.assignStaff("SCJGJ", "张伟", "Z01", remove: true) }
      #expect(again?.code == .failedPrecondition && errorField(again) == "window_code")
    }
  }

  @Test(
    "bad registry input is refused naming the field, and nothing is written",
    arguments: [
      ("code", Banjie_V1_ServiceWindow.window("A 03", ["SCJGJ"])),
      ("code", Banjie_V1_ServiceWindow.window("", ["SCJGJ"])),
      ("code", Banjie_V1_ServiceWindow.window("窗口三", ["SCJGJ"])),
      ("name", Banjie_V1_ServiceWindow.window("A03", ["SCJGJ"], name: "")),
      ("department_codes", Banjie_V1_ServiceWindow.window("A03", [])),
      ("department_codes", Banjie_V1_ServiceWindow.window("A03", ["NOPE"])),
    ])
  func badWindow(field: String, window: Banjie_V1_ServiceWindow) async throws {
    try await ServerHarness.run { h in
      let before = try h.auditCount()
      let error = await rpcError { _ = try await h.registry { try await $0.upsertWindow(window) } }
      #expect(error?.code == .invalidArgument)
      #expect(errorField(error) == field)
      #expect(try h.rows("windows") == 0)
      #expect(try h.rows("window_departments") == 0)
      #expect(try h.auditCount() == before)
    }
  }

  @Test("staff must be a department's clerk at a registered window serving that department")
  func badStaff() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("B01", ["ZJJ"])
      let before = try h.auditCount()
      let unknownWindow = await rpcError { _ = try await h.assignStaff("SCJGJ", "张伟", "B99") }
      #expect(unknownWindow?.code == .invalidArgument && errorField(unknownWindow) == "window_code")
      #expect(unknownWindow?.message.contains("B99") == true)
      let unknownDepartment = await rpcError { _ = try await h.assignStaff("NOPE", "张伟", "B01") }
      #expect(unknownDepartment?.code == .invalidArgument && errorField(unknownDepartment) == "organization")
      let notServing = await rpcError { _ = try await h.assignStaff("SCJGJ", "张伟", "B01") }
      #expect(notServing?.code == .failedPrecondition && errorField(notServing) == "window_code")
      let township = await rpcError {
        _ = try await h.registry {
          try await $0.upsertLiaisonUnit(
            .with {
              $0.name = "某某单位"
              $0.township = "不存在镇"
            })
        }
      }
      #expect(township?.code == .invalidArgument && errorField(township) == "township")
      #expect(try h.rows("staff") == 0)
      #expect(try h.rows("liaison_units") == 0)
      #expect(try h.auditCount() == before)
    }
  }

  @Test("only the office writes the registry: a clerk is PERMISSION_DENIED and nothing is written")
  func clerkMayNotWrite() async throws {
    try await ServerHarness.run { h in
      let before = try h.auditCount()
      try await h.registry(.clerk, "SCJGJ", "张伟") { registry in
        let window = await rpcError { _ = try await registry.upsertWindow(.window("A03", ["SCJGJ"])) }
        #expect(window?.code == .permissionDenied)
        let staff = await rpcError {
          _ = try await registry.assignStaff(
            .with {
              $0.organization = "SCJGJ"
              $0.person = "张伟"
              $0.windowCode = "A03"
            })
        }
        #expect(staff?.code == .permissionDenied)
        let unit = await rpcError {
          _ = try await registry.upsertLiaisonUnit(
            .with {
              $0.name = "南旺镇人民政府"
              $0.township = "南旺镇"
            })
        }
        #expect(unit?.code == .permissionDenied)
      }
      let staffList = await rpcError {
        _ = try await h.registry(.enterprise, "91370830000001001N", "张总") { try await $0.listStaff(.init()) }
      }
      #expect(staffList?.code == .permissionDenied)
      #expect(try h.rows("windows") == 0)
      #expect(try h.rows("staff") == 0)
      #expect(try h.rows("liaison_units") == 0)
      #expect(try h.auditCount() == before)
    }
  }

  @Test("free text until a window is registered; then an unregistered window is INVALID_ARGUMENT on window and nothing is written")
  func unregisteredWindow() async throws {
    try await ServerHarness.run { h in
      // No window registered: as before, any text (three texts, three windows).
      for text in ["A03", "Ａ０３", "A03 窗口（综合受理）"] {
        let c = try await h.submit("SCJGJ-003", at: text)
        #expect(c.window == text)
      }
      try await h.registerWindow("A03", ["SCJGJ"])
      let cases = try h.rows("cases")
      let audit = try h.auditCount()
      let error = await rpcError { _ = try await h.submit("SCJGJ-003", at: "B99") }
      #expect(error?.code == .invalidArgument)
      #expect(errorField(error) == "window")
      #expect(error?.message.contains("B99") == true)
      let sequenceRows = try h.database { try Int.fetchOne($0, sql: "SELECT SUM(last) FROM case_number_sequences") ?? 0 }
      #expect(try h.rows("cases") == cases)
      #expect(try h.auditCount() == audit)
      #expect(sequenceRows == cases)

      // The full-width code is the registered window, stored by its code.
      let fullWidth = try await h.submit("SCJGJ-003", at: "Ａ０３")
      #expect(fullWidth.window == "A03")
      let lower = try await h.submit("SCJGJ-003", at: " a03 ")
      #expect(lower.window == "A03")
      let stored = try h.database {
        try String.fetchAll($0, sql: "SELECT window FROM cases WHERE number IN (?, ?)", arguments: [fullWidth.number, lower.number])
      }
      #expect(stored == ["A03", "A03"])
    }
  }

  @Test("a window must serve the item's department unless it is a comprehensive window (综合窗口)")
  func servedDepartments() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("B01", ["ZJJ"])
      try await h.registerWindow("Z01", ["ZJJ"], comprehensive: true)
      let cases = try h.rows("cases")
      // Not comprehensive, and SCJGJ is not among its departments.
      let refused = await rpcError { _ = try await h.submit("SCJGJ-003", at: "B01") }
      #expect(refused?.code == .failedPrecondition)
      #expect(errorField(refused) == "window")
      #expect(try h.rows("cases") == cases)
      // Comprehensive: it receives the SCJGJ item although it lists only ZJJ.
      let accepted = try await h.submit("SCJGJ-003", at: "Z01")
      #expect(accepted.window == "Z01" && accepted.departmentCode == "SCJGJ")

      // Staff of a comprehensive window submit another department's item there; the case is that department's.
      try await h.assignStaff("SCJGJ", "综合受理员", "Z01")
      let other = try await h.submit("ZJJ-001", at: "Z01", "SCJGJ", "综合受理员")
      #expect(other.departmentCode == "ZJJ" && other.window == "Z01")
      // A clerk not on its staff still submits only their own department's items.
      let notStaff = await rpcError { _ = try await h.submit("ZJJ-001", at: "Z01", "SCJGJ", "张伟") }
      #expect(notStaff?.code == .permissionDenied)
      // And staff of the comprehensive window do not get other departments' items at another window.
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.assignStaff("SCJGJ", "综合受理员", "A03")
      let elsewhere = await rpcError { _ = try await h.submit("ZJJ-001", at: "A03", "SCJGJ", "综合受理员") }
      #expect(elsewhere?.code == .permissionDenied)
    }
  }

  @Test("a clerk registered as staff submits only at their windows; clerks without staff rows are not restricted")
  func staffRestriction() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.registerWindow("A04", ["SCJGJ"])
      try await h.assignStaff("SCJGJ", "张伟", "A03")
      let cases = try h.rows("cases")
      let refused = await rpcError { _ = try await h.submit("SCJGJ-003", at: "A04", "SCJGJ", "张伟") }
      #expect(refused?.code == .permissionDenied)
      #expect(errorField(refused) == "window")
      #expect(try h.rows("cases") == cases)
      let mine = try await h.submit("SCJGJ-003", at: "A03", "SCJGJ", "张伟")
      #expect(mine.window == "A03")
      let unregistered = try await h.submit("SCJGJ-003", at: "A04", "SCJGJ", "李四")
      #expect(unregistered.window == "A04")
    }
  }

  @Test("the dashboard counts a registered window once, named as registered")
  func dashboardByWindow() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      _ = try await h.submit("SCJGJ-003", at: "A03")
      _ = try await h.submit("SCJGJ-003", at: "Ａ０３")
      _ = try await h.submit("SCJGJ-003", at: "a03")
      let dashboard = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-11-30", by: "window")) }
      #expect(dashboard.rows.map(\.key) == ["A03"])
      #expect(dashboard.rows.first?.received == 3)
      #expect(dashboard.rows.first?.name == "市场准入窗口")
      #expect(try await h.environment.store.dashboardAggregateDifferences().isEmpty)
    }
  }
}
