import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 人大代表建议和政协提案 (docs/DOMAIN.md §25): the office registers and assigns, records the
/// proposer's assessment, may extend and reads everything; a clerk of the lead department records
/// the contact (面商), replies and may extend; a clerk of a co-handling department gives its
/// opinion; both read it. Other roles have no part (PERMISSION_DENIED before the request is
/// looked at).
struct ProposalService: Banjie_V1_ProposalService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func registerProposal(request: Banjie_V1_RegisterProposalRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "register and assign deputies' suggestions and CPPCC proposals (建议/提案)")
    guard let kind = ProposalKind(proto: request.kind) else {
      throw DomainError(kind: .invalidArgument, code: "proposal.kind_required", arguments: ["\(request.kind.rawValue)"], field: "kind")
    }
    try FieldRules.text(request.title, field: "title", max: 500)
    try FieldRules.text(request.proposer, field: "proposer", max: 100)
    try FieldRules.text(request.proposerContact, field: "proposer_contact", max: 100, required: false)
    try FieldRules.text(request.session, field: "session", max: 100, required: false)
    let lead = request.leadDepartment.trimmingCharacters(in: .whitespaces).uppercased()
    try FieldRules.code(lead, field: "lead_department")
    let coDepartments = request.coDepartments.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
    for department in coDepartments { try FieldRules.code(department, field: "co_departments") }
    let new = NewProposal(
      kind: kind, title: request.title, proposer: request.proposer, proposerContact: request.proposerContact, session: request.session,
      leadDepartment: lead, coDepartments: coDepartments)
    let env = self.env
    let view = try await env.store.registerProposal(
      new, regionCode: env.regionCode, actor: caller.actor, clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info(
      "proposal assigned",
      metadata: ["number": "\(view.proposal.number)", "lead": "\(lead)", "co": "\(coDepartments.joined(separator: ","))"])
    return view.proto
  }

  func extendProposal(request: Banjie_V1_ExtendProposalRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "extend deputies' suggestions and CPPCC proposals (建议/提案)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.reason, field: "reason", max: 2000)
    let env = self.env
    return try await env.store.extendProposal(
      number: request.number, months: Int(request.months), reason: request.reason,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey
    ).proto
  }

  func recordConsultation(request: Banjie_V1_RecordConsultationRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "record contacts with proposers (面商)")
    try FieldRules.text(request.number, field: "number", max: 64)
    guard let method = ProposalContactMethod(proto: request.method) else {
      throw DomainError(
        kind: .invalidArgument, code: "proposal.method_required", arguments: ["\(request.method.rawValue)"], field: "method")
    }
    try FieldRules.text(request.note, field: "note", max: 2000, required: false)
    let env = self.env
    return try await env.store.recordProposalConsultation(
      number: request.number, method: method, note: request.note, contactedAt: request.hasContactedAt ? request.contactedAt.date : nil,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey
    ).proto
  }

  func recordCoOpinion(request: Banjie_V1_RecordCoOpinionRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "give co-handling opinions on proposals (协办意见)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.opinion, field: "opinion", max: 4000)
    let env = self.env
    return try await env.store.recordProposalCoOpinion(
      number: request.number, opinion: request.opinion, expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil,
      actor: caller.actor, clock: env.sla, now: env.now.now, key: caller.idempotencyKey
    ).proto
  }

  func replyProposal(request: Banjie_V1_ReplyProposalRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "reply to deputies' suggestions and CPPCC proposals (建议/提案)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.text, field: "text", max: 8000)
    guard let resultClass = ProposalResultClass(proto: request.resultClass) else {
      throw DomainError(
        kind: .invalidArgument, code: "proposal.result_class_required", arguments: ["\(request.resultClass.rawValue)"],
        field: "result_class")
    }
    let env = self.env
    let view = try await env.store.replyProposal(
      number: request.number, text: request.text, resultClass: resultClass,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("proposal replied", metadata: ["number": "\(request.number)", "round": "\(view.proposal.round)"])
    return view.proto
  }

  func recordAssessment(request: Banjie_V1_RecordAssessmentRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "record proposers' assessments (满意度评价)")
    try FieldRules.text(request.number, field: "number", max: 64)
    guard let assessment = ProposalAssessment(proto: request.assessment) else {
      throw DomainError(
        kind: .invalidArgument, code: "proposal.assessment_required", arguments: ["\(request.assessment.rawValue)"], field: "assessment")
    }
    try FieldRules.text(request.note, field: "note", max: 2000, required: false)
    let env = self.env
    let view = try await env.store.assessProposal(
      number: request.number, assessment: assessment, note: request.note,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info(
      "proposal assessed",
      metadata: ["number": "\(request.number)", "assessment": "\(assessment.rawValue)", "state": "\(view.proposal.state.rawValue)"])
    return view.proto
  }

  func getProposal(request: Banjie_V1_GetProposalRequest, context: ServerContext) async throws -> Banjie_V1_Proposal {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "read deputies' suggestions and CPPCC proposals (建议/提案)")
    try FieldRules.text(request.number, field: "number", max: 64)
    let env = self.env
    guard let view = try await env.store.proposal(number: request.number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "proposal.not_found", arguments: [String(request.number.prefix(64))], field: "number")
    }
    if caller.role == .clerk, view.proposal.leadDepartment != caller.organization,
      !view.coDepartments.contains(where: { $0.record.department == caller.organization })
    {
      throw DomainError(
        kind: .permissionDenied, code: "proposal.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, view.proposal.number])
    }
    return view.proto
  }

  func listProposals(request: Banjie_V1_ListProposalsRequest, context: ServerContext) async throws -> Banjie_V1_ListProposalsResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "list deputies' suggestions and CPPCC proposals (建议/提案)")
    var filter = BanjieStore.ProposalFilter()
    if !request.department.isEmpty {
      try FieldRules.code(request.department, field: "department")
      filter.department = request.department.uppercased()
    }
    if request.kind != .unspecified {
      guard let kind = ProposalKind(proto: request.kind) else {
        throw DomainError(kind: .invalidArgument, code: "proposal.kind_required", arguments: ["\(request.kind.rawValue)"], field: "kind")
      }
      filter.kind = kind
    }
    filter.states = try request.states.map { text in
      guard let state = ProposalState(rawValue: text.trimmingCharacters(in: .whitespaces).uppercased()) else {
        throw DomainError(kind: .invalidArgument, code: "proposal.bad_state", arguments: [String(text.prefix(20))], field: "states")
      }
      return state
    }
    let (pageSize, token) = try EnterpriseService.page(request.page)
    filter.pageSize = pageSize
    if let token {
      guard let after = Int64(token), after > 0 else {
        throw DomainError(kind: .invalidArgument, code: "page.token", field: "page.page_token")
      }
      filter.after = after
    }
    if caller.role == .clerk { filter.involving = caller.organization }
    let env = self.env
    let (views, total, next) = try await env.store.listProposals(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.proposals = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }
}

