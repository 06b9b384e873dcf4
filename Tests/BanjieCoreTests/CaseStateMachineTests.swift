import Testing

@testable import BanjieCore

@Suite("Case state machine")
struct CaseStateMachineTests {
  /// A representative action for each name.
  static func sample(_ name: CaseAction.Name) -> CaseAction? {
    switch name {
    case .receive: nil
    case .requestSupplement: .requestSupplement(missing: ["营业执照副本"])
    case .supplementReceived: .supplementReceived
    case .accept: .accept
    case .refuse: .refuse(reason: "not within this department's remit")
    case .suspend: .suspend(reason: "expert review")
    case .resume: .resume
    case .transfer: .transfer(toDepartment: "370830-LAND")
    case .complete: .complete(.approved)
    case .deliver: .deliver
    case .withdraw: .withdraw
    }
  }

  static func machine(in state: CaseState) -> CaseStateMachine {
    let outcome: CaseOutcome? = state == .completed || state == .delivered ? .denied : nil
    return try! CaseStateMachine(state: state, department: "370830-MARKET", outcome: outcome)
  }

  /// Every legal transition (docs/DOMAIN.md §10).
  static let legal: [(CaseState, CaseAction.Name, CaseState)] = [
    (.received, .requestSupplement, .supplementRequested),
    (.received, .accept, .accepted),
    (.received, .refuse, .notAccepted),
    (.received, .transfer, .received),
    (.received, .withdraw, .withdrawn),
    (.supplementRequested, .supplementReceived, .received),
    (.supplementRequested, .transfer, .supplementRequested),
    (.supplementRequested, .withdraw, .withdrawn),
    (.accepted, .suspend, .suspended),
    (.accepted, .complete, .completed),
    (.accepted, .transfer, .accepted),
    (.accepted, .withdraw, .withdrawn),
    (.suspended, .resume, .accepted),
    (.suspended, .transfer, .suspended),
    (.completed, .deliver, .delivered),
  ]

  @Test("every legal transition", arguments: legal)
  func legalTransition(_ row: (CaseState, CaseAction.Name, CaseState)) throws {
    var machine = Self.machine(in: row.0)
    let action = try #require(Self.sample(row.1))
    let transition = try machine.apply(action)
    #expect(transition == CaseTransition(action: action, from: row.0, to: row.2))
    #expect(machine.state == row.2)
    #expect(CaseStateMachine.target(of: row.1, from: row.0) == row.2)
  }

  @Test("everything else is illegal, with a message naming state and action")
  func everyIllegalTransition() {
    var illegal = 0
    for state in CaseState.allCases {
      for name in CaseAction.Name.allCases {
        let isLegal = Self.legal.contains { $0.0 == state && $0.1 == name }
        #expect((CaseStateMachine.target(of: name, from: state) != nil) == isLegal)
        guard !isLegal, let action = Self.sample(name) else { continue }
        illegal += 1
        var machine = Self.machine(in: state)
        let error = #expect(throws: DomainError.self) { try machine.apply(action) }
        #expect(error?.kind == .failedPrecondition)
        #expect(error?.code == "case.illegal_transition")
        #expect(error?.message.hasSuffix("a case in state \(state.rawValue)") == true)
        #expect(machine == Self.machine(in: state), "a refused action changes nothing")
      }
    }
    #expect(illegal == 8 * 10 - Self.legal.count)
  }

  @Test(
    "illegal transitions: messages",
    arguments: [
      (CaseState.received, CaseAction.complete(.approved), "cannot complete a case in state RECEIVED"),
      (.received, .resume, "cannot resume a case in state RECEIVED"),
      (.received, .supplementReceived, "cannot record a supplement for a case in state RECEIVED"),
      (.supplementRequested, .accept, "cannot accept a case in state SUPPLEMENT_REQUESTED"),
      (
        .supplementRequested, .requestSupplement(missing: ["x"]), "cannot request a supplement for a case in state SUPPLEMENT_REQUESTED"
      ),
      (.supplementRequested, .refuse(reason: "x"), "cannot refuse a case in state SUPPLEMENT_REQUESTED"),
      (.accepted, .accept, "cannot accept a case in state ACCEPTED"),
      (.accepted, .resume, "cannot resume a case in state ACCEPTED"),
      (.accepted, .deliver, "cannot deliver a case in state ACCEPTED"),
      (.suspended, .complete(.denied), "cannot complete a case in state SUSPENDED"),
      (.suspended, .withdraw, "cannot withdraw a case in state SUSPENDED"),
      (.suspended, .suspend(reason: "again"), "cannot suspend a case in state SUSPENDED"),
      (.completed, .withdraw, "cannot withdraw a case in state COMPLETED"),
      (.completed, .transfer(toDepartment: "X"), "cannot transfer a case in state COMPLETED"),
      (.completed, .complete(.approved), "cannot complete a case in state COMPLETED"),
      (.delivered, .deliver, "cannot deliver a case in state DELIVERED"),
      (.notAccepted, .accept, "cannot accept a case in state NOT_ACCEPTED"),
      (.notAccepted, .withdraw, "cannot withdraw a case in state NOT_ACCEPTED"),
      (.withdrawn, .resume, "cannot resume a case in state WITHDRAWN"),
      (.withdrawn, .transfer(toDepartment: "X"), "cannot transfer a case in state WITHDRAWN"),
    ])
  func illegalMessages(_ row: (CaseState, CaseAction, String)) {
    var machine = Self.machine(in: row.0)
    let error = #expect(throws: DomainError.self) { try machine.apply(row.1) }
    #expect(error == DomainError(kind: .failedPrecondition, code: "case.illegal_transition", message: row.2))
  }

