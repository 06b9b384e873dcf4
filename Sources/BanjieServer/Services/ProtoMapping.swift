import BanjieCore
import BanjieProto
import BanjieStore
import Foundation
import SwiftProtobuf

extension CaseState {
  var proto: Banjie_V1_CaseState {
    switch self {
    case .received: return .received
    case .supplementRequested: return .supplementRequested
    case .accepted: return .accepted
    case .notAccepted: return .notAccepted
    case .suspended: return .suspended
    case .completed: return .completed
    case .delivered: return .delivered
    case .withdrawn: return .withdrawn
    }
  }

  init?(proto: Banjie_V1_CaseState) {
    switch proto {
    case .received: self = .received
    case .supplementRequested: self = .supplementRequested
    case .accepted: self = .accepted
    case .notAccepted: self = .notAccepted
    case .suspended: self = .suspended
    case .completed: self = .completed
    case .delivered: self = .delivered
    case .withdrawn: self = .withdrawn
    default: return nil
    }
  }
}

extension SLAColour {
  var proto: Banjie_V1_Colour {
    switch self {
    case .green: return .green
    case .yellow: return .yellow
    case .red: return .red
    }
  }

  init?(proto: Banjie_V1_Colour) {
    switch proto {
    case .green: self = .green
    case .yellow: self = .yellow
    case .red: self = .red
    default: return nil
    }
  }
}

extension WorkingLimit {
  var text: String {
    switch self {
    case .workingDays(let n): return n == 1 ? "1 working day" : "\(n) working days"
    case .workingHours(let n): return n == 1 ? "1 working hour" : "\(n) working hours"
    }
  }
}

extension Google_Protobuf_Timestamp {
  /// The instant to the whole millisecond, rounded down. `init(date:)` carries the Double's
  /// binary noise into the nanoseconds (JSON shows `…03.944999933Z`); the store keeps
  /// milliseconds anyway. Floor division keeps instants before 1970 right: -0.5 s is
  /// seconds -1, nanos 500_000_000.
  init(milliseconds date: Date) {
    let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    let (quotient, remainder) = ms.quotientAndRemainder(dividingBy: 1000)
    let seconds = remainder < 0 ? quotient - 1 : quotient
    self.init(seconds: seconds, nanos: Int32(ms - seconds * 1000) * 1_000_000)
  }

  init?(_ date: Date?) {
    guard let date else { return nil }
    self.init(milliseconds: date)
  }
}

extension SLAStatusSnapshot {
  var proto: Banjie_V1_SLA {
    .with {
      $0.colour = self.colour.proto
      $0.dueAt = Google_Protobuf_Timestamp(milliseconds: self.due)
      $0.budgetSeconds = self.budgetSeconds
      $0.usedSeconds = self.usedSeconds
      $0.fractionUsed = self.fractionUsed
      $0.overdue = self.isOverdue
      $0.suspended = self.isSuspended
      $0.completed = self.isCompleted
      $0.completedOnTime = self.completedOnTime ?? false
      $0.oneDayCompletion = self.isOneDayCompletion ?? false
      $0.provisional = self.isProvisional
      $0.computedAt = Google_Protobuf_Timestamp(milliseconds: self.computedAt)
    }
  }
}

extension CaseView {
  /// A case as every read shows it: without its rating code (docs/DOMAIN.md §21).
  var proto: Banjie_V1_Case { self.proto(withRatingCode: false) }

  /// `withRatingCode`: SubmitCase's answer carries the code for the receipt.
  func proto(withRatingCode: Bool) -> Banjie_V1_Case {
    var c = Banjie_V1_Case()
    let r = self.record
    c.number = r.number
    c.itemCode = r.itemCode
    c.itemName = self.itemName
    c.departmentCode = r.departmentCode
    c.departmentName = self.departmentName
    c.window = r.window
    c.applicant = r.applicant
    c.enterpriseUscc = r.enterpriseUscc ?? ""
    c.state = r.state.proto
    c.outcome = r.outcome?.rawValue.lowercased() ?? ""
    c.version = r.version
    c.receivedAt = Google_Protobuf_Timestamp(milliseconds: r.receivedAt)
    if let t = Google_Protobuf_Timestamp(r.acceptedAt) { c.acceptedAt = t }
    if let t = Google_Protobuf_Timestamp(r.completedAt) { c.completedAt = t }
    if let t = Google_Protobuf_Timestamp(r.deliveredAt) { c.deliveredAt = t }
    if let t = Google_Protobuf_Timestamp(r.intakeDueAt) { c.intakeDueAt = t }
    c.limit = r.limit.text
    if let sla = self.sla { c.sla = sla.proto }
    c.missingMaterials = r.missingMaterials
    c.lastNote = r.lastNote
    c.deemedAccepted = r.deemedAccepted
    c.receivedBy = r.receivedBy
    c.pending = (self.pending ?? []).map(\.proto)
    if let hall = self.hall {
      c.channel = hall.channel.proto
      c.deliveryChannel = hall.deliveryChannel?.proto ?? .unspecified
      c.deliveryWindow = hall.deliveryWindow
      c.firstResponder = hall.firstResponder.proto
      c.responsible = hall.responsible.proto
      if let helper = hall.helper { c.helper = helper.proto }
      if withRatingCode { c.ratingCode = hall.ratingCode }
      // The handling department itself is no reader, even when a transfer brought it back.
      c.readers = hall.readers.filter { $0.key != r.departmentCode }.sorted { $0.key < $1.key }.map { reader in
        .with {
          $0.departmentCode = reader.key
          $0.reason = reader.value.rawValue
        }
      }
      c.zeroTrip = hall.isZeroTrip
      c.servedWindow = hall.servedWindow
      if let t = Google_Protobuf_Timestamp(hall.servedAt) { c.servedAt = t }
    }
    return c
  }
}

