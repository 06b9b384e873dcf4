import Foundation

/// A small TOML subset for banjied's configuration file: `[section]` headers, `key = value`
/// lines with double-quoted strings, integers and booleans, and `#` comments. Keys are read as
/// "section.key". Anything else is an error naming the line, so a typo never passes silently.
public struct ConfigurationFile: Sendable {
  public private(set) var values: [String: Value] = [:]

  public enum Value: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
  }

  public struct ParseError: Error, CustomStringConvertible, Sendable {
    public var line: Int
    public var reason: String
    public var description: String { self.line > 0 ? "configuration line \(self.line): \(self.reason)" : "configuration: \(self.reason)" }
    public init(line: Int, reason: String) {
      self.line = line
      self.reason = reason
    }
  }

  public init(values: [String: Value] = [:]) { self.values = values }

  public init(parsing text: String) throws {
    var section = ""
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let lineNumber = index + 1
      let line = Self.stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      if line.hasPrefix("[") {
        guard line.hasSuffix("]"), line.count > 2 else { throw ParseError(line: lineNumber, reason: "malformed section header \(line)") }
        section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        continue
      }
      guard let eq = line.firstIndex(of: "=") else { throw ParseError(line: lineNumber, reason: "expected key = value") }
      let key = line[..<eq].trimmingCharacters(in: .whitespaces)
      let raw = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
        throw ParseError(line: lineNumber, reason: "invalid key \"\(key)\"")
      }
      let value: Value
      if raw.hasPrefix("\"") {
        guard raw.count >= 2, raw.hasSuffix("\"") else { throw ParseError(line: lineNumber, reason: "unterminated string") }
        value = .string(String(raw.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\"))
      } else if raw == "true" || raw == "false" {
        value = .boolean(raw == "true")
      } else if let number = Int(raw.replacingOccurrences(of: "_", with: "")) {
        value = .integer(number)
      } else {
        throw ParseError(line: lineNumber, reason: "value of \(key) must be a \"string\", an integer or true/false")
      }
      self.values[section.isEmpty ? key : "\(section).\(key)"] = value
    }
  }

  private static func stripComment(_ line: String) -> String {
    var inString = false
    var result = ""
    for ch in line {
      if ch == "\"" { inString.toggle() }
      if ch == "#" && !inString { break }
      result.append(ch)
    }
    return result
  }

  public func string(_ key: String) throws -> String? {
    guard let value = self.values[key] else { return nil }
    guard case .string(let s) = value else { throw ParseError(line: 0, reason: "\(key) must be a string") }
    return s
  }

  public func integer(_ key: String) throws -> Int? {
    guard let value = self.values[key] else { return nil }
    guard case .integer(let n) = value else { throw ParseError(line: 0, reason: "\(key) must be an integer") }
    return n
  }

  public func boolean(_ key: String) throws -> Bool? {
    guard let value = self.values[key] else { return nil }
    guard case .boolean(let b) = value else { throw ParseError(line: 0, reason: "\(key) must be true or false") }
    return b
  }
}


