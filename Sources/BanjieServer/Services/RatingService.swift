import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore

/// 好差评: enterprises rate their own completed cases, and every applicant rates on the window's
/// rating pad or with the receipt's rating code (docs/DOMAIN.md §21); a 差评 opens a rectification
/// that a head of the department (or the office) verifies, the department rectifies and follows
/// up, the rater confirms, and the department or the office closes — or that the department
/// appeals to the office.
struct RatingService: Banjie_V1_RatingService.SimpleServiceProtocol {
  let env: ServerEnvironment

  // MARK: Ratings

  func rateCase(request: Banjie_V1_RateCaseRequest, context: ServerContext) async throws -> Banjie_V1_Rating {
    let caller = try Caller.of(context)
    try caller.require(.enterprise, .pad, action: "rate cases")
    let env = self.env
    let rater: BanjieStore.Rater
    if caller.role == .pad {
      // A pad that is not a registered, in-service device of its window learns nothing more.
      let device = RatingDeviceID.normalize(caller.person)
      let window = WindowCode.normalize(caller.organization)
      try await env.store.checkRatingPad(device: device, window: window)
      rater = .pad(device: device, window: window)
    } else {
      rater = .enterprise
    }
    try FieldRules.text(request.caseNumber, field: "case_number", max: 64)
    let input = try RatingInput(level: Int(clamping: request.level), comment: request.comment, tags: request.tags)
    let code = request.ratingCode.isEmpty ? nil : try RatingCode.parse(request.ratingCode, field: "rating_code")
    let number = request.caseNumber
    // Read the key here, in the call's task, and hand it to the store explicitly.
    let key = caller.idempotencyKey
    // Guessing codes is throttled per caller (docs/SECURITY.md): 10 wrong ones in 10 minutes.
    let guesser = "\(caller.role.rawValue):\(caller.organization):\(caller.person)"
    let now = env.now.now
    if code != nil, let retry = env.codeRetryAt(caller: guesser, now: now) {
      throw DomainError(
        kind: .resourceExhausted, code: "rating.code_attempts",
        arguments: [
          "\(ServerEnvironment.codeFailureLimit)", "\(Int(ServerEnvironment.codeFailureWindow / 60))", AuditLog.timestamp(retry),
        ],
        field: "rating_code")
    }
    do {
      return try await env.store.rateCase(
        caseNumber: number, input: input, ratingCode: code, rater: rater, actor: caller.actor,
        authorize: { record in
          guard record.enterpriseUscc == caller.organization.uppercased() else {
            throw DomainError(kind: .permissionDenied, code: "rating.not_your_case", arguments: [record.number, caller.organization])
          }
        }, clock: env.sla, now: now, key: key
      ).proto
    } catch let error as DomainError where error.code == "rating.code_mismatch" {
      env.recordCodeFailure(caller: guesser, now: now)
      throw error
    }
  }

