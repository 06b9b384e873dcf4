import Foundation

/// 群众诉求 (docs/DOMAIN.md §24): an appeal from a citizen or an enterprise that reaches the county
/// by the 12345 hotline, 民意“5”来听, the portal or a letter. The 12345 centre's dispatcher registers
/// it and assigns it to a department; the department makes first contact within the response limit
/// and resolves it within its category's limit; the dispatcher's call-back (回访) records the
/// requester's satisfaction, and a dissatisfied requester reopens the matter.
///
///     REGISTERED → ASSIGNED → CONTACTED → RESOLVED → CLOSED
///     ASSIGNED → ASSIGNED (reassigned before the first contact, with a reason)
///     RESOLVED → REOPENED (call-back: dissatisfied) → RESOLVED → …
///
/// Named `CitizenAppealState` because `AppealState` is a 差评's appeal (申诉, docs/DOMAIN.md §13).
public enum CitizenAppealState: String, Sendable, Hashable, CaseIterable, Codable {
  /// Registered without a department yet.
  case registered = "REGISTERED"
  /// Assigned to a department, which has not made first contact.
  case assigned = "ASSIGNED"
  /// The department has made first contact; the matter is being resolved.
  case contacted = "CONTACTED"
  /// Resolved by the department, waiting for the dispatcher's call-back.
  case resolved = "RESOLVED"
  /// The call-back found the requester satisfied or basically satisfied.
  case closed = "CLOSED"
  /// The call-back found the requester dissatisfied: the department resolves it again.
  case reopened = "REOPENED"

  /// Waiting on the department: the resolution clock of the current round runs.
  public var awaitsDepartment: Bool { self == .assigned || self == .contacted || self == .reopened }
}

/// Where an appeal came in.
public enum AppealChannel: String, Sendable, Hashable, CaseIterable, Codable {
  /// 12345热线: the county's government service hotline.
  case hotline12345 = "HOTLINE_12345"
  /// 民意“5”来听.
  case minyi5 = "MINYI_5"
  /// 网站留言: a message on the government portal.
  case portal = "PORTAL"
  /// 来信: a letter.
  case letter = "LETTER"

  public var chineseName: String {
    switch self {
    case .hotline12345: "12345热线"
    case .minyi5: "民意“5”来听"
    case .portal: "网站留言"
    case .letter: "来信"
    }
  }
}

/// Who raised it: a citizen (name and phone, no certificate) or a registered enterprise.
public enum AppealRequesterKind: String, Sendable, Hashable, CaseIterable, Codable {
  case citizen = "CITIZEN"
  case enterprise = "ENTERPRISE"
}

/// What kind of matter it is; each category has its own resolution limit (`AppealResolutionLimits`).
public enum AppealCategory: String, Sendable, Hashable, CaseIterable, Codable {
  /// 咨询.
  case consultation = "CONSULTATION"
  /// 求助.
  case help = "HELP"
  /// 投诉.
  case complaint = "COMPLAINT"
  /// 举报.
  case report = "REPORT"
  /// 建议.
  case suggestion = "SUGGESTION"

  public var chineseName: String {
    switch self {
    case .consultation: "咨询"
    case .help: "求助"
    case .complaint: "投诉"
    case .report: "举报"
    case .suggestion: "建议"
    }
  }

  /// The name in the `appeal_resolution_limits` setting: "consultation", "help"…
  public var settingName: String { self.rawValue.lowercased() }

  /// banjie's default resolution limit in working days (docs/DOMAIN.md §24); the office changes
  /// them with the `appeal_resolution_limits` setting.
  public var defaultResolutionWorkingDays: Int {
    switch self {
    case .consultation: 1
    case .help: 5
    case .complaint: 5
    case .report: 15
    case .suggestion: 10
    }
  }

  /// A category as written in the setting: its name in any case (consultation, CONSULTATION) or
  /// in Chinese (咨询); nil for anything else.
  public static func named(_ text: String) -> AppealCategory? {
    let trimmed = String(text.trimmingWhitespace())
    if let category = AppealCategory(rawValue: trimmed.uppercased()) { return category }
    return Self.allCases.first { $0.chineseName == trimmed }
  }
}

/// How the department made first contact (首次联系).
public enum AppealContactMethod: String, Sendable, Hashable, CaseIterable, Codable {
  case phone = "PHONE"
  case visit = "VISIT"
  case other = "OTHER"
}

