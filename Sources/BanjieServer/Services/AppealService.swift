import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 群众诉求 (docs/DOMAIN.md §24): the 12345 centre's dispatcher registers, assigns, reassigns and
/// calls back; a clerk of the appeal's department makes first contact and resolves it; the office
/// reads everything, a clerk its department's appeals, an enterprise those it raised; liaison
/// officials and rating pads have no part (PERMISSION_DENIED before the request is looked at).
struct AppealService: Banjie_V1_AppealService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func registerAppeal(request: Banjie_V1_RegisterAppealRequest, context: ServerContext) async throws -> Banjie_V1_Appeal {
    let caller = try Caller.of(context)
    try caller.require(.dispatcher, action: "register appeals (群众诉求)")
    guard let channel = AppealChannel(proto: request.channel) else {
      throw DomainError(
        kind: .invalidArgument, code: "appeal.channel_required", arguments: ["\(request.channel.rawValue)"], field: "channel")
    }
    guard let category = AppealCategory(proto: request.category) else {
      throw DomainError(
        kind: .invalidArgument, code: "appeal.category_required", arguments: ["\(request.category.rawValue)"], field: "category")
    }
    guard let kind = AppealRequesterKind(proto: request.requesterKind) else {
      throw DomainError(
        kind: .invalidArgument, code: "appeal.requester_kind_required", arguments: ["\(request.requesterKind.rawValue)"],
        field: "requester_kind")
    }
    let requester = try AppealRules.checkRequester(
      kind: kind, name: request.requesterName, phone: request.requesterPhone, uscc: request.enterpriseUscc)
    try AppealRules.checkMatter(subject: request.subject, content: request.content)
    let department = request.department.trimmingCharacters(in: .whitespaces).uppercased()
    if !department.isEmpty { try FieldRules.code(department, field: "department") }
    let new = NewAppeal(
      channel: channel, category: category, requester: requester, subject: request.subject, content: request.content,
      department: department.isEmpty ? nil : department)
    let env = self.env
    let view = try await env.store.registerAppeal(
      new, regionCode: env.regionCode, actor: caller.actor, clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info(
      "appeal registered",
      metadata: ["number": "\(view.record.number)", "channel": "\(channel.rawValue)", "department": "\(view.record.department ?? "-")"])
    return view.proto(for: caller)
  }

