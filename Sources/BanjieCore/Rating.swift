import Foundation

/// 好差评: one rating per completed case, by its enterprise, on the window's rating pad or with the
/// receipt's rating code (docs/DOMAIN.md §13, §21). Levels 1–2 are 差评 and need a comment.
public enum RatingLevel: Int, Sendable, Hashable, CaseIterable, Codable {
  case veryDissatisfied = 1
  case dissatisfied, basicallySatisfied, satisfied, verySatisfied

  public var chineseName: String {
    switch self {
    case .verySatisfied: "非常满意"
    case .satisfied: "满意"
    case .basicallySatisfied: "基本满意"
    case .dissatisfied: "不满意"
    case .veryDissatisfied: "非常不满意"
    }
  }

  /// 差评.
  public var isBad: Bool { self.rawValue <= 2 }
  /// Counted as good in the good-rating share.
  public var isGood: Bool { self.rawValue >= 4 }
}

/// What a rater sends, checked before anything is read or written.
public struct RatingInput: Sendable, Hashable {
  public static let maxCommentLength = 1000
  public static let maxTags = 10
  public static let maxTagLength = 20

  public var level: RatingLevel
  public var comment: String
  public var tags: [String]

  public init(level: Int, comment: String, tags: [String]) throws(DomainError) {
    guard let level = RatingLevel(rawValue: level) else {
      throw .invalidArgument("rating.level_out_of_range", arguments: ["\(level)"], field: "level")
    }
    if level.isBad && comment.trimmingWhitespace().isEmpty {
      throw .invalidArgument("rating.comment_required", arguments: ["\(level.rawValue)", level.chineseName], field: "comment")
    }
    try FieldRules.text(comment, field: "comment", max: Self.maxCommentLength, required: false)
    guard tags.count <= Self.maxTags else {
      throw .invalidArgument("rating.too_many_tags", arguments: ["\(Self.maxTags)", "\(tags.count)"], field: "tags")
    }
    var seen: Set<String> = []
    var cleaned: [String] = []
    for (i, tag) in tags.enumerated() {
      try FieldRules.text(tag, field: "tags[\(i)]", max: Self.maxTagLength)
      let t = String(tag.trimmingWhitespace())
      if seen.insert(t).inserted { cleaned.append(t) }
    }
    self.level = level
    self.comment = comment
    self.tags = cleaned
  }

  /// The last moment a case completed at `completedAt` may be rated.
  public static func windowEnd(completedAt: Date, windowDays: Int) -> Date {
    completedAt.addingTimeInterval(TimeInterval(windowDays) * 86_400)
  }
}

/// The rectification (整改) of a 差评 (docs/DOMAIN.md §13, §21):
///
///     OPEN → VERIFIED(valid) → RECTIFIED → FOLLOWED_UP → CLOSED
///     OPEN → VERIFIED(not valid) → FOLLOWED_UP → CLOSED
///     RECTIFIED, VERIFIED(not valid) → CLOSED   (confirmed without a follow-up call)
///     any state but CLOSED → CLOSED when the office upholds an appeal
///
/// Closing needs the rater's confirmation (`RectificationConfirmation`), recorded by a satisfied
/// follow-up call, by the rater, or by the office's sign-off.
public enum RectificationState: String, Sendable, Hashable, CaseIterable, Codable {
  case open = "OPEN"
  case verified = "VERIFIED"
  case rectified = "RECTIFIED"
  case followedUp = "FOLLOWED_UP"
  case closed = "CLOSED"
}

public enum AppealState: String, Sendable, Hashable, CaseIterable, Codable {
  case none = "NONE"
  case pending = "PENDING"
  case upheld = "UPHELD"
  case rejected = "REJECTED"
}

/// How the rater's confirmation that the rectification is done was obtained; closing needs one.
public enum RectificationConfirmation: String, Sendable, Hashable, CaseIterable, Codable {
  /// Not (yet) confirmed.
  case unconfirmed = ""
  /// A follow-up call (回访) in which the rater said they were satisfied.
  case followUp = "FOLLOW_UP"
  /// The rater confirmed with their own certificate (the enterprise of the rated case).
  case rater = "RATER"
  /// The office signed off, with its reason, because the rater could not be reached.
  case office = "OFFICE"
}

public enum RectificationAction: Sendable, Hashable {
  case verify(valid: Bool)
  case rectify
  case followUp(satisfied: Bool)
  case close
  case appeal
  case decide(uphold: Bool)
  /// The rater's own confirmation (the enterprise of the rated case).
  case confirm
  /// The office's sign-off when the rater cannot be reached.
  case signOff