  func getRating(request: Banjie_V1_GetRatingRequest, context: ServerContext) async throws -> Banjie_V1_Rating {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .enterprise, .office, action: "read ratings")
    let number = request.caseNumber
    guard let (record, view) = try await self.env.store.rating(caseNumber: number) else {
      throw DomainError(kind: .notFound, code: "case.not_found", arguments: [String(number.prefix(64))], field: "case_number")
    }
    try Self.mayRead(
      caller, department: record.departmentCode, uscc: record.enterpriseUscc, messageKey: "rating.not_visible", number: record.number)
    guard let view else {
      throw DomainError(kind: .notFound, code: "rating.not_found", arguments: [record.number], field: "case_number")
    }
    return view.proto
  }

  func getRatingMeasures(request: Banjie_V1_RatingMeasuresRequest, context: ServerContext) async throws -> Banjie_V1_RatingMeasuresResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "read rating measures")
    let from = try EnterpriseService.date(request.from, field: "from")
    let to = try EnterpriseService.date(request.to, field: "to")
    guard from <= to else {
      throw DomainError(kind: .invalidArgument, code: "rating.reversed_dates", arguments: ["\(from)", "\(to)"], field: "from")
    }
    guard to.dayNumber - from.dayNumber <= 3660 else {
      throw DomainError(kind: .invalidArgument, code: "rating.period_too_long", field: "to")
    }
    let by = request.by.isEmpty ? "department" : request.by.lowercased()
    guard let grouping = RatingGrouping(rawValue: by) else {
      throw DomainError(kind: .invalidArgument, code: "rating.bad_grouping", arguments: [String(request.by.prefix(20))], field: "by")
    }
    let calendar = self.env.sla.calendar
    let report = try await self.env.store.ratingMeasures(from: from, to: to, by: grouping, calendar: calendar)
    return .with {
      $0.from = report.from.description
      $0.to = report.to.description
      $0.by = report.by.rawValue
      $0.total = report.total.proto
      $0.groups = report.groups.map(\.proto)
    }
  }

  // MARK: Rectifications

  /// `messageKey` says what is read: `rating.not_visible` (a case's rating) or `rating.not_visible#rectification`.
  static func mayRead(_ caller: Caller, department: String, uscc: String?, messageKey: String, number: String) throws {
    switch caller.role {
    case .office: return
    case .clerk where caller.organization == department: return
    case .enterprise where uscc != nil && uscc == caller.organization.uppercased(): return
    default:
      throw DomainError(
        kind: .permissionDenied, code: "rating.not_visible", messageKey: messageKey,
        arguments: [caller.role.rawValue, caller.person, caller.organization, number])
    }
  }

  func getRectification(request: Banjie_V1_GetRectificationRequest, context: ServerContext) async throws -> Banjie_V1_Rectification {
    try Caller.of(context).require(.clerk, .enterprise, .office, action: "read rectifications")
    let caller = try Caller.of(context)
    let env = self.env
    let number = request.number
    guard let view = try await env.store.rectification(number: number, clock: env.sla, now: env.now.now) else {
      throw DomainError(kind: .notFound, code: "rectification.not_found", arguments: [String(number.prefix(64))], field: "number")
    }
    try Self.mayRead(
      caller, department: view.record.departmentCode, uscc: view.rating.record.uscc, messageKey: "rating.not_visible#rectification",
      number: number)
    return view.proto
  }

  func listRectifications(request: Banjie_V1_ListRectificationsRequest, context: ServerContext) async throws
    -> Banjie_V1_ListRectificationsResponse
  {
    let caller = try Caller.of(context)
    var filter = BanjieStore.RectificationFilter()
    filter.department = request.departmentCode.isEmpty ? nil : request.departmentCode
    filter.states = request.states.compactMap(RectificationState.init(proto:))
    filter.colours = request.colours.compactMap(SLAColour.init(proto:))
    filter.openedFrom = request.openedFrom.isEmpty ? nil : try EnterpriseService.date(request.openedFrom, field: "opened_from")
    filter.openedTo = request.openedTo.isEmpty ? nil : try EnterpriseService.date(request.openedTo, field: "opened_to")
    if let from = filter.openedFrom, let to = filter.openedTo, from > to {
      throw DomainError(
        kind: .invalidArgument, code: "rectification.reversed_dates", arguments: ["\(from)", "\(to)"], field: "opened_from")
    }
    let caseNumber = request.caseNumber.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    try FieldRules.text(caseNumber, field: "case_number", max: 64, required: false)
    filter.caseNumber = caseNumber.isEmpty ? nil : caseNumber
    let (size, token) = try EnterpriseService.page(request.page)
    filter.pageSize = size
    filter.after = token
    switch caller.role {
    case .office: break
    case .clerk: filter.department = caller.organization
    case .enterprise: filter.uscc = caller.organization.uppercased()
    case .liaison:
      throw DomainError(kind: .permissionDenied, code: "rating.not_visible", messageKey: "rating.not_visible#liaison")
    case .pad: throw Caller.padRefused("ListRectifications")
    case .dispatcher: throw Caller.dispatcherRefused("ListRectifications")
    case .monitor: throw Caller.monitorRefused("ListRectifications")
    }
    let env = self.env
    let (views, total, next) = try await env.store.listRectifications(filter, clock: env.sla, now: env.now.now)
    return .with {
      $0.rectifications = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }

  private func act(
    _ request: Banjie_V1_RectificationActionRequest, _ context: ServerContext, _ action: RectificationAction,
    text field: String, required: Bool = true
  ) async throws -> Banjie_V1_Rectification {
    let caller = try Caller.of(context)
    // Roles that may never take this step are refused before anything else is looked at; who
    // within a role may take it (department, head, the clerk rated, the rater) is decided by the
    // store from the rectification's parties (RectificationParties.authorize).
    switch action {
    case .decide, .signOff: try caller.require(.office, action: "\(action.name) rectifications")
    case .verify, .followUp, .close: try caller.require(.clerk, .office, action: "\(action.name) rectifications")
    case .rectify, .appeal: try caller.require(.clerk, action: "\(action.name) rectifications")
    case .confirm: try caller.require(.enterprise, action: "confirm rectifications")
    }
    try FieldRules.text(request.number, field: "number", max: 64)
    try FieldRules.text(request.text, field: field, max: 2000, required: required)
    let env = self.env
    let number = request.number
    let text = request.text
    let expected = request.expectedVersion > 0 ? request.expectedVersion : nil
    let key = caller.idempotencyKey
    return try await env.store.transitionRectification(
      number: number, action: action, text: text, expectedVersion: expected, actor: caller.actor, clock: env.sla, now: env.now.now,
      key: key
    ).proto
  }

  func verifyRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws -> Banjie_V1_Rectification {
    try await self.act(request, context, .verify(valid: request.valid), text: "evidence")
  }

  func rectifyRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws -> Banjie_V1_Rectification {
    try await self.act(request, context, .rectify, text: "measures")
  }

  func followUpRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws -> Banjie_V1_Rectification
  {
    try await self.act(request, context, .followUp(satisfied: request.satisfied), text: "result")
  }

  func closeRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws -> Banjie_V1_Rectification {
    try await self.act(request, context, .close, text: "note", required: false)
  }

  func appealRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws -> Banjie_V1_Rectification {
    try await self.act(request, context, .appeal, text: "reason")
  }

  func decideAppeal(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws -> Banjie_V1_Rectification {
    try await self.act(request, context, .decide(uphold: request.uphold), text: "decision")
  }

  func confirmRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws
    -> Banjie_V1_Rectification
  {
    try await self.act(request, context, .confirm, text: "confirmation_note")
  }

  func signOffRectification(request: Banjie_V1_RectificationActionRequest, context: ServerContext) async throws
    -> Banjie_V1_Rectification
  {
    try await self.act(request, context, .signOff, text: "reason")
  }
}
