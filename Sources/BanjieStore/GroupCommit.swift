import Foundation
import GRDB
import Synchronization

/// Group commit (docs/ARCHITECTURE.md, "The write path"). Mutations that arrive while a
/// transaction is running or committing wait in a queue; the writer then takes all of them (up
/// to `maximumBatch`) into the next transaction, each inside its own SAVEPOINT, and commits once.
/// - A mutation that throws rolls back to its savepoint: only its own changes (its rows, its
///   audit row) are undone, and the others of the batch go on. Its caller gets its error.
/// - Every caller is answered only after the shared COMMIT returned (synchronous FULL: durable).
/// - A lone mutation is not delayed: when nothing is running it starts at once. A batch is
///   whatever arrived meanwhile; nothing waits for company.
/// - When the transaction itself fails (disk full, a read-only file, an I/O error at COMMIT),
///   nothing of the batch was written: every caller whose mutation had succeeded gets
///   `GroupCommitFailure`, and the next batch starts with a fresh transaction.
/// The mutations run one after another on GRDB's writer queue, never on the cooperative pool, in
/// the order they were queued: the audit chain is appended in that order, and a mutation sees
/// everything the earlier ones of its batch wrote (so an idempotency key used twice in one batch
/// creates one result).
final class GroupCommit: Sendable {
  /// One queued mutation, its result type erased: `run` executes it inside the open transaction
  /// and returns how to answer its caller once the batch is durable; `fail` answers with an error.
  struct Job: Sendable {
    let run: @Sendable (Database) throws -> @Sendable () -> Void
    let fail: @Sendable (any Error) -> Void
  }

  struct State {
    var queue: [Job] = []
    var draining = false
    /// Figures for tests and benchmarks: batches committed, mutations in them, the largest batch.
    var batches = 0
    var mutations = 0
    var largest = 0
  }

  let pool: DatabasePool
  let maximumBatch: Int
  let state = Mutex(State())

  init(pool: DatabasePool, maximumBatch: Int = 256) {
    precondition(maximumBatch > 0, "a batch holds at least one mutation")
    self.pool = pool
    self.maximumBatch = maximumBatch
  }

  /// Runs `body` in the next shared transaction and returns its result once that transaction
  /// is committed.
  func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      let job = Job(
        run: { db in
          let value = try body(db)
          return { continuation.resume(returning: value) }
        },
        fail: { continuation.resume(throwing: $0) })
      let start = self.state.withLock { state -> Bool in
        state.queue.append(job)
        guard !state.draining else { return false }
        state.draining = true
        return true
      }
      if start {
        self.pool.asyncWriteWithoutTransaction { db in self.drain(db) }
      }
    }
  }

  var figures: (batches: Int, mutations: Int, largest: Int) {
    self.state.withLock { ($0.batches, $0.mutations, $0.largest) }
  }

  /// On the writer queue: batches until the queue is empty.
  private func drain(_ db: Database) {
    while true {
      let batch = self.state.withLock { state -> [Job] in
        let count = min(state.queue.count, self.maximumBatch)
        let batch = Array(state.queue.prefix(count))
        state.queue.removeFirst(count)
        if batch.isEmpty { state.draining = false }
        return batch
      }
      if batch.isEmpty { return }
      let answers = self.commit(batch, db)
      self.state.withLock { state in
        state.batches += 1
        state.mutations += batch.count
        state.largest = max(state.largest, batch.count)
      }
      // Answered after the COMMIT (or the rollback) and outside the lock.
      for answer in answers { answer() }
    }
  }

  /// Runs one batch in one transaction; returns how to answer each caller.
  private func commit(_ batch: [Job], _ db: Database) -> [@Sendable () -> Void] {
    var outcomes: [Result<@Sendable () -> Void, any Error>] = []
    outcomes.reserveCapacity(batch.count)
    do {
      try db.beginTransaction(.immediate)
      for job in batch {
        try db.cachedStatement(sql: "SAVEPOINT mutation").execute()
        do {
          let answer = try job.run(db)
          try db.cachedStatement(sql: "RELEASE SAVEPOINT mutation").execute()
          outcomes.append(.success(answer))
        } catch {
          // SQLite ends the transaction itself on some errors (SQLITE_FULL, SQLITE_IOERR …):
          // then nothing of the batch can be kept.
          guard db.isInsideTransaction else { throw GroupCommitFailure(mutations: batch.count, cause: error) }
          try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT mutation").execute()
          try db.cachedStatement(sql: "RELEASE SAVEPOINT mutation").execute()
          outcomes.append(.failure(error))
        }
      }
      try db.commit()
    } catch {
      if db.isInsideTransaction { try? db.rollback() }
      let failure = error as? GroupCommitFailure ?? GroupCommitFailure(mutations: batch.count, cause: error)
      return batch.indices.map { index in
        let job = batch[index]
        // A mutation refused on its own keeps its own error; the others were not written.
        if index < outcomes.count, case .failure(let own) = outcomes[index] { return { job.fail(own) } }
        return { job.fail(failure) }
      }
    }
    return zip(batch, outcomes).map { job, outcome in
      switch outcome {
      case .success(let answer): return answer
      case .failure(let error): return { job.fail(error) }
      }
    }
  }
}

extension BanjieStore {
  /// Batches committed since the store opened, the mutations in them and the largest batch (for
  /// benchmarks and tests).
  public var groupCommitFigures: (batches: Int, mutations: Int, largest: Int) { self.commits.figures }
}

/// The shared transaction of a batch could not be committed (or was ended by SQLite): none of its
/// mutations was written. The server answers INTERNAL and logs this text.
public struct GroupCommitFailure: Error, CustomStringConvertible {
  public var mutations: Int
  public var cause: any Error
  public var description: String {
    "the database refused the shared transaction of \(self.mutations) mutation(s), none of them was written: \(self.cause)"
  }
}
