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
///   `GroupCommitFailure`, the mutation whose error ended the transaction gets its own error,
///   those after it (never run) go first into the next batch, which starts with a fresh
///   transaction.
/// - One batch per turn on GRDB's writer queue: work queued on the pool itself (a calendar
///   import, a settings change, a sweep) runs between two batches, never behind an endless one.
/// - A caller cancelled before its mutation ran gets CancellationError, and nothing is written.
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
  /// is committed. A caller cancelled before its mutation started gets CancellationError and
  /// nothing is written for it (a started mutation finishes: its commit is shared).
  func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
    let cancellation = Cancellation()
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let job = Job(
          run: { db in
            guard !cancellation.cancelled.load(ordering: .acquiring) else { throw CancellationError() }
            let value = try body(db)
            return { continuation.resume(returning: value) }
          },
          fail: { continuation.resume(throwing: $0) })
        self.enqueue([job], atFront: false)
      }
    } onCancel: {
      cancellation.cancelled.store(true, ordering: .releasing)
    }
  }

  final class Cancellation: Sendable {
    let cancelled = Atomic<Bool>(false)
  }

  var figures: (batches: Int, mutations: Int, largest: Int) {
    self.state.withLock { ($0.batches, $0.mutations, $0.largest) }
  }

  private func enqueue(_ jobs: [Job], atFront: Bool) {
    let start = self.state.withLock { state -> Bool in
      if atFront { state.queue.insert(contentsOf: jobs, at: 0) } else { state.queue.append(contentsOf: jobs) }
      guard !state.draining else { return false }
      state.draining = true
      return true
    }
    if start { self.scheduleTurn() }
  }

  private func scheduleTurn() {
    self.pool.asyncWriteWithoutTransaction { db in self.turn(db) }
  }

  /// One batch per turn on the writer queue, then the writer is given back: whatever else waits
  /// for it (a calendar import, a settings change, a sweep on the pool) runs between batches.
  private func turn(_ db: Database) {
    let batch = self.state.withLock { state -> [Job] in
      let count = min(state.queue.count, self.maximumBatch)
      let batch = Array(state.queue.prefix(count))
      state.queue.removeFirst(count)
      if batch.isEmpty { state.draining = false }
      return batch
    }
    if batch.isEmpty { return }
    let (answers, notRun) = self.commit(batch, db)
    let more = self.state.withLock { state -> Bool in
      state.batches += 1
      state.mutations += batch.count - notRun.count
      state.largest = max(state.largest, batch.count - notRun.count)
      // Mutations that never ran (their batch ended before them) go first in the next one.
      state.queue.insert(contentsOf: notRun, at: 0)
      if state.queue.isEmpty {
        state.draining = false
        return false
      }
      return true
    }
    // Answered after the COMMIT (or the rollback) and outside the lock.
    for answer in answers { answer() }
    if more { self.scheduleTurn() }
  }

  /// Runs one batch in one transaction; returns how to answer each caller that ran, and the
  /// mutations that did not run because the transaction ended before them.
  private func commit(_ batch: [Job], _ db: Database) -> (answers: [@Sendable () -> Void], notRun: [Job]) {
    var outcomes: [Result<@Sendable () -> Void, any Error>] = []
    outcomes.reserveCapacity(batch.count)
    // The mutation whose error ended the transaction (SQLite ends it itself on SQLITE_FULL,
    // SQLITE_IOERR …): it gets its own error; those before it were not written.
    var culprit: (index: Int, error: any Error)?
    do {
      try db.beginTransaction(.immediate)
      for (index, job) in batch.enumerated() {
        try db.cachedStatement(sql: "SAVEPOINT mutation").execute()
        do {
          let answer = try job.run(db)
          try db.cachedStatement(sql: "RELEASE SAVEPOINT mutation").execute()
          outcomes.append(.success(answer))
        } catch {
          guard db.isInsideTransaction else {
            culprit = (index, error)
            throw GroupCommitFailure(mutations: index + 1, cause: error)
          }
          try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT mutation").execute()
          try db.cachedStatement(sql: "RELEASE SAVEPOINT mutation").execute()
          outcomes.append(.failure(error))
        }
      }
      try db.commit()
    } catch {
      if db.isInsideTransaction { try? db.rollback() }
      // Without a culprit (BEGIN or COMMIT failed) every mutation of the batch fails with it.
      let ran = culprit.map { $0.index + 1 } ?? batch.count
      let failure =
        error as? GroupCommitFailure ?? GroupCommitFailure(mutations: ran, cause: error)
      var answers: [@Sendable () -> Void] = []
      for index in 0..<ran {
        let job = batch[index]
        if let culprit, culprit.index == index {
          let own = culprit.error
          answers.append { job.fail(own) }
        } else if index < outcomes.count, case .failure(let own) = outcomes[index] {
          // A mutation refused on its own keeps its own error.
          answers.append { job.fail(own) }
        } else {
          answers.append { job.fail(failure) }
        }
      }
      return (answers, Array(batch[ran...]))
    }
    let answers = zip(batch, outcomes).map { job, outcome -> @Sendable () -> Void in
      switch outcome {
      case .success(let answer): return answer
      case .failure(let error): return { job.fail(error) }
      }
    }
    return (answers, [])
  }
}

extension BanjieStore {
  /// Batches committed since the store opened, the mutations in them and the largest batch (for
  /// benchmarks and tests); zeros on PostgreSQL, whose mutations are not batched yet.
  public var groupCommitFigures: (batches: Int, mutations: Int, largest: Int) {
    guard case .sqlite(_, let commits) = self.engine else { return (0, 0, 0) }
    return commits.figures
  }
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
