import Synchronization

/// Fans values out to every subscriber, each through its own `AsyncStream`. A subscriber that
/// falls behind keeps only the newest `bufferLimit` values: the oldest are dropped, and the
/// publisher never waits.
///
/// A subscriber stays registered until it calls `unsubscribe` (which also finishes its stream);
/// ending the iteration of its stream alone does not remove it.
///
/// The server has two: `ServerEnvironment.alerts` (sweeper alerts, up to 1,000 behind) and
/// `ServerEnvironment.changes` (wake-ups for dashboard watchers, where only the latest matters).
public final class Broadcaster<Element: Sendable>: Sendable {
  private struct State {
    var next = 0
    var subscribers: [Int: AsyncStream<Element>.Continuation] = [:]
  }
  private let state = Mutex(State())

  /// How many values a subscriber that is not reading keeps (the newest ones).
  public let bufferLimit: Int

  public init(bufferingNewest bufferLimit: Int) {
    self.bufferLimit = bufferLimit
  }

  /// Registers a subscriber. Pass the id to `unsubscribe` when done with the stream.
  public func subscribe() -> (Int, AsyncStream<Element>) {
    let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingNewest(self.bufferLimit))
    let id = self.state.withLock { state in
      state.next += 1
      state.subscribers[state.next] = continuation
      return state.next
    }
    return (id, stream)
  }

  /// Removes a subscriber and finishes its stream. Unknown ids (already removed) are ignored.
  public func unsubscribe(_ id: Int) {
    let continuation = self.state.withLock { $0.subscribers.removeValue(forKey: id) }
    continuation?.finish()
  }

  public var subscriberCount: Int { self.state.withLock { $0.subscribers.count } }

  /// Hands each value, in order, to every current subscriber.
  public func publish(_ elements: [Element]) {
    let subscribers = self.state.withLock { Array($0.subscribers.values) }
    for subscriber in subscribers {
      for element in elements { subscriber.yield(element) }
    }
  }
}

extension Broadcaster where Element == Void {
  /// Wakes every subscriber: something changed.
  public func signal() {
    self.publish([()])
  }
}