/// The requester's satisfaction as the dispatcher's call-back (回访) records it.
public enum AppealSatisfaction: String, Sendable, Hashable, CaseIterable, Codable {
  /// 满意.
  case satisfied = "SATISFIED"
  /// 基本满意.
  case basicallySatisfied = "BASICALLY_SATISFIED"
  /// 不满意: the appeal is reopened.
  case dissatisfied = "DISSATISFIED"

  /// Counted as satisfied on the dashboard, and closes the appeal.
  public var isSatisfied: Bool { self != .dissatisfied }
}

/// A step of an appeal's life.
public enum AppealAction: Sendable, Hashable {
  /// The dispatcher names the department (at registration or later).
  case assign
  /// The dispatcher moves it to another department before the first contact.
  case reassign
  /// The department's first contact with the requester.
  case contact
  /// The department's resolution.
  case resolve
  /// The dispatcher's call-back.
  case callBack(AppealSatisfaction)

  public var name: String {
    switch self {
    case .assign: "assign"
    case .reassign: "reassign"
    case .contact: "contact"
    case .resolve: "resolve"
    case .callBack: "call_back"
    }
  }
}

/// The resolution limit of each category in working days: the `appeal_resolution_limits` setting,
/// written "consultation:1,help:5,complaint:5,report:15,suggestion:10" (always in that order).
public struct AppealResolutionLimits: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Each category's limit: 1–60 working days.
  public static let range = 1...60

  public var consultation: Int
  public var help: Int
  public var complaint: Int
  public var report: Int
  public var suggestion: Int

  /// The defaults (`AppealCategory.defaultResolutionWorkingDays`).
  public init() {
    self.consultation = AppealCategory.consultation.defaultResolutionWorkingDays
    self.help = AppealCategory.help.defaultResolutionWorkingDays
    self.complaint = AppealCategory.complaint.defaultResolutionWorkingDays
    self.report = AppealCategory.report.defaultResolutionWorkingDays
    self.suggestion = AppealCategory.suggestion.defaultResolutionWorkingDays
  }

  public subscript(category: AppealCategory) -> Int {
    get {
      switch category {
      case .consultation: self.consultation
      case .help: self.help
      case .complaint: self.complaint
      case .report: self.report
      case .suggestion: self.suggestion
      }
    }
    set {
      switch category {
      case .consultation: self.consultation = newValue
      case .help: self.help = newValue
      case .complaint: self.complaint = newValue
      case .report: self.report = newValue
      case .suggestion: self.suggestion = newValue
      }
    }
  }

  /// "consultation:1,help:5,complaint:5,report:15,suggestion:10": every category, in order.
  public var description: String {
    AppealCategory.allCases.map { "\($0.settingName):\(self[$0])" }.joined(separator: ",")
  }

  /// Reads the setting's text: `CATEGORY:DAYS` for every category exactly once, in any order,
  /// separated by commas (`,` or `，`; `:` or `：` within a part); a category by its name in any
  /// case or in Chinese. INVALID_ARGUMENT on `appeal_resolution_limits` naming the bad part.
  public static func parse(_ text: String) throws(DomainError) -> AppealResolutionLimits {
    let field = "appeal_resolution_limits"
    var limits = AppealResolutionLimits()
    var seen: Set<AppealCategory> = []
    let parts = text.split(whereSeparator: { $0 == "," || $0 == "，" }).map { String(String($0).trimmingWhitespace()) }
    for part in parts where !part.isEmpty {
      let pieces = part.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "：" })
        .map { String(String($0).trimmingWhitespace()) }
      guard pieces.count == 2 else {
        throw .invalidArgument(
          "settings.invalid_value", messageKey: "settings.invalid_value#appeal_limits_part", arguments: [field, String(part.prefix(40))],
          field: field)
      }
      guard let category = AppealCategory.named(pieces[0]) else {
        throw .invalidArgument(
          "settings.invalid_value", messageKey: "settings.invalid_value#appeal_limits_category",
          arguments: [field, String(pieces[0].prefix(20)), AppealCategory.allCases.map(\.settingName).joined(separator: ", ")],
          field: field)
      }
      guard pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }), let days = Int(pieces[1]), Self.range.contains(days) else {
        throw .invalidArgument(
          "settings.invalid_value", messageKey: "settings.invalid_value#appeal_limits_days",
          arguments: [field, category.settingName, "\(Self.range.lowerBound)", "\(Self.range.upperBound)", String(pieces[1].prefix(20))],
          field: field)
      }
      guard seen.insert(category).inserted else {
        throw .invalidArgument(
          "settings.invalid_value", messageKey: "settings.invalid_value#appeal_limits_repeated", arguments: [field, category.settingName],
          field: field)
      }
      limits[category] = days
    }
    let missing = AppealCategory.allCases.filter { !seen.contains($0) }
    guard missing.isEmpty else {
      throw .invalidArgument(
        "settings.invalid_value", messageKey: "settings.invalid_value#appeal_limits_missing",
        arguments: [field, missing.map(\.settingName).joined(separator: ", ")], field: field)
    }
    return limits
  }
}

