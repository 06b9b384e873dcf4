/// The county settings the office changes while the server runs (`banjie settings set`,
/// docs/DOMAIN.md §17): the default demand limit, the rating window, the rectification limit,
/// the yellow threshold and office hours. Each value is given and stored as text; `set` checks it
/// and changes nothing when it is refused.
public struct CountySettings: Sendable, Hashable, Codable {
  /// A setting's name, as `SetSetting` and `banjie settings set` take it.
  public enum Key: String, Sendable, Hashable, CaseIterable, Codable {
    case demandLimitWorkingDays = "demand_limit_working_days"
    case ratingWindowDays = "rating_window_days"
    case rectificationLimitWorkingDays = "rectification_limit_working_days"
    case yellowThreshold = "yellow_threshold"
    case officeHours = "office_hours"
    case countersignLimitWorkingDays = "countersign_limit_working_days"
    case appealResponseWorkingDays = "appeal_response_working_days"
    case appealResolutionLimits = "appeal_resolution_limits"
    case proposalReplyMonths = "proposal_reply_months"
    case proposalMaxMonths = "proposal_max_months"

    /// The key of the `meta` row that holds the value. The first three rows come with the schema
    /// (migrations v2 and v3); the last two exist once the office has set them.
    public var metaKey: String {
      switch self {
      case .demandLimitWorkingDays: "demands.limit_working_days"
      case .ratingWindowDays: "ratings.window_days"
      case .rectificationLimitWorkingDays: "rectifications.limit_working_days"
      case .yellowThreshold: "sla.yellow_threshold"
      case .officeHours: "sla.office_hours"
      case .countersignLimitWorkingDays: "countersign.limit_working_days"
      case .appealResponseWorkingDays: "appeals.response_working_days"
      case .appealResolutionLimits: "appeals.resolution_limits"
      case .proposalReplyMonths: "proposals.reply_months"
      case .proposalMaxMonths: "proposals.max_months"
      }
    }

    /// Whether the value is part of the SLA clock: a change installs a new clock.
    public var isClockSetting: Bool { self == .yellowThreshold || self == .officeHours }

    /// A key as given; an unknown one is INVALID_ARGUMENT naming `key`.
    public static func parse(_ text: String) throws(DomainError) -> Key {
      guard let key = Key(rawValue: String(text.trimmingWhitespace()).lowercased()) else {
        throw .invalidArgument(
          "settings.unknown_key", arguments: [String(text.prefix(64)), Key.allCases.map(\.rawValue).joined(separator: ", ")], field: "key")
      }
      return key
    }
  }

  /// 诉求办理时限: the limit of a new demand that names none.
  public var demandLimitWorkingDays: Int
  /// 评价期限: calendar days after completion within which a case may be rated.
  public var ratingWindowDays: Int
  /// 整改时限: the limit of a rectification, from the 差评.
  public var rectificationLimitWorkingDays: Int
  /// 预警阈值: the share of the working-time budget at which work turns yellow.
  public var yellowThreshold: Double
  /// 工作时间: the office periods of a working day.
  public var officeHours: [OfficePeriod]
  /// 会签时限: working days a countersigning unit has from receiving a draft (§十一: "原则上…不超过5个工作日").
  public var countersignLimitWorkingDays: Int = 5
  /// 诉求响应时限: working days a department has from an appeal's assignment to first contact (docs/DOMAIN.md §24).
  public var appealResponseWorkingDays: Int = AppealRules.defaultResponseWorkingDays
  /// 诉求办结时限: each appeal category's resolution limit in working days (docs/DOMAIN.md §24).
  public var appealResolutionLimits = AppealResolutionLimits()
  /// 建议提案办理时限: calendar months a lead department has to reply to a deputy's suggestion or a
  /// CPPCC proposal from its assignment (docs/DOMAIN.md §25).
  public var proposalReplyMonths: Int = ProposalRules.defaultReplyMonths
  /// 建议提案最长办理期限: the most months an extension may give; never below `proposalReplyMonths`.
  public var proposalMaxMonths: Int = ProposalRules.defaultMaxMonths

  /// The defaults: the values the schema ships, the configured yellow threshold and the
  /// standard office day.
  public init(
    demandLimitWorkingDays: Int = 10, ratingWindowDays: Int = 15, rectificationLimitWorkingDays: Int = 15,
    yellowThreshold: Double = 0.8, officeHours: [OfficePeriod] = OfficePeriod.standardDay
  ) {
    self.demandLimitWorkingDays = demandLimitWorkingDays
    self.ratingWindowDays = ratingWindowDays
    self.rectificationLimitWorkingDays = rectificationLimitWorkingDays
    self.yellowThreshold = yellowThreshold
    self.officeHours = officeHours
  }

