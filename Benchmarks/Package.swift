// swift-tools-version:6.1
// banjie's benchmarks. A separate package so that CI (which builds the root package) never
// builds it, and so that grpc-swift-nio-transport (and with it swift-nio-ssl / BoringSSL) is
// never a dependency of banjie itself. See docs/PERFORMANCE.md.
//
//   cd Benchmarks && swift run -c release banjie-bench rpc
//   cd Benchmarks && swift run -c release banjie-bench idle
//   cd Benchmarks && swift run -c release banjie-bench submit
import PackageDescription

let package = Package(
  name: "banjie-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    // The root package, named explicitly so that product look-ups do not depend on the name of
    // the directory it was checked out into.
    .package(name: "banjie", path: ".."),
    .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    // The same GRDB the root package uses: `submit` measures SQLite's own commit ceiling.
    .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
  ],
  targets: [
    .executableTarget(
      name: "banjie-bench",
      dependencies: [
        .product(name: "BanjieTransport", package: "banjie"),
        .product(name: "BanjieTLS", package: "banjie"),
        .product(name: "BanjieEcho", package: "banjie"),
        .product(name: "BanjieProto", package: "banjie"),
        .product(name: "BanjieServer", package: "banjie"),
        .product(name: "BanjieStore", package: "banjie"),
        .product(name: "BanjieCore", package: "banjie"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
      ]
    )
  ]
)
