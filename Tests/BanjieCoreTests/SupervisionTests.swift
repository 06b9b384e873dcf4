import Foundation
import Testing

@testable import BanjieCore

@Suite("督办 (supervision orders)")
struct SupervisionTests {
  @Test("issue → reply → close; a reply the office does not accept goes back to OPEN")
  func transitions() throws {
    #expect(try SupervisionStateMachine.apply(.reply, to: .open, number: "DB") == .replied)
    #expect(try SupervisionStateMachine.apply(.close, to: .replied, number: "DB") == .closed)
    #expect(try SupervisionStateMachine.apply(.reopen, to: .replied, number: "DB") == .open)
    // Reopened, replied again, closed.
    var state = SupervisionState.open
    for action in [SupervisionAction.reply, .reopen, .reply, .close] {
      state = try SupervisionStateMachine.apply(action, to: state, number: "DB")
    }
    #expect(state == .closed)
    #expect(SupervisionState.open.awaitsDepartment)
    #expect(!SupervisionState.replied.awaitsDepartment)
    #expect(!SupervisionState.closed.awaitsDepartment)
  }

  @Test(
    "everything else is FAILED_PRECONDITION naming the state",
    arguments: [
      (SupervisionAction.close, SupervisionState.open), (.reopen, .open), (.reply, .replied), (.reply, .closed), (.close, .closed),
      (.reopen, .closed),
    ])
  func illegal(_ row: (SupervisionAction, SupervisionState)) {
    let error = #expect(throws: DomainError.self) { _ = try SupervisionStateMachine.apply(row.0, to: row.1, number: "DB-1") }
    #expect(error?.kind == .failedPrecondition)
    #expect(error?.code == "supervision.illegal_transition")
    #expect(error?.field == "state")
    #expect(error?.message.contains("DB-1") == true)
    #expect(error?.message.contains(row.1.rawValue) == true)
    #expect(error.map { !$0.localizedMessage(.zh).contains("{") } == true)
  }

  @Test("a 督办 is refused on finished work, naming the subject's field")
  func finishedSubjects() throws {
    for state in ["COMPLETED", "DELIVERED", "WITHDRAWN", "NOT_ACCEPTED"] {
      let error = #expect(throws: DomainError.self) {
        try SupervisionSubjectKind.serviceCase.checkOpen(state: state, number: "370830-20261130-000001")
      }
      #expect(error?.kind == .failedPrecondition)
      #expect(error?.field == "case_number")
      #expect(error?.code == "supervision.subject_closed")
    }
    for state in ["RECEIVED", "SUPPLEMENT_REQUESTED", "ACCEPTED", "SUSPENDED"] {
      try SupervisionSubjectKind.serviceCase.checkOpen(state: state, number: "n")
    }
    #expect(throws: DomainError.self) { try SupervisionSubjectKind.demand.checkOpen(state: "CLOSED", number: "SQ") }
    for state in ["OPEN", "ASSIGNED", "ANSWERED", "REOPENED"] { try SupervisionSubjectKind.demand.checkOpen(state: state, number: "SQ") }
    let error = #expect(throws: DomainError.self) { try SupervisionSubjectKind.rectification.checkOpen(state: "CLOSED", number: "ZG") }
    #expect(error?.field == "rectification_number")
    #expect(error?.localizedMessage(.zh).contains("已办结") == true)
    for state in ["OPEN", "VERIFIED", "RECTIFIED", "FOLLOWED_UP"] {
      try SupervisionSubjectKind.rectification.checkOpen(state: state, number: "ZG")
    }
    #expect(SupervisionSubjectKind(rawValue: "case") == .serviceCase)
    #expect(SupervisionSubjectKind.demand.numberField == "demand_number")
  }

  @Test("every state has a Chinese name, and the messages read in Chinese")
  func chinese() {
    let missing = SupervisionState.allCases.map { "supervisionState.\($0.rawValue)" }.filter { ServerMessages.zhTerms[$0] == nil }
    #expect(missing == [])
    let error = DomainError(
      kind: .failedPrecondition, code: "supervision.illegal_transition", messageKey: "supervision.illegal_transition#reopen",
      arguments: ["DB-370830-20261130-0001", "CLOSED"])
    #expect(error.localizedMessage(.zh) == "督办单 DB-370830-20261130-0001 当前状态为“已办结”：只有已答复的督办单才能退回重办")
    #expect(error.message == "supervision order DB-370830-20261130-0001 is CLOSED: only a REPLIED order can be sent back")
  }

  @Test("limits are 1–365 working days")
  func limits() throws {
    try SupervisionStateMachine.checkLimit(1)
    try SupervisionStateMachine.checkLimit(365)
    for bad in [0, -1, 366] {
      let error = #expect(throws: DomainError.self) { try SupervisionStateMachine.checkLimit(bad) }
      #expect(error?.field == "limit_working_days")
    }
    #expect(SupervisionStateMachine.defaultLimitWorkingDays == 5)
  }

  @Test("the clock runs from the issue and stops at the reply; reopening keeps the original deadline")
  func clock() throws {
    let clock = try SLAClock()
    // Issued Fri 2026-02-13 10:00 with 5 working days: due Fri 2026-02-27 17:00 (Spring Festival skipped).
    let issued = at("2026-02-13 10:00")
    let running = SupervisionStateMachine.timedWork(issuedAt: issued, limitWorkingDays: 5, repliedAt: nil)
    #expect(try clock.status(of: running, now: at("2026-02-14 10:00")).colour == .green)
    #expect(try clock.status(of: running, now: at("2026-02-27 16:00")).colour == .yellow)
    let late = try clock.status(of: running, now: at("2026-02-27 17:00:01"))
    #expect(late.colour == .red)
    #expect(late.due == at("2026-02-27 17:00"))
    // Replied on time: green, on time, however long it then waits for the office.
    let replied = SupervisionStateMachine.timedWork(issuedAt: issued, limitWorkingDays: 5, repliedAt: at("2026-02-26 11:00"))
    let done = try clock.status(of: replied, now: at("2026-03-10 09:00"))
    #expect(done.colour == .green)
    #expect(done.completedOnTime == true)
    // Sent back after the deadline: the reply no longer stands, the original deadline does: red at once.
    let reopened = SupervisionStateMachine.timedWork(issuedAt: issued, limitWorkingDays: 5, repliedAt: nil)
    let now = try clock.status(of: reopened, now: at("2026-03-02 09:00"))
    #expect(now.colour == .red)
    #expect(now.due == late.due)
  }
}

@Suite("Supervision messages")
struct SupervisionMessageFamilyTests {
  /// The message keys SupervisionStore and the state machine build at run time from a kind or
  /// an action exist in both languages.
  @Test("every subject kind and action has its refusal text in both languages")
  func families() {
    let keys =
      SupervisionSubjectKind.allCases.map { "supervision.subject_closed#\($0.rawValue)" }
      + SupervisionAction.allCases.map { "supervision.illegal_transition#\($0.rawValue)" }
    for key in keys {
      #expect(ServerMessages.en[key] != nil, "\(key) in English")
      #expect(ServerMessages.zh[key] != nil, "\(key) in Chinese")
    }
  }
}
