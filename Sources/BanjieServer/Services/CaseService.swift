import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// Cases: windows submit and handle them; enterprises read their own; the office reads all.
struct CaseService: Banjie_V1_CaseService.SimpleServiceProtocol {
  let env: ServerEnvironment

  // MARK: Authorization

  /// Clerks act on their own department's cases only.
  private static func clerkOfDepartment(_ caller: Caller) -> @Sendable (CaseRecord) throws -> Void {
    { record in
      guard caller.role == .clerk, caller.organization == record.departmentCode else {
        throw DomainError(
          kind: .permissionDenied, code: "case.not_your_department",
          arguments: [record.number, record.departmentCode, caller.role.rawValue, caller.person, caller.organization])
      }
    }
  }

  /// The capacity in which a clerk takes `action` (docs/DOMAIN.md §22): a clerk of the handling
  /// department; the receiving comprehensive window's department delivering; the 帮办代办 helper
  /// taking a step of the applicant's that the item allows.
  private static func authority(_ caller: Caller, _ action: CaseAction.Name) -> @Sendable (CaseRecord, CaseParties) throws -> CaseAuthority
  {
    { record, parties in
      if caller.role == .clerk, let authority = parties.authority(organization: caller.organization, person: caller.person, action: action)
      {
        return authority
      }
      if caller.role == .clerk, let helper = parties.helper, helper.organization == caller.organization, helper.person == caller.person {
        throw DomainError(
          kind: .permissionDenied, code: "case.proxy_step_not_allowed",
          arguments: [record.number, action.rawValue, record.itemCode, parties.proxySteps.map(\.rawValue).sorted().joined(separator: ", ")])
      }
      throw DomainError(
        kind: .permissionDenied, code: "case.not_your_department",
        arguments: [record.number, record.departmentCode, caller.role.rawValue, caller.person, caller.organization])
    }
  }

  private static func mayRead(_ caller: Caller, _ record: CaseRecord, _ parties: CaseParties?) throws {
    switch caller.role {
    case .office: return
    case .clerk where caller.organization == record.departmentCode: return
    case .clerk where parties?.mayRead(organization: caller.organization, person: caller.person) == true: return
    case .clerk where parties?.responsible == StaffRef(organization: caller.organization, person: caller.person): return
    case .enterprise where record.enterpriseUscc == caller.organization.uppercased(): return
    default:
      throw DomainError(
        kind: .permissionDenied, code: "case.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, record.number])
    }
  }

  // MARK: Mutations

  func submitCase(request: Banjie_V1_SubmitCaseRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "submit cases")
    guard let channel = CaseChannel(proto: request.channel, unspecified: .window) else {
      throw DomainError(kind: .invalidArgument, code: "case.bad_channel", arguments: ["\(request.channel.rawValue)"], field: "channel")
    }
    let new = NewCase(
      itemCode: request.itemCode, applicant: request.applicant,
      enterpriseUSCC: request.enterpriseUscc.isEmpty ? nil : request.enterpriseUscc, window: request.window, note: request.note,
      channel: channel)
    let env = self.env
    // Read the key here, in the call's task, and hand it to the store explicitly.
    let key = caller.idempotencyKey
    let view = try await self.env.store.submitCase(
      new, regionCode: env.regionCode, actor: caller.actor,
      authorize: { item, admission in
        // A clerk submits their own department's items; staff registered at a comprehensive
        // window (综合窗口) submit any department's items there (docs/DOMAIN.md §18).
        let comprehensiveStaff = admission.callerIsStaff && admission.window?.comprehensive == true
        guard item.departmentCode == caller.organization || comprehensiveStaff else {
          throw DomainError(
            kind: .permissionDenied, code: "case.not_your_department", messageKey: "case.not_your_department#item",
            arguments: [item.code, item.departmentCode, caller.organization])
        }
      }, clock: env.sla, now: env.now.now, key: key)
    env.logger.info("case submitted", metadata: ["case": "\(view.record.number)", "item": "\(view.record.itemCode)"])
    return view.proto(withRatingCode: true)
  }

