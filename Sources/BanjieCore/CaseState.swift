/// Where a service case (办件) is in its life. Raw values are the names used on the wire,
/// in the database and in messages.
public enum CaseState: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
  case received = "RECEIVED"
  case supplementRequested = "SUPPLEMENT_REQUESTED"
  case accepted = "ACCEPTED"
  case notAccepted = "NOT_ACCEPTED"
  case suspended = "SUSPENDED"
  case completed = "COMPLETED"
  case delivered = "DELIVERED"
  case withdrawn = "WITHDRAWN"

  /// No action leaves these states.
  public var isFinal: Bool { self == .notAccepted || self == .delivered || self == .withdrawn }

  /// The SLA clock runs (or is suspended) in these states.
  public var isUnderLimit: Bool { self == .accepted || self == .suspended }

  public var description: String { rawValue }
}

/// How a completed case (办结) ended.
public enum CaseOutcome: String, Sendable, Hashable, CaseIterable, Codable {
  case approved = "APPROVED"
  case denied = "DENIED"
}
