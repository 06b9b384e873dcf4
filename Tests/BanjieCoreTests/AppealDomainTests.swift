import Foundation
import Testing

@testable import BanjieCore

/// 群众诉求 rules (docs/DOMAIN.md §24).
@Suite("Citizens' appeal rules")
struct AppealDomainTests {
  let clock = try! SLAClock(calendar: .standard)

  @Test(
    "first contact is due the close of the first working day after the assignment, across holidays and make-up days",
    arguments: [
      // Spring Festival 2026 (16–20 and 23 February), make-up Saturdays 14 and 28 February.
      ("2026-02-13 10:00", 1, "2026-02-14 17:00"),
      // Assigned on the make-up Saturday: the festival and its weekend are skipped.
      ("2026-02-14 10:00", 1, "2026-02-24 17:00"),
      // National Day 2026: 1, 2, 5, 6, 7 October are holidays, Saturday 10 October a make-up day.
      ("2026-09-30 10:00", 1, "2026-10-08 17:00"),
      ("2026-10-09 16:00", 1, "2026-10-10 17:00"),
      // Mid-Autumn: Friday 25 September is a holiday.
      ("2026-09-24 10:00", 1, "2026-09-28 17:00"),
      // A response limit of 2 set by the office.
      ("2026-02-13 10:00", 2, "2026-02-24 17:00"),
    ])
  func responseDeadlines(_ row: (String, Int, String)) throws {
    let work = AppealRules.timedWork(responseFrom: at(row.0), limitWorkingDays: row.1, contactedAt: nil)
    let status = try self.clock.status(of: work, now: at(row.0))
    #expect(local(status.due) == local(at(row.2)), "\(row.0) + \(row.1) working days")
    #expect(status.colour == .green)
  }

  @Test(
    "each category's default resolution limit, counted across holidays and make-up days",
    arguments: [
      (AppealCategory.consultation, "2026-09-24 10:00", "2026-09-28 17:00"),
      // 28, 29, 30 September, 8 and 9 October.
      (.help, "2026-09-24 10:00", "2026-10-09 17:00"),
      (.complaint, "2026-02-13 10:00", "2026-02-27 17:00"),
      // 14 (make-up), 24–27, 28 (make-up) February, 2–6 and 9–12 March.
      (.report, "2026-02-13 10:00", "2026-03-12 17:00"),
      // 8, 9, 10 (make-up), 12–16, 19 and 20 October.
      (.suggestion, "2026-09-30 10:00", "2026-10-20 17:00"),
    ])
  func resolutionDeadlines(_ row: (AppealCategory, String, String)) throws {
    let limits = AppealResolutionLimits()
    #expect(limits[row.0] == row.0.defaultResolutionWorkingDays)
    let work = AppealRules.timedWork(resolutionFrom: at(row.1), limitWorkingDays: limits[row.0], resolvedAt: nil)
    #expect(local(try self.clock.status(of: work, now: at(row.1)).due) == local(at(row.2)), "\(row.0)")
  }

  @Test("the defaults are 1, 5, 5, 15 and 10 working days, and the first contact 1")
  func defaults() {
    #expect(AppealCategory.allCases.map(\.defaultResolutionWorkingDays) == [1, 5, 5, 15, 10])
    #expect(AppealRules.defaultResponseWorkingDays == 1)
    let settings = CountySettings()
    #expect(settings.appealResponseWorkingDays == 1)
    #expect(settings.text(of: .appealResolutionLimits) == "consultation:1,help:5,complaint:5,report:15,suggestion:10")
  }

  @Test("the response clock turns yellow at 80 % and red past its deadline; the first contact stops it")
  func responseColours() throws {
    let assigned = at("2026-03-02 09:00")
    let waiting = AppealRules.timedWork(responseFrom: assigned, limitWorkingDays: 1, contactedAt: nil)
    // Due Tue 2026-03-03 17:00; a budget of 14 h, yellow from 11.2 h: Tuesday 14:12.
    #expect(try self.clock.status(of: waiting, now: at("2026-03-03 14:00")).colour == .green)
    #expect(try self.clock.status(of: waiting, now: at("2026-03-03 14:15")).colour == .yellow)
    #expect(try self.clock.status(of: waiting, now: at("2026-03-04 09:00")).colour == .red)
    let contacted = AppealRules.timedWork(responseFrom: assigned, limitWorkingDays: 1, contactedAt: at("2026-03-03 16:00"))
    let status = try self.clock.status(of: contacted, now: at("2026-03-10 09:00"))
    #expect(status.colour == .green && status.completedOnTime == true)
  }

