// swift-tools-version:6.1
// libFuzzer targets for banjie's wire decoder. A separate package so that the root package's
// `swift build` never builds them: each target defines LLVMFuzzerTestOneInput and no `main`,
// so it only links with `-sanitize=fuzzer` (libFuzzer supplies `main`). Build and run them with
//
//   scripts/fuzz.sh frame [SECONDS]      # FrameDecoder over a stream of frames
//   scripts/fuzz.sh headers [SECONDS]    # HEADERS / TRAILERS payloads
//
// The invariants live in the root package's BanjieWireFuzzSupport library
// (Sources/BanjieWireFuzzSupport/FuzzChecks.swift) so that the normal test suite replays the
// corpus in Fuzz/corpus through the same checks.
import PackageDescription

let package = Package(
  name: "banjie-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "banjie", path: "..")
  ],
  targets: [
    .executableTarget(
      name: "fuzz-frame",
      dependencies: [.product(name: "BanjieWireFuzzSupport", package: "banjie")],
      swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
    ),
    .executableTarget(
      name: "fuzz-headers",
      dependencies: [.product(name: "BanjieWireFuzzSupport", package: "banjie")],
      swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
    ),
  ]
)
