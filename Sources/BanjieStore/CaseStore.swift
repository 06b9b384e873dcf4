public import BanjieCore
public import Foundation
import GRDB

/// What a window submits.
public struct NewCase: Sendable {
  public var itemCode: String
  public var applicant: String
  public var enterpriseUSCC: String?
  public var window: String
  public var note: String
  /// 受理渠道: window and self-service cases need a window; online and mail cases may have none.
  public var channel: CaseChannel
  public init(
    itemCode: String, applicant: String, enterpriseUSCC: String?, window: String, note: String, channel: CaseChannel = .window
  ) {
    self.itemCode = itemCode
    self.applicant = applicant
    self.enterpriseUSCC = enterpriseUSCC
    self.window = window
    self.note = note
    self.channel = channel
  }
}

/// Filters for listing cases.
public struct CaseFilter: Sendable {
  public var states: [CaseState] = []
  public var colours: [SLAColour] = []
  public var department: String?
  public var item: String?
  public var receivedFrom: LocalDate?
  public var receivedTo: LocalDate?
  public var enterprise: String?
  /// A substring of the applicant's name, matched literally (no wildcards).
  public var applicant: String?
  /// The window, exactly.
  public var window: String?
  /// 受理渠道.
  public var channel: CaseChannel?
  /// A clerk's scope: cases of this department, or that it may read (case_readers), or that this
  /// clerk helps (帮办代办). Set instead of `department` for a clerk's own list.
  public var readableBy: StaffRef?
  public var pageSize = 50
  /// The number of the last case of the previous page.
  public var after: String?
  public init() {}
}