  @Test("the resolution clock stops at the resolution, not at the first contact")
  func clockStopsAtResolution() throws {
    let assigned = at("2026-03-02 09:00")
    // Contacted within the hour: the response is on time, the matter is not resolved.
    let response = AppealRules.timedWork(responseFrom: assigned, limitWorkingDays: 1, contactedAt: at("2026-03-02 10:00"))
    let resolution = AppealRules.timedWork(resolutionFrom: assigned, limitWorkingDays: 1, resolvedAt: nil)
    let later = at("2026-03-04 09:00")
    #expect(try self.clock.status(of: response, now: later).completedOnTime == true)
    let open = try self.clock.status(of: resolution, now: later)
    #expect(open.colour == .red && open.completedOnTime == nil)
    // Resolved a day late: on time false, and the colour of finished work is green.
    let late = AppealRules.timedWork(resolutionFrom: assigned, limitWorkingDays: 1, resolvedAt: at("2026-03-04 10:00"))
    let done = try self.clock.status(of: late, now: at("2026-03-05 09:00"))
    #expect(done.completedOnTime == false && done.colour == .green)
  }

  @Test("a reopened round starts at the call-back with the whole limit")
  func reopenedRound() throws {
    // Called back dissatisfied on the make-up Saturday 14 February: 24–27 and the make-up 28 February.
    let round = AppealRules.timedWork(resolutionFrom: at("2026-02-14 11:00"), limitWorkingDays: 5, resolvedAt: nil)
    #expect(local(try self.clock.status(of: round, now: at("2026-02-14 11:00")).due) == local(at("2026-02-28 17:00")))
  }

  @Test("the state machine: register → assign → contact → resolve → call-back, reassign before contact, reopen on dissatisfaction")
  func stateMachine() throws {
    typealias S = CitizenAppealState
    #expect(AppealRules.target(of: .assign, from: .registered) == .assigned)
    #expect(AppealRules.target(of: .reassign, from: .assigned) == .assigned)
    #expect(AppealRules.target(of: .contact, from: .assigned) == .contacted)
    #expect(AppealRules.target(of: .resolve, from: .contacted) == .resolved)
    #expect(AppealRules.target(of: .resolve, from: .reopened) == .resolved)
    #expect(AppealRules.target(of: .callBack(.satisfied), from: .resolved) == .closed)
    #expect(AppealRules.target(of: .callBack(.basicallySatisfied), from: .resolved) == .closed)
    #expect(AppealRules.target(of: .callBack(.dissatisfied), from: .resolved) == .reopened)
    let refused: [(AppealAction, S)] = [
      (.reassign, .contacted), (.reassign, .registered), (.contact, .registered), (.contact, .contacted), (.resolve, .assigned),
      (.resolve, .resolved), (.callBack(.satisfied), .contacted), (.callBack(.dissatisfied), .closed), (.assign, .assigned),
    ]
    for (action, state) in refused {
      #expect(AppealRules.target(of: action, from: state) == nil, "\(action) from \(state)")
      let error = #expect(throws: DomainError.self) { try AppealRules.apply(action, to: state, number: "QZ-1") }
      #expect(error?.kind == .failedPrecondition && error?.field == "state" && error?.code == "appeal.illegal_transition")
      #expect(error?.localizedMessage(.zh).contains("{") == false)
    }
    #expect(S.allCases.filter(\.awaitsDepartment) == [.assigned, .contacted, .reopened])
  }

  @Test(
    "phone numbers: digits with an optional +, spaces and '-' ignored, 5–20 digits",
    arguments: [
      ("138-1234-5678", "13812345678"), ("+86 138 1234 5678", "+8613812345678"), ("0537-7212345", "05377212345"),
      ("１３８１２３４５６７８", "13812345678"), ("12345", "12345"),
    ])
  func phones(_ row: (String, String)) throws {
    #expect(try AppealRules.normalizedPhone(row.0) == row.1)
  }