extension CaseChannel {
  var proto: Banjie_V1_Channel {
    switch self {
    case .window: .window
    case .online: .online
    case .mail: .mail
    case .selfService: .selfService
    }
  }

  /// The channel a request names; UNSPECIFIED is `unspecified` (the caller's default).
  init?(proto: Banjie_V1_Channel, unspecified: CaseChannel?) {
    switch proto {
    case .unspecified:
      guard let unspecified else { return nil }
      self = unspecified
    case .window: self = .window
    case .online: self = .online
    case .mail: self = .mail
    case .selfService: self = .selfService
    case .UNRECOGNIZED: return nil
    }
  }
}

extension StaffRef {
  var proto: Banjie_V1_CasePerson {
    .with {
      $0.organization = self.organization
      $0.person = self.person
    }
  }
}

extension PendingMaterialRecord {
  var proto: Banjie_V1_PendingMaterial {
    .with {
      $0.material = self.material
      $0.promisedBy = Google_Protobuf_Timestamp(milliseconds: self.promisedBy)
      $0.colour = self.colour.proto
      $0.state = self.state.rawValue
    }
  }
}

extension AlertRecord {
  var proto: Banjie_V1_Alert {
    .with {
      $0.id = self.id ?? 0
      $0.at = Google_Protobuf_Timestamp(milliseconds: self.at)
      $0.kind = self.kind
      $0.subject = self.subject
      $0.departmentCode = self.departmentCode
      $0.colour = self.colour.proto
      $0.message = self.message
    }
  }
}

extension ServiceItemRecord {
  var proto: Banjie_V1_ServiceItem {
    .with {
      $0.code = self.code
      $0.name = self.name
      $0.departmentCode = self.departmentCode
      $0.kind = self.kind == .instant ? .instant : .promised
      $0.promisedLimit = UInt32(self.promisedLimit)
      $0.limitUnit = self.limitUnit == .workingDays ? .workingDays : .workingHours
      $0.legalLimitDays = UInt32(self.legalLimitDays)
      $0.materials = self.materials
      $0.allowsMinorPending = self.allowsMinorPending
      $0.proxySteps = self.proxySteps.map(\.rawValue)
    }
  }

  init(proto: Banjie_V1_ServiceItem) throws {
    let kind: Kind
    switch proto.kind {
    case .instant: kind = .instant
    case .promised: kind = .promised
    default:
      throw DomainError(kind: .invalidArgument, code: "catalog.kind_required", arguments: [proto.code], field: "kind")
    }
    let unit: LimitUnit
    switch proto.limitUnit {
    case .workingDays: unit = .workingDays
    case .workingHours: unit = .workingHours
    default:
      throw DomainError(kind: .invalidArgument, code: "catalog.unit_required", arguments: [proto.code], field: "limit_unit")
    }
    var steps: [ProxyStep] = []
    for text in proto.proxySteps {
      guard let step = ProxyStep(rawValue: text.trimmingCharacters(in: .whitespaces).uppercased()) else {
        throw DomainError(
          kind: .invalidArgument, code: "catalog.bad_proxy_step", arguments: [String(text.prefix(20)), proto.code], field: "proxy_steps")
      }
      if !steps.contains(step) { steps.append(step) }
    }
    self.init(
      code: proto.code, name: proto.name, departmentCode: proto.departmentCode, kind: kind, promisedLimit: Int(proto.promisedLimit),
      limitUnit: unit, legalLimitDays: Int(proto.legalLimitDays), materials: proto.materials, allowsMinorPending: proto.allowsMinorPending,
      proxySteps: steps)
  }
}

extension Caller {
  var actor: Actor {
    let role: Actor.Role
    switch self.role {
    case .clerk: role = .clerk
    case .enterprise: role = .enterprise
    case .liaison: role = .liaison
    case .office: role = .office
    case .pad: role = .pad
    case .dispatcher: role = .dispatcher
    case .monitor: role = .monitor
    }
    return Actor(role: role, organization: self.organization, person: self.person, certificateSerial: self.identity.serialNumber)
  }

  var idempotencyKey: IdempotencyKey? {
    RequestInfo.current.idempotencyKey.map { IdempotencyKey(caller: "\(self.role.rawValue):\(self.organization):\(self.person)", key: $0) }
  }
}
