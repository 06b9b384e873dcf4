import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import Logging
import Synchronization

/// Four mutating RPCs through the real, assembled server (in this process, on 127.0.0.1 port 0,
/// over mutual TLS), each with many callers at once on one connection and a fresh
/// `idempotency-key` on every call: AcceptCase and CompleteCase (a clerk of SCJGJ), RateCase (the
/// enterprise of the cases, level 5) and RecordVisit (the enterprise's liaison official, 暖企行动).
/// Each is measured against the same peer as `submit`: what SQLite itself can commit with the same
/// durability, one comparable row per transaction, WAL and synchronous=FULL, measured in the same
/// run just before the RPC's turn, in a database of its own opened as banjied opens its own.
///
/// Every case is accepted, completed or rated once: the cases are prepared (submitted, and
/// accepted or completed as the RPC needs) before the RPC's turn, untimed, and the callers take
/// them from a shared pool. Warm-up calls take cases from the same pool. A turn whose pool runs
/// dry ends early; its rate is then over the time until the last caller stopped.
struct MutationBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mutations",
    abstract:
      "AcceptCase, CompleteCase, RateCase and RecordVisit throughput and latency under concurrent callers vs SQLite's one-row-per-transaction ceiling."
  )

  @Option(help: "Measured seconds per RPC.") var seconds: Double = 10
  @Option(help: "Warm-up seconds before each turn (not recorded; warm-up calls use cases of the pool too).") var warmup: Double = 2
  @Option(help: "Concurrent callers per RPC, all on one connection.") var concurrency: Int = 64
  @Option(
    help:
      "Cases prepared per case RPC, for the warm-up and the measured turn together (default: 3,500 per second of warm-up and measured time)."
  ) var pool: Int?
  @Option(help: "RPCs to measure, comma-separated: accept, complete, rate, visit.") var only: String = "accept,complete,rate,visit"
  @Option(help: "Directory for the databases (default: the temporary directory; same file system for both).") var directory: String?
  @Option(help: "The catalog to import (default: catalog/sample-county.json of the root package).") var catalog: String?
  @Option(help: "Service item of the prepared cases (the clerk is from SCJGJ).") var item: String = "SCJGJ-002"

  /// The RPCs `--only` names, in the order they are measured.
  func selected() throws -> [MutationRPC] {
    var chosen: Set<MutationRPC> = []
    for part in self.only.split(separator: ",") {
      let name = part.trimmingCharacters(in: .whitespaces).lowercased()
      if name.isEmpty { continue }
      guard let rpc = MutationRPC(rawValue: name) else {
        throw ValidationError("--only: unknown RPC '\(name)'; choose from accept, complete, rate, visit")
      }
      chosen.insert(rpc)
    }
    guard !chosen.isEmpty else { throw ValidationError("--only names no RPC; choose from accept, complete, rate, visit") }
    return MutationRPC.allCases.filter { chosen.contains($0) }
  }

  func validate() throws {
    _ = try self.selected()
    guard self.seconds > 0 else { throw ValidationError("--seconds must be positive") }
    guard self.warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
    guard self.concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    if let pool = self.pool, pool < 1 { throw ValidationError("--pool must be at least 1") }
  }

  /// The enterprise whose cases are rated and that the liaison official visits: a valid USCC of
  /// the sample county (the demo's enterprise, 91370830000001001N).
  static func enterpriseUSCC() throws -> String {
    let first17 = "91370830000001001"
    return first17 + String(try USCC.checkCharacter(forFirst17: first17))
  }

  func run() async throws {
    let rpcs = try self.selected()
    raiseOpenFileLimit()
    let base = (self.directory ?? FileManager.default.temporaryDirectory.path) + "/banjie-bench-mutations-\(getpid())"
    try? FileManager.default.removeItem(atPath: base)
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: base) }

    let uscc = try Self.enterpriseUSCC()
    let liaisonUnit = "南旺镇人民政府"
    let liaisonPerson = "王强"
    let ca = try CertificateAuthority.create(directory: base + "/ca")
    let server = try ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    let office = try ca.issueClientCertificate(role: .office, organization: "YSB", person: "李明")
    let clerk = try ca.issueClientCertificate(role: .clerk, organization: "SCJGJ", person: "张伟")
    // An enterprise's certificate names its USCC as O; a liaison official's names their unit.
    let enterprise = try ca.issueClientCertificate(role: .enterprise, organization: uscc, person: "张总")
    let liaison = try ca.issueClientCertificate(role: .liaison, organization: liaisonUnit, person: liaisonPerson)
    let catalogPath = self.catalog ?? BenchServer.sampleCatalog

    let bench = try await BenchServer.open(base: base, ca: ca, server: server, label: "mutations")
    let (assembly, ceilingPool, serverReader) = (bench.assembly, bench.ceilingPool, bench.serverReader)

    let concurrency = self.concurrency
    let poolSize = self.pool ?? Int(((self.seconds + self.warmup) * 3_500).rounded(.up))
    let warmup = Duration.milliseconds(Int(self.warmup * 1000))
    let measured = Duration.milliseconds(Int(self.seconds * 1000))
    let pid = getpid()
    progress(
      "mutations: \(rpcs.map(\.name).joined(separator: ", ")); \(concurrency) callers on one connection each, \(self.seconds) s after \(self.warmup) s warm-up per RPC; \(poolSize) cases prepared per case RPC; databases in \(base)"
    )

    /// The turns, the server database's counts and the audit chain's verdict.
    typealias Outcome = ([MutationResult], String, String)
    let (results, tally, audit) = try await withThrowingTaskGroup(of: Void.self, returning: Outcome.self) { group in
      group.addTask { try await assembly.server.serve() }
      guard let port = await assembly.transport.listeningAddress?.port else {
        throw RPCError(code: .internalError, message: "server did not start")
      }
      func transport(_ cert: (certificateFile: String, privateKeyFile: String, serialNumber: String)) throws -> BanjieClientTransport {
        try benchClientTransport(port: port, certificate: cert, caFile: ca.certificateFile)
      }

      // The catalog, as the office imports it; the enterprise, as the office registers it, with
      // the liaison official assigned (RecordVisit is theirs only for enterprises assigned to them).
      let catalogRequest = try Banjie_V1_ImportCatalogRequest(jsonString: String(contentsOfFile: catalogPath, encoding: .utf8))
      let registration = Banjie_V1_RegisterEnterpriseRequest.with {
        $0.uscc = uscc
        $0.name = "汶上县鲁源机械有限公司"
        $0.industry = "C"
        $0.scale = "small"
        $0.township = "南旺镇"
        $0.contacts = [
          .with {
            $0.name = "刘芳"
            $0.phone = "0537-7212345"
            $0.title = "财务负责人"
          }
        ]
        $0.liaisons = [
          .with {
            $0.organization = liaisonUnit
            $0.person = liaisonPerson
          }
        ]
      }
      _ = try await withGRPCClient(transport: try transport(office)) { client in
        _ = try await Banjie_V1_CatalogService.Client(wrapping: client).importCatalog(catalogRequest)
        return try await Banjie_V1_EnterpriseService.Client(wrapping: client).registerEnterprise(
          registration, metadata: ["idempotency-key": "bench-register-enterprise"])
      }

      // One connection per certificate: the clerk's (preparation, AcceptCase, CompleteCase), the
      // enterprise's (RateCase) and the liaison official's (RecordVisit).
      let clerkClient = GRPCClient(transport: try transport(clerk))
      let enterpriseClient = GRPCClient(transport: try transport(enterprise))
      let liaisonClient = GRPCClient(transport: try transport(liaison))
      let clients = [clerkClient, enterpriseClient, liaisonClient]
      let outcome: Outcome = try await withThrowingTaskGroup(of: Void.self) { connectionGroup in
        for client in clients { connectionGroup.addTask { try await client.runConnections() } }
        defer { for client in clients { client.beginGracefulShutdown() } }
        let cases = Banjie_V1_CaseService.Client(wrapping: clerkClient)
        let ratings = Banjie_V1_RatingService.Client(wrapping: enterpriseClient)
        let visits = Banjie_V1_EnterpriseService.Client(wrapping: liaisonClient)
        // Open the enterprise's and the liaison's connections (one read each) before anything is
        // timed; the clerk's opens with the first preparation call.
        _ = try await Banjie_V1_EnterpriseService.Client(wrapping: enterpriseClient).getEnterprise(.with { $0.uscc = uscc })
        _ = try await visits.getEnterprise(.with { $0.uscc = uscc })

        let keys = Counter()
        let privateCase = Banjie_V1_SubmitCaseRequest.with {
          $0.itemCode = self.item
          $0.applicant = "王小二"
          $0.window = "A03"
          $0.note = "benchmark"
        }
        let enterpriseCase = Banjie_V1_SubmitCaseRequest.with {
          $0.itemCode = self.item
          $0.applicant = "汶上县鲁源机械有限公司"
          $0.enterpriseUscc = uscc
          $0.window = "A03"
          $0.note = "benchmark"
        }

        var results: [MutationResult] = []
        for rpc in rpcs {
          // Preparation (not timed): the pool of cases the turn's calls take, one each.
          let casePool: MutationPool?
          let take: @Sendable () -> String?
          if rpc == .visit {
            // Visits need nothing prepared: every call records one more visit, with notes of its own.
            casePool = nil
            let visitNumbers = Counter()
            take = { String(visitNumbers.next()) }
          } else {
            progress("  \(rpc.name): preparing \(poolSize) cases (\(rpc.preparation)) with \(concurrency) callers ...")
            let began = ContinuousClock.now
            let numbers = try await Self.prepareCases(
              cases, rpc == .rate ? enterpriseCase : privateCase, for: rpc, count: poolSize, concurrency: concurrency, keys: keys)
            let took = (ContinuousClock.now - began).secondsDouble
            progress(String(format: "  %@: %d cases prepared in %.1f s", rpc.name, numbers.count, took))
            let prepared = MutationPool(numbers)
            casePool = prepared
            take = { prepared.take() }
          }
          let call: @Sendable (String) async throws -> Void
          switch rpc {
          case .accept:
            call = { number in
              _ = try await cases.acceptCase(.with { $0.number = number }, metadata: freshKey(keys, "accept"))
            }
          case .complete:
            call = { number in
              _ = try await cases.completeCase(
                .with {
                  $0.number = number
                  $0.outcome = "approved"
                }, metadata: freshKey(keys, "complete"))
            }
          case .rate:
            call = { number in
              _ = try await ratings.rateCase(
                .with {
                  $0.caseNumber = number
                  $0.level = 5
                }, metadata: freshKey(keys, "rate"))
            }
          case .visit:
            call = { n in
              _ = try await visits.recordVisit(
                .with {
                  $0.uscc = uscc
                  $0.notes = "benchmark visit \(n)"
                }, metadata: freshKey(keys, "visit"))
            }
          }

          // The peer, just before the RPC's turn.
          _ = try await Ceiling.run(ceilingPool, rowsPerTransaction: 1, duration: warmup)
          let ceiling = try await Ceiling.run(ceilingPool, rowsPerTransaction: 1, duration: measured)
          progress(
            "  \(rpc.name): SQLite ceiling (1 row/transaction, 1 writer): \(String(format: "%.0f", ceiling.callsPerSecond)) rows/s, p50 \(formatMicros(Percentiles(ceiling.latencies).value(50))) µs, p99 \(formatMicros(Percentiles(ceiling.latencies).value(99))) µs"
          )

          let warm = await runMutationLoad(concurrency: concurrency, duration: warmup, take: take, call: call)
          // Cases the warm-up took (for visits: the calls it completed in time).
          let warmUsed = casePool?.handedOut ?? warm.sample.completed
          if warm.sample.errors > 0 {
            progress("  \(rpc.name): warm-up: \(warm.sample.errors) errors (\(warm.sample.firstError ?? ""))")
          }
          if let casePool, casePool.remaining == 0 {
            progress("  \(rpc.name): warning: the warm-up used the whole pool of \(casePool.items.count) cases; raise --pool")
          }

          let cpu0 = processCPUSeconds(pid: pid) ?? 0
          let commits0 = assembly.environment.store.groupCommitFigures
          progress(
            "  \(rpc.name): group commit before the turn: \(commits0.batches) transactions, \(commits0.mutations) mutations (\(String(format: "%.1f", Double(commits0.mutations) / Double(max(1, commits0.batches)))) per transaction), largest \(commits0.largest)"
          )
          var turn = await runMutationLoad(concurrency: concurrency, duration: measured, take: take, call: call)
          turn.sample.serverCPU = (processCPUSeconds(pid: pid) ?? 0) - cpu0
          let commits1 = assembly.environment.store.groupCommitFigures
          let batches = commits1.batches - commits0.batches
          let mutations = commits1.mutations - commits0.mutations
          progress(
            "  \(rpc.name): group commit after the turn: \(commits1.batches) transactions, \(commits1.mutations) mutations, largest \(commits1.largest); the turn: \(batches) transactions, \(String(format: "%.1f", Double(mutations) / Double(max(1, batches)))) mutations per transaction"
          )
          // Cases the measured turn took (for visits: the calls it made).
          let used = casePool.map { $0.handedOut - warmUsed } ?? (turn.sample.completed + turn.sample.errors)
          let percentiles = Percentiles(turn.sample.latencies)
          var line = "  \(rpc.name) (\(concurrency) callers): \(String(format: "%.0f", turn.sample.callsPerSecond)) calls/s"
          line += " over \(String(format: "%.2f", turn.sample.seconds)) s"
          line += ", p50 \(formatMicros(percentiles.value(50))) µs, p99 \(formatMicros(percentiles.value(99))) µs"
          if turn.ranDry { line += ", pool ran dry" }
          if turn.sample.errors > 0 { line += ", \(turn.sample.errors) errors (\(turn.sample.firstError ?? ""))" }
          progress(line)
          results.append(
            MutationResult(
              rpc: rpc, sample: turn.sample, ranDry: turn.ranDry, ceiling: ceiling, prepared: casePool?.items.count,
              usedByWarmup: warmUsed, usedByTurn: used, transactions: batches, mutations: mutations, largest: commits1.largest))
        }

        let counts = try await serverReader.read { db in
          (
            try Int.fetchOne(db, sql: "SELECT count(*) FROM cases") ?? 0,
            try Int.fetchOne(db, sql: "SELECT count(*) FROM ratings") ?? 0,
            try Int.fetchOne(db, sql: "SELECT count(*) FROM visits") ?? 0
          )
        }
        let tally = "\(counts.0) cases, \(counts.1) ratings, \(counts.2) visits in the server's database at the end"
        let verification = try await assembly.environment.store.verifyAudit()
        let audit = verification.ok ? "audit chain intact (\(verification.rows) rows)" : "AUDIT CHAIN BROKEN: \(verification.reason)"
        return (results, tally, audit)
      }
      assembly.server.beginGracefulShutdown()
      try await group.waitForAll()
      return outcome
    }

    print("")
    print(
      "Mutating RPCs with \(concurrency) concurrent callers each over one mutual-TLS connection, server in this process, a fresh idempotency-key per call;"
    )
    print(
      "SQLite \(bench.sqliteVersion), WAL, synchronous=FULL; one turn of \(self.seconds) s per RPC (after \(self.warmup) s warm-up), each just after a SQLite ceiling turn of its own. Latencies in µs."
    )
    print("")
    printTable(
      [
        "RPC", "calls/s", "calls", "seconds", "p50", "p90", "p99", "p99.9", "process CPU µs/op", "mutations/transaction",
        "SQLite 1 row/transaction (rows/s)", "RPC / ceiling", "errors",
      ],
      results.map { result in
        let p = Percentiles(result.sample.latencies)
        let ceilingRate = result.ceiling.callsPerSecond
        let firstError = result.sample.firstError.map { ": " + String($0.prefix(60)) } ?? ""
        return [
          "\(result.rpc.name), \(concurrency) callers", String(format: "%.0f", result.sample.callsPerSecond), "\(result.sample.completed)",
          String(format: "%.2f", result.sample.seconds) + (result.ranDry ? "*" : ""),
          formatMicros(p.value(50)), formatMicros(p.value(90)), formatMicros(p.value(99)), formatMicros(p.value(99.9)),
          String(format: "%.0f", result.sample.serverCPU / Double(max(1, result.sample.completed)) * 1e6),
          String(format: "%.1f", Double(result.mutations) / Double(max(1, result.transactions))),
          String(format: "%.0f", ceilingRate),
          String(format: "%.2f×", ceilingRate > 0 ? result.sample.callsPerSecond / ceilingRate : 0),
          "\(result.sample.errors)" + firstError,
        ]
      }
    )
    print("")
    if results.contains(where: \.ranDry) {
      print("* the pool ran dry before the turn was up: the rate is over the time until the last caller stopped (raise --pool).")
    }
    for result in results {
      if let prepared = result.prepared {
        print(
          "\(result.rpc.name): \(prepared) cases prepared (\(result.rpc.preparation)); \(result.usedByWarmup) taken by the warm-up, \(result.usedByTurn) by the measured turn (\(result.sample.completed) completed in time, \(result.sample.errors) failed), \(max(0, prepared - result.usedByWarmup - result.usedByTurn)) left."
        )
      } else {
        print(
          "\(result.rpc.name): \(result.usedByWarmup) visits recorded in the warm-up; \(result.usedByTurn) calls in the measured turn (\(result.sample.completed) completed in time, \(result.sample.errors) failed)."
        )
      }
      print(
        "\(result.rpc.name): group commit during the turn: \(result.transactions) transactions, \(result.mutations) mutations; largest batch so far \(result.largest)."
      )
      if let error = result.sample.firstError { print("\(result.rpc.name): first error: \(error)") }
    }
    print("\(tally); \(audit)")
  }

  /// Submits `count` cases of `request` with `concurrency` callers (each with a fresh
  /// idempotency key) and takes each as far as `rpc` needs: submitted for AcceptCase, accepted for
  /// CompleteCase, completed (approved) for RateCase. Not timed; the first failure ends the run.
  static func prepareCases(
    _ cases: Banjie_V1_CaseService.Client<BanjieClientTransport>, _ request: Banjie_V1_SubmitCaseRequest, for rpc: MutationRPC,
    count: Int, concurrency: Int, keys: Counter
  ) async throws -> [String] {
    try await prepareConcurrently(count: count, concurrency: concurrency) { (_: Int) async throws -> String in
      let number = try await cases.submitCase(request, metadata: freshKey(keys, "prepare")).number
      if rpc == .accept { return number }
      _ = try await cases.acceptCase(.with { $0.number = number }, metadata: freshKey(keys, "prepare"))
      if rpc == .complete { return number }
      _ = try await cases.completeCase(
        .with {
          $0.number = number
          $0.outcome = "approved"
        }, metadata: freshKey(keys, "prepare"))
      return number
    }
  }
}