  @Test(
    "a phone that is not one is refused naming the field, without repeating the number",
    arguments: ["1234", "", "138a12345678", "1+3812345678", String(repeating: "1", count: 21)])
  func badPhones(_ text: String) {
    let error = #expect(throws: DomainError.self) { try AppealRules.normalizedPhone(text) }
    #expect(error?.field == "requester_phone" && error?.code == "appeal.bad_phone" && error?.kind == .invalidArgument)
    if text.count > 4 { #expect(error?.message.contains(text) == false) }
  }

  @Test("audit rows and alerts see masked phones and names")
  func masking() {
    #expect(AppealRules.maskedPhone("13812345678") == "138****5678")
    #expect(AppealRules.maskedPhone("+8613812345678") == "+861******5678")
    #expect(AppealRules.maskedPhone("123456") == "****56")
    #expect(AppealRules.maskedName("王小二") == "王**")
    #expect(AppealRules.maskedName("李") == "*")
  }

  @Test("a citizen needs a name and a phone; an enterprise a valid USCC and a phone; each refusal names its field")
  func requesters() throws {
    let citizen = try AppealRules.checkRequester(kind: .citizen, name: " 王小二 ", phone: "138 1234 5678", uscc: "")
    #expect(citizen == AppealRequester(kind: .citizen, name: "王小二", phone: "13812345678", uscc: nil))
    let first17 = "91370830000001001"
    let uscc = first17 + String(try USCC.checkCharacter(forFirst17: first17))
    let enterprise = try AppealRules.checkRequester(kind: .enterprise, name: "", phone: "0537-7212345", uscc: uscc.lowercased())
    #expect(enterprise.uscc == uscc && enterprise.phone == "05377212345" && enterprise.name.isEmpty)
    let cases: [(AppealRequesterKind, String, String, String, String)] = [
      (.citizen, "", "13812345678", "", "requester_name"),
      (.citizen, "王小二", "", "", "requester_phone"),
      (.citizen, "王小二", "13812345678", uscc, "enterprise_uscc"),
      (.enterprise, "", "13812345678", "91370830000001001X", "enterprise_uscc"),
      (.enterprise, "", "13812345678", "", "enterprise_uscc"),
      (.enterprise, "", "", uscc, "requester_phone"),
      (.citizen, String(repeating: "名", count: 51), "13812345678", "", "requester_name"),
    ]
    for (kind, name, phone, code, field) in cases {
      let error = #expect(throws: DomainError.self) { try AppealRules.checkRequester(kind: kind, name: name, phone: phone, uscc: code) }
      #expect(error?.field == field && error?.kind == .invalidArgument, "\(kind) \(name) \(phone) \(code)")
    }
    let wrapped = #expect(throws: DomainError.self) {
      try AppealRules.checkRequester(kind: .enterprise, name: "", phone: "13812345678", uscc: "123")
    }
    #expect(wrapped?.message.hasPrefix("enterprise_uscc: ") == true)
  }

  @Test("subject 1–200 characters and content required; a contact note, a resolution and a reassignment's reason required")
  func texts() throws {
    try AppealRules.checkMatter(subject: "噪音扰民", content: "夜间施工噪音")
    let cases = [("", "内容", "subject"), (String(repeating: "题", count: 201), "内容", "subject"), ("标题", " ", "content")]
    for (subject, content, field) in cases {
      let error = #expect(throws: DomainError.self) { try AppealRules.checkMatter(subject: subject, content: content) }
      #expect(error?.field == field)
    }
    let note = #expect(throws: DomainError.self) { try AppealRules.checkContact(note: "  ") }
    #expect(note?.field == "note")
    let resolution = #expect(throws: DomainError.self) { try AppealRules.checkResolution("") }
    #expect(resolution?.field == "resolution")
    let reason = #expect(throws: DomainError.self) { try AppealRules.checkReassignReason(" ") }
    #expect(reason?.field == "reason" && reason?.code == "appeal.reassign_reason_required")
  }

