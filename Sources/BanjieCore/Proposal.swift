import Foundation

/// 人大代表建议 and 政协提案 (docs/DOMAIN.md §25): the office (营商办) registers a deputy's
/// suggestion or a CPPCC member's proposal and assigns it (交办) in one step to a lead department
/// (主办单位) and any co-handling departments (协办单位). The lead department contacts the proposer
/// (面商) and replies within the county's reply limit (default 3 calendar months from the day of
/// assignment, at most 6 with a recorded reason); the proposer's assessment closes it, or, the first
/// time it is 不满意, reopens it for a second reply within one month.
///
///     ASSIGNED → REPLIED → CLOSED (满意 or 基本满意; or any assessment of the second reply)
///                REPLIED → REOPENED (the first 不满意) → REPLIED (the second reply)
public enum ProposalKind: String, Sendable, Hashable, CaseIterable, Codable {
  /// 人大代表建议、批评和意见.
  case deputySuggestion = "DEPUTY_SUGGESTION"
  /// 政协提案.
  case cppccProposal = "CPPCC_PROPOSAL"

  /// The prefix of its number: JY (建议) or TA (提案).
  public var numberPrefix: String {
    switch self {
    case .deputySuggestion: "JY"
    case .cppccProposal: "TA"
    }
  }
}

/// Where a suggestion or proposal stands.
public enum ProposalState: String, Sendable, Hashable, CaseIterable, Codable {
  /// 已交办: waiting on the lead department's first reply.
  case assigned = "ASSIGNED"
  /// 已答复: waiting on the proposer's assessment.
  case replied = "REPLIED"
  /// 重新办理: the first reply was assessed 不满意; waiting on the second reply.
  case reopened = "REOPENED"
  /// 已办结.
  case closed = "CLOSED"

  /// Waiting on the lead department's reply: its clock runs.
  public var awaitsReply: Bool { self == .assigned || self == .reopened }
}

/// The proposer's assessment of a reply (代表/委员对办理结果的评价).
public enum ProposalAssessment: String, Sendable, Hashable, CaseIterable, Codable {
  /// 满意.
  case satisfied = "SATISFIED"
  /// 基本满意.
  case basicallySatisfied = "BASICALLY_SATISFIED"
  /// 不满意: the first time, the proposal is handled again (a second reply).
  case dissatisfied = "DISSATISFIED"

  /// Whether it counts as satisfied in the satisfaction rate (满意 and 基本满意).
  public var isSatisfied: Bool { self != .dissatisfied }
}

/// How the lead department contacted the proposer before replying (面商).
public enum ProposalContactMethod: String, Sendable, Hashable, CaseIterable, Codable {
  /// 当面.
  case faceToFace = "FACE_TO_FACE"
  /// 电话.
  case phone = "PHONE"
  /// 其他 (座谈、走访、书面…): the note says how.
  case other = "OTHER"
}

/// The class of a reply's result, as replies to 建议 and 提案 are commonly classed.
public enum ProposalResultClass: String, Sendable, Hashable, CaseIterable, Codable {
  /// A 类: 所提问题已经解决或采纳.
  case a = "A"
  /// B 类: 列入计划逐步解决.
  case b = "B"
  /// C 类: 因条件限制留作参考.
  case c = "C"
}

/// A step on a suggestion or proposal, for the state machine.
public enum ProposalStep: Sendable, Hashable {
  /// 面商: the lead department records its contact with the proposer.
  case consult
  /// 协办意见: a co-handling department gives its opinion to the lead.
  case coOpinion
  /// The lead department's reply.
  case reply
  /// The proposer's assessment, recorded by the office.
  case assess(ProposalAssessment)
  /// A longer reply limit, with a reason.
  case extend

  /// The step's name in message keys and audit rows.
  public var name: String {
    switch self {
    case .consult: "consult"
    case .coOpinion: "co_opinion"
    case .reply: "reply"
    case .assess: "assess"
    case .extend: "extend"
    }
  }
}

/// A suggestion's or proposal's state and reply round (1, or 2 after the first 不满意).
public struct ProposalStage: Sendable, Hashable, Codable {
  public var state: ProposalState
  public var round: Int
  public init(state: ProposalState, round: Int) {
    self.state = state
    self.round = round
  }
}

