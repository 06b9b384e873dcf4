import Foundation
import Testing

@testable import BanjieCore

@Suite("Server messages")
struct ServerMessagesTests {
  static func indices(_ template: String) -> Set<Int> {
    Set(ServerMessages.placeholders(in: template).map(\.index))
  }

  @Test("every key is in both languages, with the same placeholders, and none is empty")
  func bothLanguages() {
    let en = ServerMessages.en
    let zh = ServerMessages.zh
    #expect(Set(zh.keys).subtracting(en.keys).sorted() == [], "keys with no English text")
    #expect(Set(en.keys).subtracting(zh.keys).sorted() == [], "keys with no Chinese text")
    for key in ServerMessages.keys.sorted() {
      let e = en[key] ?? ""
      let z = zh[key] ?? ""
      #expect(!e.trimmingWhitespace().isEmpty && !z.trimmingWhitespace().isEmpty, "\(key) is empty")
      #expect(Self.indices(e) == Self.indices(z), "\(key): placeholders differ: \(e) / \(z)")
      let used = Self.indices(e)
      #expect(used == Set(0..<used.count), "\(key): placeholders are not {0}…{n} without gaps: \(e)")
    }
  }

  @Test("every key is a code or code#variant, and the Chinese table is Chinese")
  func keyShapes() {
    for key in ServerMessages.keys {
      let parts = key.split(separator: "#", omittingEmptySubsequences: false)
      let plain = parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && !$0.isWhitespace } }
      #expect(parts.count <= 2 && plain, "\(key)")
    }
    // Texts that are only a placeholder may stay as they are; anything with words has Han.
    for (key, text) in ServerMessages.zh {
      let words = text.replacingOccurrences(of: #"\{[^}]*\}"#, with: "", options: .regularExpression)
      guard words.contains(where: \.isLetter) else { continue }
      #expect(words.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(key) has no Chinese: \(text)")
    }
  }

  @Test("every term category a template uses has terms in that language")
  func termCategories() {
    for language in MessageLanguage.allCases {
      let terms = ServerMessages.terms(language)
      for (key, template) in ServerMessages.table(language) {
        for category in ServerMessages.placeholders(in: template).compactMap(\.category) {
          #expect(terms.keys.contains { $0.hasPrefix(category + ".") }, "\(language) \(key): no terms for \(category)")
        }
      }
    }
    // An English term words a value differently; the Chinese table must word it too.
    #expect(Set(ServerMessages.enTerms.keys).subtracting(ServerMessages.zhTerms.keys).sorted() == [])
  }

  @Test("the values messages name have Chinese terms")
  func families() {
    let zh = ServerMessages.zhTerms
    let en = ServerMessages.enTerms
    var keys = CaseState.allCases.map { "caseState.\($0.rawValue)" }
    keys += DemandState.allCases.map { "demandState.\($0.rawValue)" }
    keys += RectificationState.allCases.map { "rectificationState.\($0.rawValue)" }
    keys += AppealState.allCases.map { "appealState.\($0.rawValue)" }
    keys += Actor.Role.allCases.map { "role.\($0.rawValue)" }
    keys += Weekday.allCases.map { "weekday.\($0)" }
    keys += LocalDate.monthNames.map { "month.\($0)" }
    keys += ["unit.working days", "unit.working hours"]
    keys += [DemandAction.assign, .answer, .close(satisfaction: 5), .reopen].map { "demandAction.\($0.name)" }
    keys += [
      RectificationAction.verify(valid: true), .rectify, .followUp(satisfied: true), .close, .appeal, .decide(uphold: true), .confirm,
      .signOff,
    ].map { "rectificationAction.\($0.name)" }
    keys += [RectificationConfirmation.followUp, .rater, .office].map { "confirmation.\($0.rawValue)" }
    let actions = CaseAction.Name.allCases.map { "caseAction.\($0.rawValue)" }
    #expect(Set(keys + actions).subtracting(zh.keys).sorted() == [])
    #expect(Set(actions).subtracting(en.keys).sorted() == [], "the English table words every case action")
  }

  @Test("the message is the English template filled with the arguments")
  func englishMessage() {
    let error = DomainError(kind: .notFound, code: "case.not_found", arguments: ["370830-20261207-000003"], field: "number")
    #expect(error.message == "case 370830-20261207-000003 does not exist")
    #expect(error.arguments == ["370830-20261207-000003"])
    #expect(error.messageKey == "case.not_found")
    #expect(error.description == "notFound [case.not_found] number: case 370830-20261207-000003 does not exist")
    for (key, template) in ServerMessages.en {
      let arguments = Self.indices(template).sorted().map { "<\($0)>" }
      let code = String(key.split(separator: "#")[0])
      let built = DomainError(kind: .invalidArgument, code: code, messageKey: key, arguments: arguments)
      #expect(built.message == ServerMessages.text(code: key, arguments: arguments, language: .en), "\(key)")
      #expect(built.code == code)
      #expect(!built.message.contains("{") && !built.localizedMessage(.zh).contains("{"), "\(key) left a placeholder unfilled")
    }
  }

  @Test("Chinese texts name states and actions in Chinese")
  func chinese() throws {
    var machine = try CaseStateMachine(state: .completed, department: "370830-SCJGJ", outcome: .approved)
    let error = #expect(throws: DomainError.self) { try machine.apply(.accept) }
    #expect(error?.message == "cannot accept a case in state COMPLETED")
    #expect(error?.localizedMessage(.zh) == "办件当前状态为“已办结”，不能受理")
    #expect(error?.localizedMessage(.en) == error?.message)
    let supplement = DomainError(
      kind: .failedPrecondition, code: "case.illegal_transition", arguments: ["requestSupplement", "ACCEPTED"])
    #expect(supplement.message == "cannot request a supplement for a case in state ACCEPTED")
    #expect(supplement.localizedMessage(.zh) == "办件当前状态为“已受理”，不能一次性告知补正")
    // A value without a term shows as itself.
    let odd = DomainError(kind: .failedPrecondition, code: "case.illegal_transition", arguments: ["teleport", "LIMBO"])
    #expect(odd.localizedMessage(.zh) == "办件当前状态为“LIMBO”，不能teleport")
  }

  @Test("a wrapped error's text completes the message, in the same language")
  func wrapped() {
    let error = #expect(throws: DomainError.self) { try LocalDate(parsing: "2026-02-29") }
    #expect(error?.message == "\"2026-02-29\" is not a valid date: day 29 is out of range: February 2026 has 28 days")
    #expect(error?.localizedMessage(.zh) == "“2026-02-29”不是有效日期：2026年2月只有 28 天，没有 29 日")
    #expect(error?.cause?.code == "date.invalid")
    guard let error else { return }
    let filter = DomainError(
      kind: .invalidArgument, code: "case.bad_date", arguments: ["received_from"], cause: error, field: "received_from")
    #expect(filter.message == "received_from: \(error.message)")
    #expect(filter.localizedMessage(.zh) == "收件日期起：\(error.localizedMessage(.zh))")
  }

  @Test("a finished message reads the same in every language and equals a templated one with the same text")
  func literalMessages() {
    let literal = DomainError(kind: .notFound, code: "case.not_found", message: "case X does not exist", field: "number")
    #expect(literal.arguments == [])
    #expect(literal.message == "case X does not exist")
    #expect(literal.localizedMessage(.zh) == "case X does not exist")
    let templated = DomainError(kind: .notFound, code: "case.not_found", arguments: ["X"], field: "number")
    #expect(literal == templated)
    #expect(literal.hashValue == templated.hashValue)
    #expect(templated.localizedMessage(.zh) == "办件 X 不存在")
  }

  @Test("filling is one pass: an argument is never read as a placeholder")
  func onePass() {
    #expect(ServerMessages.text(code: "case.not_found", arguments: ["{0}"], language: .en) == "case {0} does not exist")
    #expect(ServerMessages.text(code: "no.such.key", arguments: [], language: .en) == nil)
    let unknown = DomainError(kind: .invalidArgument, code: "no.such.key", arguments: ["a", "b"])
    #expect(unknown.message == "no.such.key: a: b")
  }

  @Test(
    "banjie-lang values",
    arguments: [("zh", MessageLanguage.zh), ("zh-CN", .zh), ("zh_CN.UTF-8", .zh), ("en", .en), ("EN-us", .en)])
  func parse(_ row: (String, MessageLanguage)) {
    #expect(MessageLanguage.parse(row.0) == row.1)
  }

  @Test("an unknown language is nil")
  func parseUnknown() {
    #expect(MessageLanguage.parse("fr") == nil)
    #expect(MessageLanguage.parse("") == nil)
  }

  // MARK: The sources

  /// The server's sources: everything under Sources/ but the CLI and the generated code.
  static func serverSources() throws -> [(String, String)] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var sources: [(String, String)] = []
    for directory in ["BanjieCore", "BanjieServer", "BanjieStore", "banjied"] {
      let url = root.appendingPathComponent("Sources/\(directory)")
      let files = try #require(FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil))
      for case let file as URL in files where file.pathExtension == "swift" && !file.lastPathComponent.hasPrefix("ServerMessages") {
        sources.append((file.lastPathComponent, try String(contentsOf: file, encoding: .utf8)))
      }
    }
    return sources
  }

  /// The argument text of every `DomainError(…)`, `.invalidArgument(…)` and `.failedPrecondition(…)` in `source`.
  static func errorCalls(in source: String) -> [String] {
    let bytes = Array(source.utf8)
    var calls: [String] = []
    for opener in ["DomainError(", ".invalidArgument(", ".failedPrecondition("] {
      let pattern = Array(opener.utf8)
      var i = 0
      while i + pattern.count <= bytes.count {
        guard bytes[i..<(i + pattern.count)].elementsEqual(pattern) else {
          i += 1
          continue
        }
        var j = i + pattern.count
        var depth = 1
        var inString = false
        while j < bytes.count, depth > 0 {
          let byte = bytes[j]
          if inString {
            if byte == UInt8(ascii: "\\") {
              j += 1
            } else if byte == UInt8(ascii: "\"") {
              inString = false
            }
          } else if byte == UInt8(ascii: "\"") {
            inString = true
          } else if byte == UInt8(ascii: "(") {
            depth += 1
          } else if byte == UInt8(ascii: ")") {
            depth -= 1
          }
          j += 1
        }
        calls.append(String(decoding: bytes[(i + pattern.count)..<max(i + pattern.count, j - 1)], as: UTF8.self))
        i = i + pattern.count
      }
    }
    return calls
  }

  /// The first capture of every match of `pattern` in `text`.
  static func captures(_ pattern: String, in text: String) -> [String] {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
    let range = NSRange(text.startIndex..., in: text)
    return regex.matches(in: text, range: range).compactMap { match in
      Range(match.range(at: 1), in: text).map { String(text[$0]) }
    }
  }

  /// Whether the catalogue has a text for `code`: itself, or one of its `code#variant` keys.
  static func hasText(_ code: String, in table: [String: String]) -> Bool {
    table[code] != nil || table.keys.contains { $0.hasPrefix(code + "#") }
  }

  @Test("every code, message key and variant the sources name is in both tables")
  func sourcesUseKnownKeys() throws {
    var codes: Set<String> = []
    var messageKeys: Set<String> = []
    var callCount = 0
    for (name, text) in try Self.serverSources() {
      for call in Self.errorCalls(in: text) {
        // A finished English message (`message:`, or the old static helpers' second string) has no template.
        if call.contains("message:") || !Self.captures(#"^\s*("[^"]*"|[A-Za-z_.]+)\s*,\s*(")"#, in: call).isEmpty { continue }
        let code =
          Self.captures(#"code:\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)""#, in: call).first
          ?? Self.captures(#"^\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)""#, in: call).first
        if let code {
          codes.insert(code)
          callCount += 1
        }
        // Keys built at run time ("code#\(kind)") are checked by the tests of their families.
        messageKeys.formUnion(Self.captures(#"messageKey:\s*"([^"]+)""#, in: call).filter { !$0.contains("\\(") })
      }
      // Variants chosen away from the call (`bad("award.bad_period#year")`, ternaries).
      let variants = Self.captures(#""([a-z0-9_]+(?:\.[a-z0-9_]+)+#[a-z0-9_]+)""#, in: text)
      #expect(Set(variants).subtracting(ServerMessages.en.keys).sorted() == [], "\(name)")
      messageKeys.formUnion(variants)
    }
    #expect(callCount > 150, "the scan found the throw sites")
    for code in codes.sorted() {
      #expect(Self.hasText(code, in: ServerMessages.en) && Self.hasText(code, in: ServerMessages.zh), "\(code) has no text")
    }
    #expect(messageKeys.subtracting(ServerMessages.en.keys).sorted() == [])
    #expect(messageKeys.subtracting(ServerMessages.zh.keys).sorted() == [])
  }
}
