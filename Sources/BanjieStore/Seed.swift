public import BanjieCore
public import Foundation
import GRDB

/// What `banjie seed` generates: a county year of service records ending at `until`.
public struct SeedOptions: Sendable {
  public var cases: Int
  /// The last instant of the generated year; cases still open then stay open.
  public var until: Date
  /// The random generator's seed: the same options give the same data.
  public var seed: UInt64
  /// Enterprises in the registry; nil: one per 200 cases, between 50 and 20,000.
  public var enterprises: Int?

  public init(cases: Int, until: Date, seed: UInt64 = 1, enterprises: Int? = nil) {
    self.cases = cases
    self.until = until
    self.seed = seed
    self.enterprises = enterprises
  }
}

public struct SeedSummary: Sendable, Hashable {
  public var cases = 0
  public var openCases = 0
  public var enterprises = 0
  public var ratings = 0
  public var rectifications = 0
  public var visits = 0
  public var demands = 0
}

/// SplitMix64: small, fast and reproducible across platforms.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension BanjieStore {
  /// Generates a realistic county year straight into the database (a local tool: the server
  /// should not be running on the file). Cases arrive on the working days of the year before
  /// `until` in office hours; most are accepted within half an hour and finished well inside
  /// their limit, about one in eight late, some suspended; enterprises rate about 60 % of their
  /// completed cases; liaison officials visit enterprises and some visits raise demands.
  ///
  /// The dashboard triggers are dropped for the load and the aggregates rebuilt set-wise at the
  /// end; if the load is interrupted, the next open of the store rebuilds them. Each batch is one
  /// transaction with one `seed.generate` audit row. Seeded cases carry no event history.
  /// Blocking (a long bulk load through GRDB's synchronous API): run it on a thread of its own,
  /// never on the cooperative pool (Seeding.run does).
  public func seed(_ options: SeedOptions, clock: SLAClock, regionCode: String, progress: @Sendable (Int, Int) -> Void) throws
    -> SeedSummary
  {
    guard options.cases >= 1, options.cases <= 20_000_000 else {
      throw DomainError(kind: .invalidArgument, code: "seed.bad_count", field: "cases")
    }
    let calendar = clock.calendar
    var rng = SeededGenerator(state: options.seed)
    let actor = Actor(role: .system, organization: "seed", person: "banjie seed")
    let (items, townships) = try self.pool.read { db in
      (try ServiceItemRecord.order(Column("code")).fetchAll(db), try String.fetchAll(db, sql: "SELECT name FROM townships ORDER BY name"))
    }
    guard !items.isEmpty else {
      throw DomainError(kind: .failedPrecondition, code: "seed.no_catalog")
    }
    guard !townships.isEmpty else {
      throw DomainError(kind: .failedPrecondition, code: "seed.no_townships")
    }
    let departments = Array(Set(items.map(\.departmentCode))).sorted()
    let lastDay = calendar.localDate(of: options.until)
    let firstDay = lastDay.adding(days: -364)
    let workingDays = (0...364).map { firstDay.adding(days: $0) }.filter {
      calendar.isWorkingDay($0) && calendar.closeOfOfficeHours(on: $0) <= options.until
    }
    guard !workingDays.isEmpty else {
      throw DomainError(kind: .failedPrecondition, code: "seed.no_working_days", arguments: ["\(lastDay)"])
    }
    var summary = SeedSummary()

    // Enterprises, with valid USCCs, spread over the townships.
    let enterpriseCount = options.enterprises ?? min(20_000, max(50, options.cases / 200))
    var usccs: [String] = []
    var townshipOf: [String: String] = [:]
    let registeredAt = calendar.date(firstDay, at: Self.nine)
    try self.pool.write { db in
      let insert = try db.cachedStatement(
        sql: """
          INSERT OR IGNORE INTO enterprises (uscc, name, industry, scale, township, registered_at, version, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, 1, ?)
          """)
      let industries = Array("ABCDEFGHIJKLMNOPQRST")
      let scales = ["micro", "micro", "micro", "small", "small", "medium", "large"]
      for n in 0..<enterpriseCount {
        let first17 = "91" + regionCode.prefix(6) + String(format: "MA%07X", (Int(options.seed % 100_000) * 1_000_003 + n) & 0xFFFFFFF)
        guard let check = try? USCC.checkCharacter(forFirst17: String(first17.prefix(17))) else { continue }
        let uscc = String(first17.prefix(17)) + String(check)
        let township = townships[Int(rng.next() % UInt64(townships.count))]
        try insert.execute(arguments: [
          uscc, "\(township)样例企业\(n + 1)号", String(industries[Int(rng.next() % 20)]),
          scales[Int(rng.next() % UInt64(scales.count))], township, registeredAt, registeredAt,
        ])
        if db.changesCount > 0 { summary.enterprises += 1 }
        usccs.append(uscc)
        townshipOf[uscc] = try String.fetchOne(db, sql: "SELECT township FROM enterprises WHERE uscc = ?", arguments: [uscc]) ?? township
      }
      try AuditLog.append(
        db, at: options.until, actor: actor, action: "seed.generate", entity: "enterprise", entityID: "*",
        detail: ["enterprises": String(summary.enterprises)])
    }

    try self.pool.write { db in try DashboardSchema.dropTriggers(db) }
    let perDay = Double(options.cases) / Double(workingDays.count)
    var generated = 0
    var carry = 0.0
    var dayIndex = 0
    let batch = 20_000
    while generated < options.cases {
      try self.pool.write { db in
        let insertCase = try db.cachedStatement(
          sql: """
            INSERT INTO cases (number, item_code, department_code, window, applicant, enterprise_uscc, state, outcome, version,
              received_at, received_day, accepted_at, deemed_accepted, limit_value, limit_unit, due_at, colour, suspended_since,
              completed_at, delivered_at, last_note, received_by, updated_at, one_day, handling_seconds, handling_bucket, colour_changes_at,
              township, channel, delivery_channel, delivery_window, served_window, served_at, first_responder_org, first_responder_person,
              responsible_org, responsible_person, rating_code)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertSuspension = try db.cachedStatement(
          sql: "INSERT INTO case_suspensions (case_id, start_at, end_at, reason) VALUES (?, ?, ?, ?)")
        let insertRating = try db.cachedStatement(
          sql: """
            INSERT INTO ratings (case_id, case_number, uscc, level, comment, tags, rated_at, rated_by, excluded, excluded_reason, excluded_at,
              via, device)
            VALUES (?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertRectification = try db.cachedStatement(
          sql: """
            INSERT INTO rectifications (number, case_id, case_number, department_code, state, limit_working_days, opened_at, due_at, colour,
              verified_valid, completed_at, closed_at, appeal_state, version, updated_at, rated_org, rated_person, confirmation,
              confirmed_at)
            VALUES (?, ?, ?, ?, ?, 15, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
            """)
        let sequence = try db.cachedStatement(
          sql: """
            INSERT INTO case_number_sequences (day, last) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET last = max(last, excluded.last)
            """)
        var inBatch = 0
        while inBatch < batch, generated < options.cases, dayIndex < workingDays.count {
          let day = workingDays[dayIndex]
          carry += perDay
          var today = Int(carry)
          if dayIndex == workingDays.count - 1 { today = options.cases - generated }
          carry -= Double(today)
          dayIndex += 1
          let dayKey = day.description.replacingOccurrences(of: "-", with: "")
          let opening = calendar.date(day, at: Self.nine)
          // Numbers follow on from any the day already has, in order of receipt, as the server's do.
          let firstNumber =
            (try Int.fetchOne(db, sql: "SELECT last FROM case_number_sequences WHERE day = ?", arguments: [dayKey]) ?? 0) + 1
          let receipts = (0..<today).map { _ in opening.addingTimeInterval(Double(rng.next() % (7 * 3600))) }.sorted()
          for (offset, receivedAt) in receipts.enumerated() {
            let seq = firstNumber + offset
            let item = items[Int(rng.next() % UInt64(items.count))]
            let departmentIndex = departments.firstIndex(of: item.departmentCode) ?? 0
            let window = String(format: "A%02d", departmentIndex * 2 + 1 + Int(rng.next() % 2))
            let uscc: String? = rng.next() % 10 < 7 && !usccs.isEmpty ? usccs[Int(rng.next() % UInt64(usccs.count))] : nil
            // 受理渠道 (docs/DOMAIN.md §22): about a third online, a few by post or at a terminal.
            let channelRoll = rng.next() % 100
            let channel: CaseChannel =
              channelRoll < 35 ? .online : channelRoll < 40 ? .mail : channelRoll < 45 ? .selfService : .window
            let clerk = "\(window) 窗口"
            let ratingCode = String(
              (0..<RatingCode.length).map { _ in
                Character(UnicodeScalar(RatingCode.alphabet[Int(rng.next() % UInt64(RatingCode.alphabet.count))]))
              })
            let number = "\(regionCode)-\(dayKey)-\(String(format: "%06d", seq))"
            var state = CaseState.completed
            var outcome: CaseOutcome? = rng.next() % 100 < 97 ? .approved : .denied
            var acceptedAt: Date? = receivedAt.addingTimeInterval(Double(60 + rng.next() % 1740))
            let roll = rng.next() % 1000
            if roll < 20 {
              state = .notAccepted
              acceptedAt = nil
              outcome = nil
            } else if roll < 30 {
              state = .withdrawn
              acceptedAt = nil
              outcome = nil
            }
            var dueAt: Date?
            var colour: SLAColour?
            var completedAt: Date?
            var suspendedSince: Date?
            var oneDay: Bool?
            var handling: Int64?
            var suspensions: [Suspension] = []
            var colourChangesAt: Date?
            if let accepted = acceptedAt {
              let due = try clock.due(of: item.limit, after: accepted)
              let limitSeconds = max(600, calendar.workingSeconds(from: accepted, to: due))
              let late = rng.next() % 100 < 12
              let fraction = late ? 1.02 + Double(rng.next() % 600) / 1000 : 0.05 + Double(rng.next() % 900) / 1000
              var finished = try calendar.adding(workingSeconds: Int64(Double(limitSeconds) * fraction), to: accepted)
              if item.kind == .promised, rng.next() % 100 < 3 {
                let start = try calendar.adding(workingSeconds: Int64(Double(limitSeconds) * fraction / 2), to: accepted)
                let end = start.addingTimeInterval(Double(1 + rng.next() % 5) * 86_400)
                finished = finished.addingTimeInterval(end.timeIntervalSince(start))
                if start < options.until {
                  suspensions.append(Suspension(start: start, end: end < options.until ? end : nil))
                  if end >= options.until { suspendedSince = start }
                }
              }
              let done = finished <= options.until && suspendedSince == nil ? finished : nil
              let status = try clock.status(
                clockStart: accepted, limit: item.limit, suspensions: suspensions, completedAt: done, now: options.until)
              dueAt = status.due
              colour = status.colour
              if let done {
                completedAt = done
                handling = status.usedSeconds
                oneDay = clock.isOneDayCompletion(acceptedAt: accepted, completedAt: done, dueAt: status.due)
              } else {
                state = suspendedSince == nil ? .accepted : .suspended
                outcome = nil
                if state == .accepted { colourChangesAt = try clock.nextColourChange(of: status, now: options.until) }
                summary.openCases += 1
              }
            }
            // Most results of online and mail cases go back by post or online (零跑腿), an hour after
            // completion; window results are collected at the window the next working day.
            var deliveredAt: Date?
            var delivery: CaseChannel?
            if let completedAt, state == .completed, rng.next() % 100 < 85 {
              let at = completedAt.addingTimeInterval(3600)
              if at <= options.until {
                deliveredAt = at
                delivery = channel == .online || channel == .mail ? (rng.next() % 100 < 80 ? channel : .window) : .window
                state = .delivered
              }
            }
            // As at runtime: a window delivery serves at the window, and so does the completion of
            // a case that came in at one.
            let servedAt = delivery == .window ? deliveredAt : channel.needsWindow ? completedAt : nil
            let updatedAt = deliveredAt ?? completedAt ?? acceptedAt ?? receivedAt
            try insertCase.execute(arguments: [
              number, item.code, item.departmentCode, window, "申请人\(seq)", uscc, state.rawValue, outcome?.rawValue, 3,
              receivedAt, day.description, acceptedAt, false, item.promisedLimit, item.limitUnit.rawValue, dueAt, colour?.rawValue,
              suspendedSince,
              completedAt, deliveredAt, "", clerk, updatedAt, oneDay, handling, handling.map { HandlingHistogram.bucket(seconds: $0) },
              colourChangesAt, uscc.flatMap { townshipOf[$0] } ?? "", channel.rawValue, delivery?.rawValue,
              delivery == .window ? window : "", servedAt == nil ? "" : window, servedAt, item.departmentCode, clerk, item.departmentCode,
              clerk, ratingCode,
            ])
            let caseID = db.lastInsertedRowID
            for s in suspensions {
              try insertSuspension.execute(arguments: [caseID, s.start, s.end, "专家评审"])
            }
            summary.cases += 1
            generated += 1
            inBatch += 1
            // About 60 % of enterprises' completed cases are rated within a few days, and a third of
            // natural persons' at the window's rating pad or later with the receipt's rating code.
            let rater: (via: String, uscc: String, device: String, by: String)? =
              if let uscc { rng.next() % 100 < 60 ? ("ENTERPRISE", uscc, "", "企业经办人") : nil } else {
                rng.next() % 100 < 33 ? (rng.next() % 2 == 0 ? ("PAD", "", "PAD-\(window)", "评价器") : ("CODE", "", "", "评价码")) : nil
              }
            if let rater, let completedAt {
              let ratedAt =
                rater.via == "PAD"
                ? completedAt.addingTimeInterval(60) : completedAt.addingTimeInterval(Double(600 + rng.next() % (4 * 86_400)))
              if ratedAt <= options.until {
                let r = rng.next() % 100
                let level = r < 55 ? 5 : r < 80 ? 4 : r < 90 ? 3 : r < 96 ? 2 : 1
                let upheld = level <= 2 && rng.next() % 10 == 0
                try insertRating.execute(arguments: [
                  caseID, number, rater.uscc, level, level <= 2 ? "办理时间过长，多次补交材料" : "",
                  ratedAt, rater.by, upheld, upheld ? "申诉成立" : "",
                  upheld ? min(ratedAt.addingTimeInterval(3 * 86_400), options.until) : nil,
                  rater.via, rater.device,
                ])
                summary.ratings += 1
                if level <= 2 {
                  let due = try calendar.due(after: ratedAt, workingDays: 15)
                  let closedAt = try calendar.adding(workingSeconds: Int64(3 + rng.next() % 10) * 8 * 3600, to: ratedAt)
                  let closed = closedAt <= options.until
                  let rectificationColour = closed ? (closedAt <= due ? "green" : "red") : (options.until > due ? "red" : "green")
                  try insertRectification.execute(arguments: [
                    "ZG-\(number)", caseID, number, item.departmentCode, closed ? "CLOSED" : "OPEN",
                    ratedAt, due, rectificationColour, closed ? !upheld : nil, closed ? closedAt : nil, closed ? closedAt : nil,
                    upheld ? "UPHELD" : "NONE", closed ? closedAt : ratedAt, item.departmentCode, clerk,
                    closed && !upheld ? "FOLLOW_UP" : "", closed && !upheld ? closedAt : nil,
                  ])
                  summary.rectifications += 1
                }
              }
            }
          }
          if today > 0 { try sequence.execute(arguments: [dayKey, firstNumber + today - 1]) }
        }
        try AuditLog.append(
          db, at: options.until, actor: actor, action: "seed.generate", entity: "case", entityID: "*",
          detail: ["cases": String(inBatch), "through": workingDays[max(0, dayIndex - 1)].description])
      }
      progress(generated, options.cases)
    }

    // Visits: each enterprise 0–4 times a year; one in three raises a demand.
    try self.pool.write { db in
      let insertVisit = try db.cachedStatement(
        sql: """
          INSERT INTO visits (uscc, liaison_organization, liaison_person, visited_on, notes, recorded_at) VALUES (?, ?, ?, ?, '走访座谈', ?)
          """)
      let insertDemand = try db.cachedStatement(
        sql: """
          INSERT INTO demands (number, uscc, category, description, department_code, limit_working_days, state, handler, answer, satisfaction,
            raised_by, visit_id, raised_at, clock_start, answered_at, closed_at, due_at, colour, version, updated_at)
          VALUES (?, ?, ?, '用地审批进度咨询', ?, 10, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
          """)
      let categories = DemandCategory.allCases.map(\.rawValue)
      var demandNumber = 0
      for (n, uscc) in usccs.enumerated() {
        let township = townships[n % townships.count]
        for _ in 0..<Int(rng.next() % 5) {
          let day = workingDays[Int(rng.next() % UInt64(workingDays.count))]
          let at = calendar.date(day, at: Self.nine).addingTimeInterval(Double(rng.next() % (6 * 3600)))
          try insertVisit.execute(arguments: [uscc, "\(township)人民政府", "包保干部\(n % 97 + 1)", day.description, at])
          summary.visits += 1
          let visitID = db.lastInsertedRowID
          guard rng.next() % 3 == 0 else { continue }
          demandNumber += 1
          let due = try calendar.due(after: at, workingDays: 10)
          let answeredAt = try calendar.adding(workingSeconds: Int64(1 + rng.next() % 12) * 8 * 3600, to: at)
          let closedAt = answeredAt.addingTimeInterval(Double(rng.next() % (3 * 86_400)))
          let state: DemandState = closedAt <= options.until ? .closed : answeredAt <= options.until ? .answered : .assigned
          let colour = try clock.status(
            of: TimedWork(clockStart: at, limit: .workingDays(10), completedAt: state == .assigned ? nil : answeredAt),
            now: options.until
          ).colour
          try insertDemand.execute(arguments: [
            "SQ-\(day.description.replacingOccurrences(of: "-", with: ""))-\(String(format: "%06d", demandNumber))", uscc,
            categories[Int(rng.next() % UInt64(categories.count))], departments[Int(rng.next() % UInt64(departments.count))],
            state.rawValue,
            "经办人", state == .assigned ? "" : "已答复", state == .closed ? Int(3 + rng.next() % 3) : nil, "包保干部\(n % 97 + 1)", visitID,
            at, at, state == .assigned ? nil : answeredAt, state == .closed ? closedAt : nil, due, colour.rawValue, at,
          ])
          summary.demands += 1
        }
      }
      try AuditLog.append(
        db, at: options.until, actor: actor, action: "seed.generate", entity: "visit", entityID: "*",
        detail: ["visits": String(summary.visits), "demands": String(summary.demands)])
    }

    try self.pool.write { db in
      try DashboardSchema.rebuild(db)
      try DashboardSchema.createTriggers(db)
    }
    try self.pool.writeWithoutTransaction { db in try db.execute(sql: "ANALYZE") }
    return summary
  }

  static let nine: TimeOfDay = {
    guard let t = try? TimeOfDay(hour: 9) else { preconditionFailure("09:00 is a valid time of day") }
    return t
  }()
}
