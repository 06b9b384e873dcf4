public import Logging

/// Makes text safe for banjied's line-oriented log (one line per event, `key=value` metadata):
/// a newline or a terminal escape sequence in something a peer sent (a certificate's CN, a case
/// number, a GOAWAY reason, an error message quoting input) cannot start a line of its own or
/// repaint an operator's terminal.
///
/// The rules, per Unicode scalar:
/// - `\` becomes `\\`, so an escape in the log is always ours and the text can be read back;
/// - newline, carriage return and tab become `\n`, `\r` and `\t`;
/// - every other control character (general category Cc: U+0000–U+001F, U+007F–U+009F, which
///   includes ESC, NUL, DEL and NEL), the line and paragraph separators U+2028 and U+2029, and
///   the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, which can
///   make a line read differently from what it holds) become `\u{XX}`: upper-case hex, at least
///   two digits (`\u{1B}`, `\u{00}`, `\u{2028}`);
/// - everything else, Chinese included, is left as it is.
///
/// A value longer than `limit` Unicode scalars (4,096 by default) is cut there and ends with
/// `…[truncated, N bytes]` (N: the UTF-8 length of the whole value), so one field cannot flood a
/// line. The limit is generous because `EscapingLogHandler` applies it to every value, the
/// details of unexpected errors (SQL statements included) among them; what peers send seldom
/// comes near it (errors quote at most 64 characters of a case number, headers are at most 8 KiB).
///
/// Lives in BanjieTransport, the lowest module that logs (BanjieTLS and BanjieWire do not):
/// BanjieServer and banjied use the same rules.
public enum LogEscaping {
  /// The most Unicode scalars of one value that reach the log.
  public static let defaultLimit = 4096

  /// `text` with the rules above applied.
  public static func escape(_ text: String, limit: Int = LogEscaping.defaultLimit) -> String {
    // Most values need nothing: answer without copying.
    if text.utf8.count <= limit, !text.unicodeScalars.contains(where: Self.needsEscaping) { return text }
    var escaped = ""
    escaped.reserveCapacity(min(text.utf8.count, max(limit, 0)) + 32)
    var taken = 0
    for scalar in text.unicodeScalars {
      guard taken < limit else {
        escaped += "…[truncated, \(text.utf8.count) bytes]"
        break
      }
      taken += 1
      switch scalar {
      case "\\": escaped += "\\\\"
      case "\n": escaped += "\\n"
      case "\r": escaped += "\\r"
      case "\t": escaped += "\\t"
      default:
        if Self.needsEscaping(scalar) {
          let hex = String(scalar.value, radix: 16, uppercase: true)
          escaped += "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
        } else {
          escaped.unicodeScalars.append(scalar)
        }
      }
    }
    return escaped
  }

  /// Whether `scalar` is written as an escape.
  static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x5C, 0x00...0x1F, 0x7F...0x9F: true
    case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
  }

  /// A metadata value with every string in it escaped (nested dictionaries' keys included);
  /// string-convertible values become their escaped description, keeping their attributes.
  public static func escapeValue(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
    switch value {
    case .string(let text):
      return .string(Self.quoted(Self.escape(text)))
    case .stringConvertible(let convertible):
      var escaped = Logger.Metadata.Value.string(Self.quoted(Self.escape(convertible.description)))
      let attributes = value.attributes
      if attributes != Logger.MetadataValueAttributes() { escaped.attributes = attributes }
      return escaped
    case .dictionary(let dictionary):
      return .dictionary(Self.escapeMetadata(dictionary))
    case .array(let items):
      return .array(items.map { Self.escapeValue($0) })
    }
  }

  /// An escaped value in double quotes (its own `"` as `\"`) when it holds a space, `=` or `"`,
  /// so that `key=value` lines cannot be given a field of the peer's making (a CN such as
  /// `x request.id=1`); other values as they are.
  static func quoted(_ escaped: String) -> String {
    guard escaped.utf8.contains(where: { $0 == 0x20 || $0 == 0x3D || $0 == 0x22 }) else { return escaped }
    return "\"" + escaped.replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  /// Metadata with every key and value escaped.
  public static func escapeMetadata(_ metadata: Logger.Metadata) -> Logger.Metadata {
    var escaped = Logger.Metadata(minimumCapacity: metadata.count)
    for (key, value) in metadata { escaped[Self.escape(key)] = Self.escapeValue(value) }
    return escaped
  }
}

/// A `LogHandler` that escapes (`LogEscaping`) the message and every metadata key and value of
/// each event (the logger's own metadata, its metadata provider's, the event's, and the event's
/// error as `error.message` / `error.type`, as swift-log's `StreamLogHandler` writes it) before
/// handing it to the handler it wraps. It keeps the metadata and the provider itself and escapes
/// at log time, so metadata read back and set again is never escaped twice.
///
/// banjied wraps the handler it bootstraps swift-log with; `BanjieServerApp`, `ServerEnvironment`,
/// `RequestInterceptor` and both transports wrap the loggers they are given
/// (`Logger.escapingValues()`, which leaves an already escaping logger alone), so every line the
/// server writes is escaped exactly once.
public struct EscapingLogHandler: LogHandler {
  /// The handler that writes; its own metadata and provider moved here when wrapped.
  public private(set) var wrapped: any LogHandler
  public var metadata: Logger.Metadata
  public var metadataProvider: Logger.MetadataProvider?

  public var logLevel: Logger.Level {
    get { self.wrapped.logLevel }
    set { self.wrapped.logLevel = newValue }
  }

  /// Wraps `handler`, or returns it unchanged when it already escapes.
  public init(wrapping handler: any LogHandler) {
    if let already = handler as? EscapingLogHandler {
      self = already
      return
    }
    var inner = handler
    self.metadata = inner.metadata
    self.metadataProvider = inner.metadataProvider
    // Only when set: the protocol's default setter complains about handlers without providers.
    if inner.metadataProvider != nil { inner.metadataProvider = nil }
    if !inner.metadata.isEmpty { inner.metadata = [:] }
    self.wrapped = inner
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { self.metadata[key] }
    set { self.metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var merged = self.metadata
    if let provided = self.metadataProvider?.get(), !provided.isEmpty {
      merged.merge(provided) { _, provided in provided }
    }
    if let explicit = event.metadata, !explicit.isEmpty {
      merged.merge(explicit) { _, explicit in explicit }
    }
    if let error = event.error {
      merged["error.message"] = "\(error)"
      merged["error.type"] = "\(String(reflecting: type(of: error)))"
    }
    var escaped = event
    escaped.message = Logger.Message(stringLiteral: LogEscaping.escape(event.message.description))
    escaped.metadata = merged.isEmpty ? nil : LogEscaping.escapeMetadata(merged)
    escaped.error = nil
    self.wrapped.log(event: escaped)
  }
}

extension Logger {
  /// This logger writing through an `EscapingLogHandler`; itself when it already does.
  public func escapingValues() -> Logger {
    guard !(self.handler is EscapingLogHandler) else { return self }
    var logger = self
    logger.handler = EscapingLogHandler(wrapping: self.handler)
    return logger
  }
}