  func assignAppeal(request: Banjie_V1_AssignAppealRequest, context: ServerContext) async throws -> Banjie_V1_Appeal {
    let caller = try Caller.of(context)
    try caller.require(.dispatcher, action: "assign appeals (群众诉求)")
    try FieldRules.text(request.number, field: "number", max: 64)
    let department = request.department.trimmingCharacters(in: .whitespaces).uppercased()
    try FieldRules.code(department, field: "department")
    try FieldRules.text(request.reason, field: "reason", max: AppealRules.noteMax, required: false)
    let env = self.env
    let view = try await env.store.assignAppeal(
      number: request.number, department: department, reason: request.reason,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("appeal assigned", metadata: ["number": "\(request.number)", "department": "\(department)"])
    return view.proto(for: caller)
  }

  func contactAppeal(request: Banjie_V1_ContactAppealRequest, context: ServerContext) async throws -> Banjie_V1_Appeal {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "contact appeals' requesters (群众诉求)")
    try FieldRules.text(request.number, field: "number", max: 64)
    guard let method = AppealContactMethod(proto: request.method) else {
      throw DomainError(
        kind: .invalidArgument, code: "appeal.contact_method_required", arguments: ["\(request.method.rawValue)"], field: "method")
    }
    try AppealRules.checkContact(note: request.note)
    let env = self.env
    let view = try await env.store.contactAppeal(
      number: request.number, method: method, note: request.note,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("appeal contacted", metadata: ["number": "\(request.number)", "department": "\(caller.organization)"])
    return view.proto(for: caller)
  }

  func resolveAppeal(request: Banjie_V1_ResolveAppealRequest, context: ServerContext) async throws -> Banjie_V1_Appeal {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "resolve appeals (群众诉求)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try AppealRules.checkResolution(request.resolution)
    let env = self.env
    let view = try await env.store.resolveAppeal(
      number: request.number, resolution: request.resolution,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("appeal resolved", metadata: ["number": "\(request.number)", "department": "\(caller.organization)"])
    return view.proto(for: caller)
  }

  func recordCallBack(request: Banjie_V1_AppealCallBackRequest, context: ServerContext) async throws -> Banjie_V1_Appeal {
    let caller = try Caller.of(context)
    try caller.require(.dispatcher, action: "record appeals' call-backs (回访)")
    try FieldRules.text(request.number, field: "number", max: 64)
    guard let satisfaction = AppealSatisfaction(proto: request.satisfaction) else {
      throw DomainError(
        kind: .invalidArgument, code: "appeal.satisfaction_required", arguments: ["\(request.satisfaction.rawValue)"],
        field: "satisfaction")
    }
    let env = self.env
    let view = try await env.store.recordAppealCallBack(
      number: request.number, satisfaction: satisfaction, note: request.note,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("appeal called back", metadata: ["number": "\(request.number)", "satisfaction": "\(satisfaction.rawValue)"])
    return view.proto(for: caller)
  }

  func getAppeal(request: Banjie_V1_GetAppealRequest, context: ServerContext) async throws -> Banjie_V1_Appeal {
    let caller = try Caller.of(context)
    try caller.require(.dispatcher, .office, .clerk, .enterprise, action: "read appeals (群众诉求)")
    try FieldRules.text(request.number, field: "number", max: 64)
    let env = self.env
    guard let view = try await env.store.appeal(number: request.number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "appeal.not_found", arguments: [String(request.number.prefix(64))], field: "number")
    }
    let visible: Bool =
      switch caller.role {
      case .clerk: view.record.department == caller.organization
      case .enterprise: view.record.enterpriseUscc == caller.organization.uppercased()
      default: true
      }
    guard visible else {
      throw DomainError(
        kind: .permissionDenied, code: "appeal.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, view.record.number])
    }
    return view.proto(for: caller)
  }

  func listAppeals(request: Banjie_V1_ListAppealsRequest, context: ServerContext) async throws -> Banjie_V1_ListAppealsResponse {
    let caller = try Caller.of(context)
    try caller.require(.dispatcher, .office, .clerk, .enterprise, action: "list appeals (群众诉求)")
    var filter = BanjieStore.AppealFilter()
    let department = request.department.trimmingCharacters(in: .whitespaces).uppercased()
    if !department.isEmpty {
      try FieldRules.code(department, field: "department")
      filter.department = department
    }
    if request.channel != .unspecified {
      guard let channel = AppealChannel(proto: request.channel) else {
        throw DomainError(
          kind: .invalidArgument, code: "appeal.channel_required", arguments: ["\(request.channel.rawValue)"], field: "channel")
      }
      filter.channel = channel
    }
    filter.states = try request.states.map { text in
      guard let state = CitizenAppealState(rawValue: text.trimmingCharacters(in: .whitespaces).uppercased()) else {
        throw DomainError(kind: .invalidArgument, code: "appeal.bad_state", arguments: [String(text.prefix(20))], field: "states")
      }
      return state
    }
    filter.waiting = request.waiting
    filter.overdue = request.overdue
    (filter.pageSize, filter.after) = try EnterpriseService.page(request.page)
    switch caller.role {
    case .clerk: filter.scopeDepartment = caller.organization
    case .enterprise: filter.scopeEnterprise = caller.organization.uppercased()
    default: break
    }
    let env = self.env
    let (views, total, next) = try await env.store.listAppeals(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.appeals = views.map { $0.proto(for: caller) }
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }
}

extension AppealChannel {
  var proto: Banjie_V1_AppealChannel {
    switch self {
    case .hotline12345: .hotline12345
    case .minyi5: .minyi5
    case .portal: .portal
    case .letter: .letter
    }
  }

  init?(proto: Banjie_V1_AppealChannel) {
    switch proto {
    case .hotline12345: self = .hotline12345
    case .minyi5: self = .minyi5
    case .portal: self = .portal
    case .letter: self = .letter
    default: return nil
    }
  }
}

extension AppealCategory {
  var proto: Banjie_V1_AppealCategory {
    switch self {
    case .consultation: .consultation
    case .help: .help
    case .complaint: .complaint
    case .report: .report
    case .suggestion: .suggestion
    }
  }

  init?(proto: Banjie_V1_AppealCategory) {
    switch proto {
    case .consultation: self = .consultation
    case .help: self = .help
    case .complaint: self = .complaint
    case .report: self = .report
    case .suggestion: self = .suggestion
    default: return nil
    }
  }
}

extension AppealRequesterKind {
  var proto: Banjie_V1_AppealRequesterKind {
    switch self {
    case .citizen: .citizen
    case .enterprise: .enterprise
    }
  }

  init?(proto: Banjie_V1_AppealRequesterKind) {
    switch proto {
    case .citizen: self = .citizen
    case .enterprise: self = .enterprise
    default: return nil
    }
  }
}

extension AppealContactMethod {
  var proto: Banjie_V1_AppealContactMethod {
    switch self {
    case .phone: .phone
    case .visit: .visit
    case .other: .other
    }
  }

  init?(proto: Banjie_V1_AppealContactMethod) {
    switch proto {
    case .phone: self = .phone
    case .visit: self = .visit
    case .other: self = .other
    default: return nil
    }
  }
}

extension AppealSatisfaction {
  var proto: Banjie_V1_AppealSatisfaction {
    switch self {
    case .satisfied: .satisfied
    case .basicallySatisfied: .basicallySatisfied
    case .dissatisfied: .dissatisfied
    }
  }

  init?(proto: Banjie_V1_AppealSatisfaction) {
    switch proto {
    case .satisfied: self = .satisfied
    case .basicallySatisfied: self = .basicallySatisfied
    case .dissatisfied: self = .dissatisfied
    default: return nil
    }
  }
}

extension AppealView {
  /// The appeal as `caller` reads it: the requester's phone in full for those who call back (the
  /// dispatcher and the department's clerks) and for the enterprise that gave it, masked for the
  /// office (docs/DOMAIN.md §24).
  func proto(for caller: Caller) -> Banjie_V1_Appeal {
    self.proto(fullPhone: caller.role != .office)
  }

  func proto(fullPhone: Bool) -> Banjie_V1_Appeal {
    .with {
      let a = self.record
      $0.number = a.number
      $0.channel = a.channel.proto
      $0.category = a.category.proto
      $0.requesterKind = a.requesterKind.proto
      $0.requesterName = a.requesterName
      $0.requesterPhone = fullPhone ? a.requesterPhone : AppealRules.maskedPhone(a.requesterPhone)
      $0.enterpriseUscc = a.enterpriseUscc ?? ""
      $0.enterpriseName = self.enterpriseName
      $0.subject = a.subject
      $0.content = a.content
      $0.registeredBy = a.registeredBy
      $0.registeredAt = Google_Protobuf_Timestamp(milliseconds: a.registeredAt)
      $0.state = a.state.rawValue
      $0.department = a.department ?? ""
      $0.departmentName = self.departmentName
      if let t = Google_Protobuf_Timestamp(a.assignedAt) { $0.assignedAt = t }
      $0.assignedBy = a.assignedBy
      $0.reassignments = UInt32(clamping: a.reassignments)
      $0.reassignReason = a.reassignReason
      $0.responseLimitWorkingDays = UInt32(clamping: a.responseLimitWorkingDays ?? 0)
      if let t = Google_Protobuf_Timestamp(a.responseDueAt) { $0.responseDueAt = t }
      $0.responseColour = a.responseColour?.proto ?? .unspecified
      if let sla = self.responseSLA { $0.responseSla = sla.proto }
      if let t = Google_Protobuf_Timestamp(a.contactedAt) { $0.contactedAt = t }
      $0.contactedBy = a.contactedBy
      $0.contactMethod = a.contactMethod?.proto ?? .unspecified
      $0.contactNote = a.contactNote
      $0.responseOnTime = a.responseOnTime ?? false
      $0.resolutionLimitWorkingDays = UInt32(clamping: a.resolutionLimitWorkingDays ?? 0)
      $0.round = UInt32(clamping: a.round)
      $0.rounds = self.rounds.map { round in
        .with {
          let r = round.record
          $0.round = UInt32(clamping: r.round)
          $0.startedAt = Google_Protobuf_Timestamp(milliseconds: r.startedAt)
          $0.limitWorkingDays = UInt32(clamping: r.limitWorkingDays)
          $0.dueAt = Google_Protobuf_Timestamp(milliseconds: r.dueAt)
          $0.colour = r.colour.proto
          if let t = Google_Protobuf_Timestamp(r.resolvedAt) { $0.resolvedAt = t }
          $0.resolvedBy = r.resolvedBy
          $0.resolution = r.resolution
          $0.onTime = r.onTime ?? false
          if let t = Google_Protobuf_Timestamp(r.callBackAt) { $0.callBackAt = t }
          $0.callBackBy = r.callBackBy
          $0.satisfaction = r.satisfaction?.proto ?? .unspecified
          $0.callBackNote = r.callBackNote
          if let sla = round.sla { $0.sla = sla.proto }
        }
      }
      $0.satisfaction = a.satisfaction?.proto ?? .unspecified
      if let t = Google_Protobuf_Timestamp(a.closedAt) { $0.closedAt = t }
      $0.version = a.version
    }
  }
}
