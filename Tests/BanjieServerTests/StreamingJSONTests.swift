import BanjieCore
import Foundation
import Testing

@testable import BanjieStore

/// The idempotency table keeps a case's answer as StreamingJSON writes it; it must read back as
/// the same value as JSONEncoder's text of it, and as the value itself.
@Suite("Streaming JSON")
struct StreamingJSONTests {
  static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .millisecondsSince1970
    return decoder
  }()
  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .millisecondsSince1970
    return encoder
  }()

  @Test("case answers of every shape read back as JSONEncoder's do, and as themselves; the answer writer writes StreamingJSON's bytes")
  func sameValue() async throws {
    try await GroupCommitTests.withCatalog { store, clock in
      let submitted = try await GroupCommitTests.submit(store, clock: clock, key: nil)
      var generator = AuditTimestampTests.Generator(state: 7)
      let awkward = ["", "a\"b\\c/d", "汶上县\n\t\u{01}\u{1F}", "😀 \u{2028}", String(repeating: "长", count: 300)]
      let accepted = try await store.transition(
        number: submitted.record.number, action: .accept, expectedVersion: nil, actor: GroupCommitTests.clerk,
        authorize: { _, _ in .handler }, clock: clock, now: GroupCommitTests.now, key: nil)
      let snapshot = try #require(accepted.sla)
      var views = [submitted, accepted]
      for round in 0..<200 {
        var view = submitted
        func text() -> String { awkward.randomElement(using: &generator) ?? "" }
        func date() -> Date { Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000, using: &generator)) / 1000) }
        view.itemName = text()
        view.record.applicant = text()
        view.record.missingMaterials = round % 3 == 0 ? [] : [text(), text()]
        view.record.outcome = round % 2 == 0 ? nil : .approved
        view.record.colour = round % 4 == 0 ? nil : .yellow
        view.record.dueAt = round % 5 == 0 ? nil : date()
        view.record.oneDay = round % 3 == 1 ? true : nil
        view.record.handlingSeconds = Int64.random(in: Int64.min...Int64.max, using: &generator)
        if round % 2 == 0 {
          view.sla = nil
        } else {
          var sla = snapshot
          sla.due = date()
          sla.usedSeconds = Int64.random(in: 0...1_000_000, using: &generator)
          sla.fractionUsed = Double.random(in: 0...3, using: &generator)
          sla.isCompleted = round % 4 == 1
          sla.completedOnTime = round % 4 == 1 ? false : nil
          sla.computedAt = date()
          view.sla = sla
        }
        var hall = view.hall ?? CaseHall()
        hall.helper = round % 2 == 0 ? nil : StaffRef(organization: text(), person: text())
        hall.readers = round % 3 == 0 ? [:] : ["SCJGJ": .receiving, text(): .transfer]
        hall.servedAt = round % 2 == 0 ? nil : date()
        hall.deliveryChannel = round % 2 == 0 ? nil : .mail
        view.hall = round % 7 == 0 ? nil : hall
        view.pending =
          round % 3 == 0
          ? nil
          : [
            PendingMaterialRecord(
              id: Int64(round), caseId: 1, material: text(), pendingSince: date(), workingDays: 5, promisedBy: date(), colour: .green,
              state: round % 2 == 0 ? .pending : .waived, resolvedAt: round % 2 == 0 ? nil : date(), resolvedBy: text(),
              waiveReason: text())
          ]
        views.append(view)
      }
      for view in views {
        let streamed = try Self.decoder.decode(CaseView.self, from: StreamingJSON.encode(view))
        let encoded = try Self.decoder.decode(CaseView.self, from: Self.encoder.encode(view))
        #expect(streamed == encoded)
        #expect(streamed == view)
        // What the idempotency table keeps (CaseViewJSON.swift): StreamingJSON's bytes exactly.
        let written = try view.json()
        #expect(written == (try StreamingJSON.encode(view)))
        #expect(try Self.decoder.decode(CaseView.self, from: written) == view)
      }
    }
  }
}
