/// Checks on text from callers, with errors that name the field and say what is wrong.
public enum FieldRules {
  /// Non-empty (after trimming) text of at most `max` characters without control characters.
  public static func text(_ value: String, field: String, max: Int, required: Bool = true) throws(DomainError) {
    let trimmed = value.trimmingWhitespace()
    if trimmed.isEmpty {
      guard !required else {
        throw DomainError(kind: .invalidArgument, code: "field.empty", arguments: [field], field: field)
      }
      return
    }
    guard value.count <= max else {
      throw DomainError(kind: .invalidArgument, code: "field.too_long", arguments: [field, "\(value.count)", "\(max)"], field: field)
    }
    guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) else {
      throw DomainError(kind: .invalidArgument, code: "field.control_characters", arguments: [field], field: field)
    }
  }

  /// A code: 1–64 characters of ASCII letters, digits, '-', '_' and '.'.
  public static func code(_ value: String, field: String) throws(DomainError) {
    guard !value.isEmpty else {
      throw DomainError(kind: .invalidArgument, code: "field.empty", arguments: [field], field: field)
    }
    guard value.utf8.count <= 64,
      value.utf8.allSatisfy({
        ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E
      })
    else {
      throw DomainError(kind: .invalidArgument, code: "field.bad_code", arguments: [field, String(value.prefix(40))], field: field)
    }
  }
}
