import BanjieCore
import Foundation
import GRDB
import Synchronization
import Testing

@testable import BanjieStore

/// Group commit (docs/ARCHITECTURE.md, "The write path"): mutations queued while the writer is busy
/// share one transaction, each in its own savepoint.
@Suite("Group commit")
struct GroupCommitTests {
  static let clerk = Actor(role: .clerk, organization: "SCJGJ", person: "张伟", certificateSerial: "0A")
  static let now = Date(timeIntervalSince1970: 1_764_554_400)  // 2025-12-01 10:00 in Beijing, a Monday

  static func withCatalog(_ body: (BanjieStore, SLAClock) async throws -> Void) async throws {
    try await StoreTests.withStore { store in
      _ = try await store.importCatalog(
        departments: [DepartmentRecord(code: "SCJGJ", name: "市场监管局")],
        items: [
          ServiceItemRecord(
            code: "SCJGJ-002", name: "个体工商户登记", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 1,
            limitUnit: .workingDays, legalLimitDays: 15, materials: ["身份证"], allowsMinorPending: false)
        ], actor: .system, now: Self.now)
      try await body(store, try SLAClock(calendar: try await store.loadCalendar()))
    }
  }

  static func submit(_ store: BanjieStore, clock: SLAClock, item: String = "SCJGJ-002", key: String?) async throws -> CaseView {
    try await store.submitCase(
      NewCase(itemCode: item, applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: ""), regionCode: "370830",
      actor: Self.clerk, authorize: { _, _ in }, clock: clock, now: Self.now,
      key: key.map { IdempotencyKey(caller: "clerk:SCJGJ:张伟", key: $0) })
  }

