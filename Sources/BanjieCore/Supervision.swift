import Foundation

/// A supervision order (督办): the office orders a department to act on an open case, demand or
/// rectification within a limit of working days of its own; the department replies with
/// evidence; the office closes it, or sends a reply it does not accept back (退回重办).
///
///     OPEN → REPLIED → CLOSED
///     REPLIED → OPEN (reopened by the office)
///
/// The clock runs from the issue while the order is OPEN and stops at the reply. Reopening does
/// not buy time: the order is measured against its original deadline again (docs/DOMAIN.md, 督办).
public enum SupervisionState: String, Sendable, Hashable, CaseIterable, Codable {
  case open = "OPEN"
  case replied = "REPLIED"
  case closed = "CLOSED"

  /// Waiting on the department: the deadline clock runs.
  public var awaitsDepartment: Bool { self == .open }
}

/// What a 督办 is about.
public enum SupervisionSubjectKind: String, Sendable, Hashable, CaseIterable, Codable {
  case serviceCase = "case"
  case demand = "demand"
  case rectification = "rectification"

  /// The request field that names a subject of this kind, as errors name it.
  public var numberField: String {
    switch self {
    case .serviceCase: "case_number"
    case .demand: "demand_number"
    case .rectification: "rectification_number"
    }
  }

  /// The states in which the subject is finished, so that a 督办 on it makes no sense: a case
  /// concluded, delivered, withdrawn or not accepted; a demand closed by its enterprise; a
  /// rectification closed.
  public var finishedStates: Set<String> {
    switch self {
    case .serviceCase: Set([CaseState.completed, .delivered, .withdrawn, .notAccepted].map(\.rawValue))
    case .demand: [DemandState.closed.rawValue]
    case .rectification: [RectificationState.closed.rawValue]
    }
  }

  /// Refuses a subject in a finished state: FAILED_PRECONDITION naming the subject's field.
  public func checkOpen(state: String, number: String) throws(DomainError) {
    guard self.finishedStates.contains(state) else { return }
    throw .failedPrecondition(
      "supervision.subject_closed", messageKey: "supervision.subject_closed#\(self.rawValue)", arguments: [number, state],
      field: self.numberField)
  }
}

public enum SupervisionAction: String, Sendable, Hashable, CaseIterable {
  /// The addressee department answers, with evidence: the clock stops.
  case reply
  /// The office accepts the reply.
  case close
  /// The office does not accept the reply: the order is OPEN again, on its original deadline.
  case reopen
}

public enum SupervisionStateMachine {
  /// The limit of an order that names none: 5 working days.
  public static let defaultLimitWorkingDays = 5

  /// The state `action` leads to from `state`, or nil when it is not allowed there.
  public static func target(of action: SupervisionAction, from state: SupervisionState) -> SupervisionState? {
    switch (state, action) {
    case (.open, .reply): .replied
    case (.replied, .close): .closed
    case (.replied, .reopen): .open
    default: nil
    }
  }

  public static func apply(_ action: SupervisionAction, to state: SupervisionState, number: String) throws(DomainError)
    -> SupervisionState
  {
    guard let next = target(of: action, from: state) else {
      throw .failedPrecondition(
        "supervision.illegal_transition", messageKey: "supervision.illegal_transition#\(action.rawValue)",
        arguments: [number, state.rawValue], field: "state")
    }
    return next
  }

  /// A limit a department can meet and the calendar can compute: 1–365 working days.
  public static func checkLimit(_ days: Int) throws(DomainError) {
    guard (1...365).contains(days) else {
      throw .invalidArgument("supervision.limit_out_of_range", arguments: ["\(days)"], field: "limit_working_days")
    }
  }

  /// The order's timed work: from the issue, for its limit, stopped by a reply that stands.
  public static func timedWork(issuedAt: Date, limitWorkingDays: Int, repliedAt: Date?) -> TimedWork {
    TimedWork(clockStart: issuedAt, limit: .workingDays(limitWorkingDays), completedAt: repliedAt)
  }
}
