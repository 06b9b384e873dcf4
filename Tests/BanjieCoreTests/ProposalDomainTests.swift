import Foundation
import Testing

@testable import BanjieCore

/// 人大代表建议和政协提案 rules (docs/DOMAIN.md §25): calendar-month deadlines, the calendar clock's
/// colours, the state machine, the checks and the two settings.
@Suite("Deputies' suggestions and CPPCC proposals (建议/提案) rules")
struct ProposalDomainTests {
  /// Milliseconds since 1970, for exact comparisons of instants stored to the millisecond.
  static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

  /// The last millisecond of `text`'s day, Asia/Shanghai, computed independently of the rules.
  static func endOf(_ text: String) -> Int64 { Self.millis(at("\(text) 23:59:59")) + 999 }

  @Test(
    "the reply is due at the end of the day N calendar months after the day of assignment, clamped to the month's last day",
    arguments: [
      // The 3-month limit.
      ("2026-11-30 09:30", 3, "2027-02-28"),  // 30 November + 3 months: February 2027 has 28 days
      ("2027-11-30 09:30", 3, "2028-02-29"),  // a leap year
      ("2026-08-31 10:00", 3, "2026-11-30"),  // 31 August + 3 months: 30 November
      ("2026-10-15 16:00", 3, "2027-01-15"),  // across the new year
      ("2026-03-01 08:00", 3, "2026-06-01"),
      ("2026-11-30 23:59", 3, "2027-02-28"),
      ("2026-12-01 00:30", 3, "2027-03-01"),  // 30 November 16:30 UTC is already 1 December in the county
      // The 6-month limit.
      ("2026-08-31 10:00", 6, "2027-02-28"),
      ("2027-08-31 10:00", 6, "2028-02-29"),
      ("2026-03-31 10:00", 6, "2026-09-30"),
      ("2026-11-30 09:30", 6, "2027-05-30"),
      ("2026-12-31 09:30", 6, "2027-06-30"),
      // The second reply after 不满意 (1 month) and the longest setting (12 months).
      ("2027-01-31 10:00", 1, "2027-02-28"),
      ("2028-01-31 10:00", 1, "2028-02-29"),
      ("2024-02-29 10:00", 12, "2025-02-28"),
    ])
  func deadlines(_ row: (String, Int, String)) {
    let due = ProposalRules.due(from: at(row.0), months: row.1)
    #expect(Self.millis(due) == Self.endOf(row.2), "\(row.0) + \(row.1) months: \(local(due))")
    #expect(ProposalRules.localDay(of: due) == day(row.2))
    // Nothing lies between the deadline and the next day's midnight.
    #expect(Self.millis(due) + 1 == Self.millis(at("\(day(row.2).adding(days: 1)) 00:00")))
  }

  @Test("adding months clamps to the month's last day and never moves to the next month")
  func addingMonths() {
    #expect(ProposalRules.adding(months: 3, to: day("2026-08-31")) == day("2026-11-30"))
    #expect(ProposalRules.adding(months: 6, to: day("2026-08-31")) == day("2027-02-28"))
    #expect(ProposalRules.adding(months: 1, to: day("2026-01-29")) == day("2026-02-28"))
    #expect(ProposalRules.adding(months: 1, to: day("2028-01-30")) == day("2028-02-29"))
    #expect(ProposalRules.adding(months: 12, to: day("2026-12-31")) == day("2027-12-31"))
    #expect(ProposalRules.adding(months: 3, to: day("2026-11-15")) == day("2027-02-15"))
    // From 31 January, every month's last day, the year rolling over after December.
    for months in 1...12 {
      let result = ProposalRules.adding(months: months, to: day("2026-01-31"))
      #expect(result.month == months % 12 + 1 && result.year == 2026 + months / 12, "\(months): \(result)")
      #expect(result.day == LocalDate.daysIn(month: result.month, year: result.year), "\(months): \(result)")
    }
  }