  public var name: String {
    switch self {
    case .verify: "verify"
    case .rectify: "rectify"
    case .followUp: "follow_up"
    case .close: "close"
    case .appeal: "appeal"
    case .decide: "decide"
    case .confirm: "confirm"
    case .signOff: "sign_off"
    }
  }
}

public enum RectificationStateMachine {
  /// The next (state, appeal state), or an error saying why the step is not allowed now.
  /// `verifiedValid` is the verification's finding, nil before verification; `confirmation` the
  /// rater's confirmation so far. The confirmation a step records is the store's to write.
  public static func apply(
    _ action: RectificationAction, state: RectificationState, appeal: AppealState, verifiedValid: Bool?,
    confirmation: RectificationConfirmation, number: String
  ) throws(DomainError) -> (RectificationState, AppealState) {
    func refuse(_ messageKey: String) -> DomainError {
      .failedPrecondition("rectification.illegal_transition", messageKey: messageKey, arguments: [number, state.rawValue], field: "state")
    }
    // The department's part is done: measures recorded, or the 差评 verified as not valid.
    let departmentDone = state == .rectified || state == .followedUp || (state == .verified && verifiedValid == false)
    switch action {
    case .verify:
      guard state == .open else { throw refuse("rectification.illegal_transition#verify") }
      return (.verified, appeal)
    case .rectify:
      guard state == .verified, verifiedValid == true else {
        throw refuse("rectification.illegal_transition#rectify")
      }
      return (.rectified, appeal)
    case .followUp:
      guard state == .rectified || (state == .verified && verifiedValid == false) else {
        throw refuse("rectification.illegal_transition#follow_up")
      }
      return (.followedUp, appeal)
    case .confirm, .signOff:
      guard departmentDone else { throw refuse("rectification.illegal_transition#confirm") }
      guard confirmation == .unconfirmed else {
        throw .failedPrecondition("rectification.already_confirmed", arguments: [number, confirmation.rawValue], field: "confirmation")
      }
      return (state, appeal)
    case .close:
      guard departmentDone else { throw refuse("rectification.illegal_transition#close") }
      guard appeal != .pending else { throw refuse("rectification.illegal_transition#appeal_pending") }
      guard confirmation != .unconfirmed else {
        throw .failedPrecondition("rectification.confirmation_missing", arguments: [number], field: "confirmation")
      }
      return (.closed, appeal)
    case .appeal:
      guard state != .closed else { throw refuse("rectification.illegal_transition#appeal_closed") }
      guard appeal == .none else {
        throw .failedPrecondition("rectification.already_appealed", arguments: [number, appeal.rawValue], field: "appeal_state")
      }
      return (state, .pending)
    case .decide(let uphold):
      guard appeal == .pending else {
        throw .failedPrecondition("rectification.no_pending_appeal", arguments: [number, appeal.rawValue], field: "appeal_state")
      }
      return uphold ? (.closed, .upheld) : (state, .rejected)
    }
  }
}

/// Who stands where around one rectification, as the store reads them inside the step's
/// transaction, and who may take which step (docs/DOMAIN.md §21): the rectification is verified
/// independently of the clerk who was rated.
public struct RectificationParties: Sendable, Hashable {
  public var number: String
  /// The department the rectification belongs to (the rated case's).
  public var department: String
  /// The clerk rated: the actor of the case's latest completion. Empty when the case has no
  /// completion event to name one, and then no clerk is restricted.
  public var ratedOrganization: String
  public var ratedPerson: String
  /// The enterprise of the rated case, which may confirm; empty for a natural person's case.
  public var raterUSCC: String
  /// Whether the acting person is a registered head (负责人) of `department`.
  public var actorIsHead: Bool

  public init(
    number: String, department: String, ratedOrganization: String, ratedPerson: String, raterUSCC: String, actorIsHead: Bool
  ) {
    self.number = number
    self.department = department
    self.ratedOrganization = ratedOrganization
    self.ratedPerson = ratedPerson
    self.raterUSCC = raterUSCC
    self.actorIsHead = actorIsHead
  }

  /// Whether `actor` is the clerk who was rated.
  public func isRatedClerk(_ actor: Actor) -> Bool {
    actor.role == .clerk && !self.ratedPerson.isEmpty && actor.organization == self.ratedOrganization
      && actor.person == self.ratedPerson
  }

