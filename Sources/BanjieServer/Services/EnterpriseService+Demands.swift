import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore

/// Visits and demands: liaisons record visits of their enterprises; departments assign and
/// answer; only the enterprise closes (with its satisfaction) or reopens.
extension EnterpriseService {
  // MARK: Visits

  func recordVisit(request: Banjie_V1_RecordVisitRequest, context: ServerContext) async throws -> Banjie_V1_Visit {
    let caller = try Caller.of(context)
    try caller.require(.liaison, action: "record visits")
    let env = self.env
    let now = env.now.now
    let today = env.sla.calendar.localDate(of: now)
    let visitedOn = request.visitedOn.isEmpty ? today : try Self.date(request.visitedOn, field: "visited_on")
    guard visitedOn <= today else {
      throw DomainError(kind: .invalidArgument, code: "visit.in_future", arguments: ["\(visitedOn)", "\(today)"], field: "visited_on")
    }
    guard today.dayNumber - visitedOn.dayNumber <= 366 else {
      throw DomainError(kind: .invalidArgument, code: "visit.too_old", arguments: ["\(visitedOn)"], field: "visited_on")
    }
    let demands = try request.demands.enumerated().map { i, d in try Self.newDemand(d, field: "demands[\(i)].") }
    let uscc = Self.normalizedUSCC(request.uscc)
    let notes = request.notes
    let key = caller.idempotencyKey
    return try await env.store.recordVisit(
      uscc: uscc, visitedOn: visitedOn, notes: notes, demands: demands, regionCode: env.regionCode, actor: caller.actor,
      authorize: Self.assignedLiaison(caller), clock: env.sla, now: now, key: key
    ).proto
  }