  static func outcome<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
  }

  /// Holds GRDB's writer with a mutation that waits until `count` more mutations are queued
  /// behind it, so that those form the next batch together.
  static func holdWriter(_ store: BanjieStore, until count: Int) async throws -> Task<Void, any Error> {
    let running = Atomic<Bool>(false)
    let commits = try store.commits
    let holding = Task {
      try await commits.write { _ in
        running.store(true, ordering: .releasing)
        // On the writer's own queue (not the cooperative pool): waits for the others to queue.
        let deadline = Date().addingTimeInterval(240)
        while commits.state.withLock({ $0.queue.count }) < count && Date() < deadline { usleep(1000) }
      }
    }
    // The holder's batch has started (so nothing queued from now on joins it).
    let deadline = Date().addingTimeInterval(240)
    while !running.load(ordering: .acquiring) && Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
    return holding
  }

  @Test("a batch: a refused mutation and a stale version fail alone, a key used twice creates one case, the rest commit in order")
  func mixedBatch() async throws {
    try await Self.withCatalog { store, clock in
      let existing = try await Self.submit(store, clock: clock, key: "first")
      let batchesBefore = try store.commits.figures.batches
      let holder = try await Self.holdWriter(store, until: 6)

      async let a = Self.submit(store, clock: clock, key: "k1")
      try await Task.sleep(for: .milliseconds(20))
      async let bad = Self.outcome { try await Self.submit(store, clock: clock, item: "NO-SUCH-ITEM", key: "k2") }
      try await Task.sleep(for: .milliseconds(20))
      async let again = Self.submit(store, clock: clock, key: "k1")
      try await Task.sleep(for: .milliseconds(20))
      async let accepted = store.transition(
        number: existing.record.number, action: .accept, expectedVersion: 1, actor: Self.clerk, authorize: { _, _ in .handler },
        clock: clock, now: Self.now, key: nil)
      try await Task.sleep(for: .milliseconds(20))
      async let stale = Self.outcome {
        try await store.transition(
          number: existing.record.number, action: .accept, expectedVersion: 1, actor: Self.clerk, authorize: { _, _ in .handler },
          clock: clock, now: Self.now, key: nil)
      }
      try await Task.sleep(for: .milliseconds(20))
      async let b = Self.submit(store, clock: clock, key: "k3")

      let (first, second, refused, acceptedView, staleResult, third) = try await (a, again, bad, accepted, stale, b)
      try await holder.value

      // The six queued behind the holder went in one batch.
      let figures = try store.commits.figures
      #expect(figures.largest >= 6)
      #expect(figures.batches - batchesBefore == 2)

      #expect(first.record.number == second.record.number)
      #expect(third.record.number != first.record.number)
      #expect(acceptedView.record.state == .accepted)
      switch refused {
      case .success: Issue.record("an unknown item was accepted")
      case .failure(let error): #expect((error as? DomainError)?.code == "case.unknown_item")
      }
      switch staleResult {
      case .success: Issue.record("a stale version was accepted")
      case .failure(let error): #expect((error as? DomainError)?.code == "case.version_conflict")
      }

      let rows = try await store.pool.read { db in
        try Row.fetchAll(db, sql: "SELECT action, entity_id FROM audit_log WHERE action LIKE 'case.%' ORDER BY id")
          .map { "\($0["action"] as String) \($0["entity_id"] as String)" }
      }
      // Each mutation that committed has its audit row, in the order they were queued.
      #expect(
        rows == [
          "case.receive \(existing.record.number)", "case.receive \(first.record.number)", "case.accept \(existing.record.number)",
          "case.receive \(third.record.number)",
        ])
      let cases = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cases") }
      #expect(cases == 3)
      #expect(try await store.verifyAudit().ok)
      #expect(try await store.dashboardAggregateDifferences() == [])
    }
  }

  @Test("a COMMIT the database refuses fails every caller of the batch, writes nothing of it, and the next batch starts clean")
  func commitRefused() async throws {
    try await Self.withCatalog { store, clock in
      let holder = try await Self.holdWriter(store, until: 2)
      async let good = Self.outcome { try await Self.submit(store, clock: clock, key: "lost") }
      try await Task.sleep(for: .milliseconds(20))
      // A foreign key checked only at COMMIT: the shared COMMIT fails.
      async let poison = Self.outcome {
        try await store.commits.write { db in
          try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
          try db.execute(
            sql: """
              INSERT INTO case_events (case_id, seq, at, action, to_state, actor_role, actor_organization, actor_person, note)
              VALUES (999999, 1, '2025-12-01 02:00:00.000', 'receive', 'RECEIVED', 'clerk', 'SCJGJ', '张伟', '')
              """)
        }
      }
      let (goodResult, poisonResult) = await (good, poison)
      try await holder.value
      for result in [goodResult.map { _ in () }, poisonResult] {
        switch result {
        case .success: Issue.record("a mutation of a batch whose COMMIT failed was answered as written")
        case .failure(let error): #expect(error is GroupCommitFailure, "\(error)")
        }
      }
      let counts = try await store.pool.read { db in
        (
          try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cases"),
          try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM idempotency WHERE key = 'lost'")
        )
      }
      #expect(counts.0 == 0)
      #expect(counts.1 == 0)
      // The next batch starts clean, and the key that was lost can be used again.
      let retried = try await Self.submit(store, clock: clock, key: "lost")
      #expect(retried.record.state == .received)
      #expect(try await store.verifyAudit().ok)
      #expect(try await store.dashboardAggregateDifferences() == [])
    }
  }

  @Test(
    "a mutation whose error ends the transaction gets its own error; those before it were not written, those after it run in the next batch"
  )
  func transactionEndedByAMutation() async throws {
    struct Ended: Error {}
    try await Self.withCatalog { store, clock in
      let holder = try await Self.holdWriter(store, until: 3)
      async let before = Self.outcome { try await Self.submit(store, clock: clock, key: "before") }
      try await Task.sleep(for: .milliseconds(20))
      // What SQLite does on SQLITE_FULL or SQLITE_IOERR: the transaction is gone.
      async let culprit = Self.outcome {
        try await store.commits.write { db in
          try db.execute(sql: "ROLLBACK")
          throw Ended()
        }
      }
      try await Task.sleep(for: .milliseconds(20))
      async let after = Self.outcome { try await Self.submit(store, clock: clock, key: "after") }
      let (beforeResult, culpritResult, afterResult) = await (before, culprit, after)
      try await holder.value
      switch beforeResult {
      case .success: Issue.record("a mutation of an ended transaction was answered as written")
      case .failure(let error): #expect(error is GroupCommitFailure, "\(error)")
      }
      switch culpritResult {
      case .success: Issue.record("the mutation that ended the transaction succeeded")
      case .failure(let error): #expect(error is Ended, "\(error)")
      }
      let afterView = try afterResult.get()
      let numbers = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT number FROM cases") }
      #expect(numbers == [afterView.record.number])
      #expect(try await store.verifyAudit().ok)
      #expect(try await store.dashboardAggregateDifferences() == [])
    }
  }

  @Test("a caller cancelled before its mutation ran gets CancellationError and nothing is written for it")
  func cancelledBeforeRunning() async throws {
    try await Self.withCatalog { store, clock in
      let go = Atomic<Bool>(false)
      let running = Atomic<Bool>(false)
      let holder = Task {
        try await store.commits.write { _ in
          running.store(true, ordering: .releasing)
          let deadline = Date().addingTimeInterval(240)
          while !go.load(ordering: .acquiring) && Date() < deadline { usleep(1000) }
        }
      }
      let deadline = Date().addingTimeInterval(240)
      while !running.load(ordering: .acquiring) && Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
      let caller = Task { try await Self.submit(store, clock: clock, key: "gone") }
      while try store.commits.state.withLock({ $0.queue.count }) < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
      caller.cancel()
      go.store(true, ordering: .releasing)
      try await holder.value
      await #expect(throws: CancellationError.self) { try await caller.value }
      let cases = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cases") }
      #expect(cases == 0)
      // The writer goes on serving.
      #expect(try await Self.submit(store, clock: clock, key: "next").record.state == .received)
    }
  }

  @Test("the audit detail is written byte for byte as JSONEncoder with sorted keys writes it")
  func canonicalDetail() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var generator = AuditTimestampTests.Generator(state: 1_8)
    // Keys as the source writes them; values anything a caller may send, control characters,
    // quotes, backslashes, slashes, Chinese and emoji included.
    let keyAlphabet = Array("abcdefghijklmnopqrstuvwxyz_0123456789")
    let valueScalars: [Unicode.Scalar] =
      (0..<0x80).compactMap(Unicode.Scalar.init) + ["汶", "上", "县", "é", "\u{2028}", "\u{FEFF}", "😀", "\u{7F}", "\u{85}"]
    for round in 0..<20_000 {
      var detail: [String: String] = [:]
      for _ in 0..<Int.random(in: 0...5, using: &generator) {
        let key = String((0..<Int.random(in: 1...12, using: &generator)).map { _ in keyAlphabet.randomElement(using: &generator) ?? "a" })
        var value = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...16, using: &generator) { value.append(valueScalars.randomElement(using: &generator) ?? "a") }
        detail[key] = String(value)
      }
      let expected = String(decoding: try encoder.encode(detail), as: UTF8.self)
      #expect(AuditLog.canonicalJSON(detail) == expected, "round \(round)")
    }
  }

  @Test("SubmitCase answers what reading the case back gives: own department, another department's window, online")
  func submitAnswerIsTheStoredView() async throws {
    try await Self.withCatalog { store, clock in
      let other = Actor(role: .clerk, organization: "ZWFWZX", person: "刘芳", certificateSerial: "0B")
      let requests: [(NewCase, Actor)] = [
        (NewCase(itemCode: "SCJGJ-002", applicant: "王小二", enterpriseUSCC: nil, window: "A03", note: "首次"), Self.clerk),
        (NewCase(itemCode: "SCJGJ-002", applicant: "李四", enterpriseUSCC: nil, window: "Z01", note: ""), other),
        (NewCase(itemCode: "SCJGJ-002", applicant: "赵六", enterpriseUSCC: nil, window: "", note: "网上", channel: .online), Self.clerk),
      ]
      for (request, actor) in requests {
        let answer = try await store.submitCase(
          request, regionCode: "370830", actor: actor, authorize: { _, _ in }, clock: clock, now: Self.now, key: nil)
        let stored = try await store.caseView(number: answer.record.number, clock: clock, now: Self.now)
        #expect(answer == stored)
      }
    }
  }

  @Test(
    "every transition answers what reading the case back gives: only the changed columns are written, and the answer's hall is the one written"
  )
  func transitionAnswersAreTheStoredView() async throws {
    try await StoreTests.withStore { store in
      _ = try await store.importCatalog(
        departments: [DepartmentRecord(code: "SCJGJ", name: "市场监管局"), DepartmentRecord(code: "ZJJ", name: "住建局")],
        items: [
          ServiceItemRecord(
            code: "SCJGJ-002", name: "个体工商户登记", departmentCode: "SCJGJ", kind: .promised, promisedLimit: 3,
            limitUnit: .workingDays, legalLimitDays: 15, materials: ["身份证"], allowsMinorPending: false)
        ], actor: .system, now: Self.now)
      let clock = try SLAClock(calendar: try await store.loadCalendar())
      var minute = 0
      func step(_ number: String, _ action: CaseAction, delivery: Delivery = Delivery()) async throws {
        minute += 7
        let now = Self.now.addingTimeInterval(Double(minute * 60))
        let answer = try await store.transition(
          number: number, action: action, expectedVersion: nil, actor: Self.clerk, authorize: { _, _ in .handler }, clock: clock,
          now: now, key: nil, transferNote: "转办", delivery: delivery)
        let stored = try await store.caseView(number: number, clock: clock, now: now)
        #expect(answer == stored, "\(action)")
      }
      let a = try await Self.submit(store, clock: clock, key: nil).record.number
      for action: CaseAction in [.accept, .suspend(reason: "专家评审"), .resume, .transfer(toDepartment: "ZJJ"), .complete(.approved)] {
        try await step(a, action)
      }
      try await step(a, .deliver, delivery: Delivery(channel: .window, window: "B07"))
      let b = try await Self.submit(store, clock: clock, key: nil).record.number
      try await step(b, .accept)
      try await step(b, .complete(.denied))
      try await step(b, .deliver, delivery: Delivery(channel: .mail))
      let c = try await Self.submit(store, clock: clock, key: nil).record.number
      try await step(c, .requestSupplement(missing: ["营业执照"]))
      try await step(c, .supplementReceived)
      try await step(c, .refuse(reason: "不符合条件"))
      let d = try await Self.submit(store, clock: clock, key: nil).record.number
      try await step(d, .withdraw)
      #expect(try await store.dashboardAggregateDifferences().isEmpty)
    }
  }

  @Test("a changed column is found by its bytes: another Unicode normalization form is a change, NULL is not ''")
  func changedColumnsByBytes() {
    let composed = "\u{00E9}"  // é as one scalar
    let decomposed = "e\u{0301}"  // e and a combining acute
    #expect(composed == decomposed)  // Swift's String equality: canonical equivalence
    #expect(!CaseRecord.sameBytes(.text(composed), .text(decomposed)))
    #expect(CaseRecord.sameBytes(.text("受理"), .text("受理")))
    #expect(!CaseRecord.sameBytes(.null, .text("")))
    #expect(CaseRecord.sameBytes(.null, .null))
    #expect(CaseRecord.sameBytes(.integer(7), .integer(7)))
    #expect(!CaseRecord.sameBytes(.integer(7), .integer(8)))
  }

  @Test("JSON arrays of strings read back as written, with and without characters that need escaping")
  func storedStringArrays() throws {
    let arrays: [[String]] = [
      [], [""], ["", ""], ["身份证"], ["a,b", "c"], ["营业执照", "法定代表人身份证", "章程"], ["a\"b", "c\\d"], ["\",\""], ["x/y", "\n"],
    ]
    for array in arrays {
      let text = try StoredJSON.text(array)
      #expect(try StoredJSON.strings(text.databaseValue) == array, "\(text)")
      // The service items' memo: the same answer the first time and from memory.
      #expect(try ItemArrays.strings(.text(text)) == array, "\(text)")
      #expect(try ItemArrays.strings(.text(text)) == array, "\(text)")
    }
    // Past its limit the memo starts again, and still answers right.
    for n in 0...(ItemArrays.limit + 10) {
      let array = ["材料\(n)", "身份证"]
      #expect(try ItemArrays.strings(.text(try StoredJSON.text(array))) == array)
    }
    #expect(try ItemArrays.strings(.text(try StoredJSON.text(["材料1", "身份证"]))) == ["材料1", "身份证"])
  }

  @Test("a date is stored as GRDB stores it, and a case row reads back as it was written")
  func storedColumns() async throws {
    var generator = AuditTimestampTests.Generator(state: 18)
    for _ in 0..<20_000 {
      let microseconds = Int64.random(in: 0...4_102_444_800_000_000, using: &generator)
      let date = Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
      #expect(StoredDate(date).databaseValue == date.databaseValue, "\(microseconds) µs")
    }
    try await Self.withCatalog { store, clock in
      let view = try await Self.submit(store, clock: clock, key: nil)
      var record = view.record
      record.missingMaterials = ["身份证", "a/b \"c\""]
      record.colour = .yellow
      record.dueAt = Self.now.addingTimeInterval(3600.123)
      let items = try await store.pool.read { db in
        (try ServiceItemRecord.byCode(db, "SCJGJ-002"), try ServiceItemRecord.one(db, "code", "SCJGJ-002"))
      }
      #expect(items.0 != nil && items.0 == items.1)
      let written = record
      try await store.pool.write { db in try written.update(db) }
      let read = try await store.pool.read { db in try CaseRecord.one(db, "number", written.number) }
      #expect(read?.withMillisecondDates == written.withMillisecondDates)
      // The transitions' own path: read by position, written back with one cached UPDATE.
      let positional = try await store.pool.read { db in try CaseRecord.byNumber(db, written.number) }
      #expect(positional == read)
      var changed = written
      changed.state = .completed
      changed.outcome = .approved
      changed.completedAt = Self.now.addingTimeInterval(7200.5)
      changed.missingMaterials = []
      changed.oneDay = true
      changed.handlingSeconds = 7200
      changed.colour = nil
      let second = changed
      try await store.pool.write { db in try second.updateAll(db) }
      let reread = try await store.pool.read { db in try CaseRecord.byNumber(db, second.number) }
      #expect(reread?.withMillisecondDates == second.withMillisecondDates)
      #expect(try await store.dashboardAggregateDifferences() == [])
    }
  }
}