  /// Refuses `action` by `actor` (PERMISSION_DENIED) unless:
  /// - verify: the office, or a head of the department who is not the rated clerk;
  /// - follow-up, close: the office, or a clerk of the department who is not the rated clerk;
  /// - rectify, appeal: a clerk of the department;
  /// - confirm: the enterprise of the rated case;
  /// - decide, sign-off: the office.
  public func authorize(_ action: RectificationAction, by actor: Actor) throws(DomainError) {
    let notYourDepartment = DomainError(
      kind: .permissionDenied, code: "rectification.not_your_department",
      arguments: [self.number, self.department, actor.role.rawValue, actor.person, actor.organization, action.name])
    switch action {
    case .decide, .signOff:
      guard actor.role == .office else {
        throw DomainError(
          kind: .permissionDenied, code: "rectification.office_only",
          arguments: [self.number, action.name, actor.role.rawValue, actor.person, actor.organization])
      }
    case .confirm:
      guard actor.role == .enterprise, !self.raterUSCC.isEmpty, actor.organization.uppercased() == self.raterUSCC else {
        throw DomainError(
          kind: .permissionDenied, code: "rectification.not_the_rater",
          arguments: [self.number, actor.role.rawValue, actor.person, actor.organization])
      }
    case .verify, .followUp, .close:
      if actor.role == .office { return }
      guard actor.role == .clerk, actor.organization == self.department else { throw notYourDepartment }
      guard !self.isRatedClerk(actor) else {
        throw DomainError(
          kind: .permissionDenied, code: "rectification.rated_clerk",
          arguments: [self.number, actor.person, actor.organization, action.name])
      }
      if case .verify = action, !self.actorIsHead {
        throw DomainError(kind: .permissionDenied, code: "rectification.not_head", arguments: [self.number, self.department, actor.person])
      }
    case .rectify, .appeal:
      guard actor.role == .clerk, actor.organization == self.department else { throw notYourDepartment }
    }
  }
}

/// 千企评议: weighted dimensions and the ranking of departments.
public struct CampaignDimension: Sendable, Hashable, Codable {
  public var name: String
  public var weightPercent: Int
  public init(name: String, weightPercent: Int) {
    self.name = name
    self.weightPercent = weightPercent
  }

  public static let scoreRange = 1...5

  /// Dimensions with distinct names and whole-percent weights of 1–100 that sum to exactly 100.
  public static func check(_ dimensions: [CampaignDimension]) throws(DomainError) {
    guard !dimensions.isEmpty, dimensions.count <= 20 else {
      throw .invalidArgument("campaign.dimensions_count", arguments: ["\(dimensions.count)"], field: "dimensions")
    }
    var names: Set<String> = []
    for (i, d) in dimensions.enumerated() {
      try FieldRules.text(d.name, field: "dimensions[\(i)].name", max: 40)
      guard names.insert(d.name).inserted else {
        throw .invalidArgument("campaign.duplicate_dimension", arguments: [d.name], field: "dimensions[\(i)].name")
      }
      guard (1...100).contains(d.weightPercent) else {
        throw .invalidArgument(
          "campaign.weight_out_of_range", arguments: [d.name, "\(d.weightPercent)"], field: "dimensions[\(i)].weight_percent")
      }
    }
    let sum = dimensions.reduce(0) { $0 + $1.weightPercent }
    guard sum == 100 else {
      throw .invalidArgument(
        "campaign.weights_sum",
        arguments: ["\(sum)", dimensions.map { "\($0.name) \($0.weightPercent)" }.joined(separator: " + ")], field: "dimensions")
    }
  }

  /// Σ weight × score, in hundredths of a point (100–500) — whole numbers so ties are exact.
  public static func weightedHundredths(_ dimensions: [CampaignDimension], scores: [String: Int]) -> Int {
    dimensions.reduce(0) { $0 + $1.weightPercent * (scores[$1.name] ?? 0) }
  }
}

/// Competition ranking ("1224"): equal values share a rank and the next rank skips.
public enum CompetitionRanking {
  /// Ranks for `items`, best first by `isBetter`; items equal under neither order share a rank.
  public static func ranks<T>(_ items: [T], isBetter: (T, T) -> Bool) -> [Int] {
    let order = items.indices.sorted { isBetter(items[$0], items[$1]) }
    var ranks = Array(repeating: 0, count: items.count)
    for (position, index) in order.enumerated() {
      if position > 0, !isBetter(items[order[position - 1]], items[index]) {
        ranks[index] = ranks[order[position - 1]]
      } else {
        ranks[index] = position + 1
      }
    }
    return ranks
  }
}
