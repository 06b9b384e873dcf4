import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Unary Get over ONE connection per transport, with 1, 16 and 64 calls in flight; the two
/// transports take turns (banjie, grpc, banjie, grpc, ...) within one process run.
struct RPCBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rpc",
    abstract: "Requests per second and latency of unary calls: banjie vs grpc-swift-2 HTTP/2."
  )

  @Option(help: "Measured seconds per transport, concurrency and round.") var seconds: Double = 5
  @Option(help: "Warm-up seconds before each measurement (not recorded).") var warmup: Double = 1
  @Option(help: "How many times each transport is measured at each concurrency (interleaved).") var rounds: Int = 2
  @Option(parsing: .upToNextOption, help: "Calls in flight on the one connection.") var concurrency: [Int] = [1, 16, 64]
  @Option(help: "Bytes of text in each request (echoed back).") var messageBytes: Int = 64
  @Option(parsing: .upToNextOption, help: "Transports to measure (for profiling one alone).") var transports: [TransportKind] =
    TransportKind.allCases

  func run() async throws {
    raiseOpenFileLimit()
    let pki = try BenchPKI.create()
    defer { try? FileManager.default.removeItem(atPath: pki.directory) }
    let banjieServer = try await ServerProcess.start(.banjie, pki: pki)
    defer { banjieServer.stop() }
    let grpcServer = try await ServerProcess.start(.grpc, pki: pki)
    defer { grpcServer.stop() }

    var request = Banjie_V1_EchoRequest()
    request.text = String(repeating: "a", count: self.messageBytes)

    var banjieConfig = BanjieClientTransport.Config(host: "127.0.0.1", port: banjieServer.port, tls: try pki.banjieClientContext())
    banjieConfig.logger = quietLogger("banjie.client")
    let banjieTransport = BanjieClientTransport(config: banjieConfig)
    let grpcTransport = try HTTP2ClientTransport.Posix(
      target: .ipv4(address: "127.0.0.1", port: grpcServer.port),
      transportSecurity: pki.grpcClientSecurity()
    )

    let warmup = Duration.milliseconds(Int(self.warmup * 1000))
    let measured = Duration.milliseconds(Int(self.seconds * 1000))
    progress(
      "rpc: \(self.messageBytes)-byte unary Get, \(self.rounds) round(s) x \(self.seconds) s per transport and concurrency, \(self.warmup) s warm-up each"
    )

    let results: [Key: Accumulated] = try await withGRPCClient(transport: banjieTransport) { banjieClient in
      try await withGRPCClient(transport: grpcTransport) { grpcClient in
        let banjieEcho = Banjie_V1_EchoService.Client(wrapping: banjieClient)
        let grpcEcho = Banjie_V1_EchoService.Client(wrapping: grpcClient)
        // Open both connections (TLS handshake, SETTINGS) before anything is timed.
        if self.transports.contains(.banjie) { _ = try await banjieEcho.get(request) }
        if self.transports.contains(.grpc) { _ = try await grpcEcho.get(request) }

        var results: [Key: Accumulated] = [:]
        for inFlight in self.concurrency {
          for round in 1...max(1, self.rounds) {
            for kind in TransportKind.allCases where self.transports.contains(kind) {
              let server = kind == .banjie ? banjieServer : grpcServer
              func measure<T: ClientTransport>(_ echo: Banjie_V1_EchoService.Client<T>) async -> Sample {
                _ = await runLoad(echo: echo, request: request, concurrency: inFlight, duration: warmup)
                return await Sample.measured(serverCPU: { server.cpuSeconds ?? 0 }) {
                  await runLoad(echo: echo, request: request, concurrency: inFlight, duration: measured)
                }
              }
              let sample = kind == .banjie ? await measure(banjieEcho) : await measure(grpcEcho)
              progress(
                String(
                  format: "  %2d in flight, round %d, %@: %8.0f calls/s, %@%@",
                  inFlight, round, kind.rawValue, sample.callsPerSecond, sample.percentiles,
                  sample.errors > 0 ? ", \(sample.errors) errors (\(sample.firstError ?? ""))" : ""))
              results[Key(inFlight: inFlight, kind: kind), default: Accumulated()].add(sample)
            }
          }
        }
        return results
      }
    }

    print("")
    print("Unary Get, \(self.messageBytes)-byte message, one mutual-TLS connection per transport, server in a child process;")
    print("\(self.rounds) interleaved round(s) of \(self.seconds) s each (after \(self.warmup) s warm-up) per row. Latencies in µs.")
    print("")
    var rows: [[String]] = []
    for inFlight in self.concurrency {
      for kind in TransportKind.allCases {
        guard let result = results[Key(inFlight: inFlight, kind: kind)] else { continue }
        let p = Percentiles(result.latencies)
        rows.append([
          "\(inFlight)", kind.rawValue,
          String(format: "%.0f", result.callsPerSecond),
          result.perRound.map { String(format: "%.0f", $0) }.joined(separator: "/"),
          formatMicros(p.value(50)), formatMicros(p.value(90)), formatMicros(p.value(99)), formatMicros(p.value(99.9)),
          String(format: "%.1f", result.serverCPU / Double(max(1, result.completed)) * 1e6),
          String(format: "%.1f", result.clientCPU / Double(max(1, result.completed)) * 1e6),
          "\(result.errors)",
        ])
      }
    }
    printTable(
      [
        "in flight", "transport", "calls/s", "per round", "p50", "p90", "p99", "p99.9", "server CPU µs/call", "client CPU µs/call",
        "errors",
      ], rows)

    print("")
    var ratios: [[String]] = []
    for inFlight in self.concurrency {
      guard let banjie = results[Key(inFlight: inFlight, kind: .banjie)], let grpc = results[Key(inFlight: inFlight, kind: .grpc)] else {
        continue
      }
      let pb = Percentiles(banjie.latencies)
      let pg = Percentiles(grpc.latencies)
      func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? String(format: "%.2f×", a / b) : "-" }
      ratios.append([
        "\(inFlight)",
        ratio(banjie.callsPerSecond, grpc.callsPerSecond),
        ratio(Double(pb.value(50)), Double(pg.value(50))),
        ratio(Double(pb.value(99)), Double(pg.value(99))),
        ratio(banjie.serverCPU / Double(max(1, banjie.completed)), grpc.serverCPU / Double(max(1, grpc.completed))),
      ])
    }
    printTable(["in flight", "banjie/grpc calls/s", "banjie/grpc p50", "banjie/grpc p99", "banjie/grpc server CPU per call"], ratios)
  }
}

