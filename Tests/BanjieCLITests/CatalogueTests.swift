import Foundation
import Testing

@testable import banjie

@Suite("CLI texts")
struct CatalogueTests {
  /// `{0}`, `{1}`… of a text, as a set.
  static func placeholders(_ text: String) -> Set<String> {
    var found: Set<String> = []
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "{") {
      let after = rest[rest.index(after: open)...]
      guard let close = after.firstIndex(of: "}") else { break }
      let inside = after[..<close]
      if !inside.isEmpty, inside.allSatisfy(\.isNumber) { found.insert(String(inside)) }
      rest = after[after.index(after: close)...]
    }
    return found
  }

  @Test("every key is in both languages, with the same placeholders, and none is empty")
  func bothLanguages() {
    let zh = Catalogue.zh
    let en = Catalogue.en
    #expect(Set(zh.keys).subtracting(en.keys).sorted() == [], "keys with no English text")
    #expect(Set(en.keys).subtracting(zh.keys).sorted() == [], "keys with no Chinese text")
    for key in Catalogue.keys.sorted() {
      let z = zh[key] ?? ""
      let e = en[key] ?? ""
      #expect(!z.isEmpty && !e.isEmpty, "\(key) is empty")
      #expect(Self.placeholders(z) == Self.placeholders(e), "\(key): placeholders differ: \(z) / \(e)")
    }
  }

  @Test("the Chinese table is Chinese")
  func chineseIsChinese() {
    // Texts that are only a code or a symbol may stay as they are; anything with words has Han.
    let han = Catalogue.zh.filter { _, text in text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }
    #expect(Double(han.count) >= Double(Catalogue.zh.count) * 0.9)
  }

  /// Every literal key the CLI's sources pass to `t(…)` exists in the catalogue.
  @Test("every key the sources use is in the catalogue")
  func usedKeysExist() throws {
    let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources/banjie")
    let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
    var used: Set<String> = []
    for case let url as URL in files where url.pathExtension == "swift" && !url.lastPathComponent.hasPrefix("Strings+") {
      let text = try String(contentsOf: url, encoding: .utf8)
      var rest = Substring(text)
      while let range = rest.range(of: "t(\"") {
        let after = rest[range.upperBound...]
        // `t(` itself, not the end of another name such as `dropFirst(` or `print(`.
        if range.lowerBound > rest.startIndex {
          let before = rest[rest.index(before: range.lowerBound)]
          if before.isLetter || before.isNumber || before == "_" {
            rest = after
            continue
          }
        }
        guard let end = after.firstIndex(of: "\"") else { break }
        let key = String(after[..<end])
        // Keys built at run time ("state.\(name)") are checked by the tests of their families.
        if !key.contains("\\(") { used.insert(key) }
        rest = after[end...]
      }
    }
    #expect(used.count > 20)
    #expect(used.subtracting(Catalogue.keys).sorted() == [])
  }

  @Test("placeholders are filled in order, in the chosen language")
  func filling() {
    #expect(Catalogue.text("profile.written", ["/p", "a03"], language: .zh) == "已写入配置 /p。使用：banjie --profile a03 health")
    #expect(Catalogue.text("profile.written", ["/p", "a03"], language: .en) == "wrote profile /p. Use it: banjie --profile a03 health")
    #expect(Catalogue.text("no.such.key", [], language: .zh) == "no.such.key")
  }

  @Test("every case state, colour and action has a name in both languages")
  func families() {
    let keys =
      ["RECEIVED", "SUPPLEMENT_REQUESTED", "ACCEPTED", "NOT_ACCEPTED", "SUSPENDED", "COMPLETED", "DELIVERED", "WITHDRAWN"]
      .map { "state.\($0)" }
      + ["green", "yellow", "red"].map { "colour.\($0)" }
      + [
        "receive", "requestSupplement", "supplementReceived", "accept", "refuse", "suspend", "resume", "transfer", "complete",
        "deliver", "withdraw",
      ].map { "action.\($0)" }
    #expect(Set(keys).subtracting(Catalogue.keys).sorted() == [])
    #expect(Catalogue.text("colour.red", [], language: .zh) == "红")
  }
}

