import ArgumentParser
import BanjieEcho
import BanjieTLS
import BanjieTransport
@preconcurrency import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// The server side of a benchmark, run as a child process of `rpc` / `idle` so that client and
/// server do not share a process (nor its allocator, executor or event loops).
struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Runs the echo service over one transport (used by the benchmarks).",
    shouldDisplay: false
  )

  @Option(help: "banjie or grpc.") var transport: TransportKind
  @OptionGroup var files: ChildServerFiles

  func run() async throws {
    raiseOpenFileLimit()
    Self.exitWhenStandardInputCloses()
    let heapReporter = HeapReporter(path: self.files.portFile + ".heap")
    defer { withExtendedLifetime(heapReporter) {} }
    let pki = BenchPKI(
      caFile: self.files.caFile, serverCertificateFile: self.files.certificateFile, serverKeyFile: self.files.keyFile,
      clientCertificateFile: "",
      clientKeyFile: "")
    switch self.transport {
    case .banjie:
      var config = BanjieServerTransport.Config(host: "127.0.0.1", port: 0, tls: try pki.banjieServerContext())
      config.maxConnections = 1 << 20
      config.logger = quietLogger("banjie.server")
      let transport = BanjieServerTransport(config: config)
      let server = GRPCServer(transport: transport, services: [EchoService()])
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        guard let port = await transport.listeningAddress?.port else { throw ValidationError("banjie server did not start") }
        try Self.writePort(port, to: self.files.portFile)
      }
    case .grpc:
      let transport = HTTP2ServerTransport.Posix(
        address: .ipv4(host: "127.0.0.1", port: 0),
        transportSecurity: pki.grpcServerSecurity()
      )
      let server = GRPCServer(transport: transport, services: [EchoService()])
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        guard let port = try await transport.listeningAddress.ipv4?.port else { throw ValidationError("grpc server did not start") }
        try Self.writePort(port, to: self.files.portFile)
      }
    }
  }

  static func writePort(_ port: Int, to path: String) throws {
    try "\(port)\n".write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
    guard rename(path + ".tmp", path) == 0 else { throw ValidationError("cannot write \(path)") }
  }

  /// The parent holds our standard input open; when it goes away (even killed), so do we.
  static func exitWhenStandardInputCloses() {
    let thread = Thread {
      _ = FileHandle.standardInput.readDataToEndOfFile()
      Foundation.exit(0)
    }
    thread.start()
  }
}

/// What every child server is told: where to write its port, and its TLS files.
struct ChildServerFiles: ParsableArguments {
  @Option(help: "Where to write the listening port once bound.") var portFile: String
  @Option var caFile: String
  @Option var certificateFile: String
  @Option var keyFile: String
}

/// The real, assembled banjied (as BenchServer assembles it) in a process of its own, so that
/// its CPU time is its own: `submit --server-in-child`.
struct ServeBanjied: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve-banjied",
    abstract: "Runs the assembled banjied on a database (used by the benchmarks).",
    shouldDisplay: false
  )

  @Option var database: String
  @OptionGroup var files: ChildServerFiles

  func run() async throws {
    raiseOpenFileLimit()
    Serve.exitWhenStandardInputCloses()
    let assembly = try await BenchServer.assemble(
      databasePath: self.database, caFile: self.files.caFile, server: (self.files.certificateFile, self.files.keyFile))
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask { try await assembly.server.serve() }
      guard let port = await assembly.transport.listeningAddress?.port else { throw ValidationError("banjied did not start") }
      try Serve.writePort(port, to: self.files.portFile)
    }
  }
}

/// A running `serve` child process. Unchecked Sendable: its stored properties are constants, and
/// it only asks Foundation's Process, which may be asked from any thread.
final class ServerProcess: @unchecked Sendable {
  let kind: TransportKind
  let port: Int
  private let process: Process
  private let stdin: Pipe

  var pid: Int32 { self.process.processIdentifier }

  private let portFile: String

  private init(kind: TransportKind, port: Int, process: Process, stdin: Pipe, portFile: String) {
    self.portFile = portFile
    self.kind = kind
    self.port = port
    self.process = process
    self.stdin = stdin
  }

  static func start(_ kind: TransportKind, pki: BenchPKI) async throws -> ServerProcess {
    let portFile = pki.directory + "/port-\(kind.rawValue)-\(UUID().uuidString)"
    let arguments = [
      "serve", "--transport", kind.rawValue, "--port-file", portFile,
      "--ca-file", pki.caFile, "--certificate-file", pki.serverCertificateFile, "--key-file", pki.serverKeyFile,
    ]
    return try await Self.launch(kind: kind, arguments: arguments, portFile: portFile)
  }

