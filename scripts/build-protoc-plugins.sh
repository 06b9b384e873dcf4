#!/usr/bin/env bash
# Builds protoc-gen-swift (swift-protobuf) and protoc-gen-grpc-swift-2 (grpc-swift-protobuf)
# from their tagged sources into .build-plugins/bin. Takes a few minutes on first run;
# later runs reuse the build. The versions match Package.swift.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/.build-plugins"
SWIFT_PROTOBUF_VERSION=1.39.0
GRPC_SWIFT_PROTOBUF_VERSION=2.4.1
mkdir -p "$out/bin"

fetch() { # url tag dir
  if [ ! -d "$3/.git" ]; then
    git clone -q --depth 1 --branch "$2" "$1" "$3" 2>/dev/null || git clone -q "$1" "$3"
    git -C "$3" checkout -q "$2"
  fi
}
fetch https://github.com/apple/swift-protobuf.git "$SWIFT_PROTOBUF_VERSION" "$out/swift-protobuf"
fetch https://github.com/grpc/grpc-swift-protobuf.git "$GRPC_SWIFT_PROTOBUF_VERSION" "$out/grpc-swift-protobuf"

if [ ! -x "$out/bin/protoc-gen-swift" ]; then
  (cd "$out/swift-protobuf" && swift build -c release --product protoc-gen-swift)
  cp "$(cd "$out/swift-protobuf" && swift build -c release --show-bin-path)/protoc-gen-swift" "$out/bin/"
fi
if [ ! -x "$out/bin/protoc-gen-grpc-swift-2" ]; then
  (cd "$out/grpc-swift-protobuf" && swift build -c release --product protoc-gen-grpc-swift-2)
  cp "$(cd "$out/grpc-swift-protobuf" && swift build -c release --show-bin-path)/protoc-gen-grpc-swift-2" "$out/bin/"
fi
echo "$out/bin"
