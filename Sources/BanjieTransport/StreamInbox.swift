import DequeModule
import Synchronization

/// The inbound side of one stream: the connection's event loop produces, one task consumes.
///
/// Elements are buffered (flow control bounds how many); each element carries the number of
/// bytes it held so that taking it returns that credit to the sender (WINDOW_UPDATE).
final class StreamInbox<Element: Sendable>: AsyncSequence, Sendable {
  private struct State {
    var buffer: Deque<(Element, Int)> = []
    var waiter: CheckedContinuation<Element?, any Error>?
    var end: Result<Void, any Error>?
  }

  private let state = Mutex(State())
  private let onConsume: @Sendable (Int) -> Void

  init(onConsume: @escaping @Sendable (Int) -> Void) {
    self.onConsume = onConsume
  }

  /// Delivers an element; dropped if the inbox has already ended.
  func yield(_ element: Element, credit: Int = 0) {
    let resume: CheckedContinuation<Element?, any Error>? = self.state.withLock { state in
      guard state.end == nil else { return nil }
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.buffer.append((element, credit))
      return nil
    }
    if let resume {
      resume.resume(returning: element)
      if credit > 0 { self.onConsume(credit) }
    }
  }

  /// Ends the sequence after the buffered elements (or at once, with the error, if given).
  func finish(throwing error: (any Error)? = nil) {
    let resume: CheckedContinuation<Element?, any Error>? = self.state.withLock { state in
      guard state.end == nil else { return nil }
      if let error {
        state.end = .failure(error)
        state.buffer.removeAll()
      } else {
        state.end = .success(())
      }
      let waiter = state.waiter
      state.waiter = nil
      return waiter
    }
    if let resume {
      if let error { resume.resume(throwing: error) } else { resume.resume(returning: nil) }
    }
  }

  /// Bytes buffered but not yet taken: returned to the connection window when a stream ends early.
  func discardBuffered() -> Int {
    self.state.withLock { state in
      let bytes = state.buffer.reduce(0) { $0 + $1.1 }
      state.buffer.removeAll()
      return bytes
    }
  }

  private enum Immediate {
    case element(Element, Int)
    case end(Result<Void, any Error>)
    case wait
  }

  fileprivate func next() async throws -> Element? {
    let immediate: Immediate = self.state.withLock { state in
      if let (element, credit) = state.buffer.popFirst() { return .element(element, credit) }
      if let end = state.end { return .end(end) }
      return .wait
    }
    switch immediate {
    case .element(let element, let credit):
      if credit > 0 { self.onConsume(credit) }
      return element
    case .end(let result):
      try result.get()
      return nil
    case .wait:
      break
    }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
        let action: Immediate = self.state.withLock { state in
          if let (element, credit) = state.buffer.popFirst() { return .element(element, credit) }
          if let end = state.end { return .end(end) }
          if Task.isCancelled {
            state.end = .failure(CancellationError())
            return .end(.failure(CancellationError()))
          }
          state.waiter = continuation
          return .wait
        }
        switch action {
        case .element(let element, let credit):
          continuation.resume(returning: element)
          if credit > 0 { self.onConsume(credit) }
        case .end(.success):
          continuation.resume(returning: nil)
        case .end(.failure(let error)):
          continuation.resume(throwing: error)
        case .wait:
          break
        }
      }
    } onCancel: {
      self.finish(throwing: CancellationError())
    }
  }

  struct AsyncIterator: AsyncIteratorProtocol {
    let inbox: StreamInbox<Element>
    mutating func next() async throws -> Element? { try await self.inbox.next() }
  }

  func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inbox: self) }
}
