import BanjieWire
import GRPCCore
import NIOCore

@testable import BanjieTransport

/// Stands for a suspended task in state-machine tests: resumed or failed by an action.
struct TestWaiter: Sendable, Hashable {
  var id: Int
}

typealias TestMachine = ConnectionStateMachine<TestWaiter>
typealias TestActions = ConnectionActions<TestWaiter>

/// A fixed clock for the machine: tests pass times, never read one.
let machineEpoch = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

let echoPath = "/banjie.v1.EchoService/Get"

extension ConnectionStateMachine where Waiter == TestWaiter {
  /// A machine whose preface and SETTINGS went out and whose peer's SETTINGS (`peer`) arrived;
  /// nothing pending.
  static func started(_ role: ConnectionRole, config: TransportConfig = TransportConfig(), peer: [Setting] = []) -> TestMachine {
    var machine = TestMachine(role: role, config: config)
    _ = machine.start()
    _ = machine.receive(.settings(ack: false, peer))
    _ = machine.drain()
    return machine
  }

  /// Receives a frame at `now`; server streams get inboxes that nothing reads.
  mutating func receive(_ frame: Frame, at now: NIODeadline = machineEpoch) -> TestActions {
    self.receive(frame, now: now) { _ in StreamInbox { _ in } }
  }

  /// Frames written by the next drain (none if nothing is pending).
  mutating func written() -> [Frame] {
    var frames: [Frame] = []
    for effect in self.drain().effects {
      guard case .write(var buffer) = effect else { continue }
      let decoder = FrameDecoder()
      while let frame = try? decoder.decodeFrame(from: &buffer) { frames.append(frame) }
    }
    return frames
  }

  /// Client: reserves a slot and opens a stream; returns its id.
  mutating func openClientStream() -> UInt32? {
    guard case .reserved = self.requestSlot() else { return nil }
    let (result, _) = self.openStream(
      HeadersPayload(path: echoPath), inbox: StreamInbox<RPCResponsePart<BanjieBytes>> { _ in }, now: machineEpoch)
    return try? result.get()
  }
}

extension ConnectionActions where Waiter == TestWaiter {
  var resumed: [TestWaiter] {
    self.effects.compactMap { if case .resume(let waiter) = $0 { return waiter } else { return nil } }
  }
  var failed: [(TestWaiter, any Error)] {
    self.effects.compactMap { if case .fail(let waiter, let error) = $0 { return (waiter, error) } else { return nil } }
  }
  var ended: [EndedStream<TestWaiter>] {
    self.effects.compactMap { if case .streamEnded(let ended) = $0 { return ended } else { return nil } }
  }
  var accepted: [UInt32] {
    self.effects.compactMap { if case .accepted(let id, _, _, _) = $0 { return id } else { return nil } }
  }
  var deliveries: Int {
    self.effects.filter {
      switch $0 {
      case .message, .responseMetadata, .requestsEnded: return true
      default: return false
      }
    }.count
  }
  var deadlines: [(UInt32, UInt64)] {
    self.effects.compactMap { if case .armDeadline(let id, let timeout) = $0 { return (id, timeout) } else { return nil } }
  }
  var connectionFailures: [WireError] {
    self.effects.compactMap { if case .failConnection(let error) = $0 { return error } else { return nil } }
  }
  var armsShutdownTimer: Bool {
    self.effects.contains { if case .armShutdownTimer = $0 { return true } else { return false } }
  }
}

extension EndedStream {
  /// The error a failed stream ended with, if it failed.
  var error: RPCError? {
    if case .failed(let error) = self.reason { return error }
    return nil
  }
}

extension Array where Element == Frame {
  /// RST_STREAMs written: stream, code, reason.
  var resets: [(UInt32, UInt32, String)] {
    self.compactMap { if case .rstStream(let id, let code, let message) = $0 { return (id, code, message) } else { return nil } }
  }
  var goAways: [(UInt32, GoAwayCode, String)] {
    self.compactMap { if case .goAway(let last, let code, let message) = $0 { return (last, code, message) } else { return nil } }
  }
  var windowUpdates: [(UInt32, UInt32)] {
    self.compactMap { if case .windowUpdate(let id, let increment) = $0 { return (id, increment) } else { return nil } }
  }
  var messages: [(UInt32, Int, Bool, Bool)] {
    self.compactMap {
      if case .message(let id, let bytes, let endMessage, let endStream) = $0 {
        return (id, bytes.readableBytes, endMessage, endStream)
      }
      return nil
    }
  }
}