  @Test("resolution limits: every category once, in any order and either language, printed in canonical order")
  func limitsParsing() throws {
    let limits = try AppealResolutionLimits.parse("report:20, 咨询：2，help:5,complaint:5,SUGGESTION:10")
    #expect(limits.description == "consultation:2,help:5,complaint:5,report:20,suggestion:10")
    #expect(try AppealResolutionLimits.parse(limits.description) == limits)
    var settings = CountySettings()
    try settings.set(.appealResolutionLimits, to: "consultation:1,help:3,complaint:4,report:60,suggestion:1")
    #expect(settings.appealResolutionLimits[.report] == 60 && settings.appealResolutionLimits[.complaint] == 4)
    try settings.set(.appealResponseWorkingDays, to: "3")
    #expect(settings.text(of: .appealResponseWorkingDays) == "3")
  }

  @Test(
    "bad resolution limits are refused naming the setting and the bad part, and change nothing",
    arguments: [
      ("consultation:1,help:5,complaint:5,report:61,suggestion:10", "settings.invalid_value#appeal_limits_days", "report"),
      ("consultation:1,help:5,complaint:0,report:15,suggestion:10", "settings.invalid_value#appeal_limits_days", "complaint"),
      ("help:5,complaint:5,report:15,suggestion:10", "settings.invalid_value#appeal_limits_missing", "consultation"),
      ("consultation:1,help:5,complaint:5,report:15,suggestion:10,petition:3", "settings.invalid_value#appeal_limits_category", "petition"),
      ("consultation:1,help:5,complaint:5,report:15,suggestion", "settings.invalid_value#appeal_limits_part", "suggestion"),
      ("consultation:1,help:5,help:6,complaint:5,report:15,suggestion:10", "settings.invalid_value#appeal_limits_repeated", "help"),
      ("", "settings.invalid_value#appeal_limits_missing", "suggestion"),
    ])
  func badLimits(_ row: (String, String, String)) {
    var settings = CountySettings()
    let error = #expect(throws: DomainError.self) { try settings.set(.appealResolutionLimits, to: row.0) }
    #expect(error?.code == "settings.invalid_value" && error?.messageKey == row.1 && error?.field == "appeal_resolution_limits")
    #expect(error?.message.contains(row.2) == true, "\(error?.message ?? "")")
    #expect(error?.localizedMessage(.zh).contains(row.2) == true)
    #expect(settings == CountySettings())
  }

  @Test("the response limit is 1–10 working days")
  func responseLimit() {
    for value in ["0", "11", "1.5", "一"] {
      var settings = CountySettings()
      let error = #expect(throws: DomainError.self) { try settings.set(.appealResponseWorkingDays, to: value) }
      #expect(error?.field == "appeal_response_working_days", "\(value)")
    }
  }

  @Test("settings stored before the appeal settings existed read with their defaults")
  func oldSettingsDecode() throws {
    var legacy = try JSONSerialization.jsonObject(with: JSONEncoder().encode(CountySettings())) as? [String: Any] ?? [:]
    legacy["appealResponseWorkingDays"] = nil
    legacy["appealResolutionLimits"] = nil
    let decoded = try JSONDecoder().decode(CountySettings.self, from: JSONSerialization.data(withJSONObject: legacy))
    #expect(decoded.appealResponseWorkingDays == 1 && decoded.appealResolutionLimits == AppealResolutionLimits())
  }

  @Test("every state has a Chinese term, and every refusal its text in both languages")
  func messages() {
    for state in CitizenAppealState.allCases {
      #expect(ServerMessages.zhTerms["citizenAppealState.\(state.rawValue)"] != nil, "\(state)")
    }
    for key in [
      "appeal.illegal_transition#assign", "appeal.illegal_transition#reassign", "appeal.illegal_transition#contact",
      "appeal.illegal_transition#resolve", "appeal.illegal_transition#call_back",
    ] {
      #expect(ServerMessages.en[key] != nil && ServerMessages.zh[key] != nil, "\(key)")
    }
    let error = #expect(throws: DomainError.self) { try AppealRules.apply(.resolve, to: .assigned, number: "QZ-370830-20261130-0001") }
    #expect(error?.localizedMessage(.zh).contains("已派单") == true)
  }
}
