import BanjieCore
import Foundation
import GRDB
import Synchronization

// The columns of the rows every case mutation writes (cases, case_events), named explicitly:
// GRDB's Codable path converts every property name to snake case and formats every date with a
// DateFormatter on every call (docs/PERFORMANCE.md, "The write path"). The stored text is exactly
// what the Codable path writes, so rows written either way read alike (StoredColumnsTests).

/// A date as GRDB stores it: "yyyy-MM-dd HH:mm:ss.SSS" in UTC, made by arithmetic.
struct StoredDate: DatabaseValueConvertible {
  var date: Date
  init(_ date: Date) { self.date = date }

  var databaseValue: DatabaseValue { Self.text(self.date).databaseValue }

  static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? { Date.fromDatabaseValue(dbValue).map(StoredDate.init) }

  /// GRDB's text of `date` (its DateFormatter rounds to the nearest millisecond).
  static func text(_ date: Date) -> String {
    let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
    return AuditLog.utcText(milliseconds: milliseconds, dateTimeSeparator: UInt8(ascii: " "), zulu: false)
  }
}

extension Optional where Wrapped == Date {
  var stored: StoredDate? { self.map(StoredDate.init) }
}

/// JSON columns as GRDB's Codable path writes them (its `databaseJSONEncoder`: sorted keys).
enum StoredJSON {
  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.dataEncodingStrategy = .base64
    encoder.dateEncodingStrategy = .millisecondsSince1970
    encoder.nonConformingFloatEncodingStrategy = .throw
    encoder.outputFormatting = .sortedKeys
    return encoder
  }()
  static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.dataDecodingStrategy = .base64
    decoder.dateDecodingStrategy = .millisecondsSince1970
    return decoder
  }()

  static func text(_ strings: [String]) throws -> String {
    strings.isEmpty ? "[]" : String(decoding: try Self.encoder.encode(strings), as: UTF8.self)
  }

  static func strings(_ value: DatabaseValue) throws -> [String] {
    switch value.storage {
    case .string(let text):
      if text == "[]" { return [] }
      // Without a backslash no string in the array holds a quote, so `","` only separates
      // them: the common case, without a JSONDecoder.
      if text.utf8.count >= 4, text.hasPrefix("[\""), text.hasSuffix("\"]"), !text.utf8.contains(UInt8(ascii: "\\")) {
        return text.dropFirst(2).dropLast(2).split(separator: "\",\"", omittingEmptySubsequences: false).map(String.init)
      }
      return try Self.decoder.decode([String].self, from: Data(text.utf8))
    case .blob(let data): return try Self.decoder.decode([String].self, from: data)
    case .null: return []
    default: throw DatabaseError(message: "a JSON array column holds a number")
    }
  }
}

/// Service items' JSON arrays (materials, proxy steps) as read before, by their text: SubmitCase
/// reads its item on every call, and splitting the same few texts again was a twentieth of the
/// writer's time. A pure function's memo (the text is the key), so a catalog import needs no
/// invalidation; it forgets everything when it holds more than `limit` texts.
enum ItemArrays {
  static let limit = 4096
  private static let memo = Mutex<[String: [String]]>([:])

  static func strings(_ value: SQLValue) throws -> [String] {
    guard case .text(let text) = value else { return try StoredJSON.strings(value) }
    if let known = Self.memo.withLock({ $0[text] }) { return known }
    let parsed = try StoredJSON.strings(value)
    Self.memo.withLock { memo in
      if memo.count >= Self.limit { memo.removeAll(keepingCapacity: true) }
      memo[text] = parsed
    }
    return parsed
  }
}

extension Row {
  /// A column's raw value as a case of `T`, or a clear error naming the column.
  func value<T: RawRepresentable>(_ column: String, as: T.Type) throws -> T where T.RawValue == String {
    guard let raw: String = self[column] else { throw DatabaseError(message: "column \(column) is missing or NULL") }
    guard let value = T(rawValue: raw) else { throw DatabaseError(message: "column \(column) holds an unknown value '\(raw)'") }
    return value
  }

  func optionalValue<T: RawRepresentable>(_ column: String, as: T.Type) throws -> T? where T.RawValue == String {
    guard let raw: String = self[column] else { return nil }
    guard let value = T(rawValue: raw) else { throw DatabaseError(message: "column \(column) holds an unknown value '\(raw)'") }
    return value
  }
}

