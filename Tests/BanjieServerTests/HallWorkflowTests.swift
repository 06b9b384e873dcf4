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

/// The hall's workflows on a case (docs/DOMAIN.md §22): channels and 零跑腿, 一窗受理, transfers
/// that keep the sender reading, 首问负责 hand-overs and 帮办代办 helpers.
@Suite("Hall workflows: channels, 一窗受理, 首问负责, 帮办代办 over real TLS", .timeLimit(.minutes(10)))
struct HallWorkflowTests {
  static let enterprise = testUSCC(2001)

  /// The audit detail of the newest row with `action` on case `number`.
  static func auditDetail(_ h: ServerHarness, _ action: String, _ number: String) throws -> String? {
    try h.database {
      try String.fetchOne(
        $0, sql: "SELECT detail FROM audit_log WHERE action = ? AND entity_id = ? ORDER BY id DESC LIMIT 1", arguments: [action, number])
    }
  }

  @Test("online and mail cases need no window; a window case does; 零跑腿 when it also goes back online or by post")
  func channels() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        var online = Banjie_V1_SubmitCaseRequest.sample()
        online.window = ""
        online.channel = .online
        let o = try await cases.submitCase(online)
        #expect(o.channel == .online && o.window.isEmpty)
        #expect(o.ratingCode.count == 8)
        #expect(o.firstResponder.person == "张伟" && o.firstResponder.organization == "SCJGJ")
        #expect(o.responsible == o.firstResponder)

        var windowless = Banjie_V1_SubmitCaseRequest.sample()
        windowless.window = ""
        let refused = await rpcError { _ = try await cases.submitCase(windowless) }
        #expect(refused?.code == .invalidArgument)
        #expect(errorField(refused) == "window")
        windowless.channel = .selfService
        let selfService = await rpcError { _ = try await cases.submitCase(windowless) }
        #expect(errorField(selfService) == "window")

        _ = try await cases.acceptCase(.number(o.number))
        h.clock.advance(seconds: 3600)
        _ = try await cases.completeCase(.number(o.number) { $0.outcome = "approved" })
        // A self-service channel is not a way to deliver; a mail delivery names no window.
        let badChannel = await rpcError { _ = try await cases.deliverCase(.number(o.number) { $0.deliveryChannel = .selfService }) }
        #expect(badChannel?.code == .invalidArgument)
        #expect(errorField(badChannel) == "delivery_channel")
        let mailWithWindow = await rpcError {
          _ = try await cases.deliverCase(
            .number(o.number) {
              $0.deliveryChannel = .mail
              $0.deliveryWindow = "A03"
            })
        }
        #expect(errorField(mailWithWindow) == "delivery_window")
        let delivered = try await cases.deliverCase(.number(o.number) { $0.deliveryChannel = .mail })
        #expect(delivered.deliveryChannel == .mail && delivered.deliveryWindow.isEmpty)
        #expect(delivered.zeroTrip)

        // A window case delivered at the window is not 零跑腿, and it was served at A03.
        let w = try await cases.submitCase(.sample())
        #expect(w.channel == .window)
        _ = try await cases.acceptCase(.number(w.number))
        _ = try await cases.completeCase(.number(w.number) { $0.outcome = "approved" })
        let atWindow = try await cases.deliverCase(.number(w.number))
        #expect(atWindow.deliveryChannel == .window && atWindow.deliveryWindow == "A03" && !atWindow.zeroTrip)
        #expect(atWindow.servedWindow == "A03")