@Suite("Language")
struct LanguageTests {
  @Test(
    "--lang, then BANJIE_LANG, then the profile, then LC_ALL, LC_MESSAGES, LANG",
    arguments: [
      (["case", "list"], ["LANG": "zh_CN.UTF-8"], nil as String?, Language.zh),
      (["case", "list"], ["LANG": "en_US.UTF-8"], nil, .en),
      (["case", "list"], [:], nil, .en),
      (["case", "list"], ["LANG": "zh_CN.UTF-8", "LC_ALL": "C"], nil, .en),
      (["case", "list"], ["LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"], nil, .zh),
      (["--lang", "en", "case", "list"], ["LANG": "zh_CN.UTF-8"], nil, .en),
      (["case", "--lang=zh", "list"], ["LANG": "en_US.UTF-8"], nil, .zh),
      (["case", "list"], ["LANG": "en_US.UTF-8", "BANJIE_LANG": "zh"], nil, .zh),
      (["case", "list"], ["LANG": "en_US.UTF-8"], "zh", .zh),
      (["case", "list"], ["LANG": "zh_CN.UTF-8", "BANJIE_LANG": "en"], "zh", .en),
    ])
  func precedence(arguments: [String], environment: [String: String], profile: String?, expected: Language) throws {
    let (language, rest) = try Language.resolve(arguments: arguments, environment: environment, profileLang: { _ in profile })
    #expect(language == expected)
    #expect(rest == ["case", "list"])
  }

  @Test("an unknown --lang is refused")
  func unknown() {
    #expect(throws: LanguageError.self) {
      try Language.resolve(arguments: ["--lang", "fr", "health"], environment: [:], profileLang: { _ in nil })
    }
    #expect(throws: LanguageError.self) {
      try Language.resolve(arguments: ["health", "--lang"], environment: [:], profileLang: { _ in nil })
    }
  }
}

@Suite("Input normalisation")
struct NormalizationTests {
  @Test(
    "full-width and spaced input",
    arguments: [
      ("370830－20261207－000003", "370830-20261207-000003"),
      ("  370830-20261207-000003\u{3000}", "370830-20261207-000003"),
      ("３７０８３０-20261207-000003", "370830-20261207-000003"),
      ("sq-370830-20261130-0001", "SQ-370830-20261130-0001"),
      ("370830 - 20261207 - 000003", "370830-20261207-000003"),
    ])
  func numbers(input: String, expected: String) {
    #expect(Normalize.number(input) == expected)
  }

  @Test(
    "codes and text",
    arguments: [
      ("Ａ０３", "A03"), (" a03 ", "A03"), ("scjgj", "SCJGJ"), ("ＳＣＪＧＪ－００３", "SCJGJ-003"),
    ])
  func codes(input: String, expected: String) {
    #expect(Normalize.code(input) == expected)
  }

  @Test("text keeps its case and Chinese, loses full width and spaces")
  func text() {
    #expect(Normalize.text("land：ZRZYJ：扩建厂房用地") == "land:ZRZYJ:扩建厂房用地")
    #expect(Normalize.text("\u{3000}王小二 ") == "王小二")
  }

  @Test(
    "dates in the forms people type",
    arguments: [
      ("2026-12-01", "2026-12-01"), ("2026/12/01", "2026-12-01"), ("20261201", "2026-12-01"), ("２０２６－１２－０１", "2026-12-01"),
      ("2026.1.5", "2026-01-05"), (" 2024/02/29 ", "2024-02-29"),
    ])
  func days(input: String, expected: String) throws {
    #expect(try Normalize.day(input) == expected)
  }

  @Test(
    "months",
    arguments: [("2026-11", "2026-11"), ("2026/11", "2026-11"), ("202611", "2026-11"), ("２０２６－１１", "2026-11"), ("2026.1", "2026-01")])
  func months(input: String, expected: String) {
    #expect(Normalize.month(input) == expected)
  }

  @Test("impossible dates are usage errors", arguments: ["2026-02-29", "2026-13-01", "2026/12", "yesterday", "202612011", "2026-12-32"])
  func badDays(input: String) {
    #expect(throws: (any Error).self) { try Normalize.day(input) }
  }
}