/// A requester as checked: the phone normalised, the USCC upper-cased.
public struct AppealRequester: Sendable, Hashable {
  public var kind: AppealRequesterKind
  /// A citizen's name; an enterprise's contact person, possibly empty.
  public var name: String
  /// Digits with an optional leading '+', e.g. "13812345678".
  public var phone: String
  /// An enterprise's USCC; nil for a citizen.
  public var uscc: String?

  public init(kind: AppealRequesterKind, name: String, phone: String, uscc: String?) {
    self.kind = kind
    self.name = name
    self.phone = phone
    self.uscc = uscc
  }
}

/// The rules of an appeal, apart from storage.
public enum AppealRules {
  /// First contact: 1 working day from the assignment unless the office sets another (1–10).
  public static let defaultResponseWorkingDays = 1
  public static let responseRange = 1...10
  public static let nameMax = 50
  public static let subjectMax = 200
  public static let contentMax = 4000
  public static let noteMax = 2000
  public static let resolutionMax = 4000
  /// A phone number has 5–20 digits.
  public static let phoneDigits = 5...20

  /// The state `action` leads to from `state`, or nil when it is not allowed there.
  public static func target(of action: AppealAction, from state: CitizenAppealState) -> CitizenAppealState? {
    switch (state, action) {
    case (.registered, .assign): .assigned
    case (.assigned, .reassign): .assigned
    case (.assigned, .contact): .contacted
    case (.contacted, .resolve), (.reopened, .resolve): .resolved
    case (.resolved, .callBack(let satisfaction)): satisfaction.isSatisfied ? CitizenAppealState.closed : .reopened
    default: nil
    }
  }

  /// The next state, or FAILED_PRECONDITION on `state` saying what the step needs.
  public static func apply(_ action: AppealAction, to state: CitizenAppealState, number: String) throws(DomainError)
    -> CitizenAppealState
  {
    guard let next = Self.target(of: action, from: state) else {
      let messageKey: String =
        switch action {
        case .assign: "appeal.illegal_transition#assign"
        case .reassign: "appeal.illegal_transition#reassign"
        case .contact: "appeal.illegal_transition#contact"
        case .resolve: "appeal.illegal_transition#resolve"
        case .callBack: "appeal.illegal_transition#call_back"
        }
      throw .failedPrecondition("appeal.illegal_transition", messageKey: messageKey, arguments: [number, state.rawValue], field: "state")
    }
    return next
  }

  // MARK: Input

