public import NIOCore
import Synchronization

/// The address a listening socket was bound to, for callers that start a listener and need its
/// port (port 0 picks a free one): `value` waits until the listener has bound or has given up.
/// Shared by `BanjieServerTransport` and banjied's metrics endpoint.
public final class ListenerAddress: Sendable {
  private struct State {
    var address: SocketAddress?
    /// Bound, failed to bind, or stopped listening: nobody waits any more.
    var settled = false
    var waiters: [CheckedContinuation<SocketAddress?, Never>] = []
  }
  private let state = Mutex(State())

  public init() {}

  /// The bound address once listening; nil if binding failed (or the listener ended first).
  /// After the listener stops, the address it had is still returned.
  public var value: SocketAddress? {
    get async {
      await withCheckedContinuation { continuation in
        let now: SocketAddress?? = self.state.withLock { state in
          if state.settled { return .some(state.address) }
          state.waiters.append(continuation)
          return .none
        }
        if let now { continuation.resume(returning: now) }
      }
    }
  }

  /// The listener is bound to `address` (a channel's `localAddress`): wakes the waiters.
  public func bound(to address: SocketAddress?) {
    self.settle(address)
  }

  /// The listener failed to bind or has stopped: wakes the waiters (with nil if it never bound).
  /// An address recorded by `bound(to:)` is kept.
  public func ended() {
    self.settle(nil)
  }

  private func settle(_ address: SocketAddress?) {
    let (waiters, current) = self.state.withLock { state in
      if let address { state.address = address }
      state.settled = true
      let waiters = state.waiters
      state.waiters = []
      return (waiters, state.address)
    }
    for waiter in waiters { waiter.resume(returning: current) }
  }
}
