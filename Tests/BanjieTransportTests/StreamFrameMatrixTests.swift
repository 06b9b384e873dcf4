import BanjieWire
import GRPCCore
import NIOCore
import Testing

@testable import BanjieTransport

/// Where stream 1 is when the frame arrives. A server forgets a stream when its TRAILERS go
/// out, so its half-closed (local) stream is the closed one; a client's closed stream has
/// received its TRAILERS.
enum MatrixState: String, Sendable, CaseIterable {
  case idle, open, halfClosedLocal, halfClosedRemote, closed
}

/// Every frame type, on stream 1 where it has one.
enum MatrixFrame: String, Sendable, CaseIterable {
  case settings, headers, message, trailers, rstStream, windowUpdate, ping, goAway, unknown, malformed

  var frame: Frame {
    switch self {
    case .settings: return .settings(ack: false, [])
    case .headers: return .headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false)
    case .message: return .message(streamID: 1, ByteBuffer(bytes: [0x0A, 0x01, 0x41]), endMessage: true, endStream: false)
    case .trailers: return .trailers(streamID: 1, TrailersPayload(code: 0))
    case .rstStream: return .rstStream(streamID: 1, code: UInt32(WireStatus.cancelled), message: "")
    case .windowUpdate: return .windowUpdate(streamID: 1, increment: 100)
    case .ping: return .ping(ack: false, opaque: 7)
    case .goAway: return .goAway(lastStreamID: 1, code: .noError, message: "bye")
    case .unknown: return .unknown(type: 0x42, flags: 0, streamID: 1, payload: ByteBuffer())
    case .malformed: return .malformed(streamID: 1, .stream(1, statusCode: WireStatus.internalError, "malformed HEADERS: x"))
    }
  }
}

/// What a frame did, as the connection would show it.
enum MatrixOutcome: Equatable, CustomStringConvertible {
  /// GOAWAY with this code, then close (docs/PROTOCOL.md §12, connection errors).
  case connectionError(GoAwayCode)
  /// RST_STREAM on stream 1 with this status code.
  case reset(UInt8)
  /// SETTINGS or PING acknowledged.
  case acknowledged
  /// Server: a new stream handed to a handler.
  case accepted
  /// Metadata, a message or the end of the requests handed to the stream's consumer.
  case delivered
  /// The stream ended without our RST_STREAM (the peer's TRAILERS or RST_STREAM).
  case ended
  /// The connection takes no new streams.
  case goingAway
  /// Nothing written, delivered or changed.
  case ignored

  var description: String {
    switch self {
    case .connectionError(let code): return "GOAWAY \(code)"
    case .reset(let code): return "RST_STREAM \(code)"
    case .acknowledged: return "ack"
    case .accepted: return "accepted"
    case .delivered: return "delivered"
    case .ended: return "ended"
    case .goingAway: return "going away"
    case .ignored: return "ignored"
    }
  }
}

struct MatrixCase: Sendable, CustomTestStringConvertible {
  var role: ConnectionRole
  var state: MatrixState
  var frame: MatrixFrame
  var testDescription: String { "\(self.role) \(self.state) ← \(self.frame)" }
}

@Suite("Every frame type in every stream state, for both roles, without sockets")
struct StreamFrameMatrixTests {
  static let cases: [MatrixCase] = ConnectionRole.allCases.flatMap { role in
    MatrixState.allCases.flatMap { state in MatrixFrame.allCases.map { MatrixCase(role: role, state: state, frame: $0) } }
  }

  /// docs/PROTOCOL.md §5 and §12, as a table.
  static func expected(_ c: MatrixCase) -> MatrixOutcome {
    switch c.frame {
    case .settings, .ping: return .acknowledged
    case .goAway: return .goingAway
    case .unknown, .windowUpdate: return .ignored
    default: break
    }
    // A server's stream is forgotten when its TRAILERS go: half-closed (local) is closed.
    let state = c.role == .server && c.state == .halfClosedLocal ? .closed : c.state
    switch (c.role, state, c.frame) {
    // Server.
    case (.server, .idle, .headers): return .accepted
    case (.server, .idle, .message): return .connectionError(.protocolError)  // MESSAGE above every id opened
    case (.server, _, .trailers): return .reset(WireStatus.internalError)  // TRAILERS from a client
    case (.server, .idle, .rstStream), (.server, .closed, .rstStream): return .ignored
    case (.server, .idle, .malformed), (.server, .closed, .malformed): return .reset(WireStatus.internalError)
    case (.server, .open, .headers), (.server, .halfClosedRemote, .headers): return .reset(WireStatus.internalError)  // second HEADERS
    case (.server, .open, .message): return .delivered
    case (.server, .halfClosedRemote, .message): return .reset(WireStatus.internalError)  // MESSAGE after END_STREAM
    case (.server, _, .rstStream): return .ended
    case (.server, _, .malformed): return .reset(WireStatus.internalError)
    case (.server, .closed, .headers): return .connectionError(.protocolError)  // stream id reused
    case (.server, .closed, .message): return .ignored  // credited to the connection
    // Client.
    case (.client, .idle, .headers), (.client, .idle, .message), (.client, .idle, .trailers), (.client, .idle, .malformed):
      return .connectionError(.protocolError)  // a stream it never opened
    case (.client, .idle, .rstStream): return .ignored
    case (.client, .closed, .malformed): return .reset(WireStatus.internalError)
    case (.client, .closed, _): return .ignored
    case (.client, _, .headers): return .delivered
    case (.client, .halfClosedRemote, .message): return .reset(WireStatus.internalError)
    case (.client, _, .message): return .delivered
    case (.client, _, .trailers), (.client, _, .rstStream): return .ended
    case (.client, _, .malformed): return .reset(WireStatus.internalError)
    default: return .ignored
    }
  }