extension CaseRecord {
  public init(row: Row) throws {
    self.init(
      id: row["id"], number: try row.decode(forColumn: "number"), itemCode: try row.decode(forColumn: "item_code"),
      departmentCode: try row.decode(forColumn: "department_code"),
      window: try row.decode(forColumn: "window"), applicant: try row.decode(forColumn: "applicant"),
      enterpriseUscc: row["enterprise_uscc"],
      state: try row.value("state", as: CaseState.self), outcome: try row.optionalValue("outcome", as: CaseOutcome.self),
      version: try row.decode(forColumn: "version"), receivedAt: try row.decode(forColumn: "received_at"),
      receivedDay: try row.decode(forColumn: "received_day"), intakeDueAt: row["intake_due_at"],
      acceptedAt: row["accepted_at"], deemedAccepted: try row.decode(forColumn: "deemed_accepted"),
      limitValue: try row.decode(forColumn: "limit_value"),
      limitUnit: try row.value("limit_unit", as: ServiceItemRecord.LimitUnit.self), dueAt: row["due_at"],
      colour: try row.optionalValue("colour", as: SLAColour.self), suspendedSince: row["suspended_since"],
      completedAt: row["completed_at"], deliveredAt: row["delivered_at"],
      missingMaterials: try StoredJSON.strings(row["missing_materials"] ?? .null), lastNote: try row.decode(forColumn: "last_note"),
      receivedBy: try row.decode(forColumn: "received_by"), updatedAt: try row.decode(forColumn: "updated_at"), oneDay: row["one_day"],
      handlingSeconds: row["handling_seconds"],
      handlingBucket: row["handling_bucket"], colourChangesAt: row["colour_changes_at"], township: row["township"] ?? "")
  }

  public func encode(to container: inout PersistenceContainer) throws {
    container["id"] = self.id
    for (column, value) in zip(Self.storedColumns, try self.storedValues()) { container[column] = value.databaseValue }
  }

  /// The columns CaseRecord holds besides `id`, in the order of `storedValues()`: the one list
  /// the record's encoding, `insertNew`, `updateAll` and `byNumber` are made from.
  static let storedColumns = [
    "number", "item_code", "department_code", "window", "applicant", "enterprise_uscc", "state", "outcome", "version", "received_at",
    "received_day", "intake_due_at", "accepted_at", "deemed_accepted", "limit_value", "limit_unit", "due_at", "colour",
    "suspended_since", "completed_at", "delivered_at", "missing_materials", "last_note", "received_by", "updated_at", "one_day",
    "handling_seconds", "handling_bucket", "colour_changes_at", "township",
  ]

  /// `storedColumns` as SQL text: `window` is a reserved word in PostgreSQL and is quoted there
  /// (and here, which SQLite reads the same).
  static let sqlColumns = Self.storedColumns.map { $0 == "window" ? "\"window\"" : $0 }

  /// The values of `storedColumns`, as they are stored (dates as GRDB writes them, JSON arrays).
  func storedValues() throws -> [SQLValue] {
    [
      self.number.sqlValue, self.itemCode.sqlValue, self.departmentCode.sqlValue, self.window.sqlValue, self.applicant.sqlValue,
      self.enterpriseUscc.sqlValue, self.state.sqlValue, self.outcome.sqlValue, self.version.sqlValue, StoredDate(self.receivedAt).sqlValue,
      self.receivedDay.sqlValue, self.intakeDueAt.stored.sqlValue, self.acceptedAt.stored.sqlValue, self.deemedAccepted.sqlValue,
      self.limitValue.sqlValue, self.limitUnit.sqlValue, self.dueAt.stored.sqlValue, self.colour.sqlValue,
      self.suspendedSince.stored.sqlValue, self.completedAt.stored.sqlValue, self.deliveredAt.stored.sqlValue,
      .text(try StoredJSON.text(self.missingMaterials)), self.lastNote.sqlValue, self.receivedBy.sqlValue,
      StoredDate(self.updatedAt).sqlValue, self.oneDay.sqlValue, self.handlingSeconds.sqlValue, self.handlingBucket.sqlValue,
      self.colourChangesAt.stored.sqlValue, self.township.sqlValue,
    ]
  }

}

