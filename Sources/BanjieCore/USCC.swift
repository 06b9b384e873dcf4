/// 统一社会信用代码, the unified social credit code of GB 32100-2015: 18 characters from
/// "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, S, V, Z), the last a mod-31 check character.
///
/// Only the alphabet and the check character are enforced. The tables for positions 1 and 2
/// (registration authority, organisation type) have grown by amendment since 2015 and the
/// published versions disagree, so rejecting on them would turn away real enterprises.
public struct USCC: Sendable, Hashable, Codable, CustomStringConvertible {
  public static let length = 18
  public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
  /// w_i = 3^(i−1) mod 31 for positions 1...17.
  public static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

  /// The 18 characters, upper case.
  public let value: String

  private init(checked value: String) {
    self.value = value
  }

  /// Validates a code. Surrounding whitespace is ignored and lower case is read as upper case,
  /// since clerks type codes off paper licences.
  public static func validate(_ text: String) throws(DomainError) -> USCC {
    let characters = Array(text.trimmingWhitespace().uppercased())
    guard characters.count == length else {
      throw .invalidArgument("uscc.wrong_length", arguments: ["\(length)", "\(characters.count)"], field: "uscc")
    }
    let values = try Self.values(characters[0..<(length - 1)])
    let expected = Self.checkCharacter(forValues: values)
    let found = characters[length - 1]
    guard found == expected else {
      if value(of: found) == nil {
        throw invalidCharacter(found, position: length)
      }
      throw .invalidArgument("uscc.wrong_check_character", arguments: [String(expected), String(found)], field: "uscc")
    }
    return USCC(checked: String(characters))
  }

  /// The check character for the first 17 characters of a code.
  public static func checkCharacter(forFirst17 text: String) throws(DomainError) -> Character {
    let characters = Array(text.uppercased())
    guard characters.count == length - 1 else {
      throw .invalidArgument(
        "uscc.wrong_length", messageKey: "uscc.wrong_length#check_input", arguments: ["\(length - 1)", "\(characters.count)"],
        field: "uscc")
    }
    return checkCharacter(forValues: try values(characters[...]))
  }

  /// Position 1: the registration authority (9 is market regulation, formerly 工商).
  public var registrationAuthorityCode: Character { Array(value)[0] }
  /// Position 2: the organisation type within that authority (for 9: 1 enterprise, 2 sole trader, 3 co-operative).
  public var organisationTypeCode: Character { Array(value)[1] }
  /// Positions 3–8: the registering authority's administrative division (GB/T 2260).
  public var divisionCode: String { String(Array(value)[2..<8]) }
  /// Positions 9–17: the organisation code (GB 11714) or its replacement.
  public var organisationCode: String { String(Array(value)[8..<17]) }

  public var description: String { value }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
      self = try USCC.validate(text)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(value)
  }

  // MARK: Arithmetic

  private static let valueOf: [Character: Int] = Dictionary(
    uniqueKeysWithValues: alphabet.enumerated().map { ($0.element, $0.offset) })

  static func value(of character: Character) -> Int? { valueOf[character] }

  private static func values(_ characters: ArraySlice<Character>) throws(DomainError) -> [Int] {
    var values: [Int] = []
    values.reserveCapacity(characters.count)
    for (offset, character) in characters.enumerated() {
      guard let value = value(of: character) else {
        throw invalidCharacter(character, position: offset + 1)
      }
      values.append(value)
    }
    return values
  }

  private static func checkCharacter(forValues values: [Int]) -> Character {
    let sum = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }
    return alphabet[(31 - sum % 31) % 31]
  }

  private static func invalidCharacter(_ character: Character, position: Int) -> DomainError {
    let messageKey = "IOSVZ".contains(character) ? "uscc.invalid_character#never_used" : "uscc.invalid_character"
    return .invalidArgument("uscc.invalid_character", messageKey: messageKey, arguments: [String(character), "\(position)"], field: "uscc")
  }
}

extension String {
  public func trimmingWhitespace() -> Substring {
    let start = firstIndex { !$0.isWhitespace } ?? endIndex
    let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
    return self[start..<end]
  }
}