extension ProposalKind {
  var proto: Banjie_V1_ProposalKind {
    switch self {
    case .deputySuggestion: .deputySuggestion
    case .cppccProposal: .cppccProposal
    }
  }

  init?(proto: Banjie_V1_ProposalKind) {
    switch proto {
    case .deputySuggestion: self = .deputySuggestion
    case .cppccProposal: self = .cppccProposal
    default: return nil
    }
  }
}

extension ProposalContactMethod {
  var proto: Banjie_V1_ProposalContactMethod {
    switch self {
    case .faceToFace: .faceToFace
    case .phone: .phone
    case .other: .other
    }
  }

  init?(proto: Banjie_V1_ProposalContactMethod) {
    switch proto {
    case .faceToFace: self = .faceToFace
    case .phone: self = .phone
    case .other: self = .other
    default: return nil
    }
  }
}

extension ProposalResultClass {
  var proto: Banjie_V1_ProposalResultClass {
    switch self {
    case .a: .a
    case .b: .b
    case .c: .c
    }
  }

  init?(proto: Banjie_V1_ProposalResultClass) {
    switch proto {
    case .a: self = .a
    case .b: self = .b
    case .c: self = .c
    default: return nil
    }
  }
}

extension ProposalAssessment {
  var proto: Banjie_V1_ProposalAssessment {
    switch self {
    case .satisfied: .satisfied
    case .basicallySatisfied: .basicallySatisfied
    case .dissatisfied: .dissatisfied
    }
  }