  /// Settings stored (in idempotent replays) before the countersign limit existed read with its default.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.demandLimitWorkingDays = try container.decode(Int.self, forKey: .demandLimitWorkingDays)
    self.ratingWindowDays = try container.decode(Int.self, forKey: .ratingWindowDays)
    self.rectificationLimitWorkingDays = try container.decode(Int.self, forKey: .rectificationLimitWorkingDays)
    self.yellowThreshold = try container.decode(Double.self, forKey: .yellowThreshold)
    self.officeHours = try container.decode([OfficePeriod].self, forKey: .officeHours)
    self.countersignLimitWorkingDays = try container.decodeIfPresent(Int.self, forKey: .countersignLimitWorkingDays) ?? 5
    self.appealResponseWorkingDays =
      try container.decodeIfPresent(Int.self, forKey: .appealResponseWorkingDays) ?? AppealRules.defaultResponseWorkingDays
    self.appealResolutionLimits =
      try container.decodeIfPresent(AppealResolutionLimits.self, forKey: .appealResolutionLimits) ?? AppealResolutionLimits()
    self.proposalReplyMonths =
      try container.decodeIfPresent(Int.self, forKey: .proposalReplyMonths) ?? ProposalRules.defaultReplyMonths
    self.proposalMaxMonths = try container.decodeIfPresent(Int.self, forKey: .proposalMaxMonths) ?? ProposalRules.defaultMaxMonths
  }

  public static let limitRange = 1...365
  /// A countersign limit: 1–30 working days.
  public static let countersignLimitRange = 1...30
  public static let ratingWindowRange = 1...90
  /// The yellow threshold in whole percent.
  public static let yellowPercentRange = 50...95
  /// Office hours must add up to at least this many seconds a day.
  public static let minimumOfficeSeconds = 3600

  // MARK: Values as text

  /// The value of `key` as it is stored and shown: "10", "0.80", "09:00-12:00,13:00-17:00".
  public func text(of key: Key) -> String {
    switch key {
    case .demandLimitWorkingDays: String(self.demandLimitWorkingDays)
    case .ratingWindowDays: String(self.ratingWindowDays)
    case .rectificationLimitWorkingDays: String(self.rectificationLimitWorkingDays)
    case .yellowThreshold: Self.thresholdText(self.yellowThreshold)
    case .officeHours: Self.officeHoursText(self.officeHours)
    case .countersignLimitWorkingDays: String(self.countersignLimitWorkingDays)
    case .appealResponseWorkingDays: String(self.appealResponseWorkingDays)
    case .appealResolutionLimits: self.appealResolutionLimits.description
    case .proposalReplyMonths: String(self.proposalReplyMonths)
    case .proposalMaxMonths: String(self.proposalMaxMonths)
    }
  }

  /// Checks `text` as a value of `key` and sets it. When it throws (INVALID_ARGUMENT naming the
  /// key), nothing has changed.
  public mutating func set(_ key: Key, to text: String) throws(DomainError) {
    let value = String(text.trimmingWhitespace())
    let workingDays = "settings.invalid_value#working_days"
    switch key {
    case .demandLimitWorkingDays:
      self.demandLimitWorkingDays = try Self.parseWhole(value, key: key, range: Self.limitRange, messageKey: workingDays)
    case .ratingWindowDays:
      self.ratingWindowDays = try Self.parseWhole(
        value, key: key, range: Self.ratingWindowRange, messageKey: "settings.invalid_value#days")
    case .rectificationLimitWorkingDays:
      self.rectificationLimitWorkingDays = try Self.parseWhole(value, key: key, range: Self.limitRange, messageKey: workingDays)
    case .yellowThreshold:
      self.yellowThreshold = try Self.parseThreshold(value)
    case .officeHours:
      self.officeHours = try Self.parseOfficeHours(value)
    case .countersignLimitWorkingDays:
      self.countersignLimitWorkingDays = try Self.parseWhole(value, key: key, range: Self.countersignLimitRange, messageKey: workingDays)
    case .appealResponseWorkingDays:
      self.appealResponseWorkingDays = try Self.parseWhole(value, key: key, range: AppealRules.responseRange, messageKey: workingDays)
    case .appealResolutionLimits:
      self.appealResolutionLimits = try AppealResolutionLimits.parse(value)
    case .proposalReplyMonths:
      self.proposalReplyMonths = try Self.parseWhole(
        value, key: key, range: ProposalRules.monthsRange, messageKey: "settings.invalid_value#proposal_months")
    case .proposalMaxMonths:
      self.proposalMaxMonths = try Self.parseWhole(
        value, key: key, range: ProposalRules.monthsRange, messageKey: "settings.invalid_value#proposal_months")
    }
  }

  /// The canonical text of a value given for `key` (what the store keeps), or INVALID_ARGUMENT.
  public static func canonical(_ key: Key, _ text: String) throws(DomainError) -> String {
    var settings = CountySettings()
    try settings.set(key, to: text)
    return settings.text(of: key)
  }

  /// The settings checked against each other once `key` has been set (`set` checks each value
  /// alone, `canonical` against the defaults): `proposal_max_months` is never below
  /// `proposal_reply_months`. INVALID_ARGUMENT naming the key just set; the store calls it on the
  /// settings in force with the new value, before it writes anything.
  public func checkConsistency(after key: Key) throws(DomainError) {
    switch key {
    case .proposalReplyMonths where self.proposalReplyMonths > self.proposalMaxMonths:
      throw .invalidArgument(
        "settings.invalid_value", messageKey: "settings.invalid_value#proposal_reply_above_max",
        arguments: [key.rawValue, "\(self.proposalMaxMonths)", "\(self.proposalReplyMonths)"], field: key.rawValue)
    case .proposalMaxMonths where self.proposalMaxMonths < self.proposalReplyMonths:
      throw .invalidArgument(
        "settings.invalid_value", messageKey: "settings.invalid_value#proposal_max_below_reply",
        arguments: [key.rawValue, "\(self.proposalReplyMonths)", "\(self.proposalMaxMonths)"], field: key.rawValue)
    default:
      return
    }
  }

  static func parseWhole(_ text: String, key: Key, range: ClosedRange<Int>, messageKey: String) throws(DomainError) -> Int {
    guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), range.contains(value) else {
      throw .invalidArgument(
        "settings.invalid_value", messageKey: messageKey,
        arguments: [key.rawValue, "\(range.lowerBound)", "\(range.upperBound)", String(text.prefix(64))], field: key.rawValue)
    }
    return value
  }

  /// "0.8", "0.80" or "80%": a share in whole percent within `yellowPercentRange`.
  static func parseThreshold(_ text: String) throws(DomainError) -> Double {
    let range = Self.yellowPercentRange
    let refused = DomainError.invalidArgument(
      "settings.invalid_value", messageKey: "settings.invalid_value#threshold",
      arguments: [
        Key.yellowThreshold.rawValue, Self.thresholdText(Double(range.lowerBound) / 100),
        Self.thresholdText(Double(range.upperBound) / 100), String(text.prefix(64)),
      ], field: Key.yellowThreshold.rawValue)
    var number = text
    var scale = 100.0
    if number.hasSuffix("%") {
      number = String(String(number.dropLast()).trimmingWhitespace())
      scale = 1
    }
    guard !number.isEmpty, number.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "." }), let value = Double(number), value.isFinite
    else { throw refused }
    let percent = value * scale
    let whole = percent.rounded()
    guard abs(percent - whole) < 1e-6, whole >= Double(range.lowerBound), whole <= Double(range.upperBound) else { throw refused }
    return whole / 100
  }

  /// "09:00-12:00,13:00-17:00": periods in order, not overlapping (touching is allowed), within
  /// 00:00–24:00, at least `minimumOfficeSeconds` in all.
  public static func parseOfficeHours(_ text: String) throws(DomainError) -> [OfficePeriod] {
    let field = Key.officeHours.rawValue
    func refused(_ cause: DomainError) -> DomainError {
      .invalidArgument(
        "settings.invalid_value", messageKey: "settings.invalid_value#office_hours", arguments: [field, String(text.prefix(200))],
        cause: cause, field: field)
    }
    let parts = text.split(whereSeparator: { $0 == "," || $0 == "，" }).map { String(String($0).trimmingWhitespace()) }
    guard !parts.isEmpty else {
      throw refused(.invalidArgument("calendar.invalid_office_hours", messageKey: "calendar.invalid_office_hours#none"))
    }
    var periods: [OfficePeriod] = []
    do throws(DomainError) {
      for part in parts { periods.append(try OfficePeriod(parsing: part)) }
      // The calendar's own checks: at least one period, in order, none overlapping.
      _ = try WorkingCalendar(officeHours: periods, years: [])
    } catch {
      throw refused(error)
    }
    let seconds = periods.reduce(0) { $0 + $1.seconds }
    guard seconds >= Self.minimumOfficeSeconds else {
      throw .invalidArgument(
        "settings.invalid_value", messageKey: "settings.invalid_value#office_hours_total",
        arguments: [field, Self.officeHoursText(periods), Self.durationText(seconds)], field: field)
    }
    return periods
  }

  public static func thresholdText(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
  }

  public static func officeHoursText(_ periods: [OfficePeriod]) -> String {
    periods.map(\.description).joined(separator: ",")
  }

  /// "0:45", "7:00": hours and minutes.
  static func durationText(_ seconds: Int) -> String {
    let minutes = seconds / 60
    return "\(minutes / 60):\(minutes % 60 < 10 ? "0" : "")\(minutes % 60)"
  }

  // MARK: Summary

  /// One line for `banjie health`: "yellow 0.80 · hours 09:00-12:00,13:00-17:00 · demand 10 wd ·
  /// rectification 15 wd · rating 15 d", in `language`.
  public func summary(_ language: MessageLanguage) -> String {
    let arguments = [
      Self.thresholdText(self.yellowThreshold), Self.officeHoursText(self.officeHours), String(self.demandLimitWorkingDays),
      String(self.rectificationLimitWorkingDays), String(self.ratingWindowDays),
    ]
    return ServerMessages.text(code: "settings.summary", arguments: arguments, language: language)
      ?? ServerMessages.text(code: "settings.summary", arguments: arguments, language: .en) ?? ""
  }
}
