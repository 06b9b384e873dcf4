import ArgumentParser

/// Benchmarks of banjie's own RPC transport against grpc-swift-2's HTTP/2 transport, both
/// carrying the same GRPCCore echo service over mutual TLS; and SubmitCase through the assembled
/// server against SQLite's own commit ceiling. See docs/PERFORMANCE.md.
@main
struct BanjieBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "banjie-bench",
    abstract: "Benchmarks banjie's RPC transport against grpc-swift-2's HTTP/2 transport.",
    subcommands: [
      RPCBenchmark.self, IdleBenchmark.self, SubmitBenchmark.self, PostgresSubmitBenchmark.self, MutationBenchmark.self,
      DashboardBenchmark.self, Serve.self,
      ServeBanjied.self,
    ]
  )
}

/// The transport under test.
enum TransportKind: String, CaseIterable, ExpressibleByArgument, Sendable {
  /// banjie's framed protocol over TLS on the system OpenSSL.
  case banjie
  /// grpc-swift-nio-transport's HTTP/2 over TLS on swift-nio-ssl (BoringSSL).
  case grpc
}
