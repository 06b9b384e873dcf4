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
  /// As the 12345 centre's dispatcher (OU=dispatcher, O=12345) unless told otherwise.
  func appeals<R: Sendable>(
    _ role: PeerIdentity.Role = .dispatcher, _ org: String = "12345", _ person: String = "赵敏",
    _ body: (Banjie_V1_AppealService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_AppealService.Client(wrapping: $0)) }
  }
}

extension Banjie_V1_RegisterAppealRequest {
  static func citizen(
    _ department: String = "SCJGJ", channel: Banjie_V1_AppealChannel = .hotline12345, category: Banjie_V1_AppealCategory = .complaint,
    name: String = "王小二", phone: String = "138-1234-5678"
  ) -> Self {
    .with {
      $0.channel = channel
      $0.category = category
      $0.requesterKind = .citizen
      $0.requesterName = name
      $0.requesterPhone = phone
      $0.subject = "小区门口早餐摊占道经营"
      $0.content = "每天早上六点到九点，早餐摊占用人行道，行人只能走机动车道。"
      $0.department = department
    }
  }

  /// A copy with one change.
  func changing(_ change: (inout Self) -> Void) -> Self {
    var copy = self
    change(&copy)
    return copy
  }
}

/// 群众诉求 (docs/DOMAIN.md §24) over real TLS, on a manual clock.
@Suite("Citizens' appeals (群众诉求) end to end over real TLS", .timeLimit(.minutes(10)))
struct AppealTests {
  static func contact(_ number: String, note: String = "已电话联系诉求人，约定次日现场查看", version: Int64 = 0)
    -> Banjie_V1_ContactAppealRequest
  {
    .with {
      $0.number = number
      $0.method = .phone
      $0.note = note
      $0.expectedVersion = version
    }
  }

  static func resolve(_ number: String, _ text: String = "已联合街道清理占道摊点，设置便民早餐点", version: Int64 = 0)
    -> Banjie_V1_ResolveAppealRequest
  {
    .with {
      $0.number = number
      $0.resolution = text
      $0.expectedVersion = version
    }
  }

  static func callBack(_ number: String, _ satisfaction: Banjie_V1_AppealSatisfaction, _ note: String = "")
    -> Banjie_V1_AppealCallBackRequest
  {
    .with {
      $0.number = number
      $0.satisfaction = satisfaction
      $0.note = note
    }
  }

  static func get(_ number: String) -> Banjie_V1_GetAppealRequest { .with { $0.number = number } }

