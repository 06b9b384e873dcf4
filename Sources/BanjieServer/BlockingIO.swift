import Dispatch

/// File reads (certificates, keys, the revocation file) block their thread; they run on a serial
/// dispatch queue of their caller's, never on an event loop or the cooperative pool's threads.
/// The calling request's `RequestInfo` (its request id and logger) goes along, so log lines from
/// there carry the id too. Database work does not come here: the store's methods are async and
/// run on GRDB's own queues.
func runBlockingIO<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
  let info = RequestInfo.current
  return try await withCheckedThrowingContinuation { continuation in
    queue.async {
      continuation.resume(with: Result { try RequestInfo.$current.withValue(info) { try body() } })
    }
  }
}