/// Where a reply round stands against its deadline at a moment, on the calendar clock: the time
/// used is calendar time, not working time (docs/DOMAIN.md §25).
public struct ProposalTiming: Sendable, Hashable, Codable {
  /// The round's clock start: the assignment, or the reopening for the second reply.
  public var start: Date
  /// The end of the round's last day, Asia/Shanghai.
  public var due: Date
  /// The share of the calendar time from `start` to `due` used by the moment; above 1 once overdue.
  public var fractionUsed: Double
  /// Green, yellow once `fractionUsed` reaches the yellow threshold, red past `due`.
  public var colour: SLAColour
  public var isOverdue: Bool
  public var computedAt: Date

  public init(start: Date, due: Date, fractionUsed: Double, colour: SLAColour, isOverdue: Bool, computedAt: Date) {
    self.start = start
    self.due = due
    self.fractionUsed = fractionUsed
    self.colour = colour
    self.isOverdue = isOverdue
    self.computedAt = computedAt
  }
}

/// The rules of 建议 and 提案, apart from storage.
public enum ProposalRules {
  /// 办理时限: a reply within 3 months of assignment, unless the office sets another limit
  /// (`proposal_reply_months`, docs/DOMAIN.md §17).
  public static let defaultReplyMonths = 3
  /// The longest reply limit with an extension: 6 months (`proposal_max_months`).
  public static let defaultMaxMonths = 6
  /// Both settings: whole months from 1 to 12.
  public static let monthsRange = 1...12
  /// The second reply, after the first 不满意: one month from the reopening.
  public static let secondReplyMonths = 1
  /// The most co-handling departments of one proposal.
  public static let maxCoDepartments = 20

  // MARK: Deadlines

  /// The county's local day of an instant (Asia/Shanghai, a fixed UTC+8).
  public static func localDay(of date: Date) -> LocalDate {
    let seconds = (date.timeIntervalSince1970 + Double(WorkingCalendar.utcOffsetSeconds)).rounded(.down)
    return LocalDate(dayNumber: Int((seconds / 86_400).rounded(.down)))
  }

  /// The day `months` calendar months after `day`, clamped to the last day of that month:
  /// 31 August + 3 months is 30 November, 30 November + 3 months is 28 February (29 in a leap year).
  public static func adding(months: Int, to day: LocalDate) -> LocalDate {
    let index = day.year * 12 + (day.month - 1) + months
    let year = index / 12
    let month = index % 12 + 1
    return LocalDate(unchecked: year, month, min(day.day, LocalDate.daysIn(month: month, year: year)))
  }

  /// The last instant of `day` in Asia/Shanghai, to the millisecond (23:59:59.999): a deadline
  /// "by the end of the day". Times are stored to the millisecond, so nothing lies between it and
  /// the next day's 00:00.
  public static func endOfDay(_ day: LocalDate) -> Date {
    let milliseconds = Int64(day.dayNumber + 1) * 86_400_000 - Int64(WorkingCalendar.utcOffsetSeconds) * 1000 - 1
    return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
  }

  /// The deadline of work started at `start` with `months` calendar months: the end of the day
  /// `months` months after the day of `start` (Asia/Shanghai), clamped to the month's last day.
  public static func due(from start: Date, months: Int) -> Date {
    Self.endOfDay(Self.adding(months: months, to: Self.localDay(of: start)))
  }

  /// The colour of a round waiting on its reply at `now`: red past `due` (at the due instant itself
  /// it is not yet overdue), yellow once the share of the calendar time from `start` to `due` used
  /// reaches `yellowThreshold` (the county's yellow threshold, as for working time), else green.
  public static func timing(start: Date, due: Date, now: Date, yellowThreshold: Double) -> ProposalTiming {
    let total = due.timeIntervalSince(start)
    let used = max(0, now.timeIntervalSince(start))
    let fraction = total > 0 ? used / total : 1
    let overdue = now > due
    let colour: SLAColour = overdue ? .red : fraction >= yellowThreshold ? .yellow : .green
    return ProposalTiming(start: start, due: due, fractionUsed: fraction, colour: colour, isOverdue: overdue, computedAt: now)
  }

  // MARK: Checks