/// The mutating RPCs `mutations` measures, in the order it measures them.
enum MutationRPC: String, CaseIterable, Hashable, Sendable {
  case accept, complete, rate, visit

  var name: String {
    switch self {
    case .accept: "AcceptCase"
    case .complete: "CompleteCase"
    case .rate: "RateCase"
    case .visit: "RecordVisit"
    }
  }

  /// What each case of the RPC's pool has been through before the measured call.
  var preparation: String {
    switch self {
    case .accept: "SubmitCase"
    case .complete: "SubmitCase, AcceptCase"
    case .rate: "SubmitCase for the enterprise, AcceptCase, CompleteCase approved"
    case .visit: "nothing"
    }
  }
}

/// One RPC's measured turn with its peer, for the table.
struct MutationResult: Sendable {
  var rpc: MutationRPC
  var sample: Sample
  var ranDry: Bool
  var ceiling: Sample
  /// Cases prepared; nil for RecordVisit (nothing to prepare).
  var prepared: Int?
  var usedByWarmup: Int
  var usedByTurn: Int
  /// Group commit during the measured turn.
  var transactions: Int
  var mutations: Int
  var largest: Int
}

/// Work handed out to the callers, each item once (cases to accept, complete or rate).
final class MutationPool: Sendable {
  let items: [String]
  private let taken = Atomic<Int>(0)

