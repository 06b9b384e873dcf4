import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 部门会签 (docs/DOMAIN.md §23): a clerk of the lead unit registers a draft and extends a unit's
/// limit; a clerk of each countersigning unit answers; the office reads everything; other roles
/// have no part (PERMISSION_DENIED before the request is looked at).
struct CountersignService: Banjie_V1_CountersignService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func registerCountersign(request: Banjie_V1_RegisterCountersignRequest, context: ServerContext) async throws -> Banjie_V1_Countersign {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "register drafts for countersigning (会签)")
    try FieldRules.text(request.title, field: "title", max: 500)
    try FieldRules.text(request.documentNumber, field: "document_number", max: 100, required: false)
    try FieldRules.text(request.overLengthReason, field: "over_length_reason", max: 2000, required: false)
    let units = request.units.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
    for unit in units { try FieldRules.code(unit, field: "units") }
    let new = NewCountersign(
      title: request.title, documentNumber: request.documentNumber, lengthCharacters: Int(request.lengthCharacters),
      policy: request.policy, overLengthReason: request.overLengthReason, units: units)
    let env = self.env
    let view = try await env.store.registerCountersign(
      new, regionCode: env.regionCode, actor: caller.actor, clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info(
      "countersign registered", metadata: ["number": "\(view.document.number)", "units": "\(units.joined(separator: ","))"])
    return view.proto
  }

  func answerCountersign(request: Banjie_V1_AnswerCountersignRequest, context: ServerContext) async throws -> Banjie_V1_Countersign {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "answer countersigns (会签)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.text, field: "text", max: 4000, required: false)
    guard let answer = CountersignAnswer(proto: request.answer) else {
      throw DomainError(
        kind: .invalidArgument, code: "countersign.answer_required", arguments: ["\(request.answer.rawValue)"], field: "answer")
    }
    let env = self.env
    let view = try await env.store.answerCountersign(
      number: request.number, answer: answer, text: request.text,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("countersign answered", metadata: ["number": "\(request.number)", "unit": "\(caller.organization)"])
    return view.proto
  }

  func extendCountersign(request: Banjie_V1_ExtendCountersignRequest, context: ServerContext) async throws -> Banjie_V1_Countersign {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "extend countersigns (会签)")
    try FieldRules.text(request.number, field: "number", max: 64)
    let unit = request.unit.trimmingCharacters(in: .whitespaces).uppercased()
    try FieldRules.code(unit, field: "unit")
    try FieldRules.text(request.reason, field: "reason", max: 2000)
    let env = self.env
    return try await env.store.extendCountersign(
      number: request.number, unit: unit, days: Int(request.workingDays), reason: request.reason,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, clock: env.sla,
      now: env.now.now, key: caller.idempotencyKey
    ).proto
  }

  func getCountersign(request: Banjie_V1_GetCountersignRequest, context: ServerContext) async throws -> Banjie_V1_Countersign {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "read countersigns (会签)")
    try FieldRules.text(request.number, field: "number", max: 64)
    let env = self.env
    guard let view = try await env.store.countersign(number: request.number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "countersign.not_found", arguments: [String(request.number.prefix(64))], field: "number")
    }
    if caller.role == .clerk, view.document.leadUnit != caller.organization,
      !view.units.contains(where: { $0.record.unit == caller.organization })
    {
      throw DomainError(
        kind: .permissionDenied, code: "countersign.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, view.document.number])
    }
    return view.proto
  }

  func listCountersigns(request: Banjie_V1_ListCountersignsRequest, context: ServerContext) async throws
    -> Banjie_V1_ListCountersignsResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "list countersigns (会签)")
    var filter = BanjieStore.CountersignFilter()
    if !request.waitingOn.isEmpty {
      try FieldRules.code(request.waitingOn, field: "waiting_on")
      filter.waitingOn = request.waitingOn.uppercased()
    }
    if !request.leadUnit.isEmpty {
      try FieldRules.code(request.leadUnit, field: "lead_unit")
      filter.lead = request.leadUnit.uppercased()
    }
    filter.states = try request.states.map { text in
      guard let state = CountersignState(rawValue: text.trimmingCharacters(in: .whitespaces).uppercased()) else {
        throw DomainError(kind: .invalidArgument, code: "countersign.bad_state", arguments: [String(text.prefix(20))], field: "states")
      }
      return state
    }
    (filter.pageSize, filter.after) = try EnterpriseService.page(request.page)
    if caller.role == .clerk { filter.involving = caller.organization }
    let env = self.env
    let (views, total, next) = try await env.store.listCountersigns(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.countersigns = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }
}

extension CountersignAnswer {
  var proto: Banjie_V1_CountersignAnswer {
    switch self {
    case .agree: .agree
    case .agreeWithComments: .agreeWithComments
    case .disagree: .disagree
    }
  }

  init?(proto: Banjie_V1_CountersignAnswer) {
    switch proto {
    case .agree: self = .agree
    case .agreeWithComments: self = .agreeWithComments
    case .disagree: self = .disagree
    default: return nil
    }
  }
}

extension CountersignView {
  var proto: Banjie_V1_Countersign {
    .with {
      let d = self.document
      $0.number = d.number
      $0.title = d.title
      $0.documentNumber = d.documentNumber
      $0.lengthCharacters = UInt32(clamping: d.lengthCharacters)
      $0.policy = d.policy
      $0.overLength = d.overLength
      $0.overLengthReason = d.overLengthReason
      $0.leadUnit = d.leadUnit
      $0.leadUnitName = self.leadUnitName
      $0.registeredBy = d.registeredBy
      $0.registeredAt = Google_Protobuf_Timestamp(milliseconds: d.registeredAt)
      $0.state = d.state.rawValue
      if let t = Google_Protobuf_Timestamp(d.completedAt) { $0.completedAt = t }
      $0.version = d.version
      $0.units = self.units.map { u in
        .with {
          let r = u.record
          $0.unit = r.unit
          $0.unitName = u.unitName
          $0.receivedAt = Google_Protobuf_Timestamp(milliseconds: r.receivedAt)
          $0.limitWorkingDays = UInt32(clamping: r.limitWorkingDays)
          $0.extendedDays = UInt32(clamping: r.extendedDays)
          $0.extensionReason = r.extensionReason
          $0.dueAt = Google_Protobuf_Timestamp(milliseconds: r.dueAt)
          $0.colour = r.colour.proto
          $0.answer = r.answer?.proto ?? .unspecified
          $0.answerText = r.answerText
          $0.answeredBy = r.answeredBy
          if let t = Google_Protobuf_Timestamp(r.answeredAt) { $0.answeredAt = t }
          $0.onTime = r.onTime ?? false
          if let sla = u.sla { $0.sla = sla.proto }
        }
      }
    }
  }
}
