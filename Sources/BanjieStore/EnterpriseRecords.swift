public import BanjieCore
public import Foundation
public import GRDB

public struct ContactRecord: Codable, Sendable, Hashable {
  public var name: String
  public var phone: String
  public var title: String
  public init(name: String, phone: String, title: String = "") {
    self.name = name
    self.phone = phone
    self.title = title
  }
}

/// A liaison official, named as on their certificate (O = unit, CN = name).
public struct LiaisonRef: Codable, Sendable, Hashable, Comparable {
  public var organization: String
  public var person: String
  public init(organization: String, person: String) {
    self.organization = organization
    self.person = person
  }
  public static func < (a: LiaisonRef, b: LiaisonRef) -> Bool { (a.organization, a.person) < (b.organization, b.person) }
}

public struct EnterpriseRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "enterprises"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var uscc: String
  public var name: String
  public var industry: IndustrySection
  public var scale: EnterpriseScale
  public var township: String
  public var contacts: [ContactRecord]
  public var checkOverrideReason: String?
  public var registeredAt: Date
  public var version: Int64
  public var updatedAt: Date
}

/// An enterprise with its liaison officials and last visit.
public struct EnterpriseView: Codable, Sendable, Hashable {
  public var record: EnterpriseRecord
  public var liaisons: [LiaisonRef]
  public var lastVisitedOn: String?
}

/// What the office registers (or one import row carries).
public struct NewEnterprise: Sendable, Hashable {
  public var uscc: String
  public var name: String
  public var industry: IndustrySection
  public var scale: EnterpriseScale
  public var township: String
  public var contacts: [ContactRecord]
  public var liaisons: [LiaisonRef]
  public var checkOverrideReason: String?

  public init(
    uscc: String, name: String, industry: IndustrySection, scale: EnterpriseScale, township: String,
    contacts: [ContactRecord], liaisons: [LiaisonRef], checkOverrideReason: String?
  ) {
    self.uscc = uscc
    self.name = name
    self.industry = industry
    self.scale = scale
    self.township = township
    self.contacts = contacts
    self.liaisons = liaisons
    self.checkOverrideReason = checkOverrideReason
  }
}

public struct VisitRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "visits"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var uscc: String
  public var liaisonOrganization: String
  public var liaisonPerson: String
  public var visitedOn: String
  public var notes: String
  public var recordedAt: Date

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

public struct VisitView: Codable, Sendable, Hashable {
  public var record: VisitRecord
  public var enterpriseName: String
  public var demandNumbers: [String]
}

public struct NewDemand: Sendable, Hashable {
  public var category: DemandCategory
  public var description: String
  public var departmentCode: String
  /// nil: the county default.
  public var limitWorkingDays: Int?
  public init(category: DemandCategory, description: String, departmentCode: String, limitWorkingDays: Int?) {
    self.category = category
    self.description = description
    self.departmentCode = departmentCode
    self.limitWorkingDays = limitWorkingDays
  }
}

public struct DemandRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "demands"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var number: String
  public var uscc: String
  public var category: DemandCategory
  public var description: String
  public var departmentCode: String
  public var limitWorkingDays: Int
  public var state: DemandState
  public var handler: String
  public var answer: String
  public var reopenReason: String
  public var satisfaction: Int?
  public var closeComment: String
  public var raisedBy: String
  public var visitId: Int64?
  public var raisedAt: Date
  /// When the department's clock started: at raising, again at reopening.
  public var clockStart: Date
  public var answeredAt: Date?
  public var closedAt: Date?
  public var dueAt: Date
  public var colour: SLAColour
  public var version: Int64
  public var updatedAt: Date

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

  public var timedWork: TimedWork {
    TimedWork(clockStart: self.clockStart, limit: .workingDays(self.limitWorkingDays), completedAt: self.answeredAt)
  }
}

public struct DemandView: Codable, Sendable, Hashable {
  public var record: DemandRecord
  public var enterpriseName: String
  public var departmentName: String
  public var sla: SLAStatusSnapshot?
}

public struct PolicyRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "policies"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var title: String
  public var summary: String
  public var eligibility: PolicyEligibility
  public var createdAt: Date
  public var createdBy: String

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

public struct PolicyView: Codable, Sendable, Hashable {
  public var record: PolicyRecord
  public var pushed: Int
  public var acknowledged: Int
  public var acknowledgedByCaller: Bool
}

/// The outcome of one import row.
public enum ImportOutcome: Sendable, Hashable {
  case created, updated, unchanged
}

public struct ImportProblem: Sendable, Hashable {
  public var line: Int
  public var field: String
  public var reason: String
  public var uscc: String
  public init(line: Int, field: String, reason: String, uscc: String) {
    self.line = line
    self.field = field
    self.reason = reason
    self.uscc = uscc
  }
}

public struct LiaisonCoverageRow: Sendable, Hashable {
  public var liaison: LiaisonRef
  public var assigned: Int
  public var visited: Int
}

public struct TownshipCoverageRow: Sendable, Hashable {
  public var township: String
  public var enterprises: Int
  public var assigned: Int
  public var visited: Int
}

public struct CoverageReport: Sendable, Hashable {
  public var from: LocalDate
  public var to: LocalDate
  public var assigned: Int
  public var visited: Int
  public var liaisons: [LiaisonCoverageRow]
  public var townships: [TownshipCoverageRow]
  public var notVisitedThisYear: [EnterpriseView]
}
