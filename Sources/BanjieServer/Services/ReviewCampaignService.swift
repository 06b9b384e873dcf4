import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore

/// 千企评议: the office runs campaigns; invited enterprises review each department once while a
/// campaign is open; the office sees results at once, everyone else once they are published.
struct ReviewCampaignService: Banjie_V1_ReviewCampaignService.SimpleServiceProtocol {
  let env: ServerEnvironment

  static let maxInvited = 10_000

  func createCampaign(request: Banjie_V1_CreateCampaignRequest, context: ServerContext) async throws -> Banjie_V1_Campaign {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "create review campaigns")
    try FieldRules.text(request.name, field: "name", max: 100)
    let from = try EnterpriseService.date(request.periodFrom, field: "period_from")
    let to = try EnterpriseService.date(request.periodTo, field: "period_to")
    guard from <= to else {
      throw DomainError(kind: .invalidArgument, code: "campaign.reversed_period", arguments: ["\(from)", "\(to)"], field: "period_from")
    }
    guard !request.departmentCodes.isEmpty, request.departmentCodes.count <= 200 else {
      throw DomainError(kind: .invalidArgument, code: "campaign.departments_count", field: "department_codes")
    }
    var departments: [String] = []
    for (i, code) in request.departmentCodes.enumerated() {
      try FieldRules.code(code, field: "department_codes[\(i)]")
      guard !departments.contains(code) else {
        throw DomainError(kind: .invalidArgument, code: "campaign.duplicate_department", arguments: [code], field: "department_codes[\(i)]")
      }
      departments.append(code)
    }
    let dimensions = request.dimensions.map { CampaignDimension(name: $0.name, weightPercent: Int(clamping: $0.weightPercent)) }
    try CampaignDimension.check(dimensions)
    guard !request.invited.isEmpty, request.invited.count <= Self.maxInvited else {
      throw DomainError(
        kind: .invalidArgument, code: "campaign.invited_count", arguments: ["\(Self.maxInvited)", "\(request.invited.count)"],
        field: "invited")
    }
    var invited: [String] = []
    var seen: Set<String> = []
    for (i, text) in request.invited.enumerated() {
      let uscc = EnterpriseService.normalizedUSCC(text)
      do { _ = try USCC.validate(uscc) } catch {
        throw DomainError(
          kind: .invalidArgument, code: error.code, messageKey: "field.wrapped", arguments: ["invited[\(i)]"], cause: error,
          field: "invited[\(i)]")
      }
      if seen.insert(uscc).inserted { invited.append(uscc) }
    }
    let new = NewReviewCampaign(name: request.name, from: from, to: to, departments: departments, dimensions: dimensions, invited: invited)
    let env = self.env
    let key = caller.idempotencyKey
    return try await env.store.createReviewCampaign(new, actor: caller.actor, now: env.now.now, key: key).proto
  }

  private func advance(_ request: Banjie_V1_CampaignRequest, _ context: ServerContext, to state: CampaignState) async throws
    -> Banjie_V1_Campaign
  {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "run review campaigns")
    let env = self.env
    let id = request.id
    let key = caller.idempotencyKey
    return try await env.store.advanceReviewCampaign(id: id, to: state, actor: caller.actor, now: env.now.now, key: key).proto
  }

  func openCampaign(request: Banjie_V1_CampaignRequest, context: ServerContext) async throws -> Banjie_V1_Campaign {
    try await self.advance(request, context, to: .open)
  }

  func closeCampaign(request: Banjie_V1_CampaignRequest, context: ServerContext) async throws -> Banjie_V1_Campaign {
    try await self.advance(request, context, to: .closed)
  }

  func publishCampaign(request: Banjie_V1_CampaignRequest, context: ServerContext) async throws -> Banjie_V1_Campaign {
    try await self.advance(request, context, to: .published)
  }

  func listCampaigns(request: Banjie_V1_ListCampaignsRequest, context: ServerContext) async throws -> Banjie_V1_ListCampaignsResponse {
    let caller = try Caller.of(context)
    let uscc = caller.role == .enterprise ? caller.organization.uppercased() : nil
    let views = try await self.env.store.reviewCampaigns(invitedUSCC: uscc)
    return .with { $0.campaigns = views.map(\.proto) }
  }

  func submitReview(request: Banjie_V1_SubmitReviewRequest, context: ServerContext) async throws -> Banjie_V1_Review {
    let caller = try Caller.of(context)
    try caller.require(.enterprise, action: "review departments")
    try FieldRules.code(request.departmentCode, field: "department_code")
    try FieldRules.text(request.comment, field: "comment", max: RatingInput.maxCommentLength, required: false)
    var scores: [String: Int] = [:]
    for (i, s) in request.scores.enumerated() {
      guard CampaignDimension.scoreRange.contains(Int(clamping: s.score)) else {
        throw DomainError(
          kind: .invalidArgument, code: "campaign.score_out_of_range", arguments: [String(s.dimension.prefix(40)), "\(s.score)"],
          field: "scores[\(i)].score")
      }
      guard scores.updateValue(Int(s.score), forKey: s.dimension) == nil else {
        throw DomainError(
          kind: .invalidArgument, code: "campaign.duplicate_score", arguments: [String(s.dimension.prefix(40))],
          field: "scores[\(i)].dimension")
      }
    }
    let env = self.env
    let id = request.campaignID
    let department = request.departmentCode
    let comment = request.comment
    let uscc = caller.organization.uppercased()
    let key = caller.idempotencyKey
    return try await env.store.submitReview(
      campaignID: id, uscc: uscc, departmentCode: department, scores: scores, comment: comment, actor: caller.actor,
      now: env.now.now, key: key
    ).proto
  }

  func getCampaignResults(request: Banjie_V1_CampaignRequest, context: ServerContext) async throws -> Banjie_V1_CampaignResults {
    let caller = try Caller.of(context)
    let id = request.id
    let (campaign, rows) = try await self.env.store.campaignResults(id: id)
    guard caller.role == .office || campaign.record.state == .published else {
      throw DomainError(
        kind: .failedPrecondition, code: "campaign.not_published", arguments: ["\(id)", campaign.record.state.rawValue], field: "id")
    }
    return .with {
      $0.campaign = campaign.proto
      $0.departments = rows.map(\.proto)
    }
  }
}