  @Test("green, yellow from the threshold's share of the calendar time, still yellow at the due instant, red just after it")
  func colours() {
    let start = at("2026-11-30 09:30")
    let due = ProposalRules.due(from: start, months: 3)
    let total = due.timeIntervalSince(start)
    let yellowAt = start.addingTimeInterval(0.8 * total)
    func timing(_ now: Date, threshold: Double = 0.8) -> ProposalTiming {
      ProposalRules.timing(start: start, due: due, now: now, yellowThreshold: threshold)
    }
    #expect(timing(start).colour == .green && timing(start).fractionUsed == 0)
    #expect(timing(yellowAt.addingTimeInterval(-1)).colour == .green)
    #expect(timing(yellowAt.addingTimeInterval(1)).colour == .yellow)
    // The county's threshold moves the moment.
    #expect(timing(yellowAt.addingTimeInterval(-1), threshold: 0.75).colour == .yellow)
    #expect(timing(yellowAt.addingTimeInterval(1), threshold: 0.9).colour == .green)
    // At the due instant it is not yet overdue; one millisecond later, and at midnight, it is.
    let atDue = timing(due)
    #expect(atDue.colour == .yellow && !atDue.isOverdue && atDue.fractionUsed == 1)
    let after = timing(due.addingTimeInterval(0.001))
    #expect(after.colour == .red && after.isOverdue && after.fractionUsed > 1)
    #expect(timing(at("2027-03-01 00:00")).colour == .red)
    // About 72.5 of the 90.6 days: yellow on 10 February 2027 in the evening.
    #expect(local(yellowAt).hasPrefix("2027-02-10"))
    #expect(timing(at("2027-02-10 12:00")).colour == .green && timing(at("2027-02-11 00:00")).colour == .yellow)
  }

