public import BanjieCore
public import Foundation
public import GRDB

public struct RatingRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "ratings"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var caseId: Int64
  public var caseNumber: String
  public var uscc: String
  public var level: Int
  public var comment: String
  public var tags: [String]
  public var ratedAt: Date
  public var ratedBy: String
  public var excluded: Bool
  public var excludedReason: String
  public var excludedAt: Date?
  /// How it was given (docs/DOMAIN.md §21). Optional, like the device, only so that idempotent
  /// replays stored before these columns existed still decode; the table always has them.
  public var via: RatingVia? = nil
  /// The rating pad's device id when given on a pad (also when a code was redeemed there); '' otherwise.
  public var device: String? = nil

  public var isBad: Bool { self.level <= 2 }
}

/// A rating with the case facts it is measured by.
public struct RatingView: Codable, Sendable, Hashable {
  public var record: RatingRecord
  public var departmentCode: String
  public var window: String
  public var itemCode: String
  public var rectificationNumber: String?
}

public struct RectificationRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "rectifications"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var number: String
  public var caseId: Int64
  public var caseNumber: String
  public var departmentCode: String
  public var state: RectificationState
  public var limitWorkingDays: Int
  public var openedAt: Date
  public var dueAt: Date
  public var colour: SLAColour
  public var verifiedValid: Bool?
  public var verificationEvidence: String
  public var verifiedBy: String
  public var verifiedAt: Date?
  public var measures: String
  public var rectifiedAt: Date?
  /// When the department's part ended: measures recorded, or the 差评 verified as not valid.
  public var completedAt: Date?
  public var followUpResult: String
  public var followUpSatisfied: Bool?
  public var followedUpAt: Date?
  public var closedAt: Date?
  public var closeNote: String
  public var appealState: AppealState
  public var appealReason: String
  public var appealDecision: String
  public var appealedAt: Date?
  public var appealDecidedAt: Date?
  public var version: Int64
  public var updatedAt: Date
  // docs/DOMAIN.md §21. Optional only so that idempotent replays stored before these columns
  // existed still decode; a row read from the table always has them ('' when not set).
  /// The clerk who was rated: the actor of the case's latest completion.
  public var ratedOrg: String? = nil
  public var ratedPerson: String? = nil
  /// The rater's confirmation that closing needs, how it was obtained, in whose words, by whom, when.
  public var confirmation: RectificationConfirmation? = nil
  public var confirmationNote: String? = nil
  public var confirmedBy: String? = nil
  public var confirmedAt: Date? = nil

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

  public var timedWork: TimedWork {
    TimedWork(clockStart: self.openedAt, limit: .workingDays(self.limitWorkingDays), completedAt: self.completedAt ?? self.closedAt)
  }
}

public struct RectificationView: Codable, Sendable, Hashable {
  public var record: RectificationRecord
  public var departmentName: String
  public var sla: SLAStatusSnapshot?
  public var rating: RatingView
}

/// One row of the rating measures (see ratings.proto for the definitions).
public struct RatingMeasuresRow: Sendable, Hashable {
  public var key: String
  public var name: String
  public var completed = 0
  public var rated = 0
  public var excluded = 0
  public var good = 0
  public var bad = 0
  public var rectifiedOnTime = 0
  public var followedUp = 0

  public init(key: String, name: String) {
    self.key = key
    self.name = name
  }

  public var unrated: Int { self.completed - self.rated }
  public var goodShare: Double { Self.share(self.good, self.rated) }
  public var unratedShare: Double { Self.share(self.unrated, self.completed) }
  public var rectifiedOnTimeShare: Double { Self.share(self.rectifiedOnTime, self.bad) }
  public var followUpShare: Double { Self.share(self.followedUp, self.bad) }