  init?(proto: Banjie_V1_ProposalAssessment) {
    switch proto {
    case .satisfied: self = .satisfied
    case .basicallySatisfied: self = .basicallySatisfied
    case .dissatisfied: self = .dissatisfied
    default: return nil
    }
  }
}

extension ProposalView {
  var proto: Banjie_V1_Proposal {
    .with {
      let p = self.proposal
      $0.number = p.number
      $0.kind = p.kind.proto
      $0.title = p.title
      $0.proposer = p.proposer
      $0.proposerContact = p.proposerContact
      $0.session = p.session
      $0.leadDepartment = p.leadDepartment
      $0.leadDepartmentName = self.leadDepartmentName
      $0.coDepartments = self.coDepartments.map { co in
        .with {
          $0.department = co.record.department
          $0.name = co.name
          $0.opinions = co.opinions.map { o in
            .with {
              $0.round = UInt32(clamping: o.round)
              $0.text = o.opinion
              $0.givenAt = Google_Protobuf_Timestamp(milliseconds: o.givenAt)
              $0.givenBy = o.givenBy
            }
          }
        }
      }
      $0.assignedAt = Google_Protobuf_Timestamp(milliseconds: p.assignedAt)
      $0.assignedBy = p.assignedBy
      $0.replyMonths = UInt32(clamping: p.replyMonths)
      $0.maxMonths = UInt32(clamping: p.maxMonths)
      $0.months = UInt32(clamping: p.months)
      $0.extensionReason = p.extensionReason
      $0.state = p.state.rawValue
      $0.round = UInt32(clamping: p.round)
      $0.roundStartedAt = Google_Protobuf_Timestamp(milliseconds: p.roundStartedAt)
      $0.dueAt = Google_Protobuf_Timestamp(milliseconds: p.dueAt)
      $0.colour = p.colour.proto
      if let timing = self.timing {
        $0.fractionUsed = timing.fractionUsed
        $0.overdue = timing.isOverdue
        $0.computedAt = Google_Protobuf_Timestamp(milliseconds: timing.computedAt)
      }
      $0.contacts = self.contacts.map { c in
        .with {
          $0.round = UInt32(clamping: c.round)
          $0.contactedAt = Google_Protobuf_Timestamp(milliseconds: c.contactedAt)
          $0.method = c.method.proto
          $0.note = c.note
          $0.recordedBy = c.recordedBy
          $0.recordedAt = Google_Protobuf_Timestamp(milliseconds: c.recordedAt)
        }
      }
      $0.replies = self.replies.map { r in
        .with {
          $0.round = UInt32(clamping: r.round)
          $0.repliedAt = Google_Protobuf_Timestamp(milliseconds: r.repliedAt)
          $0.repliedBy = r.repliedBy
          $0.dueAt = Google_Protobuf_Timestamp(milliseconds: r.dueAt)
          $0.onTime = r.onTime
          $0.text = r.replyText
          $0.resultClass = r.resultClass.proto
          $0.assessment = r.assessment?.proto ?? .unspecified
          $0.assessmentNote = r.assessmentNote
          if let t = Google_Protobuf_Timestamp(r.assessedAt) { $0.assessedAt = t }
          $0.assessedBy = r.assessedBy
        }
      }
      $0.assessment = p.assessment?.proto ?? .unspecified
      if let t = Google_Protobuf_Timestamp(p.closedAt) { $0.closedAt = t }
      $0.version = p.version
    }
  }
}
