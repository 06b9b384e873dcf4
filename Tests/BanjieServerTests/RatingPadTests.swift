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
  /// Registers a rating pad at a window as the office.
  @discardableResult
  func registerPad(_ id: String, at window: String) async throws -> Banjie_V1_RatingDevice {
    try await self.registry {
      try await $0.registerRatingDevice(
        .with {
          $0.deviceID = id
          $0.windowCode = window
        })
    }
  }

  /// Makes a clerk a head of their department (or no longer) as the office.
  @discardableResult
  func assignHead(_ department: String, _ person: String, remove: Bool = false) async throws -> Banjie_V1_DepartmentHead {
    try await self.registry {
      try await $0.assignDepartmentHead(
        .with {
          $0.departmentCode = department
          $0.person = person
          $0.remove = remove
        })
    }
  }

  /// The rating service as the rating pad `device` whose certificate names `window`.
  func pad<R: Sendable>(
    _ window: String, _ device: String, _ body: (Banjie_V1_RatingService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.ratings(.pad, window, device, body)
  }

  /// A minute after the last one, a case of `item` submitted at `window`, accepted and completed
  /// by `person` of `department` (so served at that window); its number and the rating code on
  /// its receipt.
  func servedCase(item: String, department: String, window: String, uscc: String = "", person: String = "张伟") async throws
    -> (number: String, code: String)
  {
    self.clock.advance(seconds: 60)
    return try await self.cases(.clerk, department, person) { cases in
      let submitted = try await cases.submitCase(
        .with {
          $0.itemCode = item
          $0.applicant = "王小二"
          $0.window = window
          $0.enterpriseUscc = uscc
        })
      _ = try await cases.acceptCase(.number(submitted.number))
      _ = try await cases.completeCase(.number(submitted.number) { $0.outcome = "approved" })
      return (submitted.number, submitted.ratingCode)
    }
  }

  /// Runs one statement on the server's database directly, to make a row as an earlier release
  /// left it (on either engine).
  func writeDatabase(_ sql: String, _ arguments: [any DatabaseValueConvertible] = []) throws {
    if let postgres = self.postgres {
      try PostgresSnapshot.execute(postgres, sql, arguments.map(\.databaseValue))
      return
    }
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    let queue = try DatabaseQueue(path: self.databasePath, configuration: configuration)
    try queue.write { try $0.execute(sql: sql, arguments: StatementArguments(arguments.map(\.databaseValue))) }
  }

  /// The audit rows of one entity, oldest first, as "action actor".
  func auditTrail(_ entityID: String) throws -> [String] {
    try self.database {
      try Row.fetchAll($0, sql: "SELECT action, actor_person FROM audit_log WHERE entity_id = ? ORDER BY id", arguments: [entityID])
        .map { "\($0["action"] as String) \($0["actor_person"] as String)" }
    }
  }
}

extension Banjie_V1_RateCaseRequest {
  /// A rating that redeems the receipt's rating code.
  static func redeeming(_ number: String, _ level: UInt32, _ code: String, _ comment: String = "") -> Self {
    .with {
      $0.caseNumber = number
      $0.level = level
      $0.comment = comment
      $0.ratingCode = code
    }
  }
}

@Suite("Rating pads, rating codes and independent rectification (docs/DOMAIN.md §21)", .timeLimit(.minutes(10)))
struct RatingPadTests {
  let a = testUSCC(701)
  let b = testUSCC(702)

  /// The stable error code the server sent.
  static func code(_ error: RPCError?) -> String? {
    error?.metadata[stringValues: "banjie-error-code"].first(where: { _ in true })
  }

  /// Another code of the alphabet that differs from `code` in its last character only.
  static func wrong(_ code: String) -> String {
    let last = code.utf8.last ?? 0
    let replacement = RatingCode.alphabet.first { $0 != last } ?? 0x32
    return String(code.dropLast()) + String(decoding: [replacement], as: UTF8.self)
  }

  /// Windows A03 (SCJGJ) and B01 (ZJJ) with a pad each.
  static func hall(_ h: ServerHarness) async throws {
    try await h.registerWindow("A03", ["SCJGJ"])
    try await h.registerWindow("B01", ["ZJJ"])
    try await h.registerPad("PAD-A03-1", at: "A03")
    try await h.registerPad("PAD-B01-1", at: "B01")
  }

