import Foundation

/// The language of every human-facing text the CLI prints: Chinese or English. Machine output
/// (`--json`, CSV column keys, exit codes) does not depend on it.
///
/// Chosen once per process, before arguments are parsed (so `--help` is in it too): `--lang`
/// wins, then `BANJIE_LANG`, then the profile's `lang` key, then the POSIX locale variables
/// (`LC_ALL`, then `LC_MESSAGES`, then `LANG`): a value starting with `zh` means Chinese.
/// Without any of them the CLI speaks English.
enum Language: String, CaseIterable, Sendable {
  case zh
  case en

  /// Set by `Banjie.main` before parsing; English until then (and in tests that do not set it).
  nonisolated(unsafe) static var current: Language = .en

  /// `zh`, `zh-CN`, `zh_CN.UTF-8`, `chinese`, `中文` → zh; `en`, `en_US.UTF-8`, `C`, `POSIX` → en.
  static func parse(_ text: String) -> Language? {
    let value = text.trimmingCharacters(in: .whitespaces).lowercased()
    if value.hasPrefix("zh") || value == "chinese" || value == "中文" { return .zh }
    if value.hasPrefix("en") || value == "english" || value == "c" || value.hasPrefix("c.") || value == "posix" { return .en }
    return nil
  }

  /// The language a locale variable names, if it names one we speak; otherwise English, as a
  /// set locale that is neither Chinese nor English asks for the international default.
  static func fromLocale(_ environment: [String: String]) -> Language? {
    for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
      if let value = environment[name], !value.isEmpty {
        return Self.parse(value) ?? .en
      }
    }
    return nil
  }

  /// The choice for this process, and the arguments without `--lang`.
  /// Throws `LanguageError` for an unknown `--lang` value (a usage error, exit 64).
  static func resolve(arguments: [String], environment: [String: String], profileLang: (String?) -> String?) throws -> (
    Language, [String]
  ) {
    var rest: [String] = []
    var flag: String?
    var profile: String?
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if argument == "--lang" {
        guard index + 1 < arguments.count else { throw LanguageError(value: "") }
        flag = arguments[index + 1]
        index += 2
        continue
      }
      if argument.hasPrefix("--lang=") {
        flag = String(argument.dropFirst("--lang=".count))
        index += 1
        continue
      }
      if argument == "--profile", index + 1 < arguments.count { profile = arguments[index + 1] }
      if argument.hasPrefix("--profile=") { profile = String(argument.dropFirst("--profile=".count)) }
      if argument == "--" {
        rest.append(contentsOf: arguments[index...])
        break
      }
      rest.append(argument)
      index += 1
    }
    if let flag {
      guard let language = Self.parse(flag) else { throw LanguageError(value: flag) }
      return (language, rest)
    }
    if let value = environment["BANJIE_LANG"], !value.isEmpty {
      guard let language = Self.parse(value) else { throw LanguageError(value: value) }
      return (language, rest)
    }
    if let value = profileLang(profile ?? environment["BANJIE_PROFILE"]), let language = Self.parse(value) {
      return (language, rest)
    }
    return (Self.fromLocale(environment) ?? .en, rest)
  }
}

/// `--lang` named a language banjie does not speak.
struct LanguageError: Error {
  var value: String
  /// In both languages: the user's choice of language is what failed.
  var message: String { "unknown language \"\(self.value)\": use --lang zh or --lang en / 未知语言“\(self.value)”：请用 --lang zh 或 --lang en" }
}
