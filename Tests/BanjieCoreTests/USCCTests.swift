import Testing

@testable import BanjieCore

@Suite("USCC (GB 32100-2015)")
struct USCCTests {
  /// Codes published by the companies (websites, annual reports, licences), each checked
  /// against the algorithm before being used here.
  static let published: [(String, String)] = [
    ("914403001922038216", "Huawei Technologies Co., Ltd."),
    ("9144030071526726XG", "Tencent Technology (Shenzhen) Co., Ltd."),
    ("91100000100003962T", "Industrial and Commercial Bank of China Ltd."),
    ("9144030010001686XA", "China Merchants Bank Co., Ltd."),
    ("91440300100012316L", "Ping An Insurance (Group) Company of China, Ltd."),
    ("91440300192317458F", "BYD Company Ltd."),
    ("91110108551385082Q", "Xiaomi Technology Co., Ltd."),
    ("91110000802100433B", "Beijing Baidu Netcom Science and Technology Co., Ltd."),
    ("91520000214434146R", "AVIC Heavy Machinery Co., Ltd."),
    ("91110000101623741K", "China Quanjude (Group) Co., Ltd."),
  ]

  @Test("published codes are valid", arguments: published)
  func publishedCodesAreValid(_ row: (String, String)) throws {
    let code = try USCC.validate(row.0)
    #expect(code.value == row.0)
    #expect(try USCC.checkCharacter(forFirst17: String(row.0.prefix(17))) == row.0.last)
    #expect(code.registrationAuthorityCode == "9")
    #expect(code.organisationTypeCode == "1")
  }

  @Test("weights are 3^(i−1) mod 31")
  func weights() {
    var power = 1
    for weight in USCC.weights {
      #expect(weight == power)
      power = power * 3 % 31
    }
    #expect(USCC.weights.count == 17)
    #expect(USCC.alphabet.count == 31)
    #expect(!USCC.alphabet.contains { "IOSVZ".contains($0) })
  }

  @Test("parts and normalisation")
  func parts() throws {
    let code = try USCC.validate("  9144030071526726xg\n")
    #expect(code.value == "9144030071526726XG")
    #expect(code.divisionCode == "440300")
    #expect(code.organisationCode == "71526726X")
    #expect(code.description == "9144030071526726XG")
  }

  @Test(
    "clear errors",
    arguments: [
      ("", "uscc.wrong_length", "a USCC has 18 characters, found 0"),
      ("91440300192203821", "uscc.wrong_length", "a USCC has 18 characters, found 17"),
      ("9144030019220382166", "uscc.wrong_length", "a USCC has 18 characters, found 19"),
      ("914403001922038217", "uscc.wrong_check_character", "check character should be '6', found '7'"),
      ("9144030071526726XY", "uscc.wrong_check_character", "check character should be 'G', found 'Y'"),
      (
        "9144O30019220382I6", "uscc.invalid_character",
        "invalid character 'O' at position 5 (the letters I, O, S, V and Z are never used)"
      ),
      (
        "91440300192203821I", "uscc.invalid_character",
        "invalid character 'I' at position 18 (the letters I, O, S, V and Z are never used)"
      ),
      ("914403001922-38216", "uscc.invalid_character", "invalid character '-' at position 13"),
    ])
  func errors(_ row: (String, String, String)) {
    let error = #expect(throws: DomainError.self) { try USCC.validate(row.0) }
    #expect(error == DomainError(kind: .invalidArgument, code: row.1, message: row.2, field: "uscc"))
  }

  @Test("checkCharacter(forFirst17:) refuses bad input")
  func checkCharacterErrors() {
    #expect(
      (#expect(throws: DomainError.self) { try USCC.checkCharacter(forFirst17: "9144") })?.code == "uscc.wrong_length")
    #expect(
      (#expect(throws: DomainError.self) { try USCC.checkCharacter(forFirst17: "91440300192203S21") })?.message
        == "invalid character 'S' at position 15 (the letters I, O, S, V and Z are never used)")
  }

  @Test("every single-character substitution is caught", arguments: published.map(\.0))
  func substitutions(_ valid: String) {
    let characters = Array(valid)
    var caught = 0
    var escaped: [String] = []
    for position in characters.indices {
      for replacement in USCC.alphabet where replacement != characters[position] {
        var corrupted = characters
        corrupted[position] = replacement
        if (try? USCC.validate(String(corrupted))) == nil {
          caught += 1
        } else {
          escaped.append(String(corrupted))
        }
      }
    }
    #expect(escaped.isEmpty)
    #expect(caught == 18 * 30)
  }

  /// With position 18 weighted 1 (the check equation is Σ vᵢwᵢ + v₁₈ ≡ 0 mod 31), swapping
  /// positions i and j changes the sum by (vⱼ − vᵢ)(wᵢ − wⱼ), which is zero mod 31 only when
  /// wᵢ ≡ wⱼ. Consecutive weights differ (wᵢ₊₁ = 3wᵢ, and w₁₇ = 28 ≠ 1), so no adjacent swap
  /// escapes; the only colliding pair is positions 1 and 18, both weighted 1.
  static func effectiveWeight(_ position: Int) -> Int { position < 17 ? USCC.weights[position] : 1 }

  @Test("transpositions: exactly the weight collisions escape", arguments: published.map(\.0))
  func transpositions(_ valid: String) {
    let characters = Array(valid)
    var escapedAdjacent: [Int] = []
    var escapedPairs: [[Int]] = []
    for i in characters.indices {
      for j in characters.indices where j > i && characters[i] != characters[j] {
        var swapped = characters
        swapped.swapAt(i, j)
        guard (try? USCC.validate(String(swapped))) != nil else { continue }
        escapedPairs.append([i + 1, j + 1])
        if j == i + 1 { escapedAdjacent.append(i + 1) }
      }
    }
    let collidingPairs = characters.indices.flatMap { i in
      characters.indices.filter { j in
        j > i && characters[i] != characters[j] && Self.effectiveWeight(i) == Self.effectiveWeight(j)
      }.map { [i + 1, $0 + 1] }
    }
    #expect(escapedAdjacent.isEmpty)
    #expect(escapedPairs == collidingPairs)
    #expect(collidingPairs == (characters[0] != characters[17] ? [[1, 18]] : []))
  }
}
