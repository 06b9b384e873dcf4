import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import Foundation
import GRDB
import GRPCCore
import GRPCProtobuf
import SwiftProtobuf
import Testing

@Suite("Cases end to end over real TLS", .timeLimit(.minutes(10)))
struct CaseLifecycleTests {
  @Test("the whole lifecycle: notice, supplement, accept, suspend, resume, complete, deliver")
  func lifecycle() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let submitted = try await cases.submitCase(.sample())
        #expect(submitted.number.hasPrefix("370830-20261130-"))
        #expect(submitted.state == .received)
        #expect(submitted.version == 1)
        let n = submitted.number

        let noticed = try await cases.requestSupplement(.number(n) { $0.missingMaterials = ["食品安全管理制度"] })
        #expect(noticed.state == .supplementRequested)
        #expect(noticed.missingMaterials == ["食品安全管理制度"])
        h.clock.advance(seconds: 3600)
        let value1 = try await cases.supplementReceived(.number(n)).state
        #expect(value1 == .received)
        h.clock.advance(seconds: 600)
        let accepted = try await cases.acceptCase(.number(n))
        #expect(accepted.state == .accepted)
        // Accepted Mon 2026-11-30 10:40, 5 working days: due Mon 2026-12-07 17:00.
        #expect(accepted.sla.dueAt.date == shanghai("2026-12-07T17:00:00"))
        #expect(accepted.sla.colour == .green)

        // Suspended Tue 09:00 to Wed 09:00: one working day (7 h) moves the deadline to Tue 12-08 17:00.
        h.clock.set(shanghai("2026-12-01T09:00:00"))
        let value2 = try await cases.suspendCase(.number(n) { $0.note = "专家评审" }).state
        #expect(value2 == .suspended)
        h.clock.set(shanghai("2026-12-02T09:00:00"))
        let resumed = try await cases.resumeCase(.number(n))
        #expect(resumed.state == .accepted)
        #expect(resumed.sla.dueAt.date == shanghai("2026-12-08T17:00:00"))
        #expect(resumed.sla.suspended == false)

        h.clock.set(shanghai("2026-12-03T15:00:00"))
        let completed = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
        #expect(completed.state == .completed)
        #expect(completed.outcome == "approved")
        #expect(completed.sla.completedOnTime)
        #expect(!completed.sla.oneDayCompletion)
        let value3 = try await cases.deliverCase(.number(n)).state
        #expect(value3 == .delivered)