extension CaseRecord {
  static let insertSQL: String = {
    let columns =
      Self.sqlColumns + [
        "channel", "first_responder_org", "first_responder_person", "responsible_org", "responsible_person", "rating_code",
      ]
    return
      "INSERT INTO cases (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
  }()

  /// A new case in one statement, with the columns CaseRecord does not hold (受理渠道, 首问负责,
  /// the rating code): an UPDATE after the INSERT would run the dashboard triggers twice.
  /// Returns the new row's id (`RETURNING`, on either engine).
  func insertNew(_ sql: any SQLConnection, channel: CaseChannel, responsible actor: Actor, ratingCode: String) throws -> Int64 {
    let responsible: [SQLValue] = [
      .text(channel.rawValue), .text(actor.organization), .text(actor.person), .text(actor.organization), .text(actor.person),
      .text(ratingCode),
    ]
    guard let id = try sql.fetchOne(Int64.self, Self.insertSQL + " RETURNING id", try self.storedValues() + responsible) else {
      throw DatabaseError(message: "a new case came back without an id")
    }
    return id
  }
}

extension CaseEventRecord {
  public func encode(to container: inout PersistenceContainer) throws {
    container["id"] = self.id
    container["case_id"] = self.caseId
    container["seq"] = self.seq
    container["at"] = StoredDate(self.at)
    container["action"] = self.action
    container["from_state"] = self.fromState?.rawValue
    container["to_state"] = self.toState.rawValue
    container["actor_role"] = self.actorRole
    container["actor_organization"] = self.actorOrganization
    container["actor_person"] = self.actorPerson
    container["note"] = self.note
  }
}

extension ServiceItemRecord {
  public init(row: Row) throws {
    let steps = try StoredJSON.strings(row["proxy_steps"] ?? .null).map { raw in
      guard let step = ProxyStep(rawValue: raw) else { throw DatabaseError(message: "column proxy_steps holds an unknown step '\(raw)'") }
      return step
    }
    self.init(
      code: try row.decode(forColumn: "code"), name: try row.decode(forColumn: "name"),
      departmentCode: try row.decode(forColumn: "department_code"), kind: try row.value("kind", as: Kind.self),
      promisedLimit: try row.decode(forColumn: "promised_limit"), limitUnit: try row.value("limit_unit", as: LimitUnit.self),
      legalLimitDays: try row.decode(forColumn: "legal_limit_days"), materials: try StoredJSON.strings(row["materials"] ?? .null),
      allowsMinorPending: try row.decode(forColumn: "allows_minor_pending"), proxySteps: steps)
  }
}

extension ServiceItemRecord {
  /// The item with this code, its columns read by position (a lookup by name compares every
  /// column's name): the item every SubmitCase reads.
  static func byCode(_ db: Database, _ code: String) throws -> ServiceItemRecord? {
    try Self.byCode(SQLiteSQLConnection(db), code)
  }

  static func byCode(_ sql: any SQLConnection, _ code: String) throws -> ServiceItemRecord? {
    guard
      let row = try sql.fetchOne(
        """
        SELECT code, name, department_code, kind, promised_limit, limit_unit, legal_limit_days, materials, allows_minor_pending,
          proxy_steps FROM service_items WHERE code = ?
        """, [.text(code)])
    else { return nil }
    let steps = try ItemArrays.strings(row[9]).map { raw in
      guard let step = ProxyStep(rawValue: raw) else { throw DatabaseError(message: "column proxy_steps holds an unknown step '\(raw)'") }
      return step
    }
    return ServiceItemRecord(
      code: try row.decode(at: 0), name: try row.decode(at: 1), departmentCode: try row.decode(at: 2), kind: try row.decode(at: 3),
      promisedLimit: try row.decode(at: 4), limitUnit: try row.decode(at: 5), legalLimitDays: try row.decode(at: 6),
      materials: try ItemArrays.strings(row[7]), allowsMinorPending: try row.decode(at: 8), proxySteps: steps)
  }

}

extension CaseRecord {
  /// Every column of `cases` CaseRecord holds, in the order `init(positional:)` reads them.
  static let selectByNumberSQL = "SELECT " + (["id"] + Self.sqlColumns).joined(separator: ", ") + " FROM cases WHERE number = ?"

