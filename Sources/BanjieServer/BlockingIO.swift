import BanjieStore
import Dispatch

/// SQLite calls block their thread; they run on a dispatch queue, never on an event loop or
/// the cooperative pool's threads.
extension BanjieStore {
  private static let queue = DispatchQueue(label: "banjie.store", attributes: .concurrent)

  func runBlocking<T: Sendable>(_ body: @escaping @Sendable (BanjieStore) throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      Self.queue.async {
        continuation.resume(with: Result { try body(self) })
      }
    }
  }
}
