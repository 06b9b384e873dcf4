/// Something a clerk (or the applicant) does to a case.
public enum CaseAction: Sendable, Hashable {
  /// 一次性告知: the applicant must supply missing materials before intake is decided.
  case requestSupplement(missing: [String])
  /// The missing materials arrived; intake review resumes.
  case supplementReceived
  case accept
  /// 不予受理, with the reason the applicant is told.
  case refuse(reason: String)
  /// 特别程序: the clock stops.
  case suspend(reason: String)
  case resume
  /// Hands the case to another department; state and clock are kept.
  case transfer(toDepartment: String)
  case complete(CaseOutcome)
  case deliver
  case withdraw

  /// Action names without their arguments, for tables, logs and the wire.
  public enum Name: String, Sendable, Hashable, CaseIterable, Codable {
    case receive, requestSupplement, supplementReceived, accept, refuse, suspend, resume, transfer, complete,
      deliver, withdraw
    // Messages word an action through the catalogue's `caseAction.<rawValue>` terms
    // (ServerMessages+en.swift: "cannot request a supplement for a case in state X").
  }

  public var name: Name {
    switch self {
    case .requestSupplement: .requestSupplement
    case .supplementReceived: .supplementReceived
    case .accept: .accept
    case .refuse: .refuse
    case .suspend: .suspend
    case .resume: .resume
    case .transfer: .transfer
    case .complete: .complete
    case .deliver: .deliver
    case .withdraw: .withdraw
    }
  }
}

/// One applied action, for the case's event log (the store adds actor, time and note).
public struct CaseTransition: Sendable, Hashable {
  public let action: CaseAction
  public let from: CaseState
  public let to: CaseState
}
