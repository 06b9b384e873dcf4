import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Resident memory of the server with many idle mutual-TLS connections, one transport at a time,
/// each with a fresh server process.
struct IdleBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "idle",
    abstract: "Server resident memory with many idle mutual-TLS connections: banjie vs grpc-swift-2 HTTP/2."
  )

  @Option(help: "Idle connections to hold open.") var connections: Int = 1000
  @Option(help: "Connections being set up at the same time.") var parallel: Int = 32
  @Option(help: "Seconds to wait before each RSS reading.") var settle: Double = 2

  func run() async throws {
    let limit = raiseOpenFileLimit()
    guard limit > self.connections + 256 else {
      throw ValidationError("the open-file limit is \(limit); \(self.connections) connections need more (raise the hard limit: ulimit -Hn)")
    }
    let pki = try BenchPKI.create()
    defer { try? FileManager.default.removeItem(atPath: pki.directory) }
    progress("idle: \(self.connections) connections per transport, each makes one unary call and then stays open")

    var rows: [[String]] = []
    for kind in TransportKind.allCases {
      let server = try await ServerProcess.start(kind, pki: pki)
      defer { server.stop() }
      try await Task.sleep(for: .seconds(self.settle))
      let before = server.residentKB ?? 0
      let heapBefore = await server.heapInUseKB() ?? 0
      let clientBefore = procStatusKB(pid: getpid(), field: "VmRSS") ?? 0
      let started = ContinuousClock.now
      let (after, heapAfter, clientAfter, opened) = try await self.holdConnections(kind: kind, port: server.port, pki: pki) {
        (server.residentKB ?? 0, await server.heapInUseKB() ?? 0, procStatusKB(pid: getpid(), field: "VmRSS") ?? 0)
      }
      let setup = ContinuousClock.now - started
      try await Task.sleep(for: .seconds(self.settle))
      let afterClose = server.residentKB ?? 0
      let heapAfterClose = await server.heapInUseKB() ?? 0
      let perConnection = Double(after - before) / Double(max(1, opened))
      let heapPerConnection = Double(heapAfter - heapBefore) / Double(max(1, opened))
      progress(
        String(
          format:
            "  %@: %d connections, server RSS %d → %d kB (%.1f kB per connection), %d kB after they closed; heap in use %d → %d → %d kB",
          kind.rawValue, opened, before, after, perConnection, afterClose, heapBefore, heapAfter, heapAfterClose))
      rows.append([
        kind.rawValue, "\(opened)",
        String(format: "%.1f", Double(before) / 1024),
        String(format: "%.1f", Double(after) / 1024),
        String(format: "%.1f", perConnection),
        String(format: "%.1f", heapPerConnection),
        String(format: "%.1f", Double(afterClose) / 1024),
        String(format: "%.1f", Double(heapAfterClose - heapBefore)),
        String(format: "%.1f", Double(clientAfter - clientBefore) / Double(max(1, opened))),
        String(format: "%.1f", setup.secondsDouble),
      ])
    }
    print("")
    print("Server resident memory (VmRSS) with \(self.connections) idle mutual-TLS connections, one fresh server process per transport.")
    print("")
    printTable(
      [
        "transport", "connections", "RSS before (MiB)", "RSS with connections (MiB)", "RSS kB per connection",
        "heap kB per connection", "RSS after close (MiB)", "heap left after close (kB)", "client RSS kB per connection", "set-up (s)",
      ], rows)
    print("")
    print("RSS is VmRSS from /proc/<pid>/status. Heap is glibc's malloc_stats() \"in use bytes\" (incl. mmap) in the server: bytes")
    print("allocated and not freed. RSS stays up after the connections close because glibc keeps freed memory for reuse.")
  }

  /// Opens `connections` clients (one transport instance, hence one connection, each), waits
  /// until every one has completed a call, reads `measure()`, then closes them all.
  private func holdConnections(
    kind: TransportKind, port: Int, pki: BenchPKI,
    measure: () async -> (Int, Int, Int)
  ) async throws -> (server: Int, heap: Int, client: Int, opened: Int) {
    let request = Banjie_V1_EchoRequest.with { $0.text = "hello" }
    let banjieTLS = try pki.banjieClientContext()
    let gate = Gate()
    let (events, continuation) = AsyncStream<String?>.makeStream()
    let total = self.connections
    let parallel = self.parallel

    @Sendable func hold<T: ClientTransport>(_ transport: T) async {
      let reported = Mutex(false)
      do {
        try await withGRPCClient(transport: transport) { client in
          _ = try await Banjie_V1_EchoService.Client(wrapping: client).get(request)
          reported.withLock { $0 = true }
          continuation.yield(nil)
          await gate.wait()
        }
      } catch {
        if !reported.withLock({ $0 }) { continuation.yield("\(error)") }
      }
    }

    return try await withThrowingDiscardingTaskGroup { group in
      var added = 0
      var done = 0
      var failures: [String] = []
      var iterator = events.makeAsyncIterator()
      while done < total {
        while added < total && added - done < parallel {
          switch kind {
          case .banjie:
            var config = BanjieClientTransport.Config(host: "127.0.0.1", port: port, tls: banjieTLS)
            config.logger = quietLogger("banjie.client")
            let transport = BanjieClientTransport(config: config)
            group.addTask { await hold(transport) }
          case .grpc:
            let transport = try HTTP2ClientTransport.Posix(
              target: .ipv4(address: "127.0.0.1", port: port),
              transportSecurity: pki.grpcClientSecurity()
            )
            group.addTask { await hold(transport) }
          }
          added += 1
        }
        guard let event = await iterator.next() else { break }
        if let failure = event { failures.append(failure) }
        done += 1
      }
      if !failures.isEmpty {
        progress("  \(failures.count) connection(s) failed; first: \(failures[0])")
      }
      try await Task.sleep(for: .seconds(self.settle))
      let (server, heap, client) = await measure()
      gate.open()
      return (server, heap, client, total - failures.count)
    }
  }
}

/// Holds tasks until opened.
final class Gate: Sendable {
  private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

  func wait() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let resume = self.state.withLock { state -> Bool in
        if state.open { return true }
        state.waiters.append(continuation)
        return false
      }
      if resume { continuation.resume() }
    }
  }

  func open() {
    let waiters = self.state.withLock { state in
      state.open = true
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }
}
