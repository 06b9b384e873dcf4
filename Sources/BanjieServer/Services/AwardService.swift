import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 星级服务: only the office reads and sets rule sets, previews, publishes and revokes; clerks
/// read published awards (list, show, certificate). Previews are office-only because a
/// department's stars are relative to the county's rule set and are not final until published.
struct AwardService: Banjie_V1_AwardService.SimpleServiceProtocol {
  let env: ServerEnvironment

  static func readable(_ caller: Caller) throws {
    try caller.require(.office, .clerk, action: "read published awards")
  }

  func getAwardRules(request: Banjie_V1_GetAwardRulesRequest, context: ServerContext) async throws -> Banjie_V1_AwardRuleSet {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "read award rule sets")
    let version = request.version > 0 ? request.version : nil
    guard let view = try await self.env.store.awardRules(version: version) else {
      throw DomainError(kind: .notFound, code: "award.rules_not_found", arguments: ["\(request.version)"], field: "version")
    }
    return view.proto
  }

  func setAwardRules(request: Banjie_V1_SetAwardRulesRequest, context: ServerContext) async throws -> Banjie_V1_AwardRuleSet {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "set award rule sets")
    // Checked in full before anything is written; the store assigns the version.
    let rules = try AwardRuleSet(version: 0, name: request.name, levels: request.levels.map(StarLevel.init(proto:)))
    let env = self.env
    let key = caller.idempotencyKey
    return try await env.store.setAwardRules(rules, actor: caller.actor, now: env.now.now, key: key).proto
  }

  func previewAwards(request: Banjie_V1_PreviewAwardsRequest, context: ServerContext) async throws -> Banjie_V1_AwardPreview {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "preview awards")
    let period = try AwardPeriod(parsing: request.period)
    let env = self.env
    let snapshot = try await env.store.previewAwards(period: period, clock: env.sla, now: env.now.now)
    return .with {
      $0.period = snapshot.period
      $0.from = snapshot.from
      $0.to = snapshot.to
      $0.rules = snapshot.rules.proto
      $0.entries = snapshot.entries.map(\.proto)
      $0.computedAt = Google_Protobuf_Timestamp(milliseconds: env.now.now)
    }
  }

  func publishAwards(request: Banjie_V1_PublishAwardsRequest, context: ServerContext) async throws -> Banjie_V1_Award {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "publish awards")
    let period = try AwardPeriod(parsing: request.period)
    let env = self.env
    let now = env.now.now
    try period.checkEnded(today: env.sla.calendar.localDate(of: now))
    let key = caller.idempotencyKey
    return try await env.store.publishAwards(period: period, actor: caller.actor, clock: env.sla, now: now, key: key)
      .proto(full: true)
  }

  func revokeAward(request: Banjie_V1_RevokeAwardRequest, context: ServerContext) async throws -> Banjie_V1_Award {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "revoke awards")
    try FieldRules.text(request.reason, field: "reason", max: 500)
    let env = self.env
    let id = request.id
    let reason = request.reason
    let key = caller.idempotencyKey
    return try await env.store.revokeAward(id: id, reason: reason, actor: caller.actor, now: env.now.now, key: key)
      .proto(full: true)
  }

  func getAward(request: Banjie_V1_GetAwardRequest, context: ServerContext) async throws -> Banjie_V1_Award {
    let caller = try Caller.of(context)
    try Self.readable(caller)
    let id = request.id
    guard let view = try await self.env.store.award(id: id) else {
      throw DomainError(kind: .notFound, code: "award.not_found", arguments: ["\(id)"], field: "id")
    }
    return view.proto(full: true)
  }

  func listAwards(request: Banjie_V1_ListAwardsRequest, context: ServerContext) async throws -> Banjie_V1_ListAwardsResponse {
    let caller = try Caller.of(context)
    try Self.readable(caller)
    let views = try await self.env.store.listAwards()
    return .with { $0.awards = views.map { $0.proto(full: false) } }
  }
}