  init(_ items: [String]) { self.items = items }

  /// The next item, or nil once every item has been handed out.
  func take() -> String? {
    let index = self.taken.add(1, ordering: .relaxed).oldValue
    return index < self.items.count ? self.items[index] : nil
  }

  /// Items handed out so far.
  var handedOut: Int { min(self.taken.load(ordering: .relaxed), self.items.count) }
  var remaining: Int { self.items.count - self.handedOut }
}

/// A fresh `idempotency-key` entry, as the CLI sends one with every mutating call.
func freshKey(_ keys: Counter, _ what: String) -> GRPCCore.Metadata {
  ["idempotency-key": "bench-\(what)-\(keys.next())"]
}

/// Runs `body` once for every index in 0..<count, `concurrency` callers at once, each taking the
/// next index from a shared counter; the first failure ends the run (and is thrown). Returns the
/// results in no particular order.
func prepareConcurrently<T: Sendable>(
  count: Int, concurrency: Int, _ body: @escaping @Sendable (Int) async throws -> T
) async throws -> [T] {
  let indices = Counter()
  return try await withThrowingTaskGroup(of: [T].self) { group in
    for _ in 0..<max(1, min(concurrency, count)) {
      group.addTask {
        var done: [T] = []
        while true {
          let index = indices.next() - 1
          if index >= count { break }
          try Task.checkCancellation()
          done.append(try await body(index))
        }
        return done
      }
    }
    var all: [T] = []
    all.reserveCapacity(count)
    for try await part in group { all += part }
    return all
  }
}