  static let updateSQL =
    "UPDATE cases SET " + Self.sqlColumns.map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ?"

  /// The case with this number, its columns read by position (a lookup by name compares every
  /// column's name, 31 times per case): the case every transition reads.
  static func byNumber(_ db: Database, _ number: String) throws -> CaseRecord? {
    try Self.byNumber(SQLiteSQLConnection(db), number)
  }

  static func byNumber(_ sql: any SQLConnection, _ number: String) throws -> CaseRecord? {
    try sql.fetchOne(Self.selectByNumberSQL, [.text(number)]).map { try CaseRecord(positional: $0) }
  }

  init(positional row: Row) throws {
    func named<T: RawRepresentable>(_ index: Int, _ column: String, as: T.Type) throws -> T? where T.RawValue == String {
      guard let raw: String = row[index] else { return nil }
      guard let value = T(rawValue: raw) else { throw DatabaseError(message: "column \(column) holds an unknown value '\(raw)'") }
      return value
    }
    guard let state = try named(7, "state", as: CaseState.self),
      let unit = try named(16, "limit_unit", as: ServiceItemRecord.LimitUnit.self)
    else { throw DatabaseError(message: "a case without a state or a limit unit") }
    self.init(
      id: row[0], number: try row.decode(atIndex: 1), itemCode: try row.decode(atIndex: 2), departmentCode: try row.decode(atIndex: 3),
      window: try row.decode(atIndex: 4), applicant: try row.decode(atIndex: 5), enterpriseUscc: row[6], state: state,
      outcome: try named(8, "outcome", as: CaseOutcome.self), version: try row.decode(atIndex: 9), receivedAt: try row.decode(atIndex: 10),
      receivedDay: try row.decode(atIndex: 11), intakeDueAt: row[12], acceptedAt: row[13], deemedAccepted: try row.decode(atIndex: 14),
      limitValue: try row.decode(atIndex: 15), limitUnit: unit, dueAt: row[17], colour: try named(18, "colour", as: SLAColour.self),
      suspendedSince: row[19], completedAt: row[20], deliveredAt: row[21], missingMaterials: try StoredJSON.strings(row[22] ?? .null),
      lastNote: try row.decode(atIndex: 23), receivedBy: try row.decode(atIndex: 24), updatedAt: try row.decode(atIndex: 25),
      oneDay: row[26], handlingSeconds: row[27], handlingBucket: row[28], colourChangesAt: row[29], township: row[30] ?? "")
  }

  /// Writes every column back in one cached statement (GRDB's `update` builds its SQL per call).
  func updateAll(_ db: Database) throws { try self.updateAll(SQLiteSQLConnection(db)) }

  func updateAll(_ sql: any SQLConnection) throws {
    guard let id = self.id else { throw DatabaseError(message: "a case without an id cannot be updated") }
    try sql.execute(Self.updateSQL, try self.storedValues() + [.integer(id)])
  }

  /// Writes back only the columns whose stored value differs from `original` (the record as it
  /// was read in this transaction). SQLite rewrites an index when its column is named in the SET
  /// list, changed or not: naming all 30 columns rewrote every index of `cases` on every
  /// transition, about fifteen pages per AcceptCase (docs/PERFORMANCE.md, "The write path").
  /// The dashboard triggers fire on any UPDATE and compare OLD with NEW, so they see the same
  /// change either way. The statements are cached by their text: a transition changes one of a
  /// few sets of columns.
  /// Whether two stored values are the same bytes: `SQLValue`'s `==` compares text as Swift
  /// strings (canonical equivalence), so a note retyped in another Unicode normalization form
  /// would count as unchanged and keep its old bytes.
  static func sameBytes(_ a: SQLValue, _ b: SQLValue) -> Bool {
    switch (a, b) {
    case (.text(let x), .text(let y)): return x.utf8.elementsEqual(y.utf8)
    default: return a == b
    }
  }