        let history = try await cases.getCaseHistory(.with { $0.number = n })
        #expect(
          history.events.map(\.action) == [
            "receive", "requestSupplement", "supplementReceived", "accept", "suspend", "resume", "complete", "deliver",
          ])
        #expect(history.events.allSatisfy { $0.actorPerson == "张伟" })
      }
    }
  }

  @Test("one-day completion: completed by the close of the first working day after acceptance")
  func oneDay() async throws {
    try await ServerHarness.run(start: shanghai("2026-02-13T10:00:00")) { h in
      try await h.cases { cases in
        let n = try await cases.submitCase(.sample(item: "SCJGJ-002")).number
        let accepted = try await cases.acceptCase(.number(n))
        // docs/DOMAIN.md §6: accepted Fri 2026-02-13 10:00, 1 working day: due Sat 2026-02-14 17:00 (make-up day).
        #expect(accepted.sla.dueAt.date == shanghai("2026-02-14T17:00:00"))
        h.clock.set(shanghai("2026-02-14T16:00:00"))
        let completed = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
        #expect(completed.sla.oneDayCompletion)
      }
    }
  }

  @Test("one-day completion needs an on-time completion: a late same-day completion is not one-day, stored or shown")
  func lateIsNotOneDay() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-30T09:30:00")) { h in
      let number = try await h.cases { cases in
        // SCJGJ-001: 2 working hours. Accepted Mon 09:30, due 11:30; completed 13:30, the same day.
        let n = try await cases.submitCase(.sample(item: "SCJGJ-001")).number
        let accepted = try await cases.acceptCase(.number(n))
        #expect(accepted.sla.dueAt.date == shanghai("2026-11-30T11:30:00"))
        h.clock.set(shanghai("2026-11-30T13:30:00"))
        let completed = try await cases.completeCase(.number(n) { $0.outcome = "approved" })
        #expect(completed.sla.completed && !completed.sla.completedOnTime)
        #expect(!completed.sla.oneDayCompletion, "late, though within one working day")
        return n
      }
      let stored = try h.database { db in
        try Int.fetchOne(db, sql: "SELECT one_day FROM cases WHERE number = ?", arguments: [number])
      }
      #expect(stored == 0)
      let dashboard = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2026-11-30")) }
      #expect(dashboard.summary.completed == 1 && dashboard.summary.onTime == 0 && dashboard.summary.oneDay == 0)
    }
  }

  @Test("an illegal transition is FAILED_PRECONDITION naming the current state")
  func illegalTransition() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        let error = await rpcError { _ = try await cases.completeCase(.number(n) { $0.outcome = "approved" }) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("RECEIVED") == true)
      }
    }
  }

  @Test("a stale version is ABORTED and changes nothing")
  func staleVersion() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let c = try await cases.submitCase(.sample())
        _ = try await cases.acceptCase(.number(c.number) { $0.expectedVersion = c.version })
        let error = await rpcError {
          _ = try await cases.suspendCase(
            .number(c.number) {
              $0.expectedVersion = c.version
              $0.note = "x"
            })
        }
        #expect(error?.code == .aborted)
        let now = try await cases.getCase(.with { $0.number = c.number })
        #expect(now.state == .accepted)
        #expect(now.version == 2)
      }
    }
  }

  @Test("the same idempotency key twice gives one case and the first answer")
  func idempotency() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let metadata: Metadata = ["idempotency-key": "window-a03-0001"]
        let first = try await cases.submitCase(.sample(), metadata: metadata)
        h.clock.advance(seconds: 5)
        let second = try await cases.submitCase(.sample(), metadata: metadata)
        #expect(first == second)
        let list = try await cases.listCases(.init())
        #expect(list.total == 1)
        // The same key for another method is refused rather than answered wrongly.
        let error = await rpcError { _ = try await cases.acceptCase(.number(first.number), metadata: metadata) }
        #expect(error?.code == .failedPrecondition)
      }
    }
  }

  @Test("another department's clerk is PERMISSION_DENIED; enterprises read only their own cases")
  func authorization() async throws {
    try await ServerHarness.run { h in
      let n = try await h.cases { try await $0.submitCase(.sample(uscc: "91350100M000100Y43")).number }
      try await h.cases(.clerk, "ZJJ", "赵六") { cases in
        #expect(await rpcError { _ = try await cases.acceptCase(.number(n)) }?.code == .permissionDenied)
        #expect(await rpcError { _ = try await cases.getCase(.with { $0.number = n }) }?.code == .permissionDenied)
        #expect(await rpcError { _ = try await cases.submitCase(.sample()) }?.code == .permissionDenied)
        let value4 = try await cases.listCases(.init()).total
        #expect(value4 == 0)
      }
      try await h.cases(.enterprise, "91350100M000100Y43", "王小二") { cases in
        let value5 = try await cases.getCase(.with { $0.number = n }).number
        #expect(value5 == n)
        #expect(await rpcError { _ = try await cases.acceptCase(.number(n)) }?.code == .permissionDenied)
        let value6 = try await cases.listCases(.init()).total
        #expect(value6 == 1)
      }
      try await h.cases(.enterprise, "91110000802100433B", "别家") { cases in
        #expect(await rpcError { _ = try await cases.getCase(.with { $0.number = n }) }?.code == .permissionDenied)
      }
      try await h.cases(.office, "YSB", "李明") { cases in
        let value7 = try await cases.getCase(.with { $0.number = n }).number
        #expect(value7 == n)
        #expect(await rpcError { _ = try await cases.acceptCase(.number(n)) }?.code == .permissionDenied)
      }
    }
  }

  @Test("a case left past its deadline turns red and the alert reaches a watcher")
  func redAlert() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let n = try await cases.submitCase(.sample(item: "SCJGJ-002")).number
        _ = try await cases.acceptCase(.number(n))  // Mon 09:30, 1 working day: due Tue 17:00.
        try await cases.watchAlerts(.init()) { response in
          var iterator = response.messages.makeAsyncIterator()
          // Wait until the watcher is registered before moving time.
          while h.environment.alerts.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
          h.clock.set(shanghai("2026-12-01T15:30:00"))  // 12.5 of 13 working hours: yellow
          try await h.environment.sweep()
          let yellow = try #require(try await iterator.next())
          #expect(yellow.colour == .yellow)
          #expect(yellow.subject == "case \(n)")
          h.clock.set(shanghai("2026-12-01T17:00:01"))
          try await h.environment.sweep()
          let red = try #require(try await iterator.next())
          #expect(red.colour == .red)
          #expect(red.kind == "case.red")
        }
        let listed = try await cases.listCases(.with { $0.colours = [.red] })
        #expect(listed.cases.map(\.number) == [n])
      }
    }
  }

  @Test("an intake not decided within 5 working days counts as accepted at receipt")
  func deemedAcceptance() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let c = try await cases.submitCase(.sample())
        h.clock.set(shanghai("2026-12-07T17:00:01"))
        try await h.environment.sweep()
        let now = try await cases.getCase(.with { $0.number = c.number })
        #expect(now.state == .accepted)
        #expect(now.deemedAccepted)
        #expect(now.acceptedAt == c.receivedAt)
      }
    }
  }

  @Test(
    "bad input is INVALID_ARGUMENT naming the field, and nothing is written",
    arguments: [
      ("item_code", Banjie_V1_SubmitCaseRequest.sample(item: "NOPE-1")),
      ("item_code", Banjie_V1_SubmitCaseRequest.sample(item: "")),
      ("applicant", Banjie_V1_SubmitCaseRequest.sample(applicant: "")),
      ("applicant", Banjie_V1_SubmitCaseRequest.sample(applicant: String(repeating: "长", count: 5_000))),
      ("applicant", Banjie_V1_SubmitCaseRequest.sample(applicant: "a\u{0}b")),
      ("enterprise_uscc", Banjie_V1_SubmitCaseRequest.sample(uscc: "91350100M000100Y44")),
    ])
  func badInput(field: String, request: Banjie_V1_SubmitCaseRequest) async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let error = await rpcError { _ = try await cases.submitCase(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.metadata[stringValues: "banjie-error-field"].first(where: { _ in true }) == field)
        let total = try await cases.listCases(.init()).total
        #expect(total == 0)
      }
    }
  }

  @Test("a 10 MB string exceeds the 4 MiB message limit: RESOURCE_EXHAUSTED, and the server serves on")
  func hugeString() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let error = await rpcError { _ = try await cases.submitCase(.sample(applicant: String(repeating: "x", count: 10_000_000))) }
        #expect(error?.code == .resourceExhausted)
        let after = try await cases.submitCase(.sample())
        #expect(after.state == .received)
      }
    }
  }

  @Test("the calendar answers docs/DOMAIN.md §6's examples and refuses impossible times")
  func calendarDue() async throws {
    try await ServerHarness.run { h in
      try await h.as_(.clerk, "SCJGJ") { client in
        let calendar = Banjie_V1_CalendarService.Client(wrapping: client)
        let a = try await calendar.computeDue(
          .with {
            $0.from = "2026-02-13T10:00:00+08:00"
            $0.workingDays = 1
          })
        #expect(a.dueLocal == "2026-02-14T17:00:00+08:00")
        let b = try await calendar.computeDue(
          .with {
            $0.from = "2026-09-24T10:00:00+08:00"
            $0.workingDays = 1
          })
        #expect(b.dueLocal == "2026-09-28T17:00:00+08:00")
        let provisional = try await calendar.computeDue(
          .with {
            $0.from = "2027-03-01T10:00:00+08:00"
            $0.workingDays = 1
          })
        #expect(provisional.provisional)
        for bad in ["2026-02-30T10:00:00+08:00", "yesterday", "2026-02-13 10:00", ""] {
          let error = await rpcError {
            _ = try await calendar.computeDue(
              .with {
                $0.from = bad
                $0.workingDays = 1
              })
          }
          #expect(error?.code == .invalidArgument, "\(bad)")
        }
        let absurd = await rpcError {
          _ = try await calendar.computeDue(
            .with {
              $0.from = "2026-02-13T10:00:00+08:00"
              $0.workingDays = 100_000
            })
        }
        #expect(absurd?.code == .invalidArgument)
      }
    }
  }

  @Test("importing a year recomputes open deadlines; only the office may import; implausible data only with force")
  func calendarImport() async throws {
    try await ServerHarness.run(start: shanghai("2026-12-30T10:00:00")) { h in
      let n = try await h.cases { cases -> String in
        let n = try await cases.submitCase(.sample()).number
        let accepted = try await cases.acceptCase(.number(n))
        // 5 working days over New Year 2027, provisional: Dec 31, then (statutory 1 January skipped) Jan 4, 5, 6, 7.
        #expect(accepted.sla.dueAt.date == shanghai("2027-01-07T17:00:00"))
        #expect(accepted.sla.provisional)
        return n
      }
      // Two holidays, without the Spring Festival, Qingming and the others: implausible.
      let notice = #"{"year":2027,"holidays":["2027-01-01","2027-01-04"],"workdays":[]}"#
      try await h.as_(.clerk, "SCJGJ") { client in
        let error = await rpcError {
          _ = try await Banjie_V1_CalendarService.Client(wrapping: client).importYear(
            .with {
              $0.json = notice
              $0.force = true
              $0.reason = "checked"
            })
        }
        #expect(error?.code == .permissionDenied)
      }
      try await h.as_(.office, "YSB", "李明") { client in
        let calendar = Banjie_V1_CalendarService.Client(wrapping: client)
        let auditBefore = try h.rows("audit_log")
        let refused = await rpcError { _ = try await calendar.importYear(.with { $0.json = notice }) }
        #expect(refused?.code == .failedPrecondition)
        #expect(errorField(refused) == "holidays")
        #expect(refused?.message.contains("2027-02-05 (Spring Festival) is a statutory holiday but is not listed in holidays") == true)
        #expect(refused?.message.contains("holidays lists 2 days, where a notice lists 11 to 40") == true)
        let noReason = await rpcError {
          _ = try await calendar.importYear(
            .with {
              $0.json = notice
              $0.force = true
            })
        }
        #expect(noReason?.code == .invalidArgument)
        #expect(errorField(noReason) == "reason")
        #expect(try h.rows("audit_log") == auditBefore)
        #expect(try h.rows("calendar_years") == 0)
        let result = try await calendar.importYear(
          .with {
            $0.json = notice
            $0.force = true
            $0.reason = "县政府补充通知另行安排"
          })
        #expect(result.recomputed == 1)
        #expect(result.overridden.first == "2027-02-05 (Spring Festival) is a statutory holiday but is not listed in holidays")
        #expect(result.overridden.last == "holidays lists 2 days, where a notice lists 11 to 40")
        let detail = try h.database {
          try String.fetchOne($0, sql: "SELECT detail FROM audit_log WHERE action = 'calendar.import' ORDER BY id DESC LIMIT 1")
        }
        #expect(detail?.contains(#""forced":"true""#) == true)
        #expect(detail?.contains("县政府补充通知另行安排") == true)
        #expect(detail?.contains("2027-02-05 (Spring Festival) is a statutory holiday") == true)
      }
      try await h.cases { cases in
        let c = try await cases.getCase(.with { $0.number = n })
        // Dec 31, then Jan 1 and 4 are holidays now: Jan 5, 6, 7, 8.
        #expect(c.sla.dueAt.date == shanghai("2027-01-08T17:00:00"))
        #expect(!c.sla.provisional)
      }
    }
  }

  @Test("the audit chain verifies; only the office may ask")
  func auditVerify() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        _ = try await cases.acceptCase(.number(n))
      }
      try await h.as_(.office, "YSB") { client in
        let result = try await Banjie_V1_AdminService.Client(wrapping: client).verifyAudit(.init())
        #expect(result.ok)
        #expect(result.rows >= 30)
      }
      try await h.as_(.clerk, "SCJGJ") { client in
        #expect(
          await rpcError { _ = try await Banjie_V1_AdminService.Client(wrapping: client).verifyAudit(.init()) }?.code == .permissionDenied)
      }
    }
  }
}