/// A measured (or warm-up) turn of `runMutationLoad`.
struct MutationTurn: Sendable {
  var sample: Sample
  /// Some caller found no work left before the duration was up: `sample.seconds` is then the
  /// time until the last caller stopped, not the duration.
  var ranDry: Bool
}

private struct MutationCaller: Sendable {
  var sample: Sample
  var stoppedAt: ContinuousClock.Instant
  var ranDry: Bool
}

/// `concurrency` callers each take work from `take` and run `call` on it back to back until
/// `duration` has passed or `take` has nothing left. Calls that finish after the end are not
/// counted as completed (their work is used up all the same).
func runMutationLoad(
  concurrency: Int,
  duration: Duration,
  take: @escaping @Sendable () -> String?,
  call: @escaping @Sendable (String) async throws -> Void
) async -> MutationTurn {
  let clock = ContinuousClock()
  let start = clock.now
  let end = start + duration
  let callers = await withTaskGroup(of: MutationCaller.self) { group in
    for _ in 0..<max(1, concurrency) {
      group.addTask {
        var sample = Sample()
        sample.latencies.reserveCapacity(1 << 14)
        var ranDry = false
        while clock.now < end {
          guard let work = take() else {
            ranDry = true
            break
          }
          let began = clock.now
          do {
            try await call(work)
            let finished = clock.now
            if finished <= end {
              sample.completed += 1
              sample.latencies.append((finished - began).nanoseconds)
            }
          } catch {
            sample.errors += 1
            if sample.firstError == nil { sample.firstError = "\(error)" }
            if sample.errors > 1000 { break }
          }
        }
        return MutationCaller(sample: sample, stoppedAt: clock.now, ranDry: ranDry)
      }
    }
    var all: [MutationCaller] = []
    for await caller in group { all.append(caller) }
    return all
  }
  var total = Sample()
  for caller in callers {
    total.completed += caller.sample.completed
    total.latencies += caller.sample.latencies
    total.errors += caller.sample.errors
    if total.firstError == nil { total.firstError = caller.sample.firstError }
  }
  let lastStop = callers.map(\.stoppedAt).max() ?? end
  total.seconds = min(duration, lastStop - start).secondsDouble
  return MutationTurn(sample: total, ranDry: callers.contains(where: \.ranDry))
}
