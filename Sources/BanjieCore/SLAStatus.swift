import Foundation

/// The dashboard colour of timed work.
public enum SLAColour: String, Sendable, Hashable, CaseIterable, Codable {
  case green
  /// 预警: the used share of the working-time budget reached the threshold.
  case yellow
  /// 超期: overdue and still open.
  case red
}

/// Where a piece of work stands at `now`.
public struct SLAStatus: Sendable, Hashable {
  /// The deadline before any suspension.
  public let originalDue: Date
  /// The deadline moved by the working time spent suspended. While a suspension is open,
  /// this is where the deadline would be if work resumed at `now`.
  public let due: Date
  /// Working seconds from the clock start to the original due time.
  public let budgetSeconds: Int64
  /// Working seconds used, suspensions excluded; frozen while suspended and after completion.
  public let usedSeconds: Int64
  /// Working seconds spent suspended, up to `now` (or completion).
  public let suspendedSeconds: Int64
  /// `usedSeconds / budgetSeconds`; above 1 once overdue.
  public let fractionUsed: Double
  /// Warnings are for open work: completed work is green, whatever its timing.
  public let colour: SLAColour
  public let isSuspended: Bool
  public let isCompleted: Bool
  /// Open and past the due time.
  public let isOverdue: Bool
  /// Nil while open.
  public let completedOnTime: Bool?
  /// 一日办结: completed on time (by `due`) and by the close of the first working day after the
  /// clock-start day; nil while open.
  public let isOneDayCompletion: Bool?
  /// The span from clock start to due touches a year without an imported notice.
  public let isProvisional: Bool

  public var remainingSeconds: Int64 { budgetSeconds - usedSeconds }
}
