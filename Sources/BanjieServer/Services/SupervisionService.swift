import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 督办 (supervision orders, docs/DOMAIN.md): the office issues, closes and reopens, and reads
/// every order; a clerk reads its department's orders and replies to them; enterprises and
/// liaison officials have no part (PERMISSION_DENIED before the request is looked at).
struct SupervisionService: Banjie_V1_SupervisionService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func issue(request: Banjie_V1_IssueSupervisionRequest, context: ServerContext) async throws -> Banjie_V1_SupervisionOrder {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "issue supervision orders (督办)")
    let named: [(SupervisionSubjectKind, String)] = [
      (.serviceCase, request.caseNumber), (.demand, request.demandNumber), (.rectification, request.rectificationNumber),
    ]
    let subjects = named.filter { !$0.1.trimmingCharacters(in: .whitespaces).isEmpty }
    guard subjects.count == 1, let subject = subjects.first else {
      throw DomainError.invalidArgument("supervision.one_subject", field: "case_number")
    }
    let (kind, number) = subject
    try FieldRules.text(number, field: kind.numberField, max: 64)
    var department: String?
    if !request.departmentCode.isEmpty {
      try FieldRules.code(request.departmentCode, field: "department_code")
      department = request.departmentCode
    }
    try FieldRules.text(request.requiredAction, field: "required_action", max: 2000)
    let limit = request.limitWorkingDays == 0 ? SupervisionStateMachine.defaultLimitWorkingDays : Int(clamping: request.limitWorkingDays)
    try SupervisionStateMachine.checkLimit(limit)
    let new = NewSupervision(
      subjectKind: kind, subjectNumber: number.trimmingCharacters(in: .whitespaces), departmentCode: department,
      requiredAction: request.requiredAction, limitWorkingDays: limit)
    let env = self.env
    let key = caller.idempotencyKey
    let view = try await env.store.issueSupervision(
      new, regionCode: env.regionCode, actor: caller.actor, clock: env.sla, now: env.now.now, key: key)
    env.logger.info(
      "supervision order issued",
      metadata: [
        "number": "\(view.record.number)", "subject": "\(kind.rawValue) \(new.subjectNumber)",
        "department": "\(view.record.departmentCode)",
      ])
    return view.proto
  }

  func reply(request: Banjie_V1_ReplySupervisionRequest, context: ServerContext) async throws -> Banjie_V1_SupervisionOrder {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "reply to supervision orders (督办)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.reply, field: "reply", max: 4000)
    try FieldRules.text(request.evidence, field: "evidence", max: 4000, required: false)
    var change = BanjieStore.SupervisionChange()
    change.reply = request.reply
    change.evidence = request.evidence
    let authorize: @Sendable (SupervisionRecord) throws -> Void = { record in
      guard caller.organization == record.departmentCode else {
        throw DomainError(
          kind: .permissionDenied, code: "supervision.not_your_department",
          arguments: [record.number, record.departmentCode, caller.role.rawValue, caller.person, caller.organization])
      }
    }
    return try await self.act(request.number, request.expectedVersion, .reply, change: change, caller: caller, authorize: authorize)
  }

  func close(request: Banjie_V1_CloseSupervisionRequest, context: ServerContext) async throws -> Banjie_V1_SupervisionOrder {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "close supervision orders (督办)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.note, field: "note", max: 2000, required: false)
    var change = BanjieStore.SupervisionChange()
    change.note = request.note
    return try await self.act(request.number, request.expectedVersion, .close, change: change, caller: caller, authorize: { _ in })
  }

  func reopen(request: Banjie_V1_ReopenSupervisionRequest, context: ServerContext) async throws -> Banjie_V1_SupervisionOrder {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "send supervision replies back (退回重办)")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.reason, field: "reason", max: 2000)
    var change = BanjieStore.SupervisionChange()
    change.note = request.reason
    return try await self.act(request.number, request.expectedVersion, .reopen, change: change, caller: caller, authorize: { _ in })
  }

  private func act(
    _ number: String, _ expectedVersion: Int64, _ action: SupervisionAction, change: BanjieStore.SupervisionChange, caller: Caller,
    authorize: @escaping @Sendable (SupervisionRecord) throws -> Void
  ) async throws -> Banjie_V1_SupervisionOrder {
    let env = self.env
    let expected = expectedVersion > 0 ? expectedVersion : nil
    let key = caller.idempotencyKey
    return try await env.store.transitionSupervision(
      number: number, action: action, change: change, expectedVersion: expected, actor: caller.actor, authorize: authorize,
      clock: env.sla, now: env.now.now, key: key
    ).proto
  }

  func get(request: Banjie_V1_GetSupervisionRequest, context: ServerContext) async throws -> Banjie_V1_SupervisionOrder {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "read supervision orders (督办)")
    try FieldRules.text(request.number, field: "number", max: 64)
    let env = self.env
    let number = request.number
    guard let view = try await env.store.supervision(number: number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "supervision.not_found", arguments: [String(number.prefix(64))], field: "number")
    }
    if caller.role == .clerk, caller.organization != view.record.departmentCode {
      throw DomainError(
        kind: .permissionDenied, code: "supervision.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, view.record.number])
    }
    return view.proto
  }

  func list(request: Banjie_V1_ListSupervisionsRequest, context: ServerContext) async throws -> Banjie_V1_ListSupervisionsResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "list supervision orders (督办)")
    var filter = BanjieStore.SupervisionFilter()
    if !request.departmentCode.isEmpty {
      try FieldRules.code(request.departmentCode, field: "department_code")
      filter.department = request.departmentCode
    }
    filter.states = try request.states.map { state in
      guard let s = SupervisionState(proto: state) else {
        throw DomainError(kind: .invalidArgument, code: "supervision.bad_state", arguments: ["\(state)"], field: "states")
      }
      return s
    }
    filter.colours = try request.colours.map { colour in
      guard let c = SLAColour(proto: colour) else {
        throw DomainError(kind: .invalidArgument, code: "supervision.bad_colour", arguments: ["\(colour)"], field: "colours")
      }
      return c
    }
    let kindText = request.subjectKind.trimmingCharacters(in: .whitespaces).lowercased()
    if !kindText.isEmpty {
      guard let kind = SupervisionSubjectKind(rawValue: kindText) else {
        throw DomainError(
          kind: .invalidArgument, code: "supervision.bad_subject_kind", arguments: [String(request.subjectKind.prefix(20))],
          field: "subject_kind")
      }
      filter.subjectKind = kind
    }
    if !request.subjectNumber.isEmpty {
      try FieldRules.text(request.subjectNumber, field: "subject_number", max: 64)
      filter.subjectNumber = request.subjectNumber.trimmingCharacters(in: .whitespaces)
    }
    (filter.pageSize, filter.after) = try EnterpriseService.page(request.page)
    if caller.role == .clerk {
      if let department = filter.department, department != caller.organization {
        throw DomainError(
          kind: .permissionDenied, code: "supervision.not_your_department", messageKey: "supervision.not_your_department#list",
          arguments: [caller.organization, department])
      }
      filter.department = caller.organization
    }
    let env = self.env
    let (views, total, next) = try await env.store.listSupervisions(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.orders = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }
}

