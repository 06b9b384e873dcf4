// swift-tools-version:6.2
import PackageDescription

// Every target of ours builds with warnings as errors (SwiftPM applies this to this package
// only, never to dependencies); generated code (BanjieProto) keeps its own settings.
let swiftSettings: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
  .treatAllWarnings(as: .error),
]

let package = Package(
  name: "banjie",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "banjied", targets: ["banjied"]),
    .executable(name: "banjie", targets: ["banjie"]),
    // For the Benchmarks/ package, which measures the transport against grpc-swift-2's.
    .library(name: "BanjieTransport", targets: ["BanjieTransport"]),
    .library(name: "BanjieTLS", targets: ["BanjieTLS"]),
    .library(name: "BanjieWire", targets: ["BanjieWire"]),
    // For the Fuzz/ package's libFuzzer targets (scripts/fuzz.sh): the decoder's invariants.
    .library(name: "BanjieWireFuzzSupport", targets: ["BanjieWireFuzzSupport"]),
    .library(name: "BanjieEcho", targets: ["BanjieEcho"]),
    .library(name: "BanjieProto", targets: ["BanjieProto"]),
    // For the Benchmarks/ package's `submit` benchmark, which runs the assembled server in-process.
    .library(name: "BanjieServer", targets: ["BanjieServer"]),
    .library(name: "BanjieStore", targets: ["BanjieStore"]),
    .library(name: "BanjieCore", targets: ["BanjieCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
  ],
  targets: [
    // Debian's libssl-dev (OpenSSL 3): our TLS.
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "openssl",
      providers: [.apt(["libssl-dev"])]
    ),
    // TLS over OpenSSL memory BIOs as a SwiftNIO handler; the county CA's certificate tooling.
    .target(
      name: "BanjieTLS",
      dependencies: [
        "COpenSSL",
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    // The framed wire protocol (docs/PROTOCOL.md): frames, codec, HEADERS/TRAILERS payloads.
    .target(
      name: "BanjieWire",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio")
      ],
      swiftSettings: swiftSettings
    ),
    // The decoder's invariants (`WireFuzzChecks`): test and fuzz support, never linked into the
    // product. Used by the Fuzz/ package's libFuzzer targets and BanjieWireTests' corpus replay.
    .target(
      name: "BanjieWireFuzzSupport",
      dependencies: [
        "BanjieWire",
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    // GRPCCore ServerTransport / ClientTransport over BanjieWire over BanjieTLS over TCP.
    .target(
      name: "BanjieTransport",
      dependencies: [
        "BanjieTLS",
        "BanjieWire",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "DequeModule", package: "swift-collections"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings
    ),
    // The domain: no I/O, time comes in as a value.
    .target(
      name: "BanjieCore",
      dependencies: [],
      swiftSettings: swiftSettings
    ),
    // SHA-256 through libcrypto's EVP API (audit chain, award digests, backups), so that
    // BanjieCore imports no OpenSSL.
    .target(
      name: "BanjieCrypto",
      dependencies: ["COpenSSL"],
      swiftSettings: swiftSettings
    ),
    // banjied's configuration file and banjie's profiles: TOML through TOMLKit (toml++, C++), kept
    // out of BanjieCore.
    .target(
      name: "BanjieConfig",
      dependencies: [
        .product(name: "TOMLKit", package: "TOMLKit")
      ],
      swiftSettings: swiftSettings
    ),
    // Generated swift-protobuf messages and grpc-swift-2 stubs (scripts/generate-protos.sh).
    .target(
      name: "BanjieProto",
      dependencies: [
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
      ],
      swiftSettings: [.swiftLanguageMode(.v6)]
    ),
    // An echo service with one method of each kind, for transport tests and benchmarks.
    .target(
      name: "BanjieEcho",
      dependencies: [
        "BanjieProto",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
      ],
      swiftSettings: swiftSettings
    ),
    // SQLite through GRDB, PostgreSQL through postgres-nio: migrations, records, transactions,
    // audit chain.
    .target(
      name: "BanjieStore",
      dependencies: [
        "BanjieCore",
        // TLS to PostgreSQL on the system OpenSSL (PostgresConnect.swift).
        "BanjieTLS",
        "BanjieCrypto",
        .product(name: "GRDB", package: "GRDB.swift"),
        // SQLite's C API, for the SQL layer's cached statements (SQLiteSQLConnection.swift).
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      // The PostgreSQL migrations' authored text; the store runs the copy embedded in
      // PostgresMigrationText.swift (scripts/generate-postgres-migrations.sh).
      exclude: ["Postgres"],
      swiftSettings: swiftSettings
    ),
    // RPC service implementations and the assembled server.
    .target(
      name: "BanjieServer",
      dependencies: [
        "BanjieCore",
        "BanjieConfig",
        "BanjieCrypto",
        "BanjieStore",
        "BanjieProto",
        "BanjieTransport",
        "BanjieTLS",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "banjied",
      dependencies: [
        "BanjieServer",
        "BanjieConfig",
        // For `banjied seed`, which writes a database file directly.
        "BanjieStore",
        "BanjieCore",
        // For `EscapingLogHandler`, which every log line of banjied goes through.
        "BanjieTransport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "banjie",
      dependencies: [
        "BanjieProto",
        "BanjieTransport",
        "BanjieTLS",
        "BanjieCore",
        "BanjieConfig",
        "BanjieCrypto",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieWireTests",
      dependencies: [
        "BanjieWire",
        "BanjieWireFuzzSupport",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOTestUtils", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieTLSTests",
      dependencies: [
        "BanjieTLS",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieTransportTests",
      dependencies: [
        "BanjieTransport",
        "BanjieEcho",
        "BanjieProto",
        "BanjieWire",
        "BanjieTLS",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieServerTests",
      dependencies: [
        "BanjieServer",
        "BanjieStore",
        "BanjieCore",
        "BanjieConfig",
        "BanjieCrypto",
        "BanjieProto",
        "BanjieTransport",
        "BanjieTLS",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      swiftSettings: swiftSettings
    ),
    // The CLI's own logic: its string catalogue, language choice and input normalisation.
    .testTarget(
      name: "BanjieCLITests",
      dependencies: ["banjie", "BanjieCore"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieCoreTests",
      dependencies: ["BanjieCore"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieCryptoTests",
      dependencies: ["BanjieCrypto"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "BanjieConfigTests",
      dependencies: ["BanjieConfig"],
      swiftSettings: swiftSettings
    ),
  ]
)