/// Sends bytes as they are, to put what no well-behaved client would on the wire.
struct RawBytesSerializer: MessageSerializer {
  func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

@Suite("Undecodable requests", .timeLimit(.minutes(10)))
struct UndecodableRequestTests {
  @Test("invalid UTF-8 in a string field is INVALID_ARGUMENT and nothing is written")
  func invalidUTF8() async throws {
    try await ServerHarness.run { h in
      try await h.as_(.clerk, "SCJGJ", "张伟") { client in
        // SubmitCaseRequest: item_code (1) = "SCJGJ-003", applicant (2) = bytes C3 28 (not UTF-8), window (4) = "A03".
        var bytes: [UInt8] = [0x0A, 9] + Array("SCJGJ-003".utf8)
        bytes += [0x12, 2, 0xC3, 0x28]
        bytes += [0x22, 3] + Array("A03".utf8)
        let error = await rpcError {
          _ = try await client.unary(
            request: ClientRequest(message: bytes),
            descriptor: Banjie_V1_CaseService.Method.SubmitCase.descriptor,
            serializer: RawBytesSerializer(),
            deserializer: ProtobufDeserializer<Banjie_V1_Case>(),
            options: .defaults
          ) { try $0.message }
        }
        #expect(error?.code == .invalidArgument)
        let total = try await Banjie_V1_CaseService.Client(wrapping: client).listCases(.init()).total
        #expect(total == 0)
      }
    }
  }