extension CaseRecord {
  /// The record with its dates to the millisecond, as they are stored.
  fileprivate var withMillisecondDates: CaseRecord {
    func ms(_ date: Date) -> Date { Date(timeIntervalSince1970: Double(Int64((date.timeIntervalSince1970 * 1000).rounded())) / 1000) }
    var copy = self
    copy.receivedAt = ms(copy.receivedAt)
    copy.updatedAt = ms(copy.updatedAt)
    copy.dueAt = copy.dueAt.map(ms)
    copy.intakeDueAt = copy.intakeDueAt.map(ms)
    copy.colourChangesAt = copy.colourChangesAt.map(ms)
    copy.completedAt = copy.completedAt.map(ms)
    copy.acceptedAt = copy.acceptedAt.map(ms)
    return copy
  }
}

extension GroupCommitTests {
  @Test(
    "the writer commits with synchronous = FULL (GRDB's WAL set-up leaves NORMAL behind), its savepoint journal in memory, its page cache at 64 MiB"
  )
  func writerIsFull() async throws {
    try await StoreTests.withStore { store in
      let (level, tempStore, cache) = try await store.pool.writeWithoutTransaction { db in
        (
          try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA temp_store"),
          try Int.fetchOne(db, sql: "PRAGMA cache_size")
        )
      }
      #expect(level == 2)
      #expect(tempStore == 2)  // MEMORY
      #expect(cache == -65536)
    }
  }
}
