import BanjieStore
import Dispatch

/// SQLite calls and file reads block their thread; they run on a dispatch queue, never on an
/// event loop or the cooperative pool's threads. The calling request's `RequestInfo` (its
/// request id, idempotency key and logger) goes along, so log lines from there carry the id too.
func runBlocking<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
  let info = RequestInfo.current
  return try await withCheckedThrowingContinuation { continuation in
    queue.async {
      continuation.resume(with: Result { try RequestInfo.$current.withValue(info) { try body() } })
    }
  }
}

extension BanjieStore {
  private static let queue = DispatchQueue(label: "banjie.store", attributes: .concurrent)

  func runBlocking<T: Sendable>(_ body: @escaping @Sendable (BanjieStore) throws -> T) async throws -> T {
    try await BanjieServer.runBlocking(on: Self.queue) { try body(self) }
  }
}