  static func share(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
}

public enum RatingGrouping: String, Sendable, Hashable, CaseIterable {
  case department, window, item
}

public struct RatingMeasuresReport: Sendable, Hashable {
  public var from: LocalDate
  public var to: LocalDate
  public var by: RatingGrouping
  public var total: RatingMeasuresRow
  public var groups: [RatingMeasuresRow]
}

public enum CampaignState: String, Sendable, Hashable, CaseIterable, Codable {
  case draft = "DRAFT"
  case open = "OPEN"
  case closed = "CLOSED"
  case published = "PUBLISHED"
}

public struct ReviewCampaignRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "review_campaigns"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var name: String
  public var periodFrom: String
  public var periodTo: String
  public var departments: [String]
  public var dimensions: [CampaignDimension]
  public var state: CampaignState
  public var createdAt: Date
  public var createdBy: String
  public var openedAt: Date?
  public var closedAt: Date?
  public var publishedAt: Date?

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

public struct NewReviewCampaign: Sendable, Hashable {
  public var name: String
  public var from: LocalDate
  public var to: LocalDate
  public var departments: [String]
  public var dimensions: [CampaignDimension]
  public var invited: [String]
  public init(name: String, from: LocalDate, to: LocalDate, departments: [String], dimensions: [CampaignDimension], invited: [String]) {
    self.name = name
    self.from = from
    self.to = to
    self.departments = departments
    self.dimensions = dimensions
    self.invited = invited
  }
}

public struct ReviewCampaignView: Codable, Sendable, Hashable {
  public var record: ReviewCampaignRecord
  public var invited: [String]
  public var reviews: Int
  public var reviewedByCaller: [String]
}

public struct CampaignReviewView: Codable, Sendable, Hashable {
  public var campaignId: Int64
  public var uscc: String
  public var departmentCode: String
  public var scores: [String: Int]
  public var weightedHundredths: Int
  public var comment: String
  public var submittedAt: Date
}

public struct DepartmentResultRow: Sendable, Hashable {
  public var departmentCode: String
  public var departmentName: String
  /// Σ over reviews of the weighted score in hundredths; the mean is sum / reviews / 100.
  public var weightedSum: Int
  public var reviews: Int
  public var invited: Int
  public var rank: Int
  public var score: Double { self.reviews == 0 ? 0 : Double(self.weightedSum) / Double(self.reviews) / 100 }
  public var responseRate: Double { self.invited == 0 ? 0 : Double(self.reviews) / Double(self.invited) }
}

extension RatingVia: SQLValueConvertible {}
extension RectificationState: SQLValueConvertible {}
extension AppealState: SQLValueConvertible {}
extension RectificationConfirmation: SQLValueConvertible {}

extension RatingRecord {
  /// The columns of `ratings`, in the order of `storedValues` and `init(sqlRow:)`, as the Codable
  /// record names them.
  static let storedColumns = [
    "case_id", "case_number", "uscc", "level", "comment", "tags", "rated_at", "rated_by", "excluded", "excluded_reason", "excluded_at",
    "via", "device",
  ]
  static let columns = Self.storedColumns.joined(separator: ", ")
  static let insertSQL =
    "INSERT INTO ratings (\(Self.columns)) VALUES (" + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ")"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them,
  /// the tags as its JSON).
  func storedValues() throws -> [SQLValue] {
    [
      .integer(self.caseId), .text(self.caseNumber), .text(self.uscc), self.level.sqlValue, .text(self.comment),
      .text(try StoredJSON.text(self.tags)), StoredDate(self.ratedAt).sqlValue, .text(self.ratedBy), self.excluded.sqlValue,
      .text(self.excludedReason), self.excludedAt.stored.sqlValue, self.via.sqlValue, self.device.sqlValue,
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      caseId: try row.decode(at: 0), caseNumber: try row.decode(at: 1), uscc: try row.decode(at: 2), level: try row.decode(at: 3),
      comment: try row.decode(at: 4), tags: try StoredJSON.strings(row[5]), ratedAt: try row.decode(StoredDate.self, at: 6).date,
      ratedBy: try row.decode(at: 7), excluded: try row.decode(at: 8), excludedReason: try row.decode(at: 9),
      excludedAt: try row.decode(StoredDate?.self, at: 10)?.date, via: try row.decode(at: 11), device: try row.decode(at: 12))
  }

  func insert(_ sql: any SQLConnection) throws {
    try sql.execute(Self.insertSQL, try self.storedValues())
  }

  /// The rating of the case with this id.
  static func byCaseID(_ sql: any SQLConnection, _ caseID: Int64) throws -> RatingRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM ratings WHERE case_id = ?", [.integer(caseID)]).map(RatingRecord.init(sqlRow:))
  }
}

extension RectificationRecord {
  /// The columns besides `id`, in the order of `storedValues`, as the Codable record names them.
  static let storedColumns = [
    "number", "case_id", "case_number", "department_code", "state", "limit_working_days", "opened_at", "due_at", "colour",
    "verified_valid", "verification_evidence", "verified_by", "verified_at", "measures", "rectified_at", "completed_at",
    "follow_up_result", "follow_up_satisfied", "followed_up_at", "closed_at", "close_note", "appeal_state", "appeal_reason",
    "appeal_decision", "appealed_at", "appeal_decided_at", "version", "updated_at", "rated_org", "rated_person", "confirmation",
    "confirmation_note", "confirmed_by", "confirmed_at",
  ]
  /// `id` and `storedColumns`, the order `init(sqlRow:)` reads.
  static let columns = "id, " + Self.storedColumns.joined(separator: ", ")
  /// `columns` of the table aliased `r`.
  static let aliasedColumns = (["id"] + Self.storedColumns).map { "r.\($0)" }.joined(separator: ", ")
  static let insertSQL =
    "INSERT INTO rectifications (\(Self.storedColumns.joined(separator: ", "))) VALUES ("
    + Self.storedColumns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"
  /// Every column but the id, as GRDB's `update` wrote them.
  static let updateSQL =
    "UPDATE rectifications SET " + Self.storedColumns.map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ?"