  /// The assembled banjied (ServeBanjied) on the database in `base`, in a child process.
  static func startBanjied(
    base: String, caFile: String, server: (certificateFile: String, privateKeyFile: String), database: String? = nil
  ) async throws -> ServerProcess {
    let portFile = base + "/port-banjied-\(UUID().uuidString)"
    let arguments = [
      "serve-banjied", "--database", database ?? base + "/banjie.sqlite", "--port-file", portFile, "--ca-file", caFile,
      "--certificate-file", server.certificateFile, "--key-file", server.privateKeyFile,
    ]
    return try await Self.launch(kind: .banjie, arguments: arguments, portFile: portFile)
  }

  private static func launch(kind: TransportKind, arguments: [String], portFile: String) async throws -> ServerProcess {
    let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let process = Process()
    // For profiling the server: BANJIE_BENCH_SERVER_WRAPPER="valgrind --tool=massif" (split at spaces)
    // runs the child under that command; it must exec the program in the same process.
    let wrapper = ProcessInfo.processInfo.environment["BANJIE_BENCH_SERVER_WRAPPER"].map { $0.split(separator: " ").map(String.init) } ?? []
    if let tool = wrapper.first {
      process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/env")
      process.arguments = (tool.hasPrefix("/") ? [] : [tool]) + wrapper.dropFirst() + [executable] + arguments
    } else {
      process.executableURL = URL(fileURLWithPath: executable)
      process.arguments = arguments
    }
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    let deadline = ContinuousClock.now + .seconds(wrapper.isEmpty ? 30 : 300)
    while ContinuousClock.now < deadline {
      if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
        let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
      {
        try? FileManager.default.removeItem(atPath: portFile)
        return ServerProcess(kind: kind, port: port, process: process, stdin: stdin, portFile: portFile)
      }
      guard process.isRunning else { throw ValidationError("the \(kind) server exited with status \(process.terminationStatus)") }
      try await Task.sleep(for: .milliseconds(20))
    }
    process.terminate()
    throw ValidationError("the \(kind) server did not start within 30 s")
  }

  /// Bytes the allocator has handed out and not yet been given back (glibc `mallinfo2`),
  /// asked of the child with SIGUSR1.
  func heapInUseKB() async -> Int? {
    let file = self.portFile + ".heap"
    try? FileManager.default.removeItem(atPath: file)
    kill(self.pid, SIGUSR1)
    for _ in 0..<250 {
      if let text = try? String(contentsOfFile: file, encoding: .utf8), text.hasSuffix("\n"),
        let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes >= 0
      {
        return bytes / 1024
      }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }

  /// Resident memory right now, in kB.
  var residentKB: Int? { procStatusKB(pid: self.pid, field: "VmRSS") }
  var cpuSeconds: Double? { processCPUSeconds(pid: self.pid) }

  func stop() {
    guard self.process.isRunning else { return }
    self.process.terminate()
    self.process.waitUntilExit()
  }

  /// Stops the child and waits for it, without blocking a thread of the cooperative pool.
  func stopAndWait() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      Thread.detachNewThread {
        self.stop()
        continuation.resume()
      }
    }
  }
}

/// On SIGUSR1, writes glibc's `malloc_stats()` report (whose "in use bytes" under "Total (incl.
/// mmap)" are the bytes allocated and not yet freed) to `path`.
final class HeapReporter: @unchecked Sendable {
  private let source: any DispatchSourceSignal

  init(path: String) {
    signal(SIGUSR1, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
    source.setEventHandler {
      let bytes = Self.heapInUse(scratch: path + ".stats") ?? -1
      try? "\(bytes)\n".write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
      rename(path + ".tmp", path)
    }
    source.resume()
    self.source = source
  }

  /// glibc only: `malloc_stats` prints to standard error, so standard error is pointed at a
  /// scratch file while it runs.
  private static func heapInUse(scratch: String) -> Int? {
    typealias MallocStats = @convention(c) () -> Void
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_stats") else { return nil }
    let mallocStats = unsafeBitCast(symbol, to: MallocStats.self)
    let file = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard file >= 0 else { return nil }
    let saved = dup(2)
    dup2(file, 2)
    mallocStats()
    dup2(saved, 2)
    close(saved)
    close(file)
    defer { unlink(scratch) }
    guard let text = try? String(contentsOfFile: scratch, encoding: .utf8),
      let total = text.range(of: "Total (incl. mmap):")
    else { return nil }
    for line in text[total.upperBound...].split(separator: "\n") where line.hasPrefix("in use bytes") {
      return line.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
    return nil
  }
}