  func listVisits(request: Banjie_V1_ListVisitsRequest, context: ServerContext) async throws -> Banjie_V1_ListVisitsResponse {
    let caller = try Caller.of(context)
    var filter = BanjieStore.VisitFilter()
    filter.uscc = request.uscc.isEmpty ? nil : Self.normalizedUSCC(request.uscc)
    filter.from = request.from.isEmpty ? nil : try Self.date(request.from, field: "from")
    filter.to = request.to.isEmpty ? nil : try Self.date(request.to, field: "to")
    if let from = filter.from, let to = filter.to, from > to {
      throw DomainError(kind: .invalidArgument, code: "visit.reversed_dates", arguments: ["\(from)", "\(to)"], field: "from")
    }
    let (size, token) = try Self.page(request.page)
    filter.pageSize = size
    if let token {
      guard let after = Int64(token) else {
        throw DomainError(kind: .invalidArgument, code: "page.token", field: "page.page_token")
      }
      filter.after = after
    }
    switch caller.role {
    case .office: break
    case .liaison: filter.assignedTo = caller.liaisonRef
    case .enterprise: filter.uscc = caller.organization.uppercased()
    case .clerk: throw DomainError(kind: .permissionDenied, code: "visit.not_visible")
    case .pad: throw Caller.padRefused("ListVisits")
    case .dispatcher: throw Caller.dispatcherRefused("ListVisits")
    case .monitor: throw Caller.monitorRefused("ListVisits")
    }
    let (views, total, next) = try await self.env.store.listVisits(filter)
    return .with {
      $0.visits = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }

  // MARK: Demands

  static func newDemand(_ input: Banjie_V1_DemandInput, field prefix: String = "") throws(DomainError) -> NewDemand {
    let category = try DemandCategory.parse(input.category, field: prefix + "category")
    do {
      try FieldRules.text(input.description_p, field: prefix + "description", max: 4000)
      try FieldRules.code(input.departmentCode, field: prefix + "department_code")
    }
    if input.limitWorkingDays != 0 {
      guard input.limitWorkingDays <= 365 else {
        throw .invalidArgument(
          "demand.limit_out_of_range", arguments: [prefix, "\(input.limitWorkingDays)"], field: prefix + "limit_working_days")
      }
    }
    return NewDemand(
      category: category, description: input.description_p, departmentCode: input.departmentCode,
      limitWorkingDays: input.limitWorkingDays == 0 ? nil : Int(input.limitWorkingDays))
  }

  func raiseDemand(request: Banjie_V1_RaiseDemandRequest, context: ServerContext) async throws -> Banjie_V1_Demand {
    let caller = try Caller.of(context)
    try caller.require(.enterprise, .liaison, .office, action: "raise demands")
    let demand = try Self.newDemand(request.demand)
    let uscc = Self.normalizedUSCC(request.uscc.isEmpty && caller.role == .enterprise ? caller.organization : request.uscc)
    let env = self.env
    let key = caller.idempotencyKey
    let authorize: @Sendable (EnterpriseAccess) throws -> Void = { access in
      switch caller.role {
      case .office: return
      case .enterprise where caller.organization.uppercased() == access.uscc: return
      case .liaison: try Self.assignedLiaison(caller)(access)
      default:
        throw DomainError(
          kind: .permissionDenied, code: "demand.not_your_enterprise",
          arguments: [caller.role.rawValue, caller.person, caller.organization, access.uscc])
      }
    }
    return try await env.store.raiseDemand(
      uscc: uscc, demand: demand, regionCode: env.regionCode, actor: caller.actor, authorize: authorize,
      clock: env.sla, now: env.now.now, key: key
    ).proto
  }

  private func act(
    _ request: Banjie_V1_DemandActionRequest, _ context: ServerContext, _ action: DemandAction, change: BanjieStore.DemandChange
  ) async throws -> Banjie_V1_Demand {
    let caller = try Caller.of(context)
    try FieldRules.text(request.number, field: "number", max: 64)
    let authorize: @Sendable (DemandRecord, EnterpriseAccess) throws -> Void = { record, _ in
      switch action {
      case .assign:
        if caller.role == .office { return }
        guard caller.role == .clerk, caller.organization == record.departmentCode else {
          throw DomainError(
            kind: .permissionDenied, code: "demand.not_your_department",
            arguments: [record.number, record.departmentCode, caller.role.rawValue, caller.person, caller.organization])
        }
        if let department = change.department, department != record.departmentCode {
          throw DomainError(kind: .permissionDenied, code: "demand.reroute_by_office", field: "department_code")
        }
      case .answer:
        guard caller.role == .clerk, caller.organization == record.departmentCode else {
          throw DomainError(
            kind: .permissionDenied, code: "demand.not_your_department", messageKey: "demand.not_your_department#answer",
            arguments: [record.number, record.departmentCode, caller.role.rawValue, caller.person, caller.organization])
        }
      case .close, .reopen:
        guard caller.role == .enterprise, caller.organization.uppercased() == record.uscc else {
          throw DomainError(
            kind: .permissionDenied, code: "demand.enterprise_only",
            arguments: [record.uscc, action.name, record.number, caller.role.rawValue, caller.person, caller.organization])
        }
      }
    }
    let env = self.env
    let number = request.number
    let expected = request.expectedVersion > 0 ? request.expectedVersion : nil
    let key = caller.idempotencyKey
    return try await env.store.transitionDemand(
      number: number, action: action, change: change, expectedVersion: expected, actor: caller.actor,
      authorize: authorize, clock: env.sla, now: env.now.now, key: key
    ).proto
  }

  func assignDemand(request: Banjie_V1_DemandActionRequest, context: ServerContext) async throws -> Banjie_V1_Demand {
    try Caller.of(context).require(.clerk, .office, action: "assign demands")
    var change = BanjieStore.DemandChange()
    try FieldRules.text(request.handler, field: "handler", max: 50)
    change.handler = request.handler
    if !request.departmentCode.isEmpty {
      try FieldRules.code(request.departmentCode, field: "department_code")
      change.department = request.departmentCode
    }
    return try await self.act(request, context, .assign, change: change)
  }

  func answerDemand(request: Banjie_V1_DemandActionRequest, context: ServerContext) async throws -> Banjie_V1_Demand {
    try Caller.of(context).require(.clerk, action: "answer demands")
    var change = BanjieStore.DemandChange()
    try FieldRules.text(request.answer, field: "answer", max: 4000)
    change.answer = request.answer
    return try await self.act(request, context, .answer, change: change)
  }

  func closeDemand(request: Banjie_V1_DemandActionRequest, context: ServerContext) async throws -> Banjie_V1_Demand {
    try Caller.of(context).require(.enterprise, action: "close demands")
    var change = BanjieStore.DemandChange()
    try FieldRules.text(request.note, field: "note", max: 2000, required: false)
    change.note = request.note
    guard (1...5).contains(request.satisfaction) else {
      throw DomainError(
        kind: .invalidArgument, code: "demand.satisfaction_out_of_range", arguments: ["\(request.satisfaction)"], field: "satisfaction")
    }
    return try await self.act(request, context, .close(satisfaction: Int(request.satisfaction)), change: change)
  }

  func reopenDemand(request: Banjie_V1_DemandActionRequest, context: ServerContext) async throws -> Banjie_V1_Demand {
    try Caller.of(context).require(.enterprise, action: "reopen demands")
    var change = BanjieStore.DemandChange()
    try FieldRules.text(request.note, field: "note (the reason)", max: 2000)
    change.note = request.note
    return try await self.act(request, context, .reopen, change: change)
  }

  static func mayReadDemand(_ caller: Caller, _ record: DemandRecord, _ access: EnterpriseAccess) throws {
    switch caller.role {
    case .office: return
    case .clerk where caller.organization == record.departmentCode: return
    case .enterprise where caller.organization.uppercased() == record.uscc: return
    case .liaison where access.liaisons.contains(caller.liaisonRef): return
    default:
      throw DomainError(
        kind: .permissionDenied, code: "demand.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, record.number])
    }
  }

  func getDemand(request: Banjie_V1_GetDemandRequest, context: ServerContext) async throws -> Banjie_V1_Demand {
    let caller = try Caller.of(context)
    let env = self.env
    let number = request.number
    guard let (view, access) = try await env.store.demand(number: number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "demand.not_found", arguments: [String(number.prefix(64))], field: "number")
    }
    try Self.mayReadDemand(caller, view.record, access)
    return view.proto
  }

  func listDemands(request: Banjie_V1_ListDemandsRequest, context: ServerContext) async throws -> Banjie_V1_ListDemandsResponse {
    let caller = try Caller.of(context)
    var filter = BanjieStore.DemandFilter()
    filter.uscc = request.uscc.isEmpty ? nil : Self.normalizedUSCC(request.uscc)
    filter.department = request.departmentCode.isEmpty ? nil : request.departmentCode
    filter.states = try request.states.map { state in
      guard let s = DemandState(proto: state) else {
        throw DomainError(kind: .invalidArgument, code: "demand.bad_state", arguments: ["\(state)"], field: "states")
      }
      return s
    }
    filter.colours = try request.colours.map { colour in
      guard let c = SLAColour(proto: colour) else {
        throw DomainError(kind: .invalidArgument, code: "demand.bad_colour", arguments: ["\(colour)"], field: "colours")
      }
      return c
    }
    filter.raisedFrom = request.raisedFrom.isEmpty ? nil : try Self.date(request.raisedFrom, field: "raised_from")
    filter.raisedTo = request.raisedTo.isEmpty ? nil : try Self.date(request.raisedTo, field: "raised_to")
    if let from = filter.raisedFrom, let to = filter.raisedTo, from > to {
      throw DomainError(kind: .invalidArgument, code: "demand.reversed_dates", arguments: ["\(from)", "\(to)"], field: "raised_from")
    }
    if !request.category.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      filter.category = try DemandCategory.parse(request.category, field: "category")
    }
    (filter.pageSize, filter.after) = try Self.page(request.page)
    switch caller.role {
    case .office: break
    case .clerk:
      if let department = filter.department, department != caller.organization {
        throw DomainError(
          kind: .permissionDenied, code: "demand.not_your_department", messageKey: "demand.not_your_department#list",
          arguments: [caller.organization, department])
      }
      filter.department = caller.organization
    case .enterprise:
      // An enterprise sees its own demands, whatever it asks for.
      filter.uscc = caller.organization.uppercased()
    case .liaison:
      filter.assignedTo = caller.liaisonRef
    case .pad: throw Caller.padRefused("ListDemands")
    case .dispatcher: throw Caller.dispatcherRefused("ListDemands")
    case .monitor: throw Caller.monitorRefused("ListDemands")
    }
    let env = self.env
    let (views, total, next) = try await env.store.listDemands(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.demands = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }

  // MARK: Policies

  func createPolicy(request: Banjie_V1_CreatePolicyRequest, context: ServerContext) async throws -> Banjie_V1_Policy {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "record policies")
    let industries = try request.industries.map { try IndustrySection.parse($0, field: "industries") }
    let scales = try request.scales.map { try EnterpriseScale.parse($0, field: "scales") }
    let eligibility = PolicyEligibility(
      industries: Set(industries), scales: Set(scales), townships: Set(request.townships.map { $0.trimmingCharacters(in: .whitespaces) }))
    let env = self.env
    let key = caller.idempotencyKey
    let (title, summary) = (request.title, request.summary)
    return try await env.store.createPolicy(
      title: title, summary: summary, eligibility: eligibility, actor: caller.actor, now: env.now.now, key: key
    ).proto
  }

