/// The language a client reads the server's messages in. Clients ask with the request metadata
/// `banjie-lang: zh` (or `en`); without it the server speaks English.
public enum MessageLanguage: String, Sendable, Hashable, CaseIterable, Codable {
  case zh
  case en

  /// `zh`, `zh-CN`, `zh_CN.UTF-8`, `chinese`, `中文` → zh; `en`, `en-US`, `english` → en; anything else nil.
  public static func parse(_ text: String) -> MessageLanguage? {
    let value = String(text.trimmingWhitespace()).lowercased()
    if value.hasPrefix("zh") || value == "chinese" || value == "中文" { return .zh }
    if value.hasPrefix("en") || value == "english" { return .en }
    return nil
  }
}

/// The server's error messages, one catalogue per language (ServerMessages+en.swift,
/// ServerMessages+zh.swift), keyed by the error code — or by `code#variant` where one code is
/// worded differently at different sites. Two keys are not codes: `field.wrapped` and
/// `uscc.wrapped` word an error that wraps another one and keeps the other's code.
///
/// A template's `{0}`, `{1}`… are replaced by the arguments in order. `{1:caseState}` does the same
/// but first looks the argument up in the language's terms (`caseState.RECEIVED` → 已收件), keeping
/// the argument itself when there is no term; so a Chinese text can name a state, a role or a
/// weekday in Chinese while the code passes the stable English value. Both languages of a key use
/// the same placeholder numbers (a test checks every key, in both tables).
public enum ServerMessages {
  public static func table(_ language: MessageLanguage) -> [String: String] {
    switch language {
    case .zh: Self.zh
    case .en: Self.en
    }
  }

  public static func terms(_ language: MessageLanguage) -> [String: String] {
    switch language {
    case .zh: Self.zhTerms
    case .en: Self.enTerms
    }
  }

  /// Every key, in both tables.
  public static var keys: Set<String> { Set(Self.en.keys).union(Self.zh.keys) }

  /// The template of `code` (a message key) in `language`, filled with `arguments`; nil when the
  /// table has no such key. Placeholders without an argument are left as they are.
  public static func text(code: String, arguments: [String], language: MessageLanguage) -> String? {
    guard let template = Self.table(language)[code] else { return nil }
    return Self.fill(template, arguments: arguments, terms: Self.terms(language))
  }

  /// A placeholder of a template: the argument index and, for `{n:category}`, the term category.
  public struct Placeholder: Sendable, Hashable {
    public var index: Int
    public var category: String?
  }

  /// The placeholders of `template`, in order of appearance.
  public static func placeholders(in template: String) -> [Placeholder] {
    var found: [Placeholder] = []
    var rest = template[...]
    while let open = rest.firstIndex(of: "{") {
      let after = rest[rest.index(after: open)...]
      guard let close = after.firstIndex(of: "}"), let placeholder = Self.placeholder(after[..<close]) else {
        rest = after
        continue
      }
      found.append(placeholder)
      rest = after[after.index(after: close)...]
    }
    return found
  }

  /// Fills `template` in one pass, so that an argument containing "{0}" is never read as a placeholder.
  static func fill(_ template: String, arguments: [String], terms: [String: String]) -> String {
    var text = ""
    var rest = template[...]
    while let open = rest.firstIndex(of: "{") {
      text.append(contentsOf: rest[..<open])
      let after = rest[rest.index(after: open)...]
      guard let close = after.firstIndex(of: "}"), let placeholder = Self.placeholder(after[..<close]),
        placeholder.index < arguments.count
      else {
        text.append("{")
        rest = after
        continue
      }
      let argument = arguments[placeholder.index]
      if let category = placeholder.category {
        text.append(terms["\(category).\(argument)"] ?? argument)
      } else {
        text.append(argument)
      }
      rest = after[after.index(after: close)...]
    }
    text.append(contentsOf: rest)
    return text
  }

  /// "0" or "12:caseState"; nil for anything else between braces.
  private static func placeholder(_ body: Substring) -> Placeholder? {
    let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    guard let digits = parts.first, !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
      let index = Int(digits)
    else { return nil }
    guard parts.count == 2 else { return Placeholder(index: index, category: nil) }
    let category = parts[1]
    guard !category.isEmpty, category.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
    return Placeholder(index: index, category: String(category))
  }
}
