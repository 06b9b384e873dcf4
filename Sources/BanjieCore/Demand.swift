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
      "demand.unknown_category", arguments: [String(text.prefix(20)), allCases.map(\.rawValue).joined(separator: ", ")], field: field)
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
      throw .invalidArgument("demand.satisfaction_out_of_range", arguments: ["\(satisfaction)"], field: "satisfaction")
    }
    guard let next = target(of: action, from: state) else {
      let messageKey: String =
        switch action {
        case .assign: "demand.illegal_transition#assign"
        case .answer: "demand.illegal_transition#answer"
        case .close, .reopen: "demand.illegal_transition#close"
        }
      throw .failedPrecondition("demand.illegal_transition", messageKey: messageKey, arguments: [number, state.rawValue], field: "state")
    }
    return next
  }

  /// A limit a department can meet and the calendar can compute.
  public static func checkLimit(_ days: Int) throws(DomainError) {
    guard (1...365).contains(days) else {
      throw .invalidArgument("demand.limit_out_of_range", arguments: ["", "\(days)"], field: "limit_working_days")
    }
  }
}
