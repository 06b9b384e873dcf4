internal import TOMLKit

/// banjied's configuration file and banjie's connection profiles: TOML 1.0, parsed by TOMLKit
/// (toml++, a C++ library: hence this module, outside the pure BanjieCore). Tables (`[tls]`),
/// dotted keys (`tls.tls13_only = true`) and inline tables are flattened to "table.key"; values
/// are strings, integers, floats and booleans. A syntax error, or a value of another kind (array,
/// date, time), is an error naming its line, so a typo never passes silently.
public struct ConfigurationFile: Sendable {
  public private(set) var values: [String: Value] = [:]
  /// The line each key was written on, for messages; see `line(of:)`.
  public private(set) var lines: [String: Int] = [:]

  public enum Value: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)

    /// For messages: "a string", "an integer", ...
    var kind: String {
      switch self {
      case .string: "a string"
      case .integer: "an integer"
      case .float: "a float"
      case .boolean: "a boolean"
      }
    }
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
    let table: TOMLTable
    do {
      table = try TOMLTable(string: text)
    } catch let error as TOMLParseError {
      // toml++: "Error while parsing key-value pair: expected '=', saw 'l'".
      let message = error.description.prefix(1).lowercased() + error.description.dropFirst()
      throw ParseError(line: error.source.begin.line, reason: "\(message) (column \(error.source.begin.column))")
    }
    let locator = KeyLocator(text)
    var problems: [ParseError] = []
    self.flatten(table, prefix: "", locator: locator, problems: &problems)
    // toml++ orders keys by name; name the earliest mistake in the file.
    if let first = problems.min(by: { ($0.line, $0.reason) < ($1.line, $1.reason) }) {
      throw first
    }
  }

  private mutating func flatten(_ table: TOMLTable, prefix: String, locator: KeyLocator, problems: inout [ParseError]) {
    for (key, value) in table {
      let path = prefix.isEmpty ? key : "\(prefix).\(key)"
      let line = locator.line(of: path)
      let converted: Value?
      switch value.type {
      case .table:
        if let inner = value.table {
          self.flatten(inner, prefix: path, locator: locator, problems: &problems)
        }
        continue
      case .string: converted = value.string.map(Value.string)
      case .int: converted = value.int.map(Value.integer)
      case .double: converted = value.double.map(Value.float)
      case .bool: converted = value.bool.map(Value.boolean)
      default: converted = nil
      }
      guard let converted else {
        let found = "\(value.type)"  // "array", "date", "date-time", ...
        let article = found.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        problems.append(
          ParseError(line: line, reason: "value of \(path) must be a \"string\", a number or true/false, not \(article) \(found)"))
        continue
      }
      self.values[path] = converted
      if line > 0 { self.lines[path] = line }
    }
  }

  /// The line `key` was written on, or 0 when it is not known (then messages name no line).
  public func line(of key: String) -> Int { self.lines[key] ?? 0 }

  public func string(_ key: String) throws -> String? {
    guard let value = self.values[key] else { return nil }
    guard case .string(let s) = value else { throw self.typeError(key, "a string", value) }
    return s
  }

  public func integer(_ key: String) throws -> Int? {
    guard let value = self.values[key] else { return nil }
    guard case .integer(let n) = value else { throw self.typeError(key, "an integer", value) }
    return n
  }

  public func boolean(_ key: String) throws -> Bool? {
    guard let value = self.values[key] else { return nil }
    guard case .boolean(let b) = value else { throw self.typeError(key, "true or false", value) }
    return b
  }

  private func typeError(_ key: String, _ expected: String, _ found: Value) -> ParseError {
    ParseError(line: self.line(of: key), reason: "\(key) must be \(expected), not \(found.kind)")
  }
}

/// Where each key was written, for messages only: TOMLKit reports where a syntax error is but not
/// where a value is. A light scan that knows table headers, dotted and quoted keys, strings
/// (multi-line too), comments and arrays spanning lines. It runs only on text toml++ accepted and
/// decides nothing: a key it cannot place gets its nearest enclosing table's line, or none.
struct KeyLocator {
  private var lines: [String: Int] = [:]

