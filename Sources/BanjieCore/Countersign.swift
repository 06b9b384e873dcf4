import Foundation

/// 部门会签 (docs/DOMAIN.md §23): a lead unit (主办单位) sends a draft document to the units that
/// must countersign it (会签单位); each answers within its limit of working days from the day it
/// received the draft, "原则上部门会签时间不超过5个工作日" (汶政发〔2022〕1号 §十一).
///
///     document: OPEN → COMPLETE (when every unit has answered)
///     each unit: PENDING → ANSWERED
public enum CountersignState: String, Sendable, Hashable, CaseIterable, Codable {
  /// Waiting on at least one unit.
  case open = "OPEN"
  /// Every unit has answered.
  case complete = "COMPLETE"
}

/// A countersigning unit's answer.
public enum CountersignAnswer: String, Sendable, Hashable, CaseIterable, Codable {
  /// 同意.
  case agree = "AGREE"
  /// 原则同意，有修改意见: the comments are required.
  case agreeWithComments = "AGREE_WITH_COMMENTS"
  /// 不同意: the reasons are required.
  case disagree = "DISAGREE"

  /// Whether the answer must say something (comments or reasons).
  public var needsText: Bool { self != .agree }
}

/// The rules of a countersign, apart from storage.
public enum CountersignRules {
  /// "一般控制在3000字以内": a policy document (政策性文件) longer than this is flagged, and goes
  /// ahead only with a recorded reason.
  public static let policyLengthLimit = 3000
  /// The most units one draft can go to.
  public static let maxUnits = 50
  /// An extension: 1–30 working days at a time.
  public static let extensionRange = 1...30

  /// The units as typed, checked: at least one, known (`known`), no repeats, and not the lead
  /// unit itself. INVALID_ARGUMENT on `units` naming the unit otherwise.
  public static func checkUnits(_ units: [String], lead: String, known: Set<String>) throws(DomainError) -> [String] {
    guard !units.isEmpty else { throw .invalidArgument("countersign.no_units", field: "units") }
    guard units.count <= Self.maxUnits else {
      throw .invalidArgument("countersign.too_many_units", arguments: ["\(Self.maxUnits)"], field: "units")
    }
    var seen: Set<String> = []
    for unit in units {
      guard unit != lead else { throw .invalidArgument("countersign.lead_unit_listed", arguments: [unit], field: "units") }
      guard known.contains(unit) else { throw .invalidArgument("countersign.unknown_unit", arguments: [unit], field: "units") }
      guard seen.insert(unit).inserted else { throw .invalidArgument("countersign.repeated_unit", arguments: [unit], field: "units") }
    }
    return units
  }

  /// A policy document over the length limit needs the reason it goes ahead (FAILED_PRECONDITION
  /// on `over_length_reason`); returns whether the document is flagged.
  public static func checkLength(policy: Bool, length: Int, reason: String) throws(DomainError) -> Bool {
    guard length >= 0, length <= 10_000_000 else {
      throw .invalidArgument("countersign.bad_length", arguments: ["\(length)"], field: "length_characters")
    }
    let over = policy && length > Self.policyLengthLimit
    if over && reason.allSatisfy(\.isWhitespace) {
      throw .failedPrecondition(
        "countersign.over_length", arguments: ["\(length)", "\(Self.policyLengthLimit)"], field: "over_length_reason")
    }
    return over
  }

  /// An answer that says what it must: comments or reasons (INVALID_ARGUMENT on `text`).
  public static func checkAnswer(_ answer: CountersignAnswer, text: String) throws(DomainError) {
    if answer.needsText && text.allSatisfy(\.isWhitespace) {
      throw .invalidArgument(
        "countersign.answer_text_required", messageKey: "countersign.answer_text_required#\(answer.rawValue)", field: "text")
    }
  }

  /// A unit's timed work: from the receipt of the draft, for its limit (with extensions), stopped
  /// by its answer.
  public static func timedWork(receivedAt: Date, limitWorkingDays: Int, answeredAt: Date?) -> TimedWork {
    TimedWork(clockStart: receivedAt, limit: .workingDays(limitWorkingDays), completedAt: answeredAt)
  }
}