  func pushPolicy(request: Banjie_V1_PushPolicyRequest, context: ServerContext) async throws -> Banjie_V1_PushPolicyResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "push policies")
    let env = self.env
    let key = caller.idempotencyKey
    let id = request.policyID
    let (view, pushed) = try await env.store.pushPolicy(id: id, actor: caller.actor, now: env.now.now, key: key)
    return .with {
      $0.policy = view.proto
      $0.newlyPushed = UInt32(pushed)
    }
  }

  func acknowledgePolicy(request: Banjie_V1_AcknowledgePolicyRequest, context: ServerContext) async throws -> Banjie_V1_Policy {
    let caller = try Caller.of(context)
    try caller.require(.enterprise, action: "acknowledge policies")
    let env = self.env
    let key = caller.idempotencyKey
    let id = request.policyID
    let uscc = caller.organization.uppercased()
    return try await env.store.acknowledgePolicy(id: id, uscc: uscc, actor: caller.actor, now: env.now.now, key: key).proto
  }

  func listPolicies(request: Banjie_V1_ListPoliciesRequest, context: ServerContext) async throws -> Banjie_V1_ListPoliciesResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, .enterprise, action: "list policies")
    let enterprise: String? = caller.role == .enterprise ? caller.organization.uppercased() : nil
    let views = try await self.env.store.listPolicies(enterprise: enterprise)
    return .with { $0.policies = views.map(\.proto) }
  }
}
