/// The CLI's human-facing texts, one table per language (Strings+zh.swift, Strings+en.swift),
/// looked up by a stable key. `{0}`, `{1}`… in a text are replaced by the arguments in order;
/// both languages of a key use the same placeholders (a test checks every key, in both).
enum Catalogue {
  /// Every key, in both tables.
  static var keys: Set<String> { Set(Self.zh.keys).union(Self.en.keys) }

  static func table(_ language: Language) -> [String: String] {
    switch language {
    case .zh: Self.zh
    case .en: Self.en
    }
  }

  /// The text of `key` in `language` with its placeholders filled. A key missing from the
  /// table (which the tests forbid) shows as itself rather than failing.
  static func text(_ key: String, _ arguments: [String], language: Language) -> String {
    var text = Self.table(language)[key] ?? Self.en[key] ?? key
    for (index, argument) in arguments.enumerated() {
      text = text.replacingOccurrences(of: "{\(index)}", with: argument)
    }
    return text
  }
}

/// `t("profile.written", path, name)`: the catalogue's text for the current language.
func t(_ key: String, _ arguments: any CustomStringConvertible...) -> String {
  Catalogue.text(key, arguments.map(\.description), language: Language.current)
}
