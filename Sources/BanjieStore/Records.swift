public import BanjieCore
public import Foundation
public import GRDB

public struct DepartmentRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "departments"
  public var code: String
  public var name: String
  public init(code: String, name: String) {
    self.code = code
    self.name = name
  }
}

public struct ServiceItemRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "service_items"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public enum Kind: String, Codable, Sendable { case instant, promised }
  public enum LimitUnit: String, Codable, Sendable {
    case workingDays = "working_days"
    case workingHours = "working_hours"
  }

  public var code: String
  public var name: String
  public var departmentCode: String
  public var kind: Kind
  public var promisedLimit: Int
  public var limitUnit: LimitUnit
  public var legalLimitDays: Int
  public var materials: [String]
  public var allowsMinorPending: Bool
  /// 帮办代办: the applicant's steps a helper may take for the applicant (stored as a JSON array).
  public var proxySteps: [ProxyStep] = []

  public init(
    code: String, name: String, departmentCode: String, kind: Kind, promisedLimit: Int, limitUnit: LimitUnit, legalLimitDays: Int,
    materials: [String], allowsMinorPending: Bool, proxySteps: [ProxyStep] = []
  ) {
    self.code = code
    self.name = name
    self.departmentCode = departmentCode
    self.kind = kind
    self.promisedLimit = promisedLimit
    self.limitUnit = limitUnit
    self.legalLimitDays = legalLimitDays
    self.materials = materials
    self.allowsMinorPending = allowsMinorPending
    self.proxySteps = proxySteps
  }

  public var limit: WorkingLimit {
    switch self.limitUnit {
    case .workingDays: return .workingDays(self.promisedLimit)
    case .workingHours: return .workingHours(self.promisedLimit)
    }
  }
}

public struct CaseRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "cases"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var number: String
  public var itemCode: String
  public var departmentCode: String
  public var window: String
  public var applicant: String
  public var enterpriseUscc: String?
  public var state: CaseState
  public var outcome: CaseOutcome?
  public var version: Int64
  public var receivedAt: Date
  public var receivedDay: String
  public var intakeDueAt: Date?
  public var acceptedAt: Date?
  public var deemedAccepted: Bool
  public var limitValue: Int
  public var limitUnit: ServiceItemRecord.LimitUnit
  public var dueAt: Date?
  public var colour: SLAColour?
  public var suspendedSince: Date?
  public var completedAt: Date?
  public var deliveredAt: Date?
  public var missingMaterials: [String]
  public var lastNote: String
  public var receivedBy: String
  public var updatedAt: Date
  /// Of a completed case, fixed at completion for the dashboard: finished within one working day
  /// of acceptance, its working seconds from acceptance (or receipt) to completion, and the
  /// HandlingHistogram bucket of those.
  public var oneDay: Bool? = nil
  public var handlingSeconds: Int64? = nil
  public var handlingBucket: Int? = nil
  /// While the clock runs: when the colour changes next if nothing else happens (the quick
  /// sweep looks only at cases whose moment has come).
  public var colourChangesAt: Date? = nil
  /// The enterprise's township ('' without one), kept current by triggers on `enterprises`.
  public var township: String = ""

  public var limit: WorkingLimit {
    switch self.limitUnit {
    case .workingDays: return .workingDays(self.limitValue)
    case .workingHours: return .workingHours(self.limitValue)
    }
  }
}

public struct CaseEventRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "case_events"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var caseId: Int64
  public var seq: Int
  public var at: Date
  public var action: String
  public var fromState: CaseState?
  public var toState: CaseState
  public var actorRole: String
  public var actorOrganization: String
  public var actorPerson: String
  public var note: String
}

public struct AlertRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "alerts"
  public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
  public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

  public var id: Int64?
  public var at: Date
  public var kind: String
  public var subject: String
  public var departmentCode: String
  public var colour: SLAColour
  public var message: String

  public mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }
}

/// A case with its SLA computed at a moment.
public struct CaseView: Sendable, Hashable, Codable {
  public var record: CaseRecord
  public var itemName: String
  public var departmentName: String
  public var sla: SLAStatusSnapshot?
  /// 容缺受理: the materials the case was accepted without (nil or empty when none). Optional so
  /// idempotent replays stored before it existed still decode.
  public var pending: [PendingMaterialRecord]? = nil
  /// The hall's workflow fields (migration v10); nil only in replays stored before them.
  public var hall: CaseHall? = nil
}

/// A case's hall-workflow columns (docs/DOMAIN.md §22), read and written apart from `CaseRecord`
/// so that idempotent replays stored before they existed still decode.
public struct CaseHall: Sendable, Hashable, Codable {
  public var channel: CaseChannel = .window
  public var deliveryChannel: CaseChannel? = nil
  public var deliveryWindow: String = ""
  public var servedWindow: String = ""
  public var servedAt: Date? = nil
  public var firstResponder = StaffRef(organization: "", person: "")
  public var responsible = StaffRef(organization: "", person: "")
  public var helper: StaffRef? = nil
  public var ratingCode: String = ""
  /// Departments besides the handling one that may read the case, and why.
  public var readers: [String: CaseReaderReason] = [:]

  public init() {}

  /// 零跑腿 (CaseChannel.isZeroTrip).
  public var isZeroTrip: Bool { CaseChannel.isZeroTrip(received: self.channel, delivered: self.deliveryChannel) }
}

/// The parts of `SLAStatus` a client sees, Codable for idempotent replays.
public struct SLAStatusSnapshot: Sendable, Hashable, Codable {
  public var colour: SLAColour
  public var due: Date
  public var budgetSeconds: Int64
  public var usedSeconds: Int64
  public var fractionUsed: Double
  public var isOverdue: Bool
  public var isSuspended: Bool
  public var isCompleted: Bool
  public var completedOnTime: Bool?
  public var isOneDayCompletion: Bool?
  public var isProvisional: Bool
  public var computedAt: Date

  public init(_ status: SLAStatus, at: Date) {
    self.colour = status.colour
    self.due = status.due
    self.budgetSeconds = status.budgetSeconds
    self.usedSeconds = status.usedSeconds
    self.fractionUsed = status.fractionUsed
    self.isOverdue = status.isOverdue
    self.isSuspended = status.isSuspended
    self.isCompleted = status.isCompleted
    self.completedOnTime = status.completedOnTime
    self.isOneDayCompletion = status.isOneDayCompletion
    self.isProvisional = status.isProvisional
    self.computedAt = at
  }
}
