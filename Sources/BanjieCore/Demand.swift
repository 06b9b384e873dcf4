/// An enterprise demand (诉求) raised to the county: a department answers within a limit of
/// working days; only the enterprise closes it (with its satisfaction) or reopens it.
///
///     OPEN → ASSIGNED → ANSWERED → CLOSED
///     ANSWERED → REOPENED → ASSIGNED | ANSWERED
///     ASSIGNED → ASSIGNED (reassigned)
public enum DemandState: String, Sendable, Hashable, CaseIterable, Codable {
  case open = "OPEN"
  case assigned = "ASSIGNED"
  case answered = "ANSWERED"
  case closed = "CLOSED"
  case reopened = "REOPENED"

  /// Waiting on the department: the deadline clock runs.
  public var awaitsDepartment: Bool { self == .open || self == .assigned || self == .reopened }
}

public enum DemandCategory: String, Sendable, Hashable, CaseIterable, Codable {
  case financing, land, permits, labour, utilities, policy, other

  public var chineseName: String {
    switch self {
    case .financing: "融资"
    case .land: "用地"
    case .permits: "审批"
    case .labour: "用工"
    case .utilities: "水电气暖"
    case .policy: "政策"
    case .other: "其他"
    }
  }

  public static func parse(_ text: String, field: String = "category") throws(DomainError) -> DemandCategory {
    let trimmed = String(text.trimmingWhitespace())
    if let category = DemandCategory(rawValue: trimmed.lowercased()) { return category }
    if trimmed.lowercased() == "labor" { return .labour }
    if let category = allCases.first(where: { $0.chineseName == trimmed }) { return category }
    throw .invalidArgument(
      "demand.unknown_category",
      "category \"\(text.prefix(20))\" must be one of \(allCases.map(\.rawValue).joined(separator: ", "))", field: field)
  }
}

public enum DemandAction: Sendable, Hashable {
  case assign
  case answer
  case close(satisfaction: Int)
  case reopen

  public var name: String {
    switch self {
    case .assign: "assign"
    case .answer: "answer"
    case .close: "close"
    case .reopen: "reopen"
    }
  }
}

public enum DemandStateMachine {
  /// The state `action` leads to from `state`, or nil when it is not allowed there.
  public static func target(of action: DemandAction, from state: DemandState) -> DemandState? {
    switch (state, action) {
    case (.open, .assign), (.assigned, .assign), (.reopened, .assign): .assigned
    case (.assigned, .answer), (.reopened, .answer): .answered
    case (.answered, .close): .closed
    case (.answered, .reopen): .reopened
    default: nil
    }
  }

  public static func apply(_ action: DemandAction, to state: DemandState, number: String) throws(DomainError) -> DemandState {
    if case .close(let satisfaction) = action, !(1...5).contains(satisfaction) {
      throw .invalidArgument(
        "demand.satisfaction_out_of_range",
        "satisfaction must be 1 (非常不满意) to 5 (非常满意), not \(satisfaction)", field: "satisfaction")
    }
    guard let next = target(of: action, from: state) else {
      let hint: String =
        switch action {
        case .assign: "only an OPEN, ASSIGNED or REOPENED demand can be assigned"
        case .answer: "only an ASSIGNED or REOPENED demand can be answered"
        case .close, .reopen: "only an ANSWERED demand can be closed or reopened"
        }
      throw .failedPrecondition("demand.illegal_transition", "demand \(number) is \(state.rawValue): \(hint)", field: "state")
    }
    return next
  }

  /// A limit a department can meet and the calendar can compute.
  public static func checkLimit(_ days: Int) throws(DomainError) {
    guard (1...365).contains(days) else {
      throw .invalidArgument("demand.limit_out_of_range", "limit_working_days must be 1 to 365, not \(days)", field: "limit_working_days")
    }
  }
}
