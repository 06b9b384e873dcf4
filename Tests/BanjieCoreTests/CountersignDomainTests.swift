import Foundation
import Testing

@testable import BanjieCore

/// 部门会签 rules (docs/DOMAIN.md §23).
@Suite("Countersign rules")
struct CountersignDomainTests {
  let clock = try! SLAClock(calendar: .standard)

  @Test(
    "a unit's limit counts working days from the day after it received the draft, across holidays and make-up days",
    arguments: [
      // National Day 2026: 1, 2, 5, 6, 7 October are holidays, Saturday 10 October a make-up day.
      ("2026-09-30 10:00", 5, "2026-10-13 17:00"),
      ("2026-09-30 10:00", 3, "2026-10-10 17:00"),
      // Spring Festival 2026 (16–20 and 23 February), make-up Saturdays 14 and 28 February.
      ("2026-02-13 10:00", 5, "2026-02-27 17:00"),
      ("2026-02-13 10:00", 1, "2026-02-14 17:00"),
      // Received after office hours on a Friday: the Friday does not count.
      ("2026-03-06 18:30", 5, "2026-03-13 17:00"),
    ])
  func deadlines(_ row: (String, Int, String)) throws {
    let work = CountersignRules.timedWork(receivedAt: at(row.0), limitWorkingDays: row.1, answeredAt: nil)
    let status = try self.clock.status(of: work, now: at(row.0))
    #expect(local(status.due) == local(at(row.2)), "\(row.0) + \(row.1) working days")
    #expect(status.colour == .green)
  }

  @Test("a unit turns yellow at 80 % of its working time and red past its deadline; an answer stops the clock")
  func colours() throws {
    let received = at("2026-03-02 09:00")
    let waiting = CountersignRules.timedWork(receivedAt: received, limitWorkingDays: 5, answeredAt: nil)
    // Due Mon 2026-03-09 17:00; the budget runs from the receipt: six days of 7 h, yellow from Fri 6 March 14:36.
    #expect(try self.clock.status(of: waiting, now: at("2026-03-05 09:00")).colour == .green)
    #expect(try self.clock.status(of: waiting, now: at("2026-03-09 10:00")).colour == .yellow)
    #expect(try self.clock.status(of: waiting, now: at("2026-03-10 09:00")).colour == .red)
    let answered = CountersignRules.timedWork(receivedAt: received, limitWorkingDays: 5, answeredAt: at("2026-03-04 11:00"))
    #expect(try self.clock.status(of: answered, now: at("2026-03-20 09:00")).colour == .green)
  }

  @Test("units: at least one, known, no repeats, never the lead unit, each refusal naming `units` and the unit")
  func units() throws {
    let known: Set<String> = ["SCJGJ", "ZJJ", "ZRZYJ"]
    #expect(try CountersignRules.checkUnits(["ZJJ", "ZRZYJ"], lead: "SCJGJ", known: known) == ["ZJJ", "ZRZYJ"])
    let cases: [([String], String)] = [
      ([], "countersign.no_units"), (["SCJGJ"], "countersign.lead_unit_listed"), (["ZJJ", "GAJ"], "countersign.unknown_unit"),
      (["ZJJ", "ZJJ"], "countersign.repeated_unit"),
    ]
    for (units, code) in cases {
      let error = #expect(throws: DomainError.self) { try CountersignRules.checkUnits(units, lead: "SCJGJ", known: known) }
      #expect(error?.code == code && error?.field == "units", "\(units)")
      #expect(error?.kind == .invalidArgument)
    }
  }

  @Test("a policy document over 3,000 characters is flagged and goes ahead only with a reason")
  func length() throws {
    #expect(try CountersignRules.checkLength(policy: true, length: 3000, reason: "") == false)
    #expect(try CountersignRules.checkLength(policy: false, length: 12000, reason: "") == false)
    #expect(try CountersignRules.checkLength(policy: true, length: 3001, reason: "配套政策须一并印发") == true)
    let refused = #expect(throws: DomainError.self) { try CountersignRules.checkLength(policy: true, length: 3001, reason: " ") }
    #expect(refused?.kind == .failedPrecondition && refused?.field == "over_length_reason")
    #expect(refused?.localizedMessage(.zh).contains("3000") == true)
  }

  @Test("agreeing needs nothing; agreeing with comments needs the comments, disagreeing the reasons")
  func answers() throws {
    try CountersignRules.checkAnswer(.agree, text: "")
    try CountersignRules.checkAnswer(.disagree, text: "与上位法不一致")
    for answer in [CountersignAnswer.agreeWithComments, .disagree] {
      let error = #expect(throws: DomainError.self) { try CountersignRules.checkAnswer(answer, text: "  ") }
      #expect(error?.field == "text" && error?.kind == .invalidArgument)
    }
  }
}
