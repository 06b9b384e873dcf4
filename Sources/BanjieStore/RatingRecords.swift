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