  /// The co-handling departments as given, checked: known (`known`), no repeats, not the lead
  /// department, at most `maxCoDepartments`; none is fine. INVALID_ARGUMENT on `co_departments`
  /// naming the department otherwise.
  public static func checkCoDepartments(_ departments: [String], lead: String, known: Set<String>) throws(DomainError) -> [String] {
    guard departments.count <= Self.maxCoDepartments else {
      throw .invalidArgument("proposal.too_many_co_departments", arguments: ["\(Self.maxCoDepartments)"], field: "co_departments")
    }
    var seen: Set<String> = []
    for department in departments {
      guard department != lead else {
        throw .invalidArgument("proposal.lead_listed_as_co", arguments: [department], field: "co_departments")
      }
      guard known.contains(department) else {
        throw .invalidArgument("proposal.unknown_department", arguments: [department], field: "co_departments")
      }
      guard seen.insert(department).inserted else {
        throw .invalidArgument("proposal.repeated_co_department", arguments: [department], field: "co_departments")
      }
    }
    return departments
  }

  /// The reply limit settings in force, read together: `reply` and `max` in `monthsRange`, and
  /// `max` never below `reply` (a stored pair that is not is read as `reply`, `reply`).
  public static func limits(reply: Int, max: Int) -> (reply: Int, max: Int) {
    let reply = Swift.min(Swift.max(reply, Self.monthsRange.lowerBound), Self.monthsRange.upperBound)
    return (reply, Swift.min(Swift.max(max, reply), Self.monthsRange.upperBound))
  }

  /// An extension of the first reply to a new total of `requested` months: longer than the
  /// `current` limit (INVALID_ARGUMENT on `months`), at most `max` months (INVALID_ARGUMENT on
  /// `months`), with a reason (INVALID_ARGUMENT on `reason`), and asked for by the deadline `due`
  /// (FAILED_PRECONDITION on `months` once it has passed).
  public static func checkExtension(
    number: String, current: Int, requested: Int, max: Int, reason: String, due: Date, now: Date
  ) throws(DomainError) {
    guard requested <= max else {
      throw .invalidArgument("proposal.extension_beyond_max", arguments: ["\(requested)", "\(max)"], field: "months")
    }
    guard requested > current else {
      throw .invalidArgument("proposal.extension_not_longer", arguments: [number, "\(current)", "\(requested)"], field: "months")
    }
    guard !reason.allSatisfy(\.isWhitespace) else {
      throw .invalidArgument("proposal.extension_reason_required", field: "reason")
    }
    guard now <= due else {
      throw .failedPrecondition("proposal.extension_too_late", arguments: [number], field: "months")
    }
  }

  /// A contact record that says what it must: "other" needs a note saying how (INVALID_ARGUMENT on `note`).
  public static func checkContact(method: ProposalContactMethod, note: String) throws(DomainError) {
    if method == .other && note.allSatisfy(\.isWhitespace) {
      throw .invalidArgument("proposal.contact_note_required", field: "note")
    }
  }

  /// The reply of round `round` needs the proposer contacted (面商) in that round first:
  /// FAILED_PRECONDITION on `consultation` when `consultations` (of that round) is zero.
  public static func checkConsultation(number: String, round: Int, consultations: Int) throws(DomainError) {
    guard consultations > 0 else {
      throw .failedPrecondition("proposal.consultation_required", arguments: [number, "\(round)"], field: "consultation")
    }
  }

  // MARK: State machine

  /// The stage after `step`, or FAILED_PRECONDITION (`proposal.illegal_transition`, on `number`).
  /// Contact, co-opinions and replies while a reply is awaited (ASSIGNED or REOPENED); an
  /// extension only before the first reply (ASSIGNED); an assessment of a reply (REPLIED): in
  /// round 1 满意 and 基本满意 close it and 不满意 reopens it for round 2; in round 2 every
  /// assessment closes it.
  public static func after(_ step: ProposalStep, from stage: ProposalStage, number: String) throws(DomainError) -> ProposalStage {
    let refused = DomainError.failedPrecondition(
      "proposal.illegal_transition", messageKey: "proposal.illegal_transition#\(step.name)", arguments: [number, stage.state.rawValue],
      field: "number")
    switch step {
    case .consult, .coOpinion:
      guard stage.state.awaitsReply else { throw refused }
      return stage
    case .reply:
      guard stage.state.awaitsReply else { throw refused }
      return ProposalStage(state: .replied, round: stage.round)
    case .extend:
      guard stage.state == .assigned, stage.round == 1 else { throw refused }
      return stage
    case .assess(let assessment):
      guard stage.state == .replied else { throw refused }
      if assessment == .dissatisfied && stage.round == 1 { return ProposalStage(state: .reopened, round: 2) }
      return ProposalStage(state: .closed, round: stage.round)
    }
  }
}
