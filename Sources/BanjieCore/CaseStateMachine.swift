/// The legal life of a case, docs/DOMAIN.md §10:
///
///     RECEIVED → (SUPPLEMENT_REQUESTED ↔ RECEIVED) → ACCEPTED | NOT_ACCEPTED
///     ACCEPTED ↔ SUSPENDED;  ACCEPTED → COMPLETED (approved / denied) → DELIVERED
///     RECEIVED / SUPPLEMENT_REQUESTED / ACCEPTED → WITHDRAWN
///     transfer (RECEIVED, SUPPLEMENT_REQUESTED, ACCEPTED, SUSPENDED) keeps state and clock
public struct CaseStateMachine: Sendable, Hashable {
  public private(set) var state: CaseState
  public private(set) var department: String
  /// Set once completed.
  public private(set) var outcome: CaseOutcome?

  /// The `receive` action: a new case in RECEIVED.
  public static func receive(department: String) throws(DomainError) -> CaseStateMachine {
    try CaseStateMachine(state: .received, department: department, outcome: nil)
  }

  /// Restores a machine from stored fields, checking they agree.
  public init(state: CaseState, department: String, outcome: CaseOutcome?) throws(DomainError) {
    try Self.checkDepartment(department)
    let needsOutcome = state == .completed || state == .delivered
    guard needsOutcome == (outcome != nil) else {
      throw .invalidArgument(
        "case.inconsistent_outcome",
        messageKey: needsOutcome ? "case.inconsistent_outcome" : "case.inconsistent_outcome#unexpected",
        arguments: [state.rawValue], field: "outcome")
    }
    self.state = state
    self.department = department
    self.outcome = outcome
  }

  /// The state `action` leads to from `state`, or nil if it is not allowed there.
  /// Argument checks (reasons, departments) are not part of this table.
  public static func target(of action: CaseAction.Name, from state: CaseState) -> CaseState? {
    switch (state, action) {
    case (.received, .requestSupplement): .supplementRequested
    case (.supplementRequested, .supplementReceived): .received
    case (.received, .accept): .accepted
    case (.received, .refuse): .notAccepted
    case (.accepted, .suspend): .suspended
    case (.suspended, .resume): .accepted
    case (.received, .transfer), (.supplementRequested, .transfer), (.accepted, .transfer),
      (.suspended, .transfer):
      state
    case (.accepted, .complete): .completed
    case (.completed, .deliver): .delivered
    case (.received, .withdraw), (.supplementRequested, .withdraw), (.accepted, .withdraw): .withdrawn
    default: nil
    }
  }

  /// Actions allowed in the current state, for clients to offer.
  public var allowedActions: [CaseAction.Name] {
    CaseAction.Name.allCases.filter { Self.target(of: $0, from: state) != nil }
  }

  @discardableResult
  public mutating func apply(_ action: CaseAction) throws(DomainError) -> CaseTransition {
    guard let next = Self.target(of: action.name, from: state) else {
      // The action is named by its wire name; each catalogue words it (`{0:caseAction}`).
      throw .failedPrecondition("case.illegal_transition", arguments: [action.name.rawValue, state.rawValue])
    }
    switch action {
    case .requestSupplement(let missing):
      guard !missing.isEmpty, !missing.contains(where: { $0.allSatisfy(\.isWhitespace) }) else {
        throw .invalidArgument("case.materials_required", field: "missing_materials")
      }
    case .refuse(let reason), .suspend(let reason):
      guard !reason.allSatisfy(\.isWhitespace) else {
        throw .invalidArgument("case.reason_required", arguments: [action.name.rawValue], field: "reason")
      }
    case .transfer(let target):
      try Self.checkDepartment(target)
      guard target != department else {
        throw .invalidArgument("case.transfer_to_same_department", arguments: [department], field: "department")
      }
      department = target
    case .complete(let outcome):
      self.outcome = outcome
    default:
      break
    }
    let transition = CaseTransition(action: action, from: state, to: next)
    state = next
    return transition
  }

  private static func checkDepartment(_ department: String) throws(DomainError) {
    guard !department.allSatisfy(\.isWhitespace) else {
      throw .invalidArgument("case.department_required", field: "department")
    }
  }
}