  /// `also` are columns of `cases` the record does not hold (the hall's), set by the same
  /// statement.
  func update(_ sql: any SQLConnection, from original: CaseRecord, also: [(column: String, value: SQLValue)] = []) throws {
    guard let id = self.id, original.id == id else { throw DatabaseError(message: "a case is updated from another case's record") }
    let values = try self.storedValues()
    let before = try original.storedValues()
    var text = "UPDATE cases SET "
    var arguments: [SQLValue] = []
    for index in values.indices {
      guard !Self.sameBytes(values[index], before[index]) else { continue }
      if !arguments.isEmpty { text += ", " }
      text += Self.sqlColumns[index]
      text += " = ?"
      arguments.append(values[index])
    }
    for (column, value) in also {
      if !arguments.isEmpty { text += ", " }
      text += column
      text += " = ?"
      arguments.append(value)
    }
    guard !arguments.isEmpty else { return }
    text += " WHERE id = ?"
    arguments.append(.integer(id))
    try sql.execute(text, arguments)
  }
}

extension CaseRecord {
  /// Every column of `cases` CaseRecord holds, in the order `init(positional:)` reads them.
  static let selectColumns = (["id"] + Self.sqlColumns).joined(separator: ", ")

  /// The open cases (RECEIVED, ACCEPTED, SUSPENDED), whose stored timing a new clock or calendar
  /// recomputes: the same statement GRDB's `filter(…contains(Column("state")))` ran, by the same
  /// index.
  static func open(_ sql: some SQLConnection) throws -> [CaseRecord] {
    try sql.fetchAll(
      "SELECT \(Self.selectColumns) FROM cases WHERE state IN (?, ?, ?)",
      [CaseState.received.sqlValue, CaseState.accepted.sqlValue, CaseState.suspended.sqlValue]
    ).map(CaseRecord.init(positional:))
  }

  /// Writes the timing columns back: the four columns a recomputation may change, all named
  /// whether changed or not, as GRDB's `update(db, columns:)` named them.
  func updateTiming(_ sql: some SQLConnection) throws {
    try sql.execute(
      "UPDATE cases SET intake_due_at = ?, due_at = ?, colour = ?, colour_changes_at = ? WHERE id = ?",
      [
        self.intakeDueAt.stored.sqlValue, self.dueAt.stored.sqlValue, self.colour.sqlValue, self.colourChangesAt.stored.sqlValue,
        self.id.sqlValue,
      ])
  }

  /// Writes back only when the colour next changes (the deadline and colour stayed as they were).
  func updateColourChange(_ sql: some SQLConnection) throws {
    try sql.execute("UPDATE cases SET colour_changes_at = ? WHERE id = ?", [self.colourChangesAt.stored.sqlValue, self.id.sqlValue])
  }

  /// A row of `selectColumns`, read by position as `init(positional:)` reads GRDB's row.
  init(positional row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), number: try row.decode(at: 1), itemCode: try row.decode(at: 2), departmentCode: try row.decode(at: 3),
      window: try row.decode(at: 4), applicant: try row.decode(at: 5), enterpriseUscc: try row.decode(at: 6), state: try row.decode(at: 7),
      outcome: try row.decode(at: 8), version: try row.decode(at: 9), receivedAt: try row.decode(StoredDate.self, at: 10).date,
      receivedDay: try row.decode(at: 11), intakeDueAt: try row.decode(StoredDate?.self, at: 12)?.date,
      acceptedAt: try row.decode(StoredDate?.self, at: 13)?.date, deemedAccepted: try row.decode(at: 14),
      limitValue: try row.decode(at: 15),
      limitUnit: try row.decode(at: 16), dueAt: try row.decode(StoredDate?.self, at: 17)?.date, colour: try row.decode(at: 18),
      suspendedSince: try row.decode(StoredDate?.self, at: 19)?.date, completedAt: try row.decode(StoredDate?.self, at: 20)?.date,
      deliveredAt: try row.decode(StoredDate?.self, at: 21)?.date, missingMaterials: try StoredJSON.strings(row[22]),
      lastNote: try row.decode(at: 23), receivedBy: try row.decode(at: 24), updatedAt: try row.decode(StoredDate.self, at: 25).date,
      oneDay: try row.decode(at: 26), handlingSeconds: try row.decode(at: 27), handlingBucket: try row.decode(at: 28),
      colourChangesAt: try row.decode(StoredDate?.self, at: 29)?.date, township: try row.decode(String?.self, at: 30) ?? "")
  }
}