  @Test("a whole life: receive, supplement, accept, suspend, transfer, resume, complete, deliver")
  func wholeLife() throws {
    var machine = try CaseStateMachine.receive(department: "370830-MARKET")
    #expect(machine.state == .received)
    #expect(machine.allowedActions == [.requestSupplement, .accept, .refuse, .transfer, .withdraw])
    try machine.apply(.requestSupplement(missing: ["营业执照副本"]))
    #expect(machine.allowedActions == [.supplementReceived, .transfer, .withdraw])
    try machine.apply(.supplementReceived)
    try machine.apply(.accept)
    try machine.apply(.suspend(reason: "on-site inspection"))
    try machine.apply(.transfer(toDepartment: "370830-LAND"))
    #expect(machine.state == .suspended, "transfer keeps the state")
    #expect(machine.department == "370830-LAND")
    try machine.apply(.resume)
    #expect(machine.outcome == nil)
    try machine.apply(.complete(.approved))
    #expect(machine.outcome == .approved)
    #expect(machine.allowedActions == [.deliver])
    try machine.apply(.deliver)
    #expect(machine.state == .delivered)
    #expect(machine.state.isFinal)
    #expect(machine.allowedActions.isEmpty)
    #expect(machine.outcome == .approved)
  }

  @Test("arguments are checked")
  func arguments() throws {
    var received = Self.machine(in: .received)
    let refuse = #expect(throws: DomainError.self) { try received.apply(.refuse(reason: "  \n")) }
    #expect(
      refuse
        == DomainError(
          kind: .invalidArgument, code: "case.reason_required", message: "a reason is required to refuse a case",
          field: "reason"))
    var accepted = Self.machine(in: .accepted)
    let suspend = #expect(throws: DomainError.self) { try accepted.apply(.suspend(reason: "")) }
    #expect(suspend?.code == "case.reason_required")
    #expect(accepted.state == .accepted)
    let same = #expect(throws: DomainError.self) { try accepted.apply(.transfer(toDepartment: "370830-MARKET")) }
    #expect(same?.code == "case.transfer_to_same_department")
    #expect(same?.kind == .invalidArgument)
    let blank = #expect(throws: DomainError.self) { try accepted.apply(.transfer(toDepartment: " ")) }
    #expect(blank?.code == "case.department_required")
    let noDepartment = #expect(throws: DomainError.self) { try CaseStateMachine.receive(department: "") }
    #expect(noDepartment?.field == "department")
    // An illegal state is reported before bad arguments.
    var withdrawn = Self.machine(in: .withdrawn)
    let illegal = #expect(throws: DomainError.self) { try withdrawn.apply(.refuse(reason: "")) }
    #expect(illegal?.kind == .failedPrecondition)
  }

  @Test("restoring from stored fields checks the outcome")
  func restoring() {
    for state in CaseState.allCases {
      let needsOutcome = state == .completed || state == .delivered
      let withOutcome = try? CaseStateMachine(state: state, department: "D", outcome: .approved)
      let withoutOutcome = try? CaseStateMachine(state: state, department: "D", outcome: nil)
      #expect((withOutcome != nil) == needsOutcome, "\(state)")
      #expect((withoutOutcome != nil) == !needsOutcome, "\(state)")
    }
    let error = #expect(throws: DomainError.self) {
      try CaseStateMachine(state: .completed, department: "D", outcome: nil)
    }
    #expect(error?.message == "a case in state COMPLETED must have an outcome")
  }

  @Test("states and their wire names")
  func states() {
    #expect(
      CaseState.allCases.map(\.rawValue) == [
        "RECEIVED", "SUPPLEMENT_REQUESTED", "ACCEPTED", "NOT_ACCEPTED", "SUSPENDED", "COMPLETED", "DELIVERED",
        "WITHDRAWN",
      ])
    #expect(CaseState.allCases.filter(\.isUnderLimit) == [.accepted, .suspended])
    #expect(CaseState.allCases.filter(\.isFinal) == [.notAccepted, .delivered, .withdrawn])
  }
}
