/// The warm-enterprise campaign's registry vocabulary (暖企行动): GB/T 4754-2017 industry
/// sections, enterprise scales, and the policy eligibility that combines them with townships.

/// A GB/T 4754-2017 section (门类), A to T.
public enum IndustrySection: String, Sendable, Hashable, CaseIterable, Codable {
  case a = "A"
  case b = "B"
  case c = "C"
  case d = "D"
  case e = "E"
  case f = "F"
  case g = "G"
  case h = "H"
  case i = "I"
  case j = "J"
  case k = "K"
  case l = "L"
  case m = "M"
  case n = "N"
  case o = "O"
  case p = "P"
  case q = "Q"
  case r = "R"
  case s = "S"
  case t = "T"

  public var chineseName: String {
    switch self {
    case .a: "农、林、牧、渔业"
    case .b: "采矿业"
    case .c: "制造业"
    case .d: "电力、热力、燃气及水生产和供应业"
    case .e: "建筑业"
    case .f: "批发和零售业"
    case .g: "交通运输、仓储和邮政业"
    case .h: "住宿和餐饮业"
    case .i: "信息传输、软件和信息技术服务业"
    case .j: "金融业"
    case .k: "房地产业"
    case .l: "租赁和商务服务业"
    case .m: "科学研究和技术服务业"
    case .n: "水利、环境和公共设施管理业"
    case .o: "居民服务、修理和其他服务业"
    case .p: "教育"
    case .q: "卫生和社会工作"
    case .r: "文化、体育和娱乐业"
    case .s: "公共管理、社会保障和社会组织"
    case .t: "国际组织"
    }
  }

  /// Reads a section letter ("C", "c", " C ").
  public static func parse(_ text: String, field: String = "industry") throws(DomainError) -> IndustrySection {
    guard let section = IndustrySection(rawValue: String(text.trimmingWhitespace()).uppercased()) else {
      throw .invalidArgument("enterprise.unknown_industry", arguments: [String(text.prefix(20))], field: field)
    }
    return section
  }
}

/// Enterprise scale (大型, 中型, 小型, 微型) as the statistics bureau classifies it.
public enum EnterpriseScale: String, Sendable, Hashable, CaseIterable, Codable {
  case large, medium, small, micro

  public var chineseName: String {
    switch self {
    case .large: "大型"
    case .medium: "中型"
    case .small: "小型"
    case .micro: "微型"
    }
  }

  /// Reads "small", "SMALL" or "小型".
  public static func parse(_ text: String, field: String = "scale") throws(DomainError) -> EnterpriseScale {
    let trimmed = String(text.trimmingWhitespace())
    if let scale = EnterpriseScale(rawValue: trimmed.lowercased()) { return scale }
    if let scale = allCases.first(where: { $0.chineseName == trimmed }) { return scale }
    throw .invalidArgument("enterprise.unknown_scale", arguments: [String(text.prefix(20))], field: field)
  }
}

/// A township (乡镇/街道) of the county. The county's list is data: the office extends it.
public struct Township: Sendable, Hashable, Codable {
  public var name: String
  public var code: String

  public init(name: String, code: String) {
    self.name = name
    self.code = code
  }

  /// The sample county (370830, 汶上县) as a new database has it since migration v12-townships:
  /// three subdistricts, eleven towns and one township, by name only. Their GB/T 10114 codes are not
  /// shipped (they could not be checked against the official list); the office sets them.
  public static let sampleCounty: [Township] = [
    "中都街道", "汶上街道", "南站街道", "南旺镇", "次丘镇", "寅寺镇", "郭楼镇", "康驿镇", "苑庄镇", "义桥镇", "郭仓镇", "白石镇", "杨店镇",
    "刘楼镇", "军屯乡",
  ].map { Township(name: $0, code: "") }
}

/// Which enterprises a policy is for. An empty list means "any".
public struct PolicyEligibility: Sendable, Hashable, Codable {
  public var industries: Set<IndustrySection>
  public var scales: Set<EnterpriseScale>
  public var townships: Set<String>

  public init(industries: Set<IndustrySection> = [], scales: Set<EnterpriseScale> = [], townships: Set<String> = []) {
    self.industries = industries
    self.scales = scales
    self.townships = townships
  }

  public func admits(industry: IndustrySection, scale: EnterpriseScale, township: String) -> Bool {
    (industries.isEmpty || industries.contains(industry)) && (scales.isEmpty || scales.contains(scale))
      && (townships.isEmpty || townships.contains(township))
  }
}

/// How an enterprise's code is to be accepted at registration.
public enum USCCAdmission: Sendable, Hashable {
  /// The check character is right.
  case valid(USCC)
  /// The check character is wrong but the office registered it anyway, with a written reason.
  case overridden(code: String, reason: String)

  public var code: String {
    switch self {
    case .valid(let uscc): uscc.value
    case .overridden(let code, _): code
    }
  }

  /// Validates `text`. A wrong check character is let through only with a non-empty `overrideReason`;
  /// a wrong length or alphabet never is.
  public static func admit(_ text: String, overrideReason: String?) throws(DomainError) -> USCCAdmission {
    do throws(DomainError) {
      return .valid(try USCC.validate(text))
    } catch  where error.code == "uscc.wrong_check_character" {
      guard let reason = overrideReason, !reason.trimmingWhitespace().isEmpty else {
        throw .invalidArgument(error.code, messageKey: "uscc.wrong_check_character#override", cause: error, field: "uscc")
      }
      try FieldRules.text(reason, field: "check_override_reason", max: 500)
      return .overridden(code: String(text.trimmingWhitespace()).uppercased(), reason: reason)
    } catch {
      throw .invalidArgument(error.code, messageKey: "uscc.wrapped", cause: error, field: "uscc")
    }
  }
}
