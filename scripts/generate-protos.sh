#!/usr/bin/env bash
# Regenerates Sources/BanjieProto from schemas/ with protoc (Debian's protobuf-compiler) and
# the protoc-gen-swift / protoc-gen-grpc-swift-2 plugins built by build-protoc-plugins.sh.
#   scripts/generate-protos.sh          regenerate in place
#   scripts/generate-protos.sh --check  exit 1 if the committed code differs from the schemas
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler" >&2; exit 2; }
bin=$(bash scripts/build-protoc-plugins.sh | tail -n 1)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protos=$(cd schemas && find . -name '*.proto' | sed 's|^\./||' | sort)
(cd schemas && protoc \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  -I . -I /usr/include \
  --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public,FileNaming=PathToUnderscores,Client=true,Server=true \
  $protos)

target=Sources/BanjieProto/Generated
if [ "${1:-}" = "--check" ]; then
  if diff -r "$out" "$target" >/dev/null; then
    echo "generated code is current"
  else
    diff -r "$out" "$target" | head -40
    echo "generated code is stale: run scripts/generate-protos.sh" >&2
    exit 1
  fi
else
  rm -rf "$target"
  mkdir -p "$target"
  cp "$out"/*.swift "$target"/
  echo "regenerated $(ls "$target" | wc -l) files in $target"
fi