extension BanjieStore {
  private static let jsonDecoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .millisecondsSince1970
    return decoder
  }()

  /// A case's answer as the idempotency table keeps it (CaseViewJSON.swift: the bytes StreamingJSON
  /// writes, without going through Encodable); `decodeView` reads both it and answers JSONEncoder
  /// stored before.
  static func encodeView(_ view: CaseView) throws -> Data { try view.json() }
  static func decodeView(_ data: Data) throws -> CaseView { try jsonDecoder.decode(CaseView.self, from: data) }

  /// Receives a case: numbers it, sets the intake deadline, records the event. The window is
  /// admitted by the registry's rule (docs/DOMAIN.md §18) before `authorize` sees the item.
  public func submitCase(
    _ new: NewCase, regionCode: String, actor: Actor, authorize: @escaping @Sendable (ServiceItemRecord, WindowAdmission) throws -> Void,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?
  ) async throws -> CaseView {
    try FieldRules.code(new.itemCode, field: "item_code")
    try FieldRules.text(new.applicant, field: "applicant", max: 200)
    try FieldRules.text(new.window, field: "window", max: 50, required: new.channel.needsWindow)
    try FieldRules.text(new.note, field: "note", max: 2000, required: false)
    if let uscc = new.enterpriseUSCC, !uscc.isEmpty {
      do { _ = try USCC.validate(uscc) } catch {
        throw DomainError(
          kind: .invalidArgument, code: error.code, messageKey: "field.wrapped", arguments: ["enterprise_uscc"], cause: error,
          field: "enterprise_uscc")
      }
    }
    // Made before the writer is taken: nothing in it depends on the database.
    let ratingCode = RatingCode.generate()
    return try await self.mutate(idempotency: key, method: "SubmitCase", encode: Self.encodeView, decode: Self.decodeView, now: now) {
      sql in
      // Read in the writer, after any calendar import or settings change it ran before.
      let clock = currentClock()
      guard let item = try ServiceItemRecord.byCode(sql, new.itemCode) else {
        throw DomainError(kind: .invalidArgument, code: "case.unknown_item", arguments: [new.itemCode], field: "item_code")
      }
      // Online and mail cases (受理渠道) may come in without a window: a back office receives them.
      let admission =
        new.window.isEmpty && !new.channel.needsWindow
        ? WindowAdmission(window: nil, callerIsStaff: false) : try Self.admitWindow(sql, window: new.window, actor: actor)
      try authorize(item, admission)
      if let window = admission.window, !window.serves(item.departmentCode) {
        throw DomainError(
          kind: .failedPrecondition, code: "case.window_department", arguments: [window.code, item.departmentCode, item.code],
          field: "window")
      }
      // A registered window is stored by its code, so "Ａ０３" and "a03" count as one window.
      let window = admission.window?.code ?? new.window
      let day = clock.calendar.localDate(of: now)
      let number = try Self.dailyNumber(
        sql, sequences: "case_number_sequences", prefix: nil, regionCode: regionCode, day: day, digits: 6)
      var record = CaseRecord(
        id: nil, number: number, itemCode: item.code, departmentCode: item.departmentCode, window: window,
        applicant: new.applicant, enterpriseUscc: new.enterpriseUSCC.flatMap { $0.isEmpty ? nil : $0.uppercased() },
        state: .received, outcome: nil, version: 1, receivedAt: now, receivedDay: day.description,
        intakeDueAt: try clock.intakeDeadline(receivedAt: now), acceptedAt: nil, deemedAccepted: false,
        limitValue: item.promisedLimit, limitUnit: item.limitUnit, dueAt: nil, colour: nil, suspendedSince: nil,
        completedAt: nil, deliveredAt: nil, missingMaterials: [], lastNote: new.note, receivedBy: "\(actor.person) (\(actor.organization))",
        updatedAt: now
      )
      if let uscc = record.enterpriseUscc {
        record.township = try sql.fetchOne(String.self, "SELECT township FROM enterprises WHERE uscc = ?", [.text(uscc)]) ?? ""
      }
      // 首问负责: the receiving clerk is the first responder and responsible until a hand-over;
      // the receipt carries a one-time rating code (评价码).
      record.id = try record.insertNew(sql, channel: new.channel, responsible: actor, ratingCode: ratingCode)
      // The answer is what `view` would read back (CaseLifecycleTests compares them): a new case
      // has no SLA clock yet and no pending materials, and its hall columns are these.
      var hall = CaseHall()
      hall.channel = new.channel
      hall.firstResponder = StaffRef(organization: actor.organization, person: actor.person)
      hall.responsible = hall.firstResponder
      hall.ratingCode = ratingCode
      if actor.role == .clerk, actor.organization != item.departmentCode, let id = record.id {
        // 一窗受理: the receiving window's department keeps read access and may deliver there.
        try Self.addReader(sql, caseID: id, department: actor.organization, reason: .receiving, at: now)
        hall.readers[actor.organization] = .receiving
      }
      try Self.appendEvent(sql, record: record, action: "receive", from: nil, actor: actor, note: new.note, at: now)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "case.receive", entity: "case", entityID: number,
        detail: ["item": item.code, "department": item.departmentCode, "window": window, "channel": new.channel.rawValue])
      let departmentName =
        try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(item.departmentCode)]) ?? item.departmentCode
      return CaseView(record: record, itemName: item.name, departmentName: departmentName, sla: nil, pending: nil, hall: hall)
    }
  }

  /// Applies one transition: authorizes against the stored case, checks the version, lets the
  /// state machine decide, and records the event and audit row in the same transaction.
  public func transition(
    number: String, action: CaseAction, expectedVersion: Int64?, actor: Actor,
    authorize: @escaping @Sendable (CaseRecord, CaseParties) throws -> CaseAuthority,
    clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, key: IdempotencyKey?,
    pending: PendingAcceptance? = nil, transferNote: String = "", delivery: Delivery = Delivery()
  ) async throws -> CaseView {
    try await self.mutate(
      idempotency: key, method: "case.\(action.name.rawValue)", encode: Self.encodeView, decode: Self.decodeView, now: now
    ) { sql in
      // Read in the writer, after any calendar import or settings change it ran before.
      let clock = currentClock()
      guard var record = try CaseRecord.byNumber(sql, number) else {
        throw DomainError(kind: .notFound, code: "case.not_found", arguments: [number], field: "number")
      }
      guard let caseID = record.id else {
        throw DomainError(kind: .failedPrecondition, code: "case.corrupt", arguments: [number])
      }
      let original = record
      let (parties, hallBefore) = try Self.partiesAndHall(sql, record: record)
      let authority = try authorize(record, parties)
      if let expectedVersion, expectedVersion != record.version {
        throw DomainError(
          kind: .aborted, code: "case.version_conflict", arguments: [number, "\(record.version)", "\(expectedVersion)"],
          field: "expected_version")
      }
      var machine = try CaseStateMachine(state: record.state, department: record.departmentCode, outcome: record.outcome)
      if case .transfer(let target) = action {
        try FieldRules.code(target, field: "to_department")
        guard try sql.present("departments", "code", .text(target)) else {
          throw DomainError(kind: .invalidArgument, code: "case.unknown_department", arguments: [target], field: "to_department")
        }
      }
      let transition = try machine.apply(action)
      var note = ""
      var extraDetail: [String: String] = [:]
      var served: String?
      // The hall's columns CaseRecord does not hold, written by the same UPDATE as the record.
      var hallColumns: [(column: String, value: SQLValue)] = []
      // The window of a delivery, when this is one.
      var deliveredAt: String?
      switch action {
      case .accept:
        record.acceptedAt = now
        record.intakeDueAt = nil
        record.missingMaterials = []
        if let pending, !pending.materials.isEmpty {
          // 容缺受理: only for items whose catalog entry allows it, with materials of the item.
          let inserted = try Self.insertPendingMaterials(sql, record: record, caseID: caseID, pending: pending, clock: clock, now: now)
          note = "pending: " + inserted.map(\.material).joined(separator: ", ")
          extraDetail["pending"] = inserted.map(\.material).joined(separator: ", ")
          extraDetail["promised_by"] = inserted.first.map { AuditLog.timestamp($0.promisedBy) } ?? ""
        }
      case .requestSupplement(let missing):
        record.missingMaterials = missing
        record.intakeDueAt = nil
        note = "missing: " + missing.joined(separator: ", ")
        record.lastNote = note
      case .supplementReceived:
        record.missingMaterials = []
        record.lastNote = ""
        note = "materials supplied"
        record.intakeDueAt = try clock.intakeDeadline(receivedAt: now)
      case .refuse(let reason):
        record.intakeDueAt = nil
        record.lastNote = reason
        note = reason
      case .suspend(let reason):
        record.suspendedSince = now
        record.lastNote = reason
        note = reason
        try sql.execute(
          "INSERT INTO case_suspensions (case_id, start_at, reason) VALUES (?, ?, ?)",
          [.integer(caseID), StoredDate(now).sqlValue, .text(reason)])
      case .resume:
        record.suspendedSince = nil
        try sql.execute(
          "UPDATE case_suspensions SET end_at = ? WHERE case_id = ? AND end_at IS NULL", [StoredDate(now).sqlValue, .integer(caseID)])
      case .transfer(let target):
        // The sending department keeps the history readable (docs/DOMAIN.md §22).
        note = "from \(record.departmentCode) to \(target): \(transferNote)"
        // (A reader department the case comes back to keeps its row: handling goes first, and its
        // reason stays if the case leaves again.)
        try Self.addReader(sql, caseID: caseID, department: record.departmentCode, reason: .transfer, at: now)
        record.departmentCode = target
      case .complete(let outcome):
        if outcome == .approved {
          // 容缺受理: no approval while a pending material is neither supplied nor waived.
          let open = try Self.openPendingMaterials(sql, caseID: caseID)
          guard open.isEmpty else {
            throw DomainError(
              kind: .failedPrecondition, code: "case.pending_materials_open",
              arguments: [number, open.joined(separator: ", ")], field: "pending_materials")
          }
        }
        record.completedAt = now
        record.outcome = outcome
        note = outcome.rawValue
        // Completed where the applicant came: a window or self-service case's receiving window.
        let channel = try sql.fetchOne(String.self, "SELECT channel FROM cases WHERE id = ?", [.integer(caseID)])
        if channel.flatMap(CaseChannel.init(rawValue:))?.needsWindow ?? true, !record.window.isEmpty { served = record.window }
      case .deliver:
        record.deliveredAt = now
        let window = try Self.deliveryWindow(sql, record: record, delivery: delivery, actor: actor)
        hallColumns += [("delivery_channel", .text(delivery.channel.rawValue)), ("delivery_window", .text(window))]
        deliveredAt = window
        note = window.isEmpty ? delivery.channel.rawValue : "\(delivery.channel.rawValue) \(window)"
        extraDetail["delivery"] = note
        if delivery.channel == .window { served = window }
      case .withdraw:
        record.intakeDueAt = nil
        record.lastNote = "withdrawn"
      }
      record.state = machine.state
      record.version += 1
      record.updatedAt = now
      let timing = try Self.refreshTiming(sql, &record, clock: clock, now: now)
      if let served {
        // Where the applicant was last served: the rating pad of that window may rate it.
        hallColumns += [("served_window", .text(served)), ("served_at", StoredDate(now).sqlValue)]
      }
      try record.update(sql, from: original, also: hallColumns)
      // The answer's hall: the one read for authorization, changed as this transition changed it.
      var hall = hallBefore
      if let deliveredAt {
        hall?.deliveryChannel = delivery.channel
        hall?.deliveryWindow = deliveredAt
      }
      if let served {
        hall?.servedWindow = served
        hall?.servedAt = now
      }
      if case .transfer = action { hall?.readers = try Self.readers(sql, caseID: caseID) }
      switch authority {
      case .helper:
        // 帮办代办: the helper acted for the applicant; the event and audit row say so.
        note = note.isEmpty ? "on behalf of \(record.applicant)" : "\(note) (on behalf of \(record.applicant))"
        extraDetail["on_behalf_of"] = record.applicant
      case .receivingWindow: extraDetail["receiving_window"] = actor.organization
      case .handler: break
      }
      try Self.appendEvent(
        sql, record: record, action: transition.action.name.rawValue, from: transition.from, actor: actor, note: note, at: now)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "case.\(transition.action.name.rawValue)", entity: "case", entityID: number,
        detail: ["from": transition.from.rawValue, "to": transition.to.rawValue, "version": String(record.version), "note": note]
          .merging(extraDetail) { current, _ in current })
      return try self.view(sql, record, clock: clock, now: now, timing: timing, hall: hall)
    }
  }

  /// What `refreshTiming` computed: the case's SLA status at `now` when it computed one (a case
  /// completed earlier keeps its figures, and its status is computed again when asked).
  enum Timing {
    case computed(SLAStatus?)
    case unchanged
  }

  /// Recomputes the stored due time and colour from the acceptance time, limit and suspensions.
  @discardableResult
  static func refreshTiming(_ db: Database, _ record: inout CaseRecord, clock: SLAClock, now: Date) throws -> Timing {
    try Self.refreshTiming(SQLiteSQLConnection(db), &record, clock: clock, now: now)
  }

  @discardableResult
  static func refreshTiming(_ sql: any SQLConnection, _ record: inout CaseRecord, clock: SLAClock, now: Date) throws -> Timing {
    // A completed case's deadline, colour and figures were fixed when it was completed (under the
    // calendar then in force); a later delivery or calendar import leaves them as they were.
    if record.completedAt != nil && record.handlingSeconds != nil { return .unchanged }
    try Self.fixCompletionFigures(sql, &record, clock: clock)
    guard let status = try Self.status(sql, record, clock: clock, now: now) else {
      record.dueAt = nil
      record.colour = nil
      record.colourChangesAt = nil
      return .computed(nil)
    }
    record.dueAt = status.due
    record.colour = status.colour
    record.colourChangesAt = record.state == .accepted ? try clock.nextColourChange(of: status, now: now) : nil
    return .computed(status)
  }

  /// The dashboard's figures of a completed case (CaseRecord.oneDay and the handling time: the
  /// working time its clock ran from acceptance to completion, suspensions excluded); nil while
  /// it is open.
  static func fixCompletionFigures(_ db: Database, _ record: inout CaseRecord, clock: SLAClock) throws {
    try Self.fixCompletionFigures(SQLiteSQLConnection(db), &record, clock: clock)
  }

  static func fixCompletionFigures(_ sql: any SQLConnection, _ record: inout CaseRecord, clock: SLAClock) throws {
    guard let completedAt = record.completedAt else {
      record.oneDay = nil
      record.handlingSeconds = nil
      record.handlingBucket = nil
      return
    }
    let start = record.acceptedAt ?? record.receivedAt
    let suspensions = try record.id.map { try Self.suspensions(sql, caseID: $0) } ?? []
    let status = try clock.status(
      clockStart: start, limit: record.limit, suspensions: suspensions, completedAt: completedAt, now: completedAt)
    let seconds = status.usedSeconds
    // 一日办结 needs the completion on time as well as within one working day (SLAClock).
    record.oneDay = status.isOneDayCompletion ?? false
    record.handlingSeconds = seconds
    record.handlingBucket = HandlingHistogram.bucket(seconds: seconds)
  }

  static func suspensions(_ db: Database, caseID: Int64) throws -> [Suspension] {
    try Self.suspensions(SQLiteSQLConnection(db), caseID: caseID)
  }

  static func suspensions(_ sql: any SQLConnection, caseID: Int64) throws -> [Suspension] {
    try sql.fetchAll("SELECT start_at, end_at FROM case_suspensions WHERE case_id = ? ORDER BY start_at", [.integer(caseID)]).map {
      Suspension(start: try $0.decode(StoredDate.self, at: 0).date, end: try $0.decode(StoredDate?.self, at: 1)?.date)
    }
  }

  static func status(_ sql: any SQLConnection, _ record: CaseRecord, clock: SLAClock, now: Date) throws -> SLAStatus? {
    guard let accepted = record.acceptedAt, let id = record.id else { return nil }
    let suspensions = try Self.suspensions(sql, caseID: id)
    return try clock.status(clockStart: accepted, limit: record.limit, suspensions: suspensions, completedAt: record.completedAt, now: now)
  }

  /// The case as a caller sees it. `timing` and `hall` are what a transition already computed
  /// and read in this transaction (the status at `now` of the record as written; the hall as
  /// written); without them both are read.
  func view(
    _ sql: any SQLConnection, _ record: CaseRecord, clock: SLAClock, now: Date, timing: Timing = .unchanged, hall: CaseHall? = nil
  ) throws -> CaseView {
    let itemName =
      try sql.fetchOne(String.self, "SELECT name FROM service_items WHERE code = ?", [.text(record.itemCode)]) ?? record.itemCode
    let departmentName =
      try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(record.departmentCode)]) ?? record.departmentCode
    let status: SLAStatus?
    switch timing {
    case .computed(let computed): status = computed
    case .unchanged: status = try Self.status(sql, record, clock: clock, now: now)
    }
    let sla = status.map { SLAStatusSnapshot($0, at: now) }
    let pending = try Self.pendingMaterials(sql, record, clock: clock, now: now)
    return CaseView(
      record: record, itemName: itemName, departmentName: departmentName, sla: sla, pending: pending.isEmpty ? nil : pending,
      hall: try hall ?? record.id.map { try Self.hall(sql, caseID: $0) })
  }

  static func appendEvent(
    _ sql: any SQLConnection, record: CaseRecord, action: String, from: CaseState?, actor: Actor, note: String, at: Date
  ) throws {
    guard let id = record.id else { return }
    let seq = (try sql.fetchOne(Int64.self, "SELECT MAX(seq) FROM case_events WHERE case_id = ?", [.integer(id)]) ?? 0) + 1
    try sql.execute(
      """
      INSERT INTO case_events (case_id, seq, at, action, from_state, to_state, actor_role, actor_organization, actor_person, note)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .integer(id), .integer(seq), StoredDate(at).sqlValue, .text(action), from.sqlValue, record.state.sqlValue,
        .text(actor.role.rawValue), .text(actor.organization), .text(actor.person), .text(note),
      ])
  }

  public func caseView(number: String, clock: SLAClock, now: Date) async throws -> CaseView? {
    try await self.read { sql in
      guard let record = try CaseRecord.byNumber(sql, number) else { return nil }
      return try self.view(sql, record, clock: clock, now: now)
    }
  }

  /// A case's events, with the parties that may read them.
  public func caseHistory(number: String) async throws -> (CaseRecord, [CaseEventRecord], CaseParties)? {
    try await self.read { sql in
      guard let record = try CaseRecord.byNumber(sql, number), let id = record.id else { return nil }
      let events = try sql.fetchAll(
        "SELECT \(CaseEventRecord.columns) FROM case_events WHERE case_id = ? ORDER BY seq", [.integer(id)]
      ).map(CaseEventRecord.init(sqlRow:))
      return (record, events, try Self.parties(sql, record: record))
    }
  }

  /// A page of cases, newest first, and the total that match.
  public func listCases(_ filter: CaseFilter, clock: SLAClock, now: Date) async throws -> (views: [CaseView], total: Int, next: String?) {
    try await self.read { sql in
      var conditions: [String] = []
      var arguments: [SQLValue] = []
      func isIn(_ column: String, _ values: [String]) {
        conditions.append("\(column) IN (\(values.map { _ in "?" }.joined(separator: ", ")))")
        arguments += values.map(SQLValue.text)
      }
      if !filter.states.isEmpty { isIn("state", filter.states.map(\.rawValue)) }
      if !filter.colours.isEmpty { isIn("colour", filter.colours.map(\.rawValue)) }
      if let department = filter.department, !department.isEmpty {
        conditions.append("department_code = ?")
        arguments.append(.text(department))
      }
      if let item = filter.item, !item.isEmpty {
        conditions.append("item_code = ?")
        arguments.append(.text(item))
      }
      if let from = filter.receivedFrom {
        conditions.append("received_day >= ?")
        arguments.append(.text(from.description))
      }
      if let to = filter.receivedTo {
        conditions.append("received_day <= ?")
        arguments.append(.text(to.description))
      }
      if let enterprise = filter.enterprise, !enterprise.isEmpty {
        conditions.append("enterprise_uscc = ?")
        arguments.append(.text(enterprise.uppercased()))
      }
      if let applicant = filter.applicant, !applicant.isEmpty {
        // instr() (strpos) rather than LIKE: the name is matched literally, % and _ included.
        conditions.append(sql.dialect.contains("applicant", "?"))
        arguments.append(.text(applicant))
      }
      if let window = filter.window, !window.isEmpty {
        conditions.append("\"window\" = ?")
        arguments.append(.text(window))
      }
      if let channel = filter.channel {
        conditions.append("channel = ?")
        arguments.append(.text(channel.rawValue))
      }
      if let clerk = filter.readableBy {
        conditions.append(
          """
          (department_code = ? OR id IN (SELECT case_id FROM case_readers WHERE department_code = ?)
            OR (helper_org = ? AND helper_person = ?))
          """)
        arguments += [.text(clerk.organization), .text(clerk.organization), .text(clerk.organization), .text(clerk.person)]
      }
      func whereClause() -> String { conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ") }
      let total = try sql.fetchAll(uncached: "SELECT COUNT(*) FROM cases" + whereClause(), arguments).first?.decode(Int.self, at: 0) ?? 0
      if let after = filter.after {
        conditions.append("number < ?")
        arguments.append(.text(after))
      }
      arguments.append(.integer(Int64(filter.pageSize)))
      let records = try sql.fetchAll(
        uncached: "SELECT \(CaseRecord.selectColumns) FROM cases" + whereClause() + " ORDER BY number DESC LIMIT ?", arguments
      ).map(CaseRecord.init(positional:))
      let views = try records.map { try self.view(sql, $0, clock: clock, now: now) }
      let next = records.count == filter.pageSize ? records.last?.number : nil
      return (views, total, next)
    }
  }

  /// Cases on the clock (accepted or suspended) by their stored colour, for the metrics
  /// endpoint: one indexed query, no SLA computation. The sweeper keeps stored colours current
  /// to within its interval; a case on the clock always has one, but a missing colour would
  /// count as green.
  public func openCasesByColour() async throws -> [SLAColour: Int] {
    try await self.read { sql in
      var counts: [SLAColour: Int] = [:]
      let rows = try sql.fetchAll(
        """
        SELECT COALESCE(colour, 'green') AS colour, COUNT(*) AS n FROM cases
        WHERE state IN (?, ?) GROUP BY COALESCE(colour, 'green')
        """, [CaseState.accepted.sqlValue, CaseState.suspended.sqlValue])
      for row in rows {
        guard let colour = SLAColour(rawValue: try row.decode(String.self, at: 0)) else { continue }
        counts[colour, default: 0] += try row.decode(Int.self, at: 1)
      }
      return counts
    }
  }

  // MARK: - The SLA sweeper

  /// Deems overdue intakes accepted and moves open cases' colours forward; returns the alerts
  /// it raised (already stored) for the caller to publish.
  /// One sweeper pass over cases. `full`: every open case on the clock (which also fills in
  /// `colour_changes_at` where it is missing); otherwise only those whose next colour change has
  /// come, found through an index, so it can run every second on any size of database.
  public func sweep(clock currentClock: @autoclosure @escaping @Sendable () -> SLAClock, now: Date, full: Bool = true) async throws
    -> [AlertRecord]
  {
    try await self.mutate { sql in
      // Read in the writer, so a calendar import that committed before this pass is in force.
      let clock = currentClock()
      var alerts: [AlertRecord] = []
      // Intake not decided in time: the case counts as accepted at receipt.
      let late = try sql.fetchAll(
        "SELECT \(CaseRecord.selectColumns) FROM cases WHERE state = ? AND intake_due_at <= ? ORDER BY id",
        [CaseState.received.sqlValue, StoredDate(now).sqlValue]
      ).map(CaseRecord.init(positional:))
      for var record in late {
        record.state = .accepted
        record.acceptedAt = record.receivedAt
        record.deemedAccepted = true
        record.intakeDueAt = nil
        record.version += 1
        record.updatedAt = now
        try Self.refreshTiming(sql, &record, clock: clock, now: now)
        try record.updateAll(sql)
        try Self.appendEvent(
          sql, record: record, action: "deemed_accept", from: .received, actor: .system, note: "intake limit passed", at: now)
        try AuditLog.append(sql, at: now, actor: .system, action: "case.deemed_accept", entity: "case", entityID: record.number)
        var alert = AlertRecord(
          id: nil, at: now, kind: "case.deemed_accepted", subject: "case \(record.number)", departmentCode: record.departmentCode,
          colour: record.colour ?? .green,
          message: "case \(record.number) was not decided within the intake limit and counts as accepted at receipt")
        alert.id = try AlertRecord.insert(sql, alert)
        alerts.append(alert)
      }
      // Colours only move forward while the clock runs (suspended cases are frozen).
      let open =
        full
        ? try sql.fetchAll(
          "SELECT \(CaseRecord.selectColumns) FROM cases WHERE state = ? AND colour <> ? ORDER BY id",
          [CaseState.accepted.sqlValue, SLAColour.red.sqlValue]
        ).map(CaseRecord.init(positional:))
        : try sql.fetchAll(
          """
          SELECT \(CaseRecord.selectColumns) FROM cases
          WHERE colour_changes_at IS NOT NULL AND colour_changes_at <= ? AND state = 'ACCEPTED' ORDER BY colour_changes_at, id
          """, [StoredDate(now).sqlValue]
        ).map(CaseRecord.init(positional:))
      for var record in open {
        guard let status = try Self.status(sql, record, clock: clock, now: now) else { continue }
        let next = try clock.nextColourChange(of: status, now: now)
        guard status.colour != record.colour else {
          if next != record.colourChangesAt {
            record.colourChangesAt = next
            try record.updateColourChange(sql)
          }
          continue
        }
        let previous = record.colour
        record.colour = status.colour
        record.dueAt = status.due
        record.colourChangesAt = next
        try sql.execute(
          "UPDATE cases SET colour = ?, due_at = ?, colour_changes_at = ? WHERE id = ?",
          [record.colour.sqlValue, record.dueAt.stored.sqlValue, record.colourChangesAt.stored.sqlValue, record.id.sqlValue])
        try AuditLog.append(
          sql, at: now, actor: .system, action: "case.colour", entity: "case", entityID: record.number,
          detail: ["from": previous?.rawValue ?? "", "to": status.colour.rawValue])
        let text: String
        switch status.colour {
        case .red: text = "case \(record.number) is overdue (due \(AuditLog.timestamp(status.due)))"
        case .yellow:
          text =
            "case \(record.number) has used \(Int(status.fractionUsed * 100)) % of its working time (due \(AuditLog.timestamp(status.due)))"
        case .green: continue
        }
        var alert = AlertRecord(
          id: nil, at: now, kind: "case.\(status.colour.rawValue)", subject: "case \(record.number)",
          departmentCode: record.departmentCode, colour: status.colour, message: text)
        alert.id = try AlertRecord.insert(sql, alert)
        alerts.append(alert)
      }
      return alerts
    }
  }

  public func recentAlerts(since: Date, department: String?) async throws -> [AlertRecord] {
    try await self.read { sql in
      let rows: [SQLRow]
      if let department, !department.isEmpty {
        rows = try sql.fetchAll(
          "SELECT \(AlertRecord.columns) FROM alerts WHERE at >= ? AND department_code = ? ORDER BY id",
          [StoredDate(since).sqlValue, .text(department)])
      } else {
        rows = try sql.fetchAll("SELECT \(AlertRecord.columns) FROM alerts WHERE at >= ? ORDER BY id", [StoredDate(since).sqlValue])
      }
      return try rows.map(AlertRecord.init(sqlRow:))
    }
  }
}

extension CaseEventRecord {
  /// The columns `init(sqlRow:)` reads by position, as the Codable record names them.
  static let columns = "id, case_id, seq, at, action, from_state, to_state, actor_role, actor_organization, actor_person, note"

  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), caseId: try row.decode(at: 1), seq: try row.decode(at: 2), at: try row.decode(StoredDate.self, at: 3).date,
      action: try row.decode(at: 4), fromState: try row.decode(at: 5), toState: try row.decode(at: 6), actorRole: try row.decode(at: 7),
      actorOrganization: try row.decode(at: 8), actorPerson: try row.decode(at: 9), note: try row.decode(at: 10))
  }
}
