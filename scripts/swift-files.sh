#!/usr/bin/env bash
# The Swift files the formatter owns: everything but generated code (scripts/generate-protos.sh)
# (and scripts/generate-postgres-migrations.py) and frozen migrations (which carry `swift-format-ignore-file`).
cd "$(dirname "$0")/.."
find Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Sources Fuzz/Package.swift Fuzz/Sources -name '*.swift' \
  -not -path 'Sources/BanjieProto/Generated/*' -not -path 'Sources/BanjieStore/Migrations/*' \
  -not -path 'Sources/BanjieStore/PostgreSQL/PostgresMigrationText.swift' | sort