  /// A phone number as people write it: digits with an optional leading '+'; spaces and '-'
  /// (any width) are ignored; 5–20 digits. INVALID_ARGUMENT on `field` otherwise (the number is
  /// not repeated in the message, which logs may keep).
  public static func normalizedPhone(_ text: String, field: String = "requester_phone") throws(DomainError) -> String {
    let compact = text.precomposedStringWithCompatibilityMapping.filter { !$0.isWhitespace && $0 != "-" }
    let plus = compact.hasPrefix("+")
    let digits = plus ? String(compact.dropFirst()) : compact
    guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), Self.phoneDigits.contains(digits.count) else {
      throw .invalidArgument(
        "appeal.bad_phone", arguments: [field, "\(Self.phoneDigits.lowerBound)", "\(Self.phoneDigits.upperBound)"], field: field)
    }
    return (plus ? "+" : "") + digits
  }

  /// A phone number for audit rows, alert texts and readers who may not call: the first three and
  /// the last four digits of eight or more ("13812345678" → "138****5678"), only the last two of a
  /// shorter number; a leading '+' stays.
  public static func maskedPhone(_ phone: String) -> String {
    let plus = phone.hasPrefix("+")
    let digits = Array(plus ? phone.dropFirst() : phone[...])
    let masked: String
    if digits.count >= 8 {
      masked = String(digits.prefix(3)) + String(repeating: "*", count: digits.count - 7) + String(digits.suffix(4))
    } else {
      masked = String(repeating: "*", count: max(0, digits.count - 2)) + String(digits.suffix(2))
    }
    return (plus ? "+" : "") + masked
  }

  /// A citizen's name for audit rows: the first character, the rest starred ("王小二" → "王**").
  public static func maskedName(_ name: String) -> String {
    guard name.count > 1, let first = name.first else { return name.isEmpty ? "" : "*" }
    return String(first) + String(repeating: "*", count: name.count - 1)
  }

  /// The requester as given, checked: a citizen needs a name and a phone and names no enterprise;
  /// an enterprise needs a valid USCC (that it is registered is the store's check) and a contact
  /// phone, and may name its contact person. Each refusal names its field.
  public static func checkRequester(kind: AppealRequesterKind, name: String, phone: String, uscc: String) throws(DomainError)
    -> AppealRequester
  {
    switch kind {
    case .citizen:
      try FieldRules.text(name, field: "requester_name", max: Self.nameMax)
      guard uscc.allSatisfy(\.isWhitespace) else {
        throw .invalidArgument("appeal.citizen_with_uscc", field: "enterprise_uscc")
      }
      let phone = try Self.normalizedPhone(phone)
      return AppealRequester(kind: .citizen, name: String(name.trimmingWhitespace()), phone: phone, uscc: nil)
    case .enterprise:
      let code: USCC
      do throws(DomainError) {
        code = try USCC.validate(uscc)
      } catch {
        throw DomainError(
          kind: .invalidArgument, code: error.code, messageKey: "field.wrapped", arguments: ["enterprise_uscc"], cause: error,
          field: "enterprise_uscc")
      }
      try FieldRules.text(name, field: "requester_name", max: Self.nameMax, required: false)
      let phone = try Self.normalizedPhone(phone)
      return AppealRequester(kind: .enterprise, name: String(name.trimmingWhitespace()), phone: phone, uscc: code.value)
    }
  }

  /// The subject (1–200 characters) and the content (required, at most 4000).
  public static func checkMatter(subject: String, content: String) throws(DomainError) {
    try FieldRules.text(subject, field: "subject", max: Self.subjectMax)
    try FieldRules.text(content, field: "content", max: Self.contentMax)
  }

  /// A first contact says what was said or done (INVALID_ARGUMENT on `note` otherwise).
  public static func checkContact(note: String) throws(DomainError) {
    try FieldRules.text(note, field: "note", max: Self.noteMax)
  }

  /// A resolution says how the matter was resolved (INVALID_ARGUMENT on `resolution` otherwise).
  public static func checkResolution(_ text: String) throws(DomainError) {
    try FieldRules.text(text, field: "resolution", max: Self.resolutionMax)
  }

  /// A reassignment says why the first department was the wrong one (INVALID_ARGUMENT on `reason`).
  public static func checkReassignReason(_ reason: String) throws(DomainError) {
    guard !reason.allSatisfy(\.isWhitespace) else {
      throw .invalidArgument("appeal.reassign_reason_required", field: "reason")
    }
    try FieldRules.text(reason, field: "reason", max: Self.noteMax)
  }

  // MARK: Clocks

  /// The response clock: from the assignment, for the response limit, stopped by the first contact.
  public static func timedWork(responseFrom assignedAt: Date, limitWorkingDays: Int, contactedAt: Date?) -> TimedWork {
    TimedWork(clockStart: assignedAt, limit: .workingDays(limitWorkingDays), completedAt: contactedAt)
  }

  /// A round's resolution clock: from the assignment (round 1) or the call-back that reopened it,
  /// for the category's limit fixed at the assignment, stopped by the resolution — not by the
  /// first contact or any other answer.
  public static func timedWork(resolutionFrom startedAt: Date, limitWorkingDays: Int, resolvedAt: Date?) -> TimedWork {
    TimedWork(clockStart: startedAt, limit: .workingDays(limitWorkingDays), completedAt: resolvedAt)
  }
}