  @Test("register → contact → resolve → call-back, reopened once: authorization, deadlines, audit rows; bad input writes nothing")
  func lifecycle() async throws {
    try await ServerHarness.run { h in
      // Mon 2026-11-30 09:30: first contact by Tue 17:00; a complaint resolved by Mon 2026-12-07 17:00.
      let appeal = try await h.appeals { try await $0.registerAppeal(.citizen()) }
      let n = appeal.number
      #expect(n.hasPrefix("QZ-370830-20261130-"))
      #expect(appeal.state == "ASSIGNED" && appeal.department == "SCJGJ" && appeal.version == 1 && appeal.round == 1)
      #expect(appeal.requesterPhone == "13812345678" && appeal.requesterKind == .citizen)
      #expect(appeal.responseLimitWorkingDays == 1 && appeal.resolutionLimitWorkingDays == 5)
      #expect(appeal.responseDueAt.date == shanghai("2026-12-01T17:00:00") && appeal.hasResponseSla)
      #expect(appeal.rounds.count == 1 && appeal.rounds.first?.dueAt.date == shanghai("2026-12-07T17:00:00"))
      #expect(appeal.rounds.first?.hasSla == true)

      // Only the dispatcher registers: an enterprise, a pad, a clerk, the office and a liaison are refused.
      let others: [(PeerIdentity.Role, String)] = [
        (.enterprise, testUSCC(1)), (.pad, "A03"), (.clerk, "SCJGJ"), (.office, "YSB"), (.liaison, "南旺镇人民政府"),
      ]
      for (role, org) in others {
        let refused = await rpcError { _ = try await h.appeals(role, org, "某人") { try await $0.registerAppeal(.citizen()) } }
        #expect(refused?.code == .permissionDenied, "\(role)")
      }

      // Bad registrations: each names its field, and nothing is written.
      let before = try h.rows("appeals")
      let audit = try h.auditCount()
      let citizen = Banjie_V1_RegisterAppealRequest.citizen()
      let bad: [(Banjie_V1_RegisterAppealRequest, String)] = [
        (citizen.changing { $0.requesterPhone = "12" }, "requester_phone"),
        (citizen.changing { $0.requesterPhone = "138-1234-abcd" }, "requester_phone"),
        (citizen.changing { $0.requesterName = " " }, "requester_name"),
        (citizen.changing { $0.subject = "" }, "subject"),
        (citizen.changing { $0.subject = String(repeating: "题", count: 201) }, "subject"),
        (citizen.changing { $0.content = "" }, "content"),
        (citizen.changing { $0.channel = .unspecified }, "channel"),
        (citizen.changing { $0.category = .unspecified }, "category"),
        (citizen.changing { $0.requesterKind = .unspecified }, "requester_kind"),
        (citizen.changing { $0.department = "XYZ" }, "department"),
        (citizen.changing { $0.enterpriseUscc = testUSCC(1) }, "enterprise_uscc"),
        (
          citizen.changing {
            $0.requesterKind = .enterprise
            $0.enterpriseUscc = testUSCC(99)
          }, "enterprise_uscc"
        ),
      ]
      for (request, field) in bad {
        let refused = await rpcError { _ = try await h.appeals { try await $0.registerAppeal(request) } }
        #expect(refused?.code == .invalidArgument && errorField(refused) == field, "\(field): \(refused?.message ?? "accepted")")
      }
      #expect(try h.rows("appeals") == before)
      #expect(try h.rows("appeal_rounds") == 1)
      #expect(try h.auditCount() == audit)

      // Another department's clerk is refused before anything about the appeal (its version, its state) is said.
      let stranger = await rpcError {
        _ = try await h.appeals(.clerk, "ZJJ", "路人") { try await $0.contactAppeal(Self.contact(n, version: 99)) }
      }
      #expect(stranger?.code == .permissionDenied)
      let strangerResolves = await rpcError {
        _ = try await h.appeals(.clerk, "ZJJ", "路人") { try await $0.resolveAppeal(Self.resolve(n)) }
      }
      #expect(strangerResolves?.code == .permissionDenied)
      let unseen = await rpcError { _ = try await h.appeals(.clerk, "ZJJ", "路人") { try await $0.getAppeal(Self.get(n)) } }
      #expect(unseen?.code == .permissionDenied)
      #expect(unseen?.message.contains("早餐") == false && unseen?.message.contains("13812345678") == false)
      #expect(try await h.appeals(.clerk, "ZJJ", "路人") { try await $0.listAppeals(.with { _ in }) }.total == 0)
      // The office and the dispatcher do not take the department's steps.
      for (role, org) in [(PeerIdentity.Role.office, "YSB"), (.dispatcher, "12345")] {
        let refused = await rpcError { _ = try await h.appeals(role, org, "某人") { try await $0.contactAppeal(Self.contact(n)) } }
        #expect(refused?.code == .permissionDenied, "\(role)")
      }
      // Out of order: no resolution before the first contact; a contact says what was said.
      let early = await rpcError { _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.resolveAppeal(Self.resolve(n)) } }
      #expect(early?.code == .failedPrecondition && errorField(early) == "state")
      let bare = await rpcError {
        _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(n, note: " ")) }
      }
      #expect(bare?.code == .invalidArgument && errorField(bare) == "note")

      // 10:30: first contact, on time. The resolution clock runs on: the answer does not stop it.
      h.clock.advance(seconds: 3600)
      let contacted = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(n, version: 1)) }
      #expect(contacted.state == "CONTACTED" && contacted.responseOnTime && contacted.contactMethod == .phone)
      #expect(!contacted.hasResponseSla && contacted.rounds.first?.hasSla == true && contacted.version == 2)
      let twice = await rpcError { _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(n)) } }
      #expect(twice?.code == .failedPrecondition)
      let stale = await rpcError {
        _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.resolveAppeal(Self.resolve(n, version: 1)) }
      }
      #expect(stale?.code == .aborted && errorField(stale) == "expected_version")

      // 11:30: resolved on time.
      h.clock.advance(seconds: 3600)
      let resolved = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.resolveAppeal(Self.resolve(n, version: 2)) }
      #expect(resolved.state == "RESOLVED" && resolved.rounds.first?.onTime == true && resolved.rounds.first?.hasSla == false)

      // Only the dispatcher calls back; a dissatisfied requester's reasons are required.
      let clerkCalls = await rpcError {
        _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.recordCallBack(Self.callBack(n, .satisfied)) }
      }
      #expect(clerkCalls?.code == .permissionDenied)
      let noReason = await rpcError { _ = try await h.appeals { try await $0.recordCallBack(Self.callBack(n, .dissatisfied)) } }
      #expect(noReason?.code == .invalidArgument && errorField(noReason) == "note")
      let noAnswer = await rpcError { _ = try await h.appeals { try await $0.recordCallBack(Self.callBack(n, .unspecified)) } }
      #expect(noAnswer?.code == .invalidArgument && errorField(noAnswer) == "satisfaction")

      // Wed 2026-12-02 10:00, dissatisfied: round 2 from now, the whole limit: 3, 4, 7, 8, 9 December.
      h.clock.set(shanghai("2026-12-02T10:00:00"))
      let reopened = try await h.appeals { try await $0.recordCallBack(Self.callBack(n, .dissatisfied, "摊点第二天又回来了")) }
      #expect(reopened.state == "REOPENED" && reopened.round == 2 && reopened.rounds.count == 2)
      #expect(reopened.rounds.first?.satisfaction == .dissatisfied && reopened.rounds.first?.callBackNote == "摊点第二天又回来了")
      #expect(reopened.rounds.last?.limitWorkingDays == 5 && reopened.rounds.last?.dueAt.date == shanghai("2026-12-09T17:00:00"))
      // Reopened: resolved again without a new first contact, this time late.
      h.clock.set(shanghai("2026-12-10T09:00:00"))
      let late = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.resolveAppeal(Self.resolve(n, "已安排城管每日早间巡查")) }
      #expect(late.state == "RESOLVED" && late.rounds.last?.onTime == false)
      let closed = try await h.appeals { try await $0.recordCallBack(Self.callBack(n, .basicallySatisfied)) }
      #expect(closed.state == "CLOSED" && closed.hasClosedAt && closed.satisfaction == .basicallySatisfied)
      let afterClose = await rpcError { _ = try await h.appeals { try await $0.recordCallBack(Self.callBack(n, .satisfied)) } }
      #expect(afterClose?.code == .failedPrecondition)

      // Reading: the office sees the phone masked, the department in full; no enterprise reads a
      // citizen's appeal; a liaison reads none.
      #expect(try await h.appeals(.office, "YSB", "李明") { try await $0.getAppeal(Self.get(n)) }.requesterPhone == "138****5678")
      #expect(try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.getAppeal(Self.get(n)) }.requesterPhone == "13812345678")
      let enterprise = await rpcError { _ = try await h.appeals(.enterprise, testUSCC(1), "张总") { try await $0.getAppeal(Self.get(n)) } }
      #expect(enterprise?.code == .permissionDenied)
      let liaison = await rpcError {
        _ = try await h.appeals(.liaison, "南旺镇人民政府", "王强") { try await $0.listAppeals(.with { _ in }) }
      }
      #expect(liaison?.code == .permissionDenied)
      let missing = await rpcError { _ = try await h.appeals { try await $0.getAppeal(Self.get("QZ-370830-20261130-9999")) } }
      #expect(missing?.code == .notFound)

      // One audit row per step; personal data masked in them.
      let rows = try h.database {
        try Row.fetchAll(
          $0, sql: "SELECT action, detail FROM audit_log WHERE entity = 'appeal' AND entity_id = ? ORDER BY id", arguments: [n])
      }
      #expect(
        rows.map { $0["action"] as String } == [
          "appeal.register", "appeal.contact", "appeal.resolve", "appeal.call_back", "appeal.resolve", "appeal.call_back",
        ])
      let details = rows.map { $0["detail"] as String }
      #expect(details.allSatisfy { !$0.contains("13812345678") && !$0.contains("王小二") })
      #expect(details.first?.contains("138****5678") == true && details.first?.contains("王**") == true)
      #expect(details.first?.contains("\"department\":\"SCJGJ\"") == true)
    }
  }

  @Test("an enterprise's appeal: assigned later, reassigned with a reason before the first contact; the enterprise reads its own")
  func enterpriseAndReassignment() async throws {
    try await ServerHarness.run { h in
      let uscc = testUSCC(1)
      _ = try await h.enterprises { try await $0.registerEnterprise(.sample(uscc)) }
      let request = Banjie_V1_RegisterAppealRequest.citizen("", channel: .minyi5, category: .help).changing {
        $0.requesterKind = .enterprise
        $0.enterpriseUscc = uscc.lowercased()
        $0.requesterName = "刘芳"
        $0.requesterPhone = "0537-7212345"
      }
      let registered = try await h.appeals { try await $0.registerAppeal(request) }
      let n = registered.number
      #expect(registered.state == "REGISTERED" && registered.department.isEmpty && registered.round == 0 && registered.rounds.isEmpty)
      #expect(registered.enterpriseUscc == uscc && registered.enterpriseName == "汶上县鲁源机械有限公司" && !registered.hasResponseSla)

      // No department acts on it yet.
      let unassigned = await rpcError { _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(n)) } }
      #expect(unassigned?.code == .permissionDenied)
      // The enterprise reads its own appeals, with the phone it gave; another enterprise reads none of them.
      let own = try await h.appeals(.enterprise, uscc, "张总") { try await $0.listAppeals(.with { _ in }) }
      #expect(own.total == 1 && own.appeals.first?.requesterPhone == "05377212345")
      #expect(try await h.appeals(.enterprise, testUSCC(2), "李总") { try await $0.listAppeals(.with { _ in }) }.total == 0)
      let foreign = await rpcError { _ = try await h.appeals(.enterprise, testUSCC(2), "李总") { try await $0.getAppeal(Self.get(n)) } }
      #expect(foreign?.code == .permissionDenied)

      // Only the dispatcher assigns.
      func assign(_ department: String, reason: String = "", as role: PeerIdentity.Role = .dispatcher, org: String = "12345") async
        -> Result<Banjie_V1_Appeal, RPCError>
      {
        do {
          return .success(
            try await h.appeals(role, org, "某人") { client in
              try await client.assignAppeal(
                .with {
                  $0.number = n
                  $0.department = department
                  $0.reason = reason
                })
            })
        } catch let error as RPCError { return .failure(error) } catch { return .failure(RPCError(code: .unknown, message: "\(error)")) }
      }
      if case .failure(let e) = await assign("ZJJ", as: .clerk, org: "ZJJ") {
        #expect(e.code == .permissionDenied)
      } else {
        Issue.record("a clerk assigned an appeal")
      }
      let assigned = try await assign("ZJJ").get()
      #expect(assigned.state == "ASSIGNED" && assigned.department == "ZJJ" && assigned.version == 2)
      #expect(assigned.responseDueAt.date == shanghai("2026-12-01T17:00:00"))
      #expect(assigned.rounds.first?.dueAt.date == shanghai("2026-12-07T17:00:00"))

      // Reassigning needs a reason and another department that exists.
      for (department, reason, field) in [("ZRZYJ", " ", "reason"), ("ZJJ", "再派一次", "department"), ("XYZ", "原因", "department")] {
        if case .failure(let e) = await assign(department, reason: reason) {
          #expect(e.code == .invalidArgument && errorField(e) == field, "\(department) \(reason)")
        } else {
          Issue.record("reassigned to \(department) with \"\(reason)\"")
        }
      }
      // Tue 2026-12-01 10:00: moved to ZRZYJ; its clocks start now: 2, 3, 4, 7, 8 December.
      h.clock.set(shanghai("2026-12-01T10:00:00"))
      let moved = try await assign("ZRZYJ", reason: "涉及用地规划许可，属自然资源局职责").get()
      #expect(moved.department == "ZRZYJ" && moved.reassignments == 1 && moved.reassignReason.contains("自然资源局"))
      #expect(moved.responseDueAt.date == shanghai("2026-12-02T17:00:00") && moved.rounds.count == 1)
      #expect(moved.rounds.first?.startedAt.date == shanghai("2026-12-01T10:00:00"))
      #expect(moved.rounds.first?.dueAt.date == shanghai("2026-12-08T17:00:00"))

      // The first department no longer acts on it; the second does, and then it stays there.
      let old = await rpcError { _ = try await h.appeals(.clerk, "ZJJ", "赵建") { try await $0.contactAppeal(Self.contact(n)) } }
      #expect(old?.code == .permissionDenied)
      let contacted = try await h.appeals(.clerk, "ZRZYJ", "孙丽") { try await $0.contactAppeal(Self.contact(n)) }
      #expect(contacted.state == "CONTACTED" && contacted.responseOnTime)
      if case .failure(let e) = await assign("SCJGJ", reason: "改派") {
        #expect(e.code == .failedPrecondition && errorField(e) == "state")
      } else {
        Issue.record("reassigned after the first contact")
      }
      let rows = try h.database {
        try Row.fetchAll(
          $0, sql: "SELECT action, detail FROM audit_log WHERE entity = 'appeal' AND entity_id = ? ORDER BY id", arguments: [n])
      }
      #expect(rows.map { $0["action"] as String } == ["appeal.register", "appeal.assign", "appeal.reassign", "appeal.contact"])
      let reassign = rows.first { ($0["action"] as String) == "appeal.reassign" }.map { $0["detail"] as String } ?? ""
      #expect(reassign.contains("\"from\":\"ZJJ\"") && reassign.contains("自然资源局") && reassign.contains("\"department\":\"ZRZYJ\""))
      #expect(rows.allSatisfy { !($0["detail"] as String).contains("05377212345") })
    }
  }

  @Test("waiting clocks turn yellow and red with alerts to the department; the dashboard's figures equal the rows'")
  func clocksAlertsAndDashboard() async throws {
    try await ServerHarness.run { h in
      // Mon 2026-11-30 09:30. A: resolved and called back at once. B: never contacted. C: contacted late.
      // D: contacted at once, never resolved — the first contact does not stop its resolution clock.
      let a = try await h.appeals { try await $0.registerAppeal(.citizen(category: .consultation)) }.number
      let b = try await h.appeals {
        try await $0.registerAppeal(.citizen(channel: .portal, category: .complaint, name: "李娜", phone: "139 0000 1111"))
      }.number
      let c = try await h.appeals { try await $0.registerAppeal(.citizen("ZJJ", channel: .letter, category: .suggestion)) }.number
      let d = try await h.appeals { try await $0.registerAppeal(.citizen(channel: .minyi5, category: .consultation)) }.number
      h.clock.advance(seconds: 1800)
      _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(a)) }
      _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.resolveAppeal(Self.resolve(a)) }
      _ = try await h.appeals { try await $0.recordCallBack(Self.callBack(a, .satisfied)) }
      _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(d)) }

      func alerts() async throws -> [AlertRecord] { try await h.environment.sweep().filter { $0.kind.hasPrefix("appeal.") } }
      #expect(try await alerts().isEmpty)
      // Tue 2026-12-01 15:00: 11.5 of the 13.5 working hours to the first contact used (85 %), and
      // as much of D's one working day to resolve it.
      h.clock.set(shanghai("2026-12-01T15:00:00"))
      let yellow = try await alerts()
      #expect(yellow.map(\.kind) == ["appeal.yellow", "appeal.yellow", "appeal.yellow"])
      #expect(yellow.map(\.subject) == ["appeal \(b)", "appeal \(c)", "appeal \(d)"])
      #expect(yellow.map(\.departmentCode) == ["SCJGJ", "ZJJ", "SCJGJ"])
      #expect(yellow.last?.message.contains("awaits resolution by SCJGJ") == true)
      #expect(try await alerts().isEmpty)
      // Wed 2026-12-02 09:00: past Tuesday 17:00.
      h.clock.set(shanghai("2026-12-02T09:00:00"))
      let red = try await alerts()
      #expect(red.map(\.kind) == ["appeal.red", "appeal.red", "appeal.red"])
      for alert in yellow + red {
        // The number and the department, never the requester.
        #expect(!alert.message.contains("13900001111") && !alert.message.contains("李娜") && !alert.message.contains("王小二"))
      }
      #expect(red.first?.message.contains("awaits first contact by SCJGJ, overdue") == true)
      let stored = try await h.environment.store.alerts(afterID: 0, department: "SCJGJ").map(\.kind)
      #expect(stored == ["appeal.yellow", "appeal.yellow", "appeal.red", "appeal.red"])
      #expect(try await h.environment.store.alerts(afterID: 0, department: "ZJJ").map(\.kind) == ["appeal.yellow", "appeal.red"])
      let colourRows = try h.database {
        try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'appeal.colour' AND actor_role = 'system'")
      }
      #expect(colourRows == 6)
      let storedB = try await h.appeals { try await $0.getAppeal(Self.get(b)) }
      #expect(storedB.responseColour == .red && storedB.responseSla.overdue)

      // 10:00: C's first contact, late.
      h.clock.advance(seconds: 3600)
      let lateContact = try await h.appeals(.clerk, "ZJJ", "赵建") { try await $0.contactAppeal(Self.contact(c)) }
      #expect(!lateContact.responseOnTime && lateContact.responseColour == .green)

      // The listing's filters.
      func numbers(_ configure: (inout Banjie_V1_ListAppealsRequest) -> Void) async throws -> [String] {
        var request = Banjie_V1_ListAppealsRequest()
        configure(&request)
        return try await h.appeals { try await $0.listAppeals(request) }.appeals.map(\.number)
      }
      #expect(try await numbers { $0.overdue = true } == [d, b])
      #expect(try await numbers { $0.waiting = true } == [d, c, b])
      #expect(try await numbers { $0.channel = .letter } == [c])
      #expect(try await numbers { $0.states = ["closed"] } == [a])
      #expect(try await numbers { $0.department = "ZJJ" } == [c])
      let badState = await rpcError { _ = try await numbers { $0.states = ["DONE"] } }
      #expect(badState?.code == .invalidArgument && errorField(badState) == "states")

      // The dashboard of the three days and of a day before them, for the office, against the rows.
      for (from, to) in [("2026-11-30", "2026-12-02"), ("2026-11-29", "2026-11-29")] {
        let board = try await h.dashboard { try await $0.getDashboard(DashboardTests.request(from, to)) }
        let expected = try Self.expectedFigures(h, from: from, to: to)
        let shown = Dictionary(uniqueKeysWithValues: board.appeals.map { ("\($0.department)|\($0.channel)", Self.figures($0)) })
        #expect(shown == expected, "\(from)…\(to)")
        for f in board.appeals {
          #expect(f.responseRate == (f.responded == 0 ? 0 : Double(f.respondedOnTime) / Double(f.responded)))
          #expect(f.resolutionRate == (f.resolved == 0 ? 0 : Double(f.resolvedOnTime) / Double(f.resolved)))
          #expect(f.satisfactionRate == (f.callBacks == 0 ? 0 : Double(f.satisfied) / Double(f.callBacks)))
        }
      }
      // What the rows say, in words.
      let board = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-12-02")) }
      let rows = Dictionary(uniqueKeysWithValues: board.appeals.map { ("\($0.department)|\($0.channel)", $0) })
      let hotline = rows["SCJGJ|HOTLINE_12345"]
      #expect(hotline?.resolvedOnTime == 1 && hotline?.resolutionRate == 1 && hotline?.satisfactionRate == 1 && hotline?.waiting == 0)
      let portal = rows["SCJGJ|PORTAL"]
      #expect(portal?.assigned == 1 && portal?.responded == 0 && portal?.waiting == 1 && portal?.overdue == 1)
      let minyi = rows["SCJGJ|MINYI_5"]
      #expect(minyi?.respondedOnTime == 1 && minyi?.resolved == 0 && minyi?.overdue == 1)
      let letter = rows["ZJJ|LETTER"]
      #expect(letter?.responded == 1 && letter?.respondedOnTime == 0 && letter?.responseRate == 0 && letter?.overdue == 0)
      #expect(rows["SCJGJ|HOTLINE_12345"]?.departmentName.isEmpty == false)
      // A clerk's dashboard holds its own department's rows only.
      let mine = try await h.dashboard(.clerk, "ZJJ", "赵建") {
        try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-12-02"))
      }
      #expect(mine.appeals.map(\.department) == ["ZJJ"])
      // The annual figure targets read: SCJGJ resolved one round in 2026, on time.
      let year = try h.database { db in try BanjieStore.appealResolutionRate(db, year: 2026, department: "SCJGJ") }
      #expect(year.resolved == 1 && year.onTime == 1)
    }
  }

  @Test("the office's limits apply to appeals assigned afterwards; bad values are refused naming the setting and change nothing")
  func settings() async throws {
    try await ServerHarness.run { h in
      let before = try await h.appeals { try await $0.registerAppeal(.citizen()) }
      func set(_ key: String, _ value: String) async throws -> Banjie_V1_Settings {
        try await h.settings { client in
          try await client.setSetting(
            .with {
              $0.key = key
              $0.value = value
            })
        }
      }
      let audit = try h.auditCount()
      let refusals = [
        ("appeal_resolution_limits", "complaint:3"),
        ("appeal_resolution_limits", "consultation:1,help:5,complaint:61,report:15,suggestion:10"),
        ("appeal_resolution_limits", "consultation:1,help:5,complaint:3,report:15,petition:10"),
        ("appeal_response_working_days", "0"), ("appeal_response_working_days", "11"),
      ]
      for (key, value) in refusals {
        let refused = await rpcError { _ = try await set(key, value) }
        #expect(refused?.code == .invalidArgument && errorField(refused) == key, "\(key) \(value)")
      }
      #expect(try h.auditCount() == audit)
      let dispatcherSets = await rpcError {
        _ = try await h.as_(.dispatcher, "12345", "赵敏") { client in
          try await Banjie_V1_SettingsService.Client(wrapping: client).setSetting(
            .with {
              $0.key = "appeal_response_working_days"
              $0.value = "2"
            })
        }
      }
      #expect(dispatcherSets?.code == .permissionDenied)

      _ = try await set("appeal_response_working_days", "2")
      // Chinese names and full-width punctuation are read; the canonical text is kept.
      let limits = try await set("appeal_resolution_limits", "咨询：1，求助：5，投诉：3，举报：15，建议：10")
      #expect(limits.appealResolutionLimits == "consultation:1,help:5,complaint:3,report:15,suggestion:10")
      #expect(limits.appealResponseWorkingDays == 2)

      // Mon 2026-11-30 09:30 with the new limits: first contact by Wed 12-02, resolved by Thu 12-03.
      let after = try await h.appeals { try await $0.registerAppeal(.citizen()) }
      #expect(after.responseLimitWorkingDays == 2 && after.resolutionLimitWorkingDays == 3)
      #expect(after.responseDueAt.date == shanghai("2026-12-02T17:00:00"))
      #expect(after.rounds.first?.dueAt.date == shanghai("2026-12-03T17:00:00"))

      // The appeal assigned before keeps its limits, in a reopened round too.
      let n = before.number
      _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.contactAppeal(Self.contact(n)) }
      _ = try await h.appeals(.clerk, "SCJGJ", "张伟") { try await $0.resolveAppeal(Self.resolve(n)) }
      let reopened = try await h.appeals { try await $0.recordCallBack(Self.callBack(n, .dissatisfied, "仍未解决")) }
      #expect(reopened.responseLimitWorkingDays == 1 && reopened.resolutionLimitWorkingDays == 5)
      #expect(reopened.rounds.map(\.limitWorkingDays) == [5, 5])
      let actions = try h.database {
        try String.fetchAll($0, sql: "SELECT entity_id FROM audit_log WHERE action = 'settings.set' ORDER BY id")
      }
      #expect(actions == ["appeal_response_working_days", "appeal_resolution_limits"])
    }
  }

  // MARK: The dashboard, computed apart

  /// A dashboard row's counts by name.
  static func figures(_ f: Banjie_V1_AppealFigures) -> [String: Int] {
    [
      "assigned": Int(f.assigned), "responded": Int(f.responded), "respondedOnTime": Int(f.respondedOnTime), "resolved": Int(f.resolved),
      "resolvedOnTime": Int(f.resolvedOnTime), "waiting": Int(f.waiting), "overdue": Int(f.overdue), "callBacks": Int(f.callBacks),
      "satisfied": Int(f.satisfied),
    ]
  }

  /// The dashboard's appeal counts by "DEPARTMENT|CHANNEL", computed in Swift from the raw rows
  /// (not by the store's queries): days are Asia/Shanghai, "on time" is the stop at or before the
  /// stored deadline, waiting and overdue are as of the harness's clock.
  static func expectedFigures(_ h: ServerHarness, from: String, to: String) throws -> [String: [String: Int]] {
    let now = h.clock.now
    func inPeriod(_ date: Date?) -> Bool {
      guard let date else { return false }
      let text = WorkingCalendar.standard.localDate(of: date).description
      return text >= from && text <= to
    }
    let (appeals, rounds) = try h.database { db in
      (try Row.fetchAll(db, sql: "SELECT * FROM appeals"), try Row.fetchAll(db, sql: "SELECT * FROM appeal_rounds"))
    }
    var figures: [String: [String: Int]] = [:]
    for a in appeals {
      guard let department = a["department"] as String? else { continue }
      let key = "\(department)|\(a["channel"] as String)"
      var f = figures[key] ?? Self.zero
      if inPeriod(a["assigned_at"]) { f["assigned", default: 0] += 1 }
      let contacted = a["contacted_at"] as Date?
      let responseDue = a["response_due_at"] as Date?
      if inPeriod(contacted) {
        f["responded", default: 0] += 1
        if let contacted, let responseDue, contacted <= responseDue { f["respondedOnTime", default: 0] += 1 }
      }
      let id = a["id"] as Int64
      let mine = rounds.filter { ($0["appeal_id"] as Int64) == id }
      for r in mine {
        let resolved = r["resolved_at"] as Date?
        if inPeriod(resolved) {
          f["resolved", default: 0] += 1
          if let resolved, resolved <= (r["due_at"] as Date) { f["resolvedOnTime", default: 0] += 1 }
        }
        if inPeriod(r["call_back_at"]) {
          f["callBacks", default: 0] += 1
          if ["SATISFIED", "BASICALLY_SATISFIED"].contains(r["satisfaction"] as String? ?? "") { f["satisfied", default: 0] += 1 }
        }
      }
      let state = a["state"] as String
      if ["ASSIGNED", "CONTACTED", "REOPENED"].contains(state) {
        f["waiting", default: 0] += 1
        let current = mine.first { ($0["round"] as Int) == (a["round"] as Int) }
        let responseLate = state == "ASSIGNED" && (responseDue.map { $0 < now } ?? false)
        let resolutionLate = current.map { ($0["resolved_at"] as Date?) == nil && ($0["due_at"] as Date) < now } ?? false
        if responseLate || resolutionLate { f["overdue", default: 0] += 1 }
      }
      figures[key] = f
    }
    return figures.filter { $0.value.values.contains { $0 > 0 } }
  }

  static let zero = [
    "assigned": 0, "responded": 0, "respondedOnTime": 0, "resolved": 0, "resolvedOnTime": 0, "waiting": 0, "overdue": 0, "callBacks": 0,
    "satisfied": 0,
  ]
}