  /// The values of `storedColumns`, as the Codable record stores them (dates as GRDB writes them).
  var storedValues: [SQLValue] {
    [
      .text(self.number), .integer(self.caseId), .text(self.caseNumber), .text(self.departmentCode), self.state.sqlValue,
      self.limitWorkingDays.sqlValue, StoredDate(self.openedAt).sqlValue, StoredDate(self.dueAt).sqlValue, self.colour.sqlValue,
      self.verifiedValid.sqlValue, .text(self.verificationEvidence), .text(self.verifiedBy), self.verifiedAt.stored.sqlValue,
      .text(self.measures), self.rectifiedAt.stored.sqlValue, self.completedAt.stored.sqlValue, .text(self.followUpResult),
      self.followUpSatisfied.sqlValue, self.followedUpAt.stored.sqlValue, self.closedAt.stored.sqlValue, .text(self.closeNote),
      self.appealState.sqlValue, .text(self.appealReason), .text(self.appealDecision), self.appealedAt.stored.sqlValue,
      self.appealDecidedAt.stored.sqlValue, self.version.sqlValue, StoredDate(self.updatedAt).sqlValue, self.ratedOrg.sqlValue,
      self.ratedPerson.sqlValue, self.confirmation.sqlValue, self.confirmationNote.sqlValue, self.confirmedBy.sqlValue,
      self.confirmedAt.stored.sqlValue,
    ]
  }

  /// A row of `columns`, by position.
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode(at: 0), number: try row.decode(at: 1), caseId: try row.decode(at: 2), caseNumber: try row.decode(at: 3),
      departmentCode: try row.decode(at: 4), state: try row.decode(at: 5), limitWorkingDays: try row.decode(at: 6),
      openedAt: try row.decode(StoredDate.self, at: 7).date, dueAt: try row.decode(StoredDate.self, at: 8).date,
      colour: try row.decode(at: 9), verifiedValid: try row.decode(at: 10), verificationEvidence: try row.decode(at: 11),
      verifiedBy: try row.decode(at: 12), verifiedAt: try row.decode(StoredDate?.self, at: 13)?.date, measures: try row.decode(at: 14),
      rectifiedAt: try row.decode(StoredDate?.self, at: 15)?.date, completedAt: try row.decode(StoredDate?.self, at: 16)?.date,
      followUpResult: try row.decode(at: 17), followUpSatisfied: try row.decode(at: 18),
      followedUpAt: try row.decode(StoredDate?.self, at: 19)?.date, closedAt: try row.decode(StoredDate?.self, at: 20)?.date,
      closeNote: try row.decode(at: 21), appealState: try row.decode(at: 22), appealReason: try row.decode(at: 23),
      appealDecision: try row.decode(at: 24), appealedAt: try row.decode(StoredDate?.self, at: 25)?.date,
      appealDecidedAt: try row.decode(StoredDate?.self, at: 26)?.date, version: try row.decode(at: 27),
      updatedAt: try row.decode(StoredDate.self, at: 28).date, ratedOrg: try row.decode(at: 29), ratedPerson: try row.decode(at: 30),
      confirmation: try row.decode(at: 31), confirmationNote: try row.decode(at: 32), confirmedBy: try row.decode(at: 33),
      confirmedAt: try row.decode(StoredDate?.self, at: 34)?.date)
  }

  /// Inserts the row and takes its new id.
  mutating func insert(_ sql: any SQLConnection) throws {
    self.id = try sql.fetchOne(Int64.self, Self.insertSQL, self.storedValues)
  }

  /// Writes every column back, as GRDB's `update` did.
  func updateAll(_ sql: any SQLConnection) throws {
    guard let id = self.id else { throw DatabaseError(message: "a rectification without an id cannot be updated") }
    try sql.execute(Self.updateSQL, self.storedValues + [.integer(id)])
  }

  static func byNumber(_ sql: any SQLConnection, _ number: String) throws -> RectificationRecord? {
    try sql.fetchOne("SELECT \(Self.columns) FROM rectifications WHERE number = ?", [.text(number)]).map(RectificationRecord.init(sqlRow:))
  }
}