  init(_ text: String) {
    var scan = Scan(bytes: Array(text.utf8))
    var table: [String] = []
    while let byte = scan.peek() {
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        scan.index += 1
      case UInt8(ascii: "\n"):
        scan.index += 1
        scan.line += 1
      case UInt8(ascii: "#"):
        scan.skipToEndOfLine()
      case UInt8(ascii: "["):
        let line = scan.line
        scan.index += scan.peek(offset: 1) == UInt8(ascii: "[") ? 2 : 1
        if let parts = scan.readKey() {
          table = parts
          self.record(parts, line: line)
        }
        scan.skipToEndOfLine()
      default:
        let line = scan.line
        if let parts = scan.readKey(), scan.peek() == UInt8(ascii: "=") {
          scan.index += 1
          self.record(table + parts, line: line)
          scan.skipValue()
        }
        scan.skipToEndOfLine()
      }
    }
  }

  private mutating func record(_ parts: [String], line: Int) {
    let path = parts.joined(separator: ".")
    if self.lines[path] == nil { self.lines[path] = line }
  }

  /// The line of `path`, else of the nearest enclosing table or inline table; 0 if none.
  func line(of path: String) -> Int {
    var parts = path.split(separator: ".", omittingEmptySubsequences: false)
    while !parts.isEmpty {
      if let line = self.lines[parts.joined(separator: ".")] { return line }
      parts.removeLast()
    }
    return 0
  }

  private struct Scan {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    func peek(offset: Int = 0) -> UInt8? {
      let at = self.index + offset
      return at < self.bytes.count ? self.bytes[at] : nil
    }

    func starts(with delimiter: [UInt8]) -> Bool {
      self.index + delimiter.count <= self.bytes.count && Array(self.bytes[self.index..<(self.index + delimiter.count)]) == delimiter
    }

    mutating func skipBlanks() {
      while let byte = self.peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { self.index += 1 }
    }

    /// Leaves the index on the newline (or at the end).
    mutating func skipToEndOfLine() {
      while let byte = self.peek(), byte != UInt8(ascii: "\n") { self.index += 1 }
    }

    /// `a.b."c d".'e'`, stopping after the blanks that follow; nil if no key starts here.
    mutating func readKey() -> [String]? {
      var parts: [String] = []
      while true {
        self.skipBlanks()
        guard let byte = self.peek() else { return nil }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
          self.index += 1
          var part: [UInt8] = []
          while let next = self.peek(), next != byte, next != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\""), next == UInt8(ascii: "\\"), let escaped = self.peek(offset: 1) {
              part.append(escaped)
              self.index += 2
            } else {
              part.append(next)
              self.index += 1
            }
          }
          guard self.peek() == byte else { return nil }
          self.index += 1
          parts.append(String(decoding: part, as: UTF8.self))
        } else if Self.isBare(byte) {
          let start = self.index
          while let next = self.peek(), Self.isBare(next) { self.index += 1 }
          parts.append(String(decoding: self.bytes[start..<self.index], as: UTF8.self))
        } else {
          return nil
        }
        self.skipBlanks()
        guard self.peek() == UInt8(ascii: ".") else { return parts }
        self.index += 1
      }
    }

    static func isBare(_ byte: UInt8) -> Bool {
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Skips a value: through strings (counting the lines of multi-line ones) and brackets, up to
    /// the end of the line on which it ends. Leaves the index on that newline (or at the end).
    mutating func skipValue() {
      var depth = 0
      while let byte = self.peek() {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
          self.skipString(quote: byte)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
          depth += 1
          self.index += 1
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
          depth = max(0, depth - 1)
          self.index += 1
        case UInt8(ascii: "#"):
          self.skipToEndOfLine()
        case UInt8(ascii: "\n"):
          if depth == 0 { return }
          self.index += 1
          self.line += 1
        default:
          self.index += 1
        }
      }
    }

    private mutating func skipString(quote: UInt8) {
      let triple = [quote, quote, quote]
      let basic = quote == UInt8(ascii: "\"")
      if self.starts(with: triple) {
        self.index += 3
        while self.peek() != nil {
          if self.starts(with: triple) {
            self.index += 3
            // A closing delimiter may carry one or two quotes of the content before it.
            while self.peek() == quote { self.index += 1 }
            return
          }
          if basic, self.peek() == UInt8(ascii: "\\") { self.index += 1 }
          if self.peek() == UInt8(ascii: "\n") { self.line += 1 }
          if self.peek() != nil { self.index += 1 }
        }
        return
      }
      self.index += 1
      while let byte = self.peek(), byte != UInt8(ascii: "\n") {
        self.index += 1
        if byte == quote { return }
        if basic, byte == UInt8(ascii: "\\"), self.peek() != UInt8(ascii: "\n") { self.index += 1 }
      }
    }
  }
}