private struct Key: Hashable {
  var inFlight: Int
  var kind: TransportKind
}

struct Sample: Sendable {
  var completed = 0
  var seconds = 0.0
  var latencies: [UInt64] = []
  var errors = 0
  var firstError: String?
  var serverCPU = 0.0
  var clientCPU = 0.0
  var callsPerSecond: Double { self.seconds > 0 ? Double(self.completed) / self.seconds : 0 }

  /// Its median and 99th-percentile latency for a progress line: "p50 … µs, p99 … µs".
  var percentiles: String {
    let p = Percentiles(self.latencies)
    return "p50 \(formatMicros(p.value(50))) µs, p99 \(formatMicros(p.value(99))) µs"
  }

  /// Runs `load` and records the CPU seconds the server (`serverCPU`, read before and after)
  /// and this process spent on it.
  static func measured(serverCPU: () -> Double, _ load: () async -> Sample) async -> Sample {
    let server0 = serverCPU()
    let client0 = processCPUSeconds(pid: getpid()) ?? 0
    var sample = await load()
    sample.serverCPU = serverCPU() - server0
    sample.clientCPU = (processCPUSeconds(pid: getpid()) ?? 0) - client0
    return sample
  }
}

private struct Accumulated {
  var completed = 0
  var seconds = 0.0
  var latencies: [UInt64] = []
  var errors = 0
  var serverCPU = 0.0
  var clientCPU = 0.0
  var perRound: [Double] = []
  var callsPerSecond: Double { self.seconds > 0 ? Double(self.completed) / self.seconds : 0 }

  mutating func add(_ sample: Sample) {
    self.completed += sample.completed
    self.seconds += sample.seconds
    self.latencies += sample.latencies
    self.errors += sample.errors
    self.serverCPU += sample.serverCPU
    self.clientCPU += sample.clientCPU
    self.perRound.append(sample.callsPerSecond)
  }
}

/// `concurrency` tasks each issue unary calls back to back until `duration` has passed. Every
/// call that completed successfully in the window is counted and its latency recorded.
func runLoad<T: ClientTransport>(
  echo: Banjie_V1_EchoService.Client<T>,
  request: Banjie_V1_EchoRequest,
  concurrency: Int,
  duration: Duration
) async -> Sample {
  let clock = ContinuousClock()
  let start = clock.now
  let end = start + duration
  let partials = await withTaskGroup(of: Sample.self) { group in
    for _ in 0..<concurrency {
      group.addTask {
        var sample = Sample()
        sample.latencies.reserveCapacity(1 << 16)
        while true {
          let began = clock.now
          if began >= end { break }
          do {
            _ = try await echo.get(request)
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
        return sample
      }
    }
    var all: [Sample] = []
    for await partial in group { all.append(partial) }
    return all
  }
  var total = Sample()
  for partial in partials {
    total.completed += partial.completed
    total.latencies += partial.latencies
    total.errors += partial.errors
    if total.firstError == nil { total.firstError = partial.firstError }
  }
  total.seconds = duration.secondsDouble
  return total
}
