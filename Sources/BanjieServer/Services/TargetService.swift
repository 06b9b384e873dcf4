import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 年度目标与预警 (docs/DOMAIN.md §26): the office sets yearly targets; the office reads every
/// unit's progress, a clerk its own department's, a liaison official its own unit's; other roles
/// have no part.
struct TargetService: Banjie_V1_TargetService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func setTarget(request: Banjie_V1_SetTargetRequest, context: ServerContext) async throws -> Banjie_V1_AnnualTarget {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "set annual targets (年度目标)")
    try FieldRules.text(request.department, field: "department", max: 100)
    let measure = try TargetMeasure.parse(request.measure)
    let env = self.env
    let row = try await env.store.setTarget(
      year: Int(request.year), unit: Self.unit(request.department, measure: measure), measure: measure, target: request.target,
      actor: caller.actor, clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info(
      "annual target set",
      metadata: ["year": "\(request.year)", "unit": "\(row.record.unit)", "measure": "\(measure.rawValue)", "target": "\(request.target)"])
    return row.proto
  }

  func getTargetProgress(request: Banjie_V1_GetTargetProgressRequest, context: ServerContext) async throws -> Banjie_V1_TargetProgress {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, .liaison, action: "read annual targets (年度目标)")
    try FieldRules.text(request.department, field: "department", max: 100, required: false)
    let env = self.env
    let now = env.now.now
    let year = request.year == 0 ? env.sla.calendar.localDate(of: now).year : Int(request.year)
    var unit: String? = request.department.isEmpty ? nil : request.department.trimmingCharacters(in: .whitespaces)
    switch caller.role {
    case .office: break
    case .clerk, .liaison:
      // A clerk reads its department's targets, a liaison official its unit's, whatever it asks.
      if let asked = unit, asked.uppercased() != caller.organization.uppercased() {
        throw DomainError(
          kind: .permissionDenied, code: "target.not_your_unit", arguments: [caller.organization, String(asked.prefix(64))])
      }
      unit = caller.organization
    case .enterprise, .pad, .dispatcher, .monitor:
      throw DomainError(kind: .permissionDenied, code: "target.not_your_unit", arguments: [caller.organization, ""])
    }
    if caller.role == .office, let asked = unit { unit = Self.unit(asked, measure: nil) }
    let (progress, rows) = try await env.store.targetProgress(year: year, unit: unit, clock: env.sla, now: now)
    return Self.proto(progress, rows)
  }

  /// A department code as keyboards type it (upper case); a liaison unit's name as given.
  static func unit(_ text: String, measure: TargetMeasure?) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if measure?.isLiaisonMeasure == true { return trimmed }
    // Department codes are ASCII upper case; a Chinese liaison unit name is unchanged by this.
    return trimmed.allSatisfy(\.isASCII) ? trimmed.uppercased() : trimmed
  }

  static func proto(_ progress: TimeProgress, _ rows: [TargetProgressRow]) -> Banjie_V1_TargetProgress {
    .with {
      $0.year = UInt32(clamping: progress.year)
      $0.elapsedWorkingDays = UInt32(clamping: progress.elapsedWorkingDays)
      $0.workingDays = UInt32(clamping: progress.workingDays)
      $0.timeProgress = progress.share
      $0.targets = rows.map(\.proto)
    }
  }
}

extension TargetProgressRow {
  var proto: Banjie_V1_AnnualTarget {
    .with {
      $0.year = UInt32(clamping: self.record.year)
      $0.unit = self.record.unit
      $0.unitName = self.unitName
      $0.measure = self.record.measure.rawValue
      $0.target = self.record.target
      $0.setBy = self.record.setBy
      $0.setAt = Google_Protobuf_Timestamp(milliseconds: self.record.setAt)
      $0.expected = self.evaluation.expected
      $0.hasActual_p = self.evaluation.actual != nil
      $0.actual = self.evaluation.actual ?? 0
      $0.count = UInt32(clamping: self.count)
      $0.base = UInt32(clamping: self.base)
      $0.colour = self.evaluation.colour?.proto ?? .unspecified
    }
  }
}