  @Test("an extension: more months than now, at most the longest limit, with a reason, before the deadline")
  func extensions() throws {
    let due = ProposalRules.due(from: at("2026-11-30 09:30"), months: 3)
    let now = at("2027-01-20 10:00")
    try ProposalRules.checkExtension(number: "JY-1", current: 3, requested: 6, max: 6, reason: "涉及跨年度预算安排", due: due, now: now)
    try ProposalRules.checkExtension(number: "JY-1", current: 3, requested: 4, max: 6, reason: "需现场踏勘", due: due, now: due)
    #expect(Self.millis(ProposalRules.due(from: at("2026-11-30 09:30"), months: 6)) == Self.endOf("2027-05-30"))
    let cases: [(Int, String, Date, DomainError.Kind, String, String)] = [
      (7, "理由", now, .invalidArgument, "months", "proposal.extension_beyond_max"),
      (3, "理由", now, .invalidArgument, "months", "proposal.extension_not_longer"),
      (2, "理由", now, .invalidArgument, "months", "proposal.extension_not_longer"),
      (6, "  ", now, .invalidArgument, "reason", "proposal.extension_reason_required"),
      (6, "理由", due.addingTimeInterval(0.001), .failedPrecondition, "months", "proposal.extension_too_late"),
    ]
    for (months, reason, when, kind, field, code) in cases {
      let error = #expect(throws: DomainError.self) {
        try ProposalRules.checkExtension(number: "JY-1", current: 3, requested: months, max: 6, reason: reason, due: due, now: when)
      }
      #expect(error?.kind == kind && error?.field == field && error?.code == code, "\(months) \(reason)")
    }
    let beyond = #expect(throws: DomainError.self) {
      try ProposalRules.checkExtension(number: "JY-1", current: 3, requested: 7, max: 6, reason: "理由", due: due, now: now)
    }
    #expect(beyond?.message == "7 months is beyond the longest limit of 6 months")
    #expect(beyond?.localizedMessage(.zh) == "7 个月超过最长办理期限 6 个月")
  }

  @Test("ASSIGNED → REPLIED → CLOSED, or REOPENED once after the first 不满意; every other step is refused naming `number`")
  func stateMachine() throws {
    let assigned = ProposalStage(state: .assigned, round: 1)
    #expect(try ProposalRules.after(.consult, from: assigned, number: "JY-1") == assigned)
    #expect(try ProposalRules.after(.coOpinion, from: assigned, number: "JY-1") == assigned)
    #expect(try ProposalRules.after(.extend, from: assigned, number: "JY-1") == assigned)
    let replied = try ProposalRules.after(.reply, from: assigned, number: "JY-1")
    #expect(replied == ProposalStage(state: .replied, round: 1))
    #expect(try ProposalRules.after(.assess(.satisfied), from: replied, number: "JY-1") == ProposalStage(state: .closed, round: 1))
    #expect(try ProposalRules.after(.assess(.basicallySatisfied), from: replied, number: "JY-1") == ProposalStage(state: .closed, round: 1))
    let reopened = try ProposalRules.after(.assess(.dissatisfied), from: replied, number: "JY-1")
    #expect(reopened == ProposalStage(state: .reopened, round: 2))
    #expect(try ProposalRules.after(.consult, from: reopened, number: "JY-1") == reopened)
    let second = try ProposalRules.after(.reply, from: reopened, number: "JY-1")
    #expect(second == ProposalStage(state: .replied, round: 2))
    // A second 不满意 closes it: there is no third reply.
    #expect(try ProposalRules.after(.assess(.dissatisfied), from: second, number: "JY-1") == ProposalStage(state: .closed, round: 2))

    let closed = ProposalStage(state: .closed, round: 2)
    let refusals: [(ProposalStep, ProposalStage)] = [
      (.assess(.satisfied), assigned), (.consult, replied), (.coOpinion, replied), (.reply, replied), (.extend, replied),
      (.extend, reopened), (.assess(.dissatisfied), reopened), (.consult, closed), (.reply, closed), (.assess(.satisfied), closed),
    ]
    for (step, stage) in refusals {
      let error = #expect(throws: DomainError.self) { try ProposalRules.after(step, from: stage, number: "JY-1") }
      #expect(error?.kind == .failedPrecondition && error?.field == "number" && error?.code == "proposal.illegal_transition")
      #expect(error?.messageKey == "proposal.illegal_transition#\(step.name)", "\(step) from \(stage.state)")
    }
    let late = #expect(throws: DomainError.self) { try ProposalRules.after(.reply, from: closed, number: "JY-1") }
    #expect(late?.localizedMessage(.zh).contains("已办结") == true)
  }

  @Test("co-handling departments: none or more, known, no repeats, never the lead, each refusal naming `co_departments`")
  func coDepartments() throws {
    let known: Set<String> = ["ZJJ", "ZRZYJ", "GAJ"]
    #expect(try ProposalRules.checkCoDepartments([], lead: "ZJJ", known: known) == [])
    #expect(try ProposalRules.checkCoDepartments(["ZRZYJ", "GAJ"], lead: "ZJJ", known: known) == ["ZRZYJ", "GAJ"])
    let cases: [([String], String)] = [
      (["ZJJ"], "proposal.lead_listed_as_co"), (["ZRZYJ", "XYZ"], "proposal.unknown_department"),
      (["GAJ", "GAJ"], "proposal.repeated_co_department"),
      (Array(repeating: "GAJ", count: ProposalRules.maxCoDepartments + 1), "proposal.too_many_co_departments"),
    ]
    for (departments, code) in cases {
      let error = #expect(throws: DomainError.self) { try ProposalRules.checkCoDepartments(departments, lead: "ZJJ", known: known) }
      #expect(error?.kind == .invalidArgument && error?.field == "co_departments" && error?.code == code, "\(departments)")
    }
    let lead = #expect(throws: DomainError.self) { try ProposalRules.checkCoDepartments(["ZJJ"], lead: "ZJJ", known: known) }
    #expect(lead?.localizedMessage(.zh) == "ZJJ 是主办单位，不能同时作为协办单位")
  }

  @Test("a reply needs a contact with the proposer (面商) in its round; a contact by another method needs a note")
  func consultation() throws {
    try ProposalRules.checkConsultation(number: "JY-1", round: 1, consultations: 1)
    let error = #expect(throws: DomainError.self) { try ProposalRules.checkConsultation(number: "JY-1", round: 2, consultations: 0) }
    #expect(error?.kind == .failedPrecondition && error?.field == "consultation" && error?.code == "proposal.consultation_required")
    #expect(error?.message.contains("面商") == true && error?.message.contains("round 2") == true)
    #expect(error?.localizedMessage(.zh).contains("面商") == true)
    try ProposalRules.checkContact(method: .faceToFace, note: "")
    try ProposalRules.checkContact(method: .other, note: "座谈会")
    let bare = #expect(throws: DomainError.self) { try ProposalRules.checkContact(method: .other, note: " ") }
    #expect(bare?.field == "note" && bare?.kind == .invalidArgument)
  }

  @Test("the two settings: 3 and 6 months by default, 1–12, the longest never below the reply limit")
  func settings() throws {
    var settings = CountySettings()
    #expect(settings.proposalReplyMonths == 3 && settings.proposalMaxMonths == 6)
    #expect(try CountySettings.Key.parse("Proposal_Reply_Months ") == .proposalReplyMonths)
    #expect(CountySettings.Key.proposalMaxMonths.metaKey == "proposals.max_months")
    try settings.set(.proposalReplyMonths, to: "4")
    try settings.checkConsistency(after: .proposalReplyMonths)
    #expect(settings.text(of: .proposalReplyMonths) == "4")
    let bad: [(CountySettings.Key, String)] = [
      (.proposalReplyMonths, "0"), (.proposalReplyMonths, "13"), (.proposalMaxMonths, "六"), (.proposalMaxMonths, ""),
    ]
    for (key, value) in bad {
      var copy = settings
      do {
        try copy.set(key, to: value)
        Issue.record("\(key) \(value) was accepted")
      } catch {
        #expect(error.field == key.rawValue && error.kind == .invalidArgument, "\(key) \(value)")
      }
      #expect(copy == settings, "a refused value changes nothing")
    }
    // Each value alone is fine; together the longest limit may not fall below the reply limit.
    var lowered = settings
    try lowered.set(.proposalMaxMonths, to: "3")
    let below = lowered
    let refused = #expect(throws: DomainError.self) { try below.checkConsistency(after: .proposalMaxMonths) }
    #expect(refused?.field == "proposal_max_months" && refused?.kind == .invalidArgument)
    #expect(refused?.localizedMessage(.zh).contains("建议提案最长办理期限") == true)
    var raised = settings
    try raised.set(.proposalReplyMonths, to: "7")
    let above = raised
    let over = #expect(throws: DomainError.self) { try above.checkConsistency(after: .proposalReplyMonths) }
    #expect(over?.field == "proposal_reply_months")
    try above.checkConsistency(after: .yellowThreshold)
    #expect(try CountySettings.canonical(.proposalMaxMonths, " 12 ") == "12")
    // Settings stored before these keys existed read with their defaults.
    var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(CountySettings())) as? [String: Any] ?? [:]
    json["proposalReplyMonths"] = nil
    json["proposalMaxMonths"] = nil
    let old = try JSONDecoder().decode(CountySettings.self, from: JSONSerialization.data(withJSONObject: json))
    #expect(old.proposalReplyMonths == 3 && old.proposalMaxMonths == 6)
    // Limits read from storage are put in order.
    for (reply, max, expected) in [(3, 6, [3, 6]), (7, 6, [7, 7]), (0, 20, [1, 12])] {
      let limits = ProposalRules.limits(reply: reply, max: max)
      #expect([limits.reply, limits.max] == expected, "\(reply), \(max)")
    }
  }
}
