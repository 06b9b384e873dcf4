/// Where one stream is in its life (docs/PROTOCOL.md §5.3), seen from this side of the
/// connection. "Local" is what we send, "remote" what the peer sends; END_STREAM (or TRAILERS,
/// which end a server's side) closes a direction, RST_STREAM closes both.
///
/// A connection stores a stream from its HEADERS (as `open`, or `halfClosedRemote` when the
/// request HEADERS carry END_STREAM) until it ends; RST_STREAM, TRAILERS and the connection's
/// end forget it at once, so `idle` and `closed` streams are those it does not hold.
enum StreamState: Sendable, Hashable, CaseIterable {
  /// Not opened yet: no HEADERS sent or received.
  case idle
  /// Both directions carry frames.
  case open
  /// We have sent END_STREAM (or TRAILERS); the peer may still send.
  case halfClosedLocal
  /// The peer has sent END_STREAM; we may still send.
  case halfClosedRemote
  /// Both directions ended, or the stream was reset.
  case closed

  /// We may still send MESSAGE frames, response HEADERS or TRAILERS.
  var canSend: Bool { self == .open || self == .halfClosedRemote }
  /// The peer may still send MESSAGE frames.
  var canReceive: Bool { self == .open || self == .halfClosedLocal }

  /// HEADERS went out or came in: the stream opens, or closes its remote side at once when the
  /// request HEADERS carry END_STREAM.
  static func opened(remoteEnded: Bool) -> StreamState { remoteEnded ? .halfClosedRemote : .open }

  /// We end our side (END_STREAM or TRAILERS). Returns the new state.
  @discardableResult
  mutating func closeLocal() -> StreamState {
    switch self {
    case .idle, .open: self = .halfClosedLocal
    case .halfClosedRemote, .closed: self = .closed
    case .halfClosedLocal: break
    }
    return self
  }

  /// The peer ends its side (END_STREAM, or TRAILERS from a server). Returns the new state.
  @discardableResult
  mutating func closeRemote() -> StreamState {
    switch self {
    case .idle, .open: self = .halfClosedRemote
    case .halfClosedLocal, .closed: self = .closed
    case .halfClosedRemote: break
    }
    return self
  }
}