  /// A machine with stream 1 in `state`.
  static func machine(_ role: ConnectionRole, _ state: MatrixState) throws -> TestMachine {
    var machine = TestMachine.started(role)
    switch (role, state) {
    case (_, .idle):
      break
    case (.server, .open):
      _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
    case (.server, .halfClosedRemote):
      _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: true))
    case (.server, .halfClosedLocal), (.server, .closed):
      _ = machine.receive(.headers(streamID: 1, HeadersPayload(path: echoPath), endStream: false))
      _ = machine.writeTrailers(streamID: 1, TrailersPayload(code: 0))
    case (.client, .open):
      let streamID = machine.openClientStream()
      #expect(streamID == 1)
    case (.client, .halfClosedLocal):
      let streamID2 = machine.openClientStream()
      #expect(streamID2 == 1)
      _ = machine.writeEndStream(streamID: 1)
    case (.client, .halfClosedRemote):
      let streamID3 = machine.openClientStream()
      #expect(streamID3 == 1)
      _ = machine.receive(.message(streamID: 1, ByteBuffer(), endMessage: true, endStream: true))
    case (.client, .closed):
      let streamID4 = machine.openClientStream()
      #expect(streamID4 == 1)
      _ = machine.receive(.trailers(streamID: 1, TrailersPayload(code: 0)))
    }
    _ = machine.written()
    let expectedState: StreamState? =
      switch state {
      case .idle, .closed: nil
      case .open: .open
      case .halfClosedLocal: role == .server ? nil : .halfClosedLocal
      case .halfClosedRemote: .halfClosedRemote
      }
    #expect(machine.streams[1]?.state == expectedState)
    return machine
  }

  static func outcome(_ actions: TestActions, written: [Frame]) -> MatrixOutcome {
    if let error = actions.connectionError {
      guard case .connection(let code, _) = error else { return .ignored }
      return .connectionError(code)
    }
    if let reset = written.resets.first(where: { $0.0 == 1 }) { return .reset(UInt8(reset.1)) }
    if written.contains(where: { if case .settings(true, _) = $0 { return true } else { return false } })
      || written.contains(where: { if case .ping(true, _) = $0 { return true } else { return false } })
    {
      return .acknowledged
    }
    if !actions.accepted.isEmpty { return .accepted }
    if !actions.ended.isEmpty { return .ended }
    if actions.deliveries > 0 { return .delivered }
    if actions.unusable { return .goingAway }
    return .ignored
  }

  @Test("the frame has the reaction docs/PROTOCOL.md names", arguments: Self.cases)
  func reaction(_ c: MatrixCase) throws {
    var machine = try Self.machine(c.role, c.state)
    let actions = machine.receive(c.frame.frame)
    let written = machine.written()
    let outcome = Self.outcome(actions, written: written)
    #expect(outcome == Self.expected(c), "\(c.testDescription): \(written)")
    // A stream error or an end forgets the stream; a connection error leaves the connection to close it.
    switch outcome {
    case .reset, .ended: #expect(machine.streams[1] == nil)
    case .connectionError: #expect(actions.effects.allSatisfy { if case .write = $0 { return false } else { return true } })
    default: break
    }
  }

  @Test("a peer's TRAILERS end a client's call with their status and metadata, after the response")
  func clientTrailers() throws {
    var machine = TestMachine.started(.client)
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    let headers = machine.receive(.headers(streamID: 1, HeadersPayload(), endStream: false))
    #expect(headers.deliveries == 1)
    let message = machine.receive(.message(streamID: 1, ByteBuffer(bytes: [1, 2]), endMessage: true, endStream: false))
    #expect(message.deliveries == 1)
    let trailers = machine.receive(.trailers(streamID: 1, TrailersPayload(code: 5, message: "no such case", details: [1])))
    let ended = try #require(trailers.ended.first)
    guard case .trailers(let status, let metadata) = ended.reason else {
      Issue.record("ended \(ended.reason)")
      return
    }
    #expect(status.code == .notFound)
    #expect(status.message == "no such case")
    #expect(metadata[binaryValues: "grpc-status-details-bin"].map { Array($0) } == [[1]])
  }

  @Test(
    "RST_STREAM from the peer maps its code to the stream's error: 1–16 as is, 0 and above 16 UNKNOWN",
    arguments: [
      (UInt32(0), RPCError.Code.unknown), (1, .cancelled), (8, .resourceExhausted), (14, .unavailable), (16, .unauthenticated),
      (17, .unknown), (400, .unknown),
    ])
  func resetCodes(_ code: UInt32, _ expected: RPCError.Code) throws {
    var machine = TestMachine.started(.client)
    let streamID = machine.openClientStream()
    #expect(streamID == 1)
    let actions = machine.receive(.rstStream(streamID: 1, code: code, message: ""))
    let ended = try #require(actions.ended.first)
    #expect(ended.error?.code == expected)
    #expect(ended.error?.message == "stream reset by peer")
    #expect(!ended.remoteEnded, "the caller has no status yet: the connection gives it one")
  }
}