  @Test("a pad rates the case its window served last, once; another window's or an earlier case is refused")
  func padRatesWhatItServed() async throws {
    try await ServerHarness.run { h in
      try await Self.hall(h)
      let earlier = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")
      let last = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")
      let elsewhere = try await h.servedCase(item: "ZJJ-001", department: "ZJJ", window: "B01", person: "赵敏")
      let served = try h.database {
        try Row.fetchAll($0, sql: "SELECT number, served_window FROM cases ORDER BY id").map {
          "\($0["number"] as String) \($0["served_window"] as String)"
        }
      }
      #expect(served == ["\(earlier.number) A03", "\(last.number) A03", "\(elsewhere.number) B01"])

      let rating = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(last.number, 5, tags: ["热情"])) }
      #expect(rating.via == .pad && rating.device == "PAD-A03-1" && rating.uscc.isEmpty && rating.level == 5 && !rating.bad)
      let again = await rpcError { _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(last.number, 4)) } }
      #expect(again?.code == .alreadyExists)

      // An earlier case of its own window, another window's case and a case that does not exist
      // are refused alike, so the pad learns nothing about them.
      for number in [earlier.number, elsewhere.number, "370830-20261130-999999"] {
        let refused = await rpcError { _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(number, 5)) } }
        #expect(refused?.code == .permissionDenied, "\(number)")
        #expect(Self.code(refused) == "pad.not_served_here", "\(number)")
      }
      let other = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.of(elsewhere.number, 4)) }
      #expect(other.via == .pad && other.device == "PAD-B01-1")

      // The rows, read independently, and what the office and `rating show` read.
      let rows = try h.database {
        try Row.fetchAll($0, sql: "SELECT case_number, uscc, via, device, rated_by FROM ratings ORDER BY case_number").map {
          [$0["case_number"], $0["uscc"], $0["via"], $0["device"], $0["rated_by"]] as [String]
        }
      }
      #expect(rows == [[last.number, "", "PAD", "PAD-A03-1", "PAD-A03-1"], [elsewhere.number, "", "PAD", "PAD-B01-1", "PAD-B01-1"]])
      let shown = try await h.ratings(.office, "YSB", "李明") { try await $0.getRating(.with { $0.caseNumber = last.number }) }
      #expect(shown.via == .pad && shown.device == "PAD-A03-1")
      let audit = try h.database {
        try String.fetchOne(
          $0, sql: "SELECT detail FROM audit_log WHERE action = 'rating.create' AND entity_id = ?", arguments: [last.number])
      }
      #expect(audit?.contains("\"via\":\"PAD\"") == true && audit?.contains("PAD-A03-1") == true)
    }
  }

  @Test("an unregistered, retired or moved pad is refused naming the device; a pad calls nothing but RateCase")
  func padRegistry() async throws {
    try await ServerHarness.run { h in
      try await Self.hall(h)
      let served = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")

      let ghost = await rpcError { _ = try await h.pad("A03", "PAD-GHOST") { try await $0.rateCase(.of(served.number, 5)) } }
      #expect(ghost?.code == .permissionDenied && Self.code(ghost) == "pad.unregistered")
      #expect(ghost?.message.contains("PAD-GHOST") == true)
      // Before the request is looked at: an empty one is refused the same way, not INVALID_ARGUMENT.
      let empty = await rpcError { _ = try await h.pad("A03", "PAD-GHOST") { try await $0.rateCase(.init()) } }
      #expect(empty?.code == .permissionDenied && Self.code(empty) == "pad.unregistered")
      // A certificate naming another window than the pad is registered at.
      let moved = await rpcError { _ = try await h.pad("B01", "PAD-A03-1") { try await $0.rateCase(.of(served.number, 5)) } }
      #expect(moved?.code == .permissionDenied && Self.code(moved) == "pad.wrong_window")
      #expect(moved?.message.contains("PAD-A03-1") == true)

      let retired = try await h.registry { try await $0.retireRatingDevice(.with { $0.deviceID = "pad-ａ03-1" }) }
      #expect(retired.deviceID == "PAD-A03-1" && retired.hasRetiredAt)
      let late = await rpcError { _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(served.number, 5)) } }
      #expect(late?.code == .permissionDenied && Self.code(late) == "pad.retired")
      #expect(late?.message.contains("PAD-A03-1") == true)
      #expect(try h.rows("ratings") == 0)

      // The registry's own refusals name the field; nothing is written for them.
      let auditBefore = try h.rows("audit_log")
      try await h.registry { registry in
        let twice = await rpcError { _ = try await registry.retireRatingDevice(.with { $0.deviceID = "PAD-A03-1" }) }
        #expect(twice?.code == .failedPrecondition && errorField(twice) == "device_id")
        let again = await rpcError {
          _ = try await registry.registerRatingDevice(
            .with {
              $0.deviceID = "PAD-A03-1"
              $0.windowCode = "A03"
            })
        }
        #expect(again?.code == .alreadyExists && errorField(again) == "device_id")
        let unknown = await rpcError { _ = try await registry.retireRatingDevice(.with { $0.deviceID = "PAD-X" }) }
        #expect(unknown?.code == .notFound)
        let noWindow = await rpcError {
          _ = try await registry.registerRatingDevice(
            .with {
              $0.deviceID = "PAD-C01-1"
              $0.windowCode = "C01"
            })
        }
        #expect(noWindow?.code == .invalidArgument && errorField(noWindow) == "window_code")
        let badID = await rpcError {
          _ = try await registry.registerRatingDevice(
            .with {
              $0.deviceID = "-平板"
              $0.windowCode = "A03"
            })
        }
        #expect(badID?.code == .invalidArgument && errorField(badID) == "device_id")
      }
      #expect(try h.rows("audit_log") == auditBefore)
      // Clerks list the pads in service; --all adds the retired ones. Enterprises may not.
      let inService = try await h.registry(.clerk, "SCJGJ", "张伟") { try await $0.listRatingDevices(.init()).devices.map(\.deviceID) }
      #expect(inService == ["PAD-B01-1"])
      let all = try await h.registry { try await $0.listRatingDevices(.with { $0.includeRetired = true }).devices.map(\.deviceID) }
      #expect(all == ["PAD-A03-1", "PAD-B01-1"])
      #expect(
        await rpcError { _ = try await h.registry(.enterprise, self.a, "张总") { try await $0.listRatingDevices(.init()) } }?.code
          == .permissionDenied)

      // A registered pad in service may call RateCase only.
      try await h.registerPad("PAD-A03-2", at: "A03")
      let read = await rpcError {
        _ = try await h.cases(.pad, "A03", "PAD-A03-2") { try await $0.getCase(.with { $0.number = served.number }) }
      }
      #expect(read?.code == .permissionDenied && Self.code(read) == "pad.rpc_not_allowed")
      let list = await rpcError { _ = try await h.pad("A03", "PAD-A03-2") { try await $0.listRectifications(.init()) } }
      #expect(list?.code == .permissionDenied && Self.code(list) == "pad.rpc_not_allowed")
      let windows = await rpcError { _ = try await h.registry(.pad, "A03", "PAD-A03-2") { try await $0.listWindows(.init()) } }
      #expect(windows?.code == .permissionDenied)
      let rated = try await h.pad("A03", "PAD-A03-2") { try await $0.rateCase(.of(served.number, 3)) }
      #expect(rated.via == .pad && rated.device == "PAD-A03-2")

      let audit = try h.database {
        try Row.fetchAll($0, sql: "SELECT action, entity_id FROM audit_log WHERE entity = 'rating_device' ORDER BY id").map {
          "\($0["action"] as String) \($0["entity_id"] as String)"
        }
      }
      #expect(
        audit == [
          "rating_device.register PAD-A03-1", "rating_device.register PAD-B01-1", "rating_device.retire PAD-A03-1",
          "rating_device.register PAD-A03-2",
        ])
    }
  }

  @Test("a rating code is redeemed once, on any pad or by the case's enterprise, until the rating window closes")
  func ratingCodes() async throws {
    try await ServerHarness.run { h in
      try await Self.hall(h)
      let natural = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")
      let firm = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a)
      let later = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a)
      for code in [natural.code, firm.code, later.code] {
        #expect(code.utf8.count == 8 && code.utf8.allSatisfy { RatingCode.alphabet.contains($0) }, "\(code)")
      }
      #expect(Set([natural.code, firm.code, later.code]).count == 3)

      // A wrong code and a case that does not exist read the same, and nothing is written.
      let auditBefore = try h.rows("audit_log")
      let wrong = await rpcError {
        _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming(natural.number, 5, Self.wrong(natural.code))) }
      }
      #expect(wrong?.code == .invalidArgument && errorField(wrong) == "rating_code" && Self.code(wrong) == "rating.code_mismatch")
      let nowhere = await rpcError {
        _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming("370830-20261130-999999", 5, natural.code)) }
      }
      #expect(nowhere?.code == .invalidArgument && errorField(nowhere) == "rating_code" && Self.code(nowhere) == "rating.code_mismatch")
      let wrongText = wrong?.message.replacingOccurrences(of: natural.number, with: "N")
      #expect(wrongText != nil && wrongText == nowhere?.message.replacingOccurrences(of: "370830-20261130-999999", with: "N"))
      let malformed = await rpcError {
        _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming(natural.number, 5, "ABC")) }
      }
      #expect(malformed?.code == .invalidArgument && errorField(malformed) == "rating_code")
      #expect(Self.code(malformed) == "rating.code_malformed")
      #expect(try h.rows("ratings") == 0)
      #expect(try h.rows("audit_log") == auditBefore)

      // Redeemed on another window's pad, typed in lower case with a space; a 差评 needs its comment.
      let typed = String(natural.code.lowercased().prefix(4)) + " " + String(natural.code.lowercased().suffix(4))
      let bare = await rpcError { _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming(natural.number, 2, typed)) } }
      #expect(bare?.code == .invalidArgument && errorField(bare) == "comment")
      let key: Metadata = ["idempotency-key": "code-1"]
      let first = try await h.pad("B01", "PAD-B01-1") {
        try await $0.rateCase(.redeeming(natural.number, 2, typed, "等候时间过长"), metadata: key)
      }
      #expect(first.via == .code && first.device == "PAD-B01-1" && first.uscc.isEmpty && first.bad)
      #expect(first.rectificationNumber == "ZG-\(natural.number)")
      // The same key replays the first answer; the code itself is used.
      let replay = try await h.pad("B01", "PAD-B01-1") {
        try await $0.rateCase(.redeeming(natural.number, 2, typed, "等候时间过长"), metadata: key)
      }
      #expect(replay == first)
      #expect(try h.rows("rectifications") == 1)
      let used = await rpcError {
        _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming(natural.number, 5, natural.code)) }
      }
      #expect(used?.code == .alreadyExists)

      // The enterprise redeems its own case's code; another enterprise may not, code or not.
      let stranger = await rpcError {
        _ = try await h.ratings(.enterprise, self.b) { try await $0.rateCase(.redeeming(firm.number, 5, firm.code)) }
      }
      #expect(stranger?.code == .permissionDenied)
      let redeemed = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.redeeming(firm.number, 4, firm.code)) }
      #expect(redeemed.via == .code && redeemed.device.isEmpty && redeemed.uscc == self.a)
      let reused = await rpcError {
        _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.redeeming(firm.number, 4, firm.code)) }
      }
      #expect(reused?.code == .alreadyExists)

      // The code expires with the rating window: 15 days after completion.
      h.clock.advance(seconds: 15 * 86_400 + 60)
      let expired = await rpcError {
        _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming(later.number, 5, later.code)) }
      }
      #expect(expired?.code == .failedPrecondition && errorField(expired) == "rating_code" && Self.code(expired) == "rating.code_expired")
      #expect(expired?.message.contains("15 days") == true)

      // A case received before rating codes existed has none to redeem: its enterprise is told so;
      // a pad learns nothing (the same answer as a wrong code), so it cannot find old cases.
      let old = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a)
      try h.writeDatabase("UPDATE cases SET rating_code = '' WHERE number = ?", [old.number])
      let padNone = await rpcError {
        _ = try await h.pad("B01", "PAD-B01-1") { try await $0.rateCase(.redeeming(old.number, 5, old.code)) }
      }
      #expect(padNone?.code == .invalidArgument && Self.code(padNone) == "rating.code_mismatch")
      let none = await rpcError {
        _ = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.redeeming(old.number, 5, old.code)) }
      }
      #expect(none?.code == .failedPrecondition && errorField(none) == "rating_code" && Self.code(none) == "rating.no_code")

      let rows = try h.database {
        try Row.fetchAll($0, sql: "SELECT case_number, via, device, uscc FROM ratings ORDER BY case_number").map {
          [$0["case_number"], $0["via"], $0["device"], $0["uscc"]] as [String]
        }
      }
      #expect(rows == [[natural.number, "CODE", "PAD-B01-1", ""], [firm.number, "CODE", "", self.a]])
    }
  }

  @Test("a rectification: the rated clerk neither verifies nor closes it; a head verifies; the enterprise confirms; then it closes")
  func independentRectification() async throws {
    try await ServerHarness.run { h in
      try await Self.hall(h)
      let served = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a, person: "张伟")
      let rating = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(served.number, 1, "窗口人员态度生硬")) }
      #expect(rating.via == .enterprise && rating.device.isEmpty)
      let number = rating.rectificationNumber
      let opened = try await h.ratings(.enterprise, self.a) { try await $0.getRectification(.with { $0.number = number }) }
      #expect(opened.ratedOrganization == "SCJGJ" && opened.ratedPerson == "张伟" && opened.confirmation == .unspecified)
      // Independently: the clerk rated is the actor of the case's completion.
      let completer = try h.database {
        try String.fetchOne(
          $0,
          sql: """
            SELECT e.actor_person FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = ? AND e.action = 'complete'
            """, arguments: [served.number])
      }
      #expect(completer == "张伟")
      let stored = try h.database {
        try Row.fetchOne($0, sql: "SELECT rated_org, rated_person, confirmation FROM rectifications WHERE number = ?", arguments: [number])
      }
      #expect(stored?["rated_org"] as String? == "SCJGJ" && stored?["rated_person"] as String? == "张伟")
      #expect(stored?["confirmation"] as String? == "")

      // 张伟 is a head of SCJGJ, and still may not verify: his own work was rated.
      try await h.assignHead("SCJGJ", "张伟")
      let own = await rpcError {
        _ = try await h.ratings(.clerk, "SCJGJ", "张伟") { try await $0.verifyRectification(.of(number, "属实") { $0.valid = true }) }
      }
      #expect(own?.code == .permissionDenied && Self.code(own) == "rectification.rated_clerk")
      let notHead = await rpcError {
        _ = try await h.ratings(.clerk, "SCJGJ", "王芳") { try await $0.verifyRectification(.of(number, "属实") { $0.valid = true }) }
      }
      #expect(notHead?.code == .permissionDenied && Self.code(notHead) == "rectification.not_head")
      try await h.assignHead("SCJGJ", "王芳")
      let heads = try await h.registry(.clerk, "SCJGJ", "李四") {
        try await $0.listDepartmentHeads(.with { $0.departmentCode = "SCJGJ" }).heads.map(\.person)
      }
      #expect(heads.sorted() == ["张伟", "王芳"].sorted())

      try await h.ratings(.clerk, "SCJGJ", "王芳") { r in
        let verified = try await r.verifyRectification(.of(number, "调取窗口录像，情况属实") { $0.valid = true })
        #expect(verified.state == .verified && verified.verifiedBy.contains("王芳"))
        _ = try await r.rectifyRectification(.of(number, "约谈窗口人员，开展服务礼仪培训"))
        // Closing without the rater's confirmation says what is missing.
        let early = await rpcError { _ = try await r.closeRectification(.of(number, "")) }
        #expect(early?.code == .failedPrecondition && errorField(early) == "confirmation")
        #expect(Self.code(early) == "rectification.confirmation_missing" && early?.message.contains("confirmation") == true)
      }
      // The clerk rated may neither close it nor record the follow-up call.
      try await h.ratings(.clerk, "SCJGJ", "张伟") { r in
        let close = await rpcError { _ = try await r.closeRectification(.of(number, "")) }
        #expect(close?.code == .permissionDenied && Self.code(close) == "rectification.rated_clerk")
        let call = await rpcError { _ = try await r.followUpRectification(.of(number, "企业满意") { $0.satisfied = true }) }
        #expect(call?.code == .permissionDenied && Self.code(call) == "rectification.rated_clerk")
      }

      // Only the enterprise of the rated case confirms, in its own words.
      let other = await rpcError { _ = try await h.ratings(.enterprise, self.b) { try await $0.confirmRectification(.of(number, "满意")) } }
      #expect(other?.code == .permissionDenied && Self.code(other) == "rectification.not_the_rater")
      let wordless = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.confirmRectification(.of(number, " ")) } }
      #expect(wordless?.code == .invalidArgument && errorField(wordless) == "confirmation_note")
      let byClerk = await rpcError {
        _ = try await h.ratings(.clerk, "SCJGJ", "王芳") { try await $0.confirmRectification(.of(number, "满意")) }
      }
      #expect(byClerk?.code == .permissionDenied)
      let confirmed = try await h.ratings(.enterprise, self.a) { try await $0.confirmRectification(.of(number, "整改到位，满意")) }
      #expect(confirmed.confirmation == .rater && confirmed.confirmationNote == "整改到位，满意" && confirmed.state == .rectified)
      #expect(confirmed.hasConfirmedAt && confirmed.confirmedBy.contains(self.a))
      let twice = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.confirmRectification(.of(number, "再次确认")) } }
      #expect(twice?.code == .failedPrecondition && Self.code(twice) == "rectification.already_confirmed")

      let closed = try await h.ratings(.clerk, "SCJGJ", "王芳") { try await $0.closeRectification(.of(number, "")) }
      #expect(closed.state == .closed && closed.confirmation == .rater)

      #expect(
        try h.auditTrail(number) == [
          "rectification.open 测试员", "rectification.verify 王芳", "rectification.rectify 王芳", "rectification.confirm 测试员",
          "rectification.close 王芳",
        ])
      #expect(try h.auditTrail("SCJGJ/张伟") == ["department_head.assign 李明"])
      #expect(try h.auditTrail("SCJGJ/王芳") == ["department_head.assign 李明"])
    }
  }

  @Test("a natural person's 差评 on the pad: nobody confirms with a certificate, the office signs off with a reason, then it closes")
  func officeSignOff() async throws {
    try await ServerHarness.run { h in
      try await Self.hall(h)
      let served = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")
      let bare = await rpcError { _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(served.number, 1)) } }
      #expect(bare?.code == .invalidArgument && errorField(bare) == "comment")
      let rating = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(served.number, 2, "材料退回三次")) }
      #expect(rating.bad && rating.uscc.isEmpty)
      let number = rating.rectificationNumber
      try await h.assignHead("SCJGJ", "王芳")
      try await h.ratings(.clerk, "SCJGJ", "王芳") { r in
        _ = try await r.verifyRectification(.of(number, "情况属实") { $0.valid = true })
        _ = try await r.rectifyRectification(.of(number, "推行材料一次性告知"))
      }
      // The rater has no certificate: no enterprise may confirm; the department may not sign off.
      let firm = await rpcError { _ = try await h.ratings(.enterprise, self.a) { try await $0.confirmRectification(.of(number, "满意")) } }
      #expect(firm?.code == .permissionDenied)
      let clerk = await rpcError {
        _ = try await h.ratings(.clerk, "SCJGJ", "王芳") { try await $0.signOffRectification(.of(number, "联系不上")) }
      }
      #expect(clerk?.code == .permissionDenied)
      try await h.ratings(.office, "YSB", "李明") { r in
        let reasonless = await rpcError { _ = try await r.signOffRectification(.of(number, "")) }
        #expect(reasonless?.code == .invalidArgument && errorField(reasonless) == "reason")
        let early = await rpcError { _ = try await r.closeRectification(.of(number, "")) }
        #expect(early?.code == .failedPrecondition && errorField(early) == "confirmation")
        let signed = try await r.signOffRectification(.of(number, "三次电话回访均未接通"))
        #expect(signed.confirmation == .office && signed.confirmationNote == "三次电话回访均未接通" && signed.confirmedBy.contains("李明"))
        let closed = try await r.closeRectification(.of(number, "营商办代为确认后办结"))
        #expect(closed.state == .closed)
      }
      #expect(
        try h.auditTrail(number) == [
          "rectification.open PAD-A03-1", "rectification.verify 王芳", "rectification.rectify 王芳", "rectification.sign_off 李明",
          "rectification.close 李明",
        ])
      let detail = try h.database {
        try String.fetchOne(
          $0, sql: "SELECT detail FROM audit_log WHERE action = 'rectification.sign_off' AND entity_id = ?", arguments: [number])
      }
      #expect(detail?.contains("三次电话回访均未接通") == true && detail?.contains("OFFICE") == true)
    }
  }

  @Test("a follow-up call confirms only when the rater is satisfied; the office may verify")
  func followUpConfirms() async throws {
    try await ServerHarness.run { h in
      try await Self.hall(h)
      let unhappy = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a)
      let happy = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03", uscc: self.a)
      let first = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(unhappy.number, 2, "多跑了一次")) }.rectificationNumber
      let second = try await h.ratings(.enterprise, self.a) { try await $0.rateCase(.of(happy.number, 1, "超时未办")) }.rectificationNumber
      try await h.assignHead("SCJGJ", "王芳")
      try await h.ratings(.clerk, "SCJGJ", "王芳") { r in
        _ = try await r.verifyRectification(.of(first, "申请材料不全，已一次性告知") { $0.valid = false })
        let called = try await r.followUpRectification(.of(first, "企业仍不满意") { $0.satisfied = false })
        #expect(called.state == .followedUp && called.confirmation == .unspecified)
        let refused = await rpcError { _ = try await r.closeRectification(.of(first, "")) }
        #expect(refused?.code == .failedPrecondition && Self.code(refused) == "rectification.confirmation_missing")
      }
      // The office verifies too.
      let verified = try await h.ratings(.office, "YSB", "李明") { try await $0.verifyRectification(.of(second, "属实") { $0.valid = true }) }
      #expect(verified.state == .verified && verified.verifiedBy.contains("李明"))
      try await h.ratings(.clerk, "SCJGJ", "王芳") { r in
        _ = try await r.rectifyRectification(.of(second, "建立超时预警提醒"))
        let called = try await r.followUpRectification(.of(second, "电话回访，企业认可整改") { $0.satisfied = true })
        #expect(called.confirmation == .followUp && called.confirmationNote == "电话回访，企业认可整改")
        let closed = try await r.closeRectification(.of(second, ""))
        #expect(closed.state == .closed)
      }
      #expect(try h.auditTrail(second).last == "rectification.close 王芳")
      let stored = try h.database {
        try String.fetchAll($0, sql: "SELECT confirmation FROM rectifications ORDER BY number").sorted()
      }
      #expect(stored == ["", "FOLLOW_UP"])
    }
  }

  @Test("a delivery at another window moves the case to that window's pad")
  func deliveryWindow() async throws {
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.registerWindow("Z01", [], comprehensive: true)
      try await h.registerPad("PAD-A03-1", at: "A03")
      try await h.registerPad("PAD-Z01-1", at: "Z01")
      let served = try await h.servedCase(item: "SCJGJ-003", department: "SCJGJ", window: "A03")
      h.clock.advance(seconds: 60)
      let delivered = try await h.cases(.clerk, "SCJGJ", "张伟") {
        try await $0.deliverCase(.number(served.number) { $0.deliveryWindow = "Z01" })
      }
      #expect(delivered.servedWindow == "Z01")
      let before = await rpcError { _ = try await h.pad("A03", "PAD-A03-1") { try await $0.rateCase(.of(served.number, 5)) } }
      #expect(before?.code == .permissionDenied && Self.code(before) == "pad.not_served_here")
      let rating = try await h.pad("Z01", "PAD-Z01-1") { try await $0.rateCase(.of(served.number, 5)) }
      #expect(rating.via == .pad && rating.device == "PAD-Z01-1")
    }
  }
}
