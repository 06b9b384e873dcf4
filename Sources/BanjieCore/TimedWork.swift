import Foundation

/// A limit in working days (administrative law) or working hours (instant items).
public enum WorkingLimit: Sendable, Hashable, CustomStringConvertible {
  case workingDays(Int)
  case workingHours(Int)

  public var description: String {
    switch self {
    case .workingDays(let n): "\(n) working day\(n == 1 ? "" : "s")"
    case .workingHours(let h): "\(h) working hour\(h == 1 ? "" : "s")"
    }
  }
}

/// A special procedure (特别程序) that stopped the clock; `end` is nil while it lasts.
public struct Suspension: Sendable, Hashable {
  public var start: Date
  public var end: Date?

  public init(start: Date, end: Date? = nil) {
    self.start = start
    self.end = end
  }
}

/// A piece of work under a limit: a case after acceptance, an enterprise demand, a rectification.
public struct TimedWork: Sendable, Hashable {
  public var clockStart: Date
  public var limit: WorkingLimit
  /// In any order; they must not overlap, and only the last may still be open.
  public var suspensions: [Suspension]
  public var completedAt: Date?

  public init(clockStart: Date, limit: WorkingLimit, suspensions: [Suspension] = [], completedAt: Date? = nil) {
    self.clockStart = clockStart
    self.limit = limit
    self.suspensions = suspensions
    self.completedAt = completedAt
  }
}