        let onlineOnly = try await cases.listCases(.with { $0.channel = .online })
        #expect(onlineOnly.cases.map(\.number) == [o.number])
      }
      // The dashboard: by channel, and the 零跑腿 count; the aggregates stay exact.
      let board = try await h.as_(.office, "YSB", "李明") { client in
        try await Banjie_V1_DashboardService.Client(wrapping: client).getDashboard(
          .with {
            $0.from = "2026-11-30"
            $0.to = "2026-11-30"
            $0.by = "channel"
          })
      }
      #expect(board.zeroTrip == 1)
      #expect(board.summary.completed == 2)
      #expect(board.zeroTripRate == 0.5)
      let byChannel = Dictionary(uniqueKeysWithValues: board.rows.map { ($0.key, $0.received) })
      #expect(byChannel == ["ONLINE": 1, "WINDOW": 1])
      #expect(try await h.environment.store.dashboardAggregateDifferences() == [])
    }
  }

  @Test("一窗受理: the comprehensive window's department reads the routed case, sees the outcome and delivers there; others may not")
  func comprehensiveWindow() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("Z01", ["SCJGJ"], comprehensive: true)
      try await h.registerWindow("B01", ["ZJJ"])
      try await h.assignStaff("SCJGJ", "综合受理员", "Z01")
      let routed = try await h.submit("ZJJ-001", at: "Z01", "SCJGJ", "综合受理员")
      #expect(routed.departmentCode == "ZJJ")
      #expect(routed.readers.map(\.departmentCode) == ["SCJGJ"] && routed.readers.first?.reason == "RECEIVING")
      let n = routed.number

      // The receiving department reads it (and lists it) but does not handle it.
      try await h.cases(.clerk, "SCJGJ", "综合受理员") { cases in
        #expect(try await cases.getCase(.with { $0.number = n }).number == n)
        let listed = try await cases.listCases(.with { _ in })
        #expect(listed.cases.contains { $0.number == n })
        let own = try await cases.listCases(.with { $0.departmentCode = "SCJGJ" })
        #expect(!own.cases.contains { $0.number == n })
        let accept = await rpcError { _ = try await cases.acceptCase(.number(n)) }
        #expect(accept?.code == .permissionDenied)
      }
      // A third department sees nothing.
      let stranger = await rpcError { _ = try await h.cases(.clerk, "GAJ", "路人") { try await $0.getCase(.with { $0.number = n }) } }
      #expect(stranger?.code == .permissionDenied)

      // The item's department handles it; the receiving window sees the outcome.
      try await h.cases(.clerk, "ZJJ", "赵建") { cases in
        _ = try await cases.acceptCase(.number(n))
        _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
      }
      let delivered = try await h.cases(.clerk, "SCJGJ", "综合受理员") { cases in
        #expect(try await cases.getCase(.with { $0.number = n }).outcome == "approved")
        // 出件 back at the comprehensive window.
        return try await cases.deliverCase(.number(n) { $0.deliveryWindow = "z01" })
      }
      #expect(delivered.state == .delivered && delivered.deliveryWindow == "Z01" && delivered.servedWindow == "Z01")
      #expect(try Self.auditDetail(h, "case.deliver", n)?.contains("receiving_window") == true)
      // An unregistered delivery window is refused.
      let other = try await h.submit("ZJJ-001", at: "Z01", "SCJGJ", "综合受理员")
      try await h.cases(.clerk, "ZJJ", "赵建") { cases in
        _ = try await cases.acceptCase(.number(other.number))
        _ = try await cases.completeCase(.number(other.number) { $0.outcome = "approved" })
        let unknown = await rpcError { _ = try await cases.deliverCase(.number(other.number) { $0.deliveryWindow = "Q99" }) }
        #expect(unknown?.code == .invalidArgument)
        #expect(errorField(unknown) == "delivery_window")
        #expect(try await cases.getCase(.with { $0.number = other.number }).state == .completed)
      }
    }
  }

  @Test("a transfer needs a note; the sender keeps reading the history but no longer handles the case")
  func transferKeepsSenderReading() async throws {
    try await ServerHarness.run { h in
      let n = try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        _ = try await cases.acceptCase(.number(n))
        let audit = try h.auditCount()
        let bare = await rpcError { _ = try await cases.transferCase(.number(n) { $0.toDepartment = "ZJJ" }) }
        #expect(bare?.code == .invalidArgument)
        #expect(errorField(bare) == "note")
        #expect(try h.auditCount() == audit)
        #expect(try await cases.getCase(.with { $0.number = n }).departmentCode == "SCJGJ")
        let moved = try await cases.transferCase(
          .number(n) {
            $0.toDepartment = "ZJJ"
            $0.note = "涉及建设工程，转住建局"
          })
        #expect(moved.departmentCode == "ZJJ")
        #expect(moved.readers.map(\.departmentCode) == ["SCJGJ"] && moved.readers.first?.reason == "TRANSFER")
        // Still readable by the sender, with the reason in the history.
        let history = try await cases.getCaseHistory(.with { $0.number = n })
        #expect(history.events.last?.action == "transfer")
        #expect(history.events.last?.note.contains("涉及建设工程，转住建局") == true)
        let suspend = await rpcError { _ = try await cases.suspendCase(.number(n) { $0.note = "x" }) }
        #expect(suspend?.code == .permissionDenied)
        return n
      }
      // Transferred back: the returning department is no longer only a reader.
      let back = try await h.cases(.clerk, "ZJJ", "赵建") { cases in
        try await cases.transferCase(
          .number(n) {
            $0.toDepartment = "SCJGJ"
            $0.note = "不属于住建局职责，退回"
          })
      }
      #expect(back.departmentCode == "SCJGJ" && back.readers.map(\.departmentCode) == ["ZJJ"])
    }
  }

  @Test("首问负责: the first clerk stays responsible until a recorded hand-over to registered staff")
  func handOver() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.assignStaff("SCJGJ", "李娜", "A03")
      try await h.assignStaff("SCJGJ", "张伟", "A03")
      let n = try await h.cases { try await $0.submitCase(.sample()).number }
      func handOver(_ org: String, _ person: String, to: String, note: String = "外出培训，移交李娜") async -> RPCError? {
        await rpcError {
          _ = try await h.cases(.clerk, org, person) { cases in
            try await cases.handOverCase(
              .with {
                $0.number = n
                $0.to = .with {
                  $0.organization = "SCJGJ"
                  $0.person = to
                }
                $0.note = note
              })
          }
        }
      }
      let audit = try h.auditCount()
      #expect(await handOver("SCJGJ", "王五", to: "李娜")?.code == .permissionDenied)
      let unknown = await handOver("SCJGJ", "张伟", to: "无此人")
      #expect(unknown?.code == .invalidArgument)
      #expect(errorField(unknown) == "to")
      #expect(await handOver("SCJGJ", "张伟", to: "李娜", note: " ")?.code == .invalidArgument)
      #expect(try h.auditCount() == audit)

      #expect(await handOver("SCJGJ", "张伟", to: "李娜") == nil)
      let after = try await h.cases { try await $0.getCase(.with { $0.number = n }) }
      #expect(after.firstResponder.person == "张伟")
      #expect(after.responsible.person == "李娜")
      #expect(after.version == 2)
      #expect(try Self.auditDetail(h, "case.hand_over", n)?.contains("外出培训") == true)
      let history = try await h.cases { try await $0.getCaseHistory(.with { $0.number = n }) }
      #expect(history.events.last?.action == "hand_over")
      // The former responsible clerk can no longer hand it over; the office can, to someone else.
      #expect(await handOver("SCJGJ", "张伟", to: "张伟")?.code == .permissionDenied)
      func byOffice(to person: String) async -> Result<Banjie_V1_Case, RPCError> {
        do {
          return .success(
            try await h.cases(.office, "YSB", "李明") { cases in
              try await cases.handOverCase(
                .with {
                  $0.number = n
                  $0.to = .with {
                    $0.organization = "SCJGJ"
                    $0.person = person
                  }
                  $0.note = "李娜休假，交回张伟"
                })
            })
        } catch let error as RPCError { return .failure(error) } catch { return .failure(RPCError(code: .unknown, message: "\(error)")) }
      }
      guard case .failure(let same) = await byOffice(to: "李娜") else {
        Issue.record("handing over to the responsible clerk was accepted")
        return
      }
      #expect(same.code == .invalidArgument)
      let back = try await byOffice(to: "张伟").get()
      #expect(back.responsible.person == "张伟" && back.firstResponder.person == "张伟" && back.version == 3)
    }
  }

  @Test("帮办代办: a registered helper takes the applicant's steps the item allows, each recorded on the applicant's behalf")
  func helper() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.registerWindow("G01", ["GAJ"])
      try await h.assignStaff("GAJ", "王帮办", "G01")
      let (n, personal) = try await h.cases { cases in
        let n = try await cases.submitCase(.sample(uscc: Self.enterprise)).number
        let personal = try await cases.submitCase(.sample()).number
        return (n, personal)
      }
      func assign(
        _ number: String, _ org: String, _ person: String, as caller: (PeerIdentity.Role, String, String) = (.clerk, "SCJGJ", "张伟")
      )
        async -> RPCError?
      {
        await rpcError {
          _ = try await h.cases(caller.0, caller.1, caller.2) { cases in
            try await cases.assignHelper(
              .with {
                $0.number = number
                $0.helper = .with {
                  $0.organization = org
                  $0.person = person
                }
              })
          }
        }
      }
      #expect(await assign(personal, "GAJ", "王帮办")?.code == .failedPrecondition)
      let unknown = await assign(n, "GAJ", "不在册")
      #expect(unknown?.code == .invalidArgument)
      #expect(await assign(n, "GAJ", "王帮办", as: (.clerk, "ZJJ", "赵建"))?.code == .permissionDenied)
      #expect(await assign(n, "GAJ", "王帮办") == nil)

      // The helper reads the case; the department asks for materials; the helper hands them in.
      try await h.cases(.clerk, "SCJGJ", "张伟") { cases in
        _ = try await cases.requestSupplement(.number(n) { $0.missingMaterials = ["营业执照复印件"] })
      }
      try await h.cases(.clerk, "GAJ", "王帮办") { cases in
        let read = try await cases.getCase(.with { $0.number = n })
        #expect(read.helper.person == "王帮办")
        let supplied = try await cases.supplementReceived(.number(n))
        #expect(supplied.state == .received)
        let history = try await cases.getCaseHistory(.with { $0.number = n })
        #expect(history.events.last?.note.contains("on behalf of 王小二") == true)
        #expect(history.events.last?.actorPerson == "王帮办")
        // Not a step of the applicant's, and WITHDRAW is not allowed for this item.
        let accept = await rpcError { _ = try await cases.acceptCase(.number(n)) }
        #expect(accept?.code == .permissionDenied)
        let withdraw = await rpcError { _ = try await cases.withdrawCase(.number(n)) }
        #expect(withdraw?.code == .permissionDenied)
        #expect(withdraw?.message.contains("SCJGJ-003") == true)
      }
      #expect(try Self.auditDetail(h, "case.supplementReceived", n)?.contains("on_behalf_of") == true)
      // COLLECT is allowed: the helper collects the result.
      try await h.cases { cases in
        _ = try await cases.acceptCase(.number(n))
        _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
      }
      let collected = try await h.cases(.clerk, "GAJ", "王帮办") { try await $0.deliverCase(.number(n)) }
      #expect(collected.state == .delivered)
      // A finished case takes no new helper.
      #expect(await assign(n, "GAJ", "王帮办", as: (.office, "YSB", "李明"))?.code == .failedPrecondition)
    }
  }

  @Test("the rating code is in SubmitCase's answer only; reads leave it out; GetRatingCode is scoped and audited")
  func ratingCodeVisibility() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.registerWindow("Z01", ["SCJGJ"], comprehensive: true)
      try await h.assignStaff("SCJGJ", "综合受理员", "Z01")
      let submitted = try await h.cases { try await $0.submitCase(.sample()) }
      #expect(submitted.ratingCode.count == 8)
      let n = submitted.number
      try await h.cases { cases in
        #expect(try await cases.getCase(.with { $0.number = n }).ratingCode.isEmpty)
        #expect(try await cases.listCases(.with { _ in }).cases.allSatisfy { $0.ratingCode.isEmpty })
        #expect(try await cases.acceptCase(.number(n)).ratingCode.isEmpty)
        let audit = try h.auditCount()
        #expect(try await cases.getRatingCode(.with { $0.number = n }).ratingCode == submitted.ratingCode)
        #expect(try h.auditCount() == audit + 1)
        #expect(try Self.auditDetail(h, "case.rating_code_shown", n) != nil)
      }
      // Another department may not; nor an enterprise (not even its own case's, by this call).
      let other = await rpcError { _ = try await h.cases(.clerk, "ZJJ", "赵建") { try await $0.getRatingCode(.with { $0.number = n }) } }
      #expect(other?.code == .permissionDenied)
      // The receiving department of a comprehensive-window case prints the receipt too.
      let routed = try await h.submit("ZJJ-001", at: "Z01", "SCJGJ", "综合受理员")
      let code = try await h.cases(.clerk, "SCJGJ", "综合受理员") { try await $0.getRatingCode(.with { $0.number = routed.number }) }
      #expect(code.ratingCode == routed.ratingCode && !code.ratingCode.isEmpty)
    }
  }

  @Test("scopes: a stranger lists none of it; a transfer reader may not deliver; the responsible clerk reads wherever they work")
  func scopes() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.registerWindow("Z01", ["SCJGJ"], comprehensive: true)
      try await h.registerWindow("G01", ["GAJ"])
      try await h.assignStaff("SCJGJ", "综合受理员", "Z01")
      try await h.assignStaff("GAJ", "路人", "G01")
      let routed = try await h.submit("ZJJ-001", at: "Z01", "SCJGJ", "综合受理员")
      let strangers = try await h.cases(.clerk, "GAJ", "路人") { try await $0.listCases(.with { _ in }) }
      #expect(!strangers.cases.contains { $0.number == routed.number })
      #expect(strangers.total == 0)

      // SCJGJ transfers its own case to ZJJ: it reads it, but delivering is not its step.
      let n = try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        _ = try await cases.acceptCase(.number(n))
        _ = try await cases.transferCase(
          .number(n) {
            $0.toDepartment = "ZJJ"
            $0.note = "转住建局"
          })
        return n
      }
      try await h.cases(.clerk, "ZJJ", "赵建") { cases in
        _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
      }
      let deliver = await rpcError { _ = try await h.cases { try await $0.deliverCase(.number(n)) } }
      #expect(deliver?.code == .permissionDenied)

      // A stranger asking to hand the case over learns nothing about who is responsible.
      let handOver = await rpcError {
        _ = try await h.cases(.clerk, "GAJ", "路人") { cases in
          try await cases.handOverCase(
            .with {
              $0.number = routed.number
              $0.to = .with {
                $0.organization = "GAJ"
                $0.person = "路人"
              }
              $0.note = "接手"
            })
        }
      }
      #expect(handOver?.code == .permissionDenied)
      #expect(handOver?.message.contains("综合受理员") == false)
      // Handed over to a registered clerk of GAJ, who now reads the ZJJ case.
      _ = try await h.cases(.clerk, "SCJGJ", "综合受理员") { cases in
        try await cases.handOverCase(
          .with {
            $0.number = routed.number
            $0.to = .with {
              $0.organization = "GAJ"
              $0.person = "路人"
            }
            $0.note = "由公安窗口跟进"
          })
      }
      let read = try await h.cases(.clerk, "GAJ", "路人") { try await $0.getCase(.with { $0.number = routed.number }) }
      #expect(read.responsible.person == "路人")
    }
  }

  @Test("a pad guessing codes is refused after 10 wrong ones in 10 minutes, even with the right one; then tries again")
  func codeGuessing() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      _ = try await h.registerPad("PAD-A03-1", at: "A03")
      let served = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")
      for _ in 0..<10 {
        let wrong = await rpcError {
          _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.redeeming(served.number, 5, RatingPadTests.wrong(served.code))) }
        }
        #expect(wrong?.code == .invalidArgument)
      }
      let refused = await rpcError {
        _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.redeeming(served.number, 5, served.code)) }
      }
      #expect(refused?.code == .resourceExhausted)
      #expect(errorField(refused) == "rating_code")
      #expect(try h.rows("ratings") == 0)
      h.clock.advance(seconds: 601)
      let rated = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.redeeming(served.number, 5, served.code)) }
      #expect(rated.via == .code)
    }
  }
}