extension StarLevel {
  init(proto p: Banjie_V1_StarLevel) {
    self.init(
      stars: Int(p.stars), minHandled: Int(p.minHandled), minOnTimePercent: Int(p.minOnTimePercent),
      minOneDayPercent: Int(p.minOneDayPercent), minGoodPercent: Int(p.minGoodPercent), maxUnratedPercent: Int(p.maxUnratedPercent),
      maxUnrectifiedBad: p.maxUnrectifiedBad == -1 ? nil : Int(p.maxUnrectifiedBad),
      maxOverdueDemands: p.maxOverdueDemands == -1 ? nil : Int(p.maxOverdueDemands))
  }

  var proto: Banjie_V1_StarLevel {
    .with {
      $0.stars = UInt32(self.stars)
      $0.minHandled = UInt32(self.minHandled)
      $0.minOnTimePercent = UInt32(self.minOnTimePercent)
      $0.minOneDayPercent = UInt32(self.minOneDayPercent)
      $0.minGoodPercent = UInt32(self.minGoodPercent)
      $0.maxUnratedPercent = UInt32(self.maxUnratedPercent)
      $0.maxUnrectifiedBad = self.maxUnrectifiedBad.map { Int32(clamping: $0) } ?? -1
      $0.maxOverdueDemands = self.maxOverdueDemands.map { Int32(clamping: $0) } ?? -1
    }
  }
}

extension AwardRuleSet {
  var proto: Banjie_V1_AwardRuleSet {
    .with {
      $0.version = self.version
      $0.name = self.name
      $0.levels = self.levels.map(\.proto)
    }
  }
}

extension AwardRuleSetView {
  var proto: Banjie_V1_AwardRuleSet {
    var p = self.rules.proto
    p.createdAt = Google_Protobuf_Timestamp(milliseconds: self.createdAt)
    p.createdBy = self.createdBy
    return p
  }
}

extension AwardSnapshot.Entry {
  var proto: Banjie_V1_AwardScores {
    let s = self.scores
    return .with {
      $0.kind = s.unit.rawValue
      $0.key = s.key
      $0.name = s.name
      $0.handled = UInt32(s.handled)
      $0.onTime = UInt32(s.onTime)
      $0.oneDay = UInt32(s.oneDay)
      $0.rated = UInt32(s.rated)
      $0.good = UInt32(s.good)
      $0.unrated = UInt32(s.unrated)
      $0.bad = UInt32(s.bad)
      $0.rectifiedOnTime = UInt32(s.rectifiedOnTime)
      $0.unrectifiedBad = UInt32(s.unrectifiedBad)
      $0.overdueDemands = UInt32(s.overdueDemands)
      $0.onTimeShare = s.onTimeShare
      $0.oneDayShare = s.oneDayShare
      $0.goodShare = s.goodShare
      $0.unratedShare = s.unratedShare
      $0.rectifiedOnTimeShare = s.rectifiedOnTimeShare
      $0.stars = UInt32(self.stars)
      $0.shortOfNext = self.shortOfNext
    }
  }
}

extension AwardRecordView {
  func proto(full: Bool) -> Banjie_V1_Award {
    let snapshot = self.decoded
    return .with {
      $0.id = self.id
      $0.period = self.period
      $0.from = snapshot?.from ?? ""
      $0.to = snapshot?.to ?? ""
      $0.ruleSetVersion = self.ruleSetVersion
      $0.digest = self.digest
      if full {
        $0.snapshot = self.snapshot
        $0.entries = snapshot?.entries.map(\.proto) ?? []
      }
      $0.publishedAt = Google_Protobuf_Timestamp(milliseconds: self.publishedAt)
      $0.publishedBy = self.publishedBy
      $0.revoked = self.revokedAt != nil
      $0.revokeReason = self.revokeReason
      if let t = Google_Protobuf_Timestamp(self.revokedAt) { $0.revokedAt = t }
      $0.revokedBy = self.revokedBy
    }
  }
}
