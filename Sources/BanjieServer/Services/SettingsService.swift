import BanjieCore
import BanjieProto
import BanjieStore
import Foundation
import GRPCCore
import SwiftProtobuf

/// The county settings (docs/DOMAIN.md §17): every role reads them (a clerk needs to know the
/// limits and the threshold); only the office changes them, each change audited.
struct SettingsService: Banjie_V1_SettingsService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func getSettings(request: Banjie_V1_GetSettingsRequest, context: ServerContext) async throws -> Banjie_V1_Settings {
    _ = try Caller.of(context)
    return try await self.env.settings().proto
  }

  func setSetting(request: Banjie_V1_SetSettingRequest, context: ServerContext) async throws -> Banjie_V1_Settings {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "change county settings")
    let key = try CountySettings.Key.parse(request.key)
    try FieldRules.text(request.value, field: key.rawValue, max: 200)
    let env = self.env
    let (value, actor, idempotency) = (request.value, caller.actor, caller.idempotencyKey)
    let view = try await env.setSetting(key, to: value, actor: actor, idempotency: idempotency)
    env.logger.info(
      "setting changed", metadata: ["setting": "\(key.rawValue)", "value": "\(view.settings.text(of: key))"])
    return view.proto
  }
}

extension SettingsView {
  var proto: Banjie_V1_Settings {
    .with {
      $0.demandLimitWorkingDays = UInt32(clamping: self.settings.demandLimitWorkingDays)
      $0.ratingWindowDays = UInt32(clamping: self.settings.ratingWindowDays)
      $0.rectificationLimitWorkingDays = UInt32(clamping: self.settings.rectificationLimitWorkingDays)
      $0.yellowThreshold = self.settings.yellowThreshold
      $0.officeHours = self.settings.text(of: .officeHours)
      $0.countersignLimitWorkingDays = UInt32(clamping: self.settings.countersignLimitWorkingDays)
      $0.appealResponseWorkingDays = UInt32(clamping: self.settings.appealResponseWorkingDays)
      $0.appealResolutionLimits = self.settings.text(of: .appealResolutionLimits)
      $0.proposalReplyMonths = UInt32(clamping: self.settings.proposalReplyMonths)
      $0.proposalMaxMonths = UInt32(clamping: self.settings.proposalMaxMonths)
      $0.changes = self.changes.mapValues { change in
        Banjie_V1_SettingChange.with {
          $0.updatedAt = Google_Protobuf_Timestamp(milliseconds: change.at)
          $0.updatedBy = change.by
        }
      }
    }
  }
}
