/// An error a clerk can act on, raised by the domain core.
///
/// `kind` is what the RPC layer maps to a gRPC status code; `code` is stable for machines
/// (clients branch on it, so it never changes once shipped); the message is for people.
///
/// The message is not written at the throw site: the site names a template of the server's
/// message catalogue (`ServerMessages`, one table per language) by `messageKey` — the code, or
/// `code#variant` when one code is worded differently at different sites — and passes the
/// values that fill it as `arguments`, in template order. `message` is the English text;
/// `localizedMessage(_:)` is the text in a client's language.
///
/// An error may wrap the error that caused it (`cause`, e.g. a bad date inside a filter): the
/// cause's text, in the same language, fills the placeholder after the last argument. A refusal
/// with several reasons (a calendar import that looks wrong in more than one way) lists them
/// (`reasons`): their texts, joined, fill the placeholder after that.
///
/// `init(kind:code:message:field:)` still takes a finished English message, for texts that come
/// from elsewhere (a client's own parse error); such an error reads the same in every language.
public struct DomainError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The class of failure, one to one with the gRPC status the RPC layer returns.
  public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
    case invalidArgument
    case notFound
    case alreadyExists
    case failedPrecondition
    case permissionDenied
    case aborted
    case resourceExhausted
  }

  public var kind: Kind
  /// Stable, dotted, lower snake case, e.g. `calendar.limit_out_of_range`.
  public var code: String
  /// The catalogue template of the message: `code`, or `code#variant`.
  public var messageKey: String
  /// The values that fill the template's `{0}`, `{1}`… in order.
  public var arguments: [String]
  /// The input field at fault, when there is one (e.g. `workingDays`, `holidays[3]`).
  public var field: String?
  /// A finished English message given without a template (the old initializer).
  private var literalMessage: String?
  /// The error this one wraps: empty, or one element (an array, as a struct cannot hold itself).
  private var causes: [DomainError]
  /// Every reason of a refusal that has several, in order; empty for most errors.
  public private(set) var reasons: [DomainError] = []

  /// An error whose message is the catalogue template `messageKey` (by default the code) filled
  /// with `arguments`, then with the text of `cause` when there is one, then with the texts of
  /// `reasons` joined into one list when there are any.
  public init(
    kind: Kind, code: String, messageKey: String? = nil, arguments: [String] = [], cause: DomainError? = nil,
    reasons: [DomainError] = [], field: String? = nil
  ) {
    self.kind = kind
    self.code = code
    self.messageKey = messageKey ?? code
    self.arguments = arguments
    self.field = field
    self.literalMessage = nil
    self.causes = cause.map { [$0] } ?? []
    self.reasons = reasons
  }

  /// An error with a finished message and no template: every language shows `message` as given.
  public init(kind: Kind, code: String, message: String, field: String? = nil) {
    self.kind = kind
    self.code = code
    self.messageKey = code
    self.arguments = []
    self.field = field
    self.literalMessage = message
    self.causes = []
  }

  /// The wrapped error whose text completes this one's message, if any.
  public var cause: DomainError? {
    get { self.causes.first }
    set { self.causes = newValue.map { [$0] } ?? [] }
  }

  /// The message in English, as logs and tests read it.
  public var message: String { self.localizedMessage(.en) }

  /// The message in `language`: the template of `messageKey` in that language (falling back to
  /// English, then to the key and arguments), or the finished message given without a template.
  public func localizedMessage(_ language: MessageLanguage) -> String {
    if let literal = self.literalMessage { return literal }
    var filling = self.arguments + self.causes.map { $0.localizedMessage(language) }
    if !self.reasons.isEmpty {
      filling.append(self.reasons.map { $0.localizedMessage(language) }.joined(separator: language == .zh ? "；" : "; "))
    }
    if let text = ServerMessages.text(code: self.messageKey, arguments: filling, language: language) { return text }
    if let text = ServerMessages.text(code: self.messageKey, arguments: filling, language: .en) { return text }
    return ([self.messageKey] + filling).joined(separator: ": ")
  }

  public static func invalidArgument(_ code: String, _ message: String, field: String? = nil) -> DomainError {
    DomainError(kind: .invalidArgument, code: code, message: message, field: field)
  }

  public static func failedPrecondition(_ code: String, _ message: String, field: String? = nil) -> DomainError {
    DomainError(kind: .failedPrecondition, code: code, message: message, field: field)
  }

  public static func invalidArgument(
    _ code: String, messageKey: String? = nil, arguments: [String] = [], cause: DomainError? = nil, field: String? = nil
  ) -> DomainError {
    DomainError(kind: .invalidArgument, code: code, messageKey: messageKey, arguments: arguments, cause: cause, field: field)
  }

  public static func failedPrecondition(
    _ code: String, messageKey: String? = nil, arguments: [String] = [], cause: DomainError? = nil, field: String? = nil
  ) -> DomainError {
    DomainError(kind: .failedPrecondition, code: code, messageKey: messageKey, arguments: arguments, cause: cause, field: field)
  }

  /// The same error naming another field (e.g. an element of a list).
  public func at(field: String?) -> DomainError {
    var copy = self
    copy.field = field
    return copy
  }

  // Two errors are equal when a client sees the same: kind, code, English message and field,
  // however the message was produced.
  public static func == (lhs: DomainError, rhs: DomainError) -> Bool {
    lhs.kind == rhs.kind && lhs.code == rhs.code && lhs.field == rhs.field && lhs.message == rhs.message
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(self.kind)
    hasher.combine(self.code)
    hasher.combine(self.field)
    hasher.combine(self.message)
  }

  public var description: String {
    if let field {
      return "\(kind.rawValue) [\(code)] \(field): \(message)"
    }
    return "\(kind.rawValue) [\(code)] \(message)"
  }
}