  private func act(
    _ request: Banjie_V1_CaseActionRequest, _ context: ServerContext, _ action: CaseAction, pending: PendingAcceptance? = nil,
    delivery: Delivery = Delivery()
  ) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "handle cases")
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.note, field: "note", max: 2000, required: false)
    let env = self.env
    let number = request.number
    let expected = request.expectedVersion > 0 ? request.expectedVersion : nil
    let key = caller.idempotencyKey
    let view = try await self.env.store.transition(
      number: number, action: action, expectedVersion: expected, actor: caller.actor,
      authorize: Self.authority(caller, action.name), clock: env.sla, now: env.now.now, key: key, pending: pending,
      transferNote: request.note, delivery: delivery)
    env.logger.info(
      "case \(action.name.rawValue)",
      metadata: ["case": "\(number)", "state": "\(view.record.state.rawValue)", "version": "\(view.record.version)"])
    return view.proto
  }

  func acceptCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    // 容缺受理 (docs/DOMAIN.md §20): the item's rules are checked by the store, in the transaction.
    let materials = request.pendingMaterials.map(Self.normalizedMaterial)
    guard materials.count <= 100 else {
      throw DomainError(kind: .invalidArgument, code: "case.too_many_pending", field: "pending_materials")
    }
    for material in materials { try FieldRules.text(material, field: "pending_materials", max: 200) }
    if materials.isEmpty {
      guard request.pendingWorkingDays == 0 else {
        throw DomainError(
          kind: .invalidArgument, code: "case.pending_days_without_materials", arguments: ["\(request.pendingWorkingDays)"],
          field: "pending_working_days")
      }
      return try await self.act(request, context, .accept)
    }
    let days = request.pendingWorkingDays == 0 ? PendingAcceptance.defaultWorkingDays : Int(request.pendingWorkingDays)
    guard PendingAcceptance.workingDaysRange.contains(days) else {
      throw DomainError(
        kind: .invalidArgument, code: "case.pending_bad_days", arguments: ["\(request.pendingWorkingDays)"],
        field: "pending_working_days")
    }
    return try await self.act(request, context, .accept, pending: PendingAcceptance(materials: materials, workingDays: days))
  }

  /// 容缺材料 as compared and stored: NFKC, trimmed.
  private static func normalizedMaterial(_ text: String) -> String {
    text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// 已补齐: a clerk of the case's department records pending materials as supplied.
  func recordMaterialsSupplied(request: Banjie_V1_MaterialsRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "record supplied materials")
    return try await self.resolve(request, caller: caller, .supplied, authorize: Self.clerkOfDepartment(caller))
  }

  /// 免于提交: the office waives pending materials, with a reason.
  func waiveMaterials(request: Banjie_V1_MaterialsRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "waive pending materials")
    try FieldRules.text(request.reason, field: "reason", max: 2000)
    return try await self.resolve(request, caller: caller, .waived(reason: request.reason), authorize: { _ in })
  }

  private func resolve(
    _ request: Banjie_V1_MaterialsRequest, caller: Caller, _ resolution: PendingResolution,
    authorize: @escaping @Sendable (CaseRecord) throws -> Void
  ) async throws -> Banjie_V1_Case {
    try FieldRules.text(request.number, field: "number", max: 64)
    let materials = request.materials.map(Self.normalizedMaterial)
    guard !materials.isEmpty else {
      throw DomainError(kind: .invalidArgument, code: "case.pending_materials_required", field: "materials")
    }
    guard materials.count <= 100 else {
      throw DomainError(kind: .invalidArgument, code: "case.too_many_pending", field: "materials")
    }
    for material in materials { try FieldRules.text(material, field: "materials", max: 200) }
    let env = self.env
    let view = try await env.store.resolvePendingMaterials(
      number: request.number, materials: materials, resolution: resolution,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor, authorize: authorize,
      clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("case pending materials resolved", metadata: ["case": "\(request.number)", "version": "\(view.record.version)"])
    return view.proto
  }

  func requestSupplement(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    guard request.missingMaterials.count <= 100 else {
      throw DomainError(kind: .invalidArgument, code: "case.too_many_materials", field: "missing_materials")
    }
    for material in request.missingMaterials { try FieldRules.text(material, field: "missing_materials", max: 200) }
    return try await self.act(request, context, .requestSupplement(missing: request.missingMaterials))
  }

  func supplementReceived(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try await self.act(request, context, .supplementReceived)
  }

  func refuseCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    try FieldRules.text(request.note, field: "note (the reason)", max: 2000)
    return try await self.act(request, context, .refuse(reason: request.note))
  }

  func suspendCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    try FieldRules.text(request.note, field: "note (the special procedure)", max: 2000)
    return try await self.act(request, context, .suspend(reason: request.note))
  }

  func resumeCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try await self.act(request, context, .resume)
  }

  func transferCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    // A transfer says why (docs/DOMAIN.md §22); the sending department keeps the history readable.
    try FieldRules.text(request.note, field: "note", max: 2000)
    return try await self.act(request, context, .transfer(toDepartment: request.toDepartment))
  }

  func completeCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    guard let outcome = CaseOutcome(rawValue: request.outcome.uppercased()) else {
      throw DomainError(
        kind: .invalidArgument, code: "case.outcome_required", arguments: [String(request.outcome.prefix(20))], field: "outcome")
    }
    return try await self.act(request, context, .complete(outcome))
  }

  func deliverCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try Caller.of(context).require(.clerk, action: "handle cases")
    guard let channel = CaseChannel(proto: request.deliveryChannel, unspecified: .window), CaseChannel.deliveries.contains(channel)
    else {
      throw DomainError(
        kind: .invalidArgument, code: "case.bad_delivery_channel", arguments: ["\(request.deliveryChannel.rawValue)"],
        field: "delivery_channel")
    }
    let window = request.deliveryWindow.trimmingCharacters(in: .whitespacesAndNewlines)
    try FieldRules.text(window, field: "delivery_window", max: 50, required: false)
    return try await self.act(request, context, .deliver, delivery: Delivery(channel: channel, window: window))
  }

  // MARK: 首问负责 and 帮办代办

  /// 首问负责: the responsible clerk (or the office) hands the matter over, with a note.
  func handOverCase(request: Banjie_V1_HandOverRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .office, action: "hand cases over")
    try FieldRules.text(request.number, field: "number", max: 64)
    let target = try Self.staff(request.to, field: "to")
    try FieldRules.text(request.note, field: "note", max: 2000)
    let env = self.env
    let view = try await env.store.handOver(
      number: request.number, to: target, note: request.note,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor,
      authorize: { record, hall in
        let me = StaffRef(organization: caller.organization, person: caller.person)
        let parties = CaseParties(
          department: record.departmentCode, readers: hall.readers, helper: hall.helper, proxySteps: [], responsible: hall.responsible)
        // Who may not even read the case learns nothing about who is responsible for it.
        guard
          caller.role == .office || record.departmentCode == caller.organization || hall.responsible == me
            || parties.mayRead(organization: caller.organization, person: caller.person)
        else {
          throw DomainError(
            kind: .permissionDenied, code: "case.not_visible",
            arguments: [caller.role.rawValue, caller.person, caller.organization, record.number])
        }
        guard caller.role == .office || hall.responsible == me else {
          throw DomainError(
            kind: .permissionDenied, code: "case.not_responsible",
            arguments: [record.number, hall.responsible.person, hall.responsible.organization, caller.person, caller.organization])
        }
      }, clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("case handed over", metadata: ["case": "\(request.number)", "version": "\(view.record.version)"])
    return view.proto
  }

  /// 帮办代办: the office or a clerk of the handling department assigns (or removes) a helper.
  func assignHelper(request: Banjie_V1_AssignHelperRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .office, action: "assign helpers")
    try FieldRules.text(request.number, field: "number", max: 64)
    // An empty person removes the helper.
    let helper = request.helper.person.isEmpty ? nil : try Self.staff(request.helper, field: "helper")
    try FieldRules.text(request.note, field: "note", max: 2000, required: false)
    let env = self.env
    let view = try await env.store.assignHelper(
      number: request.number, helper: helper, note: request.note,
      expectedVersion: request.expectedVersion > 0 ? request.expectedVersion : nil, actor: caller.actor,
      authorize: { record, _ in
        guard caller.role == .office || caller.organization == record.departmentCode else {
          throw DomainError(
            kind: .permissionDenied, code: "case.not_your_department",
            arguments: [record.number, record.departmentCode, caller.role.rawValue, caller.person, caller.organization])
        }
      }, clock: env.sla, now: env.now.now, key: caller.idempotencyKey)
    env.logger.info("case helper assigned", metadata: ["case": "\(request.number)", "version": "\(view.record.version)"])
    return view.proto
  }

  /// A staff member named in a request: organisation and person, both required.
  private static func staff(_ proto: Banjie_V1_CasePerson, field: String) throws -> StaffRef {
    let organization = proto.organization.trimmingCharacters(in: .whitespacesAndNewlines)
    let person = proto.person.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
    try FieldRules.code(organization, field: "\(field).organization")
    try FieldRules.text(person, field: "\(field).person", max: 100)
    return StaffRef(organization: organization, person: person)
  }

  func withdrawCase(request: Banjie_V1_CaseActionRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    try await self.act(request, context, .withdraw)
  }

  // MARK: Reads

  func getCase(request: Banjie_V1_GetCaseRequest, context: ServerContext) async throws -> Banjie_V1_Case {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .enterprise, .office, action: "read cases")
    let env = self.env
    guard let view = try await env.store.caseView(number: request.number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "case.not_found", arguments: [String(request.number.prefix(64))], field: "number")
    }
    let hall = view.hall ?? CaseHall()
    try Self.mayRead(
      caller, view.record,
      CaseParties(
        department: view.record.departmentCode, readers: hall.readers, helper: hall.helper, proxySteps: [], responsible: hall.responsible))
    return view.proto
  }

  /// 评价码 for a receipt: the handling or receiving department's clerks and the office, audited.
  func getRatingCode(request: Banjie_V1_GetCaseRequest, context: ServerContext) async throws -> Banjie_V1_RatingCodeResponse {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .office, action: "read rating codes")
    try FieldRules.text(request.number, field: "number", max: 64)
    let env = self.env
    let code = try await env.store.revealRatingCode(
      number: request.number, actor: caller.actor,
      authorize: { record, parties in
        guard
          caller.role == .office || caller.organization == record.departmentCode
            || parties.readers[caller.organization] == .receiving
        else {
          throw DomainError(
            kind: .permissionDenied, code: "case.rating_code_not_yours",
            arguments: [record.number, caller.role.rawValue, caller.person, caller.organization])
        }
      }, now: env.now.now)
    return .with {
      $0.number = request.number
      $0.ratingCode = code
    }
  }

  func getCaseHistory(request: Banjie_V1_GetCaseHistoryRequest, context: ServerContext) async throws -> Banjie_V1_GetCaseHistoryResponse {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .enterprise, .office, action: "read cases")
    guard let (record, events, parties) = try await self.env.store.caseHistory(number: request.number) else {
      throw DomainError(kind: .notFound, code: "case.not_found", arguments: [String(request.number.prefix(64))], field: "number")
    }
    try Self.mayRead(caller, record, parties)
    return .with {
      $0.events = events.map { event in
        .with {
          $0.seq = Int32(event.seq)
          $0.at = Google_Protobuf_Timestamp(milliseconds: event.at)
          $0.action = event.action
          $0.fromState = event.fromState?.proto ?? .unspecified
          $0.toState = event.toState.proto
          $0.actorRole = event.actorRole
          $0.actorOrganization = event.actorOrganization
          $0.actorPerson = event.actorPerson
          $0.note = event.note
        }
      }
    }
  }

  func listCases(request: Banjie_V1_ListCasesRequest, context: ServerContext) async throws -> Banjie_V1_ListCasesResponse {
    let caller = try Caller.of(context)
    var filter = CaseFilter()
    filter.states = try request.states.map { state in
      guard let s = CaseState(proto: state) else {
        throw DomainError(kind: .invalidArgument, code: "case.bad_state", arguments: ["\(state)"], field: "states")
      }
      return s
    }
    filter.colours = try request.colours.map { colour in
      guard let c = SLAColour(proto: colour) else {
        throw DomainError(kind: .invalidArgument, code: "case.bad_colour", arguments: ["\(colour)"], field: "colours")
      }
      return c
    }
    filter.department = request.departmentCode.isEmpty ? nil : request.departmentCode
    filter.item = request.itemCode.isEmpty ? nil : request.itemCode
    filter.enterprise = request.enterpriseUscc.isEmpty ? nil : request.enterpriseUscc
    let applicant = request.applicant.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
    try FieldRules.text(applicant, field: "applicant", max: 200, required: false)
    filter.applicant = applicant.isEmpty ? nil : applicant
    let window = request.window.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
    try FieldRules.text(window, field: "window", max: 64, required: false)
    filter.window = window.isEmpty ? nil : window
    if request.channel != .unspecified {
      guard let channel = CaseChannel(proto: request.channel, unspecified: nil) else {
        throw DomainError(kind: .invalidArgument, code: "case.bad_channel", arguments: ["\(request.channel.rawValue)"], field: "channel")
      }
      filter.channel = channel
    }
    if !request.receivedFrom.isEmpty {
      do { filter.receivedFrom = try LocalDate(parsing: request.receivedFrom) } catch {
        throw DomainError(
          kind: .invalidArgument, code: "case.bad_date", arguments: ["received_from"], cause: error, field: "received_from")
      }
    }
    if !request.receivedTo.isEmpty {
      do { filter.receivedTo = try LocalDate(parsing: request.receivedTo) } catch {
        throw DomainError(kind: .invalidArgument, code: "case.bad_date", arguments: ["received_to"], cause: error, field: "received_to")
      }
    }
    if let from = filter.receivedFrom, let to = filter.receivedTo, from > to {
      throw DomainError(kind: .invalidArgument, code: "case.reversed_dates", arguments: ["\(from)", "\(to)"], field: "received_from")
    }
    let size = request.page.pageSize == 0 ? 50 : Int(request.page.pageSize)
    guard (1...500).contains(size) else {
      throw DomainError(kind: .invalidArgument, code: "page.size", field: "page.page_size")
    }
    filter.pageSize = size
    filter.after = request.page.pageToken.isEmpty ? nil : request.page.pageToken
    switch caller.role {
    case .office: break
    case .clerk:
      if let department = filter.department, department != caller.organization {
        throw DomainError(
          kind: .permissionDenied, code: "case.not_your_department", messageKey: "case.not_your_department#list",
          arguments: [caller.organization, department])
      }
      // Without a department: the cases it handles, those it may read (一窗受理, transfers) and
      // those this clerk helps (帮办代办); with its own department: only those it handles.
      if filter.department == nil { filter.readableBy = StaffRef(organization: caller.organization, person: caller.person) }
    case .enterprise:
      filter.enterprise = caller.organization
    case .liaison:
      throw DomainError(kind: .permissionDenied, code: "case.not_visible", messageKey: "case.not_visible#liaison")
    case .pad: throw Caller.padRefused("ListCases")
    case .dispatcher: throw Caller.dispatcherRefused("ListCases")
    case .monitor: throw Caller.monitorRefused("ListCases")
    }
    let env = self.env
    let (views, total, next) = try await env.store.listCases(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.cases = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }

  /// How many stored alerts one read of a watcher's backlog takes.
  static let alertPage = 500

  func watchAlerts(request: Banjie_V1_WatchAlertsRequest, response: RPCWriter<Banjie_V1_Alert>, context: ServerContext) async throws {
    let caller = try Caller.of(context)
    var department: String? = request.departmentCode.isEmpty ? nil : request.departmentCode
    switch caller.role {
    case .office: break
    case .clerk:
      if let d = department, d != caller.organization {
        throw DomainError(
          kind: .permissionDenied, code: "case.not_your_department", messageKey: "case.not_your_department#alerts",
          arguments: [caller.organization, d])
      }
      department = caller.organization
    default:
      throw DomainError(kind: .permissionDenied, code: "alerts.not_allowed", arguments: [caller.role.rawValue])
    }
    guard request.afterID >= 0 else {
      throw DomainError(kind: .invalidArgument, code: "alerts.bad_after_id", arguments: ["\(request.afterID)"], field: "after_id")
    }
    // Subscribe before reading the stored alerts, so nothing raised in between is missed; the
    // live part then skips what the stored part already sent (ids only grow).
    let (id, stream) = self.env.alerts.subscribe()
    defer { self.env.alerts.unsubscribe(id) }
    let env = self.env
    var sent = request.afterID
    if request.afterID == 0 {
      // A new watcher: the live part starts after the newest stored alert (read after
      // subscribing, so nothing falls between), preceded by the last 24 hours if asked.
      let newest = try await env.store.lastAlertID()
      if request.includeRecent || request.recentOnly {
        for alert in try await env.store.recentAlerts(since: env.now.now.addingTimeInterval(-86_400), department: department) {
          try await response.write(alert.proto)
          sent = max(sent, alert.id ?? sent)
        }
      }
      sent = max(sent, newest)
    }
    /// Everything stored after `sent`, page by page: a resuming watcher's backlog, and whatever
    /// was raised while it was being sent (alerts are stored before they are published).
    func catchUp() async throws {
      while true {
        let page = try await env.store.alerts(afterID: sent, department: department, limit: Self.alertPage)
        for alert in page {
          try await response.write(alert.proto)
          sent = max(sent, alert.id ?? sent)
        }
        if page.count < Self.alertPage { return }
      }
    }
    try await catchUp()
    if request.recentOnly { return }
    try await withRPCCancellationHandler {
      for await alert in stream {
        if let department, alert.departmentCode != department { continue }
        guard let alertID = alert.id, alertID > sent else { continue }
        // The live buffer keeps the newest alerts only: when ids jump, read what lies between
        // from the store first, so a slow watcher still sees every alert once, in order.
        if alertID > sent + 1 { try await catchUp() }
        guard alertID > sent else { continue }
        try await response.write(alert.proto)
        sent = alertID
      }
    } onCancelRPC: {
      self.env.alerts.unsubscribe(id)
    }
  }
}