  /// docs/PROTOCOL.md §5.2: what a handler gets that does not fit its kind of call; each ends
  /// only its stream, and the connection serves the next call.
  @Test("a unary call with no message or two is INTERNAL, undecodable bytes INVALID_ARGUMENT, an unknown path UNIMPLEMENTED")
  func misfitCalls() async throws {
    try await ServerHarness.run { h in
      try await h.as_(.office, "YSB", "李明") { client in
        func call(_ messages: [[UInt8]], _ descriptor: MethodDescriptor = Banjie_V1_SystemService.Method.GetServerInfo.descriptor)
          async -> RPCError?
        {
          await rpcError {
            try await client.bidirectionalStreaming(
              request: StreamingClientRequest<[UInt8]> { writer in
                for message in messages { try await writer.write(message) }
              },
              descriptor: descriptor, serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: .defaults
            ) { response in
              for try await _ in response.messages {}
            }
          }
        }
        let none = await call([])
        #expect(none?.code == .internalError && none?.message.contains("Empty stream") == true, "\(String(describing: none))")
        let two = await call([[], []])
        #expect(two?.code == .internalError && two?.message.contains("Too many messages") == true, "\(String(describing: two))")
        // Field 1 as a length-delimited value that runs past the end.
        let garbage = await call([[0x0A, 0x7F, 0x01]])
        #expect(garbage?.code == .invalidArgument, "\(String(describing: garbage))")
        let unknown = await call([[]], MethodDescriptor(fullyQualifiedService: "banjie.v1.NoSuchService", method: "Nothing"))
        #expect(unknown?.code == .unimplemented, "\(String(describing: unknown))")
        // The connection still serves.
        let info = try await Banjie_V1_SystemService.Client(wrapping: client).getServerInfo(.init())
        #expect(info.caller.role == "office")
      }
    }
  }
}