extension SupervisionState {
  var proto: Banjie_V1_SupervisionState {
    switch self {
    case .open: return .open
    case .replied: return .replied
    case .closed: return .closed
    }
  }

  init?(proto: Banjie_V1_SupervisionState) {
    switch proto {
    case .open: self = .open
    case .replied: self = .replied
    case .closed: self = .closed
    default: return nil
    }
  }
}

extension SupervisionView {
  var proto: Banjie_V1_SupervisionOrder {
    .with {
      let r = self.record
      $0.number = r.number
      $0.subjectKind = r.subjectKind.rawValue
      $0.subjectNumber = r.subjectNumber
      $0.departmentCode = r.departmentCode
      $0.departmentName = self.departmentName
      $0.requiredAction = r.requiredAction
      $0.limitWorkingDays = UInt32(clamping: r.limitWorkingDays)
      $0.state = r.state.proto
      $0.issuedBy = r.issuedBy
      $0.issuedAt = Google_Protobuf_Timestamp(milliseconds: r.issuedAt)
      $0.dueAt = Google_Protobuf_Timestamp(milliseconds: r.dueAt)
      $0.reply = r.reply
      $0.evidence = r.evidence
      $0.repliedBy = r.repliedBy
      if let t = Google_Protobuf_Timestamp(r.repliedAt) { $0.repliedAt = t }
      $0.reopenReason = r.reopenReason
      $0.closedBy = r.closedBy
      if let t = Google_Protobuf_Timestamp(r.closedAt) { $0.closedAt = t }
      $0.closeNote = r.closeNote
      if let t = Google_Protobuf_Timestamp(r.escalatedAt) { $0.escalatedAt = t }
      if let sla = self.sla { $0.sla = sla.proto }
      $0.colour = r.colour.proto
      $0.version = r.version
    }
  }
}
