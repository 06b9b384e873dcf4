import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import Foundation
import GRDB
import Testing

/// A store whose open cases were timed before provisional years had statutory holidays is brought
/// up to the rule once (docs/DOMAIN.md §3).
@Suite("Calendar rule adoption", .timeLimit(.minutes(10)))
struct CalendarRuleTests {
  @Test("open cases timed on plain Monday–Friday are recomputed once, audited; a second start changes nothing")
  func adoptOnce() async throws {
    // Mon 2026-12-28 10:00: five working days of intake end Tue 2027-01-05 17:00 with 1 January a
    // holiday; counted on plain Monday–Friday they ended Mon 2027-01-04 17:00.
    try await ServerHarness.run(start: shanghai("2026-12-28T10:00:00")) { h in
      let received = try await h.cases { try await $0.submitCase(.sample()) }
      #expect(received.intakeDueAt.date == shanghai("2027-01-05T17:00:00"))
      try h.writeDatabase("UPDATE cases SET intake_due_at = ? WHERE number = ?", [shanghai("2027-01-04T17:00:00"), received.number])
      try h.writeDatabase("DELETE FROM meta WHERE key = 'calendar.rule'")
      let store = h.environment.store
      let recomputed = try await store.adoptCalendarRule(ServerEnvironment.calendarRule, clock: h.environment.sla, now: h.clock.now)
      #expect(recomputed == 1)
      let read = try await h.cases { try await $0.getCase(.with { $0.number = received.number }) }
      #expect(read.intakeDueAt.date == shanghai("2027-01-05T17:00:00"))
      let audit = try h.database {
        try String.fetchOne($0, sql: "SELECT detail FROM audit_log WHERE action = 'calendar.rule'")
      }
      #expect(audit?.contains("recomputed") == true && audit?.contains("1") == true)
      let again = try await store.adoptCalendarRule(ServerEnvironment.calendarRule, clock: h.environment.sla, now: h.clock.now)
      #expect(again == nil)
    }
  }
}
